// ptrace(2) inside the sandbox, the kernel half (Linux's kernel/ptrace.c and
// the ptrace_stop parts of kernel/signal.c): who traces whom, the stops a
// tracee makes (syscall enter/exit, signal delivery, group stop, events) and
// what a tracer's wait sees. A tracee stop is a wait in the Sentry: the task
// is held (state Blocked, not queued) until the tracer resumes it, when the
// stop's continuation runs. Everything here is synchronous.
//
// Permission (ptraceMayAccess) is Linux's PTRACE_MODE_ATTACH_REALCREDS with
// Yama's scope 1 ("relational"), as gVisor: a tracer needs CAP_SYS_PTRACE, or
// the target's real, effective and saved ids equal to its own real ones and
// the target among its descendants. PR_SET_PTRACER exceptions are not kept.

import * as linuxerr from '../../abi/linux/errno.js';
import * as P from '../../abi/linux/ptrace.js';
import * as sig from '../../abi/linux/signal.js';
import { EVENT_IN } from '../vfs/waiter.js';
import type { SigInfo } from './signals.js';
import { CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_TRAPPED, SI_USER, jobState, sendToGroup, sendToThread, userInfo } from './signals.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import { killProcessBySignal } from './task_exit.js';
import type { ThreadGroup } from './thread_group.js';

export const enum PtraceStopKind {
  SyscallEnter = 0,
  SyscallExit = 1,
  Signal = 2,
  Group = 3,
  Event = 4,
}

export const enum ResumeMode {
  Cont = 0,
  Syscall = 1,
}

/** PtraceStop is one stop of a tracee, as the tracer sees it. */
export interface PtraceStop {
  kind: PtraceStopKind;
  /** Linux's exit_code: the signal, and the event in bits 8-15. */
  code: number;
  /** A wait has reported it (wait reports a stop once). */
  reported: boolean;
  /** What PTRACE_GETSIGINFO returns; null: EINVAL (a group stop). */
  info: SigInfo | null;
  /** Runs once when the tracer resumes the task; s is the resume's signal. */
  resume: (s: number) => void;
  /** For a stop inside a pending syscall (the exit event): ends its wait
   *  when the task dies in the stop. */
  abandon?: () => void;
  /** PTRACE_LISTEN: stay stopped, re-trap when the group stop ends. */
  listening?: boolean;
}

/** Options PTRACE_SETOPTIONS accepts. */
export const VALID_OPTIONS = P.PTRACE_O_TRACESYSGOOD | P.PTRACE_O_TRACEFORK | P.PTRACE_O_TRACEVFORK |
  P.PTRACE_O_TRACECLONE | P.PTRACE_O_TRACEEXEC | P.PTRACE_O_TRACEVFORKDONE | P.PTRACE_O_TRACEEXIT |
  P.PTRACE_O_EXITKILL | 0x80 /* TRACESECCOMP: accepted, never reported */ | 0x200000 /* SUSPEND_SECCOMP */;

/** Tracee is the ptrace state of a traced task (Task.ptrace). */
export class Tracee {
  tracer: Task;
  readonly seized: boolean;
  options: number;
  mode = ResumeMode.Cont;
  /** PTRACE_SINGLESTEP: the platform stops the task after one instruction (a SIGTRAP). */
  step = false;
  stop: PtraceStop | null = null;
  /** PTRACE_GETEVENTMSG's value. */
  eventMsg = 0;
  /** An event stop to make when the current syscall returns (fork, exec). */
  pendingEvent: { event: number; msg: number } | null = null;
  /** A signal the tracer let through at a signal-delivery-stop: delivered without another stop. */
  injected: SigInfo | null = null;
  /** PTRACE_INTERRUPT, or a new seized child: trap with PTRACE_EVENT_STOP. */
  trapPending = false;
  /** exit(2)'s own status, for a thread that exits alone. */
  exitStatus = 0;
  /** GET_SYSCALL_INFO: 1 in a syscall-enter stop, 2 in an exit stop, else 0. */
  syscallOp = 0;

  constructor(tracer: Task, seized: boolean, options: number) {
    this.tracer = tracer;
    this.seized = seized;
    this.options = options;
  }
}

/** A traced task that exited and is not its tracer's child: waitable once by the tracer. */
interface TracedZombie {
  tid: number;
  tg: ThreadGroup;
  status: number;
  uid: number;
}

interface TracerState {
  tracees: Set<Task>;
  zombies: TracedZombie[];
}

const tracers = new Map<Task, TracerState>();

function tracerState(t: Task): TracerState {
  let s = tracers.get(t);
  if (!s) {
    s = { tracees: new Set(), zombies: [] };
    tracers.set(t, s);
  }
  return s;
}

/** ptraceActive is false while no task traces another (the exit hooks' fast test). */
export function ptraceActive(): boolean {
  return tracers.size !== 0;
}

const CAP_SYS_PTRACE = 19;

/** ptraceMayAccess is PTRACE_MODE_ATTACH_REALCREDS plus Yama scope 1 (see the top of this file). */
export function ptraceMayAccess(tracer: Task, target: Task): boolean {
  if (tracer.tg === target.tg) return true;
  const c = tracer.creds;
  if (c.hasCap(CAP_SYS_PTRACE)) return true;
  const tc = target.creds;
  if (c.uid !== tc.uid || c.uid !== tc.euid || c.uid !== tc.suid) return false;
  if (c.gid !== tc.gid || c.gid !== tc.egid || c.gid !== tc.sgid) return false;
  for (let g: ThreadGroup | null = target.tg.parent; g; g = g.parent) if (g === tracer.tg) return true;
  return false;
}

/** attach makes tracer trace t. */
export function attach(t: Task, tracer: Task, seized: boolean, options: number): Tracee {
  const tr = new Tracee(tracer, seized, options);
  t.ptrace = tr;
  tracerState(tracer).tracees.add(t);
  return tr;
}

/** unlink ends t's tracing without resuming it. */
function unlink(t: Task): void {
  const tr = t.ptrace;
  if (!tr) return;
  tr.step = false;
  t.ptrace = null;
  const s = tracers.get(tr.tracer);
  if (!s) return;
  s.tracees.delete(t);
  if (s.tracees.size === 0 && s.zombies.length === 0) tracers.delete(tr.tracer);
}

/** detach implements PTRACE_DETACH (and a tracer's exit): t runs again,
 *  receiving s if it was in a signal-delivery-stop. */
export function detach(t: Task, s: number): void {
  const st = t.ptrace?.stop ?? null;
  unlink(t);
  if (!st) return;
  if (st.kind === PtraceStopKind.Signal) st.resume(s);
  else st.resume(0);
}

/** enterStop holds t in a ptrace stop and tells the tracer (SIGCHLD, wait wake-up). */
function enterStop(t: Task, stop: PtraceStop): void {
  const tr = t.ptrace!;
  tr.stop = stop;
  t.state = TaskState.Blocked;
  notifyTracer(tr.tracer, t, CLD_TRAPPED, stop.code & 0xff);
}

function notifyTracer(tracer: Task, t: Task, code: number, status: number): void {
  const tg = tracer.tg;
  if (tg.exiting) return;
  const act = tg.sigactions[sig.SIGCHLD];
  const stopNote = code === CLD_TRAPPED;
  if (act.handler !== BigInt(sig.SIG_IGN) && !(stopNote && (act.flags & sig.SA_NOCLDSTOP))) {
    sendToGroup(tg, sig.SIGCHLD, { signo: sig.SIGCHLD, code, pid: t.tid, uid: t.creds.uid, status });
  }
  tg.childEvents.notify(EVENT_IN);
}

/** resumeStop implements the resuming requests (CONT, SYSCALL, DETACH's resume). */
export function resumeStop(t: Task, mode: ResumeMode, s: number, step = false): void {
  const tr = t.ptrace!;
  const st = tr.stop!;
  tr.stop = null;
  tr.mode = mode;
  tr.step = step;
  tr.syscallOp = 0;
  st.resume(s);
}

/** running makes a task whose ptrace stop ended go back to guest code. */
function running(t: Task): void {
  if (t.state !== TaskState.Dead) t.kernel.makeReady(t);
}

/** resumeSignal: a resume's signal at a syscall stop is sent to the tracee (ptrace_report_syscall). */
function sendResumeSignal(t: Task, s: number): void {
  if (s > 0 && t.state !== TaskState.Dead) sendToThread(t, s, userInfo(s, t.ptrace?.tracer.tg.pid ?? 0, 0));
}

function trapInfo(code: number): SigInfo {
  return { signo: sig.SIGTRAP, code, pid: 0, uid: 0, status: 0 };
}

/** syscallEnter makes t's syscall-enter stop if its tracer asked for one.
 *  Returns true when t stopped (the kernel dispatches the syscall when the
 *  tracer resumes it). Await points: none. */
export function syscallEnter(t: Task): boolean {
  const tr = t.ptrace!;
  if (tr.mode !== ResumeMode.Syscall) return false;
  const code = sig.SIGTRAP | (tr.options & P.PTRACE_O_TRACESYSGOOD ? 0x80 : 0);
  tr.syscallOp = 1;
  tr.eventMsg = 1; // PTRACE_EVENTMSG_SYSCALL_ENTRY
  enterStop(t, {
    kind: PtraceStopKind.SyscallEnter, code, reported: false, info: trapInfo(code),
    resume: (s) => {
      sendResumeSignal(t, s);
      if (t.state === TaskState.Dead) return;
      // The tracer may have cancelled the syscall (orig_rax = -1): rax stays as it set it.
      if (t.regs.orig_rax === -1) {
        t.state = TaskState.Ready;
        if (!afterSyscall(t)) t.kernel.makeReady(t);
        return;
      }
      // Not inside the tracer's ptrace call (the dispatcher's argument
      // object is shared): in a microtask, before the run loop next waits.
      t.state = TaskState.Blocked;
      queueMicrotask(() => {
        if (t.state !== TaskState.Blocked || t.ptrace?.stop) return;
        t.kernel.runSyscall(t);
        t.kernel.poke();
      });
      t.kernel.poke();
    },
  });
  return true;
}

/** afterSyscall runs when t's syscall has its result (t Ready, not queued):
 *  a pending event stop, then the syscall-exit stop. Returns true when t
 *  stopped (it must not be queued). */
export function afterSyscall(t: Task): boolean {
  const tr = t.ptrace;
  if (!tr || t.state === TaskState.Dead) return false;
  const ev = tr.pendingEvent;
  if (ev) {
    tr.pendingEvent = null;
    eventStop(t, ev.event, ev.msg, () => {
      if (!afterSyscall(t)) running(t);
    });
    return true;
  }
  if (tr.mode !== ResumeMode.Syscall) return false;
  const code = sig.SIGTRAP | (tr.options & P.PTRACE_O_TRACESYSGOOD ? 0x80 : 0);
  tr.syscallOp = 2;
  tr.eventMsg = 2; // PTRACE_EVENTMSG_SYSCALL_EXIT
  enterStop(t, {
    kind: PtraceStopKind.SyscallExit, code, reported: false, info: trapInfo(code),
    resume: (s) => {
      sendResumeSignal(t, s);
      running(t);
    },
  });
  return true;
}

/** eventStop stops t with PTRACE_EVENT_event; then runs next. */
function eventStop(t: Task, event: number, msg: number, next: () => void): void {
  const tr = t.ptrace!;
  tr.eventMsg = msg;
  const code = sig.SIGTRAP | (event << 8);
  enterStop(t, { kind: PtraceStopKind.Event, code, reported: false, info: trapInfo(code), resume: () => next() });
}

/** signalStop is the signal-delivery-stop: the tracer sees info first, and
 *  the signal it resumes with (0: none) is what t then takes. Returns false
 *  when t must not stop (the signal is delivered as usual). */
export function signalStop(t: Task, info: SigInfo): boolean {
  const tr = t.ptrace;
  if (!tr || info.signo === sig.SIGKILL) return false;
  const stop: PtraceStop = {
    kind: PtraceStopKind.Signal, code: info.signo, reported: false, info,
    resume: (s) => {
      if (t.state === TaskState.Dead) return;
      if (s > 0) {
        // The tracer's siginfo (SETSIGINFO) goes with the signal it stopped for; another signal gets a new one.
        const cur = stop.info ?? info;
        const next = s === cur.signo ? cur : userInfo(s, tr.tracer.tg.pid, tr.tracer.creds.uid, SI_USER);
        if (t.ptrace) t.ptrace.injected = next;
        else sendToThread(t, s, next);
      }
      running(t);
    },
  };
  enterStop(t, stop);
  return true;
}

/** takeInjected returns the signal the tracer let through, once. */
export function takeInjected(t: Task): SigInfo | null {
  const tr = t.ptrace;
  if (!tr || !tr.injected) return null;
  const i = tr.injected;
  tr.injected = null;
  return i;
}

/** trapStop makes the PTRACE_EVENT_STOP that PTRACE_INTERRUPT (or a seized
 *  new child) asked for; false when none is pending. */
export function trapStop(t: Task): boolean {
  const tr = t.ptrace;
  if (!tr || !tr.trapPending) return false;
  tr.trapPending = false;
  const j = jobState(t.tg);
  groupTrap(t, j.stopped || j.stopping ? j.stopSig : sig.SIGTRAP);
  return true;
}

/** groupTrap stops a seized tracee with PTRACE_EVENT_STOP and signal s. */
function groupTrap(t: Task, s: number): void {
  const code = s | (P.PTRACE_EVENT_STOP << 8);
  enterStop(t, {
    kind: s === sig.SIGTRAP ? PtraceStopKind.Event : PtraceStopKind.Group, code, reported: false,
    info: { signo: s, code, pid: 0, uid: 0, status: 0 },
    resume: () => running(t),
  });
}

/** groupStop makes a traced task's part of a group stop a ptrace stop: the
 *  tracer sees it (signal s; PTRACE_EVENT_STOP if seized) and resumes it. */
export function groupStop(t: Task, s: number): void {
  const tr = t.ptrace!;
  if (tr.seized) {
    groupTrap(t, s);
    return;
  }
  enterStop(t, { kind: PtraceStopKind.Group, code: s, reported: false, info: null, resume: () => running(t) });
}

/** listen implements PTRACE_LISTEN: the tracee stays in its group stop and
 *  traps again (PTRACE_EVENT_STOP, SIGTRAP) once the group is continued. */
export function listen(t: Task): void {
  const tr = t.ptrace!;
  const st = tr.stop!;
  const j = jobState(t.tg);
  if (!j.stopped && !j.stopping) {
    tr.stop = null;
    groupTrap(t, sig.SIGTRAP);
    return;
  }
  st.listening = true;
}

/** groupContinued is SIGCONT's effect on a tracee: a listening one traps again. */
export function groupContinued(t: Task): void {
  const st = t.ptrace?.stop;
  if (!st || !st.listening) return;
  t.ptrace!.stop = null;
  groupTrap(t, sig.SIGTRAP);
}

/** interrupt implements PTRACE_INTERRUPT (seized tracees). */
export function interrupt(t: Task, groupStopped: boolean): void {
  const tr = t.ptrace!;
  if (tr.stop) {
    // Already in a ptrace stop: a listening one reports again.
    if (tr.stop.listening) {
      tr.stop = null;
      groupTrap(t, jobState(t.tg).stopped ? jobState(t.tg).stopSig : sig.SIGTRAP);
    }
    return;
  }
  if (groupStopped) {
    // Stopped for job control before the seize: report that group stop now.
    groupTrap(t, jobState(t.tg).stopSig || sig.SIGSTOP);
    return;
  }
  tr.trapPending = true;
}

/** cloneHook attaches a new task to its creator's tracer when the tracer
 *  asked for it (TRACEFORK/VFORK/CLONE, or CLONE_PTRACE), and arms the
 *  creator's event stop. Called before the child first runs. */
export function cloneHook(parent: Task, child: Task, flags: number, exitSignal: number): void {
  const tr = parent.ptrace;
  if (!tr) return;
  const CLONE_VFORK = 0x4000;
  const CLONE_PTRACE = 0x2000;
  const CLONE_UNTRACED = 0x800000;
  let event = 0;
  if (!(flags & CLONE_UNTRACED)) {
    if (flags & CLONE_VFORK) event = P.PTRACE_EVENT_VFORK;
    else if (exitSignal !== sig.SIGCHLD) event = P.PTRACE_EVENT_CLONE;
    else event = P.PTRACE_EVENT_FORK;
    // PTRACE_O_TRACEFORK/VFORK/CLONE are 1 << their event number.
    if (!(tr.options & (1 << event))) event = 0;
  }
  if (event === 0 && !(flags & CLONE_PTRACE)) return;
  const ct = attach(child, tr.tracer, tr.seized, tr.options);
  ct.mode = ResumeMode.Cont;
  if (tr.seized) ct.trapPending = true;
  else sendToThread(child, sig.SIGSTOP, userInfo(sig.SIGSTOP, 0, 0));
  if (event) tr.pendingEvent = { event, msg: child.tid };
}

/** execHook: after a successful execve, the EXEC event stop (TRACEEXEC) or,
 *  for an old-style tracee, a SIGTRAP. */
export function execHook(t: Task, oldTid: number): void {
  const tr = t.ptrace;
  if (!tr) return;
  if (tr.options & P.PTRACE_O_TRACEEXEC) tr.pendingEvent = { event: P.PTRACE_EVENT_EXEC, msg: oldTid };
  else if (!tr.seized) sendToThread(t, sig.SIGTRAP, userInfo(sig.SIGTRAP, 0, 0));
}

/** exitEventStop makes the PTRACE_EVENT_EXIT stop of a thread about to exit
 *  with wait status `status` (TRACEEXIT); resolves when the tracer resumes
 *  it. null when there is no such stop. */
export function exitEventStop(t: Task, status: number): Promise<void> | null {
  const tr = t.ptrace;
  if (!tr || !(tr.options & P.PTRACE_O_TRACEEXIT)) return null;
  return new Promise<void>((resolve) => {
    tr.eventMsg = status;
    const code = sig.SIGTRAP | (P.PTRACE_EVENT_EXIT << 8);
    enterStop(t, {
      kind: PtraceStopKind.Event, code, reported: false, info: trapInfo(code),
      resume: () => {
        if (t.state !== TaskState.Dead) t.state = TaskState.Blocked;
        resolve();
      },
      abandon: resolve,
    });
  });
}

/** releaseHook runs when a task is gone (releaseTask): its tracees are
 *  detached (or killed, EXITKILL), and if it was traced its tracer learns of
 *  its exit (wait status `status`) unless the tracer is its parent, which
 *  waits for the process as usual. */
export function releaseHook(t: Task, status: number): void {
  const mine = tracers.get(t);
  if (mine) {
    tracers.delete(t);
    for (const o of [...mine.tracees]) {
      const kill = (o.ptrace?.options ?? 0) & P.PTRACE_O_EXITKILL;
      if (kill) {
        unlink(o);
        o.ptrace?.stop?.abandon?.();
        if (o.state !== TaskState.Dead) killProcessBySignal(o, sig.SIGKILL);
      } else if (o.state !== TaskState.Dead) {
        detach(o, 0);
      }
    }
  }
  const tr = t.ptrace;
  if (!tr) return;
  const st = tr.stop;
  tr.stop = null;
  const tracer = tr.tracer;
  unlink(t);
  st?.abandon?.();
  if (t.isLeader && t.tg.parent === tracer.tg) return;
  if (tracer.state === TaskState.Dead) return;
  const s = tracerState(tracer);
  s.zombies.push({ tid: t.tid, tg: t.tg, status, uid: t.creds.uid });
  const signaled = (status & 0x7f) !== 0;
  const code = signaled ? ((status & 0x80) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
  notifyTracer(tracer, t, code, signaled ? status & 0x7f : (status >> 8) & 0xff);
}

/** TraceeWait is what a tracer's wait reports about one tracee. */
export interface TraceeWait {
  pid: number;
  uid: number;
  /** CLD_TRAPPED, or CLD_EXITED/KILLED/DUMPED for an exit. */
  code: number;
  /** wait4's status and waitid's si_status. */
  status: number;
  siStatus: number;
}

/** Selects tracees by tid and process (wait's pid argument). */
export type TraceeSelector = (tid: number, tg: ThreadGroup) => boolean;

/** waitTracees looks for a stop or exit of a tracee of waiter (of any
 *  thread of its process unless onlyThis, __WNOTHREAD) matching sel. It
 *  returns the report (consumed unless !consume), null if none is ready, or
 *  undefined when waiter has no such tracee at all. */
export function waitTracees(waiter: Task, sel: TraceeSelector, onlyThis: boolean, wantExit: boolean,
  consume: boolean): TraceeWait | null | undefined {
  if (tracers.size === 0) return undefined;
  let any = false;
  const threads = onlyThis ? [waiter] : [...waiter.tg.tasks];
  for (const w of threads) {
    const s = tracers.get(w);
    if (!s) continue;
    for (const o of s.tracees) {
      if (!sel(o.tid, o.tg)) continue;
      any = true;
      const st = o.ptrace?.stop;
      if (!st || st.reported) continue;
      if (consume) st.reported = true;
      const code = st.code & 0xffff;
      return { pid: o.tid, uid: o.creds.uid, code: CLD_TRAPPED, status: (code << 8) | 0x7f, siStatus: code };
    }
    for (let i = 0; i < s.zombies.length; i++) {
      const z = s.zombies[i];
      if (!sel(z.tid, z.tg)) continue;
      any = true;
      if (!wantExit) continue;
      if (consume) {
        s.zombies.splice(i, 1);
        if (s.tracees.size === 0 && s.zombies.length === 0) tracers.delete(w);
      }
      const st = z.status;
      const sg = st & 0x7f;
      const code = sg === 0 ? CLD_EXITED : (st & 0x80) ? CLD_DUMPED : CLD_KILLED;
      return { pid: z.tid, uid: z.uid, code, status: st, siStatus: sg === 0 ? (st >> 8) & 0xff : sg };
    }
  }
  return any ? null : undefined;
}

/** checkTracee returns t's tracee `pid` if t traces it, else throws ESRCH;
 *  stopped: it must be in a ptrace stop too (ptrace_check_attach). */
export function checkTracee(t: Task, pid: number, stopped: boolean): Task {
  const o = t.kernel.tasks.get(pid);
  if (!o || o.state === TaskState.Dead || !o.ptrace || o.ptrace.tracer !== t) throw linuxerr.ESRCH;
  if (stopped && !o.ptrace.stop) throw linuxerr.ESRCH;
  return o;
}
