// Starting a container's sandbox process, on the CLI side: `runsc create`
// spawns `node dist/runsc/main.js <global flags> boot ...` in a new session
// (detached from the caller's terminal and signals), as its own child, so
// that once create exits the process is reparented to the caller's
// subreaper (the containerd shim), which reaps it and takes its exit status
// as the container's. The sandbox reports readiness with one JSON line on
// fd 3 (a socketpair).

import * as fs from 'node:fs';
import * as net from 'node:net';
import { check, distEntry, native } from '../../platform/ptrace/native.js';
import type { ReadyMessage } from '../boot/container_boot.js';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SPAWN_SETSID = 1;
const WNOHANG = 1;
const READY_TIMEOUT_MS = 120_000;

/** MAIN_JS is runsc's entry point: the bundle dist/runsc.mjs, or dist/runsc/main.js. */
export const MAIN_JS = distEntry('runsc.mjs', 'runsc/main.js');

export interface SpawnOptions {
  /** globalArgs: runsc's global flags, passed on as they came (made absolute where needed). */
  globalArgs: string[];
  bundle: string;
  id: string;
  /** stdio: the container's fds 0, 1, 2 (-1: closed). */
  stdio: number[];
}

export interface Spawned {
  pid: number;
  ready: ReadyMessage;
}

/** readLine reads fd until a newline or EOF; null on timeout. */
function readLine(fd: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = new net.Socket({ fd, readable: true, writable: false });
    let text = '';
    let done = false;
    const finish = (v: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl >= 0) finish(text.slice(0, nl));
    });
    sock.on('error', () => finish(text));
    sock.on('close', () => finish(text));
  });
}

/** nodeArgs are the node options to start another runsc process with: the
 *  heap tuning bin/runsc uses (process.execArgv may hold more, e.g. under
 *  `node --test`, that must not be passed on). */
export function nodeArgs(): string[] {
  return process.execArgv.filter((a) => /^--(max|min)-[a-z-]+-size=\d+$/.test(a));
}

/** childEnv is the environment of a runsc process we start (without the test runner's marker). */
export function childEnv(): string[] {
  return Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT').map(([k, v]) => `${k}=${v ?? ''}`);
}

/** SANDBOX_THREADPOOL: libuv threads of a sandbox process. The Sentry reads
 *  host terminals and pipes (container stdio, each exec'd process's) with
 *  blocking reads on libuv's pool: with the default 4 threads, the fifth
 *  interactive `docker exec -it` session got no I/O at all. */
const SANDBOX_THREADPOOL = '64';

/** sandboxEnv is the environment of a sandbox process (never the guest's: that comes from the spec). */
export function sandboxEnv(): string[] {
  const env = childEnv();
  if (!process.env.UV_THREADPOOL_SIZE) env.push(`UV_THREADPOOL_SIZE=${SANDBOX_THREADPOOL}`);
  return env;
}

/** spawnSandbox starts the sandbox process and waits until it is ready (or failed). */
export async function spawnSandbox(o: SpawnOptions): Promise<Spawned> {
  const pair = new Int32Array(2);
  check('socketpair', native.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, pair));
  const argv = [process.execPath, ...nodeArgs(), MAIN_JS, ...o.globalArgs,
    'boot', '--bundle', o.bundle, '--ready-fd', '3', o.id];
  const env = sandboxEnv();
  const pid = native.spawn(process.execPath, argv, env, new Int32Array([...o.stdio, pair[1]]), SPAWN_SETSID);
  fs.closeSync(pair[1]);
  if (pid < 0) {
    fs.closeSync(pair[0]);
    check('spawn sandbox', pid);
  }
  const line = await readLine(pair[0], READY_TIMEOUT_MS);
  let ready: ReadyMessage;
  if (line === null) {
    ready = { error: 'timed out waiting for the sandbox to start' };
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  } else {
    try {
      ready = JSON.parse(line) as ReadyMessage;
    } catch {
      ready = { error: 'the sandbox process died while starting' };
    }
  }
  if (!ready.ok) {
    // Reap it: it exits right after a failure report.
    const st = new Int32Array(1);
    for (let i = 0; i < 200 && native.waitpid(pid, WNOHANG, st) === 0; i++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  return { pid, ready };
}
