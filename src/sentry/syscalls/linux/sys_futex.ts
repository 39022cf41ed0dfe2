// futex(2) and futex_waitv(2). Keys, queues, PI hand-over and exit-time
// cleanup are in kernel/futex.ts; this file decodes arguments and timeouts
// in the order Linux checks them.

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Deadline, FutexKey, WaitTarget } from '../../kernel/futex.js';
import {
  FUTEX_BITSET_MATCH_ANY, applyOp, atomicOp, futexKey, futexTableOf, lockPi, unlockPi, waitOn,
} from '../../kernel/futex.js';
import { setRestartBlock } from '../../kernel/signals.js';
import type { Task } from '../../kernel/task.js';
import { monotonicNs, readTimespec, realtimeNs } from '../../kernel/time.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';

export const FUTEX_WAIT = 0;
export const FUTEX_WAKE = 1;
export const FUTEX_FD = 2;
export const FUTEX_REQUEUE = 3;
export const FUTEX_CMP_REQUEUE = 4;
export const FUTEX_WAKE_OP = 5;
export const FUTEX_LOCK_PI = 6;
export const FUTEX_UNLOCK_PI = 7;
export const FUTEX_TRYLOCK_PI = 8;
export const FUTEX_WAIT_BITSET = 9;
export const FUTEX_WAKE_BITSET = 10;
export const FUTEX_WAIT_REQUEUE_PI = 11;
export const FUTEX_CMP_REQUEUE_PI = 12;
export const FUTEX_LOCK_PI2 = 13;
export const FUTEX_PRIVATE_FLAG = 128;
export const FUTEX_CLOCK_REALTIME = 256;
const FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

/** futex_waitv: at most this many futexes; per-futex flags FUTEX2_SIZE_U32 | FUTEX2_PRIVATE. */
const FUTEX_WAITV_MAX = 128;
const FUTEX2_SIZE_U32 = 0x02;
const FUTEX2_PRIVATE = FUTEX_PRIVATE_FLAG;
const SIZEOF_FUTEX_WAITV = 24;
const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;

function hasTimeout(cmd: number): boolean {
  return cmd === FUTEX_WAIT || cmd === FUTEX_LOCK_PI || cmd === FUTEX_LOCK_PI2 || cmd === FUTEX_WAIT_BITSET ||
    cmd === FUTEX_WAIT_REQUEUE_PI;
}

/** decodeTimeout turns futex(2)'s timeout into a deadline: relative on
 *  CLOCK_MONOTONIC for FUTEX_WAIT, absolute on CLOCK_REALTIME for LOCK_PI,
 *  absolute on the clock FUTEX_CLOCK_REALTIME selects for the others. */
function decodeTimeout(t: Task, cmd: number, op: number, addr: number): Deadline {
  const ns = readTimespec(t.mm, addr);
  if (cmd === FUTEX_WAIT) return { now: monotonicNs, at: monotonicNs() + ns };
  if (cmd === FUTEX_LOCK_PI || (op & FUTEX_CLOCK_REALTIME)) return { now: realtimeNs, at: ns };
  return { now: monotonicNs, at: ns };
}

/** wait is FUTEX_WAIT and FUTEX_WAIT_BITSET. */
function wait(t: Task, addr: number, priv: boolean, val: number, bitset: number, deadline: Deadline | null):
  number | Promise<number> {
  if (bitset === 0) throw linuxerr.EINVAL;
  const key = futexKey(t, addr, priv);
  if (t.mm.readU32(addr) !== val) throw linuxerr.EAGAIN;
  if (deadline && deadline.now() >= deadline.at) throw linuxerr.ETIMEDOUT;
  return waitOn(t, [{ key, addr }], bitset, deadline).then(() => 0, (e: unknown) => {
    // As Linux: a timed wait interrupted without a handler to run continues
    // (restart_syscall) towards the same deadline, checking the value again.
    if (deadline && e === linuxerr.ERESTARTSYS) {
      setRestartBlock(t, (t2) => wait(t2, addr, priv, val, bitset, deadline));
      throw linuxerr.ERESTART_RESTARTBLOCK;
    }
    throw e;
  });
}

/** wakeOp is FUTEX_WAKE_OP: change *addr2, wake on addr, and on addr2 too
 *  if the old value of *addr2 passes the operation's comparison. */
function wakeOp(t: Task, addr: number, addr2: number, priv: boolean, nr: number, nr2: number, op: number): number {
  const key1 = futexKey(t, addr, priv);
  const key2 = futexKey(t, addr2, priv);
  const kind = (op >>> 28) & 7;
  const cmp = (op >>> 24) & 15;
  let oparg = (op << 8) >> 20;
  const cmparg = (op << 20) >> 20;
  if (op & (8 << 28)) oparg = 1 << (oparg & 31);
  applyOp(kind, 0, oparg); // ENOSYS for an unknown operation, before touching memory
  const old = t.mm.readI32(addr2);
  atomicOp(t.mm, addr2, op);
  let cond: boolean;
  // Like Linux, an unknown comparison fails only after the word has changed.
  switch (cmp) {
    case 0: cond = old === cmparg; break;
    case 1: cond = old !== cmparg; break;
    case 2: cond = old < cmparg; break;
    case 3: cond = old <= cmparg; break;
    case 4: cond = old > cmparg; break;
    case 5: cond = old >= cmparg; break;
    default: throw linuxerr.ENOSYS;
  }
  const table = futexTableOf(t.kernel);
  let n = table.wake(key1, nr);
  if (cond) n += table.wake(key2, nr2);
  return n;
}

/** requeue is FUTEX_REQUEUE and FUTEX_CMP_REQUEUE (cmp null for the former). */
function requeue(t: Task, addr: number, addr2: number, priv: boolean, nWake: number, nRequeue: number,
  cmp: number | null): number {
  if (nWake < 0 || nRequeue < 0) throw linuxerr.EINVAL;
  const key1 = futexKey(t, addr, priv);
  const key2: FutexKey = futexKey(t, addr2, priv);
  if (cmp !== null && t.mm.readU32(addr) !== cmp) throw linuxerr.EAGAIN;
  return futexTableOf(t.kernel).requeue(key1, key2, addr2, nWake, nRequeue);
}

/** futex implements Linux syscall futex(2). */
export function futex(t: Task, a: SyscallArgs): number | Promise<number> {
  const addr = a.ptr(0);
  const op = a.int(1);
  const val = a.uint(2);
  const timeout = a.ptr(3);
  const addr2 = a.ptr(4);
  const val3 = a.uint(5);
  const cmd = op & FUTEX_CMD_MASK;
  const priv = (op & FUTEX_PRIVATE_FLAG) !== 0;
  let deadline: Deadline | null = null;
  if (timeout && hasTimeout(cmd)) deadline = decodeTimeout(t, cmd, op, timeout);
  if ((op & FUTEX_CLOCK_REALTIME) && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_WAIT_REQUEUE_PI &&
    cmd !== FUTEX_LOCK_PI2) {
    throw linuxerr.ENOSYS;
  }
  // val2 travels in the timeout argument for the requeue and wake-op commands.
  const val2 = a.uint(3) | 0;
  switch (cmd) {
    case FUTEX_WAIT:
      return wait(t, addr, priv, val, FUTEX_BITSET_MATCH_ANY, deadline);
    case FUTEX_WAIT_BITSET:
      return wait(t, addr, priv, val, val3, deadline);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const bitset = cmd === FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : val3;
      if (bitset === 0) throw linuxerr.EINVAL;
      return futexTableOf(t.kernel).wake(futexKey(t, addr, priv), val | 0, bitset);
    }
    case FUTEX_REQUEUE:
      return requeue(t, addr, addr2, priv, val | 0, val2, null);
    case FUTEX_CMP_REQUEUE:
      return requeue(t, addr, addr2, priv, val | 0, val2, val3);
    case FUTEX_WAKE_OP:
      return wakeOp(t, addr, addr2, priv, val | 0, val2, val3);
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
      return lockPi(t, addr, futexKey(t, addr, priv), deadline, false);
    case FUTEX_TRYLOCK_PI:
      return lockPi(t, addr, futexKey(t, addr, priv), null, true);
    case FUTEX_UNLOCK_PI:
      return unlockPi(t, addr, futexKey(t, addr, priv));
    case FUTEX_WAIT_REQUEUE_PI:
    case FUTEX_CMP_REQUEUE_PI:
      t.kernel.log.warnOnce(`futex:${cmd}`, 'futex: WAIT_REQUEUE_PI/CMP_REQUEUE_PI are not implemented');
      throw linuxerr.ENOSYS;
    default:
      throw linuxerr.ENOSYS;
  }
}

/** futex_waitv implements Linux syscall futex_waitv(2): wait on up to 128
 *  futexes at once; returns the index of one that was woken. */
export function futexWaitv(t: Task, a: SyscallArgs): number | Promise<number> {
  const waiters = a.ptr(0);
  const nr = a.uint(1);
  const flags = a.uint(2);
  const timeout = a.ptr(3);
  const clockid = a.int(4);
  if (flags) throw linuxerr.EINVAL;
  if (nr === 0 || nr > FUTEX_WAITV_MAX || waiters === 0) throw linuxerr.EINVAL;
  let deadline: Deadline | null = null;
  if (timeout) {
    if (clockid !== CLOCK_REALTIME && clockid !== CLOCK_MONOTONIC) throw linuxerr.EINVAL;
    deadline = { now: clockid === CLOCK_REALTIME ? realtimeNs : monotonicNs, at: readTimespec(t.mm, timeout) };
  }
  const raw = new DataView(t.mm.copyIn(waiters, nr * SIZEOF_FUTEX_WAITV).buffer);
  const entries: { val: bigint; addr: number; priv: boolean }[] = [];
  for (let i = 0; i < nr; i++) {
    const o = i * SIZEOF_FUTEX_WAITV;
    const wflags = raw.getUint32(o + 16, true);
    if ((wflags & ~(FUTEX2_SIZE_U32 | FUTEX2_PRIVATE)) || raw.getUint32(o + 20, true) !== 0) throw linuxerr.EINVAL;
    if (!(wflags & FUTEX2_SIZE_U32)) throw linuxerr.EINVAL;
    entries.push({ val: raw.getBigUint64(o, true), addr: Number(raw.getBigUint64(o + 8, true)), priv: (wflags & FUTEX2_PRIVATE) !== 0 });
  }
  const targets: WaitTarget[] = [];
  for (const e of entries) {
    if (e.val > 0xffff_ffffn) throw linuxerr.EINVAL; // the value must fit the futex's size
    targets.push({ key: futexKey(t, e.addr, e.priv), addr: e.addr });
  }
  for (let i = 0; i < entries.length; i++) {
    if (BigInt(t.mm.readU32(entries[i].addr)) !== entries[i].val) throw linuxerr.EAGAIN;
  }
  if (deadline && deadline.now() >= deadline.at) throw linuxerr.ETIMEDOUT;
  return waitOn(t, targets, FUTEX_BITSET_MATCH_ANY, deadline);
}

export const syscalls: SyscallEntries = {
  [SYSNO.futex]: partial('futex', futex, 'WAIT_REQUEUE_PI and CMP_REQUEUE_PI are not implemented (ENOSYS); PI futexes do not boost priorities.'),
  [SYSNO.futex_waitv]: supported('futex_waitv', futexWaitv),
};
