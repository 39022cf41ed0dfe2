// The escape-attempt suite (issue 7): test/escape/escape.c tries the usual
// ways out of a container from inside `runsc do --root <scratch busybox root>`,
// and this runner checks, on the host, that none of them got anywhere:
// a host process that must receive no signal and no tracer, host sockets
// (abstract, pathname, TCP) that must see no connection, a host marker file
// outside the root, the host's hostname, clock and core_pattern, and the
// scratch root itself (writes stay in the sandbox's memory).
//
//   npx tsc -p . && node tools/bundle.mjs && node --test test/escape/
//   (or: node test/run-all.mjs escape)
//
// TSV_ESCAPE_RUNSC='/usr/bin/runsc --platform=ptrace --network=none' runs the
// same attempts under gVisor, to compare errnos (gVisor's `do` mounts the
// current directory, so the "invisible host path" checks differ there).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRootfs, buildStatic, runGuest, treeDigest, victimProcess } from './lib.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNSC = process.env.TSV_ESCAPE_RUNSC ? process.env.TSV_ESCAPE_RUNSC.trim().split(/\s+/) : [path.join(REPO, 'bin', 'runsc')];
const gcc = spawnSync('gcc', ['--version']);
const skip = gcc.error ? 'gcc is not installed' : !fs.existsSync('/bin/busybox') ? 'needs a static /bin/busybox' :
  process.getuid() !== 0 ? 'runsc do needs root' : false;

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-escape-')));
const rootfs = path.join(tmp, 'rootfs');
const marker = path.join(tmp, 'host-marker');
const hostSock = path.join(tmp, 'host.sock');
const vol = path.join(tmp, 'vol');
const abstract = `tsv-escape-${process.pid}-${Date.now().toString(36)}`;
const cleanups = [];
after(() => {
  for (const c of cleanups.reverse()) { try { c(); } catch { /* best effort */ } }
  fs.rmSync(tmp, { recursive: true, force: true });
});

const hits = { abstract: 0, path: 0, tcp: 0 };
let victim, result, rootBefore, hostBefore, clockSkewMs, summary;

function listen(server, addr) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr, () => resolve(server));
  });
}

/** hostPids lists a few host processes other than ours (sshd, init's children...). */
function hostPids() {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((p) => p > 1000).slice(0, 20);
}

function hostState() {
  const read = (p) => { try { return fs.readFileSync(p, 'utf8'); } catch { return null; } };
  return {
    hostname: os.hostname(),
    corePattern: read('/proc/sys/kernel/core_pattern'),
    cad: read('/proc/sys/kernel/ctrl-alt-del'),
    domainname: read('/proc/sys/kernel/domainname'),
  };
}

before(async () => {
  if (skip) return;
  const bin = buildStatic(path.join(REPO, 'test', 'escape', 'escape.c'), path.join(REPO, 'test', 'build', 'escape-static'));
  makeRootfs(rootfs, { '/escape': bin });
  fs.writeFileSync(path.join(rootfs, 'escape-rootfs'), 'the scratch root\n');
  fs.writeFileSync(marker, 'host only\n', { mode: 0o644 });
  // A read-write volume holding links the host made, pointing out of it.
  fs.mkdirSync(vol);
  fs.writeFileSync(path.join(vol, 'data'), 'volume data\n');
  fs.symlinkSync(marker, path.join(vol, 'hostlink'));
  fs.symlinkSync('../host-marker', path.join(vol, 'rel'));
  fs.symlinkSync(tmp, path.join(vol, 'hostdir'));

  victim = await victimProcess(path.join(tmp, 'victim.log'));
  cleanups.push(() => victim.kill());
  for (const [what, addr] of [['abstract', `\0${abstract}`], ['path', hostSock]]) {
    const s = await listen(net.createServer((c) => { hits[what]++; c.destroy(); }), addr);
    cleanups.push(() => s.close());
  }
  const tcp = await listen(net.createServer((c) => { hits.tcp++; c.destroy(); }), { host: '127.0.0.1', port: 0 });
  cleanups.push(() => tcp.close());

  rootBefore = treeDigest(rootfs);
  hostBefore = hostState();
  const wall0 = Date.now(), mono0 = performance.now();
  result = await runGuest([...RUNSC, 'do', '--root', rootfs, '--volume', `${vol}:/vol`, '/escape'], {
    env: {
      ...process.env,
      TSV_REPO: REPO, TSV_MARKER: marker, TSV_ROOTFS: rootfs, TSV_ABSTRACT: abstract, TSV_HOST_SOCK: hostSock,
      TSV_VICTIM_PID: String(victim.pid), TSV_TCP_PORT: String(tcp.address().port),
      TSV_HOST_PIDS: [process.pid, process.ppid, ...hostPids()].join(','),
    },
    cwd: tmp,
    timeout: 120000,
    sentryPidEnv: 'TSV_SENTRY_PID',
  });
  clockSkewMs = (Date.now() - wall0) - (performance.now() - mono0);
  summary = /^(\d+) passed, (\d+) failed$/m.exec(result.stdout);
});

test('every escape attempt fails inside the sandbox', { skip }, () => {
  const fails = result.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
  assert.ok(!result.timedOut, 'the guest timed out');
  assert.ok(summary, `no summary line; stdout tail:\n${result.stdout.slice(-2000)}\nstderr tail:\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(fails, [], `failed attempts:\n${fails.join('\n')}`);
  assert.equal(summary[2], '0');
  assert.ok(Number(summary[1]) >= 100, `only ${summary[1]} checks ran`);
  assert.equal(result.code, 0, `runsc exited ${result.code ?? result.signal}; stderr:\n${result.stderr.slice(-2000)}`);
});

test('the Sentry logged no internal error', { skip }, () => {
  assert.doesNotMatch(result.stderr, /Sentry bug|Uncaught|TypeError|RangeError/);
});

test('the host process received no signal and no tracer', { skip }, () => {
  assert.ok(victim.alive(), 'the host victim process died');
  assert.deepEqual(victim.signals(), [], 'the host victim received signals');
  assert.equal(victim.tracerPid(), 0, 'the host victim is being traced');
});

test('no host socket saw a connection', { skip }, () => {
  assert.deepEqual(hits, { abstract: 0, path: 0, tcp: 0 });
});

test('host files, hostname, clock and kernel knobs are unchanged', { skip }, () => {
  assert.equal(fs.readFileSync(marker, 'utf8'), 'host only\n');
  assert.equal(fs.statSync(marker).mode & 0o777, 0o644);
  assert.deepEqual(fs.readdirSync(tmp).sort(), ['host-marker', 'host.sock', 'rootfs', 'victim.log', 'vol']);
  // The volume is the one place the guest may write: its own entries only.
  assert.deepEqual(fs.readdirSync(vol).sort(), ['d', 'data', 'hostdir', 'hostlink', 'mine', 'rel']);
  assert.equal(fs.readFileSync(path.join(vol, 'data'), 'utf8'), 'volume data\n');
  assert.equal(fs.readlinkSync(path.join(vol, 'mine')), '/');
  assert.deepEqual(treeDigest(rootfs), rootBefore, 'the scratch root changed on the host');
  assert.deepEqual(hostState(), hostBefore);
  assert.ok(Math.abs(clockSkewMs) < 5000, `the host clock jumped by ${clockSkewMs} ms`);
});

test('TIOCSTI cannot type into the host terminal', { skip: skip || (spawnSync('python3', ['-c', 'import pty']).status !== 0 && 'needs python3') }, () => {
  // pty.spawn runs runsc on a fresh host pty and copies what the terminal
  // shows (the guest's output and the echo of any typed-in input) to stdout.
  const py = 'import os, pty, sys; pty.spawn(sys.argv[1:], lambda fd: os.read(fd, 4096))';
  const r = spawnSync('python3', ['-c', py, ...RUNSC, 'do', '--root', rootfs, '/escape', 'tty'],
    { encoding: 'utf8', timeout: 60000, cwd: tmp });
  const out = r.stdout ?? '';
  assert.match(out, /^\d+ passed, 0 failed\r?$/m, `guest output:\n${out}\n${r.stderr}`);
  assert.doesNotMatch(out, /[~`#]/, `typed-in characters reached the host terminal:\n${out}`);
});

test('a guest polling its stdio sockets cannot keep runsc from exiting', { skip }, async () => {
  // Node's 'pipe' stdio are socketpairs; the line written to stdin arrives
  // after the guest's poll, and stdin is left open: runsc must still end.
  const child = spawn(RUNSC[0], [...RUNSC.slice(1), 'do', '--root', rootfs, '/escape', 'stdio'], { stdio: ['pipe', 'pipe', 'pipe'], cwd: tmp });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  setTimeout(() => child.stdin.write('through a socket\n'), 300);
  const ended = await new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 20000);
    child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
  });
  child.stdin.destroy();
  assert.notEqual(ended, null, `runsc did not exit; output:\n${out}`);
  assert.match(out, /^echo: through a socket$/m);
  assert.match(out, /^\d+ passed, 0 failed$/m);
});
