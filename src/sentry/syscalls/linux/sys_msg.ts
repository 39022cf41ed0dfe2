// System V message queues (msgget(2), msgsnd(2), msgrcv(2), msgctl(2);
// Linux's ipc/msg.c). A queue holds typed messages up to msg_qbytes bytes
// (and as many messages); senders wait for room and receivers for a message
// of the type they ask for, on the queue's wait queue.

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { IpcObject, IpcRegistry } from '../../kernel/ipc/ipc.js';
import {
  IPC_64, IPC_INFO, IPC_NOWAIT, IPC_PERM_SIZE, IPC_RMID, IPC_SET, IPC_STAT, S_IRUGO, S_IWUGO, checkAccess,
  checkOwner, encodePerm, newPerm, nowSec, registryOf, setPerm,
} from '../../kernel/ipc/ipc.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import { EVENT_IN, EVENT_OUT, WaitQueue } from '../../vfs/waiter.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { supported } from '../syscalls.js';

/** Linux's defaults (include/uapi/linux/msg.h). */
export const MSGMAX = 8192;
export const MSGMNB = 16384;
export const MSGMNI = 32000;
const MSGPOOL = (MSGMNI * MSGMNB) / 1024;
const MSGTQL = MSGMNB;
const MSGMAP = MSGMNB;
const MSGSSZ = 16;
const MSGSEG = 0xffff;
const CAP_SYS_RESOURCE = 24;

const MSG_STAT = 11;
const MSG_INFO = 12;
const MSG_STAT_ANY = 13;
const MSG_NOERROR = 0o10000;
const MSG_EXCEPT = 0o20000;
const MSG_COPY = 0o40000;

/** sizeof(struct msqid64_ds) and struct msginfo on x86-64. */
const MSQID_DS_SIZE = 120;
const MSGINFO_SIZE = 32;

interface Message {
  type: bigint;
  text: Uint8Array;
}

export interface MsgQueue extends IpcObject {
  messages: Message[];
  cbytes: number;
  qbytes: number;
  lspid: number;
  lrpid: number;
  stime: number;
  rtime: number;
  ctime: number;
  removed: boolean;
  /** EVENT_IN: a message arrived; EVENT_OUT: room was made (or the queue went away). */
  readonly waitQueue: WaitQueue;
}

type Registry = IpcRegistry<MsgQueue>;

function registry(k: Kernel): Registry {
  return registryOf<MsgQueue>(k, 'msg', MSGMNI);
}

/** msgget implements Linux syscall msgget(2). */
export function msgget(t: Task, a: SyscallArgs): number {
  const key = a.int(0);
  const flag = a.int(1);
  const r = registry(t.kernel);
  return r.lookup(t, key, flag, () => {}, () => {
    const [index, id] = r.allocId();
    return {
      id, index, ...newPerm(t, key, flag), messages: [], cbytes: 0, qbytes: MSGMNB, lspid: 0, lrpid: 0, stime: 0,
      rtime: 0, ctime: nowSec(), removed: false, waitQueue: new WaitQueue(),
    };
  });
}

/** waitOn waits for q to change; a signal fails it with ERESTARTNOHAND
 *  (msgsnd and msgrcv are not restarted after a handler). */
async function waitOn(t: Task, q: MsgQueue, ev: number): Promise<void> {
  try {
    await t.block(q.waitQueue, ev);
  } catch (e) {
    throw e === linuxerr.ERESTARTSYS ? linuxerr.ERESTARTNOHAND : e;
  }
}

/** msgsnd implements Linux syscall msgsnd(2). */
export function msgsnd(t: Task, a: SyscallArgs): number | Promise<number> {
  const id = a.int(0);
  const addr = a.ptr(1);
  const size = a.int64(2);
  const flag = a.int(3);
  const type = t.mm.copyIn(addr, 8);
  const mtype = new DataView(type.buffer, type.byteOffset, 8).getBigInt64(0, true);
  if (size > MSGMAX || size < 0 || id < 0) throw linuxerr.EINVAL;
  if (mtype < 1n) throw linuxerr.EINVAL;
  const text = t.mm.copyIn(addr + 8, size).slice();
  const q = registry(t.kernel).byId(id);
  checkAccess(t, q, S_IWUGO);
  const pid = t.tg.pid;
  const trySend = (): number | null => {
    if (q.removed) throw linuxerr.EIDRM;
    if (q.cbytes + size > q.qbytes || q.messages.length + 1 > q.qbytes) return null;
    q.messages.push({ type: mtype, text });
    q.cbytes += size;
    q.lspid = pid;
    q.stime = nowSec();
    q.waitQueue.notify(EVENT_IN);
    return 0;
  };
  const r = trySend();
  if (r !== null) return r;
  if (flag & IPC_NOWAIT) throw linuxerr.EAGAIN;
  return (async () => {
    for (;;) {
      await waitOn(t, q, EVENT_OUT);
      const r2 = trySend();
      if (r2 !== null) return r2;
    }
  })();
}

/** findMessage returns the index of the message msgrcv's msgtyp selects, or -1. */
function findMessage(q: MsgQueue, typ: bigint, flag: number): number {
  const m = q.messages;
  if (flag & MSG_COPY) return typ >= 0n && typ < BigInt(m.length) ? Number(typ) : -1;
  if (typ === 0n) return m.length ? 0 : -1;
  if (typ > 0n) {
    const except = (flag & MSG_EXCEPT) !== 0;
    return m.findIndex((x) => (x.type === typ) !== except);
  }
  let best = -1;
  for (let i = 0; i < m.length; i++) {
    if (m[i].type <= -typ && (best < 0 || m[i].type < m[best].type)) best = i;
  }
  return best;
}

/** msgrcv implements Linux syscall msgrcv(2). */
export function msgrcv(t: Task, a: SyscallArgs): number | Promise<number> {
  const id = a.int(0);
  const addr = a.ptr(1);
  const size = a.int64(2);
  const typ = a.u64(3);
  const flag = a.int(4);
  const mtyp = BigInt.asIntN(64, typ);
  if (id < 0 || size < 0) throw linuxerr.EINVAL;
  if ((flag & MSG_COPY) && ((flag & MSG_EXCEPT) || !(flag & IPC_NOWAIT))) throw linuxerr.EINVAL;
  const q = registry(t.kernel).byId(id);
  checkAccess(t, q, S_IRUGO);
  const pid = t.tg.pid;
  const tryRecv = (): number | null => {
    if (q.removed) throw linuxerr.EIDRM;
    const i = findMessage(q, mtyp, flag);
    if (i < 0) {
      if (flag & IPC_NOWAIT) throw linuxerr.ENOMSG;
      return null;
    }
    const m = q.messages[i];
    if (size < m.text.length && !(flag & MSG_NOERROR)) throw linuxerr.E2BIG;
    const n = Math.min(size, m.text.length);
    const out = new Uint8Array(8 + n);
    new DataView(out.buffer).setBigInt64(0, m.type, true);
    out.set(m.text.subarray(0, n), 8);
    t.mm.copyOut(addr, out);
    if (!(flag & MSG_COPY)) {
      q.messages.splice(i, 1);
      q.cbytes -= m.text.length;
      q.lrpid = pid;
      q.rtime = nowSec();
      q.waitQueue.notify(EVENT_OUT);
    }
    return n;
  };
  const r = tryRecv();
  if (r !== null) return r;
  return (async () => {
    for (;;) {
      await waitOn(t, q, EVENT_IN);
      const r2 = tryRecv();
      if (r2 !== null) return r2;
    }
  })();
}

function encodeMsqid(q: MsgQueue): Uint8Array {
  const b = new DataView(new ArrayBuffer(MSQID_DS_SIZE));
  encodePerm(b, q);
  const o = IPC_PERM_SIZE;
  b.setBigInt64(o, BigInt(q.stime), true);
  b.setBigInt64(o + 8, BigInt(q.rtime), true);
  b.setBigInt64(o + 16, BigInt(q.ctime), true);
  b.setBigUint64(o + 24, BigInt(q.cbytes), true);
  b.setBigUint64(o + 32, BigInt(q.messages.length), true);
  b.setBigUint64(o + 40, BigInt(q.qbytes), true);
  b.setInt32(o + 48, q.lspid, true);
  b.setInt32(o + 52, q.lrpid, true);
  return new Uint8Array(b.buffer);
}

function encodeMsginfo(r: Registry, info: boolean): Uint8Array {
  const b = new DataView(new ArrayBuffer(MSGINFO_SIZE));
  let pool = MSGPOOL;
  let map = MSGMAP;
  let tql = MSGTQL;
  if (!info) {
    // MSG_INFO: queues, messages and bytes in use.
    pool = r.byIndex.size;
    map = 0;
    tql = 0;
    for (const q of r.byIndex.values()) {
      map += q.messages.length;
      tql += q.cbytes;
    }
  }
  [pool, map, MSGMAX, MSGMNB, MSGMNI, MSGSSZ, tql].forEach((v, i) => b.setInt32(i * 4, v, true));
  b.setUint16(28, MSGSEG, true);
  return new Uint8Array(b.buffer);
}

/** msgctl implements Linux syscall msgctl(2). */
export function msgctl(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  const cmd = a.int(1) & ~IPC_64;
  const buf = a.ptr(2);
  const r = registry(t.kernel);
  switch (cmd) {
    case IPC_INFO:
    case MSG_INFO:
      t.mm.copyOut(buf, encodeMsginfo(r, cmd === IPC_INFO));
      return r.highestIndex();
    case MSG_STAT:
    case MSG_STAT_ANY: {
      const q = r.atIndex(id);
      if (cmd === MSG_STAT) checkAccess(t, q, S_IRUGO);
      t.mm.copyOut(buf, encodeMsqid(q));
      return q.id;
    }
    case IPC_STAT: {
      const q = r.byId(id);
      checkAccess(t, q, S_IRUGO);
      t.mm.copyOut(buf, encodeMsqid(q));
      return 0;
    }
    case IPC_SET: {
      const b = t.mm.copyIn(buf, MSQID_DS_SIZE);
      const v = new DataView(b.buffer, b.byteOffset, b.length);
      const q = r.byId(id);
      checkOwner(t, q);
      const qbytes = v.getBigUint64(IPC_PERM_SIZE + 40, true);
      if (qbytes > BigInt(MSGMNB) && !t.creds.hasCap(CAP_SYS_RESOURCE)) throw linuxerr.EPERM;
      q.qbytes = Number(qbytes);
      setPerm(v, q);
      q.ctime = nowSec();
      // A larger queue may let senders in.
      q.waitQueue.notify(EVENT_OUT);
      return 0;
    }
    case IPC_RMID: {
      const q = r.byId(id);
      checkOwner(t, q);
      r.remove(q);
      q.key = 0;
      q.removed = true;
      q.waitQueue.notify(EVENT_IN | EVENT_OUT);
      return 0;
    }
    default:
      throw linuxerr.EINVAL;
  }
}

/** msgQueues lists the sandbox's queues (for /proc/sysvipc/msg). */
export function msgQueues(k: Kernel): MsgQueue[] {
  return [...registry(k).byIndex.values()];
}

export const syscalls: SyscallEntries = {
  [SYSNO.msgget]: supported('msgget', msgget),
  [SYSNO.msgsnd]: supported('msgsnd', msgsnd),
  [SYSNO.msgrcv]: supported('msgrcv', msgrcv),
  [SYSNO.msgctl]: supported('msgctl', msgctl),
};
