// Task and process exit: thread exit, group exit, death by signal, zombies,
// reparenting, and the exit of init (which ends the sandbox).

import * as sig from '../../abi/linux/signal.js';
import { EVENT_IN } from '../vfs/waiter.js';
import { clearChildTid, futexExitRelease } from './futex.js';
import { ptraceActive, releaseHook } from './ptrace.js';
import { deliverParentDeathSignals } from './signals.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import type { ThreadGroup } from './thread_group.js';
import { accountHostThreadEnd, processCpu } from './time.js';
import { exitTimers } from './timers.js';

/** Signals whose default action dumps core (the 0x80 bit in a wait status). */
const CORE_SIGNALS = new Set([sig.SIGQUIT, sig.SIGILL, sig.SIGTRAP, sig.SIGABRT, sig.SIGBUS, sig.SIGFPE,
  sig.SIGSEGV, sig.SIGXCPU, sig.SIGXFSZ, sig.SIGSYS]);

/** exitStatusCode is the wait status of a normal exit with code. */
export function exitStatusCode(code: number): number {
  return (code & 0xff) << 8;
}

/** exitStatusSignal is the wait status of death by signal s. */
export function exitStatusSignal(s: number): number {
  return s | (CORE_SIGNALS.has(s) ? 0x80 : 0);
}

/** exitTask ends one thread (exit(2)). When it is the last, the process
 *  exits: with the group's status after exit_group or a fatal signal, else
 *  with this last thread's status (Linux >= 6.0's synchronize_group_exit;
 *  the leader's own code does not matter). */
export function exitTask(t: Task, status: number): void {
  if (t.state === TaskState.Dead) return;
  const tg = t.tg;
  if (t.ptrace) t.ptrace.exitStatus = status;
  exitMm(t, t.mm.users > 1);
  releaseTask(t);
  if (tg.tasks.size === 0) exitProcess(tg, tg.exiting ? tg.exitStatus : status);
}

/** exitMm is the futex side of a thread leaving its address space (Linux's
 *  mm_release): robust futexes and PI futexes it holds, then clear_child_tid
 *  when the memory outlives it. */
function exitMm(t: Task, othersUseMm: boolean): void {
  futexExitRelease(t);
  clearChildTid(t, othersUseMm);
}

/** releaseTask detaches a task from its host thread and the task table; its
 *  file table is closed when no live task shares it any more. A zombie
 *  leader keeps its tid (the process's pid) in the task table until reaped.
 *  accounted: the caller already recorded the host thread's CPU time. */
export function releaseTask(t: Task, accounted = false): void {
  if (t.state === TaskState.Dead) return;
  const k = t.kernel;
  if (!accounted) accountHostThreadEnd(t, false);
  t.state = TaskState.Dead;
  t.interrupt?.();
  t.tg.tasks.delete(t);
  if (t.tid !== t.tg.pid) k.tasks.delete(t.tid);
  k.platform.killThread(t.thread);
  t.thread.owner = null;
  // ptrace: a tracer's tracees are let go; a tracee's exit is reported to its tracer.
  if (ptraceActive()) releaseHook(t, t.tg.exiting ? t.tg.exitStatus : t.ptrace?.exitStatus ?? 0);
  if (--t.mm.users === 0) t.mm.release();
  let shared = false;
  for (const o of k.tasks.values()) {
    if (o.fdTable === t.fdTable && o.state !== TaskState.Dead) {
      shared = true;
      break;
    }
  }
  if (!shared) t.fdTable.closeAll();
}

/** exitGroup ends every thread of t's process (exit_group(2), fatal signals). */
export function exitGroup(t: Task, status: number): void {
  const tg = t.tg;
  if (!tg.exiting) {
    tg.exiting = true;
    tg.exitStatus = status;
  }
  const all = [...tg.tasks].filter((o) => o.state !== TaskState.Dead);
  if (all.length === 0) return;
  // Every thread's futex cleanup runs before any host thread is killed: a
  // killed running thread takes its whole host process, and the memory.
  let users = all[0].mm.users;
  for (const o of all) exitMm(o, users-- > 1);
  for (const o of all) accountHostThreadEnd(o, false);
  for (const o of all) releaseTask(o, true);
  if (tg.tasks.size === 0) exitProcess(tg, tg.exitStatus);
}

/** exitProcess turns a process whose last thread is gone into a zombie. */
function exitProcess(tg: ThreadGroup, status: number): void {
  const leader = tg.leader;
  const k = leader.kernel;
  tg.exiting = true;
  tg.exitStatus = status;
  exitTimers(tg);
  leader.fdTable.closeAll();
  tg.vforkDone?.();
  tg.vforkDone = null;
  deliverParentDeathSignals(tg);
  // Children go to init (or the nearest subreaper).
  const reaper = findReaper(tg);
  for (const c of tg.children) {
    c.parent = reaper;
    if (reaper) {
      reaper.children.add(c);
      if (c.zombie) reaper.childEvents.notify(EVENT_IN);
    }
  }
  tg.children.clear();
  if (tg === k.init) {
    // The sandbox ends with init: kill everything else.
    for (const other of [...k.threadGroups.values()]) {
      if (other === tg) continue;
      for (const o of [...other.tasks]) releaseTask(o);
    }
    tg.zombie = true;
    k.initExited(status);
    return;
  }
  const parent = tg.parent;
  const autoReap = parent !== null && tg.exitSignal === sig.SIGCHLD &&
    (parent.sigactions[sig.SIGCHLD].handler === BigInt(sig.SIG_IGN) ||
      (parent.sigactions[sig.SIGCHLD].flags & sig.SA_NOCLDWAIT) !== 0);
  if (!parent || autoReap) {
    reap(tg, false);
  } else {
    tg.zombie = true;
    // clone(2)'s exit signal is any byte: Linux sends only a valid, non-zero one.
    if (tg.exitSignal >= 1 && tg.exitSignal <= 64) k.signalProcess?.(parent, tg.exitSignal, tg);
    parent.childEvents.notify(EVENT_IN);
  }
}

function findReaper(tg: ThreadGroup): ThreadGroup | null {
  for (let p = tg.parent; p; p = p.parent) if (p.subreaper && !p.exiting) return p;
  const init = tg.leader.kernel.init;
  return init && init !== tg ? init : null;
}

/** reap removes a zombie from the process tree and frees its pid. A parent
 *  that waited for it (waited) adds its CPU time and its waited-for
 *  children's to its own children's times (times(2), RUSAGE_CHILDREN). */
export function reap(tg: ThreadGroup, waited = true): void {
  const k = tg.leader.kernel;
  tg.zombie = false;
  tg.parent?.children.delete(tg);
  if (tg.parent && waited) {
    const own = processCpu(tg);
    tg.parent.childUserNs += own.user + tg.childUserNs;
    tg.parent.childSysNs += own.sys + tg.childSysNs;
  }
  k.threadGroups.delete(tg.pid);
  k.tasks.delete(tg.pid);
}

/** killProcessBySignal ends t's process as if by an unhandled fatal signal s. */
export function killProcessBySignal(t: Task, s: number): void {
  exitGroup(t, exitStatusSignal(s));
}

/** handleSignalStop handles a host signal stop of a guest thread: a fault in
 *  guest code (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP), or a stray stop. */
export function handleSignalStop(t: Task, s: number): void {
  const k = t.kernel;
  if (k.deliverFault) {
    k.deliverFault(t, s);
    return;
  }
  switch (s) {
    case sig.SIGSEGV:
    case sig.SIGBUS:
    case sig.SIGFPE:
    case sig.SIGILL:
    case sig.SIGTRAP:
    case sig.SIGSYS:
      k.log.debug(`task ${t.tid}: fatal ${sig.SIGNAL_NAMES[s]} at rip ${t.regs.rip.toString(16)}`);
      killProcessBySignal(t, s);
      return;
    default:
      // A stop we did not ask for (SIGSTOP, SIGCHLD...): suppress it and go on.
      k.makeReady(t);
  }
}
