// Waiting for an IPC object that completes the wait itself (System V
// semaphores: the task whose semop makes a waiter's operations possible
// performs them on the waiter's behalf, in arrival order, as Linux's
// update_queue does), with an optional deadline and the interruption rule
// of the syscall.

import * as linuxerr from '../../../abi/linux/errno.js';
import type { SyscallError } from '../../../abi/linux/errno.js';
import type { Task } from '../task.js';
import { TaskState } from '../task.js';
import { armDeadline } from '../time.js';

/** Deadline is an absolute time on the clock now() reads (ns). */
export interface Deadline {
  now: () => bigint;
  at: bigint;
}

/** Completion ends a wait with a result or an error. */
export type Completion = (r: number | SyscallError) => void;

/** ipcSleep waits until the object calls the completion enqueue was given.
 *  enqueue returns a function that takes the waiter off the object. A signal
 *  (or any interruption) fails the wait with onInterrupt; the deadline with
 *  onTimeout. Await point. */
export function ipcSleep(t: Task, deadline: Deadline | null, onInterrupt: SyscallError, onTimeout: SyscallError,
  enqueue: (done: Completion) => () => void): Promise<number> {
  if (t.state === TaskState.Dead) return Promise.reject(linuxerr.EINTR);
  return new Promise<number>((resolve, reject) => {
    let finished = false;
    let cancelTimer: (() => void) | null = null;
    let dequeue: (() => void) | null = null;
    const finish = (r: number | SyscallError): void => {
      if (finished) return;
      finished = true;
      cancelTimer?.();
      dequeue?.();
      t.interrupt = null;
      if (typeof r === 'number') {
        t.kernel.noteWake();
        resolve(r);
      } else {
        reject(r);
      }
    };
    dequeue = enqueue(finish);
    if (deadline) cancelTimer = armDeadline(deadline.now, deadline.at, () => finish(onTimeout));
    t.interrupt = () => finish(onInterrupt);
  });
}
