// Signal delivery (Linux's get_signal/handle_signal and the x86 syscall
// restart logic), run by the kernel's beforeResume hook each time a task is
// about to go back to guest code: join a group stop, take the next signal the
// task does not block, apply its default action or build a handler frame, and
// decide whether an interrupted syscall restarts. Also guest faults
// (deliverFault) and rt_sigreturn. Synchronous throughout.

import * as linuxerr from '../../abi/linux/errno.js';
import { REG } from '../../abi/linux/ptrace.js';
import * as sig from '../../abi/linux/signal.js';
import { SYSNO } from '../../abi/linux/sysno.js';
import { RegsDirty } from '../../platform/platform.js';
import * as frame from './signal_frame.js';
import type { SigInfo } from './signals.js';
import {
  DefaultAction, SI_KERNEL, defaultAction, dequeue, encodeSigInfo, forceSignal, isUnkillableInit, jobState, notifyParentStop,
  CLD_STOPPED, savedMasks, signalName, signalWakeUp, stopPending, taskSignals,
} from './signals.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import { groupStop as ptraceGroupStop, signalStop, takeInjected, trapStop } from './ptrace.js';
import { killProcessBySignal } from './task_exit.js';
import type { SigAction } from './thread_group.js';

const ERESTARTSYS = -linuxerr.ERESTARTSYS.errno;
const ERESTARTNOINTR = -linuxerr.ERESTARTNOINTR.errno;
const ERESTARTNOHAND = -linuxerr.ERESTARTNOHAND.errno;
const ERESTART_RESTARTBLOCK = -linuxerr.ERESTART_RESTARTBLOCK.errno;
const EINTR = -linuxerr.EINTR.errno;
const SIG_DFL = BigInt(sig.SIG_DFL);
const SIG_IGN = BigInt(sig.SIG_IGN);
/** The highest user address (Linux's TASK_SIZE_MAX on x86-64). */
const TASK_SIZE_MAX = 2 ** 47 - 4096;
const FAULT_SIGNALS = new Set([sig.SIGSEGV, sig.SIGBUS, sig.SIGFPE, sig.SIGILL, sig.SIGTRAP, sig.SIGSYS]);

/** beforeResume is the kernel hook: false when t must not run (it died or stopped). */
export function beforeResume(t: Task): boolean {
  // Fast path (every syscall): nothing pending, no stop, no saved mask, no restart code.
  if (t.pendingSignals === 0n && t.tg.pendingSignals === 0n && stopPending.size === 0 && savedMasks.size === 0 &&
    !t.ptrace) {
    const rax = t.regs.rax;
    if (rax > ERESTARTSYS || rax < ERESTART_RESTARTBLOCK) return true;
  }
  return deliver(t);
}

/** interrupted reports whether t is returning from a syscall that was interrupted. */
function syscallResult(t: Task): number | null {
  return t.regs.orig_rax >= 0 ? t.regs.rax : null;
}

function deliver(t: Task): boolean {
  for (const o of savedMasks.keys()) if (o.state === TaskState.Dead) savedMasks.delete(o);
  for (const o of stopPending) if (o.state === TaskState.Dead) stopPending.delete(o);
  const tg = t.tg;
  // A temporary mask (ppoll, pselect) goes now unless the syscall was interrupted:
  // only an interruption lets a signal it unblocked be delivered.
  const res = syscallResult(t);
  const saved = savedMasks.get(t);
  if (saved !== undefined && res !== EINTR && res !== ERESTARTNOHAND && res !== ERESTARTSYS &&
    res !== ERESTARTNOINTR && res !== ERESTART_RESTARTBLOCK) {
    t.sigmask = saved;
    savedMasks.delete(t);
  }
  let handled = false;
  for (;;) {
    if (t.state === TaskState.Dead) return false;
    if (stopPending.has(t)) {
      joinGroupStop(t);
      return false;
    }
    // A tracee: PTRACE_INTERRUPT's trap; the signal its tracer let through
    // goes on without another stop; any other signal stops it first.
    if (t.ptrace && trapStop(t)) return false;
    let info = takeInjected(t);
    if (!info) {
      info = dequeue(t, ~t.sigmask);
      if (!info) break;
      if (t.ptrace && signalStop(t, info)) return false;
    }
    const s = info.signo;
    const act = tg.sigactions[s];
    if (act.handler === SIG_IGN) continue;
    if (act.handler === SIG_DFL) {
      // Init takes no default action but SIGKILL's and SIGSTOP's (get_signal's
      // SIGNAL_UNKILLABLE test): a signal queued while blocked is dropped here.
      if (s !== sig.SIGSTOP && isUnkillableInit(tg)) continue;
      switch (defaultAction(s)) {
        case DefaultAction.Ignore:
        case DefaultAction.Continue:
          continue;
        case DefaultAction.Stop:
          // Terminal stops do not stop an orphaned process group (no one could continue it).
          if (s !== sig.SIGSTOP && orphanedPgrp(t)) continue;
          startGroupStop(t, s);
          return false;
        default:
          t.kernel.log.debug(`process ${tg.pid} killed by ${signalName(s)}`);
          killProcessBySignal(t, s);
          return false;
      }
    }
    if (!handled) restartWithHandler(t, act);
    if (!setupFrame(t, s, info, act)) {
      frameFailed(t, s);
      continue;
    }
    handled = true;
  }
  if (!handled) restartWithoutHandler(t);
  const rest = savedMasks.get(t);
  if (rest !== undefined) {
    t.sigmask = rest;
    savedMasks.delete(t);
  }
  return true;
}

/** rewind makes t execute its syscall instruction again (2 bytes) with the same number. */
function rewind(t: Task, nr: number): void {
  const r = t.regs;
  r.rax = nr;
  r.rip = r.rip - 2;
  t.dirty = RegsDirty.All;
}

/** restartWithHandler: a handler runs, so only SA_RESTART (for ERESTARTSYS) and ERESTARTNOINTR restart. */
function restartWithHandler(t: Task, act: SigAction): void {
  switch (syscallResult(t)) {
    case ERESTART_RESTARTBLOCK:
    case ERESTARTNOHAND:
      t.setResult(EINTR);
      return;
    case ERESTARTSYS:
      if (act.flags & sig.SA_RESTART) rewind(t, t.regs.orig_rax);
      else t.setResult(EINTR);
      return;
    case ERESTARTNOINTR:
      rewind(t, t.regs.orig_rax);
      return;
  }
}

/** restartWithoutHandler: no handler ran, so every interrupted syscall restarts. */
function restartWithoutHandler(t: Task): void {
  switch (syscallResult(t)) {
    case ERESTARTNOHAND:
    case ERESTARTSYS:
    case ERESTARTNOINTR:
      rewind(t, t.regs.orig_rax);
      return;
    case ERESTART_RESTARTBLOCK:
      rewind(t, SYSNO.restart_syscall);
      return;
  }
}

/** setupFrame builds the handler's frame and points t at the handler; false
 *  if the frame cannot be written (the caller then forces SIGSEGV). */
function setupFrame(t: Task, s: number, info: SigInfo, act: SigAction): boolean {
  const k = t.kernel;
  const regs = t.regs;
  if (!(act.flags & sig.SA_RESTORER) || act.handler >= BigInt(TASK_SIZE_MAX)) return false;
  const fp = k.platform.getFPState(t.thread);
  const fpBytes = frame.sigframeFP(fp);
  const place = frame.placeFrame(regs.rsp, fp.length, (act.flags & sig.SA_ONSTACK) !== 0, t.altStack);
  if (!place) return false;
  const saved = savedMasks.get(t) ?? t.sigmask;
  const ts = taskSignals(t);
  const bytes = frame.buildFrame(place, {
    regs, restorer: act.restorer, info: act.flags & sig.SA_SIGINFO ? encodeSigInfo(info) : null,
    mask: saved, alt: t.altStack, trapno: ts.trapno, err: ts.err, cr2: ts.cr2, fp,
  });
  try {
    t.mm.copyOut(place.fpstate, fpBytes);
    t.mm.copyOut(place.frame, bytes);
  } catch (e) {
    if (e instanceof linuxerr.SyscallError) return false;
    throw e;
  }
  const r = regs.u64;
  r[REG.rip] = act.handler;
  r[REG.rsp] = BigInt(place.frame);
  r[REG.rdi] = BigInt(s);
  r[REG.rsi] = BigInt(place.frame + frame.INFO_OFFSET);
  r[REG.rdx] = BigInt(place.frame + frame.UC_OFFSET);
  r[REG.rax] = 0n;
  r[REG.eflags] &= ~frame.HANDLER_CLEAR_EFLAGS;
  t.dirty = RegsDirty.All;
  // The handler starts with a fresh FPU, as on Linux.
  if (fp.length) k.platform.setFPState(t.thread, frame.initFP(fp));
  savedMasks.delete(t);
  let mask = t.sigmask | act.mask;
  if (!(act.flags & sig.SA_NODEFER)) mask |= sig.sigbit(s);
  t.sigmask = mask & ~sig.UNBLOCKABLE;
  if (t.altStack.flags & frame.SS_AUTODISARM) t.altStack = { sp: 0, size: 0, flags: frame.SS_DISABLE };
  if (act.flags & sig.SA_RESETHAND) t.tg.sigactions[s] = { ...act, handler: SIG_DFL };
  return true;
}

/** frameFailed is Linux's force_sigsegv: a SIGSEGV handler that cannot run kills. */
function frameFailed(t: Task, s: number): void {
  t.kernel.log.debug(`task ${t.tid}: cannot set up a frame for ${signalName(s)}`);
  if (s === sig.SIGSEGV) {
    t.tg.sigactions[sig.SIGSEGV] = { ...t.tg.sigactions[sig.SIGSEGV], handler: SIG_DFL };
  }
  forceSignal(t, sig.SIGSEGV, { signo: sig.SIGSEGV, code: SI_KERNEL, pid: 0, uid: 0, status: 0 });
}

/** sigreturn implements rt_sigreturn(2): restores what the frame at rsp-8
 *  recorded. A frame that cannot be read or restored raises SIGSEGV. */
export function sigreturn(t: Task): void {
  const k = t.kernel;
  const regs = t.regs;
  const at = regs.rsp - 8;
  const backup = regs.clone();
  const ts = taskSignals(t);
  ts.restart = null;
  try {
    const b = t.mm.copyIn(at, frame.FRAME_SIZE);
    const ctx = frame.restoreRegs(b, regs);
    if (regs.rip >= TASK_SIZE_MAX) throw linuxerr.EFAULT;
    t.sigmask = ctx.mask & ~sig.UNBLOCKABLE;
    const cur = k.platform.getFPState(t.thread);
    if (cur.length) {
      if (ctx.fpstate === 0) {
        k.platform.setFPState(t.thread, frame.initFP(cur));
      } else {
        const user = t.mm.copyIn(ctx.fpstate, cur.length + 4);
        k.platform.setFPState(t.thread, frame.restoredFP(user, cur.length));
      }
    }
    restoreAltStack(t, ctx.alt);
  } catch (e) {
    regs.copyFrom(backup);
    k.log.debug(`task ${t.tid}: bad rt_sigreturn frame at ${at.toString(16)}: ${String(e)}`);
    forceSignal(t, sig.SIGSEGV, { signo: sig.SIGSEGV, code: SI_KERNEL, pid: 0, uid: 0, status: 0 });
    t.setResult(0);
  }
  t.dirty = RegsDirty.All;
}

/** restoreAltStack applies a frame's uc_stack as sigaltstack(2) would, ignoring errors. */
function restoreAltStack(t: Task, alt: frame.AltStack): void {
  const sp = t.regs.rsp;
  if (frame.altStackFlags(t.altStack, sp) === frame.SS_ONSTACK) return; // EPERM
  const mode = (alt.flags & ~frame.SS_AUTODISARM) >>> 0;
  if (mode === frame.SS_DISABLE) t.altStack = { sp: 0, size: 0, flags: frame.SS_DISABLE };
  else if ((mode === 0 || mode === frame.SS_ONSTACK) && alt.size >= 2048) t.altStack = { ...alt };
}

// ---- Job control ----

/** startGroupStop begins a group stop for s (Linux's do_signal_stop): every
 *  other thread is told to stop, then t stops. */
function startGroupStop(t: Task, s: number): void {
  const tg = t.tg;
  const j = jobState(tg);
  if (!j.stopped) j.stopSig = s;
  j.stopping = true;
  for (const o of tg.tasks) {
    if (o === t || o.state === TaskState.Dead || taskSignals(o).stopped) continue;
    stopPending.add(o);
    signalWakeUp(o);
  }
  joinGroupStop(t);
}

/** joinGroupStop stops t; the last thread to stop completes the group stop and tells the parent. */
function joinGroupStop(t: Task): void {
  stopPending.delete(t);
  // A tracee's part of the stop is a ptrace stop its tracer ends.
  if (t.ptrace) ptraceGroupStop(t, jobState(t.tg).stopSig);
  else taskSignals(t).stopped = true;
  const tg = t.tg;
  for (const o of tg.tasks) if (o.state !== TaskState.Dead && stopPending.has(o)) return;
  const j = jobState(tg);
  j.stopping = false;
  if (j.stopped) return;
  j.stopped = true;
  j.reportStop = true;
  j.reportCont = false;
  t.kernel.log.debug(`process ${tg.pid} stopped by ${signalName(j.stopSig)}`);
  notifyParentStop(tg, CLD_STOPPED, j.stopSig);
}

/** orphanedPgrp is Linux's is_current_pgrp_orphaned: no process of t's group
 *  has a parent in another group of the same session. The sandbox's init has
 *  no parent, as a container's init has none in its namespace. */
function orphanedPgrp(t: Task): boolean {
  const { pgid, sid } = t.tg;
  for (const g of t.kernel.threadGroups.values()) {
    if (g.pgid !== pgid || g.exiting) continue;
    const p = g.parent;
    if (p && p.pgid !== pgid && p.sid === sid) return false;
  }
  return true;
}

// ---- Faults ----

/** deliverFault handles a host signal stop of t: a guest fault becomes a forced
 *  signal with the host's siginfo; any other stop (the platform's interrupt,
 *  stray host signals) just lets t re-check its signals. */
export function deliverFault(t: Task, s: number): void {
  const k = t.kernel;
  if (FAULT_SIGNALS.has(s)) {
    const raw = k.platform.siginfo(t.thread);
    const v = new DataView(raw.buffer, raw.byteOffset, 128);
    const code = v.getInt32(8, true);
    const addr = Number(v.getBigUint64(16, true));
    recordFault(t, s, code, addr);
    if (k.log.debugEnabled) {
      k.log.debug(`task ${t.tid}: ${signalName(s)} code ${code} addr ${addr.toString(16)} at rip ${t.regs.rip.toString(16)}`);
    }
    forceSignal(t, s, { signo: s, code, pid: 0, uid: 0, status: 0, raw });
  }
  if (t.state !== TaskState.Dead) k.makeReady(t);
}

const SEGV_ACCERR = 2;
const TRAP_BRKPT = 1;
const FPE_INTDIV = 1;
const FPE_INTOVF = 2;

/** recordFault keeps trapno/err/cr2 for the frame's sigcontext. The host's
 *  siginfo has no error code: err has only the user bit and, for access
 *  errors, the protection bit (whether it was a write is unknown). */
function recordFault(t: Task, s: number, code: number, addr: number): void {
  const ts = taskSignals(t);
  switch (s) {
    case sig.SIGSEGV:
      if (code === SI_KERNEL) {
        ts.trapno = 13; // general protection
        ts.err = 0;
      } else {
        ts.trapno = 14; // page fault
        ts.err = 4 | (code === SEGV_ACCERR ? 1 : 0);
        ts.cr2 = addr;
      }
      return;
    case sig.SIGBUS:
      ts.trapno = 14;
      ts.err = 4;
      ts.cr2 = addr;
      return;
    case sig.SIGFPE:
      ts.trapno = code === FPE_INTDIV || code === FPE_INTOVF ? 0 : 19;
      ts.err = 0;
      return;
    case sig.SIGILL:
      ts.trapno = 6;
      ts.err = 0;
      return;
    case sig.SIGTRAP:
      ts.trapno = code === SI_KERNEL || code === TRAP_BRKPT ? 3 : 1;
      ts.err = 0;
      return;
  }
}
