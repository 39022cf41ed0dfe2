// futex(2): WAIT, WAKE, their BITSET forms, REQUEUE and CMP_REQUEUE, WAKE_OP.
// PI futexes and futex_waitv come with the POSIX-process issue.

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Task } from '../../kernel/task.js';
import { FutexTable } from '../../kernel/futex.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, unimplemented } from '../syscalls.js';

const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_REQUEUE = 3;
const FUTEX_CMP_REQUEUE = 4;
const FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128;
const FUTEX_CLOCK_REALTIME = 256;

const tables = new WeakMap<object, FutexTable>();

/** futexTable returns the kernel's futex table. */
export function futexTable(t: Task): FutexTable {
  let f = tables.get(t.kernel);
  if (!f) {
    f = new FutexTable();
    tables.set(t.kernel, f);
    t.kernel.futexWake = (task, addr, n) => void f!.wake(task.mm, addr, n);
  }
  return f;
}

/** timeoutMs decodes a futex timeout: relative for WAIT, absolute for WAIT_BITSET. */
function timeoutMs(t: Task, addr: number, absolute: boolean, realtime: boolean): number {
  if (addr === 0) return -1;
  const b = t.mm.copyIn(addr, 16);
  const v = new DataView(b.buffer);
  const sec = Number(v.getBigInt64(0, true));
  const nsec = Number(v.getBigInt64(8, true));
  if (sec < 0 || nsec < 0 || nsec >= 1e9) throw linuxerr.EINVAL;
  const ms = sec * 1000 + nsec / 1e6;
  if (!absolute) return ms;
  const now = realtime ? Date.now() : Number(process.hrtime.bigint()) / 1e6;
  return Math.max(0, ms - now);
}

function wait(t: Task, addr: number, val: number, bitset: number, ms: number): number | Promise<number> {
  if (addr % 4 !== 0) throw linuxerr.EINVAL;
  if (bitset === 0) throw linuxerr.EINVAL;
  const f = futexTable(t);
  if (t.mm.readU32(addr) !== val >>> 0) throw linuxerr.EAGAIN;
  if (ms === 0) throw linuxerr.ETIMEDOUT;
  return new Promise<number>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    const remove = f.enqueue(t.mm, addr, bitset, () => {
      if (timer) clearTimeout(timer);
      t.interrupt = null;
      resolve(0);
    });
    if (ms > 0) {
      timer = setTimeout(() => {
        remove();
        t.interrupt = null;
        reject(linuxerr.ETIMEDOUT);
      }, ms);
    }
    t.interrupt = () => {
      remove();
      if (timer) clearTimeout(timer);
      t.interrupt = null;
      reject(linuxerr.EINTR);
    };
  });
}

/** wakeOp applies FUTEX_WAKE_OP's operation to *addr2 and returns whether its comparison holds. */
function wakeOp(t: Task, addr2: number, op: number): boolean {
  const opKind = (op >>> 28) & 7;
  const cmp = (op >>> 24) & 15;
  let oparg = (op << 8) >> 20;
  let cmparg = (op << 20) >> 20;
  if (op & (8 << 28)) oparg = 1 << (oparg & 31);
  const old = t.mm.readI32(addr2);
  let nv: number;
  switch (opKind) {
    case 0: nv = oparg; break; // SET
    case 1: nv = old + oparg; break; // ADD
    case 2: nv = old | oparg; break; // OR
    case 3: nv = old & ~oparg; break; // ANDN
    case 4: nv = old ^ oparg; break; // XOR
    default: throw linuxerr.ENOSYS;
  }
  t.mm.writeI32(addr2, nv | 0);
  cmparg = cmparg | 0;
  switch (cmp) {
    case 0: return old === cmparg;
    case 1: return old !== cmparg;
    case 2: return old < cmparg;
    case 3: return old <= cmparg;
    case 4: return old > cmparg;
    case 5: return old >= cmparg;
    default: throw linuxerr.ENOSYS;
  }
}

/** futex implements Linux syscall futex(2). */
export function futex(t: Task, a: SyscallArgs): number | Promise<number> {
  const addr = a.ptr(0);
  const op = a.int(1);
  const val = a.uint(2);
  const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const realtime = (op & FUTEX_CLOCK_REALTIME) !== 0;
  const f = futexTable(t);
  switch (cmd) {
    case FUTEX_WAIT:
      return wait(t, addr, val, 0xffffffff, timeoutMs(t, a.ptr(3), false, realtime));
    case FUTEX_WAIT_BITSET:
      return wait(t, addr, val, a.uint(5), timeoutMs(t, a.ptr(3), true, realtime));
    case FUTEX_WAKE:
      if (addr % 4 !== 0) throw linuxerr.EINVAL;
      return f.wake(t.mm, addr, val);
    case FUTEX_WAKE_BITSET:
      if (a.uint(5) === 0) throw linuxerr.EINVAL;
      return f.wake(t.mm, addr, val, a.uint(5));
    case FUTEX_REQUEUE:
      return f.requeue(t.mm, addr, a.ptr(4), val, a.uint(3));
    case FUTEX_CMP_REQUEUE:
      if (t.mm.readU32(addr) !== a.uint(5)) throw linuxerr.EAGAIN;
      return f.requeue(t.mm, addr, a.ptr(4), val, a.uint(3));
    case FUTEX_WAKE_OP: {
      const addr2 = a.ptr(4);
      const n2 = a.uint(3);
      const opv = a.uint(5);
      let n = f.wake(t.mm, addr, val);
      if (wakeOp(t, addr2, opv)) n += f.wake(t.mm, addr2, n2);
      return n;
    }
    default:
      t.kernel.log.warnOnce(`futex:${cmd}`, `futex op ${cmd} not implemented`);
      throw linuxerr.ENOSYS;
  }
}

export const syscalls: SyscallEntries = {
  [SYSNO.futex]: partial('futex', futex, 'PI operations are not implemented; shared futexes are keyed per address space.'),
  [SYSNO.futex_waitv]: unimplemented('futex_waitv'),
};
