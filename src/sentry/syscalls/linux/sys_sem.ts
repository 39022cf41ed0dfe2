// System V semaphores (semget(2), semop(2), semtimedop(2), semctl(2);
// Linux's ipc/sem.c). A semop either applies all its operations at once or
// none; one that cannot proceed waits in its set's queue, and whoever changes
// the set retries the queue in arrival order, applying the operations of each
// waiter that can now proceed on its behalf. SEM_UNDO adjustments belong to
// the process and are applied when it exits.

import * as linuxerr from '../../../abi/linux/errno.js';
import type { SyscallError } from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { IpcObject, IpcRegistry } from '../../kernel/ipc/ipc.js';
import {
  IPC_64, IPC_INFO, IPC_NOWAIT, IPC_PERM_SIZE, IPC_RMID, IPC_SET, IPC_STAT, S_IRUGO, S_IWUGO, checkAccess,
  checkOwner, encodePerm, newPerm, nowSec, registryOf, setPerm,
} from '../../kernel/ipc/ipc.js';
import type { Completion } from '../../kernel/ipc/wait.js';
import { ipcSleep } from '../../kernel/ipc/wait.js';
import type { Kernel } from '../../kernel/kernel.js';
import { exitQueue } from '../../kernel/signals.js';
import type { Task } from '../../kernel/task.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';
import { monotonicNs, readTimespec } from '../../kernel/time.js';
import { EVENT_IN } from '../../vfs/waiter.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';

/** Linux's defaults (include/uapi/linux/sem.h). */
export const SEMMNI = 32000;
export const SEMMSL = 32000;
export const SEMMNS = SEMMNI * SEMMSL;
export const SEMOPM = 500;
export const SEMVMX = 32767;
const SEMAEM = SEMVMX;
const SEMUSZ = 20;
const SEM_UNDO = 0x1000;

const GETPID = 11;
const GETVAL = 12;
const GETALL = 13;
const GETNCNT = 14;
const GETZCNT = 15;
const SETVAL = 16;
const SETALL = 17;
const SEM_STAT = 18;
const SEM_INFO = 19;
const SEM_STAT_ANY = 20;

/** sizeof(struct semid64_ds) and struct seminfo on x86-64; struct sembuf. */
const SEMID_DS_SIZE = 104;
const SEMINFO_SIZE = 40;
const SEMBUF_SIZE = 6;

interface Sop {
  num: number;
  op: number;
  flg: number;
}

interface Waiter {
  tg: ThreadGroup;
  pid: number;
  sops: Sop[];
  /** The operation it waits on (for GETNCNT/GETZCNT), updated at each retry. */
  blocking: Sop;
  done: Completion;
}

export interface SemSet extends IpcObject {
  vals: number[];
  pids: number[];
  otime: number;
  ctime: number;
  pending: Waiter[];
  /** Per process SEM_UNDO adjustments (semadj), by semaphore. */
  undos: Map<ThreadGroup, number[]>;
}

type Registry = IpcRegistry<SemSet>;

function registry(k: Kernel): Registry {
  return registryOf<SemSet>(k, 'sem', SEMMNI);
}

/** Sets that hold some process's undo adjustments (for the exit sweep). */
const withUndos = new Set<SemSet>();

function totalSems(r: Registry): number {
  let n = 0;
  for (const s of r.byIndex.values()) n += s.vals.length;
  return n;
}

/** semget implements Linux syscall semget(2). */
export function semget(t: Task, a: SyscallArgs): number {
  const key = a.int(0);
  const nsems = a.int(1);
  const flag = a.int(2);
  if (nsems < 0 || nsems > SEMMSL) throw linuxerr.EINVAL;
  const r = registry(t.kernel);
  return r.lookup(t, key, flag, (s) => {
    if (nsems > s.vals.length) throw linuxerr.EINVAL;
  }, () => {
    if (nsems === 0) throw linuxerr.EINVAL;
    if (totalSems(r) + nsems > SEMMNS) throw linuxerr.ENOSPC;
    const [index, id] = r.allocId();
    return {
      id, index, ...newPerm(t, key, flag), vals: new Array<number>(nsems).fill(0), pids: new Array<number>(nsems).fill(0),
      otime: 0, ctime: nowSec(), pending: [], undos: new Map(),
    };
  });
}

/** attempt is perform_atomic_semop: it applies all of sops or none. It
 *  returns null when done, the operation that must wait otherwise; ERANGE
 *  when a value or an undo adjustment would leave its range. */
function attempt(s: SemSet, sops: Sop[], tg: ThreadGroup, pid: number): Sop | null {
  const vals = s.vals.slice();
  const hasUndo = sops.some((o) => o.flg & SEM_UNDO);
  const adj = hasUndo ? (s.undos.get(tg)?.slice() ?? new Array<number>(s.vals.length).fill(0)) : null;
  for (const o of sops) {
    const v = vals[o.num] + o.op;
    if (o.op === 0 && vals[o.num] !== 0) return o;
    if (v < 0) return o;
    if (v > SEMVMX) throw linuxerr.ERANGE;
    if (adj && (o.flg & SEM_UNDO)) {
      const u = adj[o.num] - o.op;
      if (u < -SEMAEM - 1 || u > SEMAEM) throw linuxerr.ERANGE;
      adj[o.num] = u;
    }
    vals[o.num] = v;
  }
  s.vals = vals;
  for (const o of sops) s.pids[o.num] = pid;
  if (adj) {
    s.undos.set(tg, adj);
    withUndos.add(s);
  }
  s.otime = nowSec();
  return null;
}

/** updateQueue retries the waiters in arrival order after s changed,
 *  starting over whenever one's operations changed it again. */
function updateQueue(s: SemSet): void {
  for (let i = 0; i < s.pending.length;) {
    const w = s.pending[i];
    let blocked: Sop | null;
    try {
      blocked = attempt(s, w.sops, w.tg, w.pid);
    } catch (e) {
      w.done(e as SyscallError);
      continue; // done() took w off the queue
    }
    if (blocked) {
      w.blocking = blocked;
      i++;
      continue;
    }
    w.done(0);
    // Only operations that changed a value can let earlier waiters through.
    i = w.sops.some((o) => o.op !== 0) ? 0 : i;
  }
}

function readSops(t: Task, addr: number, n: number): Sop[] {
  const b = t.mm.copyIn(addr, n * SEMBUF_SIZE);
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const out: Sop[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ num: v.getUint16(i * 6, true), op: v.getInt16(i * 6 + 2, true), flg: v.getInt16(i * 6 + 4, true) });
  }
  return out;
}

/** doSemop is semtimedop with a relative timeout (ns) or none. */
function doSemop(t: Task, semid: number, sopsAddr: number, nsops: number, timeoutAddr: number): number | Promise<number> {
  if (nsops < 1 || semid < 0) throw linuxerr.EINVAL;
  if (nsops > SEMOPM) throw linuxerr.E2BIG;
  const sops = readSops(t, sopsAddr, nsops);
  const timeout = timeoutAddr ? readTimespec(t.mm, timeoutAddr) : null;
  sweepExited();
  const s = registry(t.kernel).byId(semid);
  let max = 0;
  let alter = false;
  for (const o of sops) {
    max = Math.max(max, o.num);
    if (o.op !== 0) alter = true;
  }
  if (max >= s.vals.length) throw linuxerr.EFBIG;
  checkAccess(t, s, alter ? S_IWUGO : S_IRUGO);
  const pid = t.tg.pid;
  const blocked = attempt(s, sops, t.tg, pid);
  if (!blocked) {
    if (alter) updateQueue(s);
    return 0;
  }
  if (blocked.flg & IPC_NOWAIT) throw linuxerr.EAGAIN;
  const deadline = timeout === null ? null : { now: monotonicNs, at: monotonicNs() + timeout };
  // semop is never restarted, handler or not (signal(7)).
  return ipcSleep(t, deadline, linuxerr.EINTR, linuxerr.EAGAIN, (done) => {
    const w: Waiter = { tg: t.tg, pid, sops, blocking: blocked, done };
    s.pending.push(w);
    return () => {
      const i = s.pending.indexOf(w);
      if (i >= 0) s.pending.splice(i, 1);
    };
  });
}

/** semop implements Linux syscall semop(2). */
export function semop(t: Task, a: SyscallArgs): number | Promise<number> {
  return doSemop(t, a.int(0), a.ptr(1), a.sizeT(2), 0);
}

/** semtimedop implements Linux syscall semtimedop(2). */
export function semtimedop(t: Task, a: SyscallArgs): number | Promise<number> {
  return doSemop(t, a.int(0), a.ptr(1), a.sizeT(2), a.ptr(3));
}

/** applyUndos applies and drops the adjustments of tg, which has exited
 *  (Linux's exit_sem: values are clamped into [0, SEMVMX]). */
function applyUndos(tg: ThreadGroup): void {
  for (const s of [...withUndos]) {
    const adj = s.undos.get(tg);
    if (!adj) continue;
    s.undos.delete(tg);
    if (s.undos.size === 0) withUndos.delete(s);
    let changed = false;
    adj.forEach((d, i) => {
      if (d === 0) return;
      s.vals[i] = Math.min(SEMVMX, Math.max(0, s.vals[i] + d));
      s.pids[i] = tg.pid;
      changed = true;
    });
    if (changed) {
      s.otime = nowSec();
      updateQueue(s);
    }
  }
}

function isGone(tg: ThreadGroup): boolean {
  return tg.exiting && tg.tasks.size === 0;
}

/** sweepExited applies the undo adjustments of every process that has exited. */
function sweepExited(): void {
  const gone = new Set<ThreadGroup>();
  for (const s of withUndos) for (const tg of s.undos.keys()) if (isGone(tg)) gone.add(tg);
  for (const tg of gone) applyUndos(tg);
}

// Every process exit notifies exitQueue (pidfds wait there): apply the
// adjustments then. The waiter is taken off as it is notified, so it comes
// back in a microtask; the sweep at each semop covers exits in between.
function watchExits(): void {
  exitQueue.register(EVENT_IN, () => {
    if (withUndos.size) sweepExited();
    queueMicrotask(watchExits);
  });
}
watchExits();

/** removeSet is IPC_RMID: waiters fail with EIDRM, adjustments are dropped. */
function removeSet(r: Registry, s: SemSet): void {
  r.remove(s);
  s.key = 0;
  withUndos.delete(s);
  s.undos.clear();
  for (const w of [...s.pending]) w.done(linuxerr.EIDRM);
}

function countWaiting(s: SemSet, num: number, zero: boolean): number {
  let n = 0;
  for (const w of s.pending) if (w.blocking.num === num && (w.blocking.op === 0) === zero) n++;
  return n;
}

/** clearAdjustments: SETVAL and SETALL reset every process's adjustment. */
function clearAdjustments(s: SemSet, num: number | null): void {
  for (const adj of s.undos.values()) {
    if (num === null) adj.fill(0);
    else adj[num] = 0;
  }
}

function encodeSemid(s: SemSet): Uint8Array {
  const b = new DataView(new ArrayBuffer(SEMID_DS_SIZE));
  encodePerm(b, s);
  b.setBigInt64(IPC_PERM_SIZE, BigInt(s.otime), true);
  b.setBigInt64(IPC_PERM_SIZE + 16, BigInt(s.ctime), true);
  b.setBigUint64(IPC_PERM_SIZE + 32, BigInt(s.vals.length), true);
  return new Uint8Array(b.buffer);
}

function encodeSeminfo(r: Registry, info: boolean): Uint8Array {
  const b = new DataView(new ArrayBuffer(SEMINFO_SIZE));
  const f = [SEMMNS, SEMMNI, SEMMNS, SEMMNS, SEMMSL, SEMOPM, SEMOPM, SEMUSZ, SEMVMX, SEMAEM];
  if (!info) {
    // SEM_INFO: semusz and semaem report the sets and semaphores in use.
    f[7] = r.byIndex.size;
    f[9] = totalSems(r);
  }
  f.forEach((v, i) => b.setInt32(i * 4, v, true));
  return new Uint8Array(b.buffer);
}

/** semctl implements Linux syscall semctl(2). */
export function semctl(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  const num = a.int(1);
  const cmd = a.int(2) & ~IPC_64;
  const arg = a.ptr(3);
  const val = a.int(3);
  const r = registry(t.kernel);
  sweepExited();
  switch (cmd) {
    case IPC_INFO:
    case SEM_INFO:
      t.mm.copyOut(arg, encodeSeminfo(r, cmd === IPC_INFO));
      return r.highestIndex();
    case SEM_STAT:
    case SEM_STAT_ANY: {
      const s = r.atIndex(id);
      if (cmd === SEM_STAT) checkAccess(t, s, S_IRUGO);
      t.mm.copyOut(arg, encodeSemid(s));
      return s.id;
    }
    case IPC_STAT: {
      const s = r.byId(id);
      checkAccess(t, s, S_IRUGO);
      t.mm.copyOut(arg, encodeSemid(s));
      return 0;
    }
    case IPC_SET: {
      const b = t.mm.copyIn(arg, SEMID_DS_SIZE);
      const s = r.byId(id);
      checkOwner(t, s);
      setPerm(new DataView(b.buffer, b.byteOffset, b.length), s);
      s.ctime = nowSec();
      return 0;
    }
    case IPC_RMID: {
      const s = r.byId(id);
      checkOwner(t, s);
      removeSet(r, s);
      return 0;
    }
    case GETALL: {
      const s = r.byId(id);
      checkAccess(t, s, S_IRUGO);
      const b = new DataView(new ArrayBuffer(s.vals.length * 2));
      s.vals.forEach((v, i) => b.setUint16(i * 2, v, true));
      t.mm.copyOut(arg, new Uint8Array(b.buffer));
      return 0;
    }
    case SETALL: {
      const s = r.byId(id);
      checkAccess(t, s, S_IWUGO);
      const b = t.mm.copyIn(arg, s.vals.length * 2);
      const v = new DataView(b.buffer, b.byteOffset, b.length);
      const vals = s.vals.map((_, i) => v.getUint16(i * 2, true));
      if (vals.some((x) => x > SEMVMX)) throw linuxerr.ERANGE;
      s.vals = vals;
      s.pids.fill(t.tg.pid);
      clearAdjustments(s, null);
      s.ctime = nowSec();
      updateQueue(s);
      return 0;
    }
    case GETVAL:
    case GETPID:
    case GETNCNT:
    case GETZCNT:
    case SETVAL: {
      if (cmd === SETVAL && (val < 0 || val > SEMVMX)) throw linuxerr.ERANGE;
      const s = r.byId(id);
      checkAccess(t, s, cmd === SETVAL ? S_IWUGO : S_IRUGO);
      if (num < 0 || num >= s.vals.length) throw linuxerr.EINVAL;
      switch (cmd) {
        case GETVAL: return s.vals[num];
        case GETPID: return s.pids[num];
        case GETNCNT: return countWaiting(s, num, false);
        case GETZCNT: return countWaiting(s, num, true);
      }
      s.vals[num] = val;
      s.pids[num] = t.tg.pid;
      clearAdjustments(s, num);
      s.ctime = nowSec();
      updateQueue(s);
      return 0;
    }
    default:
      throw linuxerr.EINVAL;
  }
}

/** semSets lists the sandbox's sets (for /proc/sysvipc/sem). */
export function semSets(k: Kernel): SemSet[] {
  return [...registry(k).byIndex.values()];
}

export const syscalls: SyscallEntries = {
  [SYSNO.semget]: supported('semget', semget),
  [SYSNO.semop]: partial('semop', semop, 'SEM_UNDO lists are per process: clone(CLONE_SYSVSEM) without CLONE_THREAD does not share them'),
  [SYSNO.semtimedop]: supported('semtimedop', semtimedop),
  [SYSNO.semctl]: supported('semctl', semctl),
};
