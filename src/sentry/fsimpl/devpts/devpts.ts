// devpts: the /dev/pts file system. It holds "ptmx" (opening it makes a new
// pseudo-terminal) and one replica node N per terminal whose master is open.
// /dev/ptmx in devfs (character device 5:2) opens the devpts registered for
// the kernel's VFS; so do nodes of major 136 made elsewhere.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import type { Task } from '../../kernel/task.js';
import type { DirEntry, FileDescriptionImpl, Stat, Timespec } from '../../vfs/file_description.js';
import { FileDescription } from '../../vfs/file_description.js';
import type { Caller, FileSystem, Opened, SetAttr, Statfs } from '../../vfs/inode.js';
import { Inode, allocAnonDev, makeDev, now } from '../../vfs/inode.js';
import type { Loc } from '../../vfs/mount.js';
import type { PtyOwner } from './terminal.js';
import { MasterFile, Terminal, setOpenPeer } from './terminal.js';

export const DEVPTS_SUPER_MAGIC = 0x1cd1;
export const PTMX_MAJOR = 5;
export const PTMX_MINOR = 2;
export const PTS_MAJOR = 136;
/** Linux's default /proc/sys/kernel/pty/max. */
const PTY_MAX = 4096;
/** The tty group, as docker's devpts mount options give it. */
const TTY_GID = 5;

/** isTask tells a real task from a plain Caller (tests). */
function isTask(c: Caller): c is Task {
  return 'kernel' in c && 'tg' in c;
}

abstract class DevptsNode extends Inode {
  readonly fs: DevptsFS;
  readonly ino: number;
  protected mode_: number;
  protected uid_: number;
  protected gid_: number;
  protected atime: Timespec;
  protected mtime: Timespec;
  protected ctime: Timespec;

  constructor(fs: DevptsFS, ino: number, mode: number, uid: number, gid: number) {
    super();
    this.fs = fs;
    this.ino = ino;
    this.mode_ = mode;
    this.uid_ = uid;
    this.gid_ = gid;
    this.atime = this.mtime = this.ctime = now();
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

  protected rdev(): number {
    return 0;
  }

  stat(): Stat {
    const dir = (this.mode_ & linux.S_IFMT) === linux.S_IFDIR;
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode_, nlink: dir ? 2 : 1, uid: this.uid_, gid: this.gid_,
      rdev: this.rdev(), size: 0, blksize: 1024, blocks: 0, atime: this.atime, mtime: this.mtime, ctime: this.ctime,
    };
  }

  override setattr(c: Caller, attr: SetAttr): void {
    void c;
    if (attr.size !== undefined && (this.mode_ & linux.S_IFMT) === linux.S_IFDIR) throw linuxerr.EISDIR;
    if (attr.mode !== undefined) this.mode_ = (this.mode_ & linux.S_IFMT) | (attr.mode & 0o7777);
    if (attr.uid !== undefined) this.uid_ = attr.uid;
    if (attr.gid !== undefined) this.gid_ = attr.gid;
    if (attr.atime) this.atime = attr.atime;
    if (attr.mtime) this.mtime = attr.mtime;
    this.ctime = now();
  }
}

class RootDir extends DevptsNode {
  override lookup(c: Caller, name: string): Inode | null {
    void c;
    if (name === 'ptmx') return this.fs.ptmx;
    if (!/^(0|[1-9][0-9]*)$/.test(name)) return null;
    return this.fs.consoleNode(Number(name)) ?? this.fs.replicaNode(Number(name));
  }

  override readdir(c: Caller): DirEntry[] {
    void c;
    const out: DirEntry[] = [{ name: 'ptmx', ino: this.fs.ptmx.ino, type: linux.dtype(this.fs.ptmx.mode) }];
    const nodes = [...this.fs.replicaNodes(), ...this.fs.consoleNodes()].sort((a, b) => a.index - b.index);
    for (const n of nodes) out.push({ name: String(n.index), ino: n.ino, type: linux.dtype(n.mode) });
    return out;
  }
}

class PtmxNode extends DevptsNode {
  protected override rdev(): number {
    return makeDev(PTMX_MAJOR, PTMX_MINOR);
  }

  override open(c: Caller, flags: number, statAs: Inode): Opened {
    if (!isTask(c)) throw linuxerr.ENXIO;
    return this.fs.openMaster(c, flags, () => statAs.stat());
  }
}

/** ReplicaNode is /dev/pts/N. */
export class ReplicaNode extends DevptsNode {
  readonly term: Terminal;

  constructor(fs: DevptsFS, term: Terminal, uid: number) {
    super(fs, term.index + 3, linux.S_IFCHR | 0o620, uid, TTY_GID);
    this.term = term;
  }

  get index(): number {
    return this.term.index;
  }

  protected override rdev(): number {
    return makeDev(PTS_MAJOR, this.term.index);
  }

  override open(c: Caller, flags: number): Opened {
    if (!isTask(c)) throw linuxerr.ENXIO;
    return this.term.openReplica(c, flags);
  }
}

/** ConsoleNode is /dev/pts/N for a host terminal handed to the sandbox (a
 *  container's console, an exec'd process's terminal): runc gives the
 *  container a replica of its own devpts, and ttyname() looks for the
 *  terminal there (it compares stat of /dev/pts/N with fstat of the fd). */
export class ConsoleNode extends DevptsNode {
  constructor(fs: DevptsFS, readonly index: number, uid: number, private readonly reopen: (flags: number) => Opened) {
    super(fs, index + 3, linux.S_IFCHR | 0o620, uid, TTY_GID);
  }

  protected override rdev(): number {
    return makeDev(PTS_MAJOR, this.index);
  }

  override open(c: Caller, flags: number): Opened {
    void c;
    return this.reopen(flags);
  }
}

/** AttachedConsole is a host terminal's place in a devpts. */
export interface AttachedConsole {
  index: number;
  /** path is /dev/pts/N (where the kernel's devpts is mounted). */
  path: string;
  /** stat is what fstat of the terminal's descriptions reports: the node's. */
  stat: () => Stat;
  /** detach removes the node (the host terminal is gone). */
  detach: () => void;
  /** node is the /dev/pts/N node. */
  node: ConsoleNode;
}

export class DevptsFS implements FileSystem, PtyOwner {
  readonly type = 'devpts';
  readonly source = 'devpts';
  readonly options = 'gid=5,mode=620,ptmxmode=666';
  readonly dev = allocAnonDev();
  readonly root: RootDir;
  readonly ptmx: PtmxNode;
  /** Terminals by index, while either side is open. */
  private readonly terms = new Map<number, Terminal>();
  /** Replica nodes by index, while the master is open. */
  private readonly nodes = new Map<number, ReplicaNode>();
  /** Host terminals shown as replicas, by index (sharing the index space with terms). */
  private readonly consoles = new Map<number, ConsoleNode>();

  constructor() {
    this.root = new RootDir(this, 1, linux.S_IFDIR | 0o755, 0, 0);
    this.ptmx = new PtmxNode(this, 2, linux.S_IFCHR | 0o666, 0, 0);
  }

  statfs(): Statfs {
    return { type: DEVPTS_SUPER_MAGIC, bsize: 4096, frsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0,
      namelen: linux.NAME_MAX, flags: 0 };
  }

  replicaNode(index: number): ReplicaNode | null {
    return this.nodes.get(index) ?? null;
  }

  consoleNode(index: number): ConsoleNode | null {
    return this.consoles.get(index) ?? null;
  }

  consoleNodes(): ConsoleNode[] {
    return [...this.consoles.values()];
  }

  /** attachConsole gives a host terminal the lowest free /dev/pts/N; opening
   *  the node calls reopen with the open flags and the node's stat. */
  attachConsole(uid: number, reopen: (flags: number, stat: () => Stat) => Opened): AttachedConsole {
    const index = this.freeIndex();
    const node: ConsoleNode = new ConsoleNode(this, index, uid, (flags) => reopen(flags, stat));
    const stat = (): Stat => node.stat();
    this.consoles.set(index, node);
    return {
      index, path: `/dev/pts/${index}`, stat, node,
      detach: () => {
        if (this.consoles.get(index) === node) this.consoles.delete(index);
      },
    };
  }

  private freeIndex(): number {
    let index = 0;
    while (this.terms.has(index) || this.consoles.has(index)) index++;
    if (index >= PTY_MAX) throw linuxerr.ENOSPC;
    return index;
  }

  replicaNodes(): ReplicaNode[] {
    return [...this.nodes.values()].sort((a, b) => a.term.index - b.term.index);
  }

  terminal(index: number): Terminal | null {
    return this.terms.get(index) ?? null;
  }

  /** openMaster makes a new terminal (posix_openpt) at the lowest free index. */
  openMaster(t: Task, flags: number, statFn: () => Stat): FileDescriptionImpl {
    void flags;
    const index = this.freeIndex();
    const term = new Terminal(t.kernel, index, this);
    const node = new ReplicaNode(this, term, t.creds.fsuid);
    term.node = node;
    this.terms.set(index, term);
    this.nodes.set(index, node);
    return new MasterFile(term, statFn);
  }

  masterClosed(term: Terminal): void {
    if (this.nodes.get(term.index)?.term === term) this.nodes.delete(term.index);
  }

  released(term: Terminal): void {
    if (this.terms.get(term.index) === term) this.terms.delete(term.index);
  }
}

const registry = new WeakMap<object, DevptsFS>();

/** registerDevpts makes fs the devpts that /dev/ptmx of vfs opens. */
export function registerDevpts(vfs: object, fs: DevptsFS): void {
  registry.set(vfs, fs);
}

/** devptsOf returns the devpts of t's VFS, or null. */
export function devptsOf(t: Task): DevptsFS | null {
  return registry.get(t.kernel.vfs) ?? null;
}

/** devptsOfVFS returns the devpts registered for vfs, or null. */
export function devptsOfVFS(vfs: object): DevptsFS | null {
  return registry.get(vfs) ?? null;
}

/** Open flags Linux drops from a description's f_flags. */
const OPEN_ONLY_FLAGS = linux.O_CREAT | linux.O_EXCL | linux.O_NOCTTY | linux.O_TRUNC | linux.O_CLOEXEC;
const RLIMIT_NOFILE = 7;

// TIOCGPTPEER: open the replica without a path walk, at its place under /dev/pts when it is there.
setOpenPeer((t, term, flags) => {
  const impl = term.openReplica(t, flags);
  const path = `/dev/pts/${term.index}`;
  const f = new FileDescription(impl, (flags & ~OPEN_ONLY_FLAGS) | linux.O_LARGEFILE, path);
  try {
    const loc: Loc = t.kernel.vfs.lookup(t, linux.AT_FDCWD, path, false);
    if (loc.node === term.node) f.dentry = loc;
  } catch {
    // Not mounted where the caller looks: the file still works, without a place in the tree.
  }
  try {
    return t.fdTable.newFD(f, (flags & linux.O_CLOEXEC) !== 0, 0, t.tg.rlimits[RLIMIT_NOFILE][0]);
  } finally {
    f.decRef();
  }
});
