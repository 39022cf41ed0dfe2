// FileDescription is an open file description (Linux's struct file): the
// object fds point at, with its status flags and offset, holding an impl that
// does the file-type-specific work. Descriptions are reference-counted so
// release (pipe EOF, lock release) happens exactly when the last fd closes.

import * as linux from '../../abi/linux/file.js';
import * as linuxerr from '../../abi/linux/errno.js';
import type { HostFile } from '../../platform/platform.js';
import * as inotify from '../fsimpl/inotify/inotify.js';
import type { Task } from '../kernel/task.js';
import type { Inode } from './inode.js';
import type { WaitQueue } from './waiter.js';

/** Timespec as seconds and nanoseconds. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/** Stat is what stat(2)/statx(2) report about a file. */
export interface Stat {
  dev: number;
  ino: number;
  mode: number; // including S_IFMT bits
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
  btime?: Timespec;
  /** statx attributes and mount id, if known. */
  mntId?: number;
}

const EPOCH: Timespec = { sec: 0, nsec: 0 };

/** emptyStat is the stat of an object that holds no data and belongs to
 *  root: directories of synthetic file systems, anonymous files. */
export function emptyStat(dev: number, ino: number, mode: number, nlink: number, time: Timespec = EPOCH): Stat {
  return { dev, ino, mode, nlink, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atime: time, mtime: time, ctime: time };
}

/** DirEntry is one getdents64 record. */
export interface DirEntry {
  name: string;
  ino: number;
  type: number; // DT_*
}

/** FileDescriptionImpl is the file-type-specific part of an open file. Methods
 *  are synchronous; one that would block throws linuxerr.EAGAIN and notifies
 *  waitQueue later (the syscall layer waits, unless O_NONBLOCK). Optional
 *  methods absent mean what a NULL file_operations member means in Linux
 *  (see the defaults in FileDescription). */
export interface FileDescriptionImpl {
  /** read fills dst from offset (or the stream position when offset is -1); returns bytes, 0 at EOF. */
  read?(fd: FileDescription, dst: Uint8Array, offset: number): number;
  /** write writes src at offset (-1: stream/append semantics handled by the impl); returns bytes. */
  write?(fd: FileDescription, src: Uint8Array, offset: number): number;
  /** seek implements lseek(2); absent means ESPIPE. */
  seek?(fd: FileDescription, offset: number, whence: number): number;
  stat(fd: FileDescription): Stat;
  /** readdir returns the whole directory listing ("." and ".." included). */
  readdir?(fd: FileDescription): DirEntry[];
  /** ioctl handles a file-specific ioctl; absent means ENOTTY. */
  ioctl?(t: Task, fd: FileDescription, cmd: number, arg: number): number | Promise<number>;
  /** readiness returns which of mask's EVENT_* bits hold now. Absent: always readable/writable. */
  readiness?(mask: number): number;
  /** waitQueue is notified when readiness may have changed. */
  readonly waitQueue?: WaitQueue;
  /** mappable returns a host file the MM can map into guest memory, if any. */
  mappable?(): HostFile | null;
  /** writeSealed, if true, refuses writable shared mappings (memfd write seals). */
  writeSealed?(): boolean;
  /** truncate implements ftruncate(2). */
  truncate?(fd: FileDescription, size: number): void;
  /** sync implements fsync(2). */
  sync?(fd: FileDescription): void;
  /** jobControl, for terminals, runs before a read or write by t: it may stop
   *  a background process (throwing ERESTARTSYS after sending SIGTTIN/SIGTTOU) or throw EIO. */
  jobControl?(t: Task, write: boolean): void;
  /** release is called once, when the last reference goes. */
  release?(): void;
}

let nextId = 1;

export class FileDescription {
  /** flags holds the access mode and status flags (O_APPEND, O_NONBLOCK, ...). */
  flags: number;
  /** offset is the file position, for impls with a position. */
  offset = 0;
  readonly impl: FileDescriptionImpl;
  /** path is the absolute path the file was opened by (for /proc/self/fd and strace), if any. */
  path: string;
  /** dentry is the VFS's handle on the file's node, if it has one (opaque outside vfs). */
  dentry: unknown = null;
  /** For inotify: the directory and name a non-directory was opened by (directories know their own). */
  notifyParent: { dir: Inode; name: string } | null = null;
  /** id identifies the description, for /proc fdinfo and debugging. */
  readonly id = nextId++;
  private refs = 1;

  constructor(impl: FileDescriptionImpl, flags: number, path = '') {
    this.impl = impl;
    this.flags = flags;
    this.path = path;
  }

  incRef(): void {
    this.refs++;
  }

  /** onRelease, if set, runs after impl.release when the last reference goes (flock/OFD lock release). */
  onRelease: (() => void) | null = null;

  decRef(): void {
    if (--this.refs === 0) {
      this.impl.release?.();
      this.onRelease?.();
      if (inotify.active() && this.dentry && !(this.flags & linux.O_PATH)) {
        inotify.notifyFile(this, this.writable ? inotify.IN_CLOSE_WRITE : inotify.IN_CLOSE_NOWRITE);
      }
    }
  }

  get readable(): boolean {
    const m = this.flags & linux.O_ACCMODE;
    return (this.flags & linux.O_PATH) === 0 && (m === linux.O_RDONLY || m === linux.O_RDWR);
  }

  get writable(): boolean {
    const m = this.flags & linux.O_ACCMODE;
    return (this.flags & linux.O_PATH) === 0 && (m === linux.O_WRONLY || m === linux.O_RDWR);
  }

  get nonblocking(): boolean {
    return (this.flags & linux.O_NONBLOCK) !== 0;
  }

  /** pread reads at offset without moving the position (offset -1: at the position, moving it). */
  read(dst: Uint8Array, offset: number): number {
    if (!this.readable) throw linuxerr.EBADF;
    if (!this.impl.read) throw linuxerr.EINVAL;
    const n = this.impl.read(this, dst, offset);
    if (n > 0 && inotify.active()) inotify.notifyFile(this, inotify.IN_ACCESS);
    return n;
  }

  write(src: Uint8Array, offset: number): number {
    if (!this.writable) throw linuxerr.EBADF;
    if (!this.impl.write) throw linuxerr.EINVAL;
    const n = this.impl.write(this, src, offset);
    if (n > 0 && inotify.active()) inotify.notifyFile(this, inotify.IN_MODIFY);
    return n;
  }

  seek(offset: number, whence: number): number {
    if (!this.impl.seek) throw linuxerr.ESPIPE;
    return this.impl.seek(this, offset, whence);
  }

  stat(): Stat {
    return this.impl.stat(this);
  }

  readiness(mask: number): number {
    return this.impl.readiness ? this.impl.readiness(mask) : mask & (0x1 | 0x4);
  }
}
