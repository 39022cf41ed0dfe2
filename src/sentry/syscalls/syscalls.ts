// The syscall table's types: an entry is data (name, handler, support level,
// note). Handlers decode arguments, delegate to kernel/vfs/mm mechanisms, and
// return a result, or a promise only when they must wait. They throw
// SyscallError sentinels (`throw linuxerr.EBADF`); only the dispatcher
// (kernel/task_syscall.ts) turns errors into -errno.

import type { Regs } from '../../abi/linux/regs.js';
import { REG } from '../../abi/linux/ptrace.js';
import type { Task } from '../kernel/task.js';

/** SyscallControl is returned instead of a number when the handler has already
 *  set the task's registers (execve, rt_sigreturn) or the task is gone (exit). */
export class SyscallControl {
  readonly what: string;
  constructor(what: string) {
    this.what = what;
  }
}
/** CtrlNoReturn: do not write rax; registers were set by the handler, or the task exited. */
export const CtrlNoReturn = new SyscallControl('noreturn');

export type SyscallResult = number | SyscallControl;
export type Handler = (t: Task, a: SyscallArgs) => SyscallResult | Promise<SyscallResult>;

export const enum Support {
  Full = 'full',
  Partial = 'partial',
  Unimplemented = 'unimplemented',
}

export interface SyscallEntry {
  readonly name: string;
  readonly handler: Handler | null;
  readonly support: Support;
  readonly note?: string;
  /** Errno returned when handler is null. */
  readonly errno?: number;
}

/** A family file's fragment of the table, keyed by syscall number. */
export type SyscallEntries = Record<number, SyscallEntry>;

export function supported(name: string, handler: Handler): SyscallEntry {
  return { name, handler, support: Support.Full };
}
export function partial(name: string, handler: Handler, note: string): SyscallEntry {
  return { name, handler, support: Support.Partial, note };
}
/** unimplemented: the guest gets errno (ENOSYS unless given), logged once. */
export function unimplemented(name: string, errno = 38, note?: string): SyscallEntry {
  return { name, handler: null, support: Support.Unimplemented, errno, note };
}

const ARG_REGS = [REG.rdi, REG.rsi, REG.rdx, REG.r10, REG.r8, REG.r9] as const;
const TWO32 = 0x1_0000_0000;

/** SyscallArgs reads the six x86-64 syscall arguments out of a thread's registers. */
export class SyscallArgs {
  regs!: Regs;

  /** int returns argument i as a C int (low 32 bits, signed). */
  int(i: number): number {
    return this.regs.u32[2 * ARG_REGS[i]] | 0;
  }
  /** uint returns argument i as an unsigned 32-bit value. */
  uint(i: number): number {
    return this.regs.u32[2 * ARG_REGS[i]];
  }
  /** ptr returns argument i as an address (unsigned 64-bit, exact below 2^53). */
  ptr(i: number): number {
    const r = ARG_REGS[i];
    return this.regs.u32[2 * r + 1] * TWO32 + this.regs.u32[2 * r];
  }
  /** sizeT is ptr for sizes and counts. */
  sizeT(i: number): number {
    return this.ptr(i);
  }
  /** int64 returns argument i as a signed 64-bit value (exact within +-2^53). */
  int64(i: number): number {
    return this.regs.getSigned(ARG_REGS[i]);
  }
  /** u64 returns argument i exactly, as a bigint. */
  u64(i: number): bigint {
    return this.regs.u64[ARG_REGS[i]];
  }
}
