// strace: one line per syscall, in the spirit of gVisor's format:
//   "<tid> name(arg, ...) = result (duration)".
// Argument decoding is driven by per-syscall formats in formats.ts.

import { errnoName } from '../../abi/linux/errno.js';
import { SYSCALL_NAMES } from '../../abi/linux/sysno.js';
import type { Task } from '../kernel/task.js';
import type { SyscallArgs, SyscallResult } from '../syscalls/syscalls.js';
import { SyscallControl } from '../syscalls/syscalls.js';
import { formatArgs } from './formats.js';

/** straceEnter formats the call as it enters (arguments decoded from guest memory). */
export function straceEnter(t: Task, nr: number, a: SyscallArgs): string {
  const name = SYSCALL_NAMES[nr] ?? `syscall_${nr}`;
  return `${t.tid} ${name}(${formatArgs(t, nr, a)})`;
}

/** straceExit completes the line with the result. */
export function straceExit(t: Task, nr: number, enter: string, r: SyscallResult): string {
  void t; void nr;
  if (r instanceof SyscallControl) return `${enter} = ?`;
  if (r < 0 && r > -4096) return `${enter} = -1 ${errnoName(-r)}`;
  return `${enter} = ${r > 0xffff ? '0x' + r.toString(16) : r}`;
}
