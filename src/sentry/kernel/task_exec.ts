// execve: replace a process's image. The new image is built in a fresh
// address space (a clean stub forked from the platform's master) so a failed
// exec leaves the caller untouched; past the point of no return the old
// address space and the other threads go, and an execing non-leader thread
// becomes the leader, with the process's pid as its tid.

import { REG } from '../../abi/linux/ptrace.js';
import { RegsDirty } from '../../platform/platform.js';
import type { ExecAt } from '../loader/loader.js';
import { load } from '../loader/loader.js';
import { MemoryManager } from '../mm/mm.js';
import type { SyscallResult } from '../syscalls/syscalls.js';
import { CtrlNoReturn } from '../syscalls/syscalls.js';
import { clearChildTid, futexExitRelease } from './futex.js';
import { execHook } from './ptrace.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import { releaseTask } from './task_exit.js';
import { accountHostThreadEnd } from './time.js';
import { execTimers } from './timers.js';

/** General-purpose registers zeroed at exec (everything but segment selectors and eflags). */
const ZEROED = [REG.r15, REG.r14, REG.r13, REG.r12, REG.rbp, REG.rbx, REG.r11, REG.r10, REG.r9, REG.r8,
  REG.rax, REG.rcx, REG.rdx, REG.rsi, REG.rdi, REG.fs_base, REG.gs_base];

export function execve(t: Task, path: string, argv: string[], envp: string[], at?: ExecAt): SyscallResult {
  const k = t.kernel;
  const thread = k.platform.newAddressSpace();
  const mm = new MemoryManager(thread.as);
  let res;
  try {
    res = load(t, mm, path, argv, envp, at);
  } catch (e) {
    thread.as.release();
    throw e;
  }
  // Point of no return. The other threads die (Linux's de_thread): their
  // futex cleanup first, while the old address space is whole.
  const tg = t.tg;
  const others = [...tg.tasks].filter((o) => o !== t && o.state !== TaskState.Dead);
  let users = t.mm.users;
  for (const o of others) {
    futexExitRelease(o);
    clearChildTid(o, users-- > 1);
  }
  // The execing thread's own robust list and clear_child_tid (exec_mm_release).
  futexExitRelease(t);
  clearChildTid(t, t.mm.users > 1);
  // Killing a running thread may take the whole old host process: read the
  // CPU time of the execing thread's host thread first.
  accountHostThreadEnd(t, true);
  for (const o of others) accountHostThreadEnd(o, false);
  for (const o of others) releaseTask(o, true);
  const oldTid = t.tid;
  // A non-leader takes over the leader's tid, which stays the pid.
  if (tg.leader !== t) {
    tg.tasks.delete(tg.leader);
    k.tasks.delete(t.tid);
    t.tid = tg.pid;
    k.tasks.set(tg.pid, t);
    tg.leader = t;
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
  t.altStack = { sp: 0, size: 0, flags: 2 /* SS_DISABLE */ };
  t.creds = res.creds;
  execTimers(tg);
  t.tg.vforkDone?.();
  t.tg.vforkDone = null;
  if (t.ptrace) execHook(t, oldTid);
  return CtrlNoReturn;
}
