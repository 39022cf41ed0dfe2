// Time syscalls: clocks, sleeps, process times and interval timers. The
// clocks are the host's (see kernel/time.ts), so values read here agree with
// what guests read through the host vDSO.

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Task } from '../../kernel/task.js';
import { TaskState } from '../../kernel/task.js';
import { setRestartBlock } from '../../kernel/signals.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';
import * as ktime from '../../kernel/time.js';
import type { ITimerValue } from '../../kernel/timers.js';
import { ITIMER_PROF, ITIMER_REAL, getITimer, setITimer } from '../../kernel/timers.js';
import type { CpuTimes } from '../../kernel/time.js';
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
  CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_REALTIME_COARSE, CLOCK_TAI,
  CLOCK_THREAD_CPUTIME_ID, NS_PER_SEC,
} from '../../kernel/time.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';

const TIMER_ABSTIME = 1;
/** Resolution of the coarse clocks: one tick (HZ=250). */
const COARSE_RES_NS = 4_000_000n;

/** CPU clocks (clockid < 0) encode ~pid << 3 | perthread << 2 | which. */
const CPUCLOCK_VIRT = 1;
const CPUCLOCK_SCHED = 2;

/** A clock resolved from a clockid: how to read it, and what it supports. */
export interface Clock {
  now: () => bigint;
  /** sleep: 'ok', or the errno clock_nanosleep returns for this clock. */
  sleep: 'ok' | linuxerr.SyscallError;
  /** timer: 'ok', or the errno timer_create returns for this clock. */
  timer: 'ok' | linuxerr.SyscallError;
  /** cpu: a CPU-time clock (timers on it are sampled). */
  cpu: boolean;
  coarse?: boolean;
}

function cpuClock(t: Task, id: number): Clock {
  const which = id & 3;
  const perThread = (id & 4) !== 0;
  const pid = ~(id >> 3);
  if (which > CPUCLOCK_SCHED) throw linuxerr.EINVAL;
  if (perThread) {
    const target = pid === 0 ? t : t.kernel.tasks.get(pid);
    if (!target || target.tg !== t.tg) throw linuxerr.EINVAL;
    const now = which === CPUCLOCK_VIRT ? () => ktime.threadCpu(target).user : () => ktime.threadCpuNs(target);
    // Sleeping on a thread CPU clock is refused by Linux.
    return { now, sleep: linuxerr.EINVAL, timer: 'ok', cpu: true };
  }
  let tg: ThreadGroup | undefined;
  if (pid === 0) tg = t.tg;
  else {
    const target = t.kernel.tasks.get(pid);
    tg = target && (target.isLeader || target === t) ? target.tg : undefined;
  }
  if (!tg) throw linuxerr.EINVAL;
  const g = tg;
  const now = which === CPUCLOCK_VIRT ? () => ktime.processCpu(g).user : () => ktime.processCpuNs(g);
  return { now, sleep: 'ok', timer: 'ok', cpu: true };
}

const CAP_WAKE_ALARM = 35;

/** clockOf resolves a clockid (EINVAL for unknown ones). */
export function clockOf(t: Task, id: number): Clock {
  if (id < 0) {
    if ((id & 7) === 3) throw linuxerr.EINVAL; // a posix-clock fd (/dev/ptp): none here
    return cpuClock(t, id);
  }
  const alarmTimer = t.creds.hasCap(CAP_WAKE_ALARM) ? 'ok' : linuxerr.EPERM;
  switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_TAI: // the host's TAI offset is not known; Linux's default is 0
      return { now: ktime.realtimeNs, sleep: 'ok', timer: 'ok', cpu: false };
    case CLOCK_REALTIME_ALARM:
      return { now: ktime.realtimeNs, sleep: 'ok', timer: alarmTimer, cpu: false };
    case CLOCK_MONOTONIC:
      return { now: ktime.monotonicNs, sleep: 'ok', timer: 'ok', cpu: false };
    case CLOCK_BOOTTIME:
      return { now: ktime.boottimeNs, sleep: 'ok', timer: 'ok', cpu: false };
    case CLOCK_BOOTTIME_ALARM:
      return { now: ktime.boottimeNs, sleep: 'ok', timer: alarmTimer, cpu: false };
    case CLOCK_MONOTONIC_RAW:
      return { now: ktime.monotonicNs, sleep: linuxerr.EOPNOTSUPP, timer: linuxerr.EOPNOTSUPP, cpu: false };
    case CLOCK_REALTIME_COARSE:
      return { now: ktime.realtimeNs, sleep: linuxerr.EOPNOTSUPP, timer: linuxerr.EOPNOTSUPP, cpu: false, coarse: true };
    case CLOCK_MONOTONIC_COARSE:
      return { now: ktime.monotonicNs, sleep: linuxerr.EOPNOTSUPP, timer: linuxerr.EOPNOTSUPP, cpu: false, coarse: true };
    case CLOCK_PROCESS_CPUTIME_ID:
      return cpuClock(t, ~0 << 3 | CPUCLOCK_SCHED);
    case CLOCK_THREAD_CPUTIME_ID: {
      const c = cpuClock(t, ~0 << 3 | 4 | CPUCLOCK_SCHED);
      return { ...c, sleep: linuxerr.EOPNOTSUPP };
    }
    default:
      throw linuxerr.EINVAL;
  }
}

/** clock_gettime implements Linux syscall clock_gettime(2). */
export function clockGettime(t: Task, a: SyscallArgs): number {
  const c = clockOf(t, a.int(0));
  ktime.writeTimespec(t.mm, a.ptr(1), c.now());
  return 0;
}

/** clock_getres implements Linux syscall clock_getres(2). */
export function clockGetres(t: Task, a: SyscallArgs): number {
  const c = clockOf(t, a.int(0));
  const addr = a.ptr(1);
  if (addr) ktime.writeTimespec(t.mm, addr, c.coarse ? COARSE_RES_NS : 1n);
  return 0;
}

/** clock_settime implements Linux syscall clock_settime(2): the sandbox may not set host clocks. */
export function clockSettime(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  clockOf(t, id);
  if (id !== CLOCK_REALTIME) throw linuxerr.EINVAL;
  t.kernel.log.warnOnce('time:settime', 'clock_settime/settimeofday: setting the clock is not permitted');
  throw linuxerr.EPERM;
}

/** gettimeofday implements Linux syscall gettimeofday(2). */
export function gettimeofday(t: Task, a: SyscallArgs): number {
  const tv = a.ptr(0);
  const tz = a.ptr(1);
  if (tv) t.mm.copyOut(tv, ktime.encodeTimeval(ktime.realtimeNs()));
  // struct timezone {tz_minuteswest, tz_dsttime}: the kernel's is UTC unless set.
  if (tz) t.mm.copyOut(tz, new Uint8Array(8));
  return 0;
}

/** settimeofday implements Linux syscall settimeofday(2): refused like clock_settime. */
export function settimeofday(t: Task): number {
  t.kernel.log.warnOnce('time:settime', 'clock_settime/settimeofday: setting the clock is not permitted');
  throw linuxerr.EPERM;
}

/** time implements Linux syscall time(2). */
export function time(t: Task, a: SyscallArgs): number {
  const now = Number(ktime.realtimeNs() / NS_PER_SEC);
  const addr = a.ptr(0);
  if (addr) t.mm.writeU64(addr, now);
  return now;
}

/** isInterruption: the error a wait fails with when a signal interrupts it
 *  (EINTR, or one of the restart codes signal delivery resolves). */
export function isInterruption(e: unknown): boolean {
  return e === linuxerr.EINTR || e === linuxerr.ERESTARTSYS || e === linuxerr.ERESTARTNOHAND ||
    e === linuxerr.ERESTART_RESTARTBLOCK || e === linuxerr.ERESTARTNOINTR;
}

/** sleepOn sleeps until clock c reaches deadline; on EINTR writes the time left to rem (if any). */
async function sleepOn(t: Task, c: Clock, deadline: bigint, rem: number, abs = false): Promise<number> {
  try {
    await ktime.sleepUntil(t, deadline, c.now);
    return 0;
  } catch (e) {
    if (!isInterruption(e) || t.state === TaskState.Dead) throw e;
    if (rem) {
      const left = deadline - c.now();
      ktime.writeTimespec(t.mm, rem, left > 0n ? left : 0n); // EFAULT replaces EINTR, as in Linux
    }
    // A signal: EINTR if a handler runs; otherwise an absolute sleep restarts
    // as it was, a relative one continues to its deadline (restart_syscall).
    if (e === linuxerr.EINTR) throw e;
    if (abs) throw linuxerr.ERESTARTNOHAND;
    setRestartBlock(t, (t2) => sleepOn(t2, c, deadline, rem));
    throw linuxerr.ERESTART_RESTARTBLOCK;
  }
}

/** nanosleep implements Linux syscall nanosleep(2) on CLOCK_MONOTONIC. */
export function nanosleep(t: Task, a: SyscallArgs): number | Promise<number> {
  const rem = a.ptr(1);
  const ns = ktime.readTimespec(t.mm, a.ptr(0));
  if (ns === 0n) return 0;
  const c = clockOf(t, CLOCK_MONOTONIC);
  return sleepOn(t, c, c.now() + ns, rem);
}

/** clock_nanosleep implements Linux syscall clock_nanosleep(2). */
export function clockNanosleep(t: Task, a: SyscallArgs): number | Promise<number> {
  const id = a.int(0);
  const flags = a.int(1);
  const req = a.ptr(2);
  const rem = a.ptr(3);
  const c = clockOf(t, id);
  if (c.sleep !== 'ok') throw c.sleep;
  const ns = ktime.readTimespec(t.mm, req);
  if (flags & TIMER_ABSTIME) {
    if (ns <= c.now()) return 0;
    return sleepOn(t, c, ns, 0, true);
  }
  if (ns === 0n) return 0;
  return sleepOn(t, c, c.now() + ns, rem);
}

/** times implements Linux syscall times(2). */
export function times(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(0);
  if (addr) {
    const self = ktime.processCpu(t.tg);
    const b = new Uint8Array(32);
    const v = new DataView(b.buffer);
    v.setBigInt64(0, ktime.ticksOf(self.user), true);
    v.setBigInt64(8, ktime.ticksOf(self.sys), true);
    v.setBigInt64(16, ktime.ticksOf(t.tg.childUserNs), true);
    v.setBigInt64(24, ktime.ticksOf(t.tg.childSysNs), true);
    t.mm.copyOut(addr, b);
  }
  // Clock ticks since an arbitrary point: boot.
  return Number(ktime.ticksOf(ktime.boottimeNs()));
}

const RUSAGE_SELF = 0;
const RUSAGE_CHILDREN = -1;
const RUSAGE_THREAD = 1;
const SIZEOF_RUSAGE = 144;

/** encodeRusage lays out a struct rusage: two timevals, then 14 longs. */
export function encodeRusage(cpu: CpuTimes, maxrssKiB: number, minflt: number, majflt: number): Uint8Array {
  const b = new Uint8Array(SIZEOF_RUSAGE);
  const v = new DataView(b.buffer);
  ktime.encodeTimeval(cpu.user, v, 0);
  ktime.encodeTimeval(cpu.sys, v, 16);
  v.setBigInt64(32, BigInt(maxrssKiB), true); // ru_maxrss
  v.setBigInt64(32 + 4 * 8, BigInt(minflt), true); // ru_minflt
  v.setBigInt64(32 + 5 * 8, BigInt(majflt), true); // ru_majflt
  return b;
}

/** getrusage implements Linux syscall getrusage(2). */
export function getrusage(t: Task, a: SyscallArgs): number {
  const who = a.int(0);
  const addr = a.ptr(1);
  let b: Uint8Array;
  switch (who) {
    case RUSAGE_SELF: {
      const m = ktime.memUsage(t, false);
      b = encodeRusage(ktime.processCpu(t.tg), m.maxrssKiB, m.minflt, m.majflt);
      break;
    }
    case RUSAGE_THREAD: {
      const m = ktime.memUsage(t, true);
      b = encodeRusage(ktime.threadCpu(t), m.maxrssKiB, m.minflt, m.majflt);
      break;
    }
    case RUSAGE_CHILDREN:
      b = encodeRusage({ user: t.tg.childUserNs, sys: t.tg.childSysNs }, 0, 0, 0);
      break;
    default:
      throw linuxerr.EINVAL;
  }
  t.mm.copyOut(addr, b);
  return 0;
}

function checkWhich(which: number): void {
  if (which < ITIMER_REAL || which > ITIMER_PROF) throw linuxerr.EINVAL;
}

function encodeItimerval(v: ITimerValue): Uint8Array {
  const b = new Uint8Array(32);
  const d = new DataView(b.buffer);
  ktime.encodeTimeval(v.interval, d, 0);
  ktime.encodeTimeval(v.value, d, 16);
  return b;
}

/** getitimer implements Linux syscall getitimer(2). */
export function getitimer(t: Task, a: SyscallArgs): number {
  const which = a.int(0);
  const addr = a.ptr(1);
  checkWhich(which);
  t.mm.copyOut(addr, encodeItimerval(getITimer(t.tg, which)));
  return 0;
}

/** setitimer implements Linux syscall setitimer(2); a NULL new value disarms, as Linux allows. */
export function setitimer(t: Task, a: SyscallArgs): number {
  const which = a.int(0);
  const nv = a.ptr(1);
  const ov = a.ptr(2);
  let v: ITimerValue = { value: 0n, interval: 0n };
  if (nv) {
    const d = new DataView(t.mm.copyIn(nv, 32).buffer);
    v = { interval: ktime.decodeTimeval(d, 0), value: ktime.decodeTimeval(d, 16) };
  }
  checkWhich(which);
  const old = setITimer(t.tg, which, v);
  if (ov) t.mm.copyOut(ov, encodeItimerval(old));
  return 0;
}

/** alarm implements Linux syscall alarm(2). */
export function alarm(t: Task, a: SyscallArgs): number {
  const secs = a.uint(0);
  const old = setITimer(t.tg, ITIMER_REAL, { value: BigInt(secs) * NS_PER_SEC, interval: 0n });
  // Linux rounds the old value to the nearest second, and never reports 0 for an armed timer.
  const s = Number(old.value / NS_PER_SEC);
  const us = Number((old.value % NS_PER_SEC) / 1000n);
  return (s === 0 && us > 0) || us >= 500_000 ? s + 1 : s;
}

export const syscalls: SyscallEntries = {
  [SYSNO.clock_gettime]: supported('clock_gettime', clockGettime),
  [SYSNO.clock_getres]: supported('clock_getres', clockGetres),
  [SYSNO.clock_settime]: partial('clock_settime', clockSettime, 'Setting clocks is refused (EPERM).'),
  [SYSNO.gettimeofday]: supported('gettimeofday', gettimeofday),
  [SYSNO.settimeofday]: partial('settimeofday', settimeofday, 'Setting the clock is refused (EPERM).'),
  [SYSNO.time]: supported('time', time),
  [SYSNO.nanosleep]: supported('nanosleep', nanosleep),
  [SYSNO.clock_nanosleep]: supported('clock_nanosleep', clockNanosleep),
  [SYSNO.times]: partial('times', times, 'CPU time since the last execve; children times only as recorded at reap.'),
  [SYSNO.getrusage]: partial('getrusage', getrusage, 'CPU time, peak RSS and faults only; RUSAGE_CHILDREN has times only.'),
  [SYSNO.getitimer]: supported('getitimer', getitimer),
  [SYSNO.setitimer]: partial('setitimer', setitimer, 'ITIMER_VIRTUAL/ITIMER_PROF sample CPU time every 10 ms.'),
  [SYSNO.alarm]: supported('alarm', alarm),
};
