// prctl(2): process and thread attributes. Options the sandbox cannot honour
// return the errno a kernel without the feature returns (EINVAL), logged once.

import * as linuxerr from '../../../abi/linux/errno.js';
import { NSIG } from '../../../abi/linux/signal.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import * as setid from '../../kernel/setid.js';
import type { Task } from '../../kernel/task.js';
import type { MemoryManager } from '../../mm/mm.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial } from '../syscalls.js';

export const PR_SET_PDEATHSIG = 1;
export const PR_GET_PDEATHSIG = 2;
export const PR_GET_DUMPABLE = 3;
export const PR_SET_DUMPABLE = 4;
export const PR_GET_KEEPCAPS = 7;
export const PR_SET_KEEPCAPS = 8;
export const PR_SET_NAME = 15;
export const PR_GET_NAME = 16;
export const PR_GET_SECCOMP = 21;
export const PR_SET_SECCOMP = 22;
export const PR_CAPBSET_READ = 23;
export const PR_CAPBSET_DROP = 24;
export const PR_GET_SECUREBITS = 27;
export const PR_SET_SECUREBITS = 28;
export const PR_SET_TIMERSLACK = 29;
export const PR_GET_TIMERSLACK = 30;
export const PR_SET_MM = 35;
export const PR_SET_CHILD_SUBREAPER = 36;
export const PR_GET_CHILD_SUBREAPER = 37;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_GET_NO_NEW_PRIVS = 39;
export const PR_GET_TID_ADDRESS = 40;
export const PR_SET_THP_DISABLE = 41;
export const PR_GET_THP_DISABLE = 42;
export const PR_CAP_AMBIENT = 47;
export const PR_SET_VMA = 0x53564d41;

const PR_CAP_AMBIENT_IS_SET = 1;
const PR_CAP_AMBIENT_RAISE = 2;
const PR_CAP_AMBIENT_LOWER = 3;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;

/** TASK_COMM_LEN: the thread name buffer, NUL included. */
const TASK_COMM_LEN = 16;
const DEFAULT_TIMER_SLACK_NS = 50_000;
const SUID_DUMP_DISABLE = 0;
const SUID_DUMP_USER = 1;

/** Per address space (Linux keeps them in mm->flags): reset by execve's fresh MM. */
const dumpable = new WeakMap<MemoryManager, number>();
const thpDisabled = new WeakSet<MemoryManager>();
const timerSlack = new WeakMap<Task, number>();

/** isDumpable reports the PR_GET_DUMPABLE value of t's address space (for /proc ownership). */
export function isDumpable(t: Task): number {
  return dumpable.get(t.mm) ?? SUID_DUMP_USER;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** commBytes returns a thread name as PR_GET_NAME reports it: 16 bytes, NUL padded. */
export function commBytes(name: string): Uint8Array {
  const b = new Uint8Array(TASK_COMM_LEN);
  b.set(encoder.encode(name).subarray(0, TASK_COMM_LEN - 1));
  return b;
}

function capAmbient(t: Task, op: number, cap: number, a4: number, a5: number): number {
  const c = t.creds;
  if (op === PR_CAP_AMBIENT_CLEAR_ALL) {
    if (cap || a4 || a5) throw linuxerr.EINVAL;
    const n = c.clone();
    n.capAmbient = 0n;
    t.creds = n;
    return 0;
  }
  if (!setid.capValid(cap) || a4 || a5) throw linuxerr.EINVAL;
  const b = 1n << BigInt(cap);
  if (op === PR_CAP_AMBIENT_IS_SET) return (c.capAmbient & b) ? 1 : 0;
  if (op !== PR_CAP_AMBIENT_RAISE && op !== PR_CAP_AMBIENT_LOWER) throw linuxerr.EINVAL;
  if (op === PR_CAP_AMBIENT_RAISE && (!(c.capPermitted & b) || !(c.capInheritable & b) ||
    (c.securebits & (1 << setid.SECURE_NO_CAP_AMBIENT_RAISE)))) {
    throw linuxerr.EPERM;
  }
  const n = c.clone();
  if (op === PR_CAP_AMBIENT_RAISE) n.capAmbient |= b;
  else n.capAmbient &= ~b;
  t.creds = n;
  return 0;
}

function setSecurebits(t: Task, bits: number): number {
  const c = t.creds;
  const old = c.securebits;
  // Locked bits may not change, locks may not be cleared, unknown bits are refused.
  if ((((old & setid.SECURE_ALL_LOCKS) >> 1) & (old ^ bits)) || (old & setid.SECURE_ALL_LOCKS & ~bits) ||
    (bits & ~(setid.SECURE_ALL_LOCKS | setid.SECURE_ALL_BITS)) || !c.hasCap(setid.CAP_SETPCAP)) {
    throw linuxerr.EPERM;
  }
  const n = c.clone();
  n.securebits = bits;
  t.creds = n;
  return 0;
}

/** prctl implements Linux syscall prctl(2). */
export function prctl(t: Task, a: SyscallArgs): number {
  const option = a.int(0);
  const arg2 = a.ptr(1);
  const arg3 = a.ptr(2);
  const arg4 = a.ptr(3);
  const arg5 = a.ptr(4);
  const c = t.creds;
  switch (option) {
    case PR_SET_PDEATHSIG:
      if (arg2 > NSIG) throw linuxerr.EINVAL;
      t.pdeathsig = arg2;
      return 0;
    case PR_GET_PDEATHSIG:
      t.mm.writeI32(arg2, t.pdeathsig);
      return 0;
    case PR_GET_DUMPABLE:
      return isDumpable(t);
    case PR_SET_DUMPABLE:
      if (arg2 !== SUID_DUMP_DISABLE && arg2 !== SUID_DUMP_USER) throw linuxerr.EINVAL;
      dumpable.set(t.mm, arg2);
      return 0;
    case PR_GET_KEEPCAPS:
      return (c.securebits & setid.SECBIT_KEEP_CAPS) ? 1 : 0;
    case PR_SET_KEEPCAPS: {
      if (arg2 > 1) throw linuxerr.EINVAL;
      if (c.securebits & setid.SECBIT_KEEP_CAPS_LOCKED) throw linuxerr.EPERM;
      const n = c.clone();
      n.securebits = arg2 ? c.securebits | setid.SECBIT_KEEP_CAPS : c.securebits & ~setid.SECBIT_KEEP_CAPS;
      t.creds = n;
      return 0;
    }
    case PR_SET_NAME: {
      const b = new Uint8Array(TASK_COMM_LEN - 1);
      const n = t.mm.copyInPartial(arg2, b);
      if (n === 0) throw linuxerr.EFAULT;
      const z = b.subarray(0, n).indexOf(0);
      // A name running into unreadable memory faults unless its NUL came first.
      if (z < 0 && n < b.length) throw linuxerr.EFAULT;
      t.name = decoder.decode(b.subarray(0, z < 0 ? n : z));
      return 0;
    }
    case PR_GET_NAME:
      t.mm.copyOut(arg2, commBytes(t.name));
      return 0;
    case PR_GET_SECCOMP:
      return 0; // no seccomp filter is ever installed
    case PR_SET_SECCOMP:
      t.kernel.log.warnOnce('prctl:seccomp', 'prctl(PR_SET_SECCOMP): seccomp is not supported');
      throw linuxerr.EINVAL;
    case PR_CAPBSET_READ:
      if (!setid.capValid(arg2)) throw linuxerr.EINVAL;
      return (c.capBounding & (1n << BigInt(arg2))) ? 1 : 0;
    case PR_CAPBSET_DROP: {
      if (!c.hasCap(setid.CAP_SETPCAP)) throw linuxerr.EPERM;
      if (!setid.capValid(arg2)) throw linuxerr.EINVAL;
      const n = c.clone();
      n.capBounding &= ~(1n << BigInt(arg2));
      t.creds = n;
      return 0;
    }
    case PR_GET_SECUREBITS:
      return c.securebits;
    case PR_SET_SECUREBITS:
      return setSecurebits(t, arg2);
    case PR_SET_TIMERSLACK:
      if (arg2 <= 0) timerSlack.delete(t);
      else timerSlack.set(t, arg2);
      return 0;
    case PR_GET_TIMERSLACK:
      return timerSlack.get(t) ?? DEFAULT_TIMER_SLACK_NS;
    case PR_SET_MM:
      if (!c.hasCap(setid.CAP_SYS_RESOURCE)) throw linuxerr.EPERM;
      t.kernel.log.warnOnce('prctl:setmm', 'prctl(PR_SET_MM) is not supported');
      throw linuxerr.EINVAL;
    case PR_SET_CHILD_SUBREAPER:
      t.tg.subreaper = arg2 !== 0;
      return 0;
    case PR_GET_CHILD_SUBREAPER:
      t.mm.writeI32(arg2, t.tg.subreaper ? 1 : 0);
      return 0;
    case PR_SET_NO_NEW_PRIVS: {
      if (arg2 !== 1 || arg3 || arg4 || arg5) throw linuxerr.EINVAL;
      if (!c.noNewPrivs) {
        const n = c.clone();
        n.noNewPrivs = true;
        t.creds = n;
      }
      return 0;
    }
    case PR_GET_NO_NEW_PRIVS:
      if (arg2 || arg3 || arg4 || arg5) throw linuxerr.EINVAL;
      return c.noNewPrivs ? 1 : 0;
    case PR_GET_TID_ADDRESS:
      t.mm.writeU64(arg2, t.clearChildTid);
      return 0;
    case PR_SET_THP_DISABLE:
      if (arg3 || arg4 || arg5) throw linuxerr.EINVAL;
      if (arg2) thpDisabled.add(t.mm);
      else thpDisabled.delete(t.mm);
      return 0;
    case PR_GET_THP_DISABLE:
      if (arg2 || arg3 || arg4 || arg5) throw linuxerr.EINVAL;
      return thpDisabled.has(t.mm) ? 1 : 0;
    case PR_CAP_AMBIENT:
      return capAmbient(t, arg2, arg3, arg4, arg5);
    case PR_SET_VMA:
      throw linuxerr.EINVAL; // CONFIG_ANON_VMA_NAME off: names are cosmetic
    default:
      t.kernel.log.warnOnce(`prctl:${option}`, `prctl: unsupported option ${option}`);
      throw linuxerr.EINVAL;
  }
}

export const syscalls: SyscallEntries = {
  [SYSNO.prctl]: partial('prctl', prctl, 'No seccomp, PR_SET_MM, TSC, MCE, speculation or memory-tagging options.'),
};
