// AF_NETLINK sockets (Linux's net/netlink/af_netlink.c): requests go to the
// kernel side synchronously at sendmsg, and the replies (acks, errors, dump
// parts) wait in a queue of datagrams for recvmsg. Protocols: NETLINK_ROUTE
// (route.ts), NETLINK_SOCK_DIAG (diag.ts: `ss`) and NETLINK_KOBJECT_UEVENT,
// which never has anything to say (the sandbox has no device events). Others
// are EPROTONOSUPPORT, as in gVisor.
// Unicast between user sockets and multicast notifications are not modelled.

import * as linuxerr from '../../../abi/linux/errno.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import { EVENT_IN, EVENT_OUT } from '../../vfs/waiter.js';
import * as abi from '../abi.js';
import type { FileDescription } from '../../vfs/file_description.js';
import type { IOStatus } from '../socket.js';
import { BufferSink, BufferSource, RecvRequest, SendRequest, Socket, registerFamily } from '../socket.js';
import { stackFor } from '../netstack/stack.js';
import type { Message } from './message.js';
import { NLMSG_MIN_TYPE, NLM_F_ACK, NLM_F_REQUEST, doneMessage, errorMessage, parseMessages } from './message.js';
import { RouteError, processRoute } from './route.js';
import { NETLINK_SOCK_DIAG, processDiag } from './diag.js';
import { diagContext } from './diag_sandbox.js';

export const NETLINK_ROUTE = 0;
export const NETLINK_KOBJECT_UEVENT = 15;
const MAX_LINKS = 32;
export const SOL_NETLINK = 270;
const NETLINK_ADD_MEMBERSHIP = 1;
const NETLINK_DROP_MEMBERSHIP = 2;
const NETLINK_PKTINFO = 3;
const NETLINK_BROADCAST_ERROR = 4;
const NETLINK_NO_ENOBUFS = 5;
const NETLINK_LISTEN_ALL_NSID = 8;
const NETLINK_LIST_MEMBERSHIPS = 9;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const NETLINK_GET_STRICT_CHK = 12;
const SOCKADDR_NL_LEN = 12;
const CAP_NET_ADMIN = 12;
/** NLMSG_GOODSIZE on x86-64 (a page less skb overhead): what one dump datagram holds at least. */
const GOODSIZE = 3776;
/** Linux caps the remembered largest recvmsg buffer at 32 KiB when sizing dump datagrams. */
const MAX_DUMP = 32768;

/** Port ids in use, per kernel (the netlink namespace of the sandbox). */
const ports = new WeakMap<Kernel, Map<number, NetlinkSocket>>();

function portsOf(k: Kernel): Map<number, NetlinkSocket> {
  let m = ports.get(k);
  if (!m) {
    m = new Map();
    ports.set(k, m);
  }
  return m;
}

/** sockaddrNl encodes struct sockaddr_nl. */
export function sockaddrNl(pid: number, groups: number): Uint8Array {
  const b = new Uint8Array(SOCKADDR_NL_LEN);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, abi.AF_NETLINK, true);
  dv.setUint32(4, pid >>> 0, true);
  dv.setUint32(8, groups >>> 0, true);
  return b;
}

/** parseSockaddrNl decodes a sockaddr_nl (EINVAL if short or another family). */
export function parseSockaddrNl(raw: Uint8Array): { family: number; pid: number; groups: number } {
  if (raw.length < SOCKADDR_NL_LEN) throw linuxerr.EINVAL;
  const dv = new DataView(raw.buffer, raw.byteOffset, SOCKADDR_NL_LEN);
  return { family: dv.getUint16(0, true), pid: dv.getUint32(4, true), groups: dv.getUint32(8, true) };
}

export class NetlinkSocket extends Socket {
  readonly family = abi.AF_NETLINK;
  private readonly kernel: Kernel;
  /** portid is the bound port (nl_pid), 0 until bound. */
  portid = 0;
  private groups = 0;
  private dstPid = 0;
  private dstGroups = 0;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private maxRecvLen = 0;
  private readonly flags = new Map<number, boolean>();
  /** The opener's thread group id (the first port autobind tries) and its CAP_NET_ADMIN:
   *  Linux checks the capability against the socket file's credentials too. */
  private readonly openerPid: number;
  private readonly openerAdmin: boolean;

  constructor(t: Task, type: number, protocol: number) {
    super(t.creds, type, protocol);
    this.kernel = t.kernel;
    this.openerPid = t.tg.pid;
    this.openerAdmin = t.creds.hasCap(CAP_NET_ADMIN);
  }

  get isListening(): boolean {
    return false;
  }

  // ---- Names ----

  private claim(pid: number): void {
    const m = portsOf(this.kernel);
    if (m.has(pid)) throw linuxerr.EADDRINUSE;
    m.set(pid, this);
    this.portid = pid;
  }

  /** autobind picks a port: the thread group id first, then negative ids, as Linux does. */
  private autobind(t: Task | null): void {
    if (this.portid !== 0) return;
    const m = portsOf(this.kernel);
    let pid = t ? t.tg.pid : this.openerPid;
    for (let n = -4096; m.has(pid); n--) pid = n >>> 0;
    this.claim(pid);
  }

  bind(t: Task, raw: Uint8Array): void {
    const a = parseSockaddrNl(raw);
    if (a.family !== abi.AF_NETLINK) throw linuxerr.EINVAL;
    if (this.portid !== 0) {
      if (a.pid !== 0 && a.pid !== this.portid) throw linuxerr.EINVAL;
    } else if (a.pid !== 0) {
      this.claim(a.pid);
    } else {
      this.autobind(t);
    }
    this.groups = a.groups;
  }

  listen(): void {
    throw linuxerr.EOPNOTSUPP;
  }

  accept(): Socket {
    throw linuxerr.EOPNOTSUPP;
  }

  connect(t: Task, raw: Uint8Array): void {
    if (raw.length >= 2 && new DataView(raw.buffer, raw.byteOffset, 2).getUint16(0, true) === abi.AF_UNSPEC) {
      this.dstPid = 0;
      this.dstGroups = 0;
      return;
    }
    const a = parseSockaddrNl(raw);
    if (a.family !== abi.AF_NETLINK) throw linuxerr.EINVAL;
    if (a.groups && !t.creds.hasCap(CAP_NET_ADMIN)) throw linuxerr.EPERM;
    this.autobind(t);
    this.dstPid = a.pid;
    this.dstGroups = a.groups;
  }

  name(_t: Task, peer: boolean): Uint8Array {
    return peer ? sockaddrNl(this.dstPid, this.dstGroups) : sockaddrNl(this.portid, this.groups);
  }

  // ---- Data ----

  sendmsg(t: Task | null, req: SendRequest): IOStatus {
    let dst = this.dstPid;
    const admin = this.openerAdmin && (t === null || t.creds.hasCap(CAP_NET_ADMIN));
    if (req.to && req.to.length) {
      const a = parseSockaddrNl(req.to);
      if (a.family !== abi.AF_NETLINK) throw linuxerr.EINVAL;
      dst = a.pid;
      if (a.groups && !admin) throw linuxerr.EPERM;
    }
    if (dst !== 0) {
      // Messages between user sockets are not modelled.
      this.kernel.log.warnOnce('netlink:unicast', 'netlink: messages to user sockets are not supported (ECONNREFUSED)');
      throw linuxerr.ECONNREFUSED;
    }
    const len = req.src.remaining;
    if (len > this.opts.sndbuf - 32) throw linuxerr.EMSGSIZE;
    const data = len > 0 ? req.src.take(len) : new Uint8Array(0);
    this.autobind(t);
    req.sent = data.length;
    if (this.protocol === NETLINK_ROUTE || this.protocol === NETLINK_SOCK_DIAG) {
      for (const m of parseMessages(data)) this.handle(admin, m);
    }
    return 'done';
  }

  /** handle processes one request (netlink_rcv_skb + rtnetlink_rcv_msg). */
  private handle(admin: boolean, m: Message): void {
    const f = m.hdr.flags;
    if (!(f & NLM_F_REQUEST)) return;
    let errno = 0;
    if (m.hdr.type >= NLMSG_MIN_TYPE) {
      try {
        const log = this.kernel.log;
        const d = this.protocol === NETLINK_SOCK_DIAG ? processDiag(diagContext(this.kernel, admin), m, this.portid) : null;
        const r = d ?? processRoute({
          stack: stackFor(this.kernel),
          admin,
          strict: this.flags.get(NETLINK_GET_STRICT_CHK) ?? false,
          warn: (k, msg) => log.warnOnce(k, msg),
        }, m, this.portid);
        if (r.dump) {
          this.enqueueDump(r.msgs, d?.done ?? doneMessage(m.hdr.seq, this.portid));
          return; // a dump is never acked
        }
        for (const msg of r.msgs) this.enqueue([msg]);
      } catch (e) {
        if (!(e instanceof RouteError)) throw e;
        errno = e.errno;
      }
    }
    if (errno !== 0 || f & NLM_F_ACK) {
      this.enqueue([errorMessage(m, errno, this.portid, this.flags.get(NETLINK_CAP_ACK) ?? false)]);
    }
  }

  private enqueue(parts: Uint8Array[]): void {
    let n = 0;
    for (const p of parts) n += p.length;
    const d = new Uint8Array(n);
    let off = 0;
    for (const p of parts) {
      d.set(p, off);
      off += p.length;
    }
    this.queue.push(d);
    this.queued += d.length;
    this.waitQueue.notify(EVENT_IN);
  }

  /** enqueueDump packs a dump's messages into datagrams the size Linux's would be, DONE last. */
  private enqueueDump(msgs: Uint8Array[], done: Uint8Array): void {
    const limit = Math.max(GOODSIZE, Math.min(this.maxRecvLen, MAX_DUMP));
    let cur: Uint8Array[] = [];
    let size = 0;
    for (const m of [...msgs, done]) {
      if (size > 0 && size + m.length > limit) {
        this.enqueue(cur);
        cur = [];
        size = 0;
      }
      cur.push(m);
      size += m.length;
    }
    this.enqueue(cur);
  }

  recvmsg(_t: Task | null, req: RecvRequest): IOStatus {
    if (req.flags & abi.MSG_OOB) throw linuxerr.EOPNOTSUPP;
    const d = this.queue[0];
    if (d === undefined) {
      if (req.nonblock) throw linuxerr.EAGAIN;
      return 'wait';
    }
    this.maxRecvLen = Math.max(this.maxRecvLen, req.dst.length);
    const n = Math.min(d.length, req.dst.length);
    const c = n > 0 ? req.dst.put(d.subarray(0, n), 0) : 0;
    if (c < n && c === 0) throw linuxerr.EFAULT;
    req.copied = c;
    if (d.length > req.dst.length) req.msgFlags |= abi.MSG_TRUNC;
    if (req.flags & abi.MSG_TRUNC) req.result = d.length;
    req.from = sockaddrNl(0, 0);
    if (!(req.flags & abi.MSG_PEEK)) {
      this.queue.shift();
      this.queued -= d.length;
    }
    return 'done';
  }

  // ---- read(2) and write(2): one datagram each, never waiting (the generic path sleeps on EAGAIN) ----

  read(_fd: FileDescription, dst: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    const req = new RecvRequest(new BufferSink(dst), 0, true, 1);
    this.recvmsg(null, req);
    return req.value;
  }

  write(_fd: FileDescription, src: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    const req = new SendRequest(new BufferSource(src), null, 0, true);
    this.sendmsg(null, req);
    return req.sent;
  }

  shutdown(): void {
    throw linuxerr.EOPNOTSUPP;
  }

  readiness(mask: number): number {
    return mask & ((this.queue.length > 0 ? EVENT_IN : 0) | EVENT_OUT);
  }

  inq(): number {
    return this.queued;
  }

  outq(): number {
    return 0;
  }

  takeError(): number {
    return 0;
  }

  release(): void {
    const m = portsOf(this.kernel);
    if (this.portid !== 0 && m.get(this.portid) === this) m.delete(this.portid);
    this.queue.length = 0;
    this.queued = 0;
  }

  // ---- Options ----

  override protocolGetsockopt(t: Task, level: number, name: number): Uint8Array {
    if (level !== SOL_NETLINK) return super.protocolGetsockopt(t, level, name);
    switch (name) {
      case NETLINK_PKTINFO: case NETLINK_BROADCAST_ERROR: case NETLINK_NO_ENOBUFS: case NETLINK_LISTEN_ALL_NSID:
      case NETLINK_CAP_ACK: case NETLINK_EXT_ACK: case NETLINK_GET_STRICT_CHK:
        return int32(this.flags.get(name) ? 1 : 0);
      case NETLINK_LIST_MEMBERSHIPS:
        return int32(this.groups);
    }
    throw linuxerr.ENOPROTOOPT;
  }

  override protocolSetsockopt(t: Task, level: number, name: number, val: Uint8Array): void {
    if (level !== SOL_NETLINK) return super.protocolSetsockopt(t, level, name, val);
    if (val.length < 4) throw linuxerr.EINVAL;
    const v = new DataView(val.buffer, val.byteOffset, 4).getUint32(0, true);
    switch (name) {
      case NETLINK_ADD_MEMBERSHIP: case NETLINK_DROP_MEMBERSHIP:
        // Groups are recorded (sockaddr_nl's bitmap covers the first 32); no event is ever sent.
        if (v === 0) throw linuxerr.EINVAL;
        if (v <= 32) {
          const bit = (1 << (v - 1)) >>> 0;
          this.groups = (name === NETLINK_ADD_MEMBERSHIP ? this.groups | bit : this.groups & ~bit) >>> 0;
        }
        return;
      case NETLINK_PKTINFO: case NETLINK_BROADCAST_ERROR: case NETLINK_NO_ENOBUFS: case NETLINK_LISTEN_ALL_NSID:
      case NETLINK_CAP_ACK: case NETLINK_EXT_ACK: case NETLINK_GET_STRICT_CHK:
        this.flags.set(name, v !== 0);
        return;
    }
    throw linuxerr.ENOPROTOOPT;
  }
}

function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v | 0, true);
  return b;
}

/** newNetlinkSocket implements socket(AF_NETLINK, type, protocol). */
export function newNetlinkSocket(t: Task, type: number, protocol: number): Socket {
  if (type !== abi.SOCK_RAW && type !== abi.SOCK_DGRAM) throw linuxerr.ESOCKTNOSUPPORT;
  if (protocol < 0 || protocol >= MAX_LINKS) throw linuxerr.EPROTONOSUPPORT;
  if (protocol !== NETLINK_ROUTE && protocol !== NETLINK_KOBJECT_UEVENT && protocol !== NETLINK_SOCK_DIAG) {
    t.kernel.log.warnOnce(`netlink:${protocol}`, `netlink protocol ${protocol} is not supported (EPROTONOSUPPORT)`);
    throw linuxerr.EPROTONOSUPPORT;
  }
  return new NetlinkSocket(t, type, protocol);
}

registerFamily(abi.AF_NETLINK, { create: newNetlinkSocket });
