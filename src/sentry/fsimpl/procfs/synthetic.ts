// Synthetic inodes for procfs: directories whose entries are computed on
// lookup, files whose content is generated at open (a snapshot the reader
// sees whole), and symlinks whose targets are computed (or "magic": leading
// straight to an object, as /proc/[pid]/fd/N and cwd do).
//
// Nodes are made afresh on each lookup (processes come and go); a path always
// gets the same inode number from ProcFS.inoFor.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import type { DirEntry, Stat, Timespec } from '../../vfs/file_description.js';
import type { Caller, FileSystem, Opened, SetAttr, Statfs } from '../../vfs/inode.js';
import { Inode, allocAnonDev, now } from '../../vfs/inode.js';
import { SnapshotImpl } from '../../vfs/impls.js';
import type { Loc } from '../../vfs/mount.js';

export const PROC_SUPER_MAGIC = 0x9fa0;

/** Owner returns a node's uid and gid (a process's files belong to its user). */
export type Owner = () => [number, number];
const rootOwner: Owner = () => [0, 0];

export class ProcFS implements FileSystem {
  readonly type: string;
  readonly source: string;
  readonly options = '';
  /** magic is statfs's f_type (other synthetic file systems reuse this class: cgroupfs). */
  private readonly magic: number;

  constructor(o: { type?: string; source?: string; magic?: number } = {}) {
    this.type = o.type ?? 'proc';
    this.source = o.source ?? 'proc';
    this.magic = o.magic ?? PROC_SUPER_MAGIC;
  }
  readonly dev = allocAnonDev();
  root!: SynthDir;
  private readonly inos = new Map<string, number>();
  private nextIno = 1;
  /** Nodes kept as they are because something is mounted on them (masked and
   *  read-only paths): a mount is attached to an inode object. */
  private readonly pinned = new Map<string, SynthNode>();

  /** pin makes every later lookup of node's path return node itself. */
  pin(node: Inode): void {
    if (node instanceof SynthNode && node.fs === this) this.pinned.set(node.key, node);
  }

  /** pinnedAt returns the pinned node at key, if any. */
  pinnedAt(key: string): SynthNode | undefined {
    return this.pinned.size ? this.pinned.get(key) : undefined;
  }

  /** inoFor returns the inode number of the node at key (its path under /proc). */
  inoFor(key: string): number {
    let n = this.inos.get(key);
    if (n === undefined) {
      n = this.nextIno++;
      this.inos.set(key, n);
    }
    return n;
  }

  statfs(): Statfs {
    return { type: this.magic, bsize: 4096, frsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0,
      namelen: linux.NAME_MAX, flags: 0 };
  }
}

export abstract class SynthNode extends Inode {
  readonly fs: ProcFS;
  readonly ino: number;
  readonly key: string;
  protected readonly mode_: number;
  readonly owner: Owner;
  private readonly time: Timespec = now();

  constructor(fs: ProcFS, key: string, mode: number, owner: Owner) {
    super();
    this.fs = fs;
    this.key = key;
    this.ino = fs.inoFor(key);
    this.mode_ = mode;
    this.owner = owner;
  }

  get mode(): number {
    return this.mode_;
  }
  get uid(): number {
    return this.owner()[0];
  }
  get gid(): number {
    return this.owner()[1];
  }

  protected size(): number {
    return 0;
  }

  stat(): Stat {
    const [uid, gid] = this.owner();
    const dir = (this.mode_ & linux.S_IFMT) === linux.S_IFDIR;
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode_, nlink: dir ? 2 : 1, uid, gid, rdev: 0, size: this.size(),
      blksize: 1024, blocks: 0, atime: this.time, mtime: this.time, ctime: this.time,
    };
  }
}

/** Spec makes the node for one directory entry. */
export type Spec = (parent: SynthDir, name: string) => Inode;

/** DirOps computes a directory's entries. */
export interface DirOps {
  lookup(c: Caller, name: string, dir: SynthDir): Inode | null;
  names(c: Caller, dir: SynthDir): string[];
}

export class SynthDir extends SynthNode {
  private readonly ops: DirOps;

  constructor(fs: ProcFS, key: string, mode: number, owner: Owner, parent: Inode | null, name: string, ops: DirOps) {
    super(fs, key, linux.S_IFDIR | mode, owner);
    this.parent = parent;
    this.name = name;
    this.ops = ops;
  }

  override lookup(c: Caller, name: string): Inode | null {
    const n = this.ops.lookup(c, name, this);
    return (n instanceof SynthNode && this.fs.pinnedAt(n.key)) || n;
  }

  override readdir(c: Caller): DirEntry[] {
    const out: DirEntry[] = [];
    for (const name of this.ops.names(c, this)) {
      const n = this.ops.lookup(c, name, this);
      if (n) out.push({ name, ino: n.ino, type: linux.dtype(n.mode) });
    }
    return out;
  }

  childKey(name: string): string {
    return this.key + '/' + name;
  }
}

/** tableOps serves a fixed table of entries. */
export function tableOps(table: Record<string, Spec>): DirOps {
  return {
    lookup: (c, name, dir) => {
      void c;
      const s = Object.hasOwn(table, name) ? table[name] : undefined;
      return s ? s(dir, name) : null;
    },
    names: () => Object.keys(table),
  };
}

export type Gen = (c: Caller) => string | Uint8Array;
export type Writer = (c: Caller, src: Uint8Array) => number;

/** How a file without a writer refuses writes, as Linux's proc files do:
 *  sysctls refuse the open (EACCES, even to root); other files open (the mode
 *  decides) and fail each write: top-level files with EIO, per-process ones with EINVAL. */
export type NoWrite = 'open' | 'eio' | 'einval';

export class SynthFile extends SynthNode {
  private readonly gen: Gen;
  private readonly writer: Writer | null;
  private readonly noWrite: NoWrite;

  constructor(fs: ProcFS, key: string, mode: number, owner: Owner, gen: Gen, writer: Writer | null,
    noWrite: NoWrite = 'eio') {
    super(fs, key, linux.S_IFREG | mode, owner);
    this.gen = gen;
    this.writer = writer;
    this.noWrite = noWrite;
  }

  /** setattr: like Linux's proc_setattr, a mode change is refused and the
   *  rest (O_TRUNC's size, times) is accepted and has no effect, so that a
   *  shell's `echo 5 > /proc/self/oom_score_adj` opens. */
  override setattr(c: Caller, a: SetAttr): void {
    void c;
    if (a.mode !== undefined || a.uid !== undefined || a.gid !== undefined) throw linuxerr.EPERM;
  }

  override open(c: Caller, flags: number, statAs: Inode): Opened {
    const writes = (flags & linux.O_ACCMODE) !== linux.O_RDONLY;
    if (writes && !this.writer && this.noWrite === 'open') throw linuxerr.EACCES;
    const g = this.gen(c);
    const data = typeof g === 'string' ? Buffer.from(g) : g;
    const w = this.writer;
    const err = this.noWrite === 'einval' ? linuxerr.EINVAL : linuxerr.EIO;
    return new SnapshotImpl(data, statAs, w ? (src) => w(c, src) : () => {
      throw err;
    });
  }
}

export class SynthLink extends SynthNode {
  private readonly target: (c: Caller) => string;
  private readonly magic: ((c: Caller) => Loc | null) | null;

  private readonly size_: number;

  /** perm and size: /proc/[pid]/fd/N links show the file's access mode and size 64. */
  constructor(fs: ProcFS, key: string, owner: Owner, target: (c: Caller) => string,
    magic: ((c: Caller) => Loc | null) | null, perm = 0o777, size = 0) {
    super(fs, key, linux.S_IFLNK | perm, owner);
    this.target = target;
    this.magic = magic;
    this.size_ = size;
  }

  protected override size(): number {
    return this.size_;
  }

  override readlink(c: Caller): string {
    return this.target(c);
  }

  override magicLink(c: Caller): Loc | null {
    return this.magic ? this.magic(c) : null;
  }
}

/** file makes a Spec for a generated file. */
export function file(gen: Gen, mode = 0o444, owner: Owner | null = null, writer: Writer | null = null,
  noWrite: NoWrite = 'eio'): Spec {
  return (parent, name) => new SynthFile(parent.fs, parent.childKey(name), mode, owner ?? parent.owner, gen, writer,
    noWrite);
}

/** text makes a Spec for a file with fixed content. */
export function text(s: string, noWrite: NoWrite = 'eio'): Spec {
  return file(() => s, 0o444, null, null, noWrite);
}

/** sysctl makes a Spec for a read-only /proc/sys file. */
export function sysctl(gen: Gen): Spec {
  return file(gen, 0o444, null, null, 'open');
}

/** dir makes a Spec for a directory of fixed entries. */
export function dir(table: Record<string, Spec>, mode = 0o555, owner: Owner | null = null): Spec {
  const ops = tableOps(table);
  return (parent, name) => new SynthDir(parent.fs, parent.childKey(name), mode, owner ?? parent.owner, parent, name, ops);
}

/** dynDir makes a Spec for a directory with computed entries. */
export function dynDir(ops: DirOps, mode = 0o555, owner: Owner | null = null): Spec {
  return (parent, name) => new SynthDir(parent.fs, parent.childKey(name), mode, owner ?? parent.owner, parent, name, ops);
}

/** link makes a Spec for a symlink. */
export function link(target: (c: Caller) => string, magic: ((c: Caller) => Loc | null) | null = null,
  owner: Owner | null = null): Spec {
  return (parent, name) => new SynthLink(parent.fs, parent.childKey(name), owner ?? parent.owner, target, magic);
}

export { rootOwner };
