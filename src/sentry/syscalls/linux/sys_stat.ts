// File attributes: stat and statx, statfs, access, readlink, chmod, chown,
// utimes. Extended attributes are in sys_xattr.ts.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Task } from '../../kernel/task.js';
import type { FileDescription, Stat, Timespec } from '../../vfs/file_description.js';
import type { Statfs } from '../../vfs/inode.js';
import { devMajor, devMinor } from '../../vfs/inode.js';
import type { Loc, TimeArg } from '../../vfs/vfs.js';
import { locOf } from '../../vfs/vfs.js';
import { statFD, statfsFD } from '../../vfs/stat.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';

const STATX__RESERVED = 0x80000000;

const scratch = new Uint8Array(linux.SIZEOF_STATX);
const dv = new DataView(scratch.buffer);

function put64(off: number, n: number): void {
  if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) {
    dv.setUint32(off, n % 0x1_0000_0000, true);
    dv.setUint32(off + 4, Math.floor(n / 0x1_0000_0000), true);
  } else {
    dv.setBigInt64(off, BigInt(Math.trunc(n)), true);
  }
}

/** encodeStat lays s out as x86-64 struct stat (144 bytes). */
export function encodeStat(s: Stat): Uint8Array {
  scratch.fill(0, 0, linux.SIZEOF_STAT);
  put64(0, s.dev);
  put64(8, s.ino);
  put64(16, s.nlink);
  dv.setUint32(24, s.mode, true);
  dv.setUint32(28, s.uid, true);
  dv.setUint32(32, s.gid, true);
  put64(40, s.rdev);
  put64(48, s.size);
  put64(56, s.blksize);
  put64(64, s.blocks);
  put64(72, s.atime.sec);
  put64(80, s.atime.nsec);
  put64(88, s.mtime.sec);
  put64(96, s.mtime.nsec);
  put64(104, s.ctime.sec);
  put64(112, s.ctime.nsec);
  return scratch.subarray(0, linux.SIZEOF_STAT);
}

function putTime(off: number, t: Timespec): void {
  put64(off, t.sec);
  dv.setUint32(off + 8, t.nsec, true);
}

/** encodeStatx lays s out as struct statx (256 bytes). */
export function encodeStatx(s: Stat): Uint8Array {
  scratch.fill(0);
  let mask = linux.STATX_BASIC_STATS;
  if (s.btime) mask |= linux.STATX_BTIME;
  if (s.mntId !== undefined) mask |= linux.STATX_MNT_ID;
  dv.setUint32(0, mask, true);
  dv.setUint32(4, s.blksize, true);
  dv.setUint32(16, s.nlink, true);
  dv.setUint32(20, s.uid, true);
  dv.setUint32(24, s.gid, true);
  dv.setUint16(28, s.mode, true);
  put64(32, s.ino);
  put64(40, s.size);
  put64(48, s.blocks);
  putTime(64, s.atime);
  if (s.btime) putTime(80, s.btime);
  putTime(96, s.ctime);
  putTime(112, s.mtime);
  dv.setUint32(128, devMajor(s.rdev), true);
  dv.setUint32(132, devMinor(s.rdev), true);
  dv.setUint32(136, devMajor(s.dev), true);
  dv.setUint32(140, devMinor(s.dev), true);
  put64(144, s.mntId ?? 0);
  return scratch;
}

/** encodeStatfs lays s out as x86-64 struct statfs (120 bytes). */
export function encodeStatfs(s: Statfs): Uint8Array {
  scratch.fill(0, 0, 120);
  put64(0, s.type);
  put64(8, s.bsize);
  put64(16, s.blocks);
  put64(24, s.bfree);
  put64(32, s.bavail);
  put64(40, s.files);
  put64(48, s.ffree);
  put64(64, s.namelen);
  put64(72, s.frsize);
  put64(80, s.flags);
  return scratch.subarray(0, 120);
}

/** pathArg reads a path argument; with AT_EMPTY_PATH a NULL pointer means "" (Linux 6.11). */
function pathArg(t: Task, addr: number, flags: number): string {
  if (addr === 0 && (flags & linux.AT_EMPTY_PATH)) return '';
  return t.mm.copyInString(addr);
}

/** idArg reads a uid_t/gid_t where -1 means "unchanged". */
function idArg(a: SyscallArgs, i: number): number {
  const v = a.uint(i);
  return v === 0xffffffff ? -1 : v;
}

/** fdLoc returns the tree position of fd for attribute changes (EBADF for O_PATH). */
function fdLoc(t: Task, fd: number, what: string): Loc {
  const f = t.fdTable.get(fd);
  if (f.flags & linux.O_PATH) throw linuxerr.EBADF;
  const loc = locOf(f);
  if (!loc) {
    t.kernel.log.warnOnce(`vfs:${what}:anon`, `${what} on a file outside the tree (pipe, socket, host fd): EPERM`);
    throw linuxerr.EPERM;
  }
  return loc;
}

function doStat(t: Task, dirfd: number, path: string, flags: number, buf: number): number {
  const s = t.kernel.vfs.statAt(t, dirfd, path, flags);
  t.mm.copyOut(buf, encodeStat(s));
  return 0;
}

/** stat implements Linux syscall stat(2). */
export function stat(t: Task, a: SyscallArgs): number {
  return doStat(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), 0, a.ptr(1));
}

/** lstat implements Linux syscall lstat(2). */
export function lstat(t: Task, a: SyscallArgs): number {
  return doStat(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), linux.AT_SYMLINK_NOFOLLOW, a.ptr(1));
}

/** fstat implements Linux syscall fstat(2). */
export function fstat(t: Task, a: SyscallArgs): number {
  const f: FileDescription = t.fdTable.get(a.int(0));
  t.mm.copyOut(a.ptr(1), encodeStat(statFD(f)));
  return 0;
}

/** newfstatat implements Linux syscall newfstatat(2). */
export function newfstatat(t: Task, a: SyscallArgs): number {
  const flags = a.int(3);
  if (flags & ~(linux.AT_SYMLINK_NOFOLLOW | linux.AT_EMPTY_PATH | linux.AT_NO_AUTOMOUNT)) throw linuxerr.EINVAL;
  return doStat(t, a.int(0), pathArg(t, a.ptr(1), flags), flags, a.ptr(2));
}

/** statx implements Linux syscall statx(2). */
export function statx(t: Task, a: SyscallArgs): number {
  const dirfd = a.int(0);
  const flags = a.int(2);
  const mask = a.uint(3);
  const buf = a.ptr(4);
  if (flags & ~(linux.AT_SYMLINK_NOFOLLOW | linux.AT_EMPTY_PATH | linux.AT_NO_AUTOMOUNT | linux.AT_STATX_SYNC_TYPE)) {
    throw linuxerr.EINVAL;
  }
  if ((flags & linux.AT_STATX_SYNC_TYPE) === linux.AT_STATX_SYNC_TYPE || (mask & STATX__RESERVED)) {
    throw linuxerr.EINVAL;
  }
  const path = pathArg(t, a.ptr(1), flags);
  const s = path === '' && (flags & linux.AT_EMPTY_PATH) && dirfd !== linux.AT_FDCWD
    ? statFD(t.fdTable.get(dirfd))
    : t.kernel.vfs.statAt(t, dirfd, path, flags);
  t.mm.copyOut(buf, encodeStatx(s));
  return 0;
}

/** statfs implements Linux syscall statfs(2). */
export function statfs(t: Task, a: SyscallArgs): number {
  const s = t.kernel.vfs.statfsAt(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)));
  t.mm.copyOut(a.ptr(1), encodeStatfs(s));
  return 0;
}

/** fstatfs implements Linux syscall fstatfs(2). */
export function fstatfs(t: Task, a: SyscallArgs): number {
  const s = statfsFD(t.fdTable.get(a.int(0)));
  t.mm.copyOut(a.ptr(1), encodeStatfs(s));
  return 0;
}

/** access implements Linux syscall access(2). */
export function access(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.accessAt(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), a.int(1), 0);
  return 0;
}

/** faccessat implements Linux syscall faccessat(2) (no flags argument). */
export function faccessat(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.accessAt(t, a.int(0), t.mm.copyInString(a.ptr(1)), a.int(2), 0);
  return 0;
}

/** faccessat2 implements Linux syscall faccessat2(2). */
export function faccessat2(t: Task, a: SyscallArgs): number {
  const flags = a.int(3);
  t.kernel.vfs.accessAt(t, a.int(0), pathArg(t, a.ptr(1), flags), a.int(2), flags);
  return 0;
}

function doReadlink(t: Task, dirfd: number, path: string, buf: number, size: number): number {
  if (size <= 0) throw linuxerr.EINVAL;
  const target = Buffer.from(t.kernel.vfs.readlinkAt(t, dirfd, path));
  const n = Math.min(target.length, size);
  t.mm.copyOut(buf, target.subarray(0, n));
  return n;
}

/** readlink implements Linux syscall readlink(2). */
export function readlink(t: Task, a: SyscallArgs): number {
  return doReadlink(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), a.ptr(1), a.int(2));
}

/** readlinkat implements Linux syscall readlinkat(2). */
export function readlinkat(t: Task, a: SyscallArgs): number {
  return doReadlink(t, a.int(0), t.mm.copyInString(a.ptr(1)), a.ptr(2), a.int(3));
}

/** chmod implements Linux syscall chmod(2). */
export function chmod(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.chmodAt(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), a.uint(1), 0);
  return 0;
}

/** fchmod implements Linux syscall fchmod(2). */
export function fchmod(t: Task, a: SyscallArgs): number {
  const mode = a.uint(1);
  t.kernel.vfs.chmodLoc(t, fdLoc(t, a.int(0), 'fchmod'), mode);
  return 0;
}

/** fchmodat implements Linux syscall fchmodat(2). */
export function fchmodat(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.chmodAt(t, a.int(0), t.mm.copyInString(a.ptr(1)), a.uint(2), 0);
  return 0;
}

/** chown implements Linux syscall chown(2). */
export function chown(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.chownAt(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), idArg(a, 1), idArg(a, 2), 0);
  return 0;
}

/** lchown implements Linux syscall lchown(2). */
export function lchown(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.chownAt(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), idArg(a, 1), idArg(a, 2),
    linux.AT_SYMLINK_NOFOLLOW);
  return 0;
}

/** fchown implements Linux syscall fchown(2). */
export function fchown(t: Task, a: SyscallArgs): number {
  const uid = idArg(a, 1);
  const gid = idArg(a, 2);
  t.kernel.vfs.chownLoc(t, fdLoc(t, a.int(0), 'fchown'), uid, gid);
  return 0;
}

/** fchownat implements Linux syscall fchownat(2). */
export function fchownat(t: Task, a: SyscallArgs): number {
  const flags = a.int(4);
  t.kernel.vfs.chownAt(t, a.int(0), pathArg(t, a.ptr(1), flags), idArg(a, 2), idArg(a, 3), flags);
  return 0;
}

/** readTimevals reads struct timeval[2] (NULL: now). */
function readTimevals(t: Task, addr: number): [TimeArg, TimeArg] {
  if (addr === 0) return ['now', 'now'];
  const b = t.mm.copyIn(addr, 32);
  const v = new DataView(b.buffer, b.byteOffset, 32);
  const out: TimeArg[] = [];
  for (let i = 0; i < 2; i++) {
    const sec = Number(v.getBigInt64(i * 16, true));
    const usec = Number(v.getBigInt64(i * 16 + 8, true));
    if (usec < 0 || usec >= 1_000_000) throw linuxerr.EINVAL;
    out.push({ sec, nsec: usec * 1000 });
  }
  return [out[0], out[1]];
}

/** readTimespecs reads struct timespec[2] with UTIME_NOW/UTIME_OMIT (NULL: now). */
function readTimespecs(t: Task, addr: number): [TimeArg, TimeArg] {
  if (addr === 0) return ['now', 'now'];
  const b = t.mm.copyIn(addr, 32);
  const v = new DataView(b.buffer, b.byteOffset, 32);
  const out: TimeArg[] = [];
  for (let i = 0; i < 2; i++) {
    const sec = Number(v.getBigInt64(i * 16, true));
    const nsec = Number(v.getBigInt64(i * 16 + 8, true));
    if (nsec === linux.UTIME_NOW) out.push('now');
    else if (nsec === linux.UTIME_OMIT) out.push('omit');
    else if (nsec < 0 || nsec >= 1_000_000_000) throw linuxerr.EINVAL;
    else out.push({ sec, nsec });
  }
  return [out[0], out[1]];
}

/** utime implements Linux syscall utime(2). */
export function utime(t: Task, a: SyscallArgs): number {
  const path = t.mm.copyInString(a.ptr(0));
  const addr = a.ptr(1);
  let times: [TimeArg, TimeArg] = ['now', 'now'];
  if (addr !== 0) {
    const b = t.mm.copyIn(addr, 16);
    const v = new DataView(b.buffer, b.byteOffset, 16);
    times = [{ sec: Number(v.getBigInt64(0, true)), nsec: 0 }, { sec: Number(v.getBigInt64(8, true)), nsec: 0 }];
  }
  t.kernel.vfs.utimesAt(t, linux.AT_FDCWD, path, times[0], times[1], 0);
  return 0;
}

/** utimes implements Linux syscall utimes(2). */
export function utimes(t: Task, a: SyscallArgs): number {
  const path = t.mm.copyInString(a.ptr(0));
  const [at, mt] = readTimevals(t, a.ptr(1));
  t.kernel.vfs.utimesAt(t, linux.AT_FDCWD, path, at, mt, 0);
  return 0;
}

/** futimesat implements Linux syscall futimesat(2). */
export function futimesat(t: Task, a: SyscallArgs): number {
  const dirfd = a.int(0);
  const pathAddr = a.ptr(1);
  const [at, mt] = readTimevals(t, a.ptr(2));
  if (pathAddr === 0) {
    t.kernel.vfs.utimesLoc(t, fdLoc(t, dirfd, 'futimesat'), at, mt);
    return 0;
  }
  t.kernel.vfs.utimesAt(t, dirfd, t.mm.copyInString(pathAddr), at, mt, 0);
  return 0;
}

/** utimensat implements Linux syscall utimensat(2); a NULL path means dirfd itself (futimens). */
export function utimensat(t: Task, a: SyscallArgs): number {
  const dirfd = a.int(0);
  const pathAddr = a.ptr(1);
  const flags = a.int(3);
  const [at, mt] = readTimespecs(t, a.ptr(2));
  if (flags & ~(linux.AT_SYMLINK_NOFOLLOW | linux.AT_EMPTY_PATH)) throw linuxerr.EINVAL;
  if (pathAddr === 0) {
    if (flags & linux.AT_SYMLINK_NOFOLLOW) throw linuxerr.EINVAL;
    if (at === 'omit' && mt === 'omit') return 0;
    t.kernel.vfs.utimesLoc(t, fdLoc(t, dirfd, 'futimens'), at, mt);
    return 0;
  }
  t.kernel.vfs.utimesAt(t, dirfd, t.mm.copyInString(pathAddr), at, mt, flags);
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.stat]: supported('stat', stat),
  [SYSNO.fstat]: supported('fstat', fstat),
  [SYSNO.lstat]: supported('lstat', lstat),
  [SYSNO.newfstatat]: supported('newfstatat', newfstatat),
  [SYSNO.statx]: supported('statx', statx),
  [SYSNO.statfs]: supported('statfs', statfs),
  [SYSNO.fstatfs]: supported('fstatfs', fstatfs),
  [SYSNO.access]: supported('access', access),
  [SYSNO.faccessat]: supported('faccessat', faccessat),
  [SYSNO.faccessat2]: supported('faccessat2', faccessat2),
  [SYSNO.readlink]: supported('readlink', readlink),
  [SYSNO.readlinkat]: supported('readlinkat', readlinkat),
  [SYSNO.chmod]: supported('chmod', chmod),
  [SYSNO.fchmod]: partial('fchmod', fchmod, 'EPERM on files outside the tree (pipes, sockets)'),
  [SYSNO.fchmodat]: supported('fchmodat', fchmodat),
  [SYSNO.chown]: supported('chown', chown),
  [SYSNO.fchown]: partial('fchown', fchown, 'EPERM on files outside the tree (pipes, sockets)'),
  [SYSNO.lchown]: supported('lchown', lchown),
  [SYSNO.fchownat]: supported('fchownat', fchownat),
  [SYSNO.utime]: supported('utime', utime),
  [SYSNO.utimes]: supported('utimes', utimes),
  [SYSNO.futimesat]: supported('futimesat', futimesat),
  [SYSNO.utimensat]: partial('utimensat', utimensat, 'futimens: EPERM on files outside the tree (pipes, sockets)'),
};
