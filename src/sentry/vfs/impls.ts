// Generic FileDescriptionImpls of the VFS: directories (getdents cursor),
// O_PATH files, and read-only snapshots of generated content (procfs).

import * as linuxerr from '../../abi/linux/errno.js';
import * as linux from '../../abi/linux/file.js';
import type { DirEntry, FileDescription, FileDescriptionImpl, Stat } from './file_description.js';
import type { Caller, Inode } from './inode.js';
import type { Loc } from './mount.js';
import { parentLoc } from './resolve.js';

/** seekPosition computes lseek's new position for a file of size bytes;
 *  EINVAL for a negative result or unknown whence, ENXIO for SEEK_DATA/HOLE past the end. */
export function seekPosition(cur: number, offset: number, whence: number, size: number): number {
  let n: number;
  switch (whence) {
    case linux.SEEK_SET: n = offset; break;
    case linux.SEEK_CUR: n = cur + offset; break;
    case linux.SEEK_END: n = size + offset; break;
    case linux.SEEK_DATA:
      if (offset < 0) throw linuxerr.EINVAL;
      if (offset >= size) throw linuxerr.ENXIO;
      n = offset;
      break;
    case linux.SEEK_HOLE:
      if (offset < 0) throw linuxerr.EINVAL;
      if (offset >= size) throw linuxerr.ENXIO;
      n = size;
      break;
    default:
      throw linuxerr.EINVAL;
  }
  if (n < 0 || !Number.isFinite(n)) throw linuxerr.EINVAL;
  return n;
}

/** DirectoryImpl is an open directory. getdents works through a listing
 *  taken when the position is 0, so entries added or removed meanwhile never
 *  make it skip or repeat one; fd.offset is the index of the next entry. */
export class DirectoryImpl implements FileDescriptionImpl {
  readonly loc: Loc;
  private readonly opener: Caller;
  private readonly root: Loc;
  private snapshot: DirEntry[] | null = null;

  constructor(loc: Loc, opener: Caller, root: Loc) {
    this.loc = loc;
    this.opener = opener;
    this.root = root;
  }

  stat(): Stat {
    return this.loc.node.stat();
  }

  read(): number {
    throw linuxerr.EISDIR;
  }

  readdir(): DirEntry[] {
    const n = this.loc.node;
    const up = parentLoc(this.loc, this.root).node;
    const list: DirEntry[] = [
      { name: '.', ino: n.ino, type: linux.DT_DIR },
      { name: '..', ino: up.ino, type: linux.DT_DIR },
    ];
    for (const e of n.readdir(this.opener)) list.push(e);
    return list;
  }

  /** entries returns the listing for getdents at fd's position. */
  entries(fd: FileDescription): DirEntry[] {
    if (fd.offset === 0 || !this.snapshot) this.snapshot = this.readdir();
    return this.snapshot;
  }

  seek(fd: FileDescription, offset: number, whence: number): number {
    if (whence !== linux.SEEK_SET && whence !== linux.SEEK_CUR) throw linuxerr.EINVAL;
    const n = seekPosition(fd.offset, offset, whence, 0);
    fd.offset = n;
    if (n === 0) this.snapshot = null;
    return n;
  }

  sync(): void {}
}

/** PathImpl is an O_PATH file: it can be stat'ed, used as a dirfd, and not much else. */
export class PathImpl implements FileDescriptionImpl {
  readonly node: Inode;
  constructor(node: Inode) {
    this.node = node;
  }
  stat(): Stat {
    return this.node.stat();
  }
}

/** SnapshotImpl serves content generated at open time (a /proc file). A
 *  writer, if given, receives each write whole. */
export class SnapshotImpl implements FileDescriptionImpl {
  private readonly data: Uint8Array;
  private readonly node: Inode;
  private readonly writer: ((src: Uint8Array) => number) | null;

  constructor(data: Uint8Array, node: Inode, writer: ((src: Uint8Array) => number) | null = null) {
    this.data = data;
    this.node = node;
    this.writer = writer;
  }

  read(fd: FileDescription, dst: Uint8Array, offset: number): number {
    const pos = offset < 0 ? fd.offset : offset;
    if (pos >= this.data.length) return 0;
    const n = Math.min(dst.length, this.data.length - pos);
    dst.set(this.data.subarray(pos, pos + n));
    if (offset < 0) fd.offset = pos + n;
    return n;
  }

  write(fd: FileDescription, src: Uint8Array, offset: number): number {
    void fd; void offset;
    if (!this.writer) throw linuxerr.EINVAL;
    return this.writer(src);
  }

  seek(fd: FileDescription, offset: number, whence: number): number {
    fd.offset = seekPosition(fd.offset, offset, whence, this.data.length);
    return fd.offset;
  }

  stat(): Stat {
    const s = this.node.stat();
    return s;
  }
}
