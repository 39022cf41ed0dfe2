// eventfd(2) and eventfd2(2); the file is fsimpl/eventfd.

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, newEventFD } from '../../fsimpl/eventfd/eventfd.js';
import type { Task } from '../../kernel/task.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { supported } from '../syscalls.js';
import { nofile } from './sys_pipe.js';

function create(t: Task, initval: number, flags: number): number {
  if (flags & ~(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK)) throw linuxerr.EINVAL;
  const f = newEventFD(initval, flags);
  try {
    return t.fdTable.newFD(f, (flags & EFD_CLOEXEC) !== 0, 0, nofile(t));
  } finally {
    f.decRef(); // the table holds the reference now (or nobody does)
  }
}

/** eventfd implements Linux syscall eventfd(2). */
export function eventfd(t: Task, a: SyscallArgs): number {
  return create(t, a.uint(0), 0);
}

/** eventfd2 implements Linux syscall eventfd2(2). */
export function eventfd2(t: Task, a: SyscallArgs): number {
  return create(t, a.uint(0), a.int(1));
}

export const syscalls: SyscallEntries = {
  [SYSNO.eventfd]: supported('eventfd', eventfd),
  [SYSNO.eventfd2]: supported('eventfd2', eventfd2),
};
