// Helpers shared by the escape suite and the syscall fuzzer: a scratch
// busybox root, static guest programs, a watched host "victim" process, a
// digest of a host tree, and a guest run with a timeout that kills the tree.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** buildStatic compiles src -static into out unless out is newer than src (and test.h). */
export function buildStatic(src, out, extraDeps = []) {
  const deps = [src, path.join(path.dirname(src), '..', 'syscalls', 'test.h'), ...extraDeps].filter((p) => fs.existsSync(p));
  const newest = Math.max(...deps.map((p) => fs.statSync(p).mtimeMs));
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= newest) return out;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const r = spawnSync('gcc', ['-O1', '-static', '-pthread', '-Wall', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmSync(out, { force: true });
    throw new Error(`gcc ${src} failed:\n${r.stderr}${r.error ?? ''}`);
  }
  return out;
}

/** makeRootfs lays out a minimal root: busybox, /tmp (1777), and the given files. */
export function makeRootfs(dir, files = {}) {
  for (const d of ['bin', 'tmp', 'proc', 'dev', 'sys', 'etc']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  fs.copyFileSync('/bin/busybox', path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  fs.symlinkSync('busybox', path.join(dir, 'bin', 'sh'));
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  for (const [guest, host] of Object.entries(files)) {
    fs.copyFileSync(host, path.join(dir, guest));
    fs.chmodSync(path.join(dir, guest), 0o755);
  }
}

/** treeDigest describes every entry under dir (path, type, mode, size, content hash). */
export function treeDigest(dir) {
  const out = [];
  const walk = (rel) => {
    const p = path.join(dir, rel);
    const st = fs.lstatSync(p);
    let what = `${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) what += ` -> ${fs.readlinkSync(p)}`;
    else if (st.isFile()) what += ` ${st.size} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`;
    out.push(what);
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(path.join(rel, n));
  };
  walk('.');
  return out;
}

/** victimProcess starts a host process that logs every catchable signal it gets. */
export async function victimProcess(logPath) {
  fs.writeFileSync(logPath, '');
  const code = `
    const fs = require('fs');
    for (const s of ['SIGHUP','SIGINT','SIGTERM','SIGUSR1','SIGUSR2','SIGWINCH','SIGCONT','SIGALRM','SIGPIPE','SIGURG','SIGQUIT'])
      process.on(s, () => fs.appendFileSync(${JSON.stringify(logPath)}, s + '\\n'));
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1 << 30);`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', resolve);
  });
  return {
    pid: child.pid,
    alive: () => { try { process.kill(child.pid, 0); return child.exitCode === null && child.signalCode === null; } catch { return false; } },
    signals: () => fs.readFileSync(logPath, 'utf8').split('\n').filter(Boolean),
    tracerPid: () => Number((/^TracerPid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8')) ?? [])[1] ?? -1),
    kill: () => child.kill('SIGKILL'),
  };
}

function killTree(pid) {
  // The run has its own process group (detached): take all of it down.
  try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
}

/**
 * runGuest runs argv (a runsc command) to completion or timeout. With
 * sentryPidEnv, the command is started through `sh -c 'exec ...'` so that
 * the variable can name the runsc process's own pid.
 */
export function runGuest(argv, { env = process.env, cwd, timeout = 60000, sentryPidEnv = null, stdout: outFile = null } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const cmd = sentryPidEnv
      ? ['/bin/sh', '-c', `${sentryPidEnv}=$$; export ${sentryPidEnv}; exec "$@"`, 'sh', ...argv]
      : argv;
    const child = spawn(cmd[0], cmd.slice(1), { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [], err = [];
    let outLen = 0;
    child.stdout.on('data', (d) => {
      if (outFile) fs.appendFileSync(outFile, d);
      // Keep the head and the tail of long outputs.
      if (outLen < (16 << 20)) { out.push(d); outLen += d.length; }
    });
    child.stderr.on('data', (d) => { err.push(d); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; killTree(child.pid); }, timeout);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killTree(child.pid);
      resolve({
        pid: child.pid, code, signal, timedOut, ms: Date.now() - t0,
        stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}
