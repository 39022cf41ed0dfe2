// File descriptor syscalls: close, close_range, dup, dup2, dup3, fcntl and
// flock. Locks live in fsimpl/lock; this file decides who owns them: the
// process for POSIX record locks, the open file description for flock and
// OFD locks.

import * as linux from '../../../abi/linux/file.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import { NSIG } from '../../../abi/linux/signal.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { F_RDLCK, F_UNLCK, F_WRLCK, LockTable } from '../../fsimpl/lock/lock.js';
import type { FileLocks } from '../../fsimpl/lock/lock.js';
import { pipeOf } from '../../fsimpl/pipefs/pipefs.js';
import type { Task } from '../../kernel/task.js';
import { ThreadGroup } from '../../kernel/thread_group.js';
import type { FileDescription } from '../../vfs/file_description.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';
import { nofile } from './sys_pipe.js';
import { fcntlAddSeals, fcntlGetSeals } from './sys_memfd.js';
import { waitAny } from './sys_poll.js';
import { getFile } from './sys_read_write.js';

const CLOSE_RANGE_UNSHARE = 1 << 1;
const CLOSE_RANGE_CLOEXEC = 1 << 2;
const F_NOTIFY = 1026;
const F_OWNER_TID = 0;
const F_OWNER_PID = 1;
const F_OWNER_PGRP = 2;
const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const LOCK_MAND = 32;
const CAP_FOWNER = 3;
const CAP_SYS_RESOURCE = 24;
/** Status flags F_SETFL may change (Linux's SETFL_MASK). */
const SETFL_MASK = linux.O_APPEND | linux.O_NONBLOCK | linux.O_ASYNC | linux.O_DIRECT | linux.O_NOATIME;
/** Open-time flags Linux does not keep in f_flags, so F_GETFL never shows them. */
const NOT_STATUS = linux.O_CLOEXEC | linux.O_CREAT | linux.O_EXCL | linux.O_NOCTTY | linux.O_TRUNC;
/** While a lock waiter waits, it also rechecks this often (holders that died release nothing). */
const LOCK_RECHECK_MS = 100;

// ---- Locks ----

const locks = new LockTable();
/** Files on which each process holds POSIX locks, so close can drop them cheaply. */
const posixHeld = new WeakMap<ThreadGroup, Set<string>>();
/** Descriptions whose release already drops their flock/OFD locks. */
const hooked = new WeakSet<FileDescription>();

function lockKey(f: FileDescription): string {
  const st = f.stat();
  return `${st.dev}:${st.ino}`;
}

/** live: POSIX locks of a process that is exiting are gone. */
function live(owner: object): boolean {
  return !(owner instanceof ThreadGroup) || !(owner.exiting || owner.zombie);
}

/** hookRelease makes f's last close drop the locks it owns on key's file. */
function hookRelease(f: FileDescription, key: string): void {
  if (hooked.has(f)) return;
  hooked.add(f);
  const prev = f.onRelease;
  f.onRelease = () => {
    prev?.();
    const fl = locks.lookup(key);
    if (!fl) return;
    fl.flockUnlock(f);
    fl.releaseRecords(f);
    locks.tidy(key);
  };
}

/** dropPosixLocks is what closing any fd of a file does to the process's record locks on it. */
function dropPosixLocks(t: Task, f: FileDescription): void {
  const held = posixHeld.get(t.tg);
  if (!held || held.size === 0) return;
  const key = lockKey(f);
  if (!held.delete(key)) return;
  locks.lookup(key)?.releaseRecords(t.tg);
  locks.tidy(key);
}

/** acquire retries try until it succeeds, waiting on the file's lock queue unless nonblocking (EAGAIN). */
function acquire(t: Task, fl: FileLocks, attempt: () => boolean, block: boolean, f: FileDescription): number | Promise<number> {
  if (attempt()) return 0;
  if (!block) throw linuxerr.EAGAIN;
  return (async () => {
    f.incRef();
    try {
      do {
        await waitAny(t, [{ queue: fl.waitQueue, mask: ~0 }], LOCK_RECHECK_MS);
      } while (!attempt());
      return 0;
    } finally {
      f.decRef();
    }
  })();
}

// ---- close, dup ----

/** closeFd closes fd, dropping the process's record locks on the file. */
function closeFd(t: Task, fd: number): void {
  const f = t.fdTable.get(fd);
  dropPosixLocks(t, f);
  t.fdTable.remove(fd);
}

/** close implements Linux syscall close(2). */
export function close(t: Task, a: SyscallArgs): number {
  closeFd(t, a.int(0));
  return 0;
}

/** closeRange implements Linux syscall close_range(2). */
export function closeRange(t: Task, a: SyscallArgs): number {
  const first = a.uint(0);
  const last = a.uint(1);
  const flags = a.uint(2);
  if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) throw linuxerr.EINVAL;
  if (first > last) throw linuxerr.EINVAL;
  if (flags & CLOSE_RANGE_UNSHARE) {
    let shared = false;
    for (const o of t.kernel.tasks.values()) if (o !== t && o.fdTable === t.fdTable) shared = true;
    if (shared) t.fdTable = t.fdTable.fork();
  }
  const fds: number[] = [];
  for (const [fd] of t.fdTable.entries()) if (fd >= first && fd <= last) fds.push(fd);
  for (const fd of fds) {
    if (flags & CLOSE_RANGE_CLOEXEC) t.fdTable.setCloexec(fd, true);
    else closeFd(t, fd);
  }
  return 0;
}

/** dup implements Linux syscall dup(2). */
export function dup(t: Task, a: SyscallArgs): number {
  const f = t.fdTable.get(a.int(0));
  return t.fdTable.newFD(f, false, 0, nofile(t));
}

function dupTo(t: Task, oldFd: number, newFd: number, cloexec: boolean): number {
  const limit = nofile(t);
  if (newFd < 0 || newFd >= limit) throw linuxerr.EBADF;
  const f = t.fdTable.get(oldFd);
  const replaced = t.fdTable.lookup(newFd);
  if (replaced) dropPosixLocks(t, replaced);
  t.fdTable.setAt(newFd, f, cloexec, limit);
  return newFd;
}

/** dup2 implements Linux syscall dup2(2). */
export function dup2(t: Task, a: SyscallArgs): number {
  const oldFd = a.int(0);
  const newFd = a.int(1);
  if (oldFd === newFd) {
    t.fdTable.get(oldFd);
    return newFd;
  }
  return dupTo(t, oldFd, newFd, false);
}

/** dup3 implements Linux syscall dup3(2). */
export function dup3(t: Task, a: SyscallArgs): number {
  const oldFd = a.int(0);
  const newFd = a.int(1);
  const flags = a.int(2);
  if (flags & ~linux.O_CLOEXEC) throw linuxerr.EINVAL;
  if (oldFd === newFd) throw linuxerr.EINVAL;
  return dupTo(t, oldFd, newFd, (flags & linux.O_CLOEXEC) !== 0);
}

// ---- fcntl ----

interface Owner {
  type: number;
  pid: number;
}
const owners = new WeakMap<FileDescription, Owner>();
const sigs = new WeakMap<FileDescription, number>();

function checkOwner(t: Task, type: number, pid: number): void {
  if (pid === 0) return;
  const k = t.kernel;
  const found = type === F_OWNER_PGRP ? [...k.threadGroups.values()].some((tg) => tg.pgid === pid)
    : type === F_OWNER_TID ? k.tasks.has(pid) : k.threadGroups.has(pid);
  if (!found) throw linuxerr.ESRCH;
}

/** getOwn returns F_GETOWN's answer: a pid, or minus a process group id. */
function getOwn(f: FileDescription): number {
  const o = owners.get(f);
  if (!o) return 0;
  return o.type === F_OWNER_PGRP ? -o.pid : o.pid;
}

/** Parsed struct flock: [start, end) with end Infinity for "to EOF". */
interface LockRequest {
  type: number;
  start: number;
  end: number;
  pid: number;
}

const SIZEOF_FLOCK = 32;

function readFlock(t: Task, f: FileDescription, addr: number): LockRequest {
  const b = t.mm.copyIn(addr, SIZEOF_FLOCK);
  const dv = new DataView(b.buffer);
  const type = dv.getInt16(0, true);
  const whence = dv.getInt16(2, true);
  const start = Number(dv.getBigInt64(8, true));
  const len = Number(dv.getBigInt64(16, true));
  const pid = dv.getInt32(24, true);
  let base: number;
  switch (whence) {
    case linux.SEEK_SET:
      base = 0;
      break;
    case linux.SEEK_CUR:
      base = f.offset;
      break;
    case linux.SEEK_END:
      base = f.stat().size;
      break;
    default:
      throw linuxerr.EINVAL;
  }
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) throw linuxerr.EINVAL;
  let s = base + start;
  if (s < 0) throw linuxerr.EINVAL;
  let e = len === 0 ? Infinity : s + len;
  if (len < 0) {
    e = s;
    s += len;
    if (s < 0) throw linuxerr.EINVAL;
  }
  return { type, start: s, end: e, pid };
}

function writeFlock(t: Task, addr: number, type: number, start: number, end: number, pid: number): void {
  const b = new Uint8Array(SIZEOF_FLOCK);
  const dv = new DataView(b.buffer);
  dv.setInt16(0, type, true);
  dv.setInt16(2, linux.SEEK_SET, true);
  dv.setBigInt64(8, BigInt(start), true);
  dv.setBigInt64(16, BigInt(end === Infinity ? 0 : end - start), true);
  dv.setInt32(24, pid, true);
  t.mm.copyOut(addr, b);
}

function recordLock(t: Task, f: FileDescription, cmd: number, addr: number): number | Promise<number> {
  const ofd = cmd === linux.F_OFD_GETLK || cmd === linux.F_OFD_SETLK || cmd === linux.F_OFD_SETLKW;
  const req = readFlock(t, f, addr);
  if (ofd && req.pid !== 0) throw linuxerr.EINVAL;
  const owner: object = ofd ? f : t.tg;
  const key = lockKey(f);
  if (cmd === linux.F_GETLK || cmd === linux.F_OFD_GETLK) {
    if (req.type === F_UNLCK) throw linuxerr.EINVAL;
    const c = locks.lookup(key)?.conflict(owner, req.start, req.end, req.type, live);
    if (c) {
      writeFlock(t, addr, c.type, c.start, c.end, c.pid);
    } else {
      // Only l_type changes when nothing conflicts.
      const b = new Uint8Array(2);
      new DataView(b.buffer).setInt16(0, F_UNLCK, true);
      t.mm.copyOut(addr, b);
    }
    return 0;
  }
  if (req.type === F_RDLCK && !f.readable) throw linuxerr.EBADF;
  if (req.type === F_WRLCK && !f.writable) throw linuxerr.EBADF;
  const fl = locks.get(key);
  if (ofd) hookRelease(f, key);
  else if (req.type !== F_UNLCK) {
    let held = posixHeld.get(t.tg);
    if (!held) posixHeld.set(t.tg, (held = new Set()));
    held.add(key);
  }
  const pid = ofd ? -1 : t.tg.pid;
  const block = cmd === linux.F_SETLKW || cmd === linux.F_OFD_SETLKW;
  const attempt = (): boolean => fl.setRecord(owner, pid, req.start, req.end, req.type, live);
  const r = acquire(t, fl, attempt, block, f);
  if (typeof r === 'number') locks.tidy(key);
  return r;
}

/** fcntl implements Linux syscall fcntl(2). */
export function fcntl(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const cmd = a.int(1);
  const arg = a.ptr(2);
  const f = t.fdTable.get(fd);
  if (f.flags & linux.O_PATH) {
    const ok = cmd === linux.F_DUPFD || cmd === linux.F_DUPFD_CLOEXEC || cmd === linux.F_GETFD ||
      cmd === linux.F_SETFD || cmd === linux.F_GETFL;
    if (!ok) throw linuxerr.EBADF;
  }
  switch (cmd) {
    case linux.F_DUPFD:
    case linux.F_DUPFD_CLOEXEC: {
      const limit = nofile(t);
      if (arg >= limit) throw linuxerr.EINVAL;
      return t.fdTable.newFD(f, cmd === linux.F_DUPFD_CLOEXEC, arg, limit);
    }
    case linux.F_GETFD:
      return t.fdTable.getCloexec(fd) ? linux.FD_CLOEXEC : 0;
    case linux.F_SETFD:
      t.fdTable.setCloexec(fd, (arg & linux.FD_CLOEXEC) !== 0);
      return 0;
    case linux.F_GETFL:
      return f.flags & ~NOT_STATUS;
    case linux.F_SETFL: {
      const flags = a.int(2);
      if ((flags & linux.O_NOATIME) && !(f.flags & linux.O_NOATIME)) {
        if (f.stat().uid !== t.creds.fsuid && !t.creds.hasCap(CAP_FOWNER)) throw linuxerr.EPERM;
      }
      if (flags & linux.O_ASYNC) t.kernel.log.warnOnce('fcntl-async', 'O_ASYNC is recorded but SIGIO is not sent');
      f.flags = (f.flags & ~SETFL_MASK) | (flags & SETFL_MASK);
      return 0;
    }
    case linux.F_GETLK:
    case linux.F_SETLK:
    case linux.F_SETLKW:
    case linux.F_OFD_GETLK:
    case linux.F_OFD_SETLK:
    case linux.F_OFD_SETLKW:
      return recordLock(t, f, cmd, arg);
    case linux.F_GETOWN:
      return getOwn(f);
    case linux.F_SETOWN: {
      const who = a.int(2);
      const o = who < 0 ? { type: F_OWNER_PGRP, pid: -who } : { type: F_OWNER_PID, pid: who };
      checkOwner(t, o.type, o.pid);
      owners.set(f, o);
      return 0;
    }
    case linux.F_GETOWN_EX: {
      const o = owners.get(f) ?? { type: F_OWNER_PID, pid: 0 };
      const b = new Uint8Array(8);
      const dv = new DataView(b.buffer);
      dv.setInt32(0, o.type, true);
      dv.setInt32(4, o.pid, true);
      t.mm.copyOut(arg, b);
      return 0;
    }
    case linux.F_SETOWN_EX: {
      const b = t.mm.copyIn(arg, 8);
      const dv = new DataView(b.buffer);
      const o = { type: dv.getInt32(0, true), pid: dv.getInt32(4, true) };
      if (o.type !== F_OWNER_TID && o.type !== F_OWNER_PID && o.type !== F_OWNER_PGRP) throw linuxerr.EINVAL;
      checkOwner(t, o.type, o.pid);
      owners.set(f, o);
      return 0;
    }
    case linux.F_GETSIG:
      return sigs.get(f) ?? 0;
    case linux.F_SETSIG:
      if (arg > NSIG) throw linuxerr.EINVAL;
      sigs.set(f, arg);
      return 0;
    case linux.F_GETPIPE_SZ: {
      const p = pipeOf(f);
      if (!p) throw linuxerr.EBADF;
      return p.capacity;
    }
    case linux.F_SETPIPE_SZ: {
      const p = pipeOf(f);
      if (!p) throw linuxerr.EBADF;
      return p.setCapacity(a.uint(2), t.creds.hasCap(CAP_SYS_RESOURCE));
    }
    case linux.F_GETLEASE:
      return F_UNLCK;
    case linux.F_SETLEASE:
      if (a.int(2) === F_UNLCK) return 0;
      t.kernel.log.warnOnce('fcntl-lease', 'fcntl F_SETLEASE is not supported');
      throw linuxerr.EINVAL;
    case F_NOTIFY:
      t.kernel.log.warnOnce('fcntl-notify', 'fcntl F_NOTIFY (dnotify) is not supported');
      throw linuxerr.EINVAL;
    case linux.F_ADD_SEALS:
      return fcntlAddSeals(t, f, a.uint(2));
    case linux.F_GET_SEALS:
      return fcntlGetSeals(f);
    default:
      t.kernel.log.warnOnce(`fcntl:${cmd}`, `unsupported fcntl command ${cmd}`);
      throw linuxerr.EINVAL;
  }
}

/** flock implements Linux syscall flock(2). */
export function flock(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const op = a.int(1);
  const f = getFile(t, fd);
  const cmd = op & ~LOCK_NB;
  if (cmd & LOCK_MAND) {
    // Linux ignores the obsolete mandatory flock modes (with a warning).
    t.kernel.log.warnOnce('flock-mand', 'flock LOCK_MAND is ignored, as Linux does');
    return 0;
  }
  if (cmd !== LOCK_SH && cmd !== LOCK_EX && cmd !== LOCK_UN) throw linuxerr.EINVAL;
  if (cmd !== LOCK_UN && !f.readable && !f.writable) throw linuxerr.EBADF;
  const key = lockKey(f);
  if (cmd === LOCK_UN) {
    locks.lookup(key)?.flockUnlock(f);
    locks.tidy(key);
    return 0;
  }
  const fl = locks.get(key);
  hookRelease(f, key);
  return acquire(t, fl, () => fl.flock(f, cmd === LOCK_EX, live), (op & LOCK_NB) === 0, f);
}

export const syscalls: SyscallEntries = {
  [SYSNO.close]: supported('close', close),
  [SYSNO.close_range]: supported('close_range', closeRange),
  [SYSNO.dup]: supported('dup', dup),
  [SYSNO.dup2]: supported('dup2', dup2),
  [SYSNO.dup3]: supported('dup3', dup3),
  [SYSNO.fcntl]: partial('fcntl', fcntl, 'no leases, dnotify; O_ASYNC/F_SETOWN recorded without SIGIO; no EDEADLK detection'),
  [SYSNO.flock]: supported('flock', flock),
};
