// timerfd_create(2), timerfd_settime(2) and timerfd_gettime(2); the file is
// fsimpl/timerfd.

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import {
  TFD_CLOEXEC, TFD_NONBLOCK, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET, newTimerFD, timerOf,
} from '../../fsimpl/timerfd/timerfd.js';
import type { TimerFile } from '../../fsimpl/timerfd/timerfd.js';
import type { Task } from '../../kernel/task.js';
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, boottimeNs,
  encodeItimerspec, monotonicNs, readItimerspec, realtimeNs,
} from '../../kernel/time.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';
import { nofile } from './sys_pipe.js';

const CAP_WAKE_ALARM = 35;

/** timerfd_create implements Linux syscall timerfd_create(2). */
export function timerfdCreate(t: Task, a: SyscallArgs): number {
  const clockid = a.int(0);
  const flags = a.int(1);
  let now: () => bigint;
  switch (clockid) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_ALARM: now = realtimeNs; break;
    case CLOCK_MONOTONIC: now = monotonicNs; break;
    case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM: now = boottimeNs; break;
    default: throw linuxerr.EINVAL;
  }
  if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) throw linuxerr.EINVAL;
  if ((clockid === CLOCK_REALTIME_ALARM || clockid === CLOCK_BOOTTIME_ALARM) && !t.creds.hasCap(CAP_WAKE_ALARM)) {
    throw linuxerr.EPERM;
  }
  const f = newTimerFD(now, flags);
  try {
    return t.fdTable.newFD(f, (flags & TFD_CLOEXEC) !== 0, 0, nofile(t));
  } finally {
    f.decRef(); // the table holds the reference now (or nobody does)
  }
}

function timerFile(t: Task, fd: number): TimerFile {
  const tf = timerOf(t.fdTable.get(fd));
  if (!tf) throw linuxerr.EINVAL;
  return tf;
}

/** timerfd_settime implements Linux syscall timerfd_settime(2). Setting the
 *  clock is refused in the sandbox, so TFD_TIMER_CANCEL_ON_SET never fires. */
export function timerfdSettime(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const flags = a.int(1);
  const nv = a.ptr(2);
  const ov = a.ptr(3);
  const v = readItimerspec(t.mm, nv);
  if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) throw linuxerr.EINVAL;
  const old = timerFile(t, fd).set(v.value, v.interval, (flags & TFD_TIMER_ABSTIME) !== 0);
  if (ov) t.mm.copyOut(ov, encodeItimerspec(old.value, old.interval));
  return 0;
}

/** timerfd_gettime implements Linux syscall timerfd_gettime(2). */
export function timerfdGettime(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const addr = a.ptr(1);
  const cur = timerFile(t, fd).get();
  t.mm.copyOut(addr, encodeItimerspec(cur.value, cur.interval));
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.timerfd_create]: supported('timerfd_create', timerfdCreate),
  [SYSNO.timerfd_settime]: partial('timerfd_settime', timerfdSettime, 'TFD_TIMER_CANCEL_ON_SET never cancels: the sandbox cannot set the clock.'),
  [SYSNO.timerfd_gettime]: supported('timerfd_gettime', timerfdGettime),
};
