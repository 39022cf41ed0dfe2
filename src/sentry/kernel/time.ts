// Clocks, CPU-time accounting and deadlines (timers.ts builds timers on them).
// Guests mostly read time through the host vDSO without trapping, so the
// syscall clocks are the host's: CLOCK_MONOTONIC is process.hrtime (libuv
// reads the host CLOCK_MONOTONIC), CLOCK_REALTIME is the host wall clock with
// sub-millisecond precision. CPU clocks come from the host threads that run
// guest code (/proc/<tid>/schedstat in ns when the host has it,
// /proc/<tid>/stat ticks otherwise), plus what exited threads used.

import * as linuxerr from '../../abi/linux/errno.js';
import type { MemoryManager } from '../mm/mm.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import type { ThreadGroup } from './thread_group.js';
import { readHostProcText } from '../../platform/hostproc.js';

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
let bootOffsetNs: bigint | null = null;
function bootOffset(): bigint {
  if (bootOffsetNs === null) bootOffsetNs = readBootOffset();
  return bootOffsetNs;
}
function readBootOffset(): bigint {
  try {
    const up = BigInt(Math.round(parseFloat(readHostProcText('uptime').split(' ')[0]) * 1e9));
    const d = up - monotonicNs();
    return d > NS_PER_SEC ? d : 0n;
  } catch {
    return 0n;
  }
}

export function boottimeNs(): bigint {
  return monotonicNs() + bootOffset();
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
    const s = readHostProcText(path);
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

/** schedstatNs reads a host thread's run time in ns (-1 when unavailable). */
function schedstatNs(tid: number): bigint {
  try {
    return BigInt(readHostProcText(`${tid}/schedstat`).split(' ')[0]);
  } catch {
    return -1n;
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

const ZERO: CpuTimes = { user: 0n, sys: 0n };

function add(a: CpuTimes, b: CpuTimes): CpuTimes {
  return { user: a.user + b.user, sys: a.sys + b.sys };
}

/** hostThreadCpu returns the CPU time of the host thread running t now. */
function hostThreadCpu(t: Task): CpuTimes {
  if (t.state === TaskState.Dead) return ZERO;
  const tid = t.thread.tid;
  const st = readHostStat(`${tid}/task/${tid}/stat`);
  const ticks = st ? { user: st.user, sys: st.sys } : ZERO;
  const ns = schedstatNs(tid);
  return ns < 0n ? ticks : splitLike(ns, ticks);
}

/** hostThreadNs is hostThreadCpu's total, with one read when schedstat is available. */
function hostThreadNs(t: Task): bigint {
  if (t.state === TaskState.Dead) return 0n;
  const ns = schedstatNs(t.thread.tid);
  if (ns >= 0n) return ns;
  const c = hostThreadCpu(t);
  return c.user + c.sys;
}

/** CPU time of host threads that are gone: per process (exited threads, and
 *  the images before execve) and per task (its threads before execve). */
const exitedCpu = new WeakMap<ThreadGroup, CpuTimes>();
const taskBase = new WeakMap<Task, CpuTimes>();

/** accountHostThreadEnd records the CPU time of t's host thread, which is
 *  about to go (thread exit, or execve replacing it). Call before killing it;
 *  keepForTask: t lives on (execve) and its thread clock must continue. */
export function accountHostThreadEnd(t: Task, keepForTask: boolean): void {
  const c = hostThreadCpu(t);
  exitedCpu.set(t.tg, add(exitedCpu.get(t.tg) ?? ZERO, c));
  if (keepForTask) taskBase.set(t, add(taskBase.get(t) ?? ZERO, c));
}

/** threadCpu returns the CPU time of one guest thread. */
export function threadCpu(t: Task): CpuTimes {
  return add(taskBase.get(t) ?? ZERO, hostThreadCpu(t));
}

/** threadCpuNs is threadCpu's total (user + system). */
export function threadCpuNs(t: Task): bigint {
  const b = taskBase.get(t);
  return (b ? b.user + b.sys : 0n) + hostThreadNs(t);
}

/** processCpu returns the CPU time of a guest process: its live threads and
 *  every thread that has exited (once the process has exited, its total). */
export function processCpu(tg: ThreadGroup): CpuTimes {
  let c = exitedCpu.get(tg) ?? ZERO;
  for (const t of tg.tasks) c = add(c, hostThreadCpu(t));
  return c;
}

/** processCpuNs is processCpu's total, cheaper when schedstat is available. */
export function processCpuNs(tg: ThreadGroup): bigint {
  const e = exitedCpu.get(tg);
  let ns = e ? e.user + e.sys : 0n;
  for (const t of tg.tasks) ns += hostThreadNs(t);
  return ns;
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
    const m = /VmHWM:\s*(\d+)/.exec(readHostProcText(`${tid}/status`));
    if (m) u.maxrssKiB = Number(m[1]);
  } catch {
    // The host thread is gone: report zeros.
  }
  const st = readHostStat(thread ? `${tid}/task/${tid}/stat` : `${tid}/stat`);
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

/** decodeTimespec reads a struct timespec at off as ns; EINVAL unless 0 <= nsec < 1e9 and sec >= 0. */
export function decodeTimespec(v: DataView, off: number): bigint {
  const sec = v.getBigInt64(off, true);
  const nsec = v.getBigInt64(off + 8, true);
  if (sec < 0n || nsec < 0n || nsec >= NS_PER_SEC) throw linuxerr.EINVAL;
  return sec * NS_PER_SEC + nsec;
}

/** readItimerspec reads a struct itimerspec {interval, value} (EFAULT, then EINVAL). */
export function readItimerspec(mm: MemoryManager, addr: number): { interval: bigint; value: bigint } {
  const v = new DataView(mm.copyIn(addr, 32).buffer);
  return { interval: decodeTimespec(v, 0), value: decodeTimespec(v, 16) };
}

/** encodeItimerspec lays out a struct itimerspec {interval, value}. */
export function encodeItimerspec(value: bigint, interval: bigint): Uint8Array {
  const b = new Uint8Array(32);
  b.set(encodeTimespec(interval), 0);
  b.set(encodeTimespec(value), 16);
  return b;
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
 *  Await point; rejects as t.sleep does when t is interrupted. */
export async function sleepUntil(t: Task, deadline: bigint, now: () => bigint): Promise<void> {
  for (;;) {
    const left = deadline - now();
    if (left <= 0n) return;
    const ms = Number((left + NS_PER_MS - 1n) / NS_PER_MS);
    await t.sleep(Math.min(ms, MAX_TIMER_MS));
  }
}

// --- deadlines ----------------------------------------------------------------

/** armDeadline calls fn once now() reaches at (ns on the clock now() reads).
 *  Node timers have millisecond resolution and may fire early; the clock is
 *  checked again then. Returns a function that cancels the call. */
export function armDeadline(now: () => bigint, at: bigint, fn: () => void): () => void {
  let handle: ReturnType<typeof setTimeout> | null = null;
  const arm = (): void => {
    const left = at - now();
    if (left <= 0n) {
      handle = null;
      fn();
      return;
    }
    handle = setTimeout(arm, Math.min(Number((left + NS_PER_MS - 1n) / NS_PER_MS), MAX_TIMER_MS));
  };
  // Pending deadlines keep Node's event loop alive, as they should: a guest
  // waiting for one is not finished (runsc exits explicitly when init does).
  const left = at - now();
  handle = setTimeout(arm, left <= 0n ? 0 : Math.min(Number((left + NS_PER_MS - 1n) / NS_PER_MS), MAX_TIMER_MS));
  return () => {
    if (handle) clearTimeout(handle);
    handle = null;
  };
}

// The run loop gives the event loop turns every few milliseconds while
// guests compute only if something may happen then: timers.ts counts here the
// timers whose expiry has an effect (a signal) while nobody waits.
let armed = 0;

/** armedRealTimers counts armed timers whose expiry signals a process; while
 *  non-zero the run loop polls the event loop even when no task is blocked. */
export function armedRealTimers(): number {
  return armed;
}

/** adjustArmed changes the armed-timer count (timers.ts). */
export function adjustArmed(delta: number): void {
  armed += delta;
}
