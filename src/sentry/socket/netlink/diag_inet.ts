// inet_diag (Linux's net/ipv4/inet_diag.c, tcp_diag.c, udp_diag.c): the
// AF_INET/AF_INET6 part of NETLINK_SOCK_DIAG. Requests are struct
// inet_diag_req_v2 (or the old struct inet_diag_req of TCPDIAG_GETSOCK);
// answers are struct inet_diag_msg records with the attributes the request's
// idiag_ext asks for, where the sandbox's stack can fill them honestly.
//
// Encoding works on InetSockInfo views (pure, unit-tested); inetSockInfos
// builds them from the stack through the inventory /proc/net/tcp also uses.

import type { Address, Stack } from '../../../netstack/index.js';
import { EVENT_HUP, EVENT_RDHUP, TCPEndpoint, encodeTcpInfo } from '../../../netstack/index.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import { PROTO_TCP, PROTO_UDP, inetEntries } from '../inventory.js';
import type { InetEntry } from '../inventory.js';
import type { BcEntry } from './diag_bytecode.js';
import { run } from './diag_bytecode.js';
import { MessageBuilder } from './message.js';

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** sizeof(struct inet_diag_req_v2), sizeof(struct inet_diag_req) (TCPDIAG_GETSOCK). */
export const REQ_V2_LEN = 56;
export const REQ_COMPAT_LEN = 60;
/** sizeof(struct inet_diag_msg). */
export const MSG_LEN = 72;
const SOCKID_LEN = 48;
/** INET_DIAG_NOCOOKIE: both cookie words all ones. */
const NOCOOKIE = 0xffffffff;

// Attributes of a request (INET_DIAG_REQ_*) and of an answer (INET_DIAG_*).
export const REQ_BYTECODE = 1;
export const REQ_PROTOCOL = 3;
export const INET_DIAG_MEMINFO = 1;
export const INET_DIAG_INFO = 2;
export const INET_DIAG_CONG = 4;
export const INET_DIAG_TOS = 5;
export const INET_DIAG_TCLASS = 6;
export const INET_DIAG_SKMEMINFO = 7;
export const INET_DIAG_SHUTDOWN = 8;
export const INET_DIAG_SKV6ONLY = 11;
export const INET_DIAG_CLASS_ID = 17;

const TCP_SYN_RECV = 3;
const TCP_TIME_WAIT = 6;
const TCP_CLOSE = 7;
const TCP_LISTEN = 10;
const RCV_SHUTDOWN = 1;
const SEND_SHUTDOWN = 2;

/** SockId is struct inet_diag_sockid (ports in host order, addresses as sent). */
export interface SockId {
  sport: number;
  dport: number;
  src: Uint8Array;
  dst: Uint8Array;
  ifindex: number;
  cookie: [number, number];
}

/** InetReq is a decoded request, v2 or compat. */
export interface InetReq {
  family: number;
  protocol: number;
  ext: number;
  states: number;
  id: SockId;
}

function parseSockId(p: Uint8Array, off: number): SockId {
  const dv = new DataView(p.buffer, p.byteOffset + off, SOCKID_LEN);
  return {
    sport: dv.getUint16(0, false),
    dport: dv.getUint16(2, false),
    src: p.slice(off + 4, off + 20),
    dst: p.slice(off + 20, off + 36),
    ifindex: dv.getUint32(36, true),
    cookie: [dv.getUint32(40, true), dv.getUint32(44, true)],
  };
}

/** parseReqV2 decodes struct inet_diag_req_v2 (the caller checked its length). */
export function parseReqV2(p: Uint8Array): InetReq {
  const dv = new DataView(p.buffer, p.byteOffset, REQ_V2_LEN);
  return { family: p[0], protocol: p[1], ext: p[2], states: dv.getUint32(4, true), id: parseSockId(p, 8) };
}

/** parseReqCompat decodes the old struct inet_diag_req; protocol comes from the message type. */
export function parseReqCompat(p: Uint8Array, protocol: number): InetReq {
  const dv = new DataView(p.buffer, p.byteOffset, REQ_COMPAT_LEN);
  return { family: p[0], protocol, ext: p[3], states: dv.getUint32(52, true), id: parseSockId(p, 4) };
}

/** InetSockInfo is what one record shows of a socket. */
export interface InetSockInfo {
  family: number;
  protocol: number;
  /** full: a socket; timewait and request: the minisockets Linux keeps for
   *  TIME_WAIT and SYN_RECV, answered without attributes, owner or queues. */
  kind: 'full' | 'timewait' | 'request';
  state: number;
  sport: number;
  dport: number;
  /** Local and remote address bytes, 4 (AF_INET) or 16 (AF_INET6). */
  src: Uint8Array;
  dst: Uint8Array;
  ifindex: number;
  cookie: number;
  timer: number;
  retrans: number;
  expires: number;
  rqueue: number;
  wqueue: number;
  uid: number;
  inode: number;
  shutdown: number;
  tos: number;
  v6only: boolean;
  priority: number;
  autobound: boolean;
  /** Buffer use in bytes (payload, not Linux's skb truesize). */
  mem: { rmem: number; rcvbuf: number; wmemQueued: number; sndbuf: number };
  /** tcpInfo makes struct tcp_info (TCP only), as getsockopt(TCP_INFO) does. */
  tcpInfo: (() => Uint8Array) | null;
  cong: string | null;
}

function u32s(vals: number[]): Uint8Array {
  const b = new Uint8Array(vals.length * 4);
  const dv = new DataView(b.buffer);
  vals.forEach((v, i) => dv.setUint32(i * 4, Math.max(0, Math.min(v, 0xffffffff)) >>> 0, true));
  return b;
}

/** encodeInetMsg builds one answer: struct inet_diag_msg and the attributes ext asks for. */
export function encodeInetMsg(s: InetSockInfo, ext: number, type: number, flags: number, seq: number, portid: number): Uint8Array {
  const r = new Uint8Array(MSG_LEN);
  const dv = new DataView(r.buffer);
  const full = s.kind === 'full';
  r[0] = s.family;
  r[1] = s.state;
  r[2] = s.timer;
  r[3] = Math.min(s.retrans, 255);
  dv.setUint16(4, s.sport, false);
  dv.setUint16(6, s.dport, false);
  r.set(s.src.subarray(0, 16), 8);
  r.set(s.dst.subarray(0, 16), 24);
  dv.setUint32(40, s.ifindex >>> 0, true);
  dv.setUint32(44, s.cookie % 2 ** 32, true);
  dv.setUint32(48, Math.floor(s.cookie / 2 ** 32), true);
  dv.setUint32(52, Math.max(0, Math.round(s.expires)) >>> 0, true);
  dv.setUint32(56, full ? s.rqueue >>> 0 : 0, true);
  dv.setUint32(60, full ? s.wqueue >>> 0 : 0, true);
  dv.setUint32(64, full ? s.uid >>> 0 : 0, true);
  dv.setUint32(68, full ? s.inode >>> 0 : 0, true);
  const b = new MessageBuilder(type, flags, seq, portid).bytes(r);
  if (!full) return b.finish();
  const want = (attr: number): boolean => (ext & (1 << (attr - 1))) !== 0;
  b.u8(INET_DIAG_SHUTDOWN, s.shutdown);
  if (want(INET_DIAG_TOS)) b.u8(INET_DIAG_TOS, s.tos);
  if (s.family === AF_INET6) {
    if (want(INET_DIAG_TCLASS)) b.u8(INET_DIAG_TCLASS, s.tos);
    if (s.state === TCP_LISTEN || s.state === TCP_CLOSE) b.u8(INET_DIAG_SKV6ONLY, s.v6only ? 1 : 0);
  }
  // No net_cls classid in the sandbox: Linux then reports the priority.
  if (want(INET_DIAG_TCLASS)) b.u32(INET_DIAG_CLASS_ID, s.priority);
  const m = s.mem;
  if (want(INET_DIAG_MEMINFO)) b.attr(INET_DIAG_MEMINFO, u32s([m.rmem, m.wmemQueued, 0, 0]));
  // SK_MEMINFO_{RMEM_ALLOC,RCVBUF,WMEM_ALLOC,SNDBUF,FWD_ALLOC,WMEM_QUEUED,OPTMEM,BACKLOG,DROPS}.
  if (want(INET_DIAG_SKMEMINFO)) b.attr(INET_DIAG_SKMEMINFO, u32s([m.rmem, m.rcvbuf, 0, m.sndbuf, 0, m.wmemQueued, 0, 0, 0]));
  if (s.protocol !== PROTO_TCP) return b.finish();
  if (want(INET_DIAG_INFO) && s.tcpInfo) b.attr(INET_DIAG_INFO, s.tcpInfo());
  if (want(INET_DIAG_CONG) && s.cong !== null) b.str(INET_DIAG_CONG, s.cong);
  return b.finish();
}

/** addrBytes is an Address as n bytes (any address: zeros). */
export function addrBytes(a: Address, n: number): Uint8Array {
  const b = new Uint8Array(n);
  if (a.length === n) for (let i = 0; i < n; i++) b[i] = a.charCodeAt(i);
  return b;
}

function tcpInfoOf(ep: TCPEndpoint, base: InetSockInfo): InetSockInfo {
  const s = ep.state;
  base.tcpInfo = () => encodeTcpInfo(ep.getTcpInfo());
  base.cong = ep.getCongestion();
  // sk_shutdown: a received FIN shuts reception, close() both ways.
  base.shutdown = (ep.shutRead || ep.finReceived || ep.orphaned ? RCV_SHUTDOWN : 0) |
    (ep.shutWrite || ep.finQueued || ep.orphaned ? SEND_SHUTDOWN : 0);
  base.autobound = !ep.explicitlyBound;
  if (s === TCP_TIME_WAIT) {
    base.kind = 'timewait';
    base.timer = 3;
    base.expires = Math.max(0, ep.waitTimer.remaining);
    return base;
  }
  if (s === TCP_SYN_RECV) {
    base.kind = 'request';
    base.timer = 1;
    base.retrans = ep.backoff;
    base.expires = Math.max(0, ep.rtoTimer.remaining);
    return base;
  }
  if (s === TCP_LISTEN) {
    base.rqueue = ep.acceptQueue.length;
    base.wqueue = ep.backlog;
  } else {
    base.rqueue = ep.queuedRead;
    base.wqueue = ep.queuedWrite;
  }
  base.mem.rmem = ep.queuedRead;
  base.mem.wmemQueued = ep.queuedWrite;
  // Linux's timer order: retransmission, zero-window probe, then sk_timer
  // (keepalive, which also times out an orphaned FIN_WAIT2).
  if (ep.rtoTimer.enabled) {
    base.timer = 1;
    base.retrans = ep.backoff;
    base.expires = ep.rtoTimer.remaining;
  } else if (ep.persistTimer.enabled) {
    base.timer = 4;
    base.retrans = ep.persistBackoff;
    base.expires = ep.persistTimer.remaining;
  } else if (ep.keepaliveTimer.enabled || ep.waitTimer.enabled) {
    const t = ep.keepaliveTimer.enabled ? ep.keepaliveTimer : ep.waitTimer;
    base.timer = 2;
    base.retrans = ep.keepProbes;
    base.expires = t.remaining;
  }
  return base;
}

/** infoOf builds the view of one inventory entry. */
export function infoOf(e: InetEntry, protocol: number): InetSockInfo {
  const ep = e.ep;
  const v6 = ep.family === 6;
  const n = v6 ? 16 : 4;
  const base: InetSockInfo = {
    family: v6 ? AF_INET6 : AF_INET,
    protocol,
    kind: 'full',
    state: e.state,
    sport: e.local.port,
    dport: e.peer.port,
    src: addrBytes(e.local.addr, n),
    dst: addrBytes(e.peer.addr, n),
    ifindex: ep.bindNic,
    cookie: e.owner?.cookie ?? 0,
    timer: 0,
    retrans: 0,
    expires: 0,
    rqueue: 0,
    wqueue: 0,
    uid: e.owner?.uid ?? 0,
    inode: e.orphaned ? 0 : e.owner?.ino ?? 0,
    shutdown: 0,
    tos: ep.tos,
    // Linux sets ipv6only when a v6 socket binds a specific, non-v4-mapped address.
    v6only: ep.v6only || (v6 && !isAny(addrBytes(e.local.addr, 16)) && !isV4Mapped(addrBytes(e.local.addr, 16))),
    priority: ep.priority,
    autobound: false,
    mem: { rmem: 0, rcvbuf: ep.rcvBuf, wmemQueued: 0, sndbuf: ep.sndBuf },
    tcpInfo: null,
    cong: null,
  };
  if (ep instanceof TCPEndpoint) return tcpInfoOf(ep, base);
  // UDP: the queues are udp_diag's rmem/wmem; SHUT_WR alone is not visible from outside the endpoint.
  base.rqueue = base.mem.rmem = ep.queuedBytes;
  const r = ep.readiness(EVENT_RDHUP | EVENT_HUP);
  base.shutdown = (r & EVENT_RDHUP ? RCV_SHUTDOWN : 0) | (r & EVENT_HUP ? SEND_SHUTDOWN : 0);
  return base;
}

/** inetSockInfos lists the stack's sockets of one protocol, both IP versions,
 *  listeners first (Linux walks its listening hash before the established one). */
export function inetSockInfos(s: Stack, protocol: number): InetSockInfo[] {
  const all = [...inetEntries(s, protocol, false), ...inetEntries(s, protocol, true)].map((e) => infoOf(e, protocol));
  return [...all.filter((i) => i.state === TCP_LISTEN), ...all.filter((i) => i.state !== TCP_LISTEN)];
}

/** bcEntry is what the filter bytecode sees of a socket. */
export function bcEntry(s: InetSockInfo): BcEntry {
  return {
    family: s.family, saddr: s.src, daddr: s.dst, sport: s.sport, dport: s.dport, ifindex: s.ifindex,
    autobound: s.kind === 'full' && s.autobound, mark: 0, cgroupId: 0n,
  };
}

/** selectDump applies a dump request's filters as inet_diag_dump_icsk and udp_dump do. */
export function selectDump(socks: InetSockInfo[], req: InetReq, bc: Uint8Array | null): InetSockInfo[] {
  const id = req.id;
  return socks.filter((s) => {
    if (req.family !== AF_UNSPEC && s.family !== req.family) return false;
    if (id.sport !== 0 && id.sport !== s.sport) return false;
    if (s.protocol === PROTO_TCP && s.state === TCP_LISTEN) {
      // Listeners are walked only when asked for, and never with a destination port.
      if (!(req.states & (1 << TCP_LISTEN)) || id.dport !== 0) return false;
    } else {
      if (!(req.states & (1 << s.state))) return false;
      if (id.dport !== 0 && id.dport !== s.dport) return false;
    }
    return bc === null || run(bc, bcEntry(s));
  });
}

function sameAddr(sock: Uint8Array, req: Uint8Array): boolean {
  if (sock.length === 4) {
    // A v4 socket: the request's first word, or the tail of a v4-mapped address.
    const r = isV4Mapped(req) ? req.subarray(12, 16) : req.subarray(0, 4);
    return sock.every((x, i) => x === r[i]);
  }
  return sock.every((x, i) => x === req[i]);
}

function isV4Mapped(a: Uint8Array): boolean {
  return a.subarray(0, 10).every((x) => x === 0) && a[10] === 0xff && a[11] === 0xff;
}

function isAny(a: Uint8Array): boolean {
  return a.every((x) => x === 0);
}

/** findOne is the lookup of a non-dump request (inet_diag_find_one_icsk,
 *  udp_dump_one): ENOENT if no socket matches; a cookie that does not match is
 *  ENOENT for TCP and ESTALE for UDP, as Linux answers. */
export function findOne(socks: InetSockInfo[], req: InetReq): InetSockInfo {
  if (req.family !== AF_INET && req.family !== AF_INET6) throw linuxerr.EINVAL;
  const id = req.id;
  // udp_dump_one looks the socket up with source and destination swapped.
  const udp = req.protocol === PROTO_UDP;
  const [laddr, lport, raddr, rport] = udp ? [id.dst, id.dport, id.src, id.sport] : [id.src, id.sport, id.dst, id.dport];
  const ifOk = (s: InetSockInfo): boolean => id.ifindex === 0 || s.ifindex === 0 || s.ifindex === id.ifindex;
  let found = socks.find((s) => s.state !== TCP_LISTEN && s.dport !== 0 && s.sport === lport && s.dport === rport &&
    sameAddr(s.src, laddr) && sameAddr(s.dst, raddr) && ifOk(s));
  found ??= socks.find((s) => (s.state === TCP_LISTEN || (udp && s.dport === 0)) && s.sport === lport &&
    (isAny(s.src) || sameAddr(s.src, laddr)) && ifOk(s));
  if (!found) throw linuxerr.ENOENT;
  const [lo, hi] = id.cookie;
  if (!(lo === NOCOOKIE && hi === NOCOOKIE) && (lo !== found.cookie % 2 ** 32 || hi !== Math.floor(found.cookie / 2 ** 32))) {
    throw udp ? linuxerr.ESTALE : linuxerr.ENOENT;
  }
  return found;
}
