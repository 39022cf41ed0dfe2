// HostFS is the only way the Sentry touches the host file system: the Gofer
// boundary. Today it is implemented in-process with synchronous node:fs calls;
// a Gofer process will implement the same operations and hand over fds.
//
// Paths given to a HostFS are host-absolute and made of components the Sentry
// has already lstat'ed as directories, so no intermediate component is a
// symlink; no operation follows a final symlink either (lstat, O_NOFOLLOW,
// lchown). Errors are thrown as the guest-visible SyscallError.

import * as fs from 'node:fs';
import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import type { Timespec } from '../../vfs/file_description.js';
import type { Statfs } from '../../vfs/inode.js';

/** HostStat is an exact host lstat result. */
export interface HostStat {
  dev: bigint;
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  btime: Timespec;
}

export interface HostDirent {
  name: string;
  /** DT_* type. */
  type: number;
}

export interface HostFS {
  lstat(path: string): HostStat;
  /** readdir lists a directory without "." and "..". */
  readdir(path: string): HostDirent[];
  readlink(path: string): string;
  /** open returns a host fd; flags are Linux O_* (O_NOFOLLOW is always added). */
  open(path: string, flags: number, mode?: number): number;
  close(fd: number): void;
  statfs(path: string): Statfs;
  // Operations on fds the Sentry holds.
  pread(fd: number, dst: Uint8Array, pos: number): number;
  pwrite(fd: number, src: Uint8Array, pos: number): number;
  /** append writes at the end of a file opened with O_APPEND. */
  append(fd: number, src: Uint8Array): number;
  fstat(fd: number): HostStat;
  ftruncate(fd: number, size: number): void;
  fsync(fd: number): void;
  // Write side, for read-write volumes.
  mkdir(path: string, mode: number): void;
  unlink(path: string): void;
  rmdir(path: string): void;
  rename(from: string, to: string): void;
  symlink(target: string, path: string): void;
  link(from: string, to: string): void;
  chmod(path: string, mode: number): void;
  lchown(path: string, uid: number, gid: number): void;
  lutimes(path: string, atime: Timespec, mtime: Timespec): void;
  truncate(path: string, size: number): void;
}

/** hostError converts a node:fs exception into a SyscallError. */
export function hostError(e: unknown): linuxerr.SyscallError {
  if (e instanceof linuxerr.SyscallError) return e;
  const errno = (e as { errno?: unknown }).errno;
  if (typeof errno === 'number' && errno < 0) return linuxerr.fromErrno(-errno);
  return linuxerr.EIO;
}

function ts(ns: bigint): Timespec {
  const sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) nsec += 1_000_000_000n;
  return { sec: Number(ns < 0n && nsec !== 0n ? sec - 1n : sec), nsec: Number(nsec) };
}

/** fromStats converts a node:fs bigint stat (also used by the Gofer). */
export function fromStats(s: fs.BigIntStats): HostStat {
  return {
    dev: s.dev, ino: s.ino, mode: Number(s.mode), nlink: Number(s.nlink), uid: Number(s.uid), gid: Number(s.gid),
    rdev: Number(s.rdev), size: Number(s.size), blksize: Number(s.blksize), blocks: Number(s.blocks),
    atime: ts(s.atimeNs), mtime: ts(s.mtimeNs), ctime: ts(s.ctimeNs), btime: ts(s.birthtimeNs),
  };
}

/** direntType is a directory entry's DT_* type (also used by the Gofer). */
export function direntType(d: fs.Dirent): number {
  if (d.isFile()) return linux.DT_REG;
  if (d.isDirectory()) return linux.DT_DIR;
  if (d.isSymbolicLink()) return linux.DT_LNK;
  if (d.isCharacterDevice()) return linux.DT_CHR;
  if (d.isBlockDevice()) return linux.DT_BLK;
  if (d.isFIFO()) return linux.DT_FIFO;
  if (d.isSocket()) return linux.DT_SOCK;
  return linux.DT_UNKNOWN;
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw hostError(e);
  }
}

/** NodeHostFS implements HostFS in-process with node:fs. */
export class NodeHostFS implements HostFS {
  lstat(path: string): HostStat {
    return wrap(() => fromStats(fs.lstatSync(path, { bigint: true })));
  }

  readdir(path: string): HostDirent[] {
    return wrap(() => fs.readdirSync(path, { withFileTypes: true }).map((d) => ({ name: d.name, type: direntType(d) })));
  }

  readlink(path: string): string {
    return wrap(() => fs.readlinkSync(path));
  }

  open(path: string, flags: number, mode = 0o666): number {
    return wrap(() => fs.openSync(path, flags | linux.O_NOFOLLOW | linux.O_CLOEXEC, mode));
  }

  close(fd: number): void {
    try {
      fs.closeSync(fd);
    } catch {
      // Closing never fails for the guest.
    }
  }

  statfs(path: string): Statfs {
    return wrap(() => {
      const s = fs.statfsSync(path);
      return { type: s.type, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files,
        ffree: s.ffree, namelen: linux.NAME_MAX, frsize: s.bsize, flags: 0 };
    });
  }

  pread(fd: number, dst: Uint8Array, pos: number): number {
    return wrap(() => fs.readSync(fd, dst, 0, dst.length, pos));
  }

  pwrite(fd: number, src: Uint8Array, pos: number): number {
    return wrap(() => fs.writeSync(fd, src, 0, src.length, pos));
  }

  append(fd: number, src: Uint8Array): number {
    return wrap(() => fs.writeSync(fd, src, 0, src.length));
  }

  fstat(fd: number): HostStat {
    return wrap(() => fromStats(fs.fstatSync(fd, { bigint: true })));
  }

  ftruncate(fd: number, size: number): void {
    wrap(() => fs.ftruncateSync(fd, size));
  }

  fsync(fd: number): void {
    wrap(() => fs.fsyncSync(fd));
  }

  mkdir(path: string, mode: number): void {
    wrap(() => fs.mkdirSync(path, { mode }));
  }

  unlink(path: string): void {
    wrap(() => fs.unlinkSync(path));
  }

  rmdir(path: string): void {
    wrap(() => fs.rmdirSync(path));
  }

  rename(from: string, to: string): void {
    wrap(() => fs.renameSync(from, to));
  }

  symlink(target: string, path: string): void {
    wrap(() => fs.symlinkSync(target, path));
  }

  link(from: string, to: string): void {
    wrap(() => fs.linkSync(from, to));
  }

  chmod(path: string, mode: number): void {
    // The caller has checked path is not a symlink (chmod would follow it).
    wrap(() => fs.chmodSync(path, mode));
  }

  lchown(path: string, uid: number, gid: number): void {
    wrap(() => fs.lchownSync(path, uid, gid));
  }

  lutimes(path: string, atime: Timespec, mtime: Timespec): void {
    wrap(() => fs.lutimesSync(path, atime.sec + atime.nsec / 1e9, mtime.sec + mtime.nsec / 1e9));
  }

  truncate(path: string, size: number): void {
    wrap(() => {
      const fd = fs.openSync(path, linux.O_WRONLY | linux.O_NOFOLLOW | linux.O_CLOEXEC);
      try {
        fs.ftruncateSync(fd, size);
      } finally {
        fs.closeSync(fd);
      }
    });
  }
}
