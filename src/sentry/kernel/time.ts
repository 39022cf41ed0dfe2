// Clocks and interval timers. Guests mostly read time through the host vDSO
// without trapping, so the syscall clocks are the host's: CLOCK_MONOTONIC is
// process.hrtime (libuv reads the host CLOCK_MONOTONIC), CLOCK_REALTIME is the
// host wall clock with sub-millisecond precision. CPU clocks come from the
// host threads that run guest code (/proc/<tid>/stat, schedstat when enabled).

import { readFileSync } from 'node:fs';
import { SIGALRM } from '../../abi/linux/signal.js';
import * as linuxerr from '../../abi/linux/errno.js';
import type { MemoryManager } from '../mm/mm.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import type { ThreadGroup } from './thread_group.js';

export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_PROCESS_CPUTIME_ID = 2;
export const CLOCK_THREAD_CPUTIME_ID = 3;
export const CLOCK_MONOTONIC_RAW = 4;
export const CLOCK_REALTIME_COARSE = 5;
export const CLOCK_MONOTONIC_COARSE = 6;
export const CLOCK_BOOTTIME = 7;
export const CLOCK_REALTIME_ALARM = 8;
export const CLOCK_BOOTTIME_ALARM = 9;
export const CLOCK_TAI = 11;

export const NS_PER_SEC = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;
/** USER_HZ: the unit of clock_t (times(2), /proc stat fields). */
export const USER_HZ = 100;
const NS_PER_TICK = NS_PER_SEC / BigInt(USER_HZ);
/** Node timers take at most 2^31-1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

// Realtime = monotonic + offset; the offset follows the host wall clock if it
// is stepped (checked against Date.now(), which has millisecond precision).
let realOffset = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) - monotonicNs();
const STEP_SLACK = 5n * NS_PER_MS;

export function realtimeNs(): bigint {
  const mono = monotonicNs();
  const wall = BigInt(Date.now()) * NS_PER_MS;
  let r = mono + realOffset;
  if (r < wall - STEP_SLACK || r > wall + STEP_SLACK) {
    realOffset = wall - mono;
    r = wall;
  }
  return r;
}

// CLOCK_BOOTTIME differs from CLOCK_MONOTONIC only by time spent suspended;
// /proc/uptime (10 ms resolution) tells whether the host ever was.
const bootOffset: bigint = (() => {
  try {
    const up = BigInt(Math.round(parseFloat(readFileSync('/proc/uptime', 'latin1').split(' ')[0]) * 1e9));
    const d = up - monotonicNs();
    return d > NS_PER_SEC ? d : 0n;
  } catch {
    return 0n;
  }
})();

export function boottimeNs(): bigint {
  return monotonicNs() + bootOffset;
}

/** CPU time split in user and system parts, in ns. */
export interface CpuTimes {
  user: bigint;
  sys: bigint;
}

interface HostStat {
  user: bigint;
  sys: bigint;
  minflt: number;
  majflt: number;
}

/** readHostStat reads utime/stime/faults of a host thread or process; null if it is gone. */
function readHostStat(path: string): HostStat | null {
  try {
    const s = readFileSync(path, 'latin1');
    // Fields after "(comm)"; comm may hold spaces and parentheses.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return {
      minflt: Number(f[7]), majflt: Number(f[9]),
      user: BigInt(f[11]) * NS_PER_TICK, sys: BigInt(f[12]) * NS_PER_TICK,
    };
  } catch {
    return null;
  }
}

/** schedstatNs reads a host thread's run time in ns (0 when schedstats are off). */
function schedstatNs(tid: number): bigint {
  try {
    return BigInt(readFileSync(`/proc/${tid}/schedstat`, 'latin1').split(' ')[0]);
  } catch {
    return 0n;
  }
}

/** splitLike scales total ns into user/sys in the proportion of tick-based times. */
function splitLike(total: bigint, ticks: CpuTimes): CpuTimes {
  const sum = ticks.user + ticks.sys;
  if (total <= sum) return ticks;
  if (sum === 0n) return { user: total, sys: 0n };
  const user = (total * ticks.user) / sum;
  return { user, sys: total - user };
}

/** threadCpu returns the CPU time of one guest thread. */
export function threadCpu(t: Task): CpuTimes {
  if (t.state === TaskState.Dead) return { user: 0n, sys: 0n };
  const tid = t.thread.tid;
  const st = readHostStat(`/proc/${tid}/task/${tid}/stat`);
  const ticks = st ? { user: st.user, sys: st.sys } : { user: 0n, sys: 0n };
  return splitLike(schedstatNs(tid), ticks);
}

/** processCpu returns the CPU time of a guest process since its last execve
 *  (its threads share one host process, whose stat covers exited threads too). */
export function processCpu(tg: ThreadGroup): CpuTimes {
  let sched = 0n;
  let any: Task | null = null;
  for (const t of tg.tasks) {
    if (t.state === TaskState.Dead) continue;
    any ??= t;
    sched += schedstatNs(t.thread.tid);
  }
  if (!any) return { user: 0n, sys: 0n };
  const st = readHostStat(`/proc/${any.thread.tid}/stat`);
  return splitLike(sched, st ? { user: st.user, sys: st.sys } : { user: 0n, sys: 0n });
}

/** Memory statistics for getrusage: peak RSS (KiB) and page faults. */
export interface MemUsage {
  maxrssKiB: number;
  minflt: number;
  majflt: number;
}

/** memUsage reads the host process of t (thread: that thread's faults only). */
export function memUsage(t: Task, thread: boolean): MemUsage {
  const u = { maxrssKiB: 0, minflt: 0, majflt: 0 };
  if (t.state === TaskState.Dead) return u;
  const tid = t.thread.tid;
  try {
    const m = /VmHWM:\s*(\d+)/.exec(readFileSync(`/proc/${tid}/status`, 'latin1'));
    if (m) u.maxrssKiB = Number(m[1]);
  } catch {
    // The host thread is gone: report zeros.
  }
  const st = readHostStat(thread ? `/proc/${tid}/task/${tid}/stat` : `/proc/${tid}/stat`);
  if (st) {
    u.minflt = st.minflt;
    u.majflt = st.majflt;
  }
  return u;
}

/** ticksOf converts ns to clock_t ticks. */
export function ticksOf(ns: bigint): bigint {
  return ns / NS_PER_TICK;
}

// --- struct timespec / timeval -------------------------------------------

/** readTimespec reads a struct timespec as ns; EINVAL unless 0 <= nsec < 1e9 and sec >= 0. */
export function readTimespec(mm: MemoryManager, addr: number): bigint {
  const v = new DataView(mm.copyIn(addr, 16).buffer);
  const sec = v.getBigInt64(0, true);
  const nsec = v.getBigInt64(8, true);
  if (sec < 0n || nsec < 0n || nsec >= NS_PER_SEC) throw linuxerr.EINVAL;
  return sec * NS_PER_SEC + nsec;
}

/** encodeTimespec lays out ns as a struct timespec (16 bytes). */
export function encodeTimespec(ns: bigint): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, ns / NS_PER_SEC, true);
  v.setBigInt64(8, ns % NS_PER_SEC, true);
  return b;
}

export function writeTimespec(mm: MemoryManager, addr: number, ns: bigint): void {
  mm.copyOut(addr, encodeTimespec(ns));
}

/** encodeTimeval lays out ns as a struct timeval (16 bytes, microseconds). */
export function encodeTimeval(ns: bigint, into?: DataView, off = 0): Uint8Array {
  const b = into ? new Uint8Array(into.buffer, into.byteOffset + off, 16) : new Uint8Array(16);
  const v = new DataView(b.buffer, b.byteOffset, 16);
  v.setBigInt64(0, ns / NS_PER_SEC, true);
  v.setBigInt64(8, (ns % NS_PER_SEC) / 1000n, true);
  return b;
}

/** decodeTimeval reads a struct timeval at off as ns; EINVAL unless 0 <= usec < 1e6 and sec >= 0. */
export function decodeTimeval(v: DataView, off: number): bigint {
  const sec = v.getBigInt64(off, true);
  const usec = v.getBigInt64(off + 8, true);
  if (sec < 0n || usec < 0n || usec >= 1_000_000n) throw linuxerr.EINVAL;
  return sec * NS_PER_SEC + usec * 1000n;
}

// --- sleeping --------------------------------------------------------------

/** sleepUntil waits until now() reaches deadline (ns, on the clock now() reads).
 *  Await point; rejects with EINTR when t is interrupted. */
export async function sleepUntil(t: Task, deadline: bigint, now: () => bigint): Promise<void> {
  for (;;) {
    const left = deadline - now();
    if (left <= 0n) return;
    const ms = Number((left + NS_PER_MS - 1n) / NS_PER_MS);
    await t.sleep(Math.min(ms, MAX_TIMER_MS));
  }
}

// --- interval timers (setitimer/alarm) --------------------------------------

export const ITIMER_REAL = 0;
export const ITIMER_VIRTUAL = 1;
export const ITIMER_PROF = 2;

/** ITimerValue: time to the next expiry (0: disarmed) and the reload interval, in ns. */
export interface ITimerValue {
  value: bigint;
  interval: bigint;
}

interface RealTimer {
  deadline: bigint;
  interval: bigint;
  handle: ReturnType<typeof setTimeout> | null;
}

interface ProcTimers {
  real: RealTimer;
  /** VIRTUAL and PROF are recorded but do not count down (no CPU-time accounting yet). */
  virt: ITimerValue;
  prof: ITimerValue;
}

const timers = new WeakMap<ThreadGroup, ProcTimers>();
let armed = 0;

/** armedRealTimers counts armed ITIMER_REAL timers; while non-zero the run loop
 *  must give the event loop turns even when no task is blocked, or expiries wait. */
export function armedRealTimers(): number {
  return armed;
}

function timersOf(tg: ThreadGroup): ProcTimers {
  let p = timers.get(tg);
  if (!p) {
    p = { real: { deadline: 0n, interval: 0n, handle: null }, virt: { value: 0n, interval: 0n }, prof: { value: 0n, interval: 0n } };
    timers.set(tg, p);
  }
  return p;
}

function disarmReal(r: RealTimer): void {
  if (r.handle) {
    clearTimeout(r.handle);
    r.handle = null;
    armed--;
  }
  r.deadline = 0n;
}

function scheduleReal(tg: ThreadGroup, r: RealTimer): void {
  const left = r.deadline - monotonicNs();
  const ms = left <= 0n ? 0 : Math.min(Number((left + NS_PER_MS - 1n) / NS_PER_MS), MAX_TIMER_MS);
  if (!r.handle) armed++;
  r.handle = setTimeout(() => fireReal(tg, r), ms);
  // An armed timer alone must not keep the Sentry alive after the sandbox ends.
  r.handle.unref();
}

function fireReal(tg: ThreadGroup, r: RealTimer): void {
  r.handle = null;
  armed--;
  if (tg.exiting || r.deadline === 0n) {
    r.deadline = 0n;
    return;
  }
  const now = monotonicNs();
  if (now < r.deadline) {
    scheduleReal(tg, r); // woke early (millisecond timers)
    return;
  }
  if (r.interval > 0n) {
    r.deadline += r.interval;
    if (r.deadline <= now) r.deadline = now + r.interval; // overruns coalesce
    scheduleReal(tg, r);
  } else {
    r.deadline = 0n;
  }
  tg.leader.kernel.signalProcess?.(tg, SIGALRM, null);
}

/** getITimer returns the current value of timer which (ITIMER_*). */
export function getITimer(tg: ThreadGroup, which: number): ITimerValue {
  const p = timersOf(tg);
  switch (which) {
    case ITIMER_REAL: {
      const r = p.real;
      if (r.deadline === 0n) return { value: 0n, interval: r.interval };
      const left = r.deadline - monotonicNs();
      // An expired timer that has not fired yet reports the smallest non-zero value.
      return { value: left > 0n ? left : 1000n, interval: r.interval };
    }
    case ITIMER_VIRTUAL: return { ...p.virt };
    case ITIMER_PROF: return { ...p.prof };
    default: throw linuxerr.EINVAL;
  }
}

/** setITimer arms (value > 0) or disarms timer which; returns the old value. */
export function setITimer(tg: ThreadGroup, which: number, v: ITimerValue): ITimerValue {
  const old = getITimer(tg, which);
  const p = timersOf(tg);
  switch (which) {
    case ITIMER_REAL: {
      const r = p.real;
      disarmReal(r);
      r.interval = v.interval;
      if (v.value > 0n) {
        r.deadline = monotonicNs() + v.value;
        scheduleReal(tg, r);
      }
      break;
    }
    case ITIMER_VIRTUAL:
      p.virt = { ...v };
      break;
    case ITIMER_PROF:
      p.prof = { ...v };
      break;
  }
  return old;
}
