// inotify: watches on inodes and the event queues of inotify instances. The
// VFS reports each completed operation once (vfs.ts, file_description.ts)
// through the notify* functions here; a watch on a directory also hears
// about its children, by name. Inodes are watched by identity, so file
// systems whose inodes are made afresh on each lookup (procfs) give no events.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import type { Task } from '../../kernel/task.js';
import type { FileDescription, FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import type { Inode } from '../../vfs/inode.js';
import { EVENT_IN, WaitQueue } from '../../vfs/waiter.js';

export const IN_ACCESS = 0x1;
export const IN_MODIFY = 0x2;
export const IN_ATTRIB = 0x4;
export const IN_CLOSE_WRITE = 0x8;
export const IN_CLOSE_NOWRITE = 0x10;
export const IN_OPEN = 0x20;
export const IN_MOVED_FROM = 0x40;
export const IN_MOVED_TO = 0x80;
export const IN_CREATE = 0x100;
export const IN_DELETE = 0x200;
export const IN_DELETE_SELF = 0x400;
export const IN_MOVE_SELF = 0x800;
export const IN_UNMOUNT = 0x2000;
export const IN_Q_OVERFLOW = 0x4000;
export const IN_IGNORED = 0x8000;
export const IN_ONLYDIR = 0x1000000;
export const IN_DONT_FOLLOW = 0x2000000;
export const IN_EXCL_UNLINK = 0x4000000;
export const IN_MASK_CREATE = 0x10000000;
export const IN_MASK_ADD = 0x20000000;
export const IN_ISDIR = 0x40000000;
export const IN_ONESHOT = 0x80000000;
export const IN_ALL_EVENTS = 0xfff;
export const IN_NONBLOCK = linux.O_NONBLOCK;
export const IN_CLOEXEC = linux.O_CLOEXEC;

/** Events a directory watch hears about its children (the rest are the directory's own). */
const CHILD_EVENTS = IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN |
  IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE;
/** Linux's default /proc/sys/fs/inotify/max_queued_events and max_user_watches. */
export const MAX_QUEUED_EVENTS = 16384;
const MAX_WATCHES = 65536;
const EVENT_SIZE = 16;

interface Watch {
  readonly inst: InotifyFile;
  readonly wd: number;
  readonly node: Inode;
  mask: number;
}

interface Event {
  wd: number;
  mask: number;
  cookie: number;
  name: Uint8Array | null;
  /** Record size: the header and the name padded with NULs to a multiple of 16. */
  size: number;
}

const watches = new WeakMap<Inode, Set<Watch>>();
/** Live watch count: the VFS skips all inotify work while it is 0. */
let live = 0;
let nextCookie = 1;

/** active reports whether any watch exists (the fast path's one check). */
export function active(): boolean {
  return live > 0;
}

/** newCookie returns a cookie tying an IN_MOVED_FROM to its IN_MOVED_TO. */
export function newCookie(): number {
  nextCookie = (nextCookie + 1) >>> 0 || 1;
  return nextCookie;
}

const enc = new TextEncoder();

function isDirNode(n: Inode): boolean {
  return (n.mode & linux.S_IFMT) === linux.S_IFDIR;
}

function deliver(node: Inode, mask: number, name: string | null, cookie: number, unlinked = false): void {
  const set = watches.get(node);
  if (!set) return;
  for (const w of [...set]) {
    if (!(w.mask & mask & (IN_ALL_EVENTS | IN_IGNORED))) continue;
    // IN_EXCL_UNLINK: a directory watch ignores children once they are unlinked.
    if (name !== null && unlinked && (w.mask & IN_EXCL_UNLINK)) continue;
    w.inst.queue(w.wd, mask & ~IN_ONESHOT, cookie, name);
    if (w.mask & IN_ONESHOT) removeWatch(w, true);
  }
}

/** notify reports mask on node (its own watches) and, when dir is given, to
 *  dir's watches under name. mask holds one event type (plus IN_ISDIR, added here). */
export function notify(dir: Inode | null, name: string, node: Inode | null, mask: number, cookie = 0): void {
  if (live === 0) return;
  const isdir = node && isDirNode(node) ? IN_ISDIR : 0;
  if (dir && node && !isdir && (mask & (IN_CREATE | IN_MOVED_TO | IN_OPEN))) names.set(node, { dir, name });
  if (dir && (mask & CHILD_EVENTS)) deliver(dir, mask | isdir, name, cookie, node ? !node.linked : false);
  if (node && (mask & ~(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))) deliver(node, mask | isdir, null, 0);
}

/** Where non-directories were last seen by name while watches existed (for
 *  attribute changes made by path or fd, which a parent watch also hears). */
const names = new WeakMap<Inode, { dir: Inode; name: string }>();

/** remember records that node is called name in dir. */
export function remember(dir: Inode, name: string, node: Inode): void {
  if (live > 0 && !isDirNode(node)) names.set(node, { dir, name });
}

/** notifyChange reports an attribute change (fsnotify_change) to node and its directory. */
export function notifyChange(node: Inode, mask: number): void {
  if (live === 0) return;
  if (isDirNode(node)) return notify(node.parent, node.name, node, mask);
  const p = node.linked ? names.get(node) : undefined;
  notify(p?.dir ?? null, p?.name ?? '', node, mask);
}

/** notifyFile reports an event on an open file (access, modify, close...). */
export function notifyFile(fd: FileDescription, mask: number): void {
  if (live === 0) return;
  const node = fileNode(fd);
  if (!node) return;
  const p = fd.notifyParent;
  if (p) notify(p.dir, p.name, node, mask);
  else notify(node.parent, node.name, node, mask);
}

function fileNode(fd: FileDescription): Inode | null {
  const loc = fd.dentry as { node: Inode } | null;
  return loc ? loc.node : null;
}

/** notifyGone reports that node lost its last name: IN_DELETE_SELF, then its watches go (IN_IGNORED). */
export function notifyGone(node: Inode): void {
  if (live === 0) return;
  const set = watches.get(node);
  if (!set) return;
  deliver(node, IN_DELETE_SELF, null, 0);
  for (const w of [...set]) removeWatch(w, true);
}

function removeWatch(w: Watch, ignored: boolean): void {
  const set = watches.get(w.node);
  if (!set || !set.delete(w)) return;
  live--;
  if (set.size === 0) watches.delete(w.node);
  w.inst.forget(w);
  if (ignored) w.inst.queue(w.wd, IN_IGNORED, 0, null);
}

/** InotifyFile is an inotify instance. */
export class InotifyFile implements FileDescriptionImpl {
  readonly waitQueue = new WaitQueue();
  private readonly byWd = new Map<number, Watch>();
  private readonly byNode = new Map<Inode, Watch>();
  private nextWd = 1;
  private events: Event[] = [];
  private head = 0;
  private bytes = 0;
  private readonly ino: number;

  constructor(ino: number) {
    this.ino = ino;
  }

  /** addWatch implements inotify_add_watch(2) once the path is resolved. */
  addWatch(node: Inode, mask: number): number {
    const old = this.byNode.get(node);
    const bits = mask & (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK | IN_ONLYDIR | IN_DONT_FOLLOW);
    if (old) {
      if (mask & IN_MASK_CREATE) throw linuxerr.EEXIST;
      old.mask = mask & IN_MASK_ADD ? old.mask | bits : bits;
      return old.wd;
    }
    if (live >= MAX_WATCHES) throw linuxerr.ENOSPC;
    const w: Watch = { inst: this, wd: this.nextWd++, node, mask: bits };
    this.byWd.set(w.wd, w);
    this.byNode.set(node, w);
    let set = watches.get(node);
    if (!set) watches.set(node, (set = new Set()));
    set.add(w);
    live++;
    return w.wd;
  }

  /** rmWatch implements inotify_rm_watch(2). */
  rmWatch(wd: number): void {
    const w = this.byWd.get(wd);
    if (!w) throw linuxerr.EINVAL;
    removeWatch(w, true);
  }

  forget(w: Watch): void {
    this.byWd.delete(w.wd);
    if (this.byNode.get(w.node) === w) this.byNode.delete(w.node);
  }

  /** queue appends an event, merging it with an identical last one, or
   *  IN_Q_OVERFLOW once the queue is full. */
  queue(wd: number, mask: number, cookie: number, name: string | null): void {
    const nb = name === null ? null : enc.encode(name);
    const last = this.events.length > this.head ? this.events[this.events.length - 1] : null;
    if (last && last.wd === wd && last.mask === mask && last.cookie === cookie && sameName(last.name, nb)) return;
    const count = this.events.length - this.head;
    if (count >= MAX_QUEUED_EVENTS) {
      if (last && last.mask === IN_Q_OVERFLOW) return;
      wd = -1;
      mask = IN_Q_OVERFLOW;
      cookie = 0;
    }
    const nameLen = nb === null || mask === IN_Q_OVERFLOW ? 0 : Math.ceil((nb.length + 1) / EVENT_SIZE) * EVENT_SIZE;
    const ev: Event = { wd, mask, cookie, name: mask === IN_Q_OVERFLOW ? null : nb, size: EVENT_SIZE + nameLen };
    this.events.push(ev);
    this.bytes += ev.size;
    this.waitQueue.notify(EVENT_IN);
  }

  read(_fd: FileDescription, dst: Uint8Array): number {
    if (this.head === this.events.length) throw linuxerr.EAGAIN;
    if (this.events[this.head].size > dst.length) throw linuxerr.EINVAL;
    const v = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
    let off = 0;
    while (this.head < this.events.length) {
      const e = this.events[this.head];
      if (off + e.size > dst.length) break;
      v.setInt32(off, e.wd, true);
      v.setUint32(off + 4, e.mask >>> 0, true);
      v.setUint32(off + 8, e.cookie, true);
      v.setUint32(off + 12, e.size - EVENT_SIZE, true);
      dst.fill(0, off + EVENT_SIZE, off + e.size);
      if (e.name) dst.set(e.name, off + EVENT_SIZE);
      off += e.size;
      this.bytes -= e.size;
      this.head++;
    }
    if (this.head === this.events.length) {
      this.events = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
    return off;
  }

  readiness(mask: number): number {
    return this.head < this.events.length ? mask & EVENT_IN : 0;
  }

  ioctl(t: Task, _fd: FileDescription, cmd: number, arg: number): number {
    if (cmd === 0x541b /* FIONREAD */) {
      t.mm.writeI32(arg, this.bytes);
      return 0;
    }
    throw linuxerr.ENOTTY;
  }

  stat(): Stat {
    const z = { sec: 0, nsec: 0 };
    return { dev: 0, ino: this.ino, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0,
      atime: z, mtime: z, ctime: z };
  }

  release(): void {
    for (const w of [...this.byWd.values()]) removeWatch(w, false);
  }
}

function sameName(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
