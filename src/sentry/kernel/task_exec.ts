// execve: replace a process's image. The new image is built in a fresh
// address space (a clean stub forked from the platform's master) so a failed
// exec leaves the caller untouched; past the point of no return the old
// address space and the other threads go.

import { REG } from '../../abi/linux/ptrace.js';
import { RegsDirty } from '../../platform/platform.js';
import { load } from '../loader/loader.js';
import { MemoryManager } from '../mm/mm.js';
import type { SyscallResult } from '../syscalls/syscalls.js';
import { CtrlNoReturn } from '../syscalls/syscalls.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';

/** General-purpose registers zeroed at exec (everything but segment selectors and eflags). */
const ZEROED = [REG.r15, REG.r14, REG.r13, REG.r12, REG.rbp, REG.rbx, REG.r11, REG.r10, REG.r9, REG.r8,
  REG.rax, REG.rcx, REG.rdx, REG.rsi, REG.rdi, REG.fs_base, REG.gs_base];

export function execve(t: Task, path: string, argv: string[], envp: string[]): SyscallResult {
  const k = t.kernel;
  const thread = k.platform.newAddressSpace();
  const mm = new MemoryManager(thread.as);
  let res;
  try {
    res = load(t, mm, path, argv, envp);
  } catch (e) {
    thread.as.release();
    throw e;
  }
  // Point of no return. Other threads of the process die (Linux de_thread).
  for (const o of [...t.tg.tasks]) {
    if (o === t) continue;
    o.state = TaskState.Dead;
    o.interrupt?.();
    t.tg.tasks.delete(o);
    k.tasks.delete(o.tid);
    k.platform.killThread(o.thread);
    o.thread.owner = null;
    o.mm.users--;
  }
  const old = t.thread;
  k.platform.killThread(old);
  old.owner = null;
  if (--t.mm.users === 0) t.mm.release();
  t.thread = thread;
  thread.owner = t;
  t.mm = mm;
  const regs = thread.regs;
  for (const r of ZEROED) regs.set(r, 0);
  regs.set(REG.eflags, 0x202);
  regs.rip = res.entry;
  regs.rsp = res.sp;
  t.dirty = RegsDirty.All;
  t.fdTable.onExec();
  // Caught signals revert to their default action; ignored ones stay ignored.
  for (const a of t.tg.sigactions) {
    if (a.handler > 1n) {
      a.handler = 0n;
      a.flags = 0;
      a.mask = 0n;
    }
  }
  t.tg.argv = argv;
  t.tg.envp = envp;
  t.tg.exe = res.exe;
  t.name = res.filename.slice(res.filename.lastIndexOf('/') + 1).slice(0, 15);
  t.clearChildTid = 0;
  t.altStack = { sp: 0, size: 0, flags: 2 /* SS_DISABLE */ };
  t.creds.securebits &= ~0x10; // SECBIT_KEEP_CAPS is cleared by execve
  t.tg.vforkDone?.();
  t.tg.vforkDone = null;
  return CtrlNoReturn;
}
