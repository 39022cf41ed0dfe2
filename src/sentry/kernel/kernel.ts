// Kernel is the Sentry's core: the task table, the PID namespace, and the run
// loop that resumes guest threads, waits for their next system call, and
// dispatches it. The loop runs on Node's main thread (the ptrace tracer).
// Fast path: a syscall whose handler returns synchronously is answered and
// the thread resumed in the same native call that waits for its next stop.

import { SYSNO } from '../../abi/linux/sysno.js';
import { RegsDirty, StopKind } from '../../platform/platform.js';
import type { Platform, Stop } from '../../platform/platform.js';
import type { SyscallResult } from '../syscalls/syscalls.js';
import { SyscallControl } from '../syscalls/syscalls.js';
import type { VFS } from '../vfs/vfs.js';
import { Log } from './log.js';
import { sandboxLimits } from './limits.js';
import type { LimitsOptions, SandboxLimits } from './limits.js';
import { armedRealTimers } from './time.js';
import { Task, TaskState } from './task.js';
import { afterSyscall, syscallEnter } from './ptrace.js';
import { handleSignalStop } from './task_exit.js';
import { dispatchSyscall } from './task_syscall.js';
import type { ThreadGroup } from './thread_group.js';

/** Microtask turns given to promise chains after a wake-up (each await hop is one). */
const WAKE_TURNS = 8;

/** Syscalls that may have to wait for another thread's (reads, receives,
 *  accepts, readiness waits): of two threads stopped at once, the platform
 *  reports the other first (see Platform.waitsFirst), so a write is handled
 *  before the read it would satisfy, which then completes without blocking. */
const WAITS_FIRST = new Uint8Array(512);
for (const nr of [
  SYSNO.read, SYSNO.readv, SYSNO.recvfrom, SYSNO.recvmsg, SYSNO.recvmmsg, SYSNO.accept, SYSNO.accept4,
  SYSNO.poll, SYSNO.ppoll, SYSNO.select, SYSNO.pselect6, SYSNO.epoll_wait, SYSNO.epoll_pwait, SYSNO.epoll_pwait2,
  SYSNO.wait4, SYSNO.waitid, SYSNO.msgrcv, SYSNO.mq_timedreceive,
]) WAITS_FIRST[nr] = 1;
const waitsFirst = (nr: number): boolean => nr >= 0 && nr < WAITS_FIRST.length && WAITS_FIRST[nr] === 1;
/** How long a blocking platform wait may last while the event loop has work. */
const POLL_US = 10_000;

export interface KernelOptions {
  platform: Platform;
  vfs: VFS;
  log: Log;
  /** hostname as uname(2) reports it. */
  hostname: string;
  /** memoryLimit is the sandbox cgroup's memory limit, if runsc knows it (bytes). */
  memoryLimit?: number;
  /** Caps on guest threads and sandbox-wide open fds (see limits.ts). */
  maxTasks?: number;
  maxFiles?: number;
}

export class Kernel {
  readonly platform: Platform;
  readonly vfs: VFS;
  readonly log: Log;
  /** limits are what the sandbox's guests may make the Sentry hold. */
  readonly limits: SandboxLimits;
  hostname: string;
  domainname = '(none)';
  readonly tasks = new Map<number, Task>();
  readonly threadGroups = new Map<number, ThreadGroup>();
  init: ThreadGroup | null = null;
  private nextTid = 1;
  /** Tasks whose result is ready, waiting to be resumed. */
  private readonly ready: Task[] = [];
  private wakeLoop: (() => void) | null = null;
  /** Set when something may have woken a blocked task, so the loop yields to microtasks. */
  private pendingWake = false;
  private exitResolve!: (status: number) => void;
  /** The init process's wait status, once it has exited. */
  readonly exited: Promise<number>;
  /** The monotonic clock's origin (boot time), in ns. */
  readonly bootTime = process.hrtime.bigint();

  constructor(opts: KernelOptions) {
    this.platform = opts.platform;
    if ('waitsFirst' in this.platform) this.platform.waitsFirst = waitsFirst;
    this.vfs = opts.vfs;
    this.log = opts.log;
    this.hostname = opts.hostname;
    this.limits = sandboxLimits();
    const lo: LimitsOptions = { memoryLimit: opts.memoryLimit, maxTasks: opts.maxTasks, maxFiles: opts.maxFiles };
    this.limits.configure(lo);
    this.exited = new Promise((r) => (this.exitResolve = r));
  }

  /** beforeResume runs before a task goes back to guest code (signal
   *  delivery, syscall restart). It returns false when the task must not be
   *  resumed after all (it died, or stopped for job control). */
  beforeResume?: (t: Task) => boolean;
  /** Hooks filled in by the signal and futex subsystems. */
  futexWake?: (t: Task, addr: number, n: number) => void;
  signalProcess?: (tg: ThreadGroup, sig: number, from: ThreadGroup | null) => void;
  deliverFault?: (t: Task, sig: number) => void;

  /** allocTid returns an unused guest tid. */
  allocTid(): number {
    while (this.tasks.has(this.nextTid) || this.threadGroups.has(this.nextTid)) this.nextTid++;
    return this.nextTid++;
  }

  /** completeSyscall records the result of a syscall that blocked and queues the task. */
  completeSyscall(t: Task, r: SyscallResult): void {
    if (t.state === TaskState.Dead) return;
    this.finish(t, r);
    if (t.state === TaskState.Ready) this.ready.push(t);
    this.poke();
  }

  /** finish applies a handler's result to the task's registers. */
  private finish(t: Task, r: SyscallResult): void {
    if (t.state === TaskState.Dead) return;
    if (!(r instanceof SyscallControl)) t.setResult(r);
    t.state = TaskState.Ready;
    // A tracee may stop here (event, syscall-exit): it is then not Ready.
    if (t.ptrace) afterSyscall(t);
  }

  /** makeReady queues a task that is stopped and should run (a new child). */
  makeReady(t: Task): void {
    t.state = TaskState.Ready;
    this.ready.push(t);
    this.poke();
  }

  /** noteWake records that a blocked task's wait just ended: before resuming
   *  the current task, the loop lets the woken task finish its syscall so both
   *  run on the host at once. Await points: none. */
  noteWake(): void {
    this.pendingWake = true;
  }

  /** poke wakes the run loop if it is waiting for work. */
  poke(): void {
    this.pendingWake = true;
    const w = this.wakeLoop;
    if (w) {
      this.wakeLoop = null;
      w();
    }
  }

  /** exitInit records init's exit; run() returns once the loop drains. */
  initExited(status: number): void {
    this.exitResolve(status);
  }

  /** run drives every task until the init process exits; returns its wait status. */
  async run(): Promise<number> {
    let done = false;
    let status = 0;
    // A sandbox whose tasks all wait (a deadlock, a stop, an unref'd timer)
    // must stay up as Linux would, not end because Node's event loop is empty.
    const keepAlive = setInterval(() => {}, 1 << 30);
    void this.exited.then((s) => {
      done = true;
      status = s;
      this.poke();
    });
    const p = this.platform;
    let stop: Stop | null = null;
    while (!done) {
      if (this.pendingWake) {
        // Let promise continuations (a woken reader finishing its syscall)
        // run before blocking: a few microtask turns, no event loop round.
        this.pendingWake = false;
        for (let i = 0; i < WAKE_TURNS; i++) await null;
        // Those turns may have seen init exit (the exited callback is a
        // microtask): waiting for work now would wait forever.
        if (done) break;
      }
      // Resume every ready task but one, which the fused call below resumes.
      let last: Task | null = null;
      while (this.ready.length) {
        const t = this.ready.shift()!;
        if (t.state !== TaskState.Ready) continue;
        if (last) this.resume(last);
        last = t;
      }
      if (last && this.beforeResume && !this.beforeResume(last)) last = null;
      if (last) {
        const t = last;
        t.state = TaskState.Running;
        const dirty = t.dirty;
        t.dirty = RegsDirty.None;
        const sig = t.resumeSig;
        t.resumeSig = 0;
        if (!!t.ptrace && t.ptrace.step) {
          // A guest tracer single-steps t: the platform's plain resume takes the step flag.
          p.resume(t.thread, dirty, sig, true);
          stop = p.wait(this.hasTimers() ? POLL_US : -1);
        } else {
          stop = p.resumeAndWait(t.thread, dirty, sig, this.hasTimers() ? POLL_US : -1);
        }
      } else if (p.runningCount > 0) {
        stop = p.wait(this.hasTimers() ? POLL_US : -1);
      } else {
        // Nothing runs on the host: sleep until some task becomes ready.
        await new Promise<void>((r) => (this.wakeLoop = r));
        continue;
      }
      if (stop === null) {
        // Timed out: give the event loop a turn (timers, host I/O).
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      this.handleStop(stop);
      // A guest making syscalls back to back never lets the loop block: give
      // the event loop a turn every POLL_US anyway, or its timers would wait.
      if (this.hasTimers()) {
        const now = performance.now();
        if (now - this.lastTurn >= POLL_US / 1000) {
          this.lastTurn = now;
          await new Promise<void>((r) => setImmediate(r));
        }
      }
    }
    clearInterval(keepAlive);
    return status;
  }

  /** hasTimers reports whether the event loop may have work while guests run. */
  private hasTimers(): boolean {
    return this.alwaysPoll || this.blockedCount > 0 || armedRealTimers() > 0;
  }

  /** alwaysPoll bounds every platform wait so the event loop always gets turns
   *  (a sandbox process serving its control socket while guests run). */
  alwaysPoll = false;

  /** When the run loop last yielded to the event loop between stops (ms). */
  private lastTurn = 0;

  /** blockedCount is the number of tasks waiting in the Sentry. */
  blockedCount = 0;

  private resume(t: Task): void {
    if (this.beforeResume && !this.beforeResume(t)) return;
    t.state = TaskState.Running;
    const dirty = t.dirty;
    t.dirty = RegsDirty.None;
    const sig = t.resumeSig;
    t.resumeSig = 0;
    this.platform.resume(t.thread, dirty, sig, !!t.ptrace && t.ptrace.step);
  }

  /** handleStop handles one stopped host thread. Await points: none. */
  private handleStop(stop: Stop): void {
    const t = stop.thread.owner as Task | null;
    if (!t || t.state === TaskState.Dead) return;
    switch (stop.kind) {
      case StopKind.Syscall:
        // A tracee may stop before its syscall runs (PTRACE_SYSCALL).
        if (t.ptrace && syscallEnter(t)) return;
        this.runSyscall(t);
        return;
      case StopKind.Signal:
        handleSignalStop(t, stop.sig);
        return;
      case StopKind.Gone:
        this.log.debug(`task ${t.tid}: host thread gone (signal ${stop.sig})`);
        return;
    }
  }

  /** runSyscall runs the syscall t is stopped at and queues t when its result
   *  is ready (a tracee's syscall-enter stop calls it once resumed). Await points: none. */
  runSyscall(t: Task): void {
    const r = dispatchSyscall(t);
    if (r instanceof Promise) {
      t.state = TaskState.Blocked;
      this.blockedCount++;
      r.then(
        (v) => {
          this.blockedCount--;
          this.completeSyscall(t, v);
        },
        (e) => {
          this.blockedCount--;
          this.log.warning(`task ${t.tid}: syscall promise rejected: ${String(e)}`);
          this.completeSyscall(t, -38);
        },
      );
      return;
    }
    this.finish(t, r);
    if (t.state === TaskState.Ready) this.ready.unshift(t);
  }
}
