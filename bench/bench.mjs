#!/usr/bin/env node
// Benchmark: the same micro-benchmarks natively, under tsvisor
// (./bin/runsc do) and under gVisor (/usr/bin/runsc, if installed), then the
// resident memory of an idle sandbox.
//
//   node bench/bench.mjs [--seconds S] [--rounds N] [--only TEST,...] [--no-gvisor]
//
// With --rounds N every test runs N times, the environments interleaved in
// each round (the host is shared and noisy): the table shows medians, the
// ratios are medians of the per-round ratios, and the notes give each
// environment's min-max spread.
//
// Loops run inside the guest (bench/bench.c) and time themselves with
// clock_gettime, so sandbox start-up is only counted by the "hello" row.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, RUNSC, BUILD, run, descendants, killTree } from '../test/diff/harness.mjs';

const args = process.argv.slice(2);
let seconds = 1.0, only = null, useGvisor = true, rounds = 1;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') seconds = Number(args[++i]);
  else if (args[i] === '--only') only = args[++i].split(',');
  else if (args[i] === '--no-gvisor') useGvisor = false;
  else if (args[i] === '--rounds') rounds = Math.max(1, Number(args[++i]) | 0);
  else {
    console.error('usage: node bench/bench.mjs [--seconds S] [--rounds N] [--only TEST,...] [--no-gvisor]');
    process.exit(2);
  }
}

const GVISOR = '/usr/bin/runsc';
const BIN = path.join(BUILD, 'bench');
const BIGFILE = `/tmp/tsvisor-bench-64m-${process.pid}.dat`;
const RUN_TIMEOUT = 90000;

// name, iteration cap, file argument. Caps keep slow sandboxes from running
// for ever while giving ~1-2 s of work natively-equivalent.
const TESTS = [
  { name: 'getppid', label: 'syscall round trip (getppid)', cap: 5e6 },
  { name: 'pread', label: 'pread 4 KiB (host file)', cap: 2e6, file: BIGFILE },
  { name: 'openclose', label: 'open+close', cap: 1e6, file: '/etc/passwd' },
  { name: 'stat', label: 'stat', cap: 1e6, file: '/etc/passwd' },
  { name: 'pipe', label: 'pipe ping-pong (2 procs, 1 B)', cap: 5e5 },
  { name: 'futex', label: 'futex ping-pong (2 threads)', cap: 5e5 },
  { name: 'forkexec', label: 'fork+exec+wait /bin/true', cap: 5000 },
  { name: 'seqread', label: 'sequential read 64 MiB', cap: 200, file: BIGFILE },
].filter((t) => !only || only.includes(t.name));

function build() {
  fs.mkdirSync(BUILD, { recursive: true });
  const src = path.join(REPO, 'bench', 'bench.c');
  const r = spawnSync('gcc', ['-O2', '-pthread', '-o', BIN, src], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`building ${src} failed:\n${r.stderr}${r.error ?? ''}`);
    process.exit(1);
  }
}

function makeBigFile() {
  const fd = fs.openSync(BIGFILE, 'w');
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < 64; i++) {
    for (let k = 0; k < chunk.length; k += 4096) chunk.writeUInt32LE(i * 256 + k / 4096, k);
    fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
  // Read it once so every environment starts from a warm page cache.
  fs.readFileSync(BIGFILE);
}

const ENVS = [
  { key: 'native', title: 'native', prefix: [] },
  // Both sandboxes without a network: gVisor's do needs none, and a TAP link
  // with NAT (tsvisor's default for do) would add its set-up to every start.
  { key: 'tsvisor', title: 'tsvisor', prefix: [RUNSC, '--network=none', 'do'] },
  { key: 'gvisor', title: 'gVisor', prefix: [GVISOR, '--platform=ptrace', '--network=none', 'do'] },
];

async function usable(env) {
  if (env.key === 'native') return null;
  if (env.key === 'gvisor' && !useGvisor) return 'disabled (--no-gvisor)';
  if (!fs.existsSync(env.prefix[0])) return `${env.prefix[0]} not installed`;
  const r = await run([...env.prefix, '/bin/echo', 'hi'], { timeout: 60000 });
  if (r.code === 0 && r.stdout.toString() === 'hi\n') return null;
  const why = r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`;
  return `\`${env.prefix.join(' ')} /bin/echo hi\` failed (${why}): ${r.stderr.toString().trim().split('\n').slice(-1)[0] ?? ''}`;
}

async function measure(env, t) {
  const argv = [...env.prefix, BIN, t.name, String(seconds), String(t.cap), ...(t.file ? [t.file] : [])];
  const r = await run(argv, { timeout: RUN_TIMEOUT });
  const m = /^(\S+) ([\d.]+) (\d+)$/m.exec(r.stdout.toString());
  if (r.code === 0 && m) return { ns: Number(m[2]), iters: Number(m[3]) };
  const why = r.timedOut ? 'timeout' : `exit ${r.code ?? r.signal}`;
  return { error: `${why}: ${r.stderr.toString().trim().split('\n').slice(-1)[0] ?? ''}` };
}

/** makeBundle writes an OCI bundle whose process is busybox `echo hello`. */
function makeBundle() {
  const dir = fs.mkdtempSync('/tmp/tsvisor-bench-bundle-');
  fs.mkdirSync(path.join(dir, 'rootfs', 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(dir, 'rootfs', 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'rootfs', 'bin', 'busybox'), 0o755);
  const r = spawnSync(RUNSC, ['spec', '--bundle', dir]);
  if (r.status !== 0) throw new Error(`runsc spec: ${r.stderr}`);
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['/bin/busybox', 'echo', 'hello'];
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

let runSeq = 0;
/** ociRun times `runsc run` of the bundle, start to exit (native: the program itself). */
async function ociRun(env, bundle) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const argv = env.key === 'native'
      ? [path.join(bundle, 'rootfs', 'bin', 'busybox'), 'echo', 'hello']
      : [...env.prefix.slice(0, -1), '--root', path.join(bundle, `state-${env.key}`), 'run', '--bundle', bundle, `bench${process.pid}-${runSeq++}`];
    const r = await run(argv, { timeout: 60000, cwd: bundle });
    if (r.code !== 0 || r.stdout.toString() !== 'hello\n') {
      return { error: `exit ${r.code ?? r.signal}: ${r.stderr.toString().trim().split('\n').slice(-1)[0] ?? ''}` };
    }
    times.push(r.ms);
  }
  times.sort((a, b) => a - b);
  return { ns: times[2] * 1e6, iters: 5 };
}

async function hello(env) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const r = await run([...env.prefix, '/bin/echo', 'hello'], { timeout: 60000 });
    if (r.code !== 0 || r.stdout.toString() !== 'hello\n') return { error: `exit ${r.code ?? r.signal}` };
    times.push(r.ms);
  }
  times.sort((a, b) => a - b);
  return { ns: times[2] * 1e6, iters: 5 };
}

function rssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Sum of VmRSS over a sandbox's whole process tree while it sleeps. */
async function idleMemory(env) {
  const child = spawn(env.prefix.length ? env.prefix[0] : '/bin/sleep',
    env.prefix.length ? [...env.prefix.slice(1), '/bin/sleep', '5'] : ['5'],
    { stdio: 'ignore', detached: true });
  const exited = new Promise((res) => child.on('exit', res));
  await new Promise((res) => setTimeout(res, 1500));
  if (child.exitCode !== null) return { error: `exited early (${child.exitCode})` };
  const pids = [child.pid, ...descendants(child.pid)];
  const kib = pids.reduce((s, p) => s + rssKiB(p), 0);
  killTree(child.pid);
  await exited;
  return { kib, procs: pids.length };
}

const fmtTime = (ns) => {
  if (ns === undefined) return '-';
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(2)} us`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
};
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
// With rounds, the ratio is the median of the per-round ratios (each pair ran back to back).
const ratio = (a, b) => {
  if (!a?.ns || !b?.ns) return '-';
  const per = a.runs && b.runs && a.runs.length === b.runs.length ? a.runs.map((x, i) => x / b.runs[i]) : [a.ns / b.ns];
  return `${median(per).toFixed(per.length > 1 ? 2 : 1)}x`;
};
const cell = (r) => (r ? (r.error ? 'n/a' : fmtTime(r.ns)) : '-');

function table(rows) {
  const head = ['test', 'native', 'tsvisor', 'gVisor', 'tsvisor/native', 'tsvisor/gVisor'];
  const body = rows.map((r) => [r.label, cell(r.native), cell(r.tsvisor), cell(r.gvisor),
    ratio(r.tsvisor, r.native), ratio(r.tsvisor, r.gvisor)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols) => cols.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(line(head));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const b of body) console.log(line(b));
}

build();
makeBigFile();
try {
  const envs = [];
  for (const env of ENVS) {
    const why = await usable(env);
    if (why) console.log(`${env.title}: skipped, ${why}`);
    else envs.push(env);
  }
  const rows = [];
  const notes = [];
  for (const t of TESTS) {
    const row = { label: t.label };
    const runs = {};
    for (let r = 0; r < rounds; r++) {
      for (const env of envs) {
        if (runs[env.key] === null) continue;
        process.stderr.write(`  ${t.name} / ${env.key}${rounds > 1 ? ` (round ${r + 1}/${rounds})` : ''} ...\n`);
        const m = await measure(env, t);
        if (m.error) {
          notes.push(`${t.name} under ${env.title}: ${m.error}`);
          runs[env.key] = null;
          row[env.key] = m;
          continue;
        }
        (runs[env.key] ??= []).push(m.ns);
      }
    }
    for (const env of envs) {
      const v = runs[env.key];
      if (!v) continue;
      row[env.key] = { ns: median(v), runs: v };
      if (rounds > 1) notes.push(`${t.name} ${env.title}: median ${fmtTime(median(v))}, min ${fmtTime(Math.min(...v))}, max ${fmtTime(Math.max(...v))}`);
    }
    if (t.name === 'seqread') {
      const mibs = envs.map((e) => `${e.title} ${row[e.key]?.ns ? (64 * 1e9 / row[e.key].ns).toFixed(0) : 'n/a'}`);
      notes.push(`sequential read throughput, MiB/s: ${mibs.join(', ')}`);
    }
    rows.push(row);
  }
  if (!only || only.includes('hello')) {
    const row = { label: 'whole `do /bin/echo hello` (median of 5)' };
    for (const env of envs) {
      process.stderr.write(`  hello / ${env.key} ...\n`);
      row[env.key] = await hello(env);
      if (row[env.key].error) notes.push(`hello under ${env.title}: ${row[env.key].error}`);
    }
    rows.push(row);
  }
  if (!only || only.includes('ocirun')) {
    const row = { label: '`runsc run` of a hello bundle (median of 5)' };
    const bundle = makeBundle();
    try {
      for (const env of envs) {
        process.stderr.write(`  ocirun / ${env.key} ...\n`);
        row[env.key] = await ociRun(env, bundle);
        if (row[env.key].error) notes.push(`runsc run under ${env.title}: ${row[env.key].error}`);
      }
    } finally {
      fs.rmSync(bundle, { recursive: true, force: true });
    }
    rows.push(row);
  }
  console.log('');
  table(rows);
  for (const e of notes) console.log(`  ${e}`);

  if (!only || only.includes('memory')) {
    console.log('\nResident memory while `do /bin/sleep 5` idles (sum of VmRSS over the process tree):');
    for (const env of envs) {
      const m = await idleMemory(env);
      console.log(`  ${env.title.padEnd(8)} ${m.error ? `n/a (${m.error})` : `${(m.kib / 1024).toFixed(1)} MiB in ${m.procs} process${m.procs > 1 ? 'es' : ''}`}`);
    }
  }
  if (!only || only.includes('net')) {
    // TCP throughput and connect rate over loopback: bench/net.mjs.
    console.log('');
    spawnSync(process.execPath, [path.join(REPO, 'bench', 'net.mjs'), ...(useGvisor ? [] : ['--no-gvisor'])], { stdio: 'inherit' });
  }
} finally {
  fs.rmSync(BIGFILE, { force: true });
}
