// Futexes: wait queues keyed by what a guest address refers to. A private
// futex (FUTEX_PRIVATE_FLAG, or any futex in private memory) is keyed by
// (address space, address); a shared one by the shared object behind the
// mapping and the offset in it, so processes that share memory after fork()
// or through a shared file meet on the same queue. The Sentry runs one
// syscall at a time, so checking a futex word and queueing are atomic with
// respect to every other futex operation; only guest threads running on the
// host can change words concurrently, which is why the PI paths set
// FUTEX_WAITERS with an atomic host operation before relying on a value.

import * as linuxerr from '../../abi/linux/errno.js';
import { SyscallError } from '../../abi/linux/errno.js';
import type { MemoryManager } from '../mm/mm.js';
import type { Vma } from '../mm/vma.js';
import type { Kernel } from './kernel.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import { armDeadline } from './time.js';
import { readHostProcText } from '../../platform/hostproc.js';

export const FUTEX_WAITERS = 0x8000_0000;
export const FUTEX_OWNER_DIED = 0x4000_0000;
export const FUTEX_TID_MASK = 0x3fff_ffff;
export const FUTEX_BITSET_MATCH_ANY = 0xffff_ffff;
/** Linux's ROBUST_LIST_LIMIT: at most this many robust entries are walked. */
const ROBUST_LIST_LIMIT = 2048;
/** The highest user address (TASK_SIZE on x86-64). */
const TASK_SIZE = 0x7fff_ffff_f000;

/** A key's first part: an address space (private futexes), a token of one
 *  (shared futexes in private memory, which Linux keys apart from private
 *  ones), or a shared object's name. */
export type KeyBase = MemoryManager | object | string;

/** FutexKey names a futex: base plus an address (private) or offset (shared). */
export interface FutexKey {
  readonly base: KeyBase;
  readonly off: number;
}

/** A deadline on some clock: wake with ETIMEDOUT once now() >= at. */
export interface Deadline {
  now: () => bigint;
  at: bigint;
}

/** Waiter is one task queued on one futex. */
export interface Waiter {
  readonly task: Task;
  key: FutexKey;
  /** addr is the futex's address in the waiter's address space. */
  addr: number;
  readonly bitset: number;
  /** pi: waiting in FUTEX_LOCK_PI (woken only by a hand-over of the lock). */
  readonly pi: boolean;
  /** index is the waiter's position in a futex_waitv vector (0 otherwise). */
  readonly index: number;
  /** wake runs once the waiter has been taken off its queue. */
  readonly wake: (w: Waiter) => void;
}

class Queue {
  readonly waiters: Waiter[] = [];
  /** The task the kernel considers the owner of a PI futex that has waiters. */
  piOwner: Task | null = null;
}

/** FutexTable holds every queue of one kernel. */
export class FutexTable {
  private readonly queues = new Map<KeyBase, Map<number, Queue>>();

  private queue(key: FutexKey, create: boolean): Queue | undefined {
    let byOff = this.queues.get(key.base);
    if (!byOff) {
      if (!create) return undefined;
      this.queues.set(key.base, (byOff = new Map()));
    }
    let q = byOff.get(key.off);
    if (!q && create) byOff.set(key.off, (q = new Queue()));
    return q;
  }

  private drop(key: FutexKey, q: Queue): void {
    if (q.waiters.length) return;
    const byOff = this.queues.get(key.base);
    byOff?.delete(key.off);
    if (byOff && byOff.size === 0) this.queues.delete(key.base);
  }

  /** enqueue appends w to its key's queue. */
  enqueue(w: Waiter): void {
    this.queue(w.key, true)!.waiters.push(w);
  }

  /** dequeue removes w (if still queued); returns whether it was. */
  dequeue(w: Waiter): boolean {
    const q = this.queue(w.key, false);
    if (!q) return false;
    const i = q.waiters.indexOf(w);
    if (i < 0) return false;
    q.waiters.splice(i, 1);
    this.drop(w.key, q);
    return true;
  }

  /** waiters returns the queue of key (do not mutate). */
  waitersOf(key: FutexKey): readonly Waiter[] {
    return this.queue(key, false)?.waiters ?? [];
  }

  /** wake wakes waiters of key whose bitset intersects bitset, as Linux's
   *  futex_wake counts them (nr <= 0 still wakes one). EINVAL on a PI futex. */
  wake(key: FutexKey, nr: number, bitset = FUTEX_BITSET_MATCH_ANY): number {
    const q = this.queue(key, false);
    if (!q) return 0;
    if (q.waiters.some((w) => w.pi)) throw linuxerr.EINVAL;
    const woken: Waiter[] = [];
    for (const w of q.waiters) {
      if ((w.bitset & bitset) === 0) continue;
      woken.push(w);
      if (woken.length >= nr) break;
    }
    for (const w of woken) this.dequeue(w);
    for (const w of woken) w.wake(w);
    return woken.length;
  }

  /** requeue wakes up to nWake waiters of from and moves up to nRequeue more
   *  to to; returns how many it woke and moved (futex_requeue, non-PI). */
  requeue(from: FutexKey, to: FutexKey, toAddr: number, nWake: number, nRequeue: number): number {
    if (nWake < 0 || nRequeue < 0) throw linuxerr.EINVAL;
    const q = this.queue(from, false);
    if (!q) return 0;
    const woken: Waiter[] = [];
    const moved: Waiter[] = [];
    for (const w of q.waiters) {
      if (woken.length + moved.length - nWake >= nRequeue) break;
      if (w.pi) throw linuxerr.EINVAL;
      if (woken.length < nWake) woken.push(w);
      else moved.push(w);
    }
    for (const w of woken) this.dequeue(w);
    if (from.base !== to.base || from.off !== to.off) {
      for (const w of moved) {
        this.dequeue(w);
        w.key = to;
        w.addr = toAddr;
        this.enqueue(w);
      }
    }
    for (const w of woken) w.wake(w);
    return woken.length + moved.length;
  }

  /** piOwner returns the kernel's idea of who owns PI futex key (null: none recorded). */
  piOwner(key: FutexKey): Task | null {
    return this.queue(key, false)?.piOwner ?? null;
  }

  setPiOwner(key: FutexKey, owner: Task | null): void {
    const q = this.queue(key, false);
    if (q) q.piOwner = owner;
  }

  /** piOwnedBy lists the keys of PI futexes with waiters whose recorded owner is t. */
  piOwnedBy(t: Task): FutexKey[] {
    const out: FutexKey[] = [];
    for (const [base, byOff] of this.queues) {
      for (const [off, q] of byOff) if (q.piOwner === t && q.waiters.length) out.push({ base, off });
    }
    return out;
  }
}

const tables = new WeakMap<Kernel, FutexTable>();

/** futexTableOf returns the kernel's futex table. */
export function futexTableOf(k: Kernel): FutexTable {
  let f = tables.get(k);
  if (!f) {
    f = new FutexTable();
    tables.set(k, f);
    const table = f;
    // The kernel's generic hook: a shared-semantics wake by address.
    k.futexWake = (t, addr, n) => {
      try {
        table.wake(futexKey(t, addr, false), n);
      } catch {
        // An unmapped address or a PI futex: nothing to wake, as in Linux.
      }
    };
  }
  return f;
}

// --- keys -------------------------------------------------------------------

interface HostRange {
  start: number;
  end: number;
  base: string;
  /** Offset in the shared object of start. */
  off: number;
}
/** Shared anonymous memory is identified by the host's shmem inode, found in
 *  the stub's /proc maps; cached per VMA object while its bounds hold. */
const hostRanges = new WeakMap<Vma, { start: number; end: number; range: HostRange }>();

function hostRangeOf(t: Task, v: Vma, addr: number): HostRange {
  const c = hostRanges.get(v);
  if (c && c.start === v.start && c.end === v.end && addr >= c.range.start && addr < c.range.end) return c.range;
  let maps: string;
  try {
    maps = readHostProcText(`${t.thread.tid}/maps`);
  } catch {
    throw linuxerr.EFAULT;
  }
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) (\S+) (\d+)/.exec(line);
    if (!m) continue;
    const start = parseInt(m[1], 16);
    const end = parseInt(m[2], 16);
    if (addr < start || addr >= end) continue;
    const range = { start, end, base: `host:${m[4]}:${m[5]}`, off: parseInt(m[3], 16) };
    hostRanges.set(v, { start: v.start, end: v.end, range });
    return range;
  }
  throw linuxerr.EFAULT;
}

const sharedTokens = new WeakMap<MemoryManager, object>();

/** futexKey computes the key of the futex at addr (Linux's get_futex_key).
 *  EINVAL if misaligned; EFAULT for a shared futex in unmapped memory. */
export function futexKey(t: Task, addr: number, priv: boolean): FutexKey {
  if (addr % 4 !== 0) throw linuxerr.EINVAL;
  if (addr + 4 > TASK_SIZE) throw linuxerr.EFAULT;
  if (priv) return { base: t.mm, off: addr };
  const v = t.mm.vmas.find(addr);
  if (!v) throw linuxerr.EFAULT;
  if (!v.shared) {
    let token = sharedTokens.get(t.mm);
    if (!token) sharedTokens.set(t.mm, (token = {}));
    return { base: token, off: addr };
  }
  if (v.file && v.ino) return { base: `file:${v.dev}:${v.ino}`, off: v.offset + (addr - v.start) };
  const r = hostRangeOf(t, v, addr);
  return { base: r.base, off: r.off + (addr - r.start) };
}

// --- waiting ----------------------------------------------------------------

/** interruptError is what an interrupted wait fails with: the error the
 *  interrupter passes (a restart code from signal delivery), else EINTR. */
export function interruptError(e: unknown): SyscallError {
  return e instanceof SyscallError ? e : linuxerr.EINTR;
}

/** WaitTarget is one futex to wait on: its key and address. */
export interface WaitTarget {
  key: FutexKey;
  addr: number;
}

/** waitOn queues t on every target (index i for targets[i]) and resolves
 *  with the index of the first woken. The caller has checked the futex
 *  values. Rejects ETIMEDOUT at the deadline, or the interrupt's error. */
export function waitOn(t: Task, targets: readonly WaitTarget[], bitset: number, deadline: Deadline | null,
  pi = false): Promise<number> {
  if (t.state === TaskState.Dead) return Promise.reject(linuxerr.EINTR);
  const table = futexTableOf(t.kernel);
  return new Promise<number>((resolve, reject) => {
    const waiters: Waiter[] = [];
    let cancelTimer: (() => void) | null = null;
    const finish = (): void => {
      for (const w of waiters) table.dequeue(w);
      cancelTimer?.();
      cancelTimer = null;
      t.interrupt = null;
    };
    const wake = (w: Waiter): void => {
      finish();
      t.kernel.noteWake();
      resolve(w.index);
    };
    targets.forEach(({ key, addr }, index) => {
      const w: Waiter = { task: t, key, addr, bitset, pi, index, wake };
      waiters.push(w);
      table.enqueue(w);
    });
    if (deadline) {
      cancelTimer = armDeadline(deadline.now, deadline.at, () => {
        cancelTimer = null;
        finish();
        reject(linuxerr.ETIMEDOUT);
      });
    }
    t.interrupt = (e?: unknown) => {
      finish();
      reject(interruptError(e));
    };
  });
}

// --- atomic updates of futex words ------------------------------------------

const FUTEX_OP_OR = 2;
const FUTEX_OP_OPARG_SHIFT = 8;

/** atomicOp applies a FUTEX_WAKE_OP-encoded operation to the word at addr,
 *  atomically with respect to guest threads when the platform can (else a
 *  plain read-modify-write). Throws EFAULT. */
export function atomicOp(mm: MemoryManager, addr: number, op: number): void {
  const as = mm.as;
  if (as.atomicOp32) {
    // Only the operation and its argument: the comparison is the caller's business.
    if (as.atomicOp32(addr, (op & 0xf0ff_f000) >>> 0) < 0) throw linuxerr.EFAULT;
    return;
  }
  const kind = (op >>> 28) & 7;
  let arg = (op << 8) >> 20;
  if (op & (FUTEX_OP_OPARG_SHIFT << 28)) arg = 1 << (arg & 31);
  const old = mm.readI32(addr);
  mm.writeI32(addr, applyOp(kind, old, arg));
}

/** applyOp computes FUTEX_WAKE_OP's new value; ENOSYS for an unknown operation. */
export function applyOp(kind: number, old: number, arg: number): number {
  switch (kind) {
    case 0: return arg; // SET
    case 1: return (old + arg) | 0; // ADD
    case 2: return old | arg; // OR
    case 3: return old & ~arg; // ANDN
    case 4: return old ^ arg; // XOR
    default: throw linuxerr.ENOSYS;
  }
}

/** setWaitersBit sets FUTEX_WAITERS atomically and returns the word after it. */
function setWaitersBit(mm: MemoryManager, addr: number): number {
  atomicOp(mm, addr, ((FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT) << 28) | (31 << 12));
  return mm.readU32(addr);
}

// --- PI futexes ---------------------------------------------------------------

/** liveTask returns the live task with guest tid, if any. */
function liveTask(k: Kernel, tid: number): Task | null {
  const o = k.tasks.get(tid);
  return o && o.state !== TaskState.Dead && o.tid === tid ? o : null;
}

/** lockPi implements FUTEX_LOCK_PI/LOCK_PI2 (and TRYLOCK_PI when tryOnly):
 *  take the futex when its owner field is 0, else queue until the owner
 *  hands it over in FUTEX_UNLOCK_PI or by dying. */
export function lockPi(t: Task, addr: number, key: FutexKey, deadline: Deadline | null, tryOnly: boolean):
  number | Promise<number> {
  const table = futexTableOf(t.kernel);
  const mm = t.mm;
  for (let spins = 0; ; spins++) {
    // Only guest threads racing on the word make this loop; do not spin forever.
    if (spins > 1000) throw linuxerr.EAGAIN;
    let uval = mm.readU32(addr);
    const owner = uval & FUTEX_TID_MASK;
    if (owner === t.tid) throw linuxerr.EDEADLK;
    if (owner === 0) {
      // Free (perhaps with OWNER_DIED): once FUTEX_WAITERS is set, user
      // space no longer takes or releases the word on its own, so a plain
      // store after it is safe.
      uval = setWaitersBit(mm, addr);
      if ((uval & FUTEX_TID_MASK) !== 0) continue; // someone took it first
      const queued = table.waitersOf(key).length > 0;
      mm.writeI32(addr, (t.tid | (uval & FUTEX_OWNER_DIED) | (queued ? FUTEX_WAITERS : 0)) | 0);
      if (queued) table.setPiOwner(key, t);
      return 0;
    }
    const o = liveTask(t.kernel, owner);
    if (!o) {
      // The owner is gone (exit without a robust list): Linux's handle_exit_race.
      if (mm.readU32(addr) !== uval) continue;
      throw linuxerr.ESRCH;
    }
    // A private futex cannot be owned from another address space (newer
    // kernels refuse it outright).
    if (key.base === mm && o.mm !== mm) throw linuxerr.EPERM;
    if (tryOnly) throw linuxerr.EAGAIN;
    if (!(uval & FUTEX_WAITERS)) {
      const now = setWaitersBit(mm, addr);
      if ((now & FUTEX_TID_MASK) !== owner) continue; // released or taken over meanwhile
    }
    if (deadline && deadline.now() >= deadline.at) throw linuxerr.ETIMEDOUT;
    const p = waitOn(t, [{ key, addr }], FUTEX_BITSET_MATCH_ANY, deadline, true);
    table.setPiOwner(key, o);
    return p.then(
      () => 0,
      (e: unknown) => {
        // Linux never returns EINTR from LOCK_PI: it restarts.
        if (e === linuxerr.EINTR || e === linuxerr.ERESTARTSYS) throw linuxerr.ERESTARTNOINTR;
        throw e;
      });
  }
}

/** unlockPi implements FUTEX_UNLOCK_PI: hand the futex to the first waiter
 *  (its tid with FUTEX_WAITERS) or release it (0). EPERM unless t owns it. */
export function unlockPi(t: Task, addr: number, key: FutexKey): number {
  const table = futexTableOf(t.kernel);
  const uval = t.mm.readU32(addr);
  if ((uval & FUTEX_TID_MASK) !== t.tid) throw linuxerr.EPERM;
  const next = table.waitersOf(key).find((w) => w.pi);
  if (!next) {
    t.mm.writeI32(addr, 0);
    return 0;
  }
  handOver(t.mm, addr, key, next, 0);
  return 0;
}

/** handOver makes waiter w the owner of PI futex key (word at addr in mm),
 *  keeping the bits of keep (FUTEX_OWNER_DIED after a death). */
function handOver(mm: MemoryManager, addr: number, key: FutexKey, w: Waiter, keep: number): void {
  const table = futexTableOf(w.task.kernel);
  mm.writeI32(addr, (w.task.tid | FUTEX_WAITERS | keep) | 0);
  table.dequeue(w);
  table.setPiOwner(key, w.task);
  w.wake(w);
}

// --- thread exit --------------------------------------------------------------

/** handleDeath marks a robust futex owned by dying t: OWNER_DIED, waiters
 *  bit kept, one waiter woken (non-PI; PI futexes are handed over later).
 *  Returns false when the walk must stop (a bad address). */
function handleDeath(t: Task, addr: number, pi: boolean, pending: boolean): boolean {
  if (addr % 4 !== 0) return false;
  let uval: number;
  try {
    uval = t.mm.readU32(addr);
  } catch {
    return false;
  }
  const table = futexTableOf(t.kernel);
  const wakeOne = (): void => {
    try {
      table.wake(futexKey(t, addr, false), 1);
    } catch {
      // Unmapped, or PI waiters where plain ones were expected: nothing to do.
    }
  };
  // A pending lock operation that never took the futex: just pass the wake on.
  if (pending && !pi && uval === 0) {
    wakeOne();
    return true;
  }
  if ((uval & FUTEX_TID_MASK) !== t.tid) return true;
  try {
    t.mm.writeI32(addr, ((uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED) | 0);
  } catch {
    return false;
  }
  if (!pi && (uval & FUTEX_WAITERS)) wakeOne();
  return true;
}

/** exitRobustList walks t's robust futex list (exit_robust_list). */
function exitRobustList(t: Task): void {
  const head = t.robustList;
  const mm = t.mm;
  try {
    let entry = mm.readU64(head);
    // futex_offset is a signed long (usually negative): read it exactly.
    const offset = Number(new DataView(mm.copyIn(head + 8, 8).buffer).getBigInt64(0, true));
    const pendingRaw = mm.readU64(head + 16);
    const pending = pendingRaw - (pendingRaw % 2);
    let limit = ROBUST_LIST_LIMIT;
    while (entry - (entry % 2) !== head) {
      const e = entry - (entry % 2);
      const pi = entry % 2 === 1;
      let next: number | null = null;
      try {
        next = mm.readU64(e);
      } catch {
        next = null;
      }
      if (e !== pending && !handleDeath(t, e + offset, pi, false)) return;
      if (next === null) return;
      entry = next;
      if (--limit === 0) break;
    }
    if (pending) handleDeath(t, pending + offset, pendingRaw % 2 === 1, true);
  } catch {
    // A list the guest corrupted: silently stop, as Linux does.
  }
}

/** futexExitRelease is Linux's futex_cleanup for a task that exits or
 *  execs: its robust list is processed, then PI futexes it owns with
 *  waiters go to their first waiter, with FUTEX_OWNER_DIED kept. */
export function futexExitRelease(t: Task): void {
  if (t.robustList) {
    exitRobustList(t);
    t.robustList = 0;
    t.robustListLen = 0;
  }
  const table = tables.get(t.kernel);
  if (!table) return;
  for (const key of table.piOwnedBy(t)) {
    const next = table.waitersOf(key).find((w) => w.pi);
    if (!next) continue;
    // The word is read and written through the waiter's own address space.
    try {
      const uval = next.task.mm.readU32(next.addr);
      handOver(next.task.mm, next.addr, key, next, uval & FUTEX_OWNER_DIED);
    } catch {
      table.setPiOwner(key, null);
    }
  }
}

/** clearChildTid does CLONE_CHILD_CLEARTID's exit work: store 0 at the
 *  address and wake one waiter, when others still use the memory. */
export function clearChildTid(t: Task, othersUseMm: boolean): void {
  const addr = t.clearChildTid;
  t.clearChildTid = 0;
  if (!addr || !othersUseMm) return;
  try {
    t.mm.writeI32(addr, 0);
    futexTableOf(t.kernel).wake(futexKey(t, addr, false), 1);
  } catch {
    // An unmapped address or a PI futex: Linux ignores that too.
  }
}
