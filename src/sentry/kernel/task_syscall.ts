// The syscall dispatcher: the one place where handler results and errors
// become guest return values. A SyscallError becomes -errno; any other
// exception is a Sentry bug, logged with the syscall, and only the calling
// task sees an error (EFAULT for a bad guest address, ENOSYS otherwise).

import * as linuxerr from '../../abi/linux/errno.js';
import { SyscallError } from '../../abi/linux/errno.js';
import { HostError } from '../../platform/ptrace/native.js';
import { SYSCALL_TABLE } from '../syscalls/linux/linux64.js';
import { SyscallArgs } from '../syscalls/syscalls.js';
import type { SyscallResult } from '../syscalls/syscalls.js';
import { SyscallControl } from '../syscalls/syscalls.js';
import { straceEnter, straceExit } from '../strace/strace.js';
import type { Task } from './task.js';

const args = new SyscallArgs();

/** dispatchSyscall runs the syscall a stopped task made. Await points: only
 *  inside handlers that return a promise. */
export function dispatchSyscall(t: Task): SyscallResult | Promise<SyscallResult> {
  const regs = t.thread.regs;
  const nr = regs.orig_rax;
  const entry = nr >= 0 ? SYSCALL_TABLE[nr] : undefined;
  const log = t.kernel.log;
  t.syscallNo = nr;
  if (!entry || !entry.handler) {
    const name = entry?.name ?? `syscall_${nr}`;
    log.warnOnce(`sys:${nr}`, `unimplemented syscall ${name} (${nr})`);
    const errno = entry?.errno ?? 38;
    if (log.straceEnabled) log.strace(`${t.tid} ${name}(...) = -1 ${linuxerr.errnoName(errno)} (unimplemented)`);
    return -errno;
  }
  args.regs = regs;
  let enter: string | null = null;
  if (log.straceEnabled) enter = straceEnter(t, nr, args);
  let r: SyscallResult | Promise<SyscallResult>;
  try {
    r = entry.handler(t, args);
  } catch (e) {
    r = errorResult(t, entry.name, e);
  }
  if (r instanceof Promise) {
    const name = entry.name;
    const saved = enter;
    // The handler's args object is shared: a blocked handler must have read its arguments already.
    const p = r.then(
      (v) => v,
      (e) => errorResult(t, name, e),
    );
    return enter === null ? p : p.then((v) => {
      log.strace(straceExit(t, nr, saved!, v));
      return v;
    });
  }
  if (enter !== null) log.strace(straceExit(t, nr, enter, r));
  return r;
}

function errorResult(t: Task, name: string, e: unknown): SyscallResult {
  if (e instanceof SyscallError) return -e.errno;
  if (e instanceof SyscallControl) return e;
  const log = t.kernel.log;
  log.warning(`Sentry bug in ${name} (task ${t.tid}): ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  if (e instanceof HostError) return -linuxerr.EFAULT.errno;
  return -linuxerr.ENOSYS.errno;
}
