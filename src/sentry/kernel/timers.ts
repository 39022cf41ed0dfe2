// Interval timers (setitimer/alarm) and POSIX timers (timer_create). Timers
// on wall clocks run on Node timers (armDeadline); timers on CPU clocks are
// sampled every CPU_SAMPLE_MS while armed, since the host does not tell the
// Sentry when a guest thread has used some amount of CPU. Expiry sends a
// signal through signals.ts; a timer whose previous signal is still pending
// counts an overrun instead, as Linux's preallocated timer signal does.

import * as linuxerr from '../../abi/linux/errno.js';
import { SIGALRM, SIGPROF, SIGVTALRM, sigbit } from '../../abi/linux/signal.js';
import type { SigInfo } from './signals.js';
import { SI_KERNEL, SI_TIMER, sendToGroup, sendToThread } from './signals.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import type { ThreadGroup } from './thread_group.js';
import { adjustArmed, armDeadline, monotonicNs, processCpu, processCpuNs } from './time.js';

/** How often armed CPU-clock timers look at the clock. */
const CPU_SAMPLE_MS = 10;

export const ITIMER_REAL = 0;
export const ITIMER_VIRTUAL = 1;
export const ITIMER_PROF = 2;

export const SIGEV_SIGNAL = 0;
export const SIGEV_NONE = 1;
export const SIGEV_THREAD = 2;
export const SIGEV_THREAD_ID = 4;

/** ITimerValue: time to the next expiry (0: disarmed) and the reload interval, in ns. */
export interface ITimerValue {
  value: bigint;
  interval: bigint;
}

/** TimerClock is what a timer measures: now() in ns, and whether it is a CPU clock (sampled). */
export interface TimerClock {
  now: () => bigint;
  cpu: boolean;
}

/** Timer is one armed-or-not timer of a process, of any kind. */
class Timer {
  readonly clock: TimerClock;
  /** Absolute expiry on clock (0n: disarmed) and reload interval. */
  deadline = 0n;
  interval = 0n;
  /** Called with the number of expirations (> 1 when some were missed). */
  readonly onExpire: (n: number) => void;
  /** counted: the timer's expiry has an effect, so it counts as armed for the run loop. */
  readonly counted: boolean;
  private cancel: (() => void) | null = null;
  private sampled = false;

  constructor(clock: TimerClock, counted: boolean, onExpire: (n: number) => void) {
    this.clock = clock;
    this.counted = counted;
    this.onExpire = onExpire;
  }

  /** get returns the time left and the interval; an expired timer whose
   *  expiry is not processed yet shows minLeft, never 0 (which means disarmed). */
  get(minLeft = 1n): ITimerValue {
    if (this.deadline === 0n) return { value: 0n, interval: this.interval };
    const left = this.deadline - this.clock.now();
    return { value: left > 0n ? left : minLeft, interval: this.interval };
  }

  /** set arms the timer at absolute deadline (0n disarms). */
  set(deadline: bigint, interval: bigint): void {
    this.disarm();
    this.interval = interval;
    this.deadline = deadline;
    if (deadline === 0n) return;
    if (this.counted) adjustArmed(1);
    if (this.clock.cpu) {
      this.sampled = true;
      cpuTimers.add(this);
      startSampler();
    } else {
      this.cancel = armDeadline(this.clock.now, deadline, () => {
        this.cancel = null;
        this.check();
      });
    }
  }

  disarm(): void {
    if (this.deadline !== 0n && this.counted) adjustArmed(-1);
    this.deadline = 0n;
    this.cancel?.();
    this.cancel = null;
    if (this.sampled) {
      cpuTimers.delete(this);
      this.sampled = false;
    }
  }

  /** check processes an expiry that is due; re-arms periodic timers. */
  check(): void {
    if (this.deadline === 0n) return;
    const now = this.clock.now();
    if (now < this.deadline) {
      if (!this.clock.cpu && !this.cancel) {
        this.cancel = armDeadline(this.clock.now, this.deadline, () => {
          this.cancel = null;
          this.check();
        });
      }
      return;
    }
    let n = 1;
    const interval = this.interval;
    if (interval > 0n) {
      const missed = (now - this.deadline) / interval;
      n += Number(missed);
      const next = this.deadline + (missed + 1n) * interval;
      this.disarm();
      this.set(next, interval);
    } else {
      this.disarm();
    }
    this.onExpire(n);
  }
}

// --- the CPU-clock sampler ---------------------------------------------------------

const cpuTimers = new Set<Timer>();
let sampler: ReturnType<typeof setInterval> | null = null;

function startSampler(): void {
  if (sampler) return;
  sampler = setInterval(() => {
    for (const tm of [...cpuTimers]) tm.check();
    if (cpuTimers.size === 0 && sampler) {
      clearInterval(sampler);
      sampler = null;
    }
  }, CPU_SAMPLE_MS);
}

// --- per-process state ---------------------------------------------------------------

interface PosixTimer {
  readonly id: number;
  readonly timer: Timer;
  readonly notify: number;
  readonly signo: number;
  /** sigev_value, returned in si_value. */
  readonly value: bigint;
  /** SIGEV_THREAD_ID: the thread to signal. */
  readonly target: Task | null;
  /** The overrun count of the last signal sent; grows while it stays pending. */
  overrun: number;
  /** The overrun count of the last signal delivered. */
  overrunLast: number;
  /** That signal's siginfo: the signal code keeps it until delivery, so its
   *  si_overrun can still be raised (Linux fills it in at delivery). */
  lastInfo: SigInfo | null;
}

interface ProcTimers {
  itimers: [Timer | null, Timer | null, Timer | null];
  posix: Map<number, PosixTimer>;
  nextId: number;
}

const procs = new WeakMap<ThreadGroup, ProcTimers>();

function procOf(tg: ThreadGroup): ProcTimers {
  let p = procs.get(tg);
  if (!p) {
    p = { itimers: [null, null, null], posix: new Map(), nextId: 0 };
    procs.set(tg, p);
  }
  return p;
}

// --- interval timers ------------------------------------------------------------------

const ITIMER_SIGNALS = [SIGALRM, SIGVTALRM, SIGPROF];

function itimerClock(tg: ThreadGroup, which: number): TimerClock {
  switch (which) {
    case ITIMER_REAL: return { now: monotonicNs, cpu: false };
    case ITIMER_VIRTUAL: return { now: () => processCpu(tg).user, cpu: true };
    default: return { now: () => processCpuNs(tg), cpu: true };
  }
}

function itimerOf(tg: ThreadGroup, which: number): Timer {
  if (which < ITIMER_REAL || which > ITIMER_PROF) throw linuxerr.EINVAL;
  const p = procOf(tg);
  let tm = p.itimers[which];
  if (!tm) {
    const s = ITIMER_SIGNALS[which];
    tm = new Timer(itimerClock(tg, which), true, () => {
      if (!tg.exiting) sendToGroup(tg, s, kernelInfo(s));
    });
    p.itimers[which] = tm;
  }
  return tm;
}

function kernelInfo(s: number): SigInfo {
  return { signo: s, code: SI_KERNEL, pid: 0, uid: 0, status: 0 };
}

/** What an interval timer about to fire reports: 1 us (REAL), a tick (CPU timers). */
const ITIMER_MIN_LEFT = [1000n, 4_000_000n, 4_000_000n];

/** getITimer returns the current value of timer which (ITIMER_*); EINVAL for others. */
export function getITimer(tg: ThreadGroup, which: number): ITimerValue {
  return itimerOf(tg, which).get(ITIMER_MIN_LEFT[which]);
}

/** setITimer arms (value > 0) or disarms timer which; returns the old value. */
export function setITimer(tg: ThreadGroup, which: number, v: ITimerValue): ITimerValue {
  const tm = itimerOf(tg, which);
  const old = tm.get(ITIMER_MIN_LEFT[which]);
  tm.set(v.value > 0n ? tm.clock.now() + v.value : 0n, v.interval);
  return old;
}

// --- POSIX timers ------------------------------------------------------------------------

/** SigEvent is a decoded struct sigevent. */
export interface SigEvent {
  notify: number;
  signo: number;
  value: bigint;
  /** The thread of SIGEV_THREAD_ID (resolved and checked by the caller). */
  target: Task | null;
}

/** Linux's limit on ids is INT_MAX; a process cannot come near it here. */
const MAX_TIMER_ID = 0x7fff_ffff;

/** createTimer adds a POSIX timer on clock to tg and returns its id. A null
 *  event means SIGALRM to the process with the timer's id as si_value. */
export function createTimer(tg: ThreadGroup, clock: TimerClock, event: SigEvent | null): number {
  const p = procOf(tg);
  let id = p.nextId;
  while (p.posix.has(id)) id = (id + 1) & MAX_TIMER_ID;
  p.nextId = (id + 1) & MAX_TIMER_ID;
  const ev = event ?? { notify: SIGEV_SIGNAL, signo: SIGALRM, value: BigInt(id), target: null };
  const pt: PosixTimer = {
    id, notify: ev.notify, signo: ev.signo, value: ev.value, target: ev.target, overrun: 0, overrunLast: 0, lastInfo: null,
    timer: new Timer(clock, ev.notify !== SIGEV_NONE, (n) => expirePosix(tg, pt, n)),
  };
  p.posix.set(id, pt);
  return id;
}

function timerOf(tg: ThreadGroup, id: number): PosixTimer {
  const pt = procs.get(tg)?.posix.get(id);
  if (!pt) throw linuxerr.EINVAL;
  return pt;
}

/** timerInfo is the siginfo of a POSIX timer signal (SI_TIMER: si_tid, si_overrun, si_value). */
export function timerInfo(signo: number, id: number, overrun: number, value: bigint): SigInfo {
  const raw = new Uint8Array(128);
  const v = new DataView(raw.buffer);
  v.setInt32(0, signo, true);
  v.setInt32(8, SI_TIMER, true);
  v.setInt32(16, id, true);
  v.setInt32(20, overrun, true);
  v.setBigUint64(24, BigInt.asUintN(64, value), true);
  return { signo, code: SI_TIMER, pid: 0, uid: 0, status: 0, raw };
}

function expirePosix(tg: ThreadGroup, pt: PosixTimer, n: number): void {
  if (pt.notify === SIGEV_NONE || tg.exiting) return;
  const target = pt.target;
  if (target && target.state === TaskState.Dead) return;
  const bit = sigbit(pt.signo);
  const pending = target ? (target.pendingSignals & bit) !== 0n : (tg.pendingSignals & bit) !== 0n;
  if (pending && pt.lastInfo?.raw) {
    // Still queued (so we assume: another sender's instance looks the same):
    // count the expirations in the queued signal instead of sending another.
    pt.overrun = Math.min(pt.overrun + n, MAX_TIMER_ID);
    new DataView(pt.lastInfo.raw.buffer).setInt32(20, pt.overrun, true);
    return;
  }
  // The previous signal was delivered: its count is what timer_getoverrun
  // reports until this new one is (Linux's it_overrun_last).
  pt.overrunLast = pt.overrun;
  pt.overrun = Math.min(n - 1, MAX_TIMER_ID);
  const info = timerInfo(pt.signo, pt.id, pt.overrun, pt.value);
  pt.lastInfo = info;
  if (target) sendToThread(target, pt.signo, info);
  else sendToGroup(tg, pt.signo, info);
}

/** setTimer implements timer_settime on timer id: value is relative unless
 *  absolute; 0 disarms. Returns the old setting. EINVAL for a bad id. */
export function setTimer(tg: ThreadGroup, id: number, absolute: boolean, v: ITimerValue): ITimerValue {
  const pt = timerOf(tg, id);
  const tm = pt.timer;
  const old = tm.get();
  if (v.value === 0n) {
    tm.set(0n, v.interval);
    return old;
  }
  // An absolute time already past expires at once (deadline <= now).
  const deadline = absolute ? (v.value > 0n ? v.value : 1n) : tm.clock.now() + v.value;
  tm.set(deadline, v.interval);
  if (deadline <= tm.clock.now()) tm.check();
  return old;
}

/** getTimer implements timer_gettime. */
export function getTimer(tg: ThreadGroup, id: number): ITimerValue {
  const pt = timerOf(tg, id);
  if (pt.notify === SIGEV_NONE) pt.timer.check(); // nobody else moves it forward
  return pt.timer.get();
}

/** getOverrun implements timer_getoverrun: the overrun count of the last signal. */
export function getOverrun(tg: ThreadGroup, id: number): number {
  const pt = timerOf(tg, id);
  const bit = sigbit(pt.signo);
  const holder = pt.target ?? tg;
  return (holder.pendingSignals & bit) !== 0n ? pt.overrunLast : pt.overrun;
}

/** deleteTimer implements timer_delete. */
export function deleteTimer(tg: ThreadGroup, id: number): void {
  const pt = timerOf(tg, id);
  pt.timer.disarm();
  procs.get(tg)!.posix.delete(id);
}

/** execTimers drops tg's POSIX timers (execve keeps only the interval timers). */
export function execTimers(tg: ThreadGroup): void {
  const p = procs.get(tg);
  if (!p) return;
  for (const pt of p.posix.values()) pt.timer.disarm();
  p.posix.clear();
}

/** exitTimers disarms every timer of a process that has exited. */
export function exitTimers(tg: ThreadGroup): void {
  const p = procs.get(tg);
  if (!p) return;
  execTimers(tg);
  for (const tm of p.itimers) tm?.disarm();
}
