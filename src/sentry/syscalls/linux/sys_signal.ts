// Signal syscalls: dispositions, masks, the alternate stack, sending,
// waiting, rt_sigreturn and restart_syscall, signalfd and pidfds. Sending is
// kernel/signals.ts; delivery (handlers, stops, restarts) is
// kernel/signal_delivery.ts, on each task's way back to guest code.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as sig from '../../../abi/linux/signal.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import * as linux from '../../../abi/linux/file.js';
import { PidFD, pidfdOf } from '../../fsimpl/pidfd/pidfd.js';
import { SignalFD, signalfdOf } from '../../fsimpl/signalfd/signalfd.js';
import { sigreturn } from '../../kernel/signal_delivery.js';
import * as signals from '../../kernel/signals.js';
import type { SigInfo } from '../../kernel/signals.js';
import type { Task } from '../../kernel/task.js';
import { TaskState } from '../../kernel/task.js';
import type { SigAction, ThreadGroup } from '../../kernel/thread_group.js';
import { monotonicNs, readTimespec } from '../../kernel/time.js';
import { FileDescription } from '../../vfs/file_description.js';
import { EVENT_IN } from '../../vfs/waiter.js';
import type { SyscallArgs, SyscallEntries, SyscallResult } from '../syscalls.js';
import { CtrlNoReturn, partial, supported } from '../syscalls.js';

const SIGSET_SIZE = 8;
/** sa_flags bits Linux keeps (UAPI_SA_FLAGS on x86-64); others read back as 0. */
const SA_EXPOSE_TAGBITS = 0x800;
const UAPI_SA_FLAGS = sig.SA_NOCLDSTOP | sig.SA_NOCLDWAIT | sig.SA_SIGINFO | sig.SA_ONSTACK | sig.SA_RESTART |
  sig.SA_NODEFER | sig.SA_RESETHAND | SA_EXPOSE_TAGBITS | sig.SA_RESTORER;

export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
export const SS_AUTODISARM = 0x8000_0000;
export const MINSIGSTKSZ = 2048;
const INT_MIN = -0x8000_0000;
const MAX_WAIT_MS = 2 ** 31 - 1;

function validSignal(s: number): boolean {
  return s >= 1 && s <= sig.NSIG;
}

/** decodeSigaction reads struct sigaction (x86-64 kernel layout: handler, flags, restorer, mask). */
export function decodeSigaction(b: Uint8Array): SigAction {
  const v = new DataView(b.buffer, b.byteOffset, sig.SIZEOF_SIGACTION);
  return {
    handler: v.getBigUint64(0, true),
    flags: Number(v.getBigUint64(8, true) & BigInt(UAPI_SA_FLAGS)) >>> 0,
    restorer: v.getBigUint64(16, true),
    mask: v.getBigUint64(24, true) & ~sig.UNBLOCKABLE,
  };
}

export function encodeSigaction(a: SigAction): Uint8Array {
  const b = new Uint8Array(sig.SIZEOF_SIGACTION);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, a.handler, true);
  v.setBigUint64(8, BigInt(a.flags >>> 0), true);
  v.setBigUint64(16, a.restorer, true);
  v.setBigUint64(24, a.mask, true);
  return b;
}

function readSigset(t: Task, addr: number): bigint {
  return new DataView(t.mm.copyIn(addr, SIGSET_SIZE).buffer).getBigUint64(0, true);
}

function writeSigset(t: Task, addr: number, set: bigint, size = SIGSET_SIZE): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, set, true);
  t.mm.copyOut(addr, b.subarray(0, size));
}

/** rt_sigaction implements Linux syscall rt_sigaction(2). */
export function rtSigaction(t: Task, a: SyscallArgs): number {
  const s = a.int(0);
  const actAddr = a.ptr(1);
  const oldAddr = a.ptr(2);
  if (a.sizeT(3) !== SIGSET_SIZE) throw linuxerr.EINVAL;
  if (!validSignal(s)) throw linuxerr.EINVAL;
  const next = actAddr ? decodeSigaction(t.mm.copyIn(actAddr, sig.SIZEOF_SIGACTION)) : null;
  if (next && (s === sig.SIGKILL || s === sig.SIGSTOP)) throw linuxerr.EINVAL;
  const tg = t.tg;
  const old = { ...tg.sigactions[s] };
  if (next) {
    tg.sigactions[s] = next;
    signals.discardIgnored(tg, s);
  }
  if (oldAddr) t.mm.copyOut(oldAddr, encodeSigaction(old));
  return 0;
}

/** rt_sigprocmask implements Linux syscall rt_sigprocmask(2). */
export function rtSigprocmask(t: Task, a: SyscallArgs): number {
  const how = a.int(0);
  const setAddr = a.ptr(1);
  const oldAddr = a.ptr(2);
  if (a.sizeT(3) !== SIGSET_SIZE) throw linuxerr.EINVAL;
  const old = t.sigmask;
  if (setAddr) {
    const set = readSigset(t, setAddr) & ~sig.UNBLOCKABLE;
    switch (how) {
      case sig.SIG_BLOCK: t.sigmask = old | set; break;
      case sig.SIG_UNBLOCK: t.sigmask = old & ~set; break;
      case sig.SIG_SETMASK: t.sigmask = set; break;
      default: throw linuxerr.EINVAL;
    }
  }
  if (oldAddr) writeSigset(t, oldAddr, old);
  // Signals this unblocks are delivered on the way back to guest code.
  return 0;
}

/** sigaltstack implements Linux syscall sigaltstack(2). */
export function sigaltstack(t: Task, a: SyscallArgs): number {
  const ssAddr = a.ptr(0);
  const ossAddr = a.ptr(1);
  const cur = t.altStack;
  const sp = t.regs.rsp;
  const onStack = !(cur.flags & SS_AUTODISARM) && sp > cur.sp && sp - cur.sp <= cur.size;
  const oldFlags = (cur.size === 0 ? SS_DISABLE : onStack ? SS_ONSTACK : 0) | (cur.flags & SS_AUTODISARM);
  const old = { sp: cur.sp, size: cur.size, flags: oldFlags };
  if (ssAddr) {
    const v = new DataView(t.mm.copyIn(ssAddr, 24).buffer);
    let nsp = Number(v.getBigUint64(0, true));
    const flags = v.getUint32(8, true);
    let size = Number(v.getBigUint64(16, true));
    if (onStack) throw linuxerr.EPERM;
    const mode = (flags & ~SS_AUTODISARM) >>> 0;
    if (mode !== SS_DISABLE && mode !== SS_ONSTACK && mode !== 0) throw linuxerr.EINVAL;
    if (mode === SS_DISABLE) {
      nsp = 0;
      size = 0;
    } else if (size < MINSIGSTKSZ) {
      throw linuxerr.ENOMEM;
    }
    t.altStack = { sp: nsp, size, flags };
  }
  if (ossAddr) {
    const b = new Uint8Array(24);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, BigInt(old.sp), true);
    v.setUint32(8, old.flags >>> 0, true);
    v.setBigUint64(16, BigInt(old.size), true);
    t.mm.copyOut(ossAddr, b);
  }
  return 0;
}

/** rt_sigpending implements Linux syscall rt_sigpending(2): pending signals that are blocked. */
export function rtSigpending(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(0);
  const size = a.sizeT(1);
  if (size > SIGSET_SIZE) throw linuxerr.EINVAL;
  writeSigset(t, addr, signals.pendingOf(t) & t.sigmask, size);
  return 0;
}

/** waitForever blocks until the task is interrupted (then rejects, ERESTARTSYS for a signal). */
async function waitForever(t: Task): Promise<never> {
  for (;;) await t.sleep(MAX_WAIT_MS);
}

/** suspend waits for a signal with t's current mask; it fails with
 *  ERESTARTNOHAND: EINTR once a handler has run, else the call restarts. */
function suspend(t: Task): Promise<number> | number {
  if (signals.signalPending(t)) throw linuxerr.ERESTARTNOHAND;
  return waitForever(t).catch((e: unknown) => {
    throw e === linuxerr.ERESTARTSYS ? linuxerr.ERESTARTNOHAND : e;
  });
}

/** rt_sigsuspend implements Linux syscall rt_sigsuspend(2): waits with a temporary
 *  mask, which stays in force until a handler frame has recorded the old one. */
export function rtSigsuspend(t: Task, a: SyscallArgs): Promise<number> | number {
  if (a.sizeT(1) !== SIGSET_SIZE) throw linuxerr.EINVAL;
  const mask = readSigset(t, a.ptr(0));
  signals.setTemporaryMask(t, mask);
  return suspend(t);
}

/** pause implements Linux syscall pause(2). */
export function pause(t: Task): Promise<number> | number {
  return suspend(t);
}

/** waitSignal resolves true when a signal arrives for t, false at deadline (monotonic ns, null: none). */
function waitSignal(t: Task, deadline: bigint | null): Promise<boolean> {
  const q = signals.signalQueue(t);
  if (t.state === TaskState.Dead) return Promise.reject(linuxerr.EINTR);
  return new Promise<boolean>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const done = () => {
      unregister();
      if (timer) clearTimeout(timer);
      t.interrupt = null;
    };
    const unregister = q.register(EVENT_IN, () => {
      done();
      resolve(true);
    });
    const left = deadline === null ? MAX_WAIT_MS : Number((deadline - monotonicNs() + 999_999n) / 1_000_000n);
    timer = setTimeout(() => {
      done();
      resolve(false);
    }, Math.max(0, Math.min(left, MAX_WAIT_MS)));
    t.interrupt = () => {
      done();
      reject(linuxerr.EINTR);
    };
  });
}

/** rt_sigtimedwait implements Linux syscall rt_sigtimedwait(2). */
export function rtSigtimedwait(t: Task, a: SyscallArgs): number | Promise<number> {
  const setAddr = a.ptr(0);
  const infoAddr = a.ptr(1);
  const tsAddr = a.ptr(2);
  if (a.sizeT(3) !== SIGSET_SIZE) throw linuxerr.EINVAL;
  const set = readSigset(t, setAddr) & ~sig.UNBLOCKABLE;
  const timeout = tsAddr ? readTimespec(t.mm, tsAddr) : null;
  const take = (i: SigInfo): number => {
    if (infoAddr) t.mm.copyOut(infoAddr, signals.encodeSigInfo(i));
    return i.signo;
  };
  const now = signals.dequeue(t, set);
  if (now) return take(now);
  if (timeout === 0n) throw linuxerr.EAGAIN;
  const deadline = timeout === null ? null : monotonicNs() + timeout;
  signals.setWaitSet(t, set);
  return (async () => {
    try {
      for (;;) {
        const got = await waitSignal(t, deadline);
        const i = signals.dequeue(t, set);
        if (i) return take(i);
        if (!got && deadline !== null && monotonicNs() >= deadline) throw linuxerr.EAGAIN;
      }
    } finally {
      signals.setWaitSet(t, 0n);
    }
  })();
}

/** sendGroup validates s, checks permission (against the leader's credentials) and sends;
 *  returns the error instead of throwing, for callers that signal many processes. */
function sendGroup(t: Task, tg: ThreadGroup, s: number, info: SigInfo): linuxerr.SyscallError | null {
  if (s < 0 || s > sig.NSIG) return linuxerr.EINVAL;
  if (!signals.mayKill(t, tg.leader, s)) return linuxerr.EPERM;
  signals.sendToGroup(tg, s, info);
  return null;
}

/** kill implements Linux syscall kill(2). As in Linux, a bad signal number is
 *  reported only once a target exists (ESRCH wins). */
export function kill(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const s = a.int(1);
  const k = t.kernel;
  const info = signals.userInfo(s, t.tg.pid, t.creds.uid);
  if (pid > 0) {
    const tg = k.tasks.get(pid)?.tg ?? k.threadGroups.get(pid);
    if (!tg) throw linuxerr.ESRCH;
    const err = sendGroup(t, tg, s, info);
    if (err) throw err;
    return 0;
  }
  if (pid === INT_MIN) throw linuxerr.ESRCH;
  if (pid === -1) {
    // Everyone but init and the caller; permission failures are not reported.
    let count = 0;
    let err: linuxerr.SyscallError | null = null;
    for (const tg of [...k.threadGroups.values()]) {
      if (tg.pid <= 1 || tg === t.tg) continue;
      count++;
      const e = sendGroup(t, tg, s, info);
      if (e !== linuxerr.EPERM) err = e;
    }
    if (count === 0) throw linuxerr.ESRCH;
    if (err) throw err;
    return 0;
  }
  const pgid = pid === 0 ? t.tg.pgid : -pid;
  let ok = false;
  let err: linuxerr.SyscallError = linuxerr.ESRCH;
  for (const tg of [...k.threadGroups.values()]) {
    if (tg.pgid !== pgid) continue;
    const e = sendGroup(t, tg, s, info);
    if (e) err = e;
    else ok = true;
  }
  if (!ok) throw err;
  return 0;
}

/** sendSpecific sends s to thread tid (of process tgid, if > 0), as tgkill/tkill do. */
function sendSpecific(t: Task, tgid: number, tid: number, s: number, info: SigInfo): number {
  const target = t.kernel.tasks.get(tid);
  // A dead leader still names its process: signals to it are accepted and dropped.
  if (!target || (tgid > 0 && target.tg.pid !== tgid)) throw linuxerr.ESRCH;
  if (s < 0 || s > sig.NSIG) throw linuxerr.EINVAL;
  if (!signals.mayKill(t, target, s)) throw linuxerr.EPERM;
  signals.sendToThread(target, s, info);
  return 0;
}

/** tgkill implements Linux syscall tgkill(2). */
export function tgkill(t: Task, a: SyscallArgs): number {
  const tgid = a.int(0);
  const tid = a.int(1);
  const s = a.int(2);
  if (tgid <= 0 || tid <= 0) throw linuxerr.EINVAL;
  return sendSpecific(t, tgid, tid, s, signals.userInfo(s, t.tg.pid, t.creds.uid, signals.SI_TKILL));
}

/** tkill implements Linux syscall tkill(2). */
export function tkill(t: Task, a: SyscallArgs): number {
  const tid = a.int(0);
  const s = a.int(1);
  if (tid <= 0) throw linuxerr.EINVAL;
  return sendSpecific(t, 0, tid, s, signals.userInfo(s, t.tg.pid, t.creds.uid, signals.SI_TKILL));
}

/** queuedInfo reads a caller-supplied siginfo; only a thread signalling itself
 *  may claim kernel or kill() codes (`self`: the target is the caller). */
function queuedInfo(t: Task, addr: number, s: number, self: boolean): SigInfo {
  const raw = t.mm.copyIn(addr, 128);
  const v = new DataView(raw.buffer);
  const code = v.getInt32(8, true);
  if ((code >= 0 || code === signals.SI_TKILL) && !self) throw linuxerr.EPERM;
  v.setInt32(0, s, true);
  return { signo: s, code, pid: v.getInt32(16, true), uid: v.getUint32(20, true), status: v.getInt32(24, true), raw };
}

/** rt_sigqueueinfo implements Linux syscall rt_sigqueueinfo(2). */
export function rtSigqueueinfo(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const s = a.int(1);
  const info = queuedInfo(t, a.ptr(2), s, pid === t.tid);
  const tg = pid > 0 ? t.kernel.tasks.get(pid)?.tg : undefined;
  if (!tg) throw linuxerr.ESRCH;
  const err = sendGroup(t, tg, s, info);
  if (err) throw err;
  return 0;
}

/** rt_tgsigqueueinfo implements Linux syscall rt_tgsigqueueinfo(2). */
export function rtTgsigqueueinfo(t: Task, a: SyscallArgs): number {
  const tgid = a.int(0);
  const tid = a.int(1);
  const s = a.int(2);
  if (tgid <= 0 || tid <= 0) throw linuxerr.EINVAL;
  return sendSpecific(t, tgid, tid, s, queuedInfo(t, a.ptr(3), s, tid === t.tid));
}

/** rt_sigreturn implements Linux syscall rt_sigreturn(2). */
export function rtSigreturn(t: Task): SyscallResult {
  sigreturn(t);
  return CtrlNoReturn;
}

/** restart_syscall implements Linux syscall restart_syscall(2): continues a
 *  syscall interrupted with ERESTART_RESTARTBLOCK (nanosleep), else EINTR. */
export function restartSyscall(t: Task): number | Promise<number> {
  const ts = signals.taskSignals(t);
  const fn = ts.restart;
  ts.restart = null;
  if (!fn) throw linuxerr.EINTR;
  return fn(t);
}

const SFD_FLAGS = linux.O_CLOEXEC | linux.O_NONBLOCK;

function doSignalfd(t: Task, fd: number, maskAddr: number, size: number, flags: number): number {
  if (flags & ~SFD_FLAGS) throw linuxerr.EINVAL;
  if (size !== SIGSET_SIZE) throw linuxerr.EINVAL;
  const mask = readSigset(t, maskAddr);
  if (fd !== -1) {
    const sfd = signalfdOf(t.fdTable.get(fd));
    if (!sfd) throw linuxerr.EINVAL;
    sfd.mask = mask & ~sig.UNBLOCKABLE;
    sfd.waitQueue.notify(EVENT_IN);
    return fd;
  }
  const f = new FileDescription(new SignalFD(t, mask), linux.O_RDWR | (flags & linux.O_NONBLOCK), 'anon_inode:[signalfd]');
  try {
    return t.fdTable.newFD(f, (flags & linux.O_CLOEXEC) !== 0, 0, t.tg.rlimits[RLIMIT_NOFILE][0]);
  } finally {
    f.decRef();
  }
}
const RLIMIT_NOFILE = 7;

/** signalfd implements Linux syscall signalfd(2). */
export function signalfd(t: Task, a: SyscallArgs): number {
  return doSignalfd(t, a.int(0), a.ptr(1), a.sizeT(2), 0);
}

/** signalfd4 implements Linux syscall signalfd4(2). */
export function signalfd4(t: Task, a: SyscallArgs): number {
  return doSignalfd(t, a.int(0), a.ptr(1), a.sizeT(2), a.int(3));
}

/** pidfd_open implements Linux syscall pidfd_open(2). */
export function pidfdOpen(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const flags = a.uint(1);
  if (flags & ~linux.O_NONBLOCK) throw linuxerr.EINVAL;
  if (pid <= 0) throw linuxerr.EINVAL;
  const k = t.kernel;
  const tg = k.threadGroups.get(pid);
  if (!tg) throw k.tasks.has(pid) ? linuxerr.EINVAL : linuxerr.ESRCH;
  const f = new FileDescription(new PidFD(tg), linux.O_RDWR | (flags & linux.O_NONBLOCK), 'anon_inode:[pidfd]');
  try {
    return t.fdTable.newFD(f, true, 0, t.tg.rlimits[RLIMIT_NOFILE][0]);
  } finally {
    f.decRef();
  }
}

/** pidfdProcess returns the process a pidfd refers to (EBADF: not a pidfd). */
export function pidfdProcess(t: Task, fd: number): ThreadGroup {
  const p = pidfdOf(t.fdTable.get(fd));
  if (!p) throw linuxerr.EBADF;
  return p.tg;
}

/** pidfd_send_signal implements Linux syscall pidfd_send_signal(2) for process pidfds. */
export function pidfdSendSignal(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const s = a.int(1);
  const infoAddr = a.ptr(2);
  const flags = a.uint(3);
  if (flags !== 0) throw linuxerr.EINVAL;
  const tg = pidfdProcess(t, fd);
  if (s < 0 || s > sig.NSIG) throw linuxerr.EINVAL;
  if (t.kernel.threadGroups.get(tg.pid) !== tg) throw linuxerr.ESRCH; // reaped
  let info: SigInfo;
  if (infoAddr) {
    info = queuedInfo(t, infoAddr, s, tg === t.tg && t.isLeader);
    if (new DataView(info.raw!.buffer).getInt32(0, true) !== s) throw linuxerr.EINVAL;
  } else {
    info = signals.userInfo(s, t.tg.pid, t.creds.uid);
  }
  const err = sendGroup(t, tg, s, info);
  if (err) throw err;
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.rt_sigaction]: supported('rt_sigaction', rtSigaction),
  [SYSNO.rt_sigprocmask]: supported('rt_sigprocmask', rtSigprocmask),
  [SYSNO.sigaltstack]: supported('sigaltstack', sigaltstack),
  [SYSNO.rt_sigpending]: supported('rt_sigpending', rtSigpending),
  [SYSNO.rt_sigsuspend]: supported('rt_sigsuspend', rtSigsuspend),
  [SYSNO.pause]: supported('pause', pause),
  [SYSNO.rt_sigtimedwait]: supported('rt_sigtimedwait', rtSigtimedwait),
  [SYSNO.kill]: supported('kill', kill),
  [SYSNO.tgkill]: supported('tgkill', tgkill),
  [SYSNO.tkill]: supported('tkill', tkill),
  [SYSNO.rt_sigqueueinfo]: supported('rt_sigqueueinfo', rtSigqueueinfo),
  [SYSNO.rt_tgsigqueueinfo]: supported('rt_tgsigqueueinfo', rtTgsigqueueinfo),
  [SYSNO.rt_sigreturn]: supported('rt_sigreturn', rtSigreturn),
  [SYSNO.restart_syscall]: supported('restart_syscall', restartSyscall),
  [SYSNO.signalfd]: partial('signalfd', signalfd, 'Reads the signals of the thread that created it (Linux: the reader).'),
  [SYSNO.signalfd4]: partial('signalfd4', signalfd4, 'Reads the signals of the thread that created it (Linux: the reader).'),
  [SYSNO.pidfd_open]: partial('pidfd_open', pidfdOpen, 'PIDFD_THREAD is not supported.'),
  [SYSNO.pidfd_send_signal]: supported('pidfd_send_signal', pidfdSendSignal),
};
