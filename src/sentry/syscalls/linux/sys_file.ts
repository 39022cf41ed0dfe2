// Path syscalls: open and create, directory entries (mkdir, unlink, rename,
// link, symlink, mknod), truncate and fallocate, the working directory and
// root, umask, and the sync family. Mechanisms live in vfs/vfs.ts.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Task } from '../../kernel/task.js';
import type { FileDescription } from '../../vfs/file_description.js';
import { locOf } from '../../vfs/vfs.js';
import {
  RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV,
} from '../../vfs/resolve.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';

const RLIMIT_NOFILE = 7;
/** Flags open(2) knows; openat2 rejects others. */
const VALID_OPEN_FLAGS = linux.O_ACCMODE | linux.O_CREAT | linux.O_EXCL | linux.O_NOCTTY | linux.O_TRUNC |
  linux.O_APPEND | linux.O_NONBLOCK | linux.O_DSYNC | linux.O_ASYNC | linux.O_DIRECT | linux.O_LARGEFILE |
  linux.O_DIRECTORY | linux.O_NOFOLLOW | linux.O_NOATIME | linux.O_CLOEXEC | linux.O_SYNC | linux.O_PATH |
  linux.O_TMPFILE;
const RESOLVE_ALL = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH |
  RESOLVE_IN_ROOT | RESOLVE_CACHED;
const OPEN_HOW_SIZE_VER0 = 24;
const PAGE = 4096;

/** installFile puts a description opened by the VFS into t's fd table. */
function installFile(t: Task, file: FileDescription, flags: number): number {
  try {
    return t.fdTable.newFD(file, (flags & linux.O_CLOEXEC) !== 0, 0, t.tg.rlimits[RLIMIT_NOFILE][0]);
  } finally {
    file.decRef();
  }
}

function doOpen(t: Task, dirfd: number, path: string, flags: number, mode: number,
  resolve = 0): number | Promise<number> {
  const file = t.kernel.vfs.openAtWait(t, dirfd, path, flags, mode, resolve);
  // Only a FIFO waiting for its other end gives a promise.
  if (file instanceof Promise) return file.then((f) => installFile(t, f, flags));
  return installFile(t, file, flags);
}

/** open implements Linux syscall open(2). */
export function open(t: Task, a: SyscallArgs): number | Promise<number> {
  return doOpen(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), a.int(1), a.uint(2));
}

/** openat implements Linux syscall openat(2). */
export function openat(t: Task, a: SyscallArgs): number | Promise<number> {
  return doOpen(t, a.int(0), t.mm.copyInString(a.ptr(1)), a.int(2), a.uint(3));
}

/** creat implements Linux syscall creat(2). */
export function creat(t: Task, a: SyscallArgs): number | Promise<number> {
  return doOpen(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), linux.O_CREAT | linux.O_WRONLY | linux.O_TRUNC,
    a.uint(1));
}

/** openat2 implements Linux syscall openat2(2). */
export function openat2(t: Task, a: SyscallArgs): number | Promise<number> {
  const dirfd = a.int(0);
  const pathAddr = a.ptr(1);
  const howAddr = a.ptr(2);
  const size = a.sizeT(3);
  if (size < OPEN_HOW_SIZE_VER0) throw linuxerr.EINVAL;
  if (size > PAGE) throw linuxerr.E2BIG;
  const how = t.mm.copyIn(howAddr, size);
  // A larger struct from a newer ABI is fine if the fields we do not know are zero.
  for (let i = OPEN_HOW_SIZE_VER0; i < size; i++) if (how[i] !== 0) throw linuxerr.E2BIG;
  const v = new DataView(how.buffer, how.byteOffset, OPEN_HOW_SIZE_VER0);
  const flags64 = v.getBigUint64(0, true);
  const mode64 = v.getBigUint64(8, true);
  const resolve64 = v.getBigUint64(16, true);
  if (flags64 & ~BigInt(VALID_OPEN_FLAGS)) throw linuxerr.EINVAL;
  if (resolve64 & ~BigInt(RESOLVE_ALL)) throw linuxerr.EINVAL;
  const flags = Number(flags64);
  const resolve = Number(resolve64);
  const creating = (flags & linux.O_CREAT) !== 0 || (flags & linux.O_TMPFILE) === linux.O_TMPFILE;
  if (mode64 & ~0o7777n || (!creating && mode64 !== 0n)) throw linuxerr.EINVAL;
  if ((resolve & RESOLVE_BENEATH) && (resolve & RESOLVE_IN_ROOT)) throw linuxerr.EINVAL;
  // RESOLVE_CACHED promises no blocking; creating or truncating cannot keep it.
  if ((resolve & RESOLVE_CACHED) && (creating || (flags & linux.O_TRUNC))) throw linuxerr.EAGAIN;
  return doOpen(t, dirfd, t.mm.copyInString(pathAddr), flags, Number(mode64), resolve);
}

/** mkdir implements Linux syscall mkdir(2). */
export function mkdir(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.mkdirAt(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), a.uint(1));
  return 0;
}

/** mkdirat implements Linux syscall mkdirat(2). */
export function mkdirat(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.mkdirAt(t, a.int(0), t.mm.copyInString(a.ptr(1)), a.uint(2));
  return 0;
}

/** rmdir implements Linux syscall rmdir(2). */
export function rmdir(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.rmdirAt(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)));
  return 0;
}

/** unlink implements Linux syscall unlink(2). */
export function unlink(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.unlinkAt(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), 0);
  return 0;
}

/** unlinkat implements Linux syscall unlinkat(2). */
export function unlinkat(t: Task, a: SyscallArgs): number {
  const dirfd = a.int(0);
  const flags = a.int(2);
  t.kernel.vfs.unlinkAt(t, dirfd, t.mm.copyInString(a.ptr(1)), flags);
  return 0;
}

/** rename implements Linux syscall rename(2). */
export function rename(t: Task, a: SyscallArgs): number {
  const from = t.mm.copyInString(a.ptr(0));
  const to = t.mm.copyInString(a.ptr(1));
  t.kernel.vfs.renameAt(t, linux.AT_FDCWD, from, linux.AT_FDCWD, to, 0);
  return 0;
}

/** renameat implements Linux syscall renameat(2). */
export function renameat(t: Task, a: SyscallArgs): number {
  const from = t.mm.copyInString(a.ptr(1));
  const to = t.mm.copyInString(a.ptr(3));
  t.kernel.vfs.renameAt(t, a.int(0), from, a.int(2), to, 0);
  return 0;
}

/** renameat2 implements Linux syscall renameat2(2). */
export function renameat2(t: Task, a: SyscallArgs): number {
  const from = t.mm.copyInString(a.ptr(1));
  const to = t.mm.copyInString(a.ptr(3));
  t.kernel.vfs.renameAt(t, a.int(0), from, a.int(2), to, a.uint(4));
  return 0;
}

/** link implements Linux syscall link(2). */
export function link(t: Task, a: SyscallArgs): number {
  const from = t.mm.copyInString(a.ptr(0));
  const to = t.mm.copyInString(a.ptr(1));
  t.kernel.vfs.linkAt(t, linux.AT_FDCWD, from, linux.AT_FDCWD, to, 0);
  return 0;
}

/** linkat implements Linux syscall linkat(2). */
export function linkat(t: Task, a: SyscallArgs): number {
  const flags = a.int(4);
  const fromAddr = a.ptr(1);
  const from = fromAddr === 0 && (flags & linux.AT_EMPTY_PATH) ? '' : t.mm.copyInString(fromAddr);
  const to = t.mm.copyInString(a.ptr(3));
  t.kernel.vfs.linkAt(t, a.int(0), from, a.int(2), to, flags);
  return 0;
}

/** symlink implements Linux syscall symlink(2). */
export function symlink(t: Task, a: SyscallArgs): number {
  const target = t.mm.copyInString(a.ptr(0));
  const path = t.mm.copyInString(a.ptr(1));
  t.kernel.vfs.symlinkAt(t, target, linux.AT_FDCWD, path);
  return 0;
}

/** symlinkat implements Linux syscall symlinkat(2). */
export function symlinkat(t: Task, a: SyscallArgs): number {
  const target = t.mm.copyInString(a.ptr(0));
  const path = t.mm.copyInString(a.ptr(2));
  t.kernel.vfs.symlinkAt(t, target, a.int(1), path);
  return 0;
}

/** devArg decodes a dev_t argument (new_decode_dev of the 32-bit form, as mknod takes it). */
function devArg(a: SyscallArgs, i: number): number {
  return a.uint(i);
}

/** mknod implements Linux syscall mknod(2). */
export function mknod(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.mknodAt(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), a.uint(1), devArg(a, 2));
  return 0;
}

/** mknodat implements Linux syscall mknodat(2). */
export function mknodat(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.mknodAt(t, a.int(0), t.mm.copyInString(a.ptr(1)), a.uint(2), devArg(a, 3));
  return 0;
}

/** truncate implements Linux syscall truncate(2). */
export function truncate(t: Task, a: SyscallArgs): number {
  const size = a.int64(1);
  t.kernel.vfs.truncateAt(t, t.mm.copyInString(a.ptr(0)), size);
  return 0;
}

/** ftruncate implements Linux syscall ftruncate(2). */
export function ftruncate(t: Task, a: SyscallArgs): number {
  const f = t.fdTable.get(a.int(0));
  t.kernel.vfs.truncateFD(t, f, a.int64(1));
  return 0;
}

/** fallocate implements Linux syscall fallocate(2) (mode 0 and FALLOC_FL_KEEP_SIZE). */
export function fallocate(t: Task, a: SyscallArgs): number {
  const f = t.fdTable.get(a.int(0));
  if (f.flags & linux.O_PATH) throw linuxerr.EBADF;
  const mode = a.int(1);
  if (mode & ~1) t.kernel.log.warnOnce('vfs:fallocate', `fallocate mode ${mode.toString(16)}: EOPNOTSUPP`);
  t.kernel.vfs.fallocate(t, f, mode, a.int64(2), a.int64(3));
  return 0;
}

/** getcwd implements Linux syscall getcwd(2); returns the length including the NUL. */
export function getcwd(t: Task, a: SyscallArgs): number {
  const buf = a.ptr(0);
  const size = a.sizeT(1);
  const path = Buffer.from(t.kernel.vfs.getcwd(t) + '\0');
  if (path.length > size) throw linuxerr.ERANGE;
  t.mm.copyOut(buf, path);
  return path.length;
}

/** chdir implements Linux syscall chdir(2). */
export function chdir(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.chdirAt(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)));
  return 0;
}

/** fchdir implements Linux syscall fchdir(2). */
export function fchdir(t: Task, a: SyscallArgs): number {
  const f = t.fdTable.get(a.int(0));
  const loc = locOf(f);
  if (!loc) throw linuxerr.ENOTDIR;
  t.kernel.vfs.chdirLoc(t, loc);
  return 0;
}

/** chroot implements Linux syscall chroot(2). */
export function chroot(t: Task, a: SyscallArgs): number {
  t.kernel.vfs.chroot(t, t.mm.copyInString(a.ptr(0)));
  return 0;
}

/** umask implements Linux syscall umask(2). */
export function umask(t: Task, a: SyscallArgs): number {
  const old = t.fs.umask;
  t.fs.umask = a.uint(0) & 0o777;
  return old;
}

/** sync implements Linux syscall sync(2): the sandbox's files live in memory or on a read-only host tree. */
export function sync(): number {
  return 0;
}

/** syncfs implements Linux syscall syncfs(2). */
export function syncfs(t: Task, a: SyscallArgs): number {
  const f = t.fdTable.get(a.int(0));
  if (f.flags & linux.O_PATH) throw linuxerr.EBADF;
  return 0;
}

function doFsync(t: Task, fd: number): number {
  const f = t.fdTable.get(fd);
  if (f.flags & linux.O_PATH) throw linuxerr.EBADF;
  if (!f.impl.sync) throw linuxerr.EINVAL;
  f.impl.sync(f);
  return 0;
}

/** fsync implements Linux syscall fsync(2). */
export function fsync(t: Task, a: SyscallArgs): number {
  return doFsync(t, a.int(0));
}

/** fdatasync implements Linux syscall fdatasync(2). */
export function fdatasync(t: Task, a: SyscallArgs): number {
  return doFsync(t, a.int(0));
}

const SYNC_FILE_RANGE_WAIT_BEFORE = 1;
const SYNC_FILE_RANGE_WRITE = 2;
const SYNC_FILE_RANGE_WAIT_AFTER = 4;

/** syncFileRange implements Linux syscall sync_file_range(2): a writeback
 *  hint, kept as fdatasync when the caller waits for completion. */
export function syncFileRange(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const offset = a.int64(1);
  const nbytes = a.int64(2);
  const flags = a.uint(3);
  if (flags & ~(SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER)) throw linuxerr.EINVAL;
  if (offset < 0 || nbytes < 0 || offset + nbytes > Number.MAX_SAFE_INTEGER) throw linuxerr.EINVAL;
  const f = t.fdTable.get(fd);
  if (f.flags & linux.O_PATH) throw linuxerr.EBADF;
  const fmt = f.stat().mode & linux.S_IFMT;
  if (fmt !== linux.S_IFREG && fmt !== linux.S_IFBLK && fmt !== linux.S_IFDIR && fmt !== linux.S_IFLNK) {
    throw linuxerr.ESPIPE;
  }
  if ((flags & SYNC_FILE_RANGE_WAIT_AFTER) && f.impl.sync) f.impl.sync(f);
  return 0;
}

/** readahead implements Linux syscall readahead(2): the page cache is the
 *  host's (or the data is in memory), so only the checks remain. */
export function readahead(t: Task, a: SyscallArgs): number {
  const f = t.fdTable.get(a.int(0));
  if (!f.readable) throw linuxerr.EBADF;
  if ((f.stat().mode & linux.S_IFMT) !== linux.S_IFREG) throw linuxerr.EINVAL;
  return 0;
}

/** fadvise64 implements Linux syscall fadvise64(2): advice is checked and accepted. */
export function fadvise64(t: Task, a: SyscallArgs): number {
  const f = t.fdTable.get(a.int(0));
  if (f.flags & linux.O_PATH) throw linuxerr.EBADF;
  const len = a.int64(2);
  const advice = a.int(3);
  if ((f.stat().mode & linux.S_IFMT) === linux.S_IFIFO) throw linuxerr.ESPIPE;
  if (len < 0 || advice < 0 || advice > 5) throw linuxerr.EINVAL;
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.open]: supported('open', open),
  [SYSNO.openat]: supported('openat', openat),
  [SYSNO.openat2]: supported('openat2', openat2),
  [SYSNO.creat]: supported('creat', creat),
  [SYSNO.mkdir]: supported('mkdir', mkdir),
  [SYSNO.mkdirat]: supported('mkdirat', mkdirat),
  [SYSNO.rmdir]: supported('rmdir', rmdir),
  [SYSNO.unlink]: supported('unlink', unlink),
  [SYSNO.unlinkat]: supported('unlinkat', unlinkat),
  [SYSNO.rename]: supported('rename', rename),
  [SYSNO.renameat]: supported('renameat', renameat),
  [SYSNO.renameat2]: partial('renameat2', renameat2, 'RENAME_WHITEOUT gives EINVAL'),
  [SYSNO.link]: supported('link', link),
  [SYSNO.linkat]: supported('linkat', linkat),
  [SYSNO.symlink]: supported('symlink', symlink),
  [SYSNO.symlinkat]: supported('symlinkat', symlinkat),
  [SYSNO.mknod]: supported('mknod', mknod),
  [SYSNO.mknodat]: supported('mknodat', mknodat),
  [SYSNO.truncate]: supported('truncate', truncate),
  [SYSNO.ftruncate]: supported('ftruncate', ftruncate),
  [SYSNO.fallocate]: partial('fallocate', fallocate, 'modes other than 0 and FALLOC_FL_KEEP_SIZE give EOPNOTSUPP'),
  [SYSNO.getcwd]: supported('getcwd', getcwd),
  [SYSNO.chdir]: supported('chdir', chdir),
  [SYSNO.fchdir]: supported('fchdir', fchdir),
  [SYSNO.chroot]: supported('chroot', chroot),
  [SYSNO.umask]: supported('umask', umask),
  [SYSNO.sync]: supported('sync', sync),
  [SYSNO.syncfs]: supported('syncfs', syncfs),
  [SYSNO.fsync]: supported('fsync', fsync),
  [SYSNO.fdatasync]: supported('fdatasync', fdatasync),
  [SYSNO.sync_file_range]: supported('sync_file_range', syncFileRange),
  [SYSNO.readahead]: supported('readahead', readahead),
  [SYSNO.fadvise64]: supported('fadvise64', fadvise64),
};
