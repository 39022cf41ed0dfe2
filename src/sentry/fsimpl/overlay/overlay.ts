// overlay: the sandbox root. The lower layer is a read-only host tree, the
// upper a tmpfs; the host is never written.
//
// Overlay inodes are kept for the sandbox's lifetime (children are cached,
// including negative entries), so they hold the overlay's own state directly:
// whiteouts are a set of names on the directory inode, and an "opaque"
// directory is simply one with an upper and no lower (made by mkdir after the
// lower one was removed). A renamed directory keeps its lower layer, which is
// what overlayfs's redirect_dir does.
//
// Inode numbers are stable: a file keeps its lower (host) number after copy-up;
// files created in the sandbox get synthesized numbers. st_dev is the
// overlay's for every inode.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import type { DirEntry, Stat } from '../../vfs/file_description.js';
import { kernelCaller } from '../../vfs/caller.js';
import type { Caller, FileSystem, Opened, SetAttr, Statfs } from '../../vfs/inode.js';
import { Inode, InoMapper, allocAnonDev, isDir } from '../../vfs/inode.js';
import type { HostFilesystem, HostNode } from '../hostfs/hostfs.js';
import type { Tmpfs, TmpfsDir, TmpfsNode } from '../tmpfs/tmpfs.js';
import { TmpfsFile } from '../tmpfs/tmpfs.js';

export const OVERLAYFS_SUPER_MAGIC = 0x794c7630;
const COPY_CHUNK = 1 << 20;

export class OverlayFS implements FileSystem {
  readonly type = 'overlay';
  readonly source = 'overlay';
  readonly dev = allocAnonDev();
  readonly lower: HostFilesystem;
  readonly upper: Tmpfs;
  readonly inos: InoMapper;
  readonly root: OverlayNode;

  constructor(lower: HostFilesystem, upper: Tmpfs) {
    this.lower = lower;
    this.upper = upper;
    // Sharing the lower's mapper: a lower inode's number is the overlay's.
    this.inos = lower.inos;
    const lr = lower.root;
    const ur = upper.root;
    ur.setattr(kernelCaller(), { mode: lr.mode & 0o7777, uid: lr.uid, gid: lr.gid });
    this.root = new OverlayNode(this, lr.ino, lr, ur, null, '');
  }

  get options(): string {
    // No host path here: /proc/mounts must not tell the guest where its root lives.
    return 'upperdir=tmpfs';
  }

  statfs(): Statfs {
    return { ...this.upper.statfs(), type: OVERLAYFS_SUPER_MAGIC };
  }
}

export class OverlayNode extends Inode {
  readonly fs: OverlayFS;
  readonly ino: number;
  lower: HostNode | null;
  upper: TmpfsNode | null;
  /** The directory and name this node was found under in the lower layer (its copy-up place). */
  private readonly origin: OverlayNode | null;
  private readonly originName: string;
  private children: Map<string, OverlayNode | null> | null = null;
  private whiteouts: Set<string> | null = null;
  /** Set when a lower-only node was removed. */
  private removed = false;

  constructor(fs: OverlayFS, ino: number, lower: HostNode | null, upper: TmpfsNode | null,
    origin: OverlayNode | null, name: string) {
    super();
    this.fs = fs;
    this.ino = ino;
    this.lower = lower;
    this.upper = upper;
    this.origin = origin;
    this.originName = name;
    if (isDir(this)) {
      this.parent = origin;
      this.name = name;
    }
  }

  get mode(): number {
    return this.upper ? this.upper.mode : this.lower!.mode;
  }
  get uid(): number {
    return this.upper ? this.upper.uid : this.lower!.uid;
  }
  get gid(): number {
    return this.upper ? this.upper.gid : this.lower!.gid;
  }
  override get linked(): boolean {
    return this.upper ? this.upper.linked : !this.removed;
  }

  stat(): Stat {
    const s = (this.upper ?? this.lower!).stat();
    s.dev = this.fs.dev;
    s.ino = this.ino;
    // As overlayfs: a merged directory's link count means nothing; 1 tells find(1) so.
    if (this.upper && this.lower && isDir(this)) s.nlink = 1;
    if (this.removed && !this.upper) s.nlink = 0;
    return s;
  }

  private upperDir(): TmpfsDir {
    return this.upper as TmpfsDir;
  }

  override lookup(c: Caller, name: string): OverlayNode | null {
    if (!isDir(this)) throw linuxerr.ENOTDIR;
    const kids = (this.children ??= new Map());
    const cached = kids.get(name);
    if (cached !== undefined) return cached;
    let n: OverlayNode | null = null;
    const ue = this.upper ? this.upperDir().entries.get(name) : undefined;
    if (ue) {
      // Upper entries are made through the overlay and so always cached; kept for safety.
      let l: HostNode | null = null;
      if (isDir(ue) && this.lower && !this.whiteouts?.has(name)) {
        const x = this.lower.lookup(c, name);
        if (x && isDir(x)) l = x;
      }
      n = new OverlayNode(this.fs, l ? l.ino : this.fs.inos.alloc(), l, ue, this, name);
    } else if (this.lower && !this.whiteouts?.has(name)) {
      const l = this.lower.lookup(c, name);
      if (l) n = new OverlayNode(this.fs, l.ino, l, null, this, name);
    }
    kids.set(name, n);
    return n;
  }

  override readdir(c: Caller): DirEntry[] {
    if (!isDir(this)) throw linuxerr.ENOTDIR;
    const out: DirEntry[] = [];
    const up = this.upper ? this.upperDir().entries : null;
    if (up) {
      for (const name of up.keys()) {
        const n = this.lookup(c, name);
        if (n) out.push({ name, ino: n.ino, type: linux.dtype(n.mode) });
      }
    }
    if (this.lower) {
      for (const d of this.lower.names()) {
        if (up?.has(d.name) || this.whiteouts?.has(d.name)) continue;
        const n = this.lookup(c, d.name);
        if (n) out.push({ name: d.name, ino: n.ino, type: linux.dtype(n.mode) });
      }
    }
    return out;
  }

  override isEmpty(c: Caller): boolean {
    if (this.upper && this.upperDir().entries.size) return false;
    if (!this.lower) return true;
    for (const d of this.lower.names()) if (!this.whiteouts?.has(d.name) && this.lookup(c, d.name)) return false;
    return true;
  }

  /** lowerHas reports whether the lower layer shows name here (so removing it needs a whiteout). */
  private lowerHas(c: Caller, name: string): boolean {
    return this.lower !== null && this.lower.lookup(c, name) !== null;
  }

  /** copyUp gives the node an upper copy (directories: an empty one; the
   *  lower stays merged under it), copying its parents up first. */
  copyUp(c: Caller): void {
    if (this.upper) return;
    const l = this.lower!;
    const st = l.st;
    const type = st.mode & linux.S_IFMT;
    let u: TmpfsNode;
    if (this.removed) {
      // Still open after its removal: the copy has no name.
      if (type !== linux.S_IFREG) throw linuxerr.ESTALE;
      u = this.fs.upper.newOrphan(c, st.mode);
      this.copyData(l, u as TmpfsFile);
    } else {
      const dir = this.origin!;
      dir.copyUp(c);
      const ud = dir.upperDir();
      const name = this.originName;
      switch (type) {
        case linux.S_IFDIR: u = ud.mkdir(c, name, st.mode); break;
        case linux.S_IFLNK: u = ud.symlink(c, name, l.readlink(c)); break;
        case linux.S_IFREG:
          u = ud.create(c, name, st.mode);
          this.copyData(l, u as TmpfsFile);
          break;
        default: u = ud.mknod(c, name, st.mode, st.rdev);
      }
    }
    u.setattr(c, { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, atime: st.atime, mtime: st.mtime });
    this.upper = u;
  }

  private copyData(l: HostNode, u: TmpfsFile): void {
    const h = l.fs.host;
    const fd = h.open(l.hostPath, linux.O_RDONLY);
    try {
      const buf = Buffer.allocUnsafe(Math.max(1, Math.min(l.st.size, COPY_CHUNK)));
      let pos = 0;
      for (;;) {
        const n = h.pread(fd, buf, pos);
        if (n <= 0) break;
        u.write(buf.subarray(0, n), pos);
        pos += n;
      }
    } finally {
      h.close(fd);
    }
  }

  // Extended attributes live in the upper layer; the lower (host) layer shows
  // none (reading them would cost a Gofer round trip per call).

  override getxattr(c: Caller, name: string): Uint8Array {
    if (!this.upper) throw linuxerr.ENODATA;
    return this.upper.getxattr(c, name);
  }

  override setxattr(c: Caller, name: string, value: Uint8Array, flags: number): void {
    if (!this.upper && (flags & 2 /* XATTR_REPLACE */)) throw linuxerr.ENODATA;
    this.copyUp(c);
    this.upper!.setxattr(c, name, value, flags);
  }

  override listxattr(c: Caller): string[] {
    return this.upper ? this.upper.listxattr(c) : [];
  }

  override removexattr(c: Caller, name: string): void {
    if (!this.upper) throw linuxerr.ENODATA;
    this.upper.removexattr(c, name);
  }

  /** attach records a new upper entry as a child. */
  private attach(name: string, u: TmpfsNode): OverlayNode {
    const n = new OverlayNode(this.fs, this.fs.inos.alloc(), null, u, this, name);
    (this.children ??= new Map()).set(name, n);
    this.whiteouts?.delete(name);
    return n;
  }

  override create(c: Caller, name: string, mode: number): Inode {
    this.copyUp(c);
    return this.attach(name, this.upperDir().create(c, name, mode));
  }

  override tmpfile(c: Caller, mode: number): Inode {
    this.copyUp(c);
    return new OverlayNode(this.fs, this.fs.inos.alloc(), null, this.upperDir().tmpfile(c, mode) as TmpfsNode, null, '');
  }

  override mkdir(c: Caller, name: string, mode: number): Inode {
    this.copyUp(c);
    return this.attach(name, this.upperDir().mkdir(c, name, mode));
  }

  override symlink(c: Caller, name: string, target: string): Inode {
    this.copyUp(c);
    return this.attach(name, this.upperDir().symlink(c, name, target));
  }

  override mknod(c: Caller, name: string, mode: number, rdev: number): Inode {
    this.copyUp(c);
    return this.attach(name, this.upperDir().mknod(c, name, mode, rdev));
  }

  override link(c: Caller, name: string, target: Inode): void {
    const t = target as OverlayNode;
    t.copyUp(c);
    this.copyUp(c);
    this.upperDir().link(c, name, t.upper!);
    (this.children ??= new Map()).set(name, t);
    this.whiteouts?.delete(name);
  }

  /** forget removes name from the merged view, whiting out a lower entry. */
  private forget(c: Caller, name: string): void {
    if (this.lowerHas(c, name)) (this.whiteouts ??= new Set()).add(name);
    this.children!.set(name, null);
  }

  override unlink(c: Caller, name: string): void {
    const child = this.lookup(c, name);
    if (!child) throw linuxerr.ENOENT;
    this.copyUp(c);
    const ud = this.upperDir();
    if (ud.entries.has(name)) ud.unlink(c, name);
    else child.removed = true;
    this.forget(c, name);
  }

  override rmdir(c: Caller, name: string): void {
    const child = this.lookup(c, name);
    if (!child) throw linuxerr.ENOENT;
    this.copyUp(c);
    const ud = this.upperDir();
    // The merged directory is empty, so its upper part is too.
    if (ud.entries.has(name)) ud.rmdir(c, name);
    child.removed = true;
    this.forget(c, name);
  }

  override rename(c: Caller, oldName: string, newDir: Inode, newName: string, flags: number): void {
    const nd = newDir as OverlayNode;
    const src = this.lookup(c, oldName);
    if (!src) throw linuxerr.ENOENT;
    const dst = nd.lookup(c, newName);
    const exchange = (flags & linux.RENAME_EXCHANGE) !== 0;
    this.copyUp(c);
    nd.copyUp(c);
    src.copyUp(c);
    if (exchange) {
      if (!dst) throw linuxerr.ENOENT;
      dst.copyUp(c);
    }
    // A lower-only target needs no upper removal: the new upper entry hides it.
    this.upperDir().rename(c, oldName, nd.upperDir(), newName, flags);
    if (exchange) {
      this.children!.set(oldName, dst);
      nd.children!.set(newName, src);
      if (isDir(dst!)) {
        dst!.parent = this;
        dst!.name = oldName;
      }
    } else {
      this.forget(c, oldName);
      nd.children!.set(newName, src);
      nd.whiteouts?.delete(newName);
      if (dst && !dst.upper) dst.removed = true;
    }
    if (isDir(src)) {
      src.parent = nd;
      src.name = newName;
    }
  }

  override readlink(c: Caller): string {
    return (this.upper ?? this.lower!).readlink(c);
  }

  override open(c: Caller, flags: number, statAs: Inode, wait = false): Opened {
    const writes = (flags & linux.O_ACCMODE) !== linux.O_RDONLY || (flags & linux.O_TRUNC) !== 0;
    if (writes && (this.mode & linux.S_IFMT) === linux.S_IFREG) this.copyUp(c);
    return (this.upper ?? this.lower!).open(c, flags, statAs, wait);
  }

  override setattr(c: Caller, a: SetAttr): void {
    this.copyUp(c);
    this.upper!.setattr(c, a);
  }
}
