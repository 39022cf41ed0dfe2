// strace: one line per syscall, in the spirit of gVisor's format:
//   "<tid> name(arg, ...) = result (duration)".
// Argument decoding is driven by per-syscall formats in formats.ts. Output
// arguments (read's data, pipe's fds) are decoded again on exit.

import { SYSCALL_NAMES } from '../../abi/linux/sysno.js';
import type { Task } from '../kernel/task.js';
import type { SyscallArgs, SyscallResult } from '../syscalls/syscalls.js';
import { SyscallControl } from '../syscalls/syscalls.js';
import { formatArgsOf, formatResult, hasExitArgs } from './formats.js';

/** A call between entry and exit: its raw arguments and start time. */
interface InFlight {
  nr: number;
  v: bigint[];
  start: bigint;
}

const inFlight = new WeakMap<Task, InFlight>();

function nameOf(nr: number): string {
  return SYSCALL_NAMES[nr] ?? `syscall_${nr}`;
}

/** formatDuration renders ns as µs below 10 ms, ms above. */
export function formatDuration(ns: bigint): string {
  if (ns < 10_000_000n) return `${ns / 1000n}µs`;
  return `${(Number(ns) / 1e6).toFixed(3)}ms`;
}

/** straceEnter formats the call as it enters (arguments decoded from guest memory). */
export function straceEnter(t: Task, nr: number, a: SyscallArgs): string {
  const v = [0, 1, 2, 3, 4, 5].map((i) => a.u64(i));
  inFlight.set(t, { nr, v, start: process.hrtime.bigint() });
  return `${t.tid} ${nameOf(nr)}(${formatArgsOf(nr, { t, v, result: null })})`;
}

/** straceExit completes the line with the result (and output arguments, if any). */
export function straceExit(t: Task, nr: number, enter: string, r: SyscallResult): string {
  const call = inFlight.get(t);
  inFlight.delete(t);
  const dur = call && call.nr === nr ? ` (${formatDuration(process.hrtime.bigint() - call.start)})` : '';
  if (r instanceof SyscallControl) return `${enter} = ?${dur}`;
  let line = enter;
  if (call && call.nr === nr && r >= 0 && hasExitArgs(nr)) {
    line = `${t.tid} ${nameOf(nr)}(${formatArgsOf(nr, { t, v: call.v, result: r })})`;
  }
  return `${line} = ${formatResult(nr, r)}${dur}`;
}
