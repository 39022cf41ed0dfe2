// Signal generation with default actions. A signal sent to a process or a
// thread is dropped (ignored), kills the process (default terminate/core),
// or is recorded pending: when every thread blocks it, when a thread waits
// for it in rt_sigtimedwait, or when a handler is installed. Running handlers
// (signal frames) is a later piece of work: such signals stay pending.
// Everything here is synchronous: a decision and its effect happen together.

import * as sig from '../../abi/linux/signal.js';
import { EVENT_IN, WaitQueue } from '../vfs/waiter.js';
import type { Kernel } from './kernel.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import { killProcessBySignal } from './task_exit.js';
import type { ThreadGroup } from './thread_group.js';

export const enum DefaultAction {
  Term = 0,
  Core = 1,
  Ignore = 2,
  Stop = 3,
  Continue = 4,
}

// si_code values (include/uapi/asm-generic/siginfo.h).
export const SI_USER = 0;
export const SI_KERNEL = 0x80;
export const SI_QUEUE = -1;
export const SI_TIMER = -2;
export const SI_TKILL = -6;
export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;

/** SigInfo is the part of siginfo_t kept with a pending signal. */
export interface SigInfo {
  signo: number;
  code: number;
  pid: number;
  uid: number;
  /** SIGCHLD: exit code or signal; rt_sigqueueinfo: the sigval. */
  status: number;
  /** rt_sigqueueinfo: the caller's 128 bytes, returned verbatim. */
  raw?: Uint8Array;
}

const CORE = new Set([sig.SIGQUIT, sig.SIGILL, sig.SIGTRAP, sig.SIGABRT, sig.SIGBUS, sig.SIGFPE,
  sig.SIGSEGV, sig.SIGXCPU, sig.SIGXFSZ, sig.SIGSYS]);
const STOP = new Set([sig.SIGSTOP, sig.SIGTSTP, sig.SIGTTIN, sig.SIGTTOU]);
const IGNORE = new Set([sig.SIGCHLD, sig.SIGURG, sig.SIGWINCH]);

/** defaultAction is what SIG_DFL does for signal s (signal(7)); real-time signals terminate. */
export function defaultAction(s: number): DefaultAction {
  if (CORE.has(s)) return DefaultAction.Core;
  if (STOP.has(s)) return DefaultAction.Stop;
  if (IGNORE.has(s)) return DefaultAction.Ignore;
  if (s === sig.SIGCONT) return DefaultAction.Continue;
  return DefaultAction.Term;
}

/** signalName returns "SIGINT" or "SIGRT3" for s. */
export function signalName(s: number): string {
  if (s > 0 && s < sig.SIGRTMIN) return sig.SIGNAL_NAMES[s];
  if (s >= sig.SIGRTMIN && s <= sig.SIGRTMAX) return s === sig.SIGRTMIN ? 'SIGRTMIN' : `SIGRT${s - sig.SIGRTMIN}`;
  return String(s);
}

/** isIgnored reports whether tg's disposition for s discards it (SIG_IGN, or SIG_DFL ignoring). */
export function isIgnored(tg: ThreadGroup, s: number): boolean {
  if (s === sig.SIGKILL || s === sig.SIGSTOP) return false;
  const h = tg.sigactions[s].handler;
  if (h === BigInt(sig.SIG_IGN)) return true;
  if (h !== BigInt(sig.SIG_DFL)) return false;
  const d = defaultAction(s);
  return d === DefaultAction.Ignore || d === DefaultAction.Continue;
}

type Holder = Task | ThreadGroup;
/** Details of pending signals, by holder (a thread or a process) and signal. */
const infos = new WeakMap<Holder, Map<number, SigInfo>>();
/** The set each task waits for in rt_sigtimedwait (absent: not waiting). */
const waitSets = new WeakMap<Task, bigint>();
const queues = new WeakMap<Task, WaitQueue>();

/** signalQueue is notified (EVENT_IN) when a signal becomes pending for t. */
export function signalQueue(t: Task): WaitQueue {
  let q = queues.get(t);
  if (!q) {
    q = new WaitQueue();
    queues.set(t, q);
  }
  return q;
}

/** setWaitSet marks t as waiting for set in rt_sigtimedwait (0n: done waiting). */
export function setWaitSet(t: Task, set: bigint): void {
  if (set === 0n) waitSets.delete(t);
  else waitSets.set(t, set);
}

function pend(h: Holder, s: number, info: SigInfo): void {
  h.pendingSignals |= sig.sigbit(s);
  let m = infos.get(h);
  if (!m) {
    m = new Map();
    infos.set(h, m);
  }
  // Standard signals do not queue: the first instance's details stay.
  if (!m.has(s)) m.set(s, info);
}

function unpend(h: Holder, s: number): SigInfo | undefined {
  h.pendingSignals &= ~sig.sigbit(s);
  const m = infos.get(h);
  const i = m?.get(s);
  m?.delete(s);
  return i;
}

function liveTasks(tg: ThreadGroup): Task[] {
  return [...tg.tasks].filter((t) => t.state !== TaskState.Dead);
}

/** act applies tg's disposition for an unblocked s, received by thread t. */
function act(t: Task, s: number, info: SigInfo, holder: Holder): void {
  const tg = t.tg;
  const log = t.kernel.log;
  // Unlike a PID namespace's init on Linux, the sandbox's init can be killed
  // by its own signals, as under gVisor's runsc (`sh -c 'kill -9 $$'` exits 137).
  if (isIgnored(tg, s)) return;
  const h = tg.sigactions[s].handler;
  if (h !== BigInt(sig.SIG_DFL)) {
    log.warnOnce('signals:handlers', `signal handlers not delivered yet (${signalName(s)} to ${tg.pid} left pending)`);
    pend(holder, s, info);
    return;
  }
  switch (defaultAction(s)) {
    case DefaultAction.Stop:
      log.warnOnce(`signals:stop:${s}`, `job-control stop (${signalName(s)}) not implemented; ignored`);
      return;
    case DefaultAction.Term:
    case DefaultAction.Core:
      log.debug(`process ${tg.pid} killed by ${signalName(s)}`);
      killProcessBySignal(t, s);
      return;
    default:
      return;
  }
}

/** sendToGroup sends s to a process (kill(2) semantics, after permission checks). */
export function sendToGroup(tg: ThreadGroup, s: number, info: SigInfo): void {
  if (s === 0 || tg.exiting) return;
  const tasks = liveTasks(tg);
  if (tasks.length === 0) return;
  if (s === sig.SIGKILL) {
    killProcessBySignal(tasks[0], s);
    return;
  }
  const bit = sig.sigbit(s);
  for (const t of tasks) {
    if ((waitSets.get(t) ?? 0n) & bit) {
      pend(tg, s, info);
      signalQueue(t).notify(EVENT_IN);
      return;
    }
  }
  const receiver = tasks.find((t) => (t.sigmask & bit) === 0n);
  if (!receiver) {
    // Blocked signals are never ignored: the disposition may change before unblocking.
    pend(tg, s, info);
    return;
  }
  act(receiver, s, info, tg);
}

/** sendToThread sends s to one thread (tgkill(2) semantics, after permission checks). */
export function sendToThread(t: Task, s: number, info: SigInfo): void {
  const tg = t.tg;
  if (s === 0 || t.state === TaskState.Dead || tg.exiting) return;
  if (s === sig.SIGKILL) {
    killProcessBySignal(t, s);
    return;
  }
  const bit = sig.sigbit(s);
  if ((waitSets.get(t) ?? 0n) & bit) {
    pend(t, s, info);
    signalQueue(t).notify(EVENT_IN);
    return;
  }
  if (t.sigmask & bit) {
    pend(t, s, info);
    return;
  }
  act(t, s, info, t);
}

/** recheckPending applies pending signals that t no longer blocks (after a
 *  mask change): ignored ones go, fatal ones kill, handled ones stay. */
export function recheckPending(t: Task): void {
  const tg = t.tg;
  for (const h of [t, tg] as Holder[]) {
    let ready = h.pendingSignals & ~t.sigmask;
    for (let s = 1; ready !== 0n && s <= sig.NSIG; s++) {
      const bit = sig.sigbit(s);
      if (!(ready & bit)) continue;
      ready &= ~bit;
      if ((waitSets.get(t) ?? 0n) & bit) continue;
      if (tg.sigactions[s].handler !== BigInt(sig.SIG_DFL) && !isIgnored(tg, s)) continue;
      const info = unpend(h, s) ?? userInfo(s, 0, 0);
      act(t, s, info, t);
      if (t.state === TaskState.Dead) return;
    }
  }
}

/** discardIgnored drops pending instances of s once tg ignores it (rt_sigaction). */
export function discardIgnored(tg: ThreadGroup, s: number): void {
  if (!isIgnored(tg, s)) return;
  unpend(tg, s);
  for (const t of tg.tasks) unpend(t, s);
}

/** pendingOf returns the signals pending for t: its own and its process's. */
export function pendingOf(t: Task): bigint {
  return t.pendingSignals | t.tg.pendingSignals;
}

/** dequeue removes and returns the lowest pending signal of set (thread-directed first), or null. */
export function dequeue(t: Task, set: bigint): SigInfo | null {
  for (const h of [t, t.tg] as Holder[]) {
    const ready = h.pendingSignals & set;
    if (ready === 0n) continue;
    for (let s = 1; s <= sig.NSIG; s++) {
      if (ready & sig.sigbit(s)) return unpend(h, s) ?? userInfo(s, 0, 0);
    }
  }
  return null;
}

/** userInfo is the siginfo of a signal sent by kill(2) from pid as uid. */
export function userInfo(s: number, pid: number, uid: number, code = SI_USER): SigInfo {
  return { signo: s, code, pid, uid, status: 0 };
}

/** encodeSigInfo lays out a siginfo_t (128 bytes, x86-64). */
export function encodeSigInfo(i: SigInfo): Uint8Array {
  if (i.raw) return i.raw.slice(0, 128);
  const b = new Uint8Array(128);
  const v = new DataView(b.buffer);
  v.setInt32(0, i.signo, true);
  v.setInt32(8, i.code, true);
  if (i.code !== SI_KERNEL) {
    v.setInt32(16, i.pid, true);
    v.setUint32(20, i.uid, true);
    if (i.signo === sig.SIGCHLD) v.setInt32(24, i.status, true);
  }
  return b;
}

/** mayKill is Linux's check_kill_permission for a user-sent signal. */
export function mayKill(sender: Task, target: Task, s: number): boolean {
  if (sender.tg === target.tg) return true;
  const c = sender.creds;
  const tc = target.creds;
  if (c.euid === tc.suid || c.euid === tc.uid || c.uid === tc.suid || c.uid === tc.uid) return true;
  if (c.hasCap(CAP_KILL)) return true;
  return s === sig.SIGCONT && target.tg.sid === sender.tg.sid;
}
const CAP_KILL = 5;

/** childInfo is the SIGCHLD siginfo for a child that exited with wait status st. */
function childInfo(child: ThreadGroup, s: number): SigInfo {
  const st = child.exitStatus;
  const signaled = (st & 0x7f) !== 0;
  const code = signaled ? ((st & 0x80) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
  return { signo: s, code, pid: child.pid, uid: child.leader.creds.uid, status: signaled ? st & 0x7f : (st >> 8) & 0xff };
}

/** deliverParentDeathSignals sends each child's PR_SET_PDEATHSIG signal; call
 *  it when parent's last thread exits, before its children are reparented. */
export function deliverParentDeathSignals(parent: ThreadGroup): void {
  for (const c of [...parent.children]) {
    for (const t of [...c.tasks]) {
      if (t.pdeathsig) sendToThread(t, t.pdeathsig, userInfo(t.pdeathsig, parent.pid, 0, SI_KERNEL));
    }
  }
}

/** installSignals makes kernel.signalProcess deliver with default actions.
 *  `from` is the sending process (a child for SIGCHLD), or null for the kernel. */
export function installSignals(kernel: Kernel): void {
  kernel.signalProcess = (tg, s, from) => {
    let info: SigInfo;
    if (from && from.exiting && from.parent === tg && s === from.exitSignal) info = childInfo(from, s);
    else if (from) info = userInfo(s, from.pid, from.leader.creds.uid);
    else info = userInfo(s, 0, 0, SI_KERNEL);
    sendToGroup(tg, s, info);
  };
}
