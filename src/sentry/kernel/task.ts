// Task is one guest thread (Linux's task_struct): its host thread on the
// platform, its process (ThreadGroup), and the per-thread kernel state. Task
// holds state and small accessors; operations live in task_*.ts files.

import * as linuxerr from '../../abi/linux/errno.js';
import type { Thread } from '../../platform/platform.js';
import { RegsDirty } from '../../platform/platform.js';
import type { MemoryManager } from '../mm/mm.js';
import type { SyscallResult } from '../syscalls/syscalls.js';
import { FSContext } from '../vfs/fs_context.js';
import type { WaitQueue } from '../vfs/waiter.js';
import type { Credentials } from './creds.js';
import type { FDTable } from './fd_table.js';
import type { Kernel } from './kernel.js';
import type { Tracee } from './ptrace.js';
import { signalPending } from './signals.js';
import type { ThreadGroup } from './thread_group.js';

/** Interrupt ends a task's wait in the Sentry, failing it with e (if given). */
export type Interrupt = (e?: linuxerr.SyscallError) => void;

export const enum TaskState {
  /** Running guest code on the host, or about to. */
  Running = 0,
  /** In a syscall the Sentry is still working on (a pending promise). */
  Blocked = 1,
  /** Result ready; waiting for the run loop to resume it. */
  Ready = 2,
  /** Gone: exited or killed. */
  Dead = 3,
}

export class Task {
  readonly kernel: Kernel;
  /** tid is the guest-visible thread id (in the sandbox's PID namespace). */
  tid: number;
  tg: ThreadGroup;
  /** thread is the host thread that runs this task's code. */
  thread: Thread;
  mm: MemoryManager;
  fdTable: FDTable;
  fs: FSContext;
  creds: Credentials;
  state = TaskState.Running;
  /** What the next resume must write back to the host registers. */
  dirty = RegsDirty.None;
  /** The signal to deliver on the next resume (0: none). */
  resumeSig = 0;
  /** Blocked signal mask (bit sig-1 set = blocked). */
  sigmask = 0n;
  /** set_tid_address / CLONE_CHILD_CLEARTID: cleared and futex-woken on exit. */
  clearChildTid = 0;
  robustList = 0;
  robustListLen = 0;
  /** Signals sent to this thread (tgkill) and not yet delivered (bit sig-1). */
  pendingSignals = 0n;
  /** sigaltstack(2) state; flags 2 is SS_DISABLE. */
  altStack = { sp: 0, size: 0, flags: 2 };
  /** PR_SET_PDEATHSIG: signal to receive when the parent exits (0: none). */
  pdeathsig = 0;
  /** comm, the thread name (PR_SET_NAME), at most 15 bytes. */
  name = '';
  /** For the strace log: the syscall being worked on. */
  syscallNo = -1;
  /** ptrace(2) state while a tracer traces this task (ptrace.ts); null otherwise. */
  ptrace: Tracee | null = null;

  constructor(kernel: Kernel, tid: number, tg: ThreadGroup, thread: Thread, mm: MemoryManager,
    fdTable: FDTable, fs: FSContext, creds: Credentials) {
    this.kernel = kernel;
    this.tid = tid;
    this.tg = tg;
    this.thread = thread;
    this.mm = mm;
    this.fdTable = fdTable;
    this.fs = fs;
    this.creds = creds;
    thread.owner = this;
  }

  get regs() {
    return this.thread.regs;
  }

  /** setResult stores a syscall's return value in rax. */
  setResult(r: number): void {
    this.thread.regs.rax = r;
    if (this.dirty === RegsDirty.None) this.dirty = RegsDirty.Rax;
  }

  /** complete is called when a blocked syscall finishes (from a promise). */
  complete(r: SyscallResult): void {
    this.kernel.completeSyscall(this, r);
  }

  /** block waits until queue reports one of mask's events. Await point.
   *  Rejects with ERESTARTSYS when a signal interrupts the wait (or is
   *  already pending): signal delivery turns that into EINTR or a restart.
   *  Other interruptions (exit) reject with EINTR unless they pass an error. */
  block(queue: WaitQueue, mask: number): Promise<number> {
    if (this.state === TaskState.Dead) return Promise.reject(linuxerr.EINTR);
    if (signalPending(this)) return Promise.reject(linuxerr.ERESTARTSYS);
    return new Promise<number>((resolve, reject) => {
      const unregister = queue.register(mask, (ev) => {
        this.interrupt = null;
        this.kernel.noteWake();
        resolve(ev);
      });
      this.interrupt = (e) => {
        unregister();
        this.interrupt = null;
        reject(e ?? linuxerr.EINTR);
      };
    });
  }

  /** sleep waits for ms milliseconds (or an interruption, as for block). Await point. */
  sleep(ms: number): Promise<void> {
    if (this.state === TaskState.Dead) return Promise.reject(linuxerr.EINTR);
    if (signalPending(this)) return Promise.reject(linuxerr.ERESTARTSYS);
    return new Promise<void>((resolve, reject) => {
      // Node clamps delays above 2^31-1 ms to 1 ms: callers must pass less.
      const timer = setTimeout(() => {
        this.interrupt = null;
        resolve();
      }, Math.min(Math.max(ms, 0), 0x7fff_ffff));
      this.interrupt = (e) => {
        clearTimeout(timer);
        this.interrupt = null;
        reject(e ?? linuxerr.EINTR);
      };
    });
  }

  private interruptFn: Interrupt | null = null;

  /** interrupt, while set, cancels the task's current wait; signal delivery
   *  passes the error the wait should fail with (ERESTARTSYS). A wait that
   *  starts while a signal is already pending is interrupted at once. */
  get interrupt(): Interrupt | null {
    return this.interruptFn;
  }
  set interrupt(fn: Interrupt | null) {
    this.interruptFn = fn;
    if (fn !== null && signalPending(this)) {
      queueMicrotask(() => {
        if (this.interruptFn === fn) fn(linuxerr.ERESTARTSYS);
      });
    }
  }

  /** isLeader is true for the thread whose tid is the process's pid. */
  get isLeader(): boolean {
    return this.tg.leader === this;
  }
}
