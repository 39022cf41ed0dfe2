// Per-syscall argument formats for strace. Unknown syscalls print raw hex.

import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from '../syscalls/syscalls.js';

/** formatArgs renders the arguments of syscall nr. */
export function formatArgs(t: Task, nr: number, a: SyscallArgs): string {
  void t; void nr;
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push('0x' + a.ptr(i).toString(16));
  return out.join(', ');
}
