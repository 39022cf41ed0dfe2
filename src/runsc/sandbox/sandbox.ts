// Starting a container's sandbox process, on the CLI side: `runsc create`
// starts the container's Gofers, then launches `node dist/sentry.mjs
// <global flags> boot ...` (SENTRY_JS, the Sentry's entry point) in
// namespaces of its own (boot/launch.ts) and a new session (detached from the
// caller's terminal and signals; `run` in the foreground keeps its session),
// as its own child, so that once create exits the process is reparented to
// the caller's subreaper (the containerd shim), which reaps it and takes its
// exit status as the container's. The sandbox
// gets the Gofers' sockets (and a JSON description of them on fd 4), reports
// readiness with one JSON line on fd 3 (a socketpair), then confines itself.

import * as fs from 'node:fs';
import * as net from 'node:net';
import { check, distEntry, native } from '../../platform/ptrace/native.js';
import { spawnGofers } from '../../gofer/launcher.js';
import type { Gofers } from '../../gofer/launcher.js';
import type { VolumeSpec } from '../../sentry/vfs/vfs.js';
import type { ReadyMessage } from '../boot/container_boot.js';
import { launch } from '../boot/launch.js';
import { SENTRY_NODE_ARGS } from '../loader/bundle_script.js';
import { planMounts } from '../boot/mount_plan.js';
import { containerNetworkMode, debugLogger, takeContainerNetwork } from '../boot/netns.js';
import type { NetworkConfig } from '../../sentry/socket/netstack/stack.js';
import type { Config } from '../config/config.js';
import { RuntimeError } from '../container/state.js';
import { checkNamespacePaths } from '../specutils/namespaces.js';
import { loadSpec, rootfsPath } from '../specutils/spec.js';
import type { Spec } from '../specutils/spec.js';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const WNOHANG = 1;
const READY_TIMEOUT_MS = 120_000;

/** MAIN_JS is runsc's entry point: the bundle dist/runsc.mjs, or dist/runsc/main.js. */
export const MAIN_JS = distEntry('runsc.mjs', 'runsc/main.js');

/** SENTRY_JS is the sandbox process's entry point (`boot`, `sandbox`): the
 *  bundle dist/sentry.mjs, or dist/runsc/sentry_main.js. The CLI's bundle
 *  leaves the Sentry out. */
export const SENTRY_JS = distEntry('sentry.mjs', 'runsc/sentry_main.js');

export interface SpawnOptions {
  /** globalArgs: runsc's global flags, passed on as they came (made absolute where needed). */
  globalArgs: string[];
  bundle: string;
  id: string;
  /** stdio: the container's fds 0, 1, 2 (-1: closed). */
  stdio: number[];
  /** conf: runsc's configuration (network mode, rootless, seccomp). */
  conf: Config;
  /** setsid: a session of its own (default); `run` in the foreground keeps the caller's. */
  setsid?: boolean;
}

/** GoferHandoff tells the sandbox process which of its fds serve which host tree. */
export interface GoferHandoff {
  hostRoot: string;
  volumes: VolumeSpec[];
  gofers: { hostPath: string; fd: number }[];
  /** network: the interfaces taken over from the spec's network namespace (boot/netns.ts), their fds after the Gofers'. */
  network?: NetworkConfig;
}

const READY_FD = 3;
const GOFERS_FD = 4;
const FIRST_GOFER_FD = 5;

/** startContainerGofers starts the Gofers of a bundle's root file system and
 *  volumes, from runsc: the sandbox runs in a user namespace that sees no
 *  host file it does not own, so it cannot start them itself. */
export function startContainerGofers(spec: Spec, bundle: string, conf: Config, warn: (m: string) => void): Gofers {
  const plan = planMounts(spec, bundle);
  const rootfs = rootfsPath(spec, bundle);
  if (!fs.statSync(rootfs, { throwIfNoEntry: false })?.isDirectory()) throw new RuntimeError(`rootfs ${rootfs}: not a directory`);
  // Not create's stderr: the containerd shim waits for it to close.
  const errFd = fs.openSync(conf.debugLog || '/dev/null', 'a');
  let g: ReturnType<typeof spawnGofers>;
  try {
    // --overlay2=none: the rootfs itself is the root, served read-write unless root.readonly.
    const rootWritable = conf.overlay2 === 'none' && spec.root?.readonly !== true;
    g = spawnGofers(rootfs, plan.volumes, warn, { rootless: conf.rootless, noSeccomp: conf.noSeccomp, stderrFd: errFd, rootWritable });
  } finally {
    fs.closeSync(errFd);
  }
  // Not g.ready(): the sandbox process checks them (container_boot.ts
  // handedGofers) while this one goes on, so that the Gofers' and the
  // sandbox's start-ups overlap.
  return g;
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

/** runscEnv is the environment of a runsc process we start (the sandbox, the
 *  detached exec proxy; never the guest's: that comes from the spec) without
 *  NODE_EXTRA_CA_CERTS: Node reads and parses those certificates at
 *  start-up (~40 ms), and no runsc process makes a TLS connection. */
export function runscEnv(): string[] {
  return childEnv().filter((e) => !e.startsWith('NODE_EXTRA_CA_CERTS='));
}

/** sandboxEnv is the environment of a sandbox process (never the guest's: that comes from the spec). */
export function sandboxEnv(): string[] {
  const env = runscEnv();
  if (!process.env.UV_THREADPOOL_SIZE) env.push(`UV_THREADPOOL_SIZE=${SANDBOX_THREADPOOL}`);
  return env;
}

/** spawnSandbox starts the sandbox process and waits until it is ready (or failed). */
export async function spawnSandbox(o: SpawnOptions): Promise<Spawned> {
  const spec = loadSpec(o.bundle);
  const notJoined = checkNamespacePaths(spec);
  if (notJoined.length && o.conf.debug) {
    debugLogger(o.conf)(`namespace paths for ${notJoined.join(', ')}: the container gets the sandbox's own (only a network namespace is joined)`);
  }
  native.setNofile(1 << 20); // inherited: the sandbox may not raise it in its user namespace
  const gofers = startContainerGofers(spec, o.bundle, o.conf, (m) => process.stderr.write(`runsc: ${m}\n`));
  // --- network (boot/netns.ts): the spec's network namespace, taken over; fds after the Gofers'.
  let netns: ReturnType<typeof takeContainerNetwork>;
  // Docker's --network host names the host's namespace: host sockets, as runc shares the host's network.
  const network = containerNetworkMode(spec, o.conf.network);
  if (network !== o.conf.network) debugLogger(o.conf)(`the spec joins the host's network namespace: --network=${network}`);
  try {
    netns = takeContainerNetwork(spec, network, debugLogger(o.conf));
  } catch (e) {
    gofers.stop();
    throw new RuntimeError((e as Error).message);
  }
  // --- end network
  const handoff: GoferHandoff = {
    hostRoot: gofers.hostRoot, volumes: gofers.volumes,
    gofers: gofers.procs.map((p, i) => ({ hostPath: p.root, fd: FIRST_GOFER_FD + i })),
    network: netns?.sentryConfig(FIRST_GOFER_FD + gofers.procs.length),
  };
  const MFD_CLOEXEC = 1;
  const handoffFd = check('memfd_create', native.memfdCreate('tsvisor-gofers', MFD_CLOEXEC));
  fs.writeSync(handoffFd, JSON.stringify(handoff), 0, 'utf8'); // at offset 0: the reader starts there
  const pair = new Int32Array(2);
  check('socketpair', native.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, pair));
  const argv = [process.execPath, ...SENTRY_NODE_ARGS, SENTRY_JS, ...o.globalArgs,
    ...(network !== o.conf.network ? [`--network=${network}`] : []), 'boot', '--bundle', o.bundle, '--ready-fd', String(READY_FD), '--gofers-fd', String(GOFERS_FD), o.id];
  let pid: number;
  try {
    pid = launch({
      kind: 'sentry', keepRoot: true, path: process.execPath, argv, env: sandboxEnv(),
      fds: [...o.stdio, pair[1], handoffFd, ...gofers.procs.map((p) => p.client.fd), ...(netns?.fds ?? [])],
      setsid: o.setsid ?? true, hostNetwork: network === 'host', rootless: o.conf.rootless,
    });
  } catch (e) {
    fs.closeSync(pair[0]);
    gofers.stop();
    netns?.restore();
    throw e;
  } finally {
    fs.closeSync(pair[1]);
    fs.closeSync(handoffFd);
    netns?.closeHostFds(); // the sandbox holds the packet sockets now
  }
  // The sandbox holds the Gofers' sockets now: they end when it does, and
  // whoever reaps this process's orphans reaps them.
  for (const p of gofers.procs) p.client.close();
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
    netns?.restore();
    // Reap it: it exits right after a failure report.
    const st = new Int32Array(1);
    for (let i = 0; i < 200 && native.waitpid(pid, WNOHANG, st) === 0; i++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  return { pid, ready };
}
