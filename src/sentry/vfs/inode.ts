// Inode is the VFS's view of a file system object: every file system (tmpfs,
// overlay, hostfs, procfs) implements it. The VFS owns the generic semantics
// (path walking, permission checks, argument validation); an Inode only does
// its file system's mechanics and trusts that the VFS validated the call.
//
// Directories know their parent and their name (directories have exactly one
// parent), which gives "..", getcwd and /proc paths. Non-directories may have
// several names (hard links) and carry no parent.

import * as linuxerr from '../../abi/linux/errno.js';
import * as linux from '../../abi/linux/file.js';
import type { Credentials } from '../kernel/creds.js';
import type { FDTable } from '../kernel/fd_table.js';
import type { DirEntry, FileDescription, FileDescriptionImpl, Stat, Timespec } from './file_description.js';
import type { FSContext } from './fs_context.js';
import type { Loc } from './mount.js';

/** Caller is what the path code needs from a task; a Task is one, and so is a
 *  plain object in tests. */
export interface Caller {
  fs: FSContext;
  creds: Credentials;
  fdTable: FDTable;
}

/** Statfs is what statfs(2) reports. */
export interface Statfs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
  frsize: number;
  /** ST_* mount flags; the VFS adds ST_RDONLY for read-only mounts. */
  flags: number;
}

/** SetAttr lists the attributes to change; absent fields stay. The file system
 *  sets ctime itself whenever anything changes. */
export interface SetAttr {
  /** Permission bits (07777); the file type never changes. */
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: Timespec;
  mtime?: Timespec;
}

/** FileSystem is one mounted file system instance. */
export interface FileSystem {
  /** type is the name in /proc/filesystems and /proc/mounts. */
  readonly type: string;
  /** dev is st_dev of every inode (a new_encode_dev'd number). */
  readonly dev: number;
  readonly root: Inode;
  /** source and options as /proc/mounts shows them (the VFS adds rw/ro). */
  readonly source: string;
  readonly options: string;
  statfs(): Statfs;
}

/** Opened is what Inode.open returns: a new impl, or (FIFOs, magic links) a
 *  FileDescription the VFS hands over as is, holding a reference for the
 *  caller; a promise of one only for a FIFO open that waits. */
export type Opened = FileDescriptionImpl | FileDescription | Promise<FileDescription>;

export abstract class Inode {
  abstract readonly fs: FileSystem;
  abstract readonly ino: number;
  /** For directories: the containing directory (null at the file system root). */
  parent: Inode | null = null;
  /** For directories: the name in parent. */
  name = '';

  /** mode is the full mode, file type bits included. */
  abstract get mode(): number;
  abstract get uid(): number;
  abstract get gid(): number;
  /** stat returns a fresh Stat the caller may modify. */
  abstract stat(): Stat;

  /** linked is false once the inode has no name left (removed directory, unlinked file). */
  get linked(): boolean {
    return true;
  }

  /** lookup returns the child called name, or null. name is never "." or "..". */
  lookup(c: Caller, name: string): Inode | null {
    void c; void name;
    throw linuxerr.ENOTDIR;
  }

  /** readdir lists the directory without "." and "..". */
  readdir(c: Caller): DirEntry[] {
    void c;
    throw linuxerr.ENOTDIR;
  }

  /** isEmpty reports whether the directory has no entries (rmdir, rename). */
  isEmpty(c: Caller): boolean {
    return this.readdir(c).length === 0;
  }

  /** create makes a regular file; mode holds permission bits only (umask applied). */
  create(c: Caller, name: string, mode: number): Inode {
    void c; void name; void mode;
    throw linuxerr.EPERM;
  }

  mkdir(c: Caller, name: string, mode: number): Inode {
    void c; void name; void mode;
    throw linuxerr.EPERM;
  }

  symlink(c: Caller, name: string, target: string): Inode {
    void c; void name; void target;
    throw linuxerr.EPERM;
  }

  /** mknod makes a device, FIFO or socket node; mode includes the type bits. */
  mknod(c: Caller, name: string, mode: number, rdev: number): Inode {
    void c; void name; void mode; void rdev;
    throw linuxerr.EPERM;
  }

  /** tmpfile makes an unnamed regular file for O_TMPFILE in this directory. */
  tmpfile(c: Caller, mode: number): Inode {
    void c; void mode;
    throw linuxerr.EOPNOTSUPP;
  }

  /** link adds name for target, an inode of the same file system. */
  link(c: Caller, name: string, target: Inode): void {
    void c; void name; void target;
    throw linuxerr.EPERM;
  }

  /** unlink removes the non-directory child name. */
  unlink(c: Caller, name: string): void {
    void c; void name;
    throw linuxerr.EPERM;
  }

  /** rmdir removes the empty directory child name. */
  rmdir(c: Caller, name: string): void {
    void c; void name;
    throw linuxerr.EPERM;
  }

  /** rename moves oldName to newDir/newName (same file system), replacing a
   *  compatible target; flags are RENAME_EXCHANGE/RENAME_NOREPLACE, already checked. */
  rename(c: Caller, oldName: string, newDir: Inode, newName: string, flags: number): void {
    void c; void oldName; void newDir; void newName; void flags;
    throw linuxerr.EPERM;
  }

  /** readlink returns a symlink's target. */
  readlink(c: Caller): string {
    void c;
    throw linuxerr.EINVAL;
  }

  /** magicLink, for /proc links such as fd/N and cwd: where following the link
   *  leads, bypassing the target's text. null: follow the text as usual. */
  magicLink(c: Caller): Loc | null {
    void c;
    return null;
  }

  /** open opens a non-directory for flags; statAs is the inode fstat must
   *  report (an overlay passes itself). wait lets a FIFO open block (return a
   *  promise). Directories are opened by the VFS. */
  open(c: Caller, flags: number, statAs: Inode, wait = false): Opened {
    void c; void flags; void statAs; void wait;
    throw linuxerr.ENXIO;
  }

  /** getxattr returns extended attribute name (full name, "user.x"); ENODATA if absent.
   *  The VFS checked the namespace and permissions (vfs/xattr.ts). */
  getxattr(c: Caller, name: string): Uint8Array {
    void c; void name;
    throw linuxerr.ENODATA;
  }

  /** setxattr sets an attribute; flags are XATTR_CREATE/XATTR_REPLACE. EOPNOTSUPP where none are stored. */
  setxattr(c: Caller, name: string, value: Uint8Array, flags: number): void {
    void c; void name; void value; void flags;
    throw linuxerr.EOPNOTSUPP;
  }

  /** listxattr returns the attribute names. */
  listxattr(c: Caller): string[] {
    void c;
    return [];
  }

  removexattr(c: Caller, name: string): void {
    void c; void name;
    throw linuxerr.EOPNOTSUPP;
  }

  /** setattr changes attributes, without permission checks (the VFS did them). */
  setattr(c: Caller, attr: SetAttr): void {
    void c; void attr;
    throw linuxerr.EPERM;
  }
}

export function isDir(n: Inode): boolean {
  return (n.mode & linux.S_IFMT) === linux.S_IFDIR;
}

export function isSymlink(n: Inode): boolean {
  return (n.mode & linux.S_IFMT) === linux.S_IFLNK;
}

export function isRegular(n: Inode): boolean {
  return (n.mode & linux.S_IFMT) === linux.S_IFREG;
}

/** now returns the real time, with microsecond resolution. */
export function now(): Timespec {
  const ms = performance.timeOrigin + performance.now();
  const sec = Math.floor(ms / 1000);
  const nsec = Math.min(999_999_999, Math.floor((ms - sec * 1000) * 1e6));
  return { sec, nsec };
}

/** makeDev packs a device number as Linux's new_encode_dev does. */
export function makeDev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
}

export function devMajor(dev: number): number {
  return (dev >>> 8) & 0xfff;
}

export function devMinor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & 0xfff00);
}

let nextAnonMinor = 16;
/** allocAnonDev returns a new device number of major 0, as Linux gives
 *  file systems without a block device. */
export function allocAnonDev(): number {
  return makeDev(0, nextAnonMinor++);
}

/** Synthesized inode numbers start here, above what host file systems hand out
 *  in practice, so they never collide with passed-through host numbers. */
const SYNTH_INO_BASE = 2 ** 40;

/** InoMapper gives a file system stable inode numbers: host numbers of the main
 *  host device pass through; others (other host devices, huge numbers, files
 *  that exist only in the sandbox) get synthesized ones. */
export class InoMapper {
  private readonly mainDev: bigint;
  private readonly mapped = new Map<string, number>();
  private next = SYNTH_INO_BASE;

  constructor(mainDev: bigint) {
    this.mainDev = mainDev;
  }

  fromHost(dev: bigint, ino: bigint): number {
    if (dev === this.mainDev && ino < BigInt(SYNTH_INO_BASE)) return Number(ino);
    const key = `${dev}:${ino}`;
    let n = this.mapped.get(key);
    if (n === undefined) {
      n = this.next++;
      this.mapped.set(key, n);
    }
    return n;
  }

  alloc(): number {
    return this.next++;
  }
}
