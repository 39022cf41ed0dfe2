// Process and thread syscalls: clone family, execve, exit, wait, ids,
// process groups and sessions.

import * as linuxerr from '../../../abi/linux/errno.js';
import { SIGCHLD, SIGCONT } from '../../../abi/linux/signal.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW } from '../../../abi/linux/file.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { exitEventStop, waitTracees } from '../../kernel/ptrace.js';
import * as signals from '../../kernel/signals.js';
import * as kclone from '../../kernel/task_clone.js';
import { execve as doExecve } from '../../kernel/task_exec.js';
import { exitGroup as doExitGroup, exitStatusCode, exitTask, reap } from '../../kernel/task_exit.js';
import type { Task } from '../../kernel/task.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';
import { EVENT_IN } from '../../vfs/waiter.js';
import type { SyscallArgs, SyscallEntries, SyscallResult } from '../syscalls.js';
import { CtrlNoReturn, partial, supported } from '../syscalls.js';
import { pidfdProcess } from './sys_signal.js';

const WNOHANG = 1;
const WUNTRACED = 2;
const WEXITED = 4;
const WCONTINUED = 8;
const WNOWAIT = 0x01000000;
const __WNOTHREAD = 0x20000000;
const __WALL = 0x40000000;
const __WCLONE = 0x80000000;
const P_ALL = 0;
const P_PID = 1;
const P_PGID = 2;
const P_PIDFD = 3;

/** clone implements Linux syscall clone(2) (x86-64 argument order). */
export function clone(t: Task, a: SyscallArgs): number | Promise<number> {
  const flags = a.uint(0);
  return kclone.clone(t, {
    flags: flags & ~0xff,
    exitSignal: flags & 0xff,
    stack: a.ptr(1),
    parentTid: a.ptr(2),
    childTid: a.ptr(3),
    tls: a.ptr(4),
  });
}

/** clone3 implements Linux syscall clone3(2). */
export function clone3(t: Task, a: SyscallArgs): number | Promise<number> {
  const addr = a.ptr(0);
  const size = a.sizeT(1);
  if (size < 64) throw linuxerr.EINVAL;
  const b = t.mm.copyIn(addr, 88 > size ? 64 : 88);
  const v = new DataView(b.buffer);
  const u = (o: number) => Number(v.getBigUint64(o, true));
  const flags = u(0);
  const exitSignal = u(32);
  if (exitSignal > 64) throw linuxerr.EINVAL;
  const stack = u(40);
  const stackSize = u(48);
  if (b.length > 64 && u(64) !== 0) throw linuxerr.EINVAL; // set_tid
  if (flags & kclone.CLONE_PIDFD) throw linuxerr.EINVAL; // pidfds: not yet
  return kclone.clone(t, {
    flags: flags >>> 0,
    exitSignal,
    stack: stack ? stack + stackSize : 0,
    parentTid: u(24),
    childTid: u(16),
    tls: u(56),
  });
}

/** fork implements Linux syscall fork(2). */
export function fork(t: Task): number | Promise<number> {
  return kclone.clone(t, { flags: 0, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0 });
}

/** vfork implements Linux syscall vfork(2). */
export function vfork(t: Task): number | Promise<number> {
  return kclone.clone(t, {
    flags: kclone.CLONE_VM | kclone.CLONE_VFORK, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0,
  });
}

/** execve implements Linux syscall execve(2). */
export function execve(t: Task, a: SyscallArgs): SyscallResult {
  const path = t.mm.copyInString(a.ptr(0));
  const argv = t.mm.copyInStringVec(a.ptr(1));
  const envp = t.mm.copyInStringVec(a.ptr(2));
  return doExecve(t, path, argv, envp);
}

/** execveat implements Linux syscall execveat(2). */
export function execveat(t: Task, a: SyscallArgs): SyscallResult {
  const dirfd = a.int(0);
  const path = t.mm.copyInString(a.ptr(1));
  const argv = t.mm.copyInStringVec(a.ptr(2));
  const envp = t.mm.copyInStringVec(a.ptr(3));
  const flags = a.int(4);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw linuxerr.EINVAL;
  const emptyPath = (flags & AT_EMPTY_PATH) !== 0 && path === '';
  let fdCloexec = false;
  if (dirfd !== AT_FDCWD && !path.startsWith('/')) fdCloexec = t.fdTable.getCloexec(dirfd);
  return doExecve(t, path, argv, envp, { dirfd, emptyPath, noFollow: (flags & AT_SYMLINK_NOFOLLOW) !== 0, fdCloexec });
}

/** exit implements Linux syscall exit(2): this thread only. */
export function exit(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const status = exitStatusCode(a.int(0));
  // A tracee with PTRACE_O_TRACEEXIT stops first (PTRACE_EVENT_EXIT).
  const stop = t.ptrace ? exitEventStop(t, status) : null;
  if (stop) return stop.then(() => exit2(t, status));
  return exit2(t, status);
}

function exit2(t: Task, status: number): SyscallResult {
  exitTask(t, status);
  return CtrlNoReturn;
}

/** exit_group implements Linux syscall exit_group(2). */
export function exitGroup(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const status = exitStatusCode(a.int(0));
  const stop = t.ptrace ? exitEventStop(t, t.tg.exiting ? t.tg.exitStatus : status) : null;
  if (stop) return stop.then(() => exitGroup2(t, status));
  return exitGroup2(t, status);
}

function exitGroup2(t: Task, status: number): SyscallResult {
  doExitGroup(t, status);
  return CtrlNoReturn;
}

/** Selects children by process; tid is set when a tracee thread is tested. */
type Selector = (c: ThreadGroup, tid?: number) => boolean;

/** Waited is a child's state change a wait reports. */
interface Waited {
  /** The child process; null for a tracee's report (ptrace). */
  c: ThreadGroup | null;
  /** The reported pid (a tracee's tid) and uid. */
  pid: number;
  uid: number;
  /** CLD_EXITED/KILLED/DUMPED, CLD_STOPPED or CLD_CONTINUED. */
  code: number;
  /** The wait status (wait4) and the si_status (waitid). */
  status: number;
  siStatus: number;
}

/** findWaitable returns the first child matching sel with a state change that
 *  options asks for (exit, then stop, then continue), consuming a stop or
 *  continue report unless WNOWAIT; null if none; ECHILD when no child matches. */
function findWaitable(t: Task, sel: Selector, options: number): Waited | null {
  let any = false;
  const consume = (options & WNOWAIT) === 0;
  for (const c of t.tg.children) {
    if (!sel(c)) continue;
    any = true;
    const pid = c.pid;
    const uid = c.leader.creds.uid;
    if (c.zombie) {
      if (!(options & WEXITED)) continue;
      const st = c.exitStatus;
      const s = st & 0x7f;
      const code = s === 0 ? signals.CLD_EXITED : (st & 0x80) ? signals.CLD_DUMPED : signals.CLD_KILLED;
      return { c, pid, uid, code, status: st, siStatus: s === 0 ? (st >> 8) & 0xff : s };
    }
    if (options & WUNTRACED) {
      const st = signals.stopReport(c, consume);
      if (st) return { c, pid, uid, code: signals.CLD_STOPPED, status: st, siStatus: st >> 8 };
    }
    if ((options & WCONTINUED) && signals.continueReport(c, consume)) {
      return { c, pid, uid, code: signals.CLD_CONTINUED, status: 0xffff, siStatus: SIGCONT };
    }
  }
  // Tracees are waitable by their tracer whatever __WALL/__WCLONE say (ptrace stops need no WUNTRACED).
  const tw = waitTracees(t, (tid, tg) => sel(tg, tid), (options & __WNOTHREAD) !== 0, (options & WEXITED) !== 0, consume);
  if (tw) return { c: null, ...tw };
  if (tw === null) any = true;
  if (!any) throw linuxerr.ECHILD;
  return null;
}

/** waitFor runs find until it reports, blocking on the process's child events. */
function waitFor<R>(t: Task, nohang: boolean, find: () => R | null, none: () => R): R | Promise<R> {
  const r = find();
  if (r !== null) return r;
  if (nohang) return none();
  return (async () => {
    for (;;) {
      await t.block(t.tg.childEvents, EVENT_IN);
      const r2 = find();
      if (r2 !== null) return r2;
    }
  })();
}

function pidSelector(t: Task, pid: number): Selector {
  if (pid > 0) return (c, tid) => (tid ?? c.pid) === pid;
  if (pid === 0) return (c) => c.pgid === t.tg.pgid;
  if (pid === -1) return () => true;
  return (c) => c.pgid === -pid;
}

/** wait4 implements Linux syscall wait4(2): exited children, and stopped
 *  (WUNTRACED) or continued (WCONTINUED) ones. */
export function wait4(t: Task, a: SyscallArgs): number | Promise<number> {
  const pid = a.int(0);
  const statusAddr = a.ptr(1);
  const options = a.int(2);
  const rusage = a.ptr(3);
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) throw linuxerr.EINVAL;
  const sel = pidSelector(t, pid);
  return waitFor(t, (options & WNOHANG) !== 0, () => {
    const w = findWaitable(t, sel, options | WEXITED);
    if (!w) return null;
    if (statusAddr) t.mm.writeI32(statusAddr, w.status);
    if (rusage) t.mm.copyOut(rusage, new Uint8Array(144));
    if (w.c && w.code !== signals.CLD_STOPPED && w.code !== signals.CLD_CONTINUED) reap(w.c);
    return w.pid;
  }, () => 0);
}

/** waitid implements Linux syscall waitid(2). */
export function waitid(t: Task, a: SyscallArgs): number | Promise<number> {
  const idtype = a.int(0);
  const id = a.int(1);
  const infop = a.ptr(2);
  const options = a.int(3);
  const rusage = a.ptr(4);
  if (options & ~(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE)) {
    throw linuxerr.EINVAL;
  }
  if (!(options & (WEXITED | WUNTRACED | WCONTINUED))) throw linuxerr.EINVAL;
  let sel: Selector;
  switch (idtype) {
    case P_ALL: sel = () => true; break;
    case P_PID: sel = (c, tid) => (tid ?? c.pid) === id; break;
    case P_PGID: sel = (c) => c.pgid === (id === 0 ? t.tg.pgid : id); break;
    case P_PIDFD: {
      const target = pidfdProcess(t, id);
      sel = (c) => c === target;
      break;
    }
    default: throw linuxerr.EINVAL;
  }
  // si_signo, si_errno, si_code, si_pid, si_uid, si_status: zero when nothing is reported (WNOHANG).
  const report = (w: Waited | null): void => {
    if (!infop) return;
    const info = new DataView(new ArrayBuffer(28));
    if (w) {
      info.setInt32(0, SIGCHLD, true);
      info.setInt32(8, w.code, true);
      info.setInt32(16, w.pid, true);
      info.setUint32(20, w.uid, true);
      info.setInt32(24, w.siStatus, true);
    }
    t.mm.copyOut(infop, new Uint8Array(info.buffer));
  };
  return waitFor(t, (options & WNOHANG) !== 0, () => {
    const w = findWaitable(t, sel, options);
    if (!w) return null;
    report(w);
    if (rusage) t.mm.copyOut(rusage, new Uint8Array(144));
    if (w.c && w.code !== signals.CLD_STOPPED && w.code !== signals.CLD_CONTINUED && !(options & WNOWAIT)) reap(w.c);
    return 0;
  }, () => {
    report(null);
    return 0;
  });
}

/** getpid implements Linux syscall getpid(2). */
export function getpid(t: Task): number {
  return t.tg.pid;
}

/** getppid implements Linux syscall getppid(2). */
export function getppid(t: Task): number {
  return t.tg.parent ? t.tg.parent.pid : 0;
}

/** gettid implements Linux syscall gettid(2). */
export function gettid(t: Task): number {
  return t.tid;
}

/** set_tid_address implements Linux syscall set_tid_address(2). */
export function setTidAddress(t: Task, a: SyscallArgs): number {
  t.clearChildTid = a.ptr(0);
  return t.tid;
}

function processOf(t: Task, pid: number): ThreadGroup {
  if (pid === 0) return t.tg;
  const tg = t.kernel.threadGroups.get(pid);
  if (!tg) throw linuxerr.ESRCH;
  return tg;
}

/** getpgid implements Linux syscall getpgid(2). */
export function getpgid(t: Task, a: SyscallArgs): number {
  return processOf(t, a.int(0)).pgid;
}

/** getpgrp implements Linux syscall getpgrp(2). */
export function getpgrp(t: Task): number {
  return t.tg.pgid;
}

/** setpgid implements Linux syscall setpgid(2). */
export function setpgid(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  let pgid = a.int(1);
  if (pgid < 0) throw linuxerr.EINVAL;
  const target = processOf(t, pid);
  if (target !== t.tg && target.parent !== t.tg) throw linuxerr.ESRCH;
  if (target.sid !== t.tg.sid) throw linuxerr.EPERM;
  if (target.sid === target.pid) throw linuxerr.EPERM; // a session leader
  if (pgid === 0) pgid = target.pid;
  if (pgid !== target.pid) {
    let exists = false;
    for (const g of t.kernel.threadGroups.values()) if (g.pgid === pgid && g.sid === t.tg.sid) exists = true;
    if (!exists) throw linuxerr.EPERM;
  }
  target.pgid = pgid;
  return 0;
}

/** getsid implements Linux syscall getsid(2). */
export function getsid(t: Task, a: SyscallArgs): number {
  return processOf(t, a.int(0)).sid;
}

/** setsid implements Linux syscall setsid(2). */
export function setsid(t: Task): number {
  const tg = t.tg;
  for (const g of t.kernel.threadGroups.values()) if (g.pgid === tg.pid) throw linuxerr.EPERM;
  tg.sid = tg.pid;
  tg.pgid = tg.pid;
  return tg.pid;
}

export const syscalls: SyscallEntries = {
  [SYSNO.clone]: supported('clone', clone),
  [SYSNO.clone3]: partial('clone3', clone3, 'CLONE_PIDFD and set_tid are not supported.'),
  [SYSNO.fork]: supported('fork', fork),
  [SYSNO.vfork]: supported('vfork', vfork),
  [SYSNO.execve]: supported('execve', execve),
  [SYSNO.execveat]: supported('execveat', execveat),
  [SYSNO.exit]: supported('exit', exit),
  [SYSNO.exit_group]: supported('exit_group', exitGroup),
  [SYSNO.wait4]: partial('wait4', wait4, 'rusage is zero.'),
  [SYSNO.waitid]: partial('waitid', waitid, 'rusage is zero.'),
  [SYSNO.getpid]: supported('getpid', getpid),
  [SYSNO.getppid]: supported('getppid', getppid),
  [SYSNO.gettid]: supported('gettid', gettid),
  [SYSNO.set_tid_address]: supported('set_tid_address', setTidAddress),
  [SYSNO.getpgid]: supported('getpgid', getpgid),
  [SYSNO.getpgrp]: supported('getpgrp', getpgrp),
  [SYSNO.setpgid]: supported('setpgid', setpgid),
  [SYSNO.getsid]: supported('getsid', getsid),
  [SYSNO.setsid]: supported('setsid', setsid),
};
