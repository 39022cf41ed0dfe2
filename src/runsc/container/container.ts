// Container lifecycle on the CLI side (runc's and gVisor's semantics):
// create -> created -> start -> running -> (init exits) -> stopped -> delete.
// `create` starts the sandbox process and records state.json; the other
// commands talk to the sandbox over its control socket. Every command that
// changes a container holds the container directory's lock.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { check, native } from '../../platform/ptrace/native.js';
import type { Config } from '../config/config.js';
import { ControlUnavailable, call, connectUnix } from '../sandbox/control.js';
import type { ControlReply, ControlRequest } from '../sandbox/control.js';
import type { ReadyMessage } from '../boot/container_boot.js';
import { loadSpec, rootfsPath } from '../specutils/spec.js';
import type { Spec } from '../specutils/spec.js';
import { applyResources, createCgroup, enterCgroup, leaveCgroup, relativePath, removeCgroup } from './cgroup.js';
import type { CgroupPlace } from './cgroup.js';
import { runHooks } from './hooks.js';
import type { OciState } from './hooks.js';
import {
  Lock, RuntimeError, containerDir, ensureRoot, procStartTime, readExit, readState, sandboxAlive, statusOf, validateID,
  writeFileAtomic, writeState,
} from './state.js';
import type { ContainerState, Status } from './state.js';

/** Ctx is what every command gets: the global configuration and flags. */
export interface Ctx {
  conf: Config;
  /** globalArgs: the global flags as given, to pass on to the sandbox process. */
  globalArgs: string[];
  warn: (msg: string) => void;
}

export interface Opened {
  id: string;
  dir: string;
  state: ContainerState;
}

/** OCI_VERSION is the runtime-spec version of the state runsc reports. */
export const OCI_VERSION = '1.0.2';

const TIOCSWINSZ = 0x5414;

/** open loads a container's state; RuntimeError if it does not exist. */
export function openContainer(ctx: Ctx, id: string): Opened {
  validateID(id);
  const dir = containerDir(ctx.conf.root, id);
  const state = readState(dir);
  if (!state) throw new RuntimeError(`container "${id}" does not exist`);
  return { id, dir, state };
}

function lockContainer(ctx: Ctx, id: string): { lock: Lock; c: Opened } {
  validateID(id);
  const dir = containerDir(ctx.conf.root, id);
  const lock = Lock.acquire(dir, `container "${id}" does not exist`);
  try {
    return { lock, c: openContainer(ctx, id) };
  } catch (e) {
    lock.unlock();
    throw e;
  }
}

/** ociState is the state JSON `runsc state` prints and hooks read. */
export function ociState(c: Opened, status: Status = statusOf(c.dir, c.state)): OciState & Record<string, unknown> {
  return {
    ociVersion: OCI_VERSION,
    id: c.id,
    pid: status === 'stopped' ? 0 : c.state.pid,
    status,
    bundle: c.state.bundle,
    rootfs: c.state.rootfs,
    created: c.state.created,
    owner: c.state.owner,
    annotations: c.state.annotations,
  };
}

/** request sends one control request to a container's sandbox; RuntimeError on an error reply. */
export function request(c: Opened, req: ControlRequest, fds: number[] = []): ControlReply {
  let r: ControlReply;
  try {
    r = call(c.dir, req, fds);
  } catch (e) {
    if (e instanceof ControlUnavailable) throw new RuntimeError(`container "${c.id}": ${e.message}`);
    throw e;
  }
  if (r.error) throw new RuntimeError(r.error);
  return r;
}

/** writePidFile writes pid to file atomically, as runc does. */
export function writePidFile(file: string, pid: number): void {
  writeFileAtomic(path.resolve(file), String(pid));
}

/** sendConsole sends the pty master to the --console-socket (SCM_RIGHTS). */
export function sendConsole(socketPath: string, master: number): void {
  const fd = connectUnix(socketPath);
  if (fd < 0) throw new RuntimeError(`connecting to console socket ${socketPath}: errno ${-fd}`);
  try {
    const data = Buffer.from('/dev/ptmx');
    const r = native.sendFds(fd, new Int32Array([master]), data);
    if (r < 0) throw new RuntimeError(`sending the console to ${socketPath}: errno ${-r}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Pty is a new pseudo-terminal for a container's (or exec'd) process. */
export interface Pty {
  master: number;
  slave: number;
}

/** openPty makes a pty, sized as consoleSize asks. */
export function openPty(size?: { height: number; width: number }): Pty {
  const out = new Int32Array(2);
  check('openpty', native.openpty(out));
  if (size && size.height > 0 && size.width > 0) {
    const ws = new Uint8Array(8);
    const v = new DataView(ws.buffer);
    v.setUint16(0, size.height, true);
    v.setUint16(2, size.width, true);
    native.ioctl(out[0], TIOCSWINSZ, ws, 0);
  }
  return { master: out[0], slave: out[1] };
}

/** Launched is a started sandbox: its host pid, its readiness report, and,
 *  for a sandbox in this very process, how to tear it down. */
export interface Launched {
  pid: number;
  ready: ReadyMessage;
  destroy?: () => Promise<void>;
  /** leaveCgroup takes this process out of the container's cgroup (set for a sandbox in this process). */
  leaveCgroup?: () => void;
}

/** Launcher starts the sandbox of a container being created. */
export type Launcher = (a: { globalArgs: string[]; bundle: string; id: string; dir: string; stdio: number[]; conf: Config; setsid: boolean }) => Promise<Launched>;

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile: string;
  consoleSocket: string;
  /** detached: create (true) refuses a terminal without a console socket; run in the foreground passes stdio through. */
  detached: boolean;
  /** launch starts the sandbox (default: a `runsc boot` process). */
  launch?: Launcher;
}

// Loaded when used: state, kill, delete... (each its own runsc process) need
// none of the Gofer, network or launch code behind it.
const spawnLauncher: Launcher = async (a) => (await import('../sandbox/sandbox.js')).spawnSandbox(
  { globalArgs: a.globalArgs, bundle: a.bundle, id: a.id, stdio: a.stdio, conf: a.conf, setsid: a.setsid });

/** createContainer starts a sandbox for the bundle and leaves it `created`. */
export async function createContainer(ctx: Ctx, o: CreateOptions): Promise<Opened> {
  const id = validateID(o.id);
  const bundle = path.resolve(o.bundle || '.');
  const spec: Spec = loadSpec(bundle);
  const proc = spec.process!;
  if (proc.terminal && !o.consoleSocket && o.detached) {
    throw new RuntimeError('cannot allocate tty if runsc will detach without setting console socket');
  }
  if (!proc.terminal && o.consoleSocket) {
    throw new RuntimeError('cannot use console socket if runsc will not detach or allocate tty');
  }
  const root = ctx.conf.root;
  ensureRoot(root);
  const dir = containerDir(root, id);
  try {
    fs.mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError(`container with id "${id}" already exists`);
    throw e;
  }
  const lock = Lock.acquire(dir, `container "${id}" does not exist`);
  const state: ContainerState = {
    ociVersion: spec.ociVersion, id, bundle, rootfs: rootfsPath(spec, bundle), pid: 0, pidStart: 0,
    status: 'creating', created: new Date().toISOString(), owner: os.userInfo().username,
    annotations: spec.annotations ?? {}, hooks: spec.hooks ?? {}, cgroupDirs: [], terminal: proc.terminal === true,
  };
  const c: Opened = { id, dir, state };
  let pty: Pty | null = null;
  let launched: Launched | null = null;
  try {
    writeState(dir, state);
    if (proc.terminal && o.consoleSocket) pty = openPty(proc.consoleSize);
    const stdio = pty ? [pty.slave, pty.slave, pty.slave] : [0, 1, 2].map((fd) => (fdOpen(fd) ? fd : -1));
    const globalArgs = [...ctx.globalArgs, '--root', root];
    if (ctx.conf.log) globalArgs.push('--log', path.resolve(ctx.conf.log));
    // The sandbox process inherits the cgroup this process is in when it
    // spawns it (see cgroup.ts); a sandbox in this process stays in it.
    const cg = spec.linux?.cgroupsPath;
    let place: CgroupPlace | null = null;
    if (cg && !ctx.conf.ignoreCgroups) {
      state.cgroupDirs = createCgroup(relativePath(cg, ctx.conf.systemdCgroup), ctx.warn);
      writeState(dir, state);
      applyResources(state.cgroupDirs, spec.linux?.resources, ctx.warn);
      place = enterCgroup(state.cgroupDirs, ctx.warn);
    }
    const launch = o.launch ?? spawnLauncher;
    try {
      // Detached sandboxes get a session of their own; one in the foreground (run) keeps the caller's terminal.
      launched = await launch({ globalArgs, bundle, id, dir, stdio, conf: ctx.conf, setsid: o.detached });
    } finally {
      if (place && !o.launch) leaveCgroup(place, state.cgroupDirs);
    }
    if (place && o.launch) launched.leaveCgroup = () => leaveCgroup(place!, state.cgroupDirs);
    const { pid, ready } = launched;
    state.pid = pid;
    state.pidStart = procStartTime(pid);
    if (!ready.ok) throw new RuntimeError(ready.error ?? 'the sandbox failed to start');
    if (pty) sendConsole(o.consoleSocket, pty.master);
    // prestart (deprecated) and createRuntime run in the runtime namespace
    // once the container exists; createContainer would run inside it. Their
    // state says `created`, as gVisor's (the sandbox is built and waits for
    // start; runc says `creating`); runtime-tools' hooks_stdin wants it.
    const st = ociState(c, 'created');
    runHooks(spec.hooks, 'prestart', st);
    runHooks(spec.hooks, 'createRuntime', st);
    // --- network (boot/netns.ts): what the hooks put in the sandbox's own network namespace (Docker's libnetwork-setkey).
    const { debugLogger, takeHookedNetwork } = await import('../boot/netns.js');
    const hooked = takeHookedNetwork(spec, ctx.conf.network, pid, debugLogger(ctx.conf));
    if (hooked) {
      try {
        const resolv = (await import('../boot/dns_relay_host.js')).resolvConfRefresh(spec);
        request(c, { op: 'network', network: hooked.sentryConfig(0), ...(resolv ? { files: [resolv] } : {}) }, hooked.fds);
      } finally {
        hooked.closeHostFds();
      }
    }
    // --- end network
    runHooks(spec.hooks, 'createContainer', st);
    state.status = 'created';
    writeState(dir, state);
    if (o.pidFile) writePidFile(o.pidFile, pid);
    return c;
  } catch (e) {
    if (launched?.destroy) await launched.destroy();
    else if (state.pid > 0) killSandbox(c);
    launched?.leaveCgroup?.();
    removeCgroup(state.cgroupDirs);
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    if (pty) {
      fs.closeSync(pty.master);
      fs.closeSync(pty.slave);
    }
    lock.unlock();
  }
}

function fdOpen(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** startContainer lets a created container's init run. direct starts a
 *  sandbox that runs in this process (the control socket is ours then). */
export function startContainer(ctx: Ctx, id: string, direct?: () => void): void {
  const { lock, c } = lockContainer(ctx, id);
  try {
    const status = statusOf(c.dir, c.state);
    if (status === 'stopped') throw new RuntimeError('cannot start a container that has stopped');
    if (status !== 'created') throw new RuntimeError(`cannot start an already ${status} container`);
    // startContainer hooks run on the host (see hooks.ts), before the program.
    runHooks(c.state.hooks, 'startContainer', ociState(c));
    if (direct) direct();
    else request(c, { op: 'start' });
    c.state.status = 'running';
    writeState(c.dir, c.state);
    // As runc: the state of the container just started, even if its process already ended.
    runHooks(c.state.hooks, 'poststart', ociState(c, 'running'), ctx.warn);
  } finally {
    lock.unlock();
  }
}

/** killContainer sends sig to the init (or every process with all). */
export function killContainer(ctx: Ctx, id: string, sig: number, all: boolean): void {
  const { lock, c } = lockContainer(ctx, id);
  try {
    const status = statusOf(c.dir, c.state);
    if (status === 'stopped' || status === 'creating') throw new RuntimeError('container not running');
    try {
      request(c, { op: 'kill', signal: sig, all });
    } catch (e) {
      // A sandbox that does not answer still dies by SIGKILL.
      if (sig !== 9 || !sandboxAlive(c.state)) throw e;
      process.kill(c.state.pid, 'SIGKILL');
    }
  } finally {
    lock.unlock();
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** killSandbox ends a container's sandbox process: SIGKILL to every process
 *  of the container (the sandbox then exits), or SIGKILL to the sandbox
 *  process itself if it does not go within 5 s. Waits until it is gone. */
export function killSandbox(c: Opened): void {
  if (!sandboxAlive(c.state) || c.state.pid === process.pid) return;
  try {
    call(c.dir, { op: 'kill', signal: 9, all: true }, [], 5000);
  } catch {
    // No control socket (yet): the process itself.
  }
  for (let i = 0; i < 500 && sandboxAlive(c.state); i++) sleepMs(10);
  if (sandboxAlive(c.state)) {
    try {
      process.kill(c.state.pid, 'SIGKILL');
    } catch {
      // gone
    }
    for (let i = 0; i < 200 && sandboxAlive(c.state); i++) sleepMs(10);
  }
}

/** deleteContainer removes a stopped (or, with force, any) container. */
export function deleteContainer(ctx: Ctx, id: string, force: boolean): void {
  validateID(id);
  const dir = containerDir(ctx.conf.root, id);
  if (!fs.existsSync(dir)) {
    if (force) return;
    throw new RuntimeError(`container "${id}" does not exist`);
  }
  let lock: Lock;
  try {
    lock = Lock.acquire(dir, `container "${id}" does not exist`);
  } catch (e) {
    if (force) return;
    throw e;
  }
  try {
    const state = readState(dir);
    if (!state) {
      // An aborted create left a directory without state (runc removes it too).
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    }
    const c: Opened = { id, dir, state };
    const status = statusOf(dir, state);
    if (status !== 'stopped' && status !== 'created' && !force) {
      throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    if (status !== 'stopped') killSandbox(c);
    runHooks(state.hooks, 'poststop', ociState(c, 'stopped'), ctx.warn);
    removeCgroup(state.cgroupDirs);
    fs.rmSync(dir, { recursive: true, force: true });
  } finally {
    lock.unlock();
  }
}

/** exitCodeOf returns a stopped container's exit code, or null if unknown. */
export function exitCodeOf(c: Opened): number | null {
  return readExit(c.dir)?.code ?? null;
}
