// `runsc boot`: the sandbox process of one container (gVisor's runsc/boot
// Loader for a bundle). Started by `runsc create`, it builds the Sentry for
// config.json (root file system, mounts, credentials, limits, cgroup), loads
// the container's process and reports readiness, then serves the control
// socket: `start` lets the init process run, `kill`, `exec`, `ps`, `pause`,
// `resume`, `wait` act on the kernel. It exits when the init process does,
// with its status (exit code, or 128+N for signal N), after recording it in
// the state directory.
//
// This process must not use node:child_process: libuv's SIGCHLD handler
// would make every ptrace stop cost a signal. Gofers are spawned natively.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { isatty } from 'node:tty';
import { PtracePlatform } from '../../platform/ptrace/ptrace.js';
import { STUB_PATH, check, native } from '../../platform/ptrace/native.js';
import { readHostProcText } from '../../platform/hostproc.js';
import { GoferClient } from '../../sentry/fsimpl/gofer/client.js';
import { GoferHostFS } from '../../sentry/fsimpl/gofer/gofer_fs.js';
import type { VolumeSpec } from '../../sentry/vfs/vfs.js';
import type { GoferHandoff } from '../sandbox/sandbox.js';
import { confineSentry, prepareSentry } from './confine.js';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWUTS } from './launch.js';
import { Kernel } from '../../sentry/kernel/kernel.js';
import { enableHostNetwork } from '../../sentry/socket/hostinet/hostinet.js';
import { configureNetwork } from '../../sentry/socket/netstack/stack.js';
import { refreshGuestFiles } from './guest_network.js';
import { Log } from '../../sentry/kernel/log.js';
import type { Task } from '../../sentry/kernel/task.js';
import { TaskState } from '../../sentry/kernel/task.js';
import type { ThreadGroup } from '../../sentry/kernel/thread_group.js';
import { installSignals, sendToGroup, userInfo } from '../../sentry/kernel/signals.js';
import type { VFS } from '../../sentry/vfs/vfs.js';
import { ttyState } from '../../sentry/fsimpl/host/tty.js';
import { forwardHostSignals } from './host_signals.js';
import { setProcDefaults } from '../../sentry/fsimpl/procfs/defaults.js';
import type { Config } from '../config/config.js';
import { cgroupStats, existingCgroup, joinCgroup, pidsDirs, relativePath } from '../container/cgroup.js';
import type { ExitRecord } from '../container/state.js';
import { Conn, ControlServer } from '../sandbox/control.js';
import type { ControlRequest, ProcessInfo } from '../sandbox/control.js';
import { checkProcess, loadSpec } from '../specutils/spec.js';
import type { Process, Spec } from '../specutils/spec.js';
import { hostRlimits } from './limits.js';
import { applyMounts, finishContainerRoot, mkdirAll, newContainerVFS, planMounts } from './mounts.js';
import { cgroupLimitsOf } from '../../sentry/fsimpl/cgroupfs/cgroupfs.js';
import { ExecFailure, onExit, startProcess } from './process.js';
import { exitCode } from '../sandbox/wait.js';

export interface BootOptions {
  bundle: string;
  id: string;
  /** stateDir: the container's state directory (control socket, exit record). */
  stateDir: string;
  /** readyFd: where the readiness line goes (-1: nowhere). */
  readyFd: number;
  systemdCgroup: boolean;
  ignoreCgroups: boolean;
  /** stdio: the host fds that become the init's 0, 1, 2 (default: this process's). */
  stdio?: number[];
  /** gofersFd: the Gofer handoff runsc wrote (sandbox/sandbox.ts); the
   *  process is in namespaces of its own and confines itself once built. */
  gofersFd?: number;
}

/** ReadyMessage is the one line boot writes on readyFd. */
export interface ReadyMessage {
  ok?: boolean;
  error?: string;
  cgroupDirs?: string[];
}

/** openLog picks where Sentry messages go: never the container's stdio, and
 *  never a JSON --log (the containerd shim parses it line by line). */
function openLog(conf: Config): number {
  try {
    if (conf.debugLog) return fs.openSync(conf.debugLog, 'a');
    if (conf.log && conf.logFormat !== 'json') return fs.openSync(conf.log, 'a');
  } catch {
    // fall through
  }
  return fs.openSync('/dev/null', 'w');
}

function sendReady(fd: number, m: ReadyMessage): void {
  if (fd < 0) return;
  try {
    fs.writeSync(fd, JSON.stringify(m) + '\n');
    fs.closeSync(fd);
  } catch {
    // The creator went away; the container still boots.
  }
}

const TIOCSCTTY = 0x540e;

/** terminalKey makes the terminal of a `process.terminal` container this
 *  process's controlling terminal, so that ^C, ^\\, ^Z and window-size changes
 *  reach the Sentry as host signals (the host's line discipline generates
 *  them, and this process is the only one in the terminal's foreground
 *  group). Returns the terminal's key for its TtyState, or null. A process
 *  that already has one (runsc run in the caller's terminal) keeps it: the
 *  caller's terminal sends it the same signals. */
function terminalKey(spec: Spec, stdio: number[]): string | null {
  const fd = stdio[0];
  if (!spec.process?.terminal || fd === undefined || fd < 0 || !isatty(fd)) return null;
  native.ioctl(fd, TIOCSCTTY, null, 0);
  return String(fs.fstatSync(fd).rdev);
}

/** masterStubPid finds the platform's master stub among this process's children. */
function masterStubPid(): number {
  let kids: string[] = [];
  try {
    kids = fs.readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return -1;
  }
  const stub = fs.realpathSync(STUB_PATH);
  for (const k of kids) {
    try {
      if (fs.readlinkSync(`/proc/${k}/exe`) === stub) return Number(k);
    } catch {
      // gone
    }
  }
  return -1;
}

/** reapChildren reaps this process's children once the platform and the
 *  Gofers are stopped: killed stubs would otherwise stay zombies until the
 *  sandbox process itself is reaped (and then be left to an init that may
 *  not reap them). */
function reapChildren(): void {
  const WNOHANG = 1;
  const WALL = 0x40000000;
  let kids: number[] = [];
  try {
    kids = readHostProcText(`self/task/${process.pid}/children`).trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return;
  }
  const st = new Int32Array(1);
  const deadline = Date.now() + 2000;
  for (const pid of kids) {
    while (native.waitpid(pid, WNOHANG | WALL, st) === 0 && Date.now() < deadline) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

/** writeExitRecord replaces the exit record through the state directory's fd
 *  (the confined sandbox can name no path). */
function writeExitRecord(dirFd: number, text: string): void {
  const O_WRONLY = 1;
  const O_CREAT = 0o100;
  const O_TRUNC = 0o1000;
  const O_CLOEXEC = 0o2000000;
  const fd = check('open exit record', native.openat(dirFd, 'exit.tmp', O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644));
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
  check('rename exit record', native.renameat(dirFd, 'exit.tmp', dirFd, 'exit'));
}

/** Sandbox is one container's running Sentry. */
class Sandbox {
  private started = false;
  private paused = false;
  private readonly held = new Set<Task>();
  private initTg: ThreadGroup | null = null;
  private initStatus: number | null = null;
  /** Connections waiting for a process's exit (exec, wait). */
  private readonly waiters = new Set<Conn>();
  /** Exec'd processes with a terminal: pid -> the terminal's TtyState key. */
  private readonly ttys = new Map<number, string>();

  constructor(readonly k: Kernel, readonly log: Log, readonly spec: Spec, readonly cgroupDirs: string[]) {
    // Pausing: a task about to return to guest code is held instead; running
    // ones are interrupted so they come back to the Sentry first.
    const deliver = k.beforeResume;
    k.beforeResume = (t) => {
      if (this.paused) {
        this.held.add(t);
        return false;
      }
      return deliver ? deliver(t) : true;
    };
  }

  setInit(t: Task): void {
    this.initTg = t.tg;
    onExit(t.tg, (s) => (this.initStatus = s));
  }

  handle(req: ControlRequest, fds: number[], conn: Conn): void {
    if (req.op !== 'exec' && req.op !== 'network') for (const f of fds) fs.closeSync(f);
    switch (req.op) {
      case 'start':
        return this.start(conn);
      case 'kill':
        return this.kill(req, conn);
      case 'exec':
        return this.exec(req, fds, conn);
      case 'wait':
        return this.wait(req, conn);
      case 'ps':
        return conn.send({ ok: true, procs: this.ps() });
      case 'pause':
        this.pause();
        return conn.send({ ok: true });
      case 'resume':
        this.resume();
        return conn.send({ ok: true });
      case 'stats':
        return conn.send({ ok: true, stats: this.stats() });
      case 'network':
        return this.network(req, fds, conn);
      default:
        return conn.send({ error: `unknown request ${JSON.stringify((req as { op: unknown }).op)}` });
    }
  }

  private start(conn: Conn): void {
    try {
      this.startInit();
    } catch (e) {
      return conn.send({ error: (e as Error).message });
    }
    conn.send({ ok: true });
  }

  /** startInit lets the init process run. */
  startInit(): void {
    const init = this.initTg;
    if (this.started) throw new Error('container already started');
    if (!init || this.initStatus !== null) throw new Error('container has stopped');
    this.started = true;
    this.k.makeReady(init.leader);
  }

  private kill(req: ControlRequest, conn: Conn): void {
    const s = req.signal ?? 15;
    if (!Number.isInteger(s) || s < 0 || s > 64) return conn.send({ error: `invalid signal ${s}` });
    let targets: ThreadGroup[];
    const tty = req.pid !== undefined && req.foreground ? this.ttys.get(req.pid) : undefined;
    if (tty !== undefined) {
      const pg = ttyState(tty).fgPgid || req.pid;
      targets = [...this.k.threadGroups.values()].filter((tg) => tg.pgid === pg);
    } else if (req.pid !== undefined) {
      const tg = this.k.threadGroups.get(req.pid);
      if (!tg || tg.exiting) return conn.send({ error: `no such process ${req.pid}` });
      targets = [tg];
    } else if (req.all) {
      targets = [...this.k.threadGroups.values()];
    } else {
      if (!this.initTg || this.initStatus !== null) return conn.send({ error: 'container is not running' });
      targets = [this.initTg];
    }
    // kill(2) from outside the container: no sender pid, root.
    for (const tg of targets) if (s !== 0 && !tg.exiting) sendToGroup(tg, s, userInfo(s, 0, 0));
    conn.send({ ok: true });
  }

  private exec(req: ControlRequest, fds: number[], conn: Conn): void {
    const stdio = [0, 1, 2].map((i) => fds[i] ?? -1);
    for (const f of fds.slice(3)) fs.closeSync(f);
    let p: Process;
    try {
      p = checkProcess(req.process, 'process');
    } catch (e) {
      for (const f of stdio) if (f >= 0) fs.closeSync(f);
      return conn.send({ error: (e as Error).message });
    }
    let t: Task;
    try {
      // From here the fds belong to the new process's files (closed with them).
      // CAP_NET_RAW as the exec command's own --net-raw says (gVisor's exec filters it so too).
      t = startProcess(this.k, p, { init: false, rlimits: hostRlimits(), stdio, ownFds: true, netRaw: req.netRaw === true });
    } catch (e) {
      return conn.send({ error: e instanceof Error ? e.message : String(e) });
    }
    const tg = t.tg;
    let exited = false;
    if (p.terminal && stdio[0] >= 0 && isatty(stdio[0])) this.ttys.set(tg.pid, String(fs.fstatSync(stdio[0]).rdev));
    this.waiters.add(conn);
    onExit(tg, (s) => {
      this.ttys.delete(tg.pid);
      exited = true;
      this.waiters.delete(conn);
      conn.send({ exit: s });
      conn.close();
    });
    // The exec'd process lives as long as its runsc exec: a client that is
    // killed takes the process with it.
    conn.onClose(() => {
      if (!exited && !tg.exiting) sendToGroup(tg, 9, userInfo(9, 0, 0));
    });
    this.k.makeReady(t);
    conn.send({ ok: true, pid: tg.pid });
  }

  /** network attaches interfaces runsc took over after the hooks ran (boot/netns.ts
   *  takeHookedNetwork): each interface's fd indexes fds. Before start only. */
  private network(req: ControlRequest, fds: number[], conn: Conn): void {
    const cfg = req.network;
    const used = new Set<number>();
    try {
      if (this.started) throw new Error('the container has started');
      if (!cfg || !Array.isArray(cfg.interfaces) || !Array.isArray(cfg.routes)) throw new Error('bad network request');
      const interfaces = cfg.interfaces.map((i) => {
        const fd = fds[i.fd];
        if (fd === undefined || used.has(fd)) throw new Error(`network: no fd ${i.fd} for ${i.name}`);
        used.add(fd);
        return { ...i, fd };
      });
      let dnsRelay = cfg.dnsRelay;
      if (dnsRelay) {
        const fd = fds[dnsRelay.fd];
        if (fd === undefined || used.has(fd)) throw new Error(`network: no fd ${dnsRelay.fd} for the DNS relay`);
        used.add(fd);
        dnsRelay = { ...dnsRelay, fd };
      }
      // The files the hooks rewrote (Docker's resolv.conf) first: the relay is for what they name.
      if (Array.isArray(req.files)) refreshGuestFiles(this.k.vfs, req.files, (m) => this.log.warning(m));
      configureNetwork(this.k, { interfaces, routes: cfg.routes, dnsRelay });
    } catch (e) {
      for (const f of fds) if (!used.has(f)) fs.closeSync(f);
      return conn.send({ error: (e as Error).message });
    }
    for (const f of fds) if (!used.has(f)) fs.closeSync(f);
    conn.send({ ok: true });
  }

  private wait(req: ControlRequest, conn: Conn): void {
    const tg = req.pid !== undefined ? this.k.threadGroups.get(req.pid) : this.initTg;
    if (!tg) return conn.send({ error: `no such process ${req.pid ?? 1}` });
    this.waiters.add(conn);
    onExit(tg, (s) => {
      this.waiters.delete(conn);
      conn.send({ exit: s });
    });
  }

  /** finish answers every waiter still connected once the container is gone:
   *  init's exit killed the processes it did not wait for (SIGKILL). */
  finish(): void {
    for (const c of this.waiters) c.send({ exit: 9 });
    this.waiters.clear();
  }

  private ps(): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (const tg of this.k.threadGroups.values()) {
      const leader = tg.leader;
      const busy = leader.state === TaskState.Running || leader.state === TaskState.Ready;
      const state = tg.zombie ? 'Z' : this.paused ? 'T' : busy ? 'R' : 'S';
      out.push({
        pid: tg.pid, ppid: tg.parent?.pid ?? 0, hostPid: leader.thread.tid, uid: leader.creds.uid, state,
        start: Number(tg.startTime - this.k.bootTime) / 1e9, cmd: (tg.argv.length ? tg.argv : [leader.name]).join(' '),
      });
    }
    return out.sort((a, b) => a.pid - b.pid);
  }

  private pause(): void {
    this.paused = true;
    for (const t of this.k.tasks.values()) {
      if (t.state === TaskState.Running) this.k.platform.interrupt(t.thread);
    }
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const t of this.held) if (t.state !== TaskState.Dead) this.k.makeReady(t);
    this.held.clear();
  }

  private stats(): Record<string, unknown> {
    let threads = 0;
    for (const tg of this.k.threadGroups.values()) threads += tg.tasks.size;
    return { ...cgroupStats(this.cgroupDirs), processes: this.k.threadGroups.size, threads,
      sentry: { rss: process.memoryUsage().rss } };
  }
}

/** GoferSet is the Gofers a sandbox reads its files through. */
interface GoferSet {
  host: GoferHostFS;
  hostRoot: string;
  volumes: VolumeSpec[];
  stop(): void;
}

/** handedGofers connects to the Gofers runsc started and handed over. */
function handedGofers(h: GoferHandoff, log: Log): GoferSet {
  const clients = h.gofers.map((g) => ({
    hostPath: g.hostPath, client: new GoferClient(g.fd, g.hostPath, (why) => log.warning(`gofer for ${g.hostPath}: ${why}`)),
  }));
  // runsc did not wait for them (sandbox/sandbox.ts startContainerGofers): the first round trip does.
  for (const c of clients) {
    try {
      c.client.version();
    } catch {
      clients.forEach((d) => d.client.close());
      throw new Error(`the gofer for ${c.hostPath} did not start`);
    }
  }
  return {
    host: new GoferHostFS(clients), hostRoot: h.hostRoot, volumes: h.volumes,
    // Hanging up ends them; runsc's caller (their parent's reaper) reaps them.
    stop: () => clients.forEach((c) => c.client.close()),
  };
}

/** buildVFS builds the container's root file system and mounts. */
function buildVFS(spec: Spec, bundle: string, log: Log, handoff: GoferHandoff, conf: Config): { vfs: VFS; gofers: GoferSet } {
  const plan = planMounts(spec, bundle);
  for (const n of plan.notes) log.debug(n);
  const gofers = handedGofers(handoff, log);
  // --overlay2=none: the rootfs is the root, its Gofer read-write
  // (sandbox/sandbox.ts). With root.readonly too, the Gofer is read-only and
  // the root still an overlay, so that mount points, file bind mounts and
  // the working directory can be made in memory (runc makes them in the
  // rootfs before it remounts it read-only); the guest can write neither.
  const writeThrough = conf.overlay2 === 'none' && spec.root?.readonly !== true;
  try {
    const vfs = newContainerVFS(plan, { hostRoot: gofers.hostRoot, volumes: gofers.volumes, host: gofers.host, writeThrough,
      cgroup: cgroupLimitsOf(spec.linux?.resources) });
    applyMounts(vfs, plan, writeThrough);
    finishContainerRoot(vfs, spec, plan);
    // runc creates a missing working directory.
    const cwd = spec.process?.cwd ?? '/';
    if (cwd !== '/') mkdirAll(vfs, cwd);
    // root.readonly: like runc, the root becomes read-only once everything
    // is mounted on it. Otherwise writes go to the overlay's in-memory upper
    // layer, never to the bundle (gVisor's overlay, too), or with
    // --overlay2=none to the rootfs.
    if (spec.root?.readonly) (vfs.root as { readonly: boolean }).readonly = true;
    return { vfs, gofers };
  } catch (e) {
    gofers.stop();
    throw e;
  }
}

/** SandboxHandle is a built sandbox whose init waits for `start`. */
export interface SandboxHandle {
  cgroupDirs: string[];
  /** start lets the init process run (what the control socket's start does). */
  start(): void;
  /** kill sends SIGKILL to every process of the container (it then stops). */
  kill(): void;
  /** finished resolves with the container's exit code once everything is torn down. */
  finished: Promise<number>;
}

/** buildSandbox builds the Sentry for the bundle, loads the init process and
 *  serves the control socket; throws (after cleaning up) when it cannot. It
 *  runs in the sandbox process (`runsc boot`), or in `runsc run` itself. */
export function buildSandbox(conf: Config, o: BootOptions): SandboxHandle {
  const log = new Log(openLog(conf), conf.debug, conf.strace);
  let platform: PtracePlatform | null = null;
  let gofers: GoferSet | null = null;
  let stateDirFd = -1;
  let cgroupDirs: string[] = [];
  let sb: Sandbox;
  let server: ControlServer;
  try {
    const spec = loadSpec(o.bundle);
    const rlimits = hostRlimits(); // before the Sentry raises its own
    native.setNofile(1 << 20);
    // runsc launched this process into namespaces of its own with the Gofers' sockets.
    if (o.gofersFd === undefined || o.gofersFd < 0) throw new Error('runsc boot needs --gofers-fd (it is started by runsc create)');
    const handoff = JSON.parse(fs.readFileSync(o.gofersFd, 'utf8')) as GoferHandoff;
    fs.closeSync(o.gofersFd);
    // /proc must name this PID namespace's processes before the stubs start.
    prepareSentry();
    platform = new PtracePlatform({ stubNamespaces: CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS });
    // Every stub is forked from the master stub: what it gets, they all get.
    const master = masterStubPid();
    const warn = (m: string): void => log.warning(m);
    // The creator made the cgroup and spawned this process in it (cgroup.ts).
    const cg = spec.linux?.cgroupsPath;
    if (cg && !o.ignoreCgroups) {
      cgroupDirs = existingCgroup(relativePath(cg, o.systemdCgroup));
      // Except the pids one, where only guest processes count: every stub is forked from the master.
      if (master > 0) joinCgroup(pidsDirs(cgroupDirs), master, warn);
    }
    const oom = spec.process?.oomScoreAdj;
    if (oom !== undefined) {
      for (const pid of [process.pid, master]) {
        try {
          if (pid > 0) fs.writeFileSync(`/proc/${pid}/oom_score_adj`, String(oom));
        } catch (e) {
          warn(`oomScoreAdj ${oom}: ${(e as Error).message}`);
        }
      }
    }
    const built = buildVFS(spec, o.bundle, log, handoff, conf);
    gofers = built.gofers;
    // The spec's memory limit (docker run -m) is the guests' MemTotal and the Sentry's budget.
    const memLimit = Number(spec.linux?.resources?.memory?.limit ?? 0);
    const k = new Kernel({ platform, vfs: built.vfs, log, hostname: spec.hostname ?? os.hostname(),
      memoryLimit: memLimit > 0 ? memLimit : undefined });
    if (spec.domainname) k.domainname = spec.domainname;
    // /proc/self/{uid,gid}_map show the spec's user namespace; oom_score_adj its process.oomScoreAdj.
    const userns = spec.linux?.namespaces?.some((n) => n.type === 'user') ?? false;
    setProcDefaults(k, {
      uidMap: userns ? spec.linux?.uidMappings : undefined,
      gidMap: userns ? spec.linux?.gidMappings : undefined,
      oomScoreAdj: spec.process?.oomScoreAdj,
    });
    k.alwaysPoll = true;
    installSignals(k);
    if (conf.network === 'host') enableHostNetwork(k);
    // The interfaces runsc took over from the spec's network namespace (boot/netns.ts).
    if (handoff.network && conf.network === 'sandbox') configureNetwork(k, handoff.network);
    sb = new Sandbox(k, log, spec, cgroupDirs);
    const stdio = (o.stdio ?? [0, 1, 2]).map((fd) => {
      try {
        fs.fstatSync(fd);
        return fd;
      } catch {
        return -1;
      }
    });
    const init = startProcess(k, spec.process!, { init: true, rlimits, stdio, ownFds: false, netRaw: conf.netRaw });
    sb.setInit(init);
    server = new ControlServer(o.stateDir, (req, fds, conn) => sb.handle(req, fds, conn));
    // From here on the Sentry opens no path (but its exit record, in its state directory).
    stateDirFd = fs.openSync(o.stateDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    confineSentry({ noSeccomp: conf.noSeccomp, hostNetwork: conf.network === 'host', stateDirFd });
  } catch (e) {
    platform?.shutdown();
    gofers?.stop();
    reapChildren();
    throw e;
  }
  const k = sb.k;
  const fgTty = terminalKey(sb.spec, o.stdio ?? [0, 1, 2]);
  // This process leads the terminal's session (terminalKey), so ^Z is the guest's too.
  const unforward = forwardHostSignals(k, fgTty);
  const stopAll = (): void => {
    sb.finish();
    server.close();
    platform!.shutdown();
    gofers!.stop();
    reapChildren();
    unforward();
  };
  const finished = k.run().then((status) => {
    const code = exitCode(status);
    const rec: ExitRecord = { status, code, time: new Date().toISOString() };
    try {
      writeExitRecord(stateDirFd, JSON.stringify(rec) + '\n');
    } catch (e) {
      log.warning(`recording the exit status: ${String(e)}`);
    }
    stopAll();
    return code;
  });
  const kill = (): void => {
    for (const tg of [...k.threadGroups.values()]) if (!tg.exiting) sendToGroup(tg, 9, userInfo(9, 0, 0));
  };
  return { cgroupDirs, start: () => sb.startInit(), kill, finished };
}

/** bootContainer is `runsc boot`: builds the sandbox, reports on readyFd, and
 *  resolves with the container's exit code. */
export async function bootContainer(conf: Config, o: BootOptions): Promise<number> {
  process.chdir('/');
  let h: SandboxHandle;
  try {
    h = buildSandbox(conf, o);
  } catch (e) {
    sendReady(o.readyFd, { error: e instanceof Error ? e.message : String(e) });
    return e instanceof ExecFailure ? 127 : 1;
  }
  sendReady(o.readyFd, { ok: true, cgroupDirs: h.cgroupDirs });
  return h.finished;
}
