// Signal generation (Linux's kernel/signal.c, sending half): pending queues
// per thread and per process, the choice of the thread that takes a
// process-directed signal, waking it, the side effects of SIGKILL, SIGCONT
// and stop signals at send time, and job-control state for wait(2).
// Delivery (handlers, default actions, stops, restarts) happens when a task
// returns to guest code: see signal_delivery.ts. Everything here is
// synchronous: a decision and its effect happen together.

import * as linuxerr from '../../abi/linux/errno.js';
import * as sig from '../../abi/linux/signal.js';
import { EVENT_IN, WaitQueue } from '../vfs/waiter.js';
import type { Kernel } from './kernel.js';
import { beforeResume, deliverFault } from './signal_delivery.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import { groupContinued } from './ptrace.js';
import { killProcessBySignal } from './task_exit.js';
import type { SigAction, ThreadGroup } from './thread_group.js';

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
export const SI_MESGQ = -3;
export const SI_ASYNCIO = -4;
export const SI_SIGIO = -5;
export const SI_TKILL = -6;
export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;
export const CLD_TRAPPED = 4;
export const CLD_STOPPED = 5;
export const CLD_CONTINUED = 6;

/** SigInfo is the part of siginfo_t kept with a pending signal. */
export interface SigInfo {
  signo: number;
  code: number;
  pid: number;
  uid: number;
  /** SIGCHLD: exit code or signal; rt_sigqueueinfo: the sigval. */
  status: number;
  /** The whole siginfo_t (rt_sigqueueinfo, faults), returned verbatim but for si_signo. */
  raw?: Uint8Array;
}

const CORE = new Set([sig.SIGQUIT, sig.SIGILL, sig.SIGTRAP, sig.SIGABRT, sig.SIGBUS, sig.SIGFPE,
  sig.SIGSEGV, sig.SIGXCPU, sig.SIGXFSZ, sig.SIGSYS]);
const STOP = new Set([sig.SIGSTOP, sig.SIGTSTP, sig.SIGTTIN, sig.SIGTTOU]);
const IGNORE = new Set([sig.SIGCHLD, sig.SIGURG, sig.SIGWINCH]);
const STOP_MASK = sig.sigbit(sig.SIGSTOP) | sig.sigbit(sig.SIGTSTP) | sig.sigbit(sig.SIGTTIN) | sig.sigbit(sig.SIGTTOU);
/** Signals a fault raises; dequeued before any other (Linux's SYNCHRONOUS_MASK). */
export const SYNCHRONOUS_MASK = sig.sigbit(sig.SIGSEGV) | sig.sigbit(sig.SIGBUS) | sig.sigbit(sig.SIGILL) |
  sig.sigbit(sig.SIGTRAP) | sig.sigbit(sig.SIGFPE) | sig.sigbit(sig.SIGSYS);
const SIG_DFL = BigInt(sig.SIG_DFL);
const SIG_IGN = BigInt(sig.SIG_IGN);

/** defaultAction is what SIG_DFL does for signal s (signal(7)); real-time signals terminate. */
export function defaultAction(s: number): DefaultAction {
  if (CORE.has(s)) return DefaultAction.Core;
  if (STOP.has(s)) return DefaultAction.Stop;
  if (IGNORE.has(s)) return DefaultAction.Ignore;
  if (s === sig.SIGCONT) return DefaultAction.Continue;
  return DefaultAction.Term;
}

/** isStopSignal: SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU. */
export function isStopSignal(s: number): boolean {
  return STOP.has(s);
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
  if (h === SIG_IGN) return true;
  if (h !== SIG_DFL) return false;
  const d = defaultAction(s);
  return d === DefaultAction.Ignore || d === DefaultAction.Continue;
}

/** isFatal reports whether s, unblocked, kills tg outright (SIG_DFL terminate or core). */
function isFatal(tg: ThreadGroup, s: number): boolean {
  if (tg.sigactions[s].handler !== SIG_DFL) return false;
  const d = defaultAction(s);
  return d === DefaultAction.Term || d === DefaultAction.Core;
}

// ---- Per-task and per-process state kept outside Task/ThreadGroup ----

/** RestartFn continues an interrupted syscall for restart_syscall(2). */
export type RestartFn = (t: Task) => number | Promise<number>;

/** TaskSignals is the per-thread delivery state. */
export interface TaskSignals {
  /** Stopped for job control: not resumed until SIGCONT. */
  stopped: boolean;
  /** restart_syscall's continuation (ERESTART_RESTARTBLOCK). */
  restart: RestartFn | null;
  /** The last fault, as struct sigcontext reports it (trapno, err, cr2). */
  trapno: number;
  err: number;
  cr2: number;
}

const taskState = new WeakMap<Task, TaskSignals>();

export function taskSignals(t: Task): TaskSignals {
  let s = taskState.get(t);
  if (!s) {
    s = { stopped: false, restart: null, trapno: 0, err: 0, cr2: 0 };
    taskState.set(t, s);
  }
  return s;
}

/** Tasks that must join a group stop on their way back to guest code. */
export const stopPending = new Set<Task>();
/** Masks to restore on return to guest code (sigsuspend, ppoll): Linux's saved_sigmask. */
export const savedMasks = new Map<Task, bigint>();

/** setTemporaryMask installs mask as t's signal mask until t next returns to guest
 *  code, when the current mask comes back (after a handler frame has recorded
 *  it, if a signal is delivered). For sigsuspend, ppoll and pselect6. */
export function setTemporaryMask(t: Task, mask: bigint): void {
  if (!savedMasks.has(t)) savedMasks.set(t, t.sigmask);
  t.sigmask = mask & ~sig.UNBLOCKABLE;
}

/** setRestartBlock records how restart_syscall continues t's interrupted
 *  syscall; the syscall then fails with ERESTART_RESTARTBLOCK. */
export function setRestartBlock(t: Task, fn: RestartFn): void {
  taskSignals(t).restart = fn;
}

/** JobState is a process's job-control state (parts of Linux's signal_struct). */
interface JobState {
  /** The stop signal of the current or last group stop (group_exit_code). */
  stopSig: number;
  /** A group stop is under way / complete (SIGNAL_STOP_STOPPED). */
  stopping: boolean;
  stopped: boolean;
  /** wait(WUNTRACED) / wait(WCONTINUED) have something to report. */
  reportStop: boolean;
  reportCont: boolean;
}

const jobs = new WeakMap<ThreadGroup, JobState>();

export function jobState(tg: ThreadGroup): JobState {
  let j = jobs.get(tg);
  if (!j) {
    j = { stopSig: 0, stopping: false, stopped: false, reportStop: false, reportCont: false };
    jobs.set(tg, j);
  }
  return j;
}

/** stopReport returns the wait status of tg's unreported group stop ((sig<<8)|0x7f), or 0. */
export function stopReport(tg: ThreadGroup, consume: boolean): number {
  const j = jobs.get(tg);
  if (!j || !j.reportStop || !j.stopped) return 0;
  if (consume) j.reportStop = false;
  return (j.stopSig << 8) | 0x7f;
}

/** continueReport reports (once unless !consume) that tg was continued by SIGCONT. */
export function continueReport(tg: ThreadGroup, consume: boolean): boolean {
  const j = jobs.get(tg);
  if (!j || !j.reportCont) return false;
  if (consume) j.reportCont = false;
  return true;
}

/** isStopped reports whether tg's group stop is complete (for /proc and tests). */
export function isStopped(tg: ThreadGroup): boolean {
  return jobs.get(tg)?.stopped ?? false;
}

// ---- Pending queues ----

type Holder = Task | ThreadGroup;
/** Details of pending signals, by holder and signal: one for standard signals, a queue for real-time ones. */
const infos = new WeakMap<Holder, Map<number, SigInfo[]>>();
/** The set each task waits for in rt_sigtimedwait (absent: not waiting). */
const waitSets = new WeakMap<Task, bigint>();
const queues = new WeakMap<Task, WaitQueue>();
/** signalfd readers, by signal-handler table (shared like Linux's sighand). */
const sighandQueues = new WeakMap<SigAction[], WaitQueue>();
/** Queued real-time signals beyond this per holder keep only their bit (RLIMIT_SIGPENDING's default). */
const MAX_QUEUED = 63_535;

/** signalQueue is notified (EVENT_IN) when a signal t waits for in rt_sigtimedwait arrives. */
export function signalQueue(t: Task): WaitQueue {
  let q = queues.get(t);
  if (!q) {
    q = new WaitQueue();
    queues.set(t, q);
  }
  return q;
}

/** sighandQueue is notified (EVENT_IN) whenever a signal becomes pending in a
 *  process sharing tg's handler table: signalfd waits on it. */
export function sighandQueue(tg: ThreadGroup): WaitQueue {
  let q = sighandQueues.get(tg.sigactions);
  if (!q) {
    q = new WaitQueue();
    sighandQueues.set(tg.sigactions, q);
  }
  return q;
}

/** setWaitSet marks t as waiting for set in rt_sigtimedwait (0n: done waiting). */
export function setWaitSet(t: Task, set: bigint): void {
  if (set === 0n) waitSets.delete(t);
  else waitSets.set(t, set);
}

function waitSetOf(t: Task): bigint {
  return waitSets.get(t) ?? 0n;
}

/** pend queues s; false when a standard s was already pending (it does not queue). */
function pend(h: Holder, s: number, info: SigInfo): boolean {
  const bit = sig.sigbit(s);
  let m = infos.get(h);
  if (!m) {
    m = new Map();
    infos.set(h, m);
  }
  if (s < sig.SIGRTMIN) {
    if (h.pendingSignals & bit) return false;
    m.set(s, [info]);
  } else {
    const q = m.get(s);
    if (!q) m.set(s, [info]);
    else if (q.length < MAX_QUEUED) q.push(info);
  }
  h.pendingSignals |= bit;
  return true;
}

/** unpend removes one instance of s (the oldest) and returns its details. */
function unpend(h: Holder, s: number): SigInfo | undefined {
  const bit = sig.sigbit(s);
  const q = infos.get(h)?.get(s);
  const i = q?.shift();
  if (!q || q.length === 0) {
    h.pendingSignals &= ~bit;
    infos.get(h)?.delete(s);
  }
  return i;
}

/** flush drops every pending instance of the signals in mask. */
function flush(h: Holder, mask: bigint): void {
  const hit = h.pendingSignals & mask;
  if (hit === 0n) return;
  h.pendingSignals &= ~mask;
  const m = infos.get(h);
  if (!m) return;
  for (const s of [...m.keys()]) if (hit & sig.sigbit(s)) m.delete(s);
}

function liveTasks(tg: ThreadGroup): Task[] {
  const out: Task[] = [];
  for (const t of tg.tasks) if (t.state !== TaskState.Dead) out.push(t);
  return out;
}

/** signalPending is Linux's signal_pending(t): a signal t does not block is
 *  pending, or a group stop waits for t. Interruptible waits end early then. */
export function signalPending(t: Task): boolean {
  if (stopPending.size !== 0 && stopPending.has(t)) return true;
  // PTRACE_INTERRUPT wakes a tracee as a signal would.
  if (t.ptrace && t.ptrace.trapPending) return true;
  const own = t.pendingSignals;
  const shared = t.tg.pendingSignals;
  if (!own && !shared) return false;
  return ((own | shared) & ~t.sigmask) !== 0n;
}

/** signalWakeUp makes t notice a signal: a wait in the Sentry is interrupted
 *  (its syscall fails with a restart code), a thread running guest code on the
 *  host is stopped; a task on its way back to guest code sees it anyway. */
export function signalWakeUp(t: Task): void {
  if (t.state === TaskState.Blocked) t.interrupt?.(linuxerr.ERESTARTSYS);
  else if (t.state === TaskState.Running) t.kernel.platform.interrupt?.(t.thread);
}

/** wants is Linux's wants_signal: t is a candidate to take a process-directed signal. */
function wants(t: Task, bit: bigint): boolean {
  if (t.state === TaskState.Dead) return false;
  if ((t.sigmask & bit) !== 0n && (waitSetOf(t) & bit) === 0n) return false;
  return !taskSignals(t).stopped;
}

/** prepare applies the side effects of sending s to tg (Linux's prepare_signal);
 *  false when s is then discarded. `p` is the receiver whose mask counts. */
function prepare(tg: ThreadGroup, p: Task, s: number): boolean {
  const tasks = liveTasks(tg);
  if (isStopSignal(s)) {
    // A stop signal cancels a pending SIGCONT.
    const c = sig.sigbit(sig.SIGCONT);
    flush(tg, c);
    for (const t of tasks) flush(t, c);
  } else if (s === sig.SIGCONT) {
    flush(tg, STOP_MASK);
    for (const t of tasks) flush(t, STOP_MASK);
    continueGroup(tg, tasks);
  }
  // Blocked signals are never ignored: the disposition may change before unblocking.
  return (p.sigmask & sig.sigbit(s)) !== 0n || !isIgnored(tg, s);
}

/** continueGroup ends a group stop (SIGCONT): every thread runs again. */
function continueGroup(tg: ThreadGroup, tasks: Task[]): void {
  for (const t of tasks) {
    stopPending.delete(t);
    if (t.ptrace) groupContinued(t);
    const ts = taskState.get(t);
    if (ts?.stopped) {
      ts.stopped = false;
      t.kernel.makeReady(t);
    }
  }
  const j = jobs.get(tg);
  if (!j || (!j.stopped && !j.stopping)) return;
  const wasStopped = j.stopped;
  j.stopped = false;
  j.stopping = false;
  j.reportStop = false;
  if (wasStopped) {
    j.reportCont = true;
    notifyParentStop(tg, CLD_CONTINUED, sig.SIGCONT);
  }
}

/** notifyParentStop tells tg's parent that tg stopped or continued
 *  (SIGCHLD unless it set SA_NOCLDSTOP, and a wake-up of its waits). */
export function notifyParentStop(tg: ThreadGroup, code: number, status: number): void {
  const parent = tg.parent;
  if (!parent || parent.exiting) return;
  const act = parent.sigactions[sig.SIGCHLD];
  if (act.handler !== SIG_IGN && !(act.flags & sig.SA_NOCLDSTOP)) {
    sendToGroup(parent, sig.SIGCHLD, { signo: sig.SIGCHLD, code, pid: tg.pid, uid: tg.leader.creds.uid, status });
  }
  parent.childEvents.notify(EVENT_IN);
}

/** send is Linux's __send_signal plus complete_signal. target null: process-directed. */
function send(tg: ThreadGroup, target: Task | null, s: number, info: SigInfo): void {
  if (s === 0 || tg.exiting) return;
  if (target && target.state === TaskState.Dead) return;
  const tasks = target ? [target] : liveTasks(tg);
  if (tasks.length === 0) return;
  const p = target ?? (tg.leader.state !== TaskState.Dead ? tg.leader : tasks[0]);
  if (initIgnores(tg, p, s, info)) {
    // Linux still applies the side effects (a stop flushes SIGCONT, SIGCONT continues).
    if (s !== sig.SIGKILL) prepare(tg, p, s);
    return;
  }
  if (s === sig.SIGKILL) {
    killProcessBySignal(tasks[0], s);
    return;
  }
  if (!prepare(tg, p, s)) return;
  if (!pend(target ?? tg, s, info)) return;
  sighandQueue(tg).notify(EVENT_IN);
  complete(tg, target, s);
}

/** initIgnores is Linux's SIGNAL_UNKILLABLE rule (sig_task_ignored) for the
 *  sandbox's init, the first process of its PID namespace: a signal it leaves
 *  at SIG_DFL and does not block is dropped when sent from inside the
 *  sandbox, SIGKILL and SIGSTOP included, so neither its own processes nor
 *  the kernel (SIGPIPE, timers, terminals) can kill it by accident. Faults
 *  are forced (forceSignal) and still kill it. Signals from the host, which
 *  runsc sends as SI_USER with no sender pid (runsc kill, docker stop), get
 *  through whatever their action, as in gVisor, which has no such rule. */
function initIgnores(tg: ThreadGroup, p: Task, s: number, info: SigInfo): boolean {
  if (!isUnkillableInit(tg)) return false;
  if (info.code === SI_USER && info.pid === 0) return false;
  if (tg.sigactions[s].handler !== SIG_DFL) return false;
  // Blocked signals are queued: the action may change before they are unblocked.
  return (p.sigmask & sig.sigbit(s)) === 0n || s === sig.SIGKILL || s === sig.SIGSTOP;
}

/** Init processes a forced signal made killable (Linux clears SIGNAL_UNKILLABLE for good). */
const killableInit = new WeakSet<ThreadGroup>();

/** isUnkillableInit reports whether tg is the sandbox's init and still
 *  protected from signals it leaves at SIG_DFL (delivery drops those too). */
export function isUnkillableInit(tg: ThreadGroup): boolean {
  return tg === tg.leader.kernel.init && !killableInit.has(tg);
}

/** complete picks the thread that takes s and wakes it, or kills the process
 *  at once when s is fatal and unblocked (Linux's complete_signal). */
function complete(tg: ThreadGroup, target: Task | null, s: number): void {
  const bit = sig.sigbit(s);
  let t: Task | undefined;
  if (target) {
    if (!wants(target, bit)) return;
    t = target;
  } else {
    if (wants(tg.leader, bit)) t = tg.leader;
    else for (const o of tg.tasks) if (wants(o, bit)) { t = o; break; }
    if (!t) return;
    // Only the chosen thread takes it (Linux sets TIF_SIGPENDING on it alone),
    // so the sender returning from kill() does not steal it from a waiter.
    chosenOf(tg).set(s, t);
  }
  // A thread in rt_sigtimedwait whose real mask blocks s takes it there instead.
  // A tracee is not killed here: its tracer sees the signal first (signal-delivery-stop).
  if (isFatal(tg, s) && (t.sigmask & bit) === 0n && !t.ptrace) {
    t.kernel.log.debug(`process ${tg.pid} killed by ${signalName(s)}`);
    killProcessBySignal(t, s);
    return;
  }
  if (waitSetOf(t) & bit) {
    signalQueue(t).notify(EVENT_IN);
    return;
  }
  signalWakeUp(t);
}

/** sendToGroup sends s to a process (kill(2) semantics, after permission checks). */
export function sendToGroup(tg: ThreadGroup, s: number, info: SigInfo): void {
  send(tg, null, s, info);
}

/** sendToThread sends s to one thread (tgkill(2) semantics, after permission checks). */
export function sendToThread(t: Task, s: number, info: SigInfo): void {
  send(t.tg, t, s, info);
}

/** forceSignal raises a synchronous signal in t (a fault, a bad signal frame):
 *  if t blocks or ignores s, s reverts to SIG_DFL and is unblocked, so it
 *  cannot be lost (Linux's force_sig_info). */
export function forceSignal(t: Task, s: number, info: SigInfo): void {
  const tg = t.tg;
  const bit = sig.sigbit(s);
  const act = tg.sigactions[s];
  const blocked = (t.sigmask & bit) !== 0n;
  if (blocked || act.handler === SIG_IGN) {
    tg.sigactions[s] = { ...act, handler: SIG_DFL };
    if (blocked) t.sigmask &= ~bit;
  }
  // A fault with the default action kills even init (force_sig_info_to_task).
  if (tg.sigactions[s].handler === SIG_DFL) killableInit.add(tg);
  // A standard signal already pending stays as it is (the fault recurs anyway).
  if (pend(t, s, info)) sighandQueue(tg).notify(EVENT_IN);
}

/** discardIgnored drops pending instances of s once tg ignores it (rt_sigaction). */
export function discardIgnored(tg: ThreadGroup, s: number): void {
  if (!isIgnored(tg, s)) return;
  const bit = sig.sigbit(s);
  flush(tg, bit);
  for (const t of tg.tasks) flush(t, bit);
}

/** pendingOf returns the signals pending for t: its own and its process's. */
export function pendingOf(t: Task): bigint {
  return t.pendingSignals | t.tg.pendingSignals;
}

/** nextSignal is Linux's next_signal: synchronous signals first, then the lowest. */
function nextSignal(ready: bigint): number {
  const sync = ready & SYNCHRONOUS_MASK;
  const set = sync !== 0n ? sync : ready;
  const lo = Number(set & 0xffff_ffffn);
  if (lo !== 0) return 32 - Math.clz32(lo & -lo);
  const hi = Number(set >> 32n);
  return 32 + 32 - Math.clz32(hi & -hi);
}

/** dequeue removes and returns the next pending signal of set (thread-directed first), or null. */
export function dequeue(t: Task, set: bigint): SigInfo | null {
  for (const h of [t, t.tg] as Holder[]) {
    let ready = h.pendingSignals & set;
    if (h === t.tg) ready &= ~reservedForOthers(t);
    if (ready === 0n) continue;
    const s = nextSignal(ready);
    if (h === t.tg) chosenOf(t.tg).delete(s);
    return unpend(h, s) ?? userInfo(s, 0, 0, SI_KERNEL);
  }
  return null;
}

const chosen = new WeakMap<ThreadGroup, Map<number, Task>>();

/** chosenOf maps a process's pending process-directed signals to the thread
 *  complete() picked to take each of them. */
function chosenOf(tg: ThreadGroup): Map<number, Task> {
  let m = chosen.get(tg);
  if (!m) chosen.set(tg, (m = new Map()));
  return m;
}

/** reservedForOthers is the set of process-directed signals pending for
 *  another live thread of t's process that still accepts them. */
function reservedForOthers(t: Task): bigint {
  const m = chosen.get(t.tg);
  if (!m || m.size === 0) return 0n;
  let r = 0n;
  for (const [s, o] of m) {
    if (o === t) continue;
    const bit = sig.sigbit(s);
    if (o.state === TaskState.Dead || !wants(o, bit)) m.delete(s);
    else r |= bit;
  }
  return r;
}

/** userInfo is the siginfo of a signal sent by kill(2) from pid as uid. */
export function userInfo(s: number, pid: number, uid: number, code = SI_USER): SigInfo {
  return { signo: s, code, pid, uid, status: 0 };
}

/** encodeSigInfo lays out a siginfo_t (128 bytes, x86-64). */
export function encodeSigInfo(i: SigInfo): Uint8Array {
  if (i.raw) {
    const b = i.raw.slice(0, 128);
    new DataView(b.buffer).setInt32(0, i.signo, true);
    return b;
  }
  const b = new Uint8Array(128);
  const v = new DataView(b.buffer);
  v.setInt32(0, i.signo, true);
  v.setInt32(8, i.code, true);
  if (i.code !== SI_KERNEL) {
    v.setInt32(16, i.pid, true);
    v.setUint32(20, i.uid, true);
    if (i.signo === sig.SIGCHLD || i.code === SI_QUEUE) v.setInt32(24, i.status, true);
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

/** Notified when a process has exited (pidfd readiness). */
export const exitQueue = new WaitQueue();

/** deliverParentDeathSignals sends each child's PR_SET_PDEATHSIG signal; call
 *  it when parent's last thread exits, before its children are reparented. */
export function deliverParentDeathSignals(parent: ThreadGroup): void {
  // Every process exit passes here: wake pidfd pollers too.
  exitQueue.notify(EVENT_IN);
  for (const c of [...parent.children]) {
    for (const t of [...c.tasks]) {
      if (t.pdeathsig) sendToThread(t, t.pdeathsig, userInfo(t.pdeathsig, parent.pid, 0, SI_KERNEL));
    }
  }
}

/** installSignals makes kernel.signalProcess send signals, and installs the
 *  delivery hooks (beforeResume, deliverFault). `from` is the sending process
 *  (a child for SIGCHLD), or null for the kernel. */
export function installSignals(kernel: Kernel): void {
  kernel.signalProcess = (tg, s, from) => {
    let info: SigInfo;
    if (from && from.exiting && from.parent === tg && s === from.exitSignal) info = childInfo(from, s);
    else if (from) info = userInfo(s, from.pid, from.leader.creds.uid);
    else info = userInfo(s, 0, 0, SI_KERNEL);
    sendToGroup(tg, s, info);
  };
  kernel.beforeResume = beforeResume;
  kernel.deliverFault = deliverFault;
}
