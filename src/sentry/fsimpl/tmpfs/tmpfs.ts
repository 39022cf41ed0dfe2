// tmpfs: a file system in the Sentry's memory. Also the upper layer of the
// root overlay, and the base of devfs and /sys.
//
// Linux rules kept here: directories count 2 + subdirectories links and report
// a size of 20 bytes per entry (BOGO_DIRENT_SIZE); creating or removing an
// entry updates the directory's mtime and ctime; new inodes take the fsuid,
// and the fsgid unless the parent directory is setgid (then its group, and
// subdirectories inherit the setgid bit); size and inode limits give ENOSPC.

import { hostMemory } from '../../../platform/hostproc.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import type { Pipe } from '../../kernel/pipe/pipe.js';
import type { DirEntry, Stat, Timespec } from '../../vfs/file_description.js';
import type { Caller, FileSystem, Opened, SetAttr, Statfs } from '../../vfs/inode.js';
import { Inode, allocAnonDev, now } from '../../vfs/inode.js';
import { CAP_FSETID, hasCap, inGroup } from '../../vfs/permissions.js';
import { openSpecial } from '../../vfs/special.js';
import { sandboxLimits } from '../../kernel/limits.js';
import { FileData } from './file_data.js';
import { TmpfsFileImpl } from './regular_file.js';
import { F_SEAL_SEAL, checkChmod, checkResize, writeLength } from './seals.js';

export const TMPFS_MAGIC = 0x01021994;
const PAGE = 4096;
const BOGO_DIRENT_SIZE = 20;
const DAY = 24 * 3600;

export interface TmpfsOptions {
  /** Root directory mode bits (default 01777) and owner. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** type and source as /proc/mounts shows them (default tmpfs, none). */
  type?: string;
  source?: string;
  /** magic is statfs's f_type (default TMPFS_MAGIC). */
  magic?: number;
  /** options overrides what /proc/mounts shows. */
  options?: string;
  /** Limits (default: half of the host's memory, as Linux's tmpfs). */
  maxBytes?: number;
  maxInodes?: number;
}

export class Tmpfs implements FileSystem {
  readonly type: string;
  readonly dev = allocAnonDev();
  readonly source: string;
  readonly magic: number;
  private readonly options_: string | undefined;
  readonly root: TmpfsDir;
  readonly maxPages: number;
  readonly maxInodes: number;
  usedPages = 0;
  inodes = 0;
  private nextIno = 1;

  constructor(opts: TmpfsOptions = {}) {
    this.type = opts.type ?? 'tmpfs';
    this.source = opts.source ?? 'none';
    this.magic = opts.magic ?? TMPFS_MAGIC;
    this.options_ = opts.options;
    const half = Math.floor(hostMemory().total / 2);
    this.maxPages = Math.floor((opts.maxBytes ?? half) / PAGE);
    this.maxInodes = opts.maxInodes ?? Math.floor(half / PAGE);
    this.root = new TmpfsDir(this, linux.S_IFDIR | (opts.mode ?? 0o1777), opts.uid ?? 0, opts.gid ?? 0);
  }

  get options(): string {
    if (this.options_ !== undefined) return this.options_;
    return `size=${this.maxPages * 4}k,nr_inodes=${this.maxInodes},mode=${(this.root.mode & 0o7777).toString(8)}`;
  }

  allocIno(): number {
    if (this.inodes >= this.maxInodes) throw linuxerr.ENOSPC;
    this.inodes++;
    return this.nextIno++;
  }

  /** charge accounts delta pages of file data, or throws ENOSPC: past this
   *  file system's size or past the sandbox's memory budget (a full tmpfs). */
  charge(delta: number): void {
    if (delta > 0) {
      if (this.usedPages + delta > this.maxPages) throw linuxerr.ENOSPC;
      if (!sandboxLimits().charge(delta * PAGE)) throw linuxerr.ENOSPC;
    } else {
      sandboxLimits().uncharge(-delta * PAGE);
    }
    this.usedPages += delta;
  }

  statfs(): Statfs {
    return {
      type: this.magic, bsize: PAGE, frsize: PAGE, namelen: linux.NAME_MAX, flags: 0,
      blocks: this.maxPages, bfree: this.maxPages - this.usedPages, bavail: this.maxPages - this.usedPages,
      files: this.maxInodes, ffree: this.maxInodes - this.inodes,
    };
  }

  /** newOrphan makes a regular file with no name (O_TMPFILE, copy-up of a removed file). */
  newOrphan(c: Caller, mode: number): TmpfsFile {
    const f = new TmpfsFile(this, linux.S_IFREG | (mode & 0o7777), c.creds.fsuid, c.creds.fsgid);
    f.nlink = 0;
    return f;
  }
}

const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

export abstract class TmpfsNode extends Inode {
  readonly fs: Tmpfs;
  readonly ino: number;
  protected mode_: number;
  protected uid_: number;
  protected gid_: number;
  nlink = 1;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  readonly btime: Timespec;

  constructor(fs: Tmpfs, mode: number, uid: number, gid: number) {
    super();
    this.fs = fs;
    this.ino = fs.allocIno();
    this.mode_ = mode;
    this.uid_ = uid;
    this.gid_ = gid;
    const t = now();
    this.atime = this.mtime = this.ctime = this.btime = t;
  }

  get mode(): number {
    return this.mode_;
  }
  get uid(): number {
    return this.uid_;
  }
  get gid(): number {
    return this.gid_;
  }
  override get linked(): boolean {
    return this.nlink > 0;
  }

  /** size is st_size. */
  get size(): number {
    return 0;
  }
  get rdev(): number {
    return 0;
  }

  stat(): Stat {
    const size = this.size;
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode_, nlink: this.nlink, uid: this.uid_, gid: this.gid_,
      rdev: this.rdev, size, blksize: PAGE, blocks: this.pages() * 8,
      atime: this.atime, mtime: this.mtime, ctime: this.ctime, btime: this.btime,
    };
  }

  /** pages is how many pages the data uses. */
  pages(): number {
    return 0;
  }

  override setattr(c: Caller, a: SetAttr): void {
    void c;
    this.checkSeals(a);
    if (a.size !== undefined) this.truncate(a.size);
    if (a.mode !== undefined) this.mode_ = (this.mode_ & linux.S_IFMT) | (a.mode & 0o7777);
    if (a.uid !== undefined) this.uid_ = a.uid;
    if (a.gid !== undefined) this.gid_ = a.gid;
    if (a.atime) this.atime = a.atime;
    if (a.mtime) this.mtime = a.mtime;
    this.ctime = now();
  }

  protected truncate(size: number): void {
    void size;
    throw linuxerr.EINVAL;
  }

  /** checkSeals refuses a change the file's seals forbid (regular files only). */
  protected checkSeals(a: SetAttr): void {
    void a;
  }

  /** Extended attributes, by full name (made on first set). */
  private xattrs: Map<string, Uint8Array> | null = null;

  override getxattr(c: Caller, name: string): Uint8Array {
    void c;
    const v = this.xattrs?.get(name);
    if (!v) throw linuxerr.ENODATA;
    return v;
  }

  override setxattr(c: Caller, name: string, value: Uint8Array, flags: number): void {
    void c;
    const has = this.xattrs?.has(name) ?? false;
    if ((flags & XATTR_CREATE) && has) throw linuxerr.EEXIST;
    if ((flags & XATTR_REPLACE) && !has) throw linuxerr.ENODATA;
    (this.xattrs ??= new Map()).set(name, value.slice());
    this.ctime = now();
  }

  override listxattr(c: Caller): string[] {
    void c;
    return this.xattrs ? [...this.xattrs.keys()] : [];
  }

  override removexattr(c: Caller, name: string): void {
    void c;
    if (!this.xattrs?.delete(name)) throw linuxerr.ENODATA;
    this.ctime = now();
  }

  /** dropLink removes one name of the inode. */
  dropLink(): void {
    this.nlink--;
    this.ctime = now();
    if (this.nlink === 0) this.evict();
  }

  /** evict frees what the inode holds once it has no names (and no users). */
  protected evict(): void {
    this.fs.inodes--;
  }

  /** touchAtime updates atime on access, with Linux's relatime rule. */
  touchAtime(): void {
    const a = this.atime.sec;
    const t = now();
    if (a <= this.mtime.sec || a <= this.ctime.sec || t.sec - a >= DAY) this.atime = t;
  }
}

export class TmpfsDir extends TmpfsNode {
  readonly entries = new Map<string, TmpfsNode>();

  constructor(fs: Tmpfs, mode: number, uid: number, gid: number) {
    super(fs, mode, uid, gid);
    this.nlink = 2;
  }

  override get size(): number {
    return (this.entries.size + 2) * BOGO_DIRENT_SIZE;
  }

  override lookup(c: Caller, name: string): Inode | null {
    void c;
    return this.entries.get(name) ?? null;
  }

  override readdir(c: Caller): DirEntry[] {
    void c;
    const out: DirEntry[] = [];
    for (const [name, n] of this.entries) out.push({ name, ino: n.ino, type: linux.dtype(n.mode) });
    return out;
  }

  override isEmpty(c: Caller): boolean {
    void c;
    return this.entries.size === 0;
  }

  /** owner works out a new inode's uid, gid and mode (Linux's inode_init_owner). */
  private owner(c: Caller, mode: number): [number, number, number] {
    const cr = c.creds;
    let gid = cr.fsgid;
    if (this.mode_ & linux.S_ISGID) {
      gid = this.gid_;
      if ((mode & linux.S_IFMT) === linux.S_IFDIR) mode |= linux.S_ISGID;
      else if ((mode & linux.S_ISGID) && !inGroup(cr, gid) && !hasCap(cr, CAP_FSETID)) mode &= ~linux.S_ISGID;
    }
    return [mode, cr.fsuid, gid];
  }

  private add(name: string, n: TmpfsNode): TmpfsNode {
    this.entries.set(name, n);
    if (n instanceof TmpfsDir) {
      this.nlink++;
      n.parent = this;
      n.name = name;
    }
    this.mtime = this.ctime = now();
    return n;
  }

  override create(c: Caller, name: string, mode: number): TmpfsNode {
    const [m, uid, gid] = this.owner(c, linux.S_IFREG | (mode & 0o7777));
    return this.add(name, new TmpfsFile(this.fs, m, uid, gid));
  }

  override tmpfile(c: Caller, mode: number): TmpfsNode {
    const [m, uid, gid] = this.owner(c, linux.S_IFREG | (mode & 0o7777));
    const f = new TmpfsFile(this.fs, m, uid, gid);
    f.nlink = 0;
    return f;
  }

  override mkdir(c: Caller, name: string, mode: number): TmpfsNode {
    const [m, uid, gid] = this.owner(c, linux.S_IFDIR | (mode & 0o7777));
    return this.add(name, new TmpfsDir(this.fs, m, uid, gid));
  }

  override symlink(c: Caller, name: string, target: string): TmpfsNode {
    const [m, uid, gid] = this.owner(c, linux.S_IFLNK | 0o777);
    return this.add(name, new TmpfsSymlink(this.fs, m, uid, gid, target));
  }

  override mknod(c: Caller, name: string, mode: number, rdev: number): TmpfsNode {
    const [m, uid, gid] = this.owner(c, mode);
    if ((m & linux.S_IFMT) === linux.S_IFREG) return this.add(name, new TmpfsFile(this.fs, m, uid, gid));
    return this.add(name, new TmpfsSpecial(this.fs, m, uid, gid, rdev));
  }

  override link(c: Caller, name: string, target: Inode): void {
    void c;
    const t = target as TmpfsNode;
    t.nlink++;
    t.ctime = now();
    this.add(name, t);
  }

  override unlink(c: Caller, name: string): void {
    void c;
    const n = this.entries.get(name);
    if (!n) throw linuxerr.ENOENT;
    this.entries.delete(name);
    this.mtime = this.ctime = now();
    n.dropLink();
  }

  override rmdir(c: Caller, name: string): void {
    void c;
    const n = this.entries.get(name);
    if (!(n instanceof TmpfsDir)) throw linuxerr.ENOTDIR;
    this.entries.delete(name);
    this.nlink--;
    this.mtime = this.ctime = now();
    n.nlink = 0;
    n.ctime = this.ctime;
    this.fs.inodes--;
  }

  override rename(c: Caller, oldName: string, newDir: Inode, newName: string, flags: number): void {
    void c;
    const nd = newDir as TmpfsDir;
    const src = this.entries.get(oldName);
    if (!src) throw linuxerr.ENOENT;
    const dst = nd.entries.get(newName);
    const t = now();
    if (flags & linux.RENAME_EXCHANGE) {
      if (!dst) throw linuxerr.ENOENT;
      this.entries.set(oldName, dst);
      nd.entries.set(newName, src);
      const srcDir = src instanceof TmpfsDir;
      const dstDir = dst instanceof TmpfsDir;
      if (srcDir !== dstDir && this !== nd) {
        const d = srcDir ? 1 : -1;
        this.nlink -= d;
        nd.nlink += d;
      }
      if (srcDir) { src.parent = nd; src.name = newName; }
      if (dstDir) { dst.parent = this; dst.name = oldName; }
      dst.ctime = t;
    } else {
      if (dst) {
        if (dst instanceof TmpfsDir) {
          nd.nlink--;
          dst.nlink = 0;
          this.fs.inodes--;
        } else {
          dst.dropLink();
        }
      }
      this.entries.delete(oldName);
      nd.entries.set(newName, src);
      if (src instanceof TmpfsDir) {
        if (this !== nd) {
          this.nlink--;
          nd.nlink++;
        }
        src.parent = nd;
        src.name = newName;
      }
    }
    src.ctime = t;
    this.mtime = this.ctime = t;
    nd.mtime = nd.ctime = t;
  }
}

export class TmpfsFile extends TmpfsNode {
  readonly data = new FileData();
  /** openCount counts open descriptions; the data lives while it or nlink is non-zero. */
  openCount = 0;
  /** charged is the pages accounted to the file system. Pages are counted
   *  as written past the high-water mark of writes, so holes (skipped by a
   *  write far ahead, or made by an extending truncate) cost nothing. */
  private charged = 0;
  private watermark = 0;
  /** seals are the file's F_SEAL_* set; a tmpfs file starts sealed against
   *  sealing (Linux's shmem inodes), memfd_create opens it up. */
  seals = F_SEAL_SEAL;

  override get size(): number {
    return this.data.size;
  }

  override pages(): number {
    return this.charged;
  }

  read(dst: Uint8Array, pos: number): number {
    const n = this.data.read(dst, pos);
    this.touchAtime();
    return n;
  }

  write(src: Uint8Array, pos: number): number {
    if (src.length === 0) return 0;
    const allowed = writeLength(this.seals, this.data.size, pos, src.length);
    if (allowed < src.length) src = src.subarray(0, allowed);
    const end = pos + src.length;
    if (end > Number.MAX_SAFE_INTEGER) throw linuxerr.EFBIG;
    const last = Math.ceil(end / PAGE);
    if (last > this.watermark) {
      const add = last - Math.max(Math.floor(pos / PAGE), this.watermark);
      this.fs.charge(add);
      this.charged += add;
      this.watermark = last;
    }
    const n = this.data.write(src, pos);
    this.mtime = this.ctime = now();
    return n;
  }

  protected override checkSeals(a: SetAttr): void {
    if (this.seals === F_SEAL_SEAL) return;
    if (a.size !== undefined) checkResize(this.seals, this.data.size, a.size);
    if (a.mode !== undefined) checkChmod(this.seals, this.mode_, a.mode);
  }

  protected override truncate(size: number): void {
    if (size > Number.MAX_SAFE_INTEGER) throw linuxerr.EFBIG;
    if (size === this.data.size) return;
    this.data.truncate(size);
    const cap = Math.ceil(size / PAGE);
    if (cap < this.watermark) this.watermark = cap;
    if (cap < this.charged) {
      this.fs.charge(cap - this.charged);
      this.charged = cap;
    }
    this.mtime = now();
  }

  override open(c: Caller, flags: number, statAs: Inode): Opened {
    void c; void flags;
    return new TmpfsFileImpl(this, statAs);
  }

  /** closed is called when an open description goes. */
  closed(): void {
    if (--this.openCount === 0 && this.nlink === 0) this.free();
  }

  protected override evict(): void {
    if (this.openCount === 0) this.free();
  }

  private free(): void {
    this.fs.charge(-this.charged);
    this.charged = this.watermark = 0;
    this.data.release();
    this.fs.inodes--;
  }
}

export class TmpfsSymlink extends TmpfsNode {
  readonly target: string;

  constructor(fs: Tmpfs, mode: number, uid: number, gid: number, target: string) {
    super(fs, mode, uid, gid);
    this.target = target;
  }

  override get size(): number {
    return Buffer.byteLength(this.target);
  }

  override readlink(c: Caller): string {
    void c;
    return this.target;
  }
}

/** TmpfsSpecial is a device, FIFO or socket node. */
export class TmpfsSpecial extends TmpfsNode {
  readonly rdev_: number;
  fifo: Pipe | null = null;

  constructor(fs: Tmpfs, mode: number, uid: number, gid: number, rdev: number) {
    super(fs, mode, uid, gid);
    this.rdev_ = rdev;
  }

  override get rdev(): number {
    return this.rdev_;
  }

  override open(c: Caller, flags: number, statAs: Inode, wait = false): Opened {
    return openSpecial(c, this, flags, statAs, wait);
  }
}
