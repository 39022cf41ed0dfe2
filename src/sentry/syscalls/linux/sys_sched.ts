// Scheduler syscalls and membarrier. The host schedules the threads that run
// guest code; these record what the guest asked for and report it back. Guests see CPUs
// 0..n-1, n being the host CPUs available to the Sentry.

import { HOST_CPUS } from '../../../platform/hostproc.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { CAP_SYS_NICE } from '../../kernel/setid.js';
import type { Task } from '../../kernel/task.js';
import { encodeTimespec } from '../../kernel/time.js';
import { RLIMIT_RTPRIO } from './sys_rlimit.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';

export const SCHED_OTHER = 0;
export const SCHED_FIFO = 1;
export const SCHED_RR = 2;
export const SCHED_BATCH = 3;
export const SCHED_IDLE = 5;
export const SCHED_DEADLINE = 6;
const SCHED_RESET_ON_FORK = 0x4000_0000;
/** The round-robin quantum (RR_TIMESLICE, 100 ms). */
const RR_TIMESLICE_NS = 100_000_000n;

/** NCPU is the number of CPUs guests see. */
export const NCPU = HOST_CPUS;
/** cpumask_size(): bytes of a CPU mask, whole longs. */
export const CPUMASK_SIZE = 8 * Math.ceil(NCPU / 64);

interface SchedState {
  policy: number;
  priority: number;
  affinity: Uint8Array | null;
}
const sched = new WeakMap<Task, SchedState>();

function stateOf(t: Task): SchedState {
  let s = sched.get(t);
  if (!s) {
    s = { policy: SCHED_OTHER, priority: 0, affinity: null };
    sched.set(t, s);
  }
  return s;
}

/** fullMask has bits 0..NCPU-1 set. */
export function fullMask(): Uint8Array {
  const m = new Uint8Array(CPUMASK_SIZE);
  for (let i = 0; i < NCPU; i++) m[i >> 3] |= 1 << (i & 7);
  return m;
}

/** taskOf resolves a pid argument (0: the caller); EINVAL for negative, ESRCH if absent. */
function taskOf(t: Task, pid: number): Task {
  if (pid < 0) throw linuxerr.EINVAL;
  if (pid === 0) return t;
  const o = t.kernel.tasks.get(pid);
  if (!o) throw linuxerr.ESRCH;
  return o;
}

/** checkSet: changing another task's scheduling needs matching ids or CAP_SYS_NICE. */
function checkSet(t: Task, target: Task): void {
  if (target === t) return;
  const c = t.creds;
  const tc = target.creds;
  if (c.euid !== tc.euid && c.euid !== tc.uid && !c.hasCap(CAP_SYS_NICE)) throw linuxerr.EPERM;
}

/** sched_yield implements Linux syscall sched_yield(2). */
export function schedYield(): number {
  return 0;
}

/** sched_getaffinity implements Linux syscall sched_getaffinity(2): returns the bytes written. */
export function schedGetaffinity(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const len = a.uint(1);
  const addr = a.ptr(2);
  if (len * 8 < NCPU || (len & 7) !== 0) throw linuxerr.EINVAL;
  const target = taskOf(t, pid);
  const mask = sched.get(target)?.affinity ?? fullMask();
  const n = Math.min(len, CPUMASK_SIZE);
  t.mm.copyOut(addr, mask.subarray(0, n));
  return n;
}

/** sched_setaffinity implements Linux syscall sched_setaffinity(2): recorded, not enforced. */
export function schedSetaffinity(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const len = a.uint(1);
  const addr = a.ptr(2);
  const mask = new Uint8Array(CPUMASK_SIZE);
  mask.set(t.mm.copyIn(addr, Math.min(len, CPUMASK_SIZE)));
  const target = taskOf(t, pid);
  checkSet(t, target);
  const full = fullMask();
  let any = false;
  for (let i = 0; i < mask.length; i++) {
    mask[i] &= full[i];
    if (mask[i]) any = true;
  }
  if (!any) throw linuxerr.EINVAL;
  stateOf(target).affinity = mask;
  return 0;
}

function validPriority(policy: number, prio: number): boolean {
  if (policy === SCHED_FIFO || policy === SCHED_RR) return prio >= 1 && prio <= 99;
  return prio === 0;
}

/** sched_getparam implements Linux syscall sched_getparam(2). */
export function schedGetparam(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const addr = a.ptr(1);
  if (addr === 0 || pid < 0) throw linuxerr.EINVAL;
  const target = taskOf(t, pid);
  t.mm.writeI32(addr, sched.get(target)?.priority ?? 0);
  return 0;
}

/** sched_setparam implements Linux syscall sched_setparam(2). */
export function schedSetparam(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const addr = a.ptr(1);
  if (addr === 0 || pid < 0) throw linuxerr.EINVAL;
  const prio = t.mm.readI32(addr);
  const target = taskOf(t, pid);
  const s = stateOf(target);
  if (!validPriority(s.policy, prio)) throw linuxerr.EINVAL;
  checkSet(t, target);
  s.priority = prio;
  return 0;
}

/** sched_getscheduler implements Linux syscall sched_getscheduler(2). */
export function schedGetscheduler(t: Task, a: SyscallArgs): number {
  const target = taskOf(t, a.int(0));
  return sched.get(target)?.policy ?? SCHED_OTHER;
}

/** sched_setscheduler implements Linux syscall sched_setscheduler(2): recorded, not enforced. */
export function schedSetscheduler(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const policy = a.int(1) & ~SCHED_RESET_ON_FORK;
  const addr = a.ptr(2);
  if (addr === 0 || pid < 0) throw linuxerr.EINVAL;
  const prio = t.mm.readI32(addr);
  const target = taskOf(t, pid);
  if (policy !== SCHED_OTHER && policy !== SCHED_FIFO && policy !== SCHED_RR && policy !== SCHED_BATCH &&
    policy !== SCHED_IDLE) {
    throw linuxerr.EINVAL; // SCHED_DEADLINE needs sched_setattr
  }
  if (!validPriority(policy, prio)) throw linuxerr.EINVAL;
  checkSet(t, target);
  if ((policy === SCHED_FIFO || policy === SCHED_RR) && !t.creds.hasCap(CAP_SYS_NICE) &&
    t.tg.rlimits[RLIMIT_RTPRIO][0] < prio) {
    throw linuxerr.EPERM;
  }
  const s = stateOf(target);
  s.policy = policy;
  s.priority = prio;
  return 0;
}

/** sched_get_priority_max implements Linux syscall sched_get_priority_max(2). */
export function schedGetPriorityMax(_t: Task, a: SyscallArgs): number {
  switch (a.int(0)) {
    case SCHED_FIFO: case SCHED_RR: return 99;
    case SCHED_OTHER: case SCHED_BATCH: case SCHED_IDLE: case SCHED_DEADLINE: return 0;
    default: throw linuxerr.EINVAL;
  }
}

/** sched_get_priority_min implements Linux syscall sched_get_priority_min(2). */
export function schedGetPriorityMin(_t: Task, a: SyscallArgs): number {
  switch (a.int(0)) {
    case SCHED_FIFO: case SCHED_RR: return 1;
    case SCHED_OTHER: case SCHED_BATCH: case SCHED_IDLE: case SCHED_DEADLINE: return 0;
    default: throw linuxerr.EINVAL;
  }
}

/** sched_rr_get_interval implements Linux syscall sched_rr_get_interval(2). */
export function schedRrGetInterval(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const addr = a.ptr(1);
  const target = taskOf(t, pid);
  const fifo = (sched.get(target)?.policy ?? SCHED_OTHER) === SCHED_FIFO;
  t.mm.copyOut(addr, encodeTimespec(fifo ? 0n : RR_TIMESLICE_NS));
  return 0;
}

// membarrier(2) commands.
const MEMBARRIER_CMD_QUERY = 0;
const MEMBARRIER_CMD_GLOBAL = 1 << 0;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED = 1 << 1;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 1 << 2;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 1 << 5;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 1 << 6;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 1 << 7;
const MEMBARRIER_CMD_GET_REGISTRATIONS = 1 << 9;
const MEMBARRIER_CMD_FLAG_CPU = 1;
/** Everything but the rseq commands (rseq(2) is not implemented). */
const MEMBARRIER_SUPPORTED = MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED |
  MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED |
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE |
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE | MEMBARRIER_CMD_GET_REGISTRATIONS;
/** REGISTER_* commands done per address space (execve starts a new one). */
const membarrierRegs = new WeakMap<object, number>();

/** membarrier implements Linux syscall membarrier(2). The barriers succeed
 *  without doing anything more: the Sentry handles one syscall at a time,
 *  and stopping and resuming the caller through ptrace orders its memory
 *  accesses; the rseq commands are EINVAL, as on a kernel without rseq. */
export function membarrier(t: Task, a: SyscallArgs): number {
  const cmd = a.int(0);
  const flags = a.uint(1);
  if (cmd === MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ ? flags & ~MEMBARRIER_CMD_FLAG_CPU : flags) throw linuxerr.EINVAL;
  const regs = membarrierRegs.get(t.mm) ?? 0;
  switch (cmd) {
    case MEMBARRIER_CMD_QUERY:
      return MEMBARRIER_SUPPORTED;
    case MEMBARRIER_CMD_GLOBAL:
    case MEMBARRIER_CMD_GLOBAL_EXPEDITED:
      return 0;
    case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
      membarrierRegs.set(t.mm, regs | cmd);
      return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
      if (!(regs & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)) throw linuxerr.EPERM;
      return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
      if (!(regs & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE)) throw linuxerr.EPERM;
      return 0;
    case MEMBARRIER_CMD_GET_REGISTRATIONS:
      return regs;
    default:
      throw linuxerr.EINVAL;
  }
}

export const syscalls: SyscallEntries = {
  [SYSNO.sched_yield]: supported('sched_yield', schedYield),
  [SYSNO.sched_getaffinity]: supported('sched_getaffinity', schedGetaffinity),
  [SYSNO.sched_setaffinity]: partial('sched_setaffinity', schedSetaffinity, 'Recorded, not enforced on the host.'),
  [SYSNO.sched_getparam]: supported('sched_getparam', schedGetparam),
  [SYSNO.sched_setparam]: partial('sched_setparam', schedSetparam, 'Recorded, not enforced on the host.'),
  [SYSNO.sched_getscheduler]: supported('sched_getscheduler', schedGetscheduler),
  [SYSNO.sched_setscheduler]: partial('sched_setscheduler', schedSetscheduler, 'Recorded, not enforced; no SCHED_DEADLINE.'),
  [SYSNO.sched_get_priority_max]: supported('sched_get_priority_max', schedGetPriorityMax),
  [SYSNO.sched_get_priority_min]: supported('sched_get_priority_min', schedGetPriorityMin),
  [SYSNO.sched_rr_get_interval]: supported('sched_rr_get_interval', schedRrGetInterval),
  [SYSNO.membarrier]: partial('membarrier', membarrier, 'Barriers succeed without IPIs; no rseq commands.'),
};
