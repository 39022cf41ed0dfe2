// POSIX message queues (mq_open(3) and friends; Linux's ipc/mqueue.c): the
// queues and their files are in fsimpl/mqueue; this file decodes arguments,
// checks permissions and waits.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import {
  DFLT_MSGMAX, DFLT_MSGSIZEMAX, DFLT_QUEUESMAX, HARD_MSGMAX, HARD_MSGSIZEMAX, MQ_PRIO_MAX, MessageQueue, MqFile,
  SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, mqueueRoot,
} from '../../fsimpl/mqueue/mqueue.js';
import type { Notification } from '../../fsimpl/mqueue/mqueue.js';
import { SI_MESGQ, sendToGroup } from '../../kernel/signals.js';
import type { Task } from '../../kernel/task.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';
import { readTimespec, realtimeNs } from '../../kernel/time.js';
import { FileDescription } from '../../vfs/file_description.js';
import { MAY_READ, MAY_WRITE, checkAccess } from '../../vfs/permissions.js';
import { EVENT_IN, EVENT_OUT } from '../../vfs/waiter.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';
import { waitAny } from './sys_poll.js';
import { nofile } from './sys_pipe.js';

const CAP_SYS_RESOURCE = 24;
/** sizeof(struct mq_attr) and struct sigevent. */
const MQ_ATTR_SIZE = 64;
const SIGEVENT_SIZE = 64;

/** readName reads mq_open's name (glibc has stripped the leading '/'). */
function readName(t: Task, addr: number): string {
  const name = t.mm.copyInString(addr);
  if (name.length === 0) throw linuxerr.ENOENT;
  if (Buffer.byteLength(name) > linux.NAME_MAX) throw linuxerr.ENAMETOOLONG;
  // Linux looks the name up as one path component.
  if (name.includes('/') || name === '.' || name === '..') throw linuxerr.EACCES;
  return name;
}

/** mqOpen implements Linux syscall mq_open(2). */
export function mqOpen(t: Task, a: SyscallArgs): number {
  const name = readName(t, a.ptr(0));
  const oflag = a.int(1);
  const mode = a.uint(2);
  const attrAddr = a.ptr(3);
  if ((oflag & linux.O_ACCMODE) === (linux.O_RDWR | linux.O_WRONLY)) throw linuxerr.EINVAL;
  const root = mqueueRoot();
  let node = root.queues.get(name);
  if (node) {
    if ((oflag & linux.O_CREAT) && (oflag & linux.O_EXCL)) throw linuxerr.EEXIST;
  } else {
    if (!(oflag & linux.O_CREAT)) throw linuxerr.ENOENT;
    let maxmsg = DFLT_MSGMAX;
    let msgsize = DFLT_MSGSIZEMAX;
    if (attrAddr) {
      const b = t.mm.copyIn(attrAddr, MQ_ATTR_SIZE);
      const v = new DataView(b.buffer, b.byteOffset, b.length);
      const mx = v.getBigInt64(8, true);
      const ms = v.getBigInt64(16, true);
      if (mx <= 0n || ms <= 0n) throw linuxerr.EINVAL;
      const privileged = t.creds.hasCap(CAP_SYS_RESOURCE);
      if (mx > BigInt(privileged ? HARD_MSGMAX : DFLT_MSGMAX) || ms > BigInt(privileged ? HARD_MSGSIZEMAX : DFLT_MSGSIZEMAX)) {
        throw linuxerr.EINVAL;
      }
      maxmsg = Number(mx);
      msgsize = Number(ms);
    }
    if (root.queues.size >= DFLT_QUEUESMAX && !t.creds.hasCap(CAP_SYS_RESOURCE)) throw linuxerr.ENOSPC;
    node = root.createQueue(t, name, mode & 0o777 & ~t.fs.umask, maxmsg, msgsize);
    return install(t, node.open(t, oflag) as MqFile, oflag, name);
  }
  const acc = oflag & linux.O_ACCMODE;
  const may = acc === linux.O_RDONLY ? MAY_READ : acc === linux.O_WRONLY ? MAY_WRITE : MAY_READ | MAY_WRITE;
  checkAccess(t.creds, node, may);
  return install(t, node.open(t, oflag) as MqFile, oflag, name);
}

function install(t: Task, impl: MqFile, oflag: number, name: string): number {
  const f = new FileDescription(impl, oflag & (linux.O_ACCMODE | linux.O_NONBLOCK), '/' + name);
  try {
    // Queue descriptors are always close-on-exec.
    return t.fdTable.newFD(f, true, 0, nofile(t));
  } finally {
    f.decRef();
  }
}

/** mqUnlink implements Linux syscall mq_unlink(2). */
export function mqUnlink(t: Task, a: SyscallArgs): number {
  const name = readName(t, a.ptr(0));
  const root = mqueueRoot();
  if (!root.queues.has(name)) throw linuxerr.ENOENT;
  checkAccess(t.creds, root, MAY_WRITE);
  root.unlink(t, name);
  return 0;
}

/** queueOf returns the queue fd names; EBADF if it is not one. */
function queueOf(t: Task, fd: number): { f: FileDescription; impl: MqFile } {
  const f = t.fdTable.lookup(fd);
  if (!f || !(f.impl instanceof MqFile) || (f.flags & linux.O_PATH)) throw linuxerr.EBADF;
  return { f, impl: f.impl };
}

/** waitQueueChange waits until the queue reports ev or the absolute
 *  CLOCK_REALTIME deadline passes (ETIMEDOUT). Restarted after a handler
 *  with SA_RESTART (ERESTARTSYS). */
async function waitQueueChange(t: Task, q: MessageQueue, ev: number, deadline: bigint | null): Promise<void> {
  let ms = -1;
  if (deadline !== null) {
    const left = deadline - realtimeNs();
    if (left <= 0n) throw linuxerr.ETIMEDOUT;
    ms = Math.ceil(Number(left) / 1e6);
  }
  const woken = await waitAny(t, [{ queue: q.waitQueue, mask: ev }], ms);
  if (!woken && deadline !== null && realtimeNs() >= deadline) throw linuxerr.ETIMEDOUT;
}

/** mqTimedsend implements Linux syscall mq_timedsend(2). */
export function mqTimedsend(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const ptr = a.ptr(1);
  const len = a.sizeT(2);
  const prio = a.uint(3);
  const tsAddr = a.ptr(4);
  const deadline = tsAddr ? readTimespec(t.mm, tsAddr) : null;
  if (prio >= MQ_PRIO_MAX) throw linuxerr.EINVAL;
  const { f, impl } = queueOf(t, fd);
  if (!f.writable) throw linuxerr.EBADF;
  const q = impl.queue;
  if (len > q.msgsize) throw linuxerr.EMSGSIZE;
  const data = t.mm.copyIn(ptr, len).slice();
  const pid = t.tg.pid;
  const uid = t.creds.uid;
  const trySend = (): boolean => {
    if (q.curmsgs >= q.maxmsg) return false;
    q.send(data, prio, pid, uid);
    return true;
  };
  if (trySend()) return 0;
  if (f.nonblocking) throw linuxerr.EAGAIN;
  return (async () => {
    for (;;) {
      await waitQueueChange(t, q, EVENT_OUT, deadline);
      if (trySend()) return 0;
    }
  })();
}

/** mqTimedreceive implements Linux syscall mq_timedreceive(2). */
export function mqTimedreceive(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const ptr = a.ptr(1);
  const len = a.sizeT(2);
  const prioAddr = a.ptr(3);
  const tsAddr = a.ptr(4);
  const deadline = tsAddr ? readTimespec(t.mm, tsAddr) : null;
  const { f, impl } = queueOf(t, fd);
  if (!f.readable) throw linuxerr.EBADF;
  const q = impl.queue;
  if (len < q.msgsize) throw linuxerr.EMSGSIZE;
  const tryReceive = (): number | null => {
    if (q.curmsgs === 0) return null;
    const m = q.receive();
    t.mm.copyOut(ptr, m.data);
    if (prioAddr) t.mm.copyOut(prioAddr, u32(m.prio));
    return m.data.length;
  };
  const r = tryReceive();
  if (r !== null) return r;
  if (f.nonblocking) throw linuxerr.EAGAIN;
  return (async () => {
    q.receivers++;
    try {
      for (;;) {
        await waitQueueChange(t, q, EVENT_IN, deadline);
        const r2 = tryReceive();
        if (r2 !== null) return r2;
      }
    } finally {
      q.receivers--;
    }
  })();
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

/** deliverNotification sends an mq_notify signal (SI_MESGQ, with sigev_value). */
function deliverNotification(n: Notification, pid: number, uid: number): void {
  if (n.notify !== SIGEV_SIGNAL) return;
  const tg = n.owner as ThreadGroup;
  if (tg.exiting) return;
  const raw = new Uint8Array(128);
  const v = new DataView(raw.buffer);
  v.setInt32(0, n.signo, true);
  v.setInt32(8, SI_MESGQ, true);
  v.setInt32(16, pid, true);
  v.setUint32(20, uid, true);
  raw.set(n.value, 24);
  sendToGroup(tg, n.signo, { signo: n.signo, code: SI_MESGQ, pid, uid, status: 0, raw });
}
MessageQueue.deliver = deliverNotification;

/** mqNotify implements Linux syscall mq_notify(2). */
export function mqNotify(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const addr = a.ptr(1);
  let n: Notification | null = null;
  if (addr) {
    const b = t.mm.copyIn(addr, SIGEVENT_SIZE);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    const value = b.slice(0, 8);
    const signo = v.getInt32(8, true);
    const notify = v.getInt32(12, true);
    if (notify !== SIGEV_NONE && notify !== SIGEV_SIGNAL && notify !== SIGEV_THREAD) throw linuxerr.EINVAL;
    if (notify === SIGEV_SIGNAL && (signo < 1 || signo > 64)) throw linuxerr.EINVAL;
    if (notify === SIGEV_THREAD) {
      // glibc's SIGEV_THREAD passes a netlink socket to be sent a cookie:
      // Linux refuses anything else; netlink notification is not built.
      const s = t.fdTable.lookup(signo);
      if (!s) throw linuxerr.EBADF;
      if ((s.stat().mode & linux.S_IFMT) !== linux.S_IFSOCK) throw linuxerr.ENOTSOCK;
      t.kernel.log.warnOnce('mq:notify-thread', 'mq_notify SIGEV_THREAD (netlink notification): not implemented (EINVAL)');
      throw linuxerr.EINVAL;
    }
    n = { owner: t.tg, ownerPid: t.tg.pid, notify, signo, value };
  }
  const q = queueOf(t, fd).impl.queue;
  if (!n) {
    if (q.notification?.owner === t.tg) q.notification = null;
    return 0;
  }
  if (q.notification && !(q.notification.owner as ThreadGroup).exiting) throw linuxerr.EBUSY;
  q.notification = n;
  return 0;
}

/** mqGetsetattr implements Linux syscall mq_getsetattr(2). */
export function mqGetsetattr(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const newAddr = a.ptr(1);
  const oldAddr = a.ptr(2);
  let newFlags: bigint | null = null;
  if (newAddr) {
    const b = t.mm.copyIn(newAddr, MQ_ATTR_SIZE);
    newFlags = new DataView(b.buffer, b.byteOffset, b.length).getBigInt64(0, true);
    if (newFlags & ~BigInt(linux.O_NONBLOCK)) throw linuxerr.EINVAL;
  }
  const { f, impl } = queueOf(t, fd);
  const q = impl.queue;
  if (oldAddr) {
    const b = new DataView(new ArrayBuffer(MQ_ATTR_SIZE));
    b.setBigInt64(0, BigInt(f.flags & linux.O_NONBLOCK), true);
    b.setBigInt64(8, BigInt(q.maxmsg), true);
    b.setBigInt64(16, BigInt(q.msgsize), true);
    b.setBigInt64(24, BigInt(q.curmsgs), true);
    t.mm.copyOut(oldAddr, new Uint8Array(b.buffer));
  }
  if (newFlags !== null) f.flags = (f.flags & ~linux.O_NONBLOCK) | Number(newFlags);
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.mq_open]: supported('mq_open', mqOpen),
  [SYSNO.mq_unlink]: supported('mq_unlink', mqUnlink),
  [SYSNO.mq_timedsend]: supported('mq_timedsend', mqTimedsend),
  [SYSNO.mq_timedreceive]: supported('mq_timedreceive', mqTimedreceive),
  [SYSNO.mq_notify]: partial('mq_notify', mqNotify, 'no SIGEV_THREAD (netlink) notification'),
  [SYSNO.mq_getsetattr]: supported('mq_getsetattr', mqGetsetattr),
};
