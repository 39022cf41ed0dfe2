// Differential harness: run one case natively and under ./bin/runsc do,
// then compare what the two runs did.
//
// A case (see cases.mjs) is a plain object:
//   name        unique, "family/what"
//   argv        string[] or (ctx, side) => string[]; side is 'native'|'sandbox'
//   input       stdin contents (string | Buffer); default: empty stdin
//   env         extra environment entries (both sides)
//   cwd         working directory (both sides); 'tmp' means ctx.tmp
//   timeout     ms per side (default 60 s)
//   requires    host paths that must exist, else the case is skipped
//   runscFlags  global runsc flags (before `do`); array or (ctx) => array
//   doFlags     flags of `do` (after `do`, before the command); same
//   status      exit status the native run must have (sanity check)
//   sandboxStatus  expected sandbox status when it differs from native
//   stdout      exact stdout both sides must print
//   stdoutMatch RegExp both sides' stdout must match
//   sandboxStdout (nativeStdout) => expected sandbox stdout
//   normalize   (text, side) => text, applied to stdout (and stderr) first
//   stderr      true: compare stderr exactly; or (nativeErr) => expected
//   cprog       true: a C test program, both sides must end "N passed, 0 failed"
//   setup       (ctx, side) => void, runs on the host before each side
//   hostMustNotExist (ctx) => paths the sandbox must not create on the host
//   check       (ctx, side, result) => error string | null, after each side
//
// Every case gets an empty host directory ctx.tmp (also in $TSV_TMP). The
// native run may write there; it is emptied before the sandbox run, and
// unless the case has its own setup it must still be empty afterwards:
// whatever the sandbox writes must stay inside the sandbox.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RUNSC = path.join(REPO, 'bin', 'runsc');
/** The sandbox command; TSV_RUNSC overrides it, e.g. to check the suite
 * itself against gVisor: TSV_RUNSC='/usr/bin/runsc --platform=ptrace --network=none'. */
export const RUNSC_CMD = process.env.TSV_RUNSC ? process.env.TSV_RUNSC.trim().split(/\s+/) : [RUNSC];
export const BUILD = path.join(REPO, 'test', 'build');

const MAX_OUTPUT = 64 << 20;
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;

/** Map of pid -> ppid for every process on the host. */
export function processTable() {
  const table = new Map();
  for (const ent of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${ent}/stat`, 'utf8');
      // The command name may contain spaces and parentheses: skip past ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(ent), Number(rest[1]));
    } catch {
      // The process exited while we looked.
    }
  }
  return table;
}

/** All live descendants of pid (not including pid). */
export function descendants(pid, table = processTable()) {
  const out = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift();
    for (const [child, parent] of table) {
      if (parent === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

export function killTree(pid) {
  const victims = [pid, ...descendants(pid)];
  for (const p of victims) {
    try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  }
  try { process.kill(-pid, 'SIGKILL'); } catch { /* no group */ }
}

let fifoSeq = 0;

/**
 * Real pipes for a child's stdin/stdout/stderr. Node's own 'pipe' stdio
 * is a socketpair, which programs can tell apart (opening /dev/stdout
 * fails with ENXIO, fstat says S_IFSOCK); a shell pipeline gives pipes. So
 * make three FIFOs, hand the child their blocking ends and keep
 * non-blocking ends for ourselves, then unlink them. Returns null when
 * mkfifo is unavailable.
 */
function fifoStdio() {
  const base = `/tmp/tsvisor-fifo-${RUN_ID}-${fifoSeq++}`;
  const names = ['in', 'out', 'err'].map((n) => `${base}.${n}`);
  const C = fs.constants;
  if (spawnSync('mkfifo', ['-m', '600', ...names]).status !== 0) {
    for (const n of names) fs.rmSync(n, { force: true });
    return null;
  }
  try {
    // stdin: a non-blocking reader lets the writer open without waiting;
    // the child's (blocking) read end is opened once a writer exists.
    const r0 = fs.openSync(names[0], C.O_RDONLY | C.O_NONBLOCK);
    const inW = fs.openSync(names[0], C.O_WRONLY | C.O_NONBLOCK);
    const inR = fs.openSync(names[0], C.O_RDONLY);
    fs.closeSync(r0);
    const outR = fs.openSync(names[1], C.O_RDONLY | C.O_NONBLOCK);
    const outW = fs.openSync(names[1], C.O_WRONLY);
    const errR = fs.openSync(names[2], C.O_RDONLY | C.O_NONBLOCK);
    const errW = fs.openSync(names[2], C.O_WRONLY);
    return { child: [inR, outW, errW], ours: { inW, outR, errR } };
  } finally {
    for (const n of names) fs.rmSync(n, { force: true });
  }
}

/**
 * Run argv and collect everything. Never rejects: spawn errors, timeouts
 * and signals are all reported in the result.
 * @returns {Promise<{stdout: Buffer, stderr: Buffer, code: number|null,
 *   signal: string|null, error: NodeJS.ErrnoException|null,
 *   timedOut: boolean, ms: number}>}
 */
export function run(argv, { env = process.env, cwd = REPO, input = '', timeout = 60000 } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const out = [], err = [];
    let outLen = 0, errLen = 0;
    let timedOut = false, done = false, exited = null, closeTimer = null, timer = null;
    let open = 2; // stdout and stderr still open
    let child, stdin, stdout, stderr;
    const fifos = fifoStdio();
    const finish = (extra) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(closeTimer);
      for (const s of [stdin, stdout, stderr]) s?.destroy();
      resolve({
        stdout: Buffer.concat(out), stderr: Buffer.concat(err),
        code: null, signal: null, error: null, timedOut, ms: performance.now() - t0,
        ...exited, ...extra,
      });
    };
    try {
      // Own process group, so a timeout can take down the whole tree.
      child = spawn(argv[0], argv.slice(1), {
        env, cwd, detached: true, stdio: fifos ? fifos.child : ['pipe', 'pipe', 'pipe'],
      });
    } catch (e) {
      child = null;
      exited = { error: e };
    } finally {
      if (fifos) for (const fd of fifos.child) fs.closeSync(fd);
    }
    if (fifos) {
      stdin = new net.Socket({ fd: fifos.ours.inW, readable: false, writable: true });
      stdout = new net.Socket({ fd: fifos.ours.outR, readable: true, writable: false });
      stderr = new net.Socket({ fd: fifos.ours.errR, readable: true, writable: false });
    } else if (child) {
      ({ stdin, stdout, stderr } = child);
    }
    if (!child) {
      finish({});
      return;
    }
    const ended = () => {
      if (--open === 0 && exited) finish({});
    };
    stdout.on('data', (d) => { if (outLen < MAX_OUTPUT) { out.push(d); outLen += d.length; } });
    stderr.on('data', (d) => { if (errLen < MAX_OUTPUT) { err.push(d); errLen += d.length; } });
    stdout.on('end', ended);
    stderr.on('end', ended);
    for (const s of [stdin, stdout, stderr]) s.on('error', () => { /* EPIPE: input not all read */ });
    timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) killTree(child.pid);
    }, timeout);
    child.on('error', (e) => finish({ error: e }));
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      if (open === 0) {
        finish({});
        return;
      }
      // Leftover processes of the run (background jobs, a wedged sandbox)
      // would keep the pipes open; give them a moment, then kill them.
      closeTimer = setTimeout(() => {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none */ }
        setTimeout(() => finish({}), 500);
      }, 2000);
    });
    stdin.end(input);
  });
}

/** The shell's view of how a run ended: 128+N for signal N, 127/126 when
 * the command could not be found/executed. null when it hung. */
export function exitStatus(r) {
  if (r.timedOut) return null;
  if (r.error) {
    if (r.error.code === 'ENOENT') return 127;
    if (r.error.code === 'EACCES') return 126;
    return null;
  }
  if (r.code !== null) return r.code;
  if (r.signal) return 128 + os.constants.signals[r.signal];
  return null;
}

function describeEnd(r) {
  if (r.timedOut) return `timed out after ${Math.round(r.ms)} ms`;
  if (r.error) return `spawn error ${r.error.code ?? r.error.message}`;
  if (r.signal) return `killed by ${r.signal} (status ${exitStatus(r)})`;
  return `exit ${r.code}`;
}

function lines(s) {
  const l = s.split('\n');
  if (l.length && l[l.length - 1] === '') l.pop();
  return l;
}

/** Edit script between two line arrays (LCS); null when too big. */
function lcsOps(a, b) {
  if (a.length * b.length > 4e6) return null;
  const n = a.length, m = b.length;
  const dp = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    }
  }
  const ops = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { ops.push([' ', a[i], i, j]); i++; j++; }
    else if (i < n && (j === m || dp[i + 1][j] >= dp[i][j + 1])) { ops.push(['-', a[i], i, j]); i++; }
    else { ops.push(['+', b[j], i, j]); j++; }
  }
  return ops;
}

/** A short unified diff (one line of context, at most maxLines changes). */
export function diffText(want, got, labelWant = 'expected', labelGot = 'got', maxLines = 16) {
  const a = lines(want), b = lines(got);
  const show = (s) => JSON.stringify(s).slice(1, -1).slice(0, 200);
  const out = [`--- ${labelWant}`, `+++ ${labelGot}`];
  if (a.length === b.length && a.every((l, i) => l === b[i])) {
    out.push('(differs only in the final newline)');
    return out;
  }
  if (a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n')) {
    out.push('(same lines in a different order)');
  }
  if (b.length === 0 || a.length === 0) {
    // One side printed nothing: a few lines of the other say enough.
    const [sign, other] = b.length === 0 ? ['-', a] : ['+', b];
    out.push(`(${b.length === 0 ? labelGot : labelWant} printed nothing)`);
    for (const l of other.slice(0, 4)) out.push(`${sign} ${show(l)}`);
    if (other.length > 4) out.push(`... ${other.length - 4} more lines`);
    return out;
  }
  let ops = lcsOps(a, b);
  if (!ops) {
    // Too large for LCS: show the region between the common prefix and suffix.
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    ops = [...a.slice(i).map((l, k) => ['-', l, i + k, i]), ...b.slice(i).map((l, k) => ['+', l, i, i + k])];
  }
  let shown = 0, last = -2;
  for (let k = 0; k < ops.length && shown < maxLines; k++) {
    const [op, text, ai, bi] = ops[k];
    if (op === ' ') continue;
    if (k - 1 > last) {
      out.push(`@@ -${ai + 1} +${bi + 1} @@`);
      if (k > 0 && ops[k - 1][0] === ' ') out.push(`  ${show(ops[k - 1][1])}`);
    }
    out.push(`${op} ${show(text)}`);
    shown++;
    last = k;
    if (k + 1 < ops.length && ops[k + 1][0] === ' ' && (k + 2 >= ops.length || ops[k + 2][0] === ' ')) {
      out.push(`  ${show(ops[k + 1][1])}`);
    }
  }
  const changes = ops.filter((o) => o[0] !== ' ').length;
  if (changes > shown) out.push(`... ${changes - shown} more changed lines (${a.length} vs ${b.length} lines)`);
  return out;
}

function tail(buf, n = 15) {
  const l = lines(buf.toString('utf8'));
  return l.slice(-n).map((s) => `  | ${s.slice(0, 300)}`);
}

export function makeContext(c, index) {
  const base = `/tmp/tsvisor-test-${RUN_ID}-${index}`;
  return {
    name: c.name,
    tmp: base,
    /** A unique host path next to (not inside) ctx.tmp. */
    path: (suffix) => `${base}-${suffix}`,
  };
}

function resetTmp(ctx) {
  fs.rmSync(ctx.tmp, { recursive: true, force: true });
  fs.mkdirSync(ctx.tmp, { recursive: true });
}

function sideArgv(c, ctx, side) {
  const argv = typeof c.argv === 'function' ? c.argv(ctx, side) : c.argv;
  if (side === 'native') return argv;
  const flags = (f) => (typeof f === 'function' ? f(ctx) : f ?? []);
  return [...RUNSC_CMD, ...flags(c.runscFlags), 'do', ...flags(c.doFlags), ...argv];
}

function sideEnv(c, ctx) {
  return { ...process.env, TSV_TMP: ctx.tmp, ...(c.env ?? {}) };
}

const CPROG_SUMMARY = /^(\d+) passed, (\d+) failed$/;

function cprogProblems(r, side) {
  const text = r.stdout.toString('utf8');
  const last = lines(text).pop() ?? '';
  const m = CPROG_SUMMARY.exec(last);
  const problems = [];
  if (!m) problems.push(`${side}: no "N passed, N failed" summary line (${describeEnd(r)})`);
  else if (m[2] !== '0') problems.push(`${side}: ${m[2]} checks failed`);
  if (exitStatus(r) !== 0) problems.push(`${side}: ${describeEnd(r)}`);
  if (problems.length) {
    for (const l of lines(text)) if (l.startsWith('FAIL')) problems.push(`  ${side} ${l}`);
    if (!m) problems.push(...tail(r.stdout), ...tail(r.stderr));
  }
  return problems;
}

/**
 * Run one case on both sides.
 * @returns {Promise<{name: string, status: 'pass'|'fail'|'skip', details: string[], ms: number}>}
 */
export async function runCase(c, index, opts = {}) {
  const t0 = Date.now();
  const result = (status, details = []) => ({ name: c.name, status, details, ms: Date.now() - t0 });
  for (const p of c.requires ?? []) {
    if (!fs.existsSync(p)) return result('skip', [`requires ${p}`]);
  }
  if (c.skip) return result('skip', [c.skip]);
  if (c.buildError) return result('fail', ['build failed:', ...lines(c.buildError).slice(0, 20).map((l) => `  | ${l}`)]);
  const ctx = makeContext(c, index);
  const details = [];
  const timeout = (c.timeout ?? 60000) * (opts.timeoutScale ?? 1);
  const cwd = c.cwd === 'tmp' ? ctx.tmp : c.cwd ?? REPO;
  const env = sideEnv(c, ctx);
  const mustNotExist = c.hostMustNotExist ? c.hostMustNotExist(ctx) : [];
  const cleanup = () => {
    fs.rmSync(ctx.tmp, { recursive: true, force: true });
    for (const p of mustNotExist) fs.rmSync(p, { recursive: true, force: true });
  };
  try {
    // Native side.
    cleanup();
    resetTmp(ctx);
    c.setup?.(ctx, 'native');
    const nat = await run(sideArgv(c, ctx, 'native'), { env, cwd, input: c.input ?? '', timeout });
    const natCheck = c.check?.(ctx, 'native', nat);
    // Sandbox side, from a clean host state.
    cleanup();
    resetTmp(ctx);
    c.setup?.(ctx, 'sandbox');
    let sb;
    if (opts.nativeOnly) {
      sb = null;
    } else if (!fs.existsSync(RUNSC_CMD[0])) {
      sb = null;
      details.push(`sandbox: ${RUNSC_CMD[0]} does not exist`);
    } else {
      sb = await run(sideArgv(c, ctx, 'sandbox'), { env, cwd, input: c.input ?? '', timeout });
    }
    const sbCheck = sb ? c.check?.(ctx, 'sandbox', sb) : null;

    // Host-side effects of the sandbox run.
    if (sb) {
      if (!c.setup) {
        let left;
        try { left = fs.readdirSync(ctx.tmp); } catch { left = ['(directory removed)']; }
        if (left.length) details.push(`sandbox wrote to the host: ${ctx.tmp} now has ${left.slice(0, 5).join(', ')}`);
      }
      for (const p of mustNotExist) {
        if (fs.existsSync(p)) details.push(`sandbox wrote to the host: ${p} exists`);
      }
    }
    if (natCheck) details.push(`native: ${natCheck}`);
    if (sbCheck) details.push(`sandbox: ${sbCheck}`);

    const norm = (buf, side) => {
      const s = buf.toString('utf8');
      return c.normalize ? c.normalize(s, side) : s;
    };
    const natOut = norm(nat.stdout, 'native');
    const natStatus = exitStatus(nat);

    // The native run validates the case itself on this host.
    if (nat.timedOut || (nat.error && natStatus === null)) details.push(`native: ${describeEnd(nat)}`);
    if (c.status !== undefined && natStatus !== c.status) {
      details.push(`native: status ${natStatus}, the case expects ${c.status} (${describeEnd(nat)})`, ...tail(nat.stderr));
    }
    if (c.stdout !== undefined && natOut !== c.stdout) details.push('native stdout is not the expected text:', ...diffText(c.stdout, natOut, 'expected', 'native'));
    if (c.stdoutMatch && !c.stdoutMatch.test(natOut)) details.push(`native stdout does not match ${c.stdoutMatch}: ${JSON.stringify(natOut.slice(0, 200))}`);
    if (c.cprog) details.push(...cprogProblems(nat, 'native'));

    if (sb) {
      const sbOut = norm(sb.stdout, 'sandbox');
      const sbStatus = exitStatus(sb);
      const sbProblems = c.cprog ? cprogProblems(sb, 'sandbox') : [];
      details.push(...sbProblems);
      const wantStatus = c.sandboxStatus ?? natStatus;
      if (sbStatus !== wantStatus && !c.cprog) {
        details.push(`exit status: native ${natStatus}, sandbox ${sbStatus === null ? describeEnd(sb) : sbStatus}${c.sandboxStatus !== undefined ? ` (want ${wantStatus})` : ''}`);
        if (sb.stderr.length) details.push('sandbox stderr:', ...tail(sb.stderr));
      }
      const wantOut = c.sandboxStdout ? c.sandboxStdout(natOut) : natOut;
      // A C program's own failure report says more than a diff would.
      const explained = sbProblems.length > 0;
      if (sbOut !== wantOut && !explained) {
        details.push('stdout differs:', ...diffText(wantOut, sbOut, c.sandboxStdout ? 'expected (from native)' : 'native', 'sandbox'));
        if (sbStatus !== 0 && sbStatus === wantStatus && sb.stderr.length) details.push('sandbox stderr:', ...tail(sb.stderr));
      }
      if (c.stdoutMatch && !c.stdoutMatch.test(sbOut)) details.push(`sandbox stdout does not match ${c.stdoutMatch}`);
      if (c.stderr) {
        const natErr = norm(nat.stderr, 'native'), sbErr = norm(sb.stderr, 'sandbox');
        const wantErr = typeof c.stderr === 'function' ? c.stderr(natErr) : natErr;
        if (sbErr !== wantErr) details.push('stderr differs:', ...diffText(wantErr, sbErr, 'native', 'sandbox'));
      }
    }
    const status = details.length ? 'fail' : 'pass';
    if (opts.verbose) details.push(`(native ${Math.round(nat.ms)} ms${sb ? `, sandbox ${Math.round(sb.ms)} ms` : ''})`);
    return result(status, details);
  } catch (e) {
    details.push(`harness error: ${e?.stack ?? e}`);
    return result('fail', details);
  } finally {
    if (!opts.keep) cleanup();
  }
}
