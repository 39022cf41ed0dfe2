// mqueue: POSIX message queues (Linux's ipc/mqueue.c) and the file system
// that shows them (/dev/mqueue where something mounts it). A queue is a file
// of the IPC namespace's mqueue root: mq_open(2) opens or creates one there,
// as open(2) on a mount does; reading it gives its status line. The sandbox
// is one IPC namespace, so every mount shows the same queues.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import type { DirEntry, FileDescription, FileDescriptionImpl, Stat, Timespec } from '../../vfs/file_description.js';
import { emptyStat } from '../../vfs/file_description.js';
import type { Caller, FileSystem, Opened, SetAttr, Statfs } from '../../vfs/inode.js';
import { Inode, allocAnonDev, now } from '../../vfs/inode.js';
import { CAP_FOWNER, hasCap } from '../../vfs/permissions.js';
import { isTask } from '../../vfs/special.js';
import { EVENT_IN, EVENT_OUT, WaitQueue } from '../../vfs/waiter.js';

/** MQUEUE_MAGIC is statfs's f_type of mqueue (include/uapi/linux/magic.h). */
export const MQUEUE_MAGIC = 0x19800202;
/** Linux's defaults (/proc/sys/fs/mqueue) and hard limits. */
export const DFLT_MSGMAX = 10;
export const DFLT_MSGSIZEMAX = 8192;
export const DFLT_QUEUESMAX = 256;
export const HARD_MSGMAX = 65536;
export const HARD_MSGSIZEMAX = 16 * 1024 * 1024;
export const MQ_PRIO_MAX = 32768;
/** Every queue file reports this size (FILENT_SIZE). */
const FILENT_SIZE = 80;

const RLIMIT_MSGQUEUE = 12;
/** sizeof(struct msg_msg) and of struct posix_msg_tree_node on x86-64: Linux
 *  charges a queue's bookkeeping to RLIMIT_MSGQUEUE along with its bytes. */
const MSG_MSG_SIZE = 48;
const MSG_TREE_NODE_SIZE = 48;

/** queueBytes is what a queue of maxmsg messages of msgsize bytes costs against RLIMIT_MSGQUEUE. */
export function queueBytes(maxmsg: number, msgsize: number): number {
  return maxmsg * MSG_MSG_SIZE + Math.min(maxmsg, MQ_PRIO_MAX) * MSG_TREE_NODE_SIZE + maxmsg * msgsize;
}

/** Bytes of live queues charged to each real uid (mq_overview(7)). */
const chargedBytes = new Map<number, number>();

function uncharge(uid: number, bytes: number): void {
  const left = (chargedBytes.get(uid) ?? 0) - bytes;
  if (left > 0) chargedBytes.set(uid, left);
  else chargedBytes.delete(uid);
}

export const SIGEV_SIGNAL = 0;
export const SIGEV_NONE = 1;
export const SIGEV_THREAD = 2;

interface Message {
  prio: number;
  data: Uint8Array;
}

/** Notification is an mq_notify registration. */
export interface Notification {
  /** The registering process (Linux's notify_owner), opaque here. */
  owner: object;
  ownerPid: number;
  notify: number;
  signo: number;
  /** sigev_value, as 8 raw bytes. */
  value: Uint8Array;
}

/** MessageQueue is the queue behind one file. */
export class MessageQueue {
  readonly waitQueue = new WaitQueue();
  private readonly msgs: Message[] = [];
  /** Sum of the message sizes (QSIZE). */
  qsize = 0;
  notification: Notification | null = null;
  /** Receivers waiting now (a notification is sent only when none is). */
  receivers = 0;
  /** deliver sends a notification (set by the syscall layer, which knows signals). */
  static deliver: ((n: Notification, senderPid: number, senderUid: number) => void) | null = null;

  constructor(readonly maxmsg: number, readonly msgsize: number) {}

  get curmsgs(): number {
    return this.msgs.length;
  }

  /** send queues data behind the messages of the same or higher priority;
   *  EAGAIN when full. The caller checked the size. */
  send(data: Uint8Array, prio: number, pid: number, uid: number): void {
    if (this.msgs.length >= this.maxmsg) throw linuxerr.EAGAIN;
    let i = this.msgs.length;
    while (i > 0 && this.msgs[i - 1].prio < prio) i--;
    this.msgs.splice(i, 0, { prio, data });
    this.qsize += data.length;
    if (this.msgs.length === 1 && this.receivers === 0 && this.notification) {
      const n = this.notification;
      this.notification = null;
      MessageQueue.deliver?.(n, pid, uid);
    }
    this.waitQueue.notify(EVENT_IN);
  }

  /** receive takes the oldest message of the highest priority; EAGAIN when empty. */
  receive(): Message {
    const m = this.msgs.shift();
    if (!m) throw linuxerr.EAGAIN;
    this.qsize -= m.data.length;
    this.waitQueue.notify(EVENT_OUT);
    return m;
  }

  readiness(mask: number): number {
    let r = 0;
    if (this.msgs.length > 0) r |= EVENT_IN;
    if (this.msgs.length < this.maxmsg) r |= EVENT_OUT;
    return r & mask;
  }

  /** statusText is what reading the queue's file gives. */
  statusText(): string {
    const n = this.notification;
    const pad = (v: number, w: number) => String(v).padEnd(w);
    return `QSIZE:${pad(this.qsize, 10)} NOTIFY:${pad(n ? n.notify : 0, 5)} ` +
      `SIGNO:${pad(n && n.notify === SIGEV_SIGNAL ? n.signo : 0, 5)} NOTIFY_PID:${pad(n ? n.ownerPid : 0, 6)}\n`;
  }
}

/** MqFile is an open queue (from mq_open or open). */
export class MqFile implements FileDescriptionImpl {
  private released = false;

  constructor(readonly node: QueueInode) {
    node.opens++;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.node.opens--;
    this.node.maybeFree();
  }

  get queue(): MessageQueue {
    return this.node.queue;
  }

  get waitQueue(): WaitQueue {
    return this.node.queue.waitQueue;
  }

  read(fd: FileDescription, dst: Uint8Array, offset: number): number {
    const text = Buffer.from(this.queue.statusText());
    const pos = offset === -1 ? fd.offset : offset;
    if (pos >= text.length) return 0;
    const n = Math.min(dst.length, text.length - pos);
    dst.set(text.subarray(pos, pos + n));
    if (offset === -1) fd.offset += n;
    this.node.atime = now();
    return n;
  }

  seek(fd: FileDescription, offset: number, whence: number): number {
    let n: number;
    if (whence === linux.SEEK_SET) n = offset;
    else if (whence === linux.SEEK_CUR) n = fd.offset + offset;
    else if (whence === linux.SEEK_END) n = FILENT_SIZE + offset;
    else throw linuxerr.EINVAL;
    if (n < 0) throw linuxerr.EINVAL;
    fd.offset = n;
    return n;
  }

  stat(): Stat {
    return this.node.stat();
  }

  readiness(mask: number): number {
    return this.queue.readiness(mask);
  }
}

let nextIno = 2;

/** QueueInode is a queue's file. */
export class QueueInode extends Inode {
  readonly ino = nextIno++;
  atime: Timespec = now();
  mtime: Timespec;
  ctime: Timespec;
  private mode_: number;
  private uid_: number;
  private gid_: number;
  /** Open descriptions and whether a name remains: the charge goes with both (Linux's evict). */
  opens = 0;
  unlinked = false;
  /** The RLIMIT_MSGQUEUE charge: real uid and bytes (null once returned). */
  charge: { uid: number; bytes: number } | null = null;

  constructor(readonly fs: FileSystem, readonly queue: MessageQueue, mode: number, uid: number, gid: number) {
    super();
    this.mode_ = linux.S_IFREG | (mode & 0o7777);
    this.uid_ = uid;
    this.gid_ = gid;
    this.mtime = this.atime;
    this.ctime = this.atime;
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

  stat(): Stat {
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode_, nlink: 1, uid: this.uid_, gid: this.gid_, rdev: 0,
      size: FILENT_SIZE, blksize: 4096, blocks: 0, atime: this.atime, mtime: this.mtime, ctime: this.ctime,
    };
  }

  override setattr(c: Caller, a: SetAttr): void {
    void c;
    if (a.mode !== undefined) this.mode_ = linux.S_IFREG | (a.mode & 0o7777);
    if (a.uid !== undefined) this.uid_ = a.uid;
    if (a.gid !== undefined) this.gid_ = a.gid;
    this.ctime = now();
  }

  override open(c: Caller, flags: number): Opened {
    void c; void flags;
    return new MqFile(this);
  }

  /** maybeFree returns the charge once the queue has no name and no open file. */
  maybeFree(): void {
    if (!this.unlinked || this.opens > 0 || !this.charge) return;
    uncharge(this.charge.uid, this.charge.bytes);
    this.charge = null;
  }
}

/** MqueueRoot is the namespace's directory of queues: files only (Linux
 *  refuses mkdir, link and symlink here with EPERM). */
export class MqueueRoot extends Inode {
  readonly ino = 1;
  readonly queues = new Map<string, QueueInode>();
  private time: Timespec = now();

  constructor(readonly fs: MqueueFS) {
    super();
  }

  get mode(): number {
    return linux.S_IFDIR | 0o1777;
  }
  get uid(): number {
    return 0;
  }
  get gid(): number {
    return 0;
  }

  stat(): Stat {
    return emptyStat(this.fs.dev, this.ino, this.mode, 2, this.time);
  }

  override lookup(c: Caller, name: string): Inode | null {
    void c;
    return this.queues.get(name) ?? null;
  }

  override readdir(c: Caller): DirEntry[] {
    void c;
    return [...this.queues].map(([name, q]) => ({ name, ino: q.ino, type: linux.DT_REG }));
  }

  /** createQueue makes queue name (mode without umask applied yet: the caller did). */
  createQueue(c: Caller, name: string, mode: number, maxmsg: number, msgsize: number): QueueInode {
    if (this.queues.has(name)) throw linuxerr.EEXIST;
    // RLIMIT_MSGQUEUE: the creator's real uid pays for the queue until it goes.
    const uid = c.creds.uid;
    const bytes = queueBytes(maxmsg, msgsize);
    const limit = isTask(c) ? c.tg.rlimits[RLIMIT_MSGQUEUE]?.[0] ?? Infinity : Infinity;
    const total = (chargedBytes.get(uid) ?? 0) + bytes;
    if (total > limit) throw linuxerr.EMFILE;
    const q = new QueueInode(this.fs, new MessageQueue(maxmsg, msgsize), mode, c.creds.fsuid, c.creds.fsgid);
    chargedBytes.set(uid, total);
    q.charge = { uid, bytes };
    this.queues.set(name, q);
    this.time = now();
    return q;
  }

  /** create: open(O_CREAT) here makes a queue of the default size. */
  override create(c: Caller, name: string, mode: number): Inode {
    return this.createQueue(c, name, mode, DFLT_MSGMAX, DFLT_MSGSIZEMAX);
  }

  override unlink(c: Caller, name: string): void {
    const q = this.queues.get(name);
    if (!q) throw linuxerr.ENOENT;
    // The sticky bit: only the queue's owner (or CAP_FOWNER) removes it.
    if (c.creds.fsuid !== q.uid && c.creds.fsuid !== this.uid && !hasCap(c.creds, CAP_FOWNER)) throw linuxerr.EPERM;
    this.queues.delete(name);
    this.time = now();
    q.unlinked = true;
    q.maybeFree();
  }
}

/** The shared state of the sandbox's IPC namespace: one root for every mount. */
const namespaceDev = allocAnonDev();
let namespaceRoot: MqueueRoot | null = null;

/** MqueueFS is an mqueue mount's file system (all show the namespace's queues). */
export class MqueueFS implements FileSystem {
  readonly type = 'mqueue';
  readonly source = 'mqueue';
  readonly options = '';
  readonly dev = namespaceDev;
  readonly root: MqueueRoot;

  constructor() {
    this.root = namespaceRoot ?? (namespaceRoot = new MqueueRoot(this));
  }

  statfs(): Statfs {
    return { type: MQUEUE_MAGIC, bsize: 4096, frsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0,
      namelen: linux.NAME_MAX, flags: 0 };
  }
}

/** mqueueRoot is the namespace's directory of queues (mq_open's). */
export function mqueueRoot(): MqueueRoot {
  return new MqueueFS().root;
}
