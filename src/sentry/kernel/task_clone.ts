// clone: new processes (fork, vfork, posix_spawn's CLONE_VM|CLONE_VFORK) and
// new threads. A new process gets a host copy-on-write fork of the parent's
// stub (or a host process sharing it, for CLONE_VM); a new thread is a host
// thread in the same stub. Registers are the parent's, with rax = 0.

import * as linuxerr from '../../abi/linux/errno.js';
import { REG } from '../../abi/linux/ptrace.js';
import { RegsDirty } from '../../platform/platform.js';
import type { Thread } from '../../platform/platform.js';
import { MemoryManager } from '../mm/mm.js';
import { cloneHook } from './ptrace.js';
import type { Task } from './task.js';
import { Task as TaskClass } from './task.js';
import { ThreadGroup, newSigactions } from './thread_group.js';

export const CLONE_VM = 0x100;
export const CLONE_FS = 0x200;
export const CLONE_FILES = 0x400;
export const CLONE_SIGHAND = 0x800;
export const CLONE_PIDFD = 0x1000;
export const CLONE_PTRACE = 0x2000;
export const CLONE_VFORK = 0x4000;
export const CLONE_PARENT = 0x8000;
export const CLONE_THREAD = 0x10000;
export const CLONE_NEWNS = 0x20000;
export const CLONE_SYSVSEM = 0x40000;
export const CLONE_SETTLS = 0x80000;
export const CLONE_PARENT_SETTID = 0x100000;
export const CLONE_CHILD_CLEARTID = 0x200000;
export const CLONE_DETACHED = 0x400000;
export const CLONE_UNTRACED = 0x800000;
export const CLONE_CHILD_SETTID = 0x1000000;
export const CLONE_NEWCGROUP = 0x2000000;
export const CLONE_NEWUTS = 0x4000000;
export const CLONE_NEWIPC = 0x8000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
export const CLONE_IO = 0x80000000;
/** clone3 only: clone(2) carries the exit signal in the low byte. */
export const CLONE_NEWTIME = 0x80;
const NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
  CLONE_NEWNET | CLONE_NEWTIME;

export interface CloneOptions {
  flags: number;
  exitSignal: number;
  stack: number;
  parentTid: number;
  childTid: number;
  tls: number;
}

/** clone creates a task as clone(2) describes; returns the child's tid, or a
 *  promise of it for CLONE_VFORK (the parent waits for exec or exit). */
export function clone(t: Task, o: CloneOptions): number | Promise<number> {
  const f = o.flags;
  const k = t.kernel;
  // Linux's copy_process checks, in its order.
  if ((f & CLONE_FS) && (f & (CLONE_NEWNS | CLONE_NEWUSER))) throw linuxerr.EINVAL;
  if ((f & CLONE_THREAD) && !(f & CLONE_SIGHAND)) throw linuxerr.EINVAL;
  if ((f & CLONE_SIGHAND) && !(f & CLONE_VM)) throw linuxerr.EINVAL;
  if ((f & CLONE_THREAD) && (f & (CLONE_NEWUSER | CLONE_NEWPID))) throw linuxerr.EINVAL;
  if ((f & CLONE_PIDFD) && (f & CLONE_DETACHED)) throw linuxerr.EINVAL;
  if (f & NAMESPACE_FLAGS) {
    // New namespaces are not implemented: refuse rather than share silently.
    k.log.warnOnce('clone:namespaces', `clone: namespace flags 0x${(f & NAMESPACE_FLAGS).toString(16)} are not supported`);
    throw linuxerr.EPERM;
  }
  // Sandbox limits, checked before any host resource is made: a thread past
  // the cap is EAGAIN (threads-max); an fd table copy past the sandbox-wide fd
  // cap is ENOMEM (dup_fd failing to allocate).
  if (k.tasks.size >= k.limits.maxTasks) {
    k.log.warnOnce('limits:tasks', `clone: sandbox task limit (${k.limits.maxTasks}) reached`);
    throw linuxerr.EAGAIN;
  }
  if (!(f & CLONE_FILES) && k.limits.openFiles + t.fdTable.count > k.limits.maxFiles) throw linuxerr.ENOMEM;
  const as = t.mm.as;
  let thread: Thread;
  let mm: MemoryManager;
  if (f & CLONE_THREAD) {
    thread = as.newThread(t.thread);
    mm = t.mm;
    mm.users++;
  } else if (f & CLONE_VM) {
    thread = as.shareVM(t.thread);
    mm = t.mm;
    mm.users++;
  } else {
    thread = as.fork(t.thread);
    mm = t.mm.fork(thread.as);
  }
  const tid = k.allocTid();
  let tg: ThreadGroup;
  if (f & CLONE_THREAD) {
    tg = t.tg;
  } else {
    const parent = f & CLONE_PARENT ? t.tg.parent : t.tg;
    const sigactions = f & CLONE_SIGHAND ? t.tg.sigactions : t.tg.sigactions.map((a) => ({ ...a }));
    tg = new ThreadGroup(tid, parent, sigactions, t.tg.rlimits.map((r) => [r[0], r[1]]), o.exitSignal);
    tg.pgid = t.tg.pgid;
    tg.sid = t.tg.sid;
    tg.argv = t.tg.argv;
    tg.envp = t.tg.envp;
    tg.exe = t.tg.exe;
    tg.personality = t.tg.personality;
    parent?.children.add(tg);
    k.threadGroups.set(tid, tg);
  }
  const fdTable = f & CLONE_FILES ? t.fdTable : t.fdTable.fork();
  const fs = f & CLONE_FS ? t.fs : t.fs.fork();
  const child = new TaskClass(k, tid, tg, thread, mm, fdTable, fs, t.creds.clone());
  if (!(f & CLONE_THREAD)) tg.leader = child;
  tg.tasks.add(child);
  k.tasks.set(tid, child);
  child.name = t.name;
  child.sigmask = t.sigmask;
  // The alternate signal stack is inherited unless the child shares memory without vfork.
  if (!(f & CLONE_VM) || (f & CLONE_VFORK)) child.altStack = { ...t.altStack };
  // The child resumes where the parent made the syscall, returning 0.
  child.regs.copyFrom(t.regs);
  child.regs.rax = 0;
  if (o.stack) child.regs.rsp = o.stack;
  if (f & CLONE_SETTLS) child.regs.set(REG.fs_base, o.tls);
  child.dirty = RegsDirty.All;
  if (f & CLONE_CHILD_CLEARTID) child.clearChildTid = o.childTid;
  if (f & CLONE_PARENT_SETTID) t.mm.writeI32(o.parentTid, tid);
  if (f & CLONE_CHILD_SETTID) child.mm.writeI32(o.childTid, tid);
  if (t.ptrace) cloneHook(t, child, f, o.exitSignal);
  k.makeReady(child);
  if ((f & CLONE_VFORK) && !(f & CLONE_THREAD)) {
    return new Promise<number>((resolve) => {
      tg.vforkDone = () => resolve(tid);
    });
  }
  return tid;
}

export function newSigactionTable() {
  return newSigactions();
}
