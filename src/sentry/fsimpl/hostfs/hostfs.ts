// hostfs: a host directory tree seen through a HostFS. It is the read-only
// lower layer of the root overlay, and the file system of volumes (bind
// mounts of host directories, read-write when the volume is).
//
// With caching on (read-only trees: the sandbox owns its view for its
// lifetime), each host path is lstat'ed, listed and read as a link at most
// once. Without it (read-write volumes, which the host may change too),
// lookups, stat and readdir ask the host every time; nodes are still reused
// by name so that mount points stay put.

import * as path from 'node:path';
import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import type { DirEntry, Stat } from '../../vfs/file_description.js';
import type { Caller, FileSystem, Opened, SetAttr, Statfs } from '../../vfs/inode.js';
import { Inode, InoMapper, allocAnonDev } from '../../vfs/inode.js';
import type { Pipe } from '../../kernel/pipe/pipe.js';
import { openSpecial } from '../../vfs/special.js';
import type { HostDirent, HostFS, HostStat } from './host_fs.js';
import { HostFileImpl } from './host_file.js';

export interface HostFilesystemOptions {
  /** readonly refuses every change (EROFS). */
  readonly: boolean;
  /** cache keeps host metadata for the file system's lifetime. */
  cache: boolean;
}

export class HostFilesystem implements FileSystem {
  readonly type = 'hostfs';
  readonly dev = allocAnonDev();
  readonly host: HostFS;
  readonly hostRoot: string;
  readonly readonly: boolean;
  readonly cache: boolean;
  readonly inos: InoMapper;
  readonly root: HostNode;

  constructor(host: HostFS, hostRoot: string, opts: HostFilesystemOptions) {
    this.host = host;
    this.hostRoot = path.resolve(hostRoot);
    this.readonly = opts.readonly;
    this.cache = opts.cache;
    const st = host.lstat(this.hostRoot);
    if ((st.mode & linux.S_IFMT) !== linux.S_IFDIR) throw linuxerr.ENOTDIR;
    this.inos = new InoMapper(st.dev);
    this.root = new HostNode(this, this.hostRoot, st);
  }

  get source(): string {
    // The host path stays private (/proc/mounts is guest-visible), as in gVisor.
    return 'none';
  }

  get options(): string {
    return this.cache ? 'cache=full' : 'cache=none';
  }

  statfs(): Statfs {
    return this.host.statfs(this.hostRoot);
  }

  /** mainDev is the host device of the tree's root. */
  get mainDev(): bigint {
    return this.root.st.dev;
  }
}

function childPath(dir: string, name: string): string {
  return dir === '/' ? '/' + name : dir + '/' + name;
}

export class HostNode extends Inode {
  readonly fs: HostFilesystem;
  readonly hostPath: string;
  st: HostStat;
  ino: number;
  private children: Map<string, HostNode | null> | null = null;
  private listing: HostDirent[] | null = null;
  private target: string | null = null;
  /** For host FIFOs: the sandbox's pipe (host FIFOs do not connect to the host). */
  fifo: Pipe | null = null;

  constructor(fs: HostFilesystem, hostPath: string, st: HostStat) {
    super();
    this.fs = fs;
    this.hostPath = hostPath;
    this.st = st;
    this.ino = fs.inos.fromHost(st.dev, st.ino);
  }

  get mode(): number {
    return this.st.mode;
  }
  get rdev(): number {
    return this.st.rdev;
  }
  get uid(): number {
    return this.st.uid;
  }
  get gid(): number {
    return this.st.gid;
  }

  /** refresh re-reads the host metadata (uncached file systems). */
  refresh(): void {
    this.st = this.fs.host.lstat(this.hostPath);
  }

  stat(): Stat {
    if (!this.fs.cache) this.refresh();
    const s = this.st;
    return {
      dev: this.fs.dev, ino: this.ino, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, rdev: s.rdev,
      size: s.size, blksize: s.blksize, blocks: s.blocks, atime: s.atime, mtime: s.mtime, ctime: s.ctime,
      btime: s.btime,
    };
  }

  override lookup(c: Caller, name: string): HostNode | null {
    void c;
    if ((this.st.mode & linux.S_IFMT) !== linux.S_IFDIR) throw linuxerr.ENOTDIR;
    const kids = (this.children ??= new Map());
    const cached = kids.get(name);
    if (cached !== undefined && this.fs.cache) return cached;
    const p = childPath(this.hostPath, name);
    let st: HostStat;
    try {
      st = this.fs.host.lstat(p);
    } catch (e) {
      if (e === linuxerr.ENOENT) {
        kids.set(name, null);
        return null;
      }
      throw e;
    }
    if (cached && cached.st.ino === st.ino && cached.st.dev === st.dev) {
      cached.st = st;
      return cached;
    }
    const n = new HostNode(this.fs, p, st);
    if ((st.mode & linux.S_IFMT) === linux.S_IFDIR) {
      n.parent = this;
      n.name = name;
    }
    kids.set(name, n);
    return n;
  }

  /** names lists the host directory (cached on cached file systems). */
  names(): HostDirent[] {
    if (this.listing && this.fs.cache) return this.listing;
    const l = this.fs.host.readdir(this.hostPath);
    this.listing = l;
    return l;
  }

  override readdir(c: Caller): DirEntry[] {
    const out: DirEntry[] = [];
    for (const d of this.names()) {
      const n = this.lookup(c, d.name);
      if (n) out.push({ name: d.name, ino: n.ino, type: linux.dtype(n.mode) });
    }
    return out;
  }

  override isEmpty(c: Caller): boolean {
    void c;
    return this.names().length === 0;
  }

  override readlink(c: Caller): string {
    void c;
    if ((this.st.mode & linux.S_IFMT) !== linux.S_IFLNK) throw linuxerr.EINVAL;
    if (this.target === null || !this.fs.cache) this.target = this.fs.host.readlink(this.hostPath);
    return this.target;
  }

  override open(c: Caller, flags: number, statAs: Inode, wait = false): Opened {
    if ((this.st.mode & linux.S_IFMT) === linux.S_IFREG) return new HostFileImpl(this, statAs, flags);
    return openSpecial(c, this, flags, statAs, wait);
  }

  // The write side (read-write volumes). The VFS has checked permissions.

  private writable(): void {
    if (this.fs.readonly) throw linuxerr.EROFS;
  }

  /** created finishes a creation: owner set to the caller, caches updated. */
  private created(c: Caller, name: string): HostNode {
    const p = childPath(this.hostPath, name);
    try {
      this.fs.host.lchown(p, c.creds.fsuid, c.creds.fsgid);
    } catch {
      // An unprivileged Sentry keeps its own ownership.
    }
    this.children?.delete(name);
    this.listing = null;
    const n = this.lookup(c, name);
    if (!n) throw linuxerr.ENOENT;
    return n;
  }

  override create(c: Caller, name: string, mode: number): Inode {
    this.writable();
    const fd = this.fs.host.open(childPath(this.hostPath, name), linux.O_CREAT | linux.O_EXCL | linux.O_WRONLY, mode);
    this.fs.host.close(fd);
    return this.created(c, name);
  }

  override mkdir(c: Caller, name: string, mode: number): Inode {
    this.writable();
    this.fs.host.mkdir(childPath(this.hostPath, name), mode);
    return this.created(c, name);
  }

  override symlink(c: Caller, name: string, target: string): Inode {
    this.writable();
    this.fs.host.symlink(target, childPath(this.hostPath, name));
    return this.created(c, name);
  }

  override mknod(c: Caller, name: string, mode: number, rdev: number): Inode {
    void rdev;
    this.writable();
    if ((mode & linux.S_IFMT) === linux.S_IFREG) return this.create(c, name, mode);
    // node:fs has no mknod; the Gofer will.
    throw linuxerr.EPERM;
  }

  override link(c: Caller, name: string, target: Inode): void {
    this.writable();
    this.fs.host.link((target as HostNode).hostPath, childPath(this.hostPath, name));
    this.created(c, name);
  }

  private removed(name: string): void {
    this.children?.set(name, null);
    this.listing = null;
  }

  override unlink(c: Caller, name: string): void {
    void c;
    this.writable();
    this.fs.host.unlink(childPath(this.hostPath, name));
    this.removed(name);
  }

  override rmdir(c: Caller, name: string): void {
    void c;
    this.writable();
    this.fs.host.rmdir(childPath(this.hostPath, name));
    this.removed(name);
  }

  override rename(c: Caller, oldName: string, newDir: Inode, newName: string, flags: number): void {
    void c;
    this.writable();
    // node:fs has no renameat2; the Gofer will.
    if (flags) throw linuxerr.EINVAL;
    const nd = newDir as HostNode;
    this.fs.host.rename(childPath(this.hostPath, oldName), childPath(nd.hostPath, newName));
    // Host paths below a renamed directory change: drop the cached nodes.
    this.removed(oldName);
    nd.children?.delete(newName);
    nd.listing = null;
  }

  override setattr(c: Caller, a: SetAttr): void {
    void c;
    this.writable();
    const h = this.fs.host;
    const p = this.hostPath;
    if (a.size !== undefined) h.truncate(p, a.size);
    if (a.mode !== undefined) {
      if ((this.st.mode & linux.S_IFMT) === linux.S_IFLNK) throw linuxerr.EOPNOTSUPP;
      h.chmod(p, a.mode & 0o7777);
    }
    if (a.uid !== undefined || a.gid !== undefined) h.lchown(p, a.uid ?? this.st.uid, a.gid ?? this.st.gid);
    if (a.atime || a.mtime) h.lutimes(p, a.atime ?? this.st.atime, a.mtime ?? this.st.mtime);
    this.refresh();
  }
}
