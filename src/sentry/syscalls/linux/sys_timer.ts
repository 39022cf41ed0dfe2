// POSIX per-process timers: timer_create, timer_settime, timer_gettime,
// timer_getoverrun, timer_delete. The timers themselves are in
// kernel/timers.ts; clocks are resolved as clock_gettime does.

import * as linuxerr from '../../../abi/linux/errno.js';
import { SIGRTMAX } from '../../../abi/linux/signal.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Task } from '../../kernel/task.js';
import { TaskState } from '../../kernel/task.js';
import { encodeItimerspec, readItimerspec } from '../../kernel/time.js';
import type { SigEvent } from '../../kernel/timers.js';
import {
  SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID, createTimer, deleteTimer, getOverrun, getTimer, setTimer,
} from '../../kernel/timers.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { supported } from '../syscalls.js';
import { clockOf } from './sys_time.js';

const TIMER_ABSTIME = 1;
const SIZEOF_SIGEVENT = 64;

/** decodeSigevent decodes a struct sigevent and checks it as Linux's good_sigevent does. */
function decodeSigevent(t: Task, raw: Uint8Array): SigEvent {
  const v = new DataView(raw.buffer, raw.byteOffset, SIZEOF_SIGEVENT);
  const value = v.getBigUint64(0, true);
  const signo = v.getInt32(8, true);
  const notify = v.getInt32(12, true);
  const tid = v.getInt32(16, true);
  let target: Task | null = null;
  if (notify === SIGEV_THREAD_ID) {
    const o = t.kernel.tasks.get(tid);
    if (!o || o.tid !== tid || o.state === TaskState.Dead || o.tg !== t.tg) throw linuxerr.EINVAL;
    target = o;
  } else if (notify !== SIGEV_SIGNAL && notify !== SIGEV_THREAD && notify !== SIGEV_NONE) {
    throw linuxerr.EINVAL;
  }
  if (notify !== SIGEV_NONE && (signo <= 0 || signo > SIGRTMAX)) throw linuxerr.EINVAL;
  return { notify, signo, value, target };
}

/** timer_create implements Linux syscall timer_create(2). */
export function timerCreate(t: Task, a: SyscallArgs): number {
  const clockid = a.int(0);
  const sevp = a.ptr(1);
  const idp = a.ptr(2);
  const raw = sevp ? t.mm.copyIn(sevp, SIZEOF_SIGEVENT) : null;
  const c = clockOf(t, clockid);
  if (c.timer !== 'ok') throw c.timer;
  const ev = raw ? decodeSigevent(t, raw) : null;
  const id = createTimer(t.tg, { now: c.now, cpu: c.cpu }, ev);
  try {
    t.mm.writeI32(idp, id);
  } catch (e) {
    deleteTimer(t.tg, id);
    throw e;
  }
  return 0;
}

/** timer_settime implements Linux syscall timer_settime(2). */
export function timerSettime(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  const flags = a.int(1);
  const nv = a.ptr(2);
  const ov = a.ptr(3);
  if (!nv) throw linuxerr.EINVAL;
  const v = readItimerspec(t.mm, nv);
  const old = setTimer(t.tg, id, (flags & TIMER_ABSTIME) !== 0, v);
  if (ov) t.mm.copyOut(ov, encodeItimerspec(old.value, old.interval));
  return 0;
}

/** timer_gettime implements Linux syscall timer_gettime(2). */
export function timerGettime(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  const addr = a.ptr(1);
  const cur = getTimer(t.tg, id);
  t.mm.copyOut(addr, encodeItimerspec(cur.value, cur.interval));
  return 0;
}

/** timer_getoverrun implements Linux syscall timer_getoverrun(2). */
export function timerGetoverrun(t: Task, a: SyscallArgs): number {
  return getOverrun(t.tg, a.int(0));
}

/** timer_delete implements Linux syscall timer_delete(2). */
export function timerDelete(t: Task, a: SyscallArgs): number {
  deleteTimer(t.tg, a.int(0));
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.timer_create]: supported('timer_create', timerCreate),
  [SYSNO.timer_settime]: supported('timer_settime', timerSettime),
  [SYSNO.timer_gettime]: supported('timer_gettime', timerGettime),
  [SYSNO.timer_getoverrun]: supported('timer_getoverrun', timerGetoverrun),
  [SYSNO.timer_delete]: supported('timer_delete', timerDelete),
};
