// ThreadGroup is a guest process (Linux's signal_struct plus the parts of
// task_struct that belong to the whole group): its threads, its place in the
// process tree, its exit status and its signal dispositions.

import { WaitQueue } from '../vfs/waiter.js';
import type { Task } from './task.js';

/** SigAction is one signal's disposition (struct k_sigaction). */
export interface SigAction {
  handler: bigint;
  flags: number;
  restorer: bigint;
  mask: bigint;
}

/** Resource limits: [soft, hard]; Infinity stands for RLIM_INFINITY. */
export type Rlimits = [number, number][];

export const RLIM_INFINITY = Infinity;

/** defaultRlimits mirrors what a Linux init gives its children. */
export function defaultRlimits(): Rlimits {
  const inf: [number, number] = [RLIM_INFINITY, RLIM_INFINITY];
  return [
    [...inf], // RLIMIT_CPU
    [...inf], // RLIMIT_FSIZE
    [...inf], // RLIMIT_DATA
    [8 * 1024 * 1024, RLIM_INFINITY], // RLIMIT_STACK
    [0, RLIM_INFINITY], // RLIMIT_CORE
    [...inf], // RLIMIT_RSS
    [63_535, 63_535], // RLIMIT_NPROC
    [1024, 1_048_576], // RLIMIT_NOFILE
    [8 * 1024 * 1024, 8 * 1024 * 1024], // RLIMIT_MEMLOCK
    [...inf], // RLIMIT_AS
    [...inf], // RLIMIT_LOCKS
    [63_535, 63_535], // RLIMIT_SIGPENDING
    [819_200, 819_200], // RLIMIT_MSGQUEUE
    [0, 0], // RLIMIT_NICE
    [0, 0], // RLIMIT_RTPRIO
    [...inf], // RLIMIT_RTTIME
  ];
}

export class ThreadGroup {
  /** pid is the guest-visible process id (the leader's tid). */
  readonly pid: number;
  leader!: Task;
  readonly tasks = new Set<Task>();
  parent: ThreadGroup | null;
  readonly children = new Set<ThreadGroup>();
  pgid: number;
  sid: number;
  /** Signal dispositions, shared with CLONE_SIGHAND (an array indexed by signal). */
  sigactions: SigAction[];
  /** The signal sent to the parent on exit (SIGCHLD for fork). */
  exitSignal: number;
  /** Set once the group is exiting; the wait status (as wait4 reports it) once known. */
  exiting = false;
  exitStatus = 0;
  /** zombie: exited, waiting to be reaped by the parent. */
  zombie = false;
  /** Notified when a child changes state (exit, stop, continue). */
  readonly childEvents = new WaitQueue();
  rlimits: Rlimits;
  /** Set by execve for /proc: argv, envp and the executable's path. */
  argv: string[] = [];
  envp: string[] = [];
  exe = '';
  /** Resolved when a vfork child execs or exits, releasing its parent. */
  vforkDone: (() => void) | null = null;
  /** Start time (monotonic ns), for /proc/[pid]/stat. */
  readonly startTime: bigint;
  /** CPU time consumed by reaped children (for getrusage/times), in ns. */
  childUserNs = 0n;
  childSysNs = 0n;
  subreaper = false;
  /** personality(2) flags, inherited by children and kept across exec. */
  personality = 0;
  /** Process-directed signals not yet delivered (bit sig-1). */
  pendingSignals = 0n;

  constructor(pid: number, parent: ThreadGroup | null, sigactions: SigAction[], rlimits: Rlimits, exitSignal: number) {
    this.pid = pid;
    this.parent = parent;
    this.pgid = parent ? parent.pgid : pid;
    this.sid = parent ? parent.sid : pid;
    this.sigactions = sigactions;
    this.rlimits = rlimits;
    this.exitSignal = exitSignal;
    this.startTime = process.hrtime.bigint();
  }

  /** liveTasks counts threads that have not exited. */
  get liveTasks(): number {
    return this.tasks.size;
  }
}

/** newSigactions returns 65 default dispositions (index 0 unused). */
export function newSigactions(): SigAction[] {
  return Array.from({ length: 65 }, () => ({ handler: 0n, flags: 0, restorer: 0n, mask: 0n }));
}
