// Processes of a container inside the Sentry: the init process (process in
// config.json) and those `runsc exec` adds. Each is a new thread group in the
// sandbox's kernel with the credentials, limits, working directory and stdio
// the OCI process asks for, then execve'd as execvp(3) would (PATH search).

import { SIGCHLD } from '../../abi/linux/signal.js';
import * as linuxerr from '../../abi/linux/errno.js';
import { Credentials } from '../../sentry/kernel/creds.js';
import { FDTable } from '../../sentry/kernel/fd_table.js';
import type { Kernel } from '../../sentry/kernel/kernel.js';
import { Task } from '../../sentry/kernel/task.js';
import { execve } from '../../sentry/kernel/task_exec.js';
import { exitStatusCode, exitTask } from '../../sentry/kernel/task_exit.js';
import { ThreadGroup, newSigactions } from '../../sentry/kernel/thread_group.js';
import type { Rlimits } from '../../sentry/kernel/thread_group.js';
import { exitQueue } from '../../sentry/kernel/signals.js';
import { MemoryManager } from '../../sentry/mm/mm.js';
import * as fs from 'node:fs';
import { isatty } from 'node:tty';
import { hostFDFlags, newHostFD } from '../../sentry/fsimpl/host/host_fd.js';
import { newConsoleFD } from '../../sentry/fsimpl/devpts/console.js';
import { ttyState } from '../../sentry/fsimpl/host/tty.js';
import type { FileDescription } from '../../sentry/vfs/file_description.js';
import { FSContext } from '../../sentry/vfs/fs_context.js';
import { kernelCaller } from '../../sentry/vfs/caller.js';
import * as linux from '../../abi/linux/file.js';
import { EVENT_IN } from '../../sentry/vfs/waiter.js';
import { capMask, rlimitIndex } from '../specutils/spec.js';
import type { Process } from '../specutils/spec.js';

const CAP_NET_RAW = 13n;

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** credentialsFor builds the credentials process runs with, as they are after
 *  runc has set them and execve'd: the Sentry's execve does not transform
 *  capability sets, so the transformation of a file without capabilities is
 *  applied here. Root gets permitted = effective = bounding | inheritable
 *  (| ambient); another uid keeps only its ambient set. Unknown capability
 *  names are returned in unknown (runc ignores them too). Without netRaw
 *  (runsc --net-raw) CAP_NET_RAW is removed from every set, as gVisor does. */
export function credentialsFor(p: Process, unknown: string[] = [], netRaw = false): Credentials {
  const c = new Credentials();
  const u = p.user;
  c.uid = c.euid = c.suid = c.fsuid = u.uid;
  c.gid = c.egid = c.sgid = c.fsgid = u.gid;
  c.groups = [...(u.additionalGids ?? [])];
  c.noNewPrivs = p.noNewPrivileges === true;
  const caps = p.capabilities;
  if (caps) {
    const bounding = capMask(caps.bounding, unknown);
    const inheritable = capMask(caps.inheritable, unknown);
    const permitted = capMask(caps.permitted, unknown);
    // An ambient capability must be permitted and inheritable (prctl(2)).
    const ambient = capMask(caps.ambient, unknown) & permitted & inheritable;
    capMask(caps.effective, unknown);
    c.capBounding = bounding;
    c.capInheritable = inheritable;
    c.capAmbient = ambient;
    if (u.uid === 0) {
      c.capPermitted = bounding | inheritable | ambient;
      c.capEffective = c.capPermitted;
    } else {
      c.capPermitted = ambient;
      c.capEffective = ambient;
    }
  } else if (u.uid !== 0) {
    c.capPermitted = c.capEffective = 0n;
  }
  if (netRaw) return c;
  // Raw sockets let a guest craft any packet: without --net-raw no guest
  // holds CAP_NET_RAW, so socket(SOCK_RAW) fails with EPERM (some programs
  // then fall back to ping sockets; busybox ping does not).
  const noRaw = ~(1n << CAP_NET_RAW);
  c.capBounding &= noRaw;
  c.capPermitted &= noRaw;
  c.capEffective &= noRaw;
  c.capInheritable &= noRaw;
  c.capAmbient &= noRaw;
  return c;
}

/** rlimitsFor applies process.rlimits over base (a copy). */
export function rlimitsFor(p: Process, base: Rlimits): Rlimits {
  const r = base.map(([s, h]) => [s, h] as [number, number]);
  for (const l of p.rlimits ?? []) {
    const i = rlimitIndex(l.type);
    // 2^64-1 is RLIM_INFINITY in the spec's uint64; JSON gives us a float.
    const v = (n: number) => (n >= 2 ** 63 ? Infinity : n);
    if (i >= 0) r[i] = [v(l.soft), v(l.hard)];
  }
  return r;
}

/** envPath is PATH from env (the process's environment), or the default. */
function envPath(env: string[]): string {
  for (const e of env) if (e.startsWith('PATH=')) return e.slice(5);
  return DEFAULT_PATH;
}

/** execvp execs args[0] in t, searching PATH when it has no slash. */
function execvp(t: Task, args: string[], env: string[]): void {
  const file = args[0];
  if (file.includes('/')) {
    execve(t, file, args, env);
    return;
  }
  let denied: linuxerr.SyscallError | null = null;
  for (const dir of envPath(env).split(':')) {
    const p = `${dir || '.'}/${file}`;
    try {
      execve(t, p, args, env);
      return;
    } catch (e) {
      if (e === linuxerr.EACCES) denied = linuxerr.EACCES;
      else if (e !== linuxerr.ENOENT && e !== linuxerr.ENOTDIR) throw e;
    }
  }
  throw denied ?? linuxerr.ENOENT;
}

/** homeOf finds uid's home directory in the container's /etc/passwd ("/" if none). */
function homeOf(k: Kernel, uid: number): string {
  const c = kernelCaller();
  c.fs.root = c.fs.cwd = k.vfs.rootLoc;
  let text = '';
  try {
    const f = k.vfs.openAt(c, linux.AT_FDCWD, '/etc/passwd', linux.O_RDONLY, 0);
    try {
      const buf = new Uint8Array(64 * 1024);
      let off = 0;
      for (let n; off < buf.length && (n = f.read(buf.subarray(off), off)) > 0;) off += n;
      text = Buffer.from(buf.buffer, 0, off).toString('utf8');
    } finally {
      f.decRef();
    }
  } catch {
    return '/';
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 7 && Number(f[2]) === uid && f[5]) return f[5];
  }
  return '/';
}

/** ExecFailure is a process that could not be started (binary missing, not executable...). */
export class ExecFailure extends Error {
  constructor(readonly file: string, readonly err: linuxerr.SyscallError) {
    super(err === linuxerr.ENOENT
      ? `exec: "${file}": executable file not found in $PATH`
      : `exec: "${file}": ${err.message} (${err.name})`);
  }
}

export interface NewProcessOptions {
  /** init makes the process the kernel's init (PID 1 of the container). */
  init: boolean;
  /** keepEnv passes env exactly (runsc do), without runc's HOME default. */
  keepEnv?: boolean;
  rlimits: Rlimits;
  /** stdio: host fds for guest fds 0, 1, 2 (-1: left closed). */
  stdio: number[];
  /** netRaw: the process keeps CAP_NET_RAW if its capabilities give it (runsc --net-raw). */
  netRaw?: boolean;
  /** ownFds: the Sentry closes the host fds when the guest's files go (exec'd
   *  processes: received fds); otherwise they are the sandbox process's own stdio. */
  ownFds: boolean;
}

/** startProcess creates p as a new process with no parent (ppid 0, as a
 *  process runc execs into a container) and execs it; the caller makes it
 *  ready. Throws ExecFailure when the program cannot be executed. */
export function startProcess(k: Kernel, p: Process, o: NewProcessOptions): Task {
  const thread = k.platform.newAddressSpace();
  const tg = new ThreadGroup(k.allocTid(), null, newSigactions(), rlimitsFor(p, o.rlimits), SIGCHLD);
  if (o.init) k.init = tg;
  k.threadGroups.set(tg.pid, tg);
  const t = new Task(k, tg.pid, tg, thread, new MemoryManager(thread.as), new FDTable(), new FSContext(), credentialsFor(p, [], o.netRaw === true));
  tg.leader = t;
  tg.tasks.add(t);
  k.tasks.set(t.tid, t);
  k.vfs.initFSContext(t.fs, p.cwd);
  t.fs.umask = p.user.umask ?? 0o022;
  // One description per terminal, as runc dups the pty slave onto 0, 1, 2:
  // the Sentry reads a terminal through one host fd that must outlive the others.
  const ttys = new Map<number, { file: FileDescription; hostFd: number }>();
  const created: FileDescription[] = [];
  o.stdio.forEach((hostFd, i) => {
    if (hostFd < 0) return;
    const st = fs.fstatSync(hostFd, { bigint: true });
    const rdev = (Number(st.mode) & linux.S_IFMT) === linux.S_IFCHR && isatty(hostFd) ? Number(st.rdev) : -1;
    const shared = rdev >= 0 ? ttys.get(rdev) : undefined;
    if (shared) {
      t.fdTable.setAt(i, shared.file, false);
      // A received duplicate of the terminal is not needed (closed once).
      if (o.ownFds && hostFd !== shared.hostFd && o.stdio.indexOf(hostFd) === i) fs.closeSync(hostFd);
      return;
    }
    const hopts = o.ownFds ? { owned: true } : { isStdio: true };
    // The terminal of a process.terminal process shows as /dev/pts/N, as runc's does.
    const file = rdev >= 0 && p.terminal
      ? newConsoleFD(k.vfs, hostFd, hostFDFlags(hostFd), hopts, p.user.uid, tg.sid)
      : newHostFD(hostFd, hostFDFlags(hostFd), hopts);
    t.fdTable.setAt(i, file, false);
    created.push(file);
    if (rdev >= 0) {
      ttys.set(rdev, { file, hostFd });
      // The process leads its own session (no parent) with this terminal as
      // its controlling one, in the foreground as after runc's setsid and
      // TIOCSCTTY; an interactive shell spins on SIGTTIN otherwise.
      if (p.terminal) ttyState(String(rdev)).fgPgid = tg.pgid;
    }
  });
  for (const f of created) f.decRef();
  const env = [...(p.env ?? [])];
  // As runc: a process without HOME gets its user's home directory.
  if (!o.keepEnv && !env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${homeOf(k, p.user.uid)}`);
  try {
    execvp(t, p.args ?? [], env);
  } catch (e) {
    // Nothing ran: the process ends as a shell reports a failed exec.
    exitTask(t, exitStatusCode(e === linuxerr.ENOENT ? 127 : 126));
    if (e instanceof linuxerr.SyscallError) throw new ExecFailure(p.args?.[0] ?? '', e);
    throw e;
  }
  return t;
}

/** onExit calls fn with tg's wait status once its last thread has exited. */
export function onExit(tg: ThreadGroup, fn: (status: number) => void): void {
  const check = (): void => {
    if (tg.exiting && tg.tasks.size === 0) {
      fn(tg.exitStatus);
      return;
    }
    // exitQueue hears of every process exit; wait for the next one. The
    // queue is being notified right now: registering again at once would
    // be visited by the same notify, forever.
    exitQueue.register(EVENT_IN, () => queueMicrotask(check));
  };
  check();
}
