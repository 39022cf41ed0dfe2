// AF_INET and AF_INET6 sockets (Linux's net/ipv4/af_inet.c, net/ipv6/af_inet6.c)
// on the sandbox's netstack: SOCK_STREAM is TCP, SOCK_DGRAM is UDP, and
// SOCK_DGRAM with IPPROTO_ICMP(V6) is a ping socket, SOCK_RAW a raw IP socket.
//
// An InetSocket adapts one netstack endpoint. Endpoints never block: they
// throw ErrWouldBlock, and their readiness callback feeds the socket's
// waitQueue, so the syscall layer's wait-and-retry loops work unchanged.
// netstack errors carry their errno and become the matching sentinel.

import * as linuxerr from '../../../abi/linux/errno.js';
import type { FullAddress, IntOption, PingEndpoint, RawEndpoint, RawPacket, UDPEndpoint } from '../../../netstack/index.js';
import {
  ErrAlreadyConnecting, ErrClosedForSend, ErrConnectStarted, ErrWouldBlock, READ_WOULD_BLOCK, TCPEndpoint, TcpipError,
  encodeTcpInfo, linuxIntOption,
} from '../../../netstack/index.js';
import type { AddressSpace } from '../../../platform/platform.js';
import type { Task } from '../../kernel/task.js';
import type { FileDescription } from '../../vfs/file_description.js';
import * as abi from '../abi.js';
import type { ByteSource, IOStatus } from '../socket.js';
import {
  BufferSink, BufferSource, EPIPE_NOSIGNAL, RecvRequest, SendRequest, Socket, raiseSigpipe, registerFamily,
} from '../socket.js';
import { encode, parseFor, parseIn, parseIn6, sockFamily } from './address.js';
import { EVENT_ERR, EVENT_HUP, EVENT_OUT } from '../../vfs/waiter.js';
import { inetIoctl } from './ioctl.js';
import { stackFor } from './stack.js';

export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ICMPV6 = 58;
const SOL_SOCKET = abi.SOL_SOCKET;
const TCP_INFO = 11;
const TCP_CONGESTION = 13;
const SO_BINDTODEVICE = 25;
const IP_RECVERR = 11;
const IPV6_RECVERR = 25;
const CAP_NET_BIND_SERVICE = 10;
/** net.ipv4.ip_unprivileged_port_start. */
const UNPRIVILEGED_PORT_START = 1024;
/** The most one TCP write hands the endpoint: bounds the copy per step. */
const TCP_CHUNK = 256 * 1024;
/** The largest read(2) readGuest serves (the syscall layer reads in chunks of this size). */
const DIRECT_READ_MAX = 1 << 20;

type Kind = 'tcp' | 'udp' | 'ping' | 'raw';
type Endpoint = TCPEndpoint | UDPEndpoint | PingEndpoint | RawEndpoint;
type DgramEndpoint = UDPEndpoint | PingEndpoint | RawEndpoint;

/** sysErr turns a netstack error into the errno sentinel; other errors pass through. */
export function sysErr(e: unknown): unknown {
  return e instanceof TcpipError ? linuxerr.fromErrno(e.errno) : e;
}

/** call runs a netstack operation, translating its errors. */
function call<T>(op: () => T): T {
  try {
    return op();
  } catch (e) {
    throw sysErr(e);
  }
}

/** SOL_SOCKET options the endpoint owns (they change protocol behaviour). */
const EP_SOCKET_OPTIONS = new Set([
  abi.SO_REUSEADDR, abi.SO_REUSEPORT, abi.SO_KEEPALIVE, abi.SO_BROADCAST, abi.SO_RCVBUF, abi.SO_SNDBUF,
  abi.SO_OOBINLINE, abi.SO_DONTROUTE, abi.SO_PRIORITY, 62 /* SO_BINDTOIFINDEX */,
]);

/** owners maps endpoints to their socket's inode number, owner and cookie, for /proc/net and sock_diag. */
const owners = new WeakMap<object, { ino: number; uid: number; cookie: number }>();

/** endpointOwner returns the inode, uid and cookie (SO_COOKIE) of the socket using ep, if any. */
export function endpointOwner(ep: object): { ino: number; uid: number; cookie: number } | undefined {
  return owners.get(ep);
}

export class InetSocket extends Socket {
  readonly family: number;
  /** connectReported: a non-blocking connect got EINPROGRESS although it completed at
   *  once (loopback); the next connect reports the success, as Linux would. */
  private connectReported = false;
  /** connectStarted: a non-blocking connect said EINPROGRESS for a handshake under
   *  way; the call that finds it done reports success (then EISCONN). */
  private connectStarted = false;
  /** recvErr: IP_RECVERR / IPV6_RECVERR as set (glibc's resolver fails without it). */
  private recvErr = false;

  constructor(creds: { fsuid: number; fsgid: number }, family: number, type: number, protocol: number,
    readonly kind: Kind, readonly ep: Endpoint) {
    super(creds, type, protocol);
    this.family = family;
    ep.setNotify((ev) => this.waitQueue.notify(ev));
    owners.set(ep, { ino: this.ino, uid: creds.fsuid, cookie: this.cookie });
  }

  private get tcp(): TCPEndpoint | null {
    return this.ep instanceof TCPEndpoint ? this.ep : null;
  }

  get isListening(): boolean {
    return this.ep.isListening();
  }

  // ---- Names and connections ----

  bind(t: Task, raw: Uint8Array): void {
    const a = this.family === abi.AF_INET ? parseIn(raw, true) : parseIn6(raw);
    // A raw socket has no port: raw_bind ignores it.
    if (this.kind !== 'raw' && a.port !== 0 && a.port < UNPRIVILEGED_PORT_START && !t.creds.hasCap(CAP_NET_BIND_SERVICE)) {
      throw linuxerr.EACCES;
    }
    call(() => this.ep.bind(a));
  }

  listen(_t: Task, backlog: number): void {
    const ep = this.tcp;
    if (!ep) throw linuxerr.EOPNOTSUPP;
    call(() => ep.listen(backlog));
    this.waitQueue.notify(0x4 | 0x10);
  }

  accept(t: Task): Socket {
    const ep = this.tcp;
    if (!ep) throw linuxerr.EOPNOTSUPP;
    const { ep: child } = call(() => ep.accept());
    const s = new InetSocket(t.creds, this.family, this.type, this.protocol, 'tcp', child);
    // Linux clones the listener's sock: timeouts and the like carry over.
    const o = this.opts;
    Object.assign(s.opts, {
      rcvtimeo: o.rcvtimeo, sndtimeo: o.sndtimeo, rcvlowat: o.rcvlowat, linger: { ...o.linger },
      priority: o.priority, mark: o.mark,
    });
    return s;
  }

  connect(t: Task, raw: Uint8Array, nonblock: boolean): void {
    if (raw.length < 2) throw linuxerr.EINVAL;
    if (sockFamily(raw) === abi.AF_UNSPEC) return this.disconnect(t);
    const tcp = this.tcp;
    if (!tcp) {
      const a = parseFor(this.family, raw, true);
      call(() => (this.ep as DgramEndpoint).connect(a));
      return;
    }
    if (this.connectReported) {
      this.connectReported = false;
      return;
    }
    const a = parseFor(this.family, raw);
    for (let tries = 0; ; tries++) {
      try {
        tcp.connect(a);
        break;
      } catch (e) {
        if (e instanceof ErrConnectStarted && nonblock) {
          this.connectStarted = true;
          throw linuxerr.EINPROGRESS;
        }
        if (!(e instanceof ErrConnectStarted || e instanceof ErrAlreadyConnecting)) {
          this.connectStarted = false;
          throw sysErr(e);
        }
        if (nonblock) throw linuxerr.EALREADY;
        // A blocking connect waits for the handshake, unless it already ended
        // (refused on loopback): its notification fired before anyone waited.
        if (tries > 0 || (tcp.readiness(EVENT_OUT) & (EVENT_OUT | EVENT_ERR | EVENT_HUP)) === 0) {
          throw linuxerr.EAGAIN;
        }
      }
    }
    if (this.connectStarted) {
      // This call found the handshake an earlier one started finished.
      this.connectStarted = false;
      return;
    }
    if (nonblock && !this.connectReported) {
      // Linux never completes a non-blocking connect inside the call, even on loopback.
      this.connectReported = true;
      throw linuxerr.EINPROGRESS;
    }
  }

  /** disconnect is connect(AF_UNSPEC). */
  private disconnect(t: Task): void {
    if (this.kind === 'udp' || this.kind === 'raw') {
      call(() => (this.ep as UDPEndpoint | RawEndpoint).disconnect());
      return;
    }
    t.kernel.log.warnOnce('inet:disconnect', 'connect(AF_UNSPEC) on TCP and ping sockets is not supported');
    throw linuxerr.EOPNOTSUPP;
  }

  name(_t: Task, peer: boolean): Uint8Array {
    const a = call(() => (peer ? this.ep.getpeername() : this.ep.getsockname()));
    return encode(this.family, a);
  }

  shutdown(t: Task, how: number): void {
    if (how < abi.SHUT_RD || how > abi.SHUT_RDWR) throw linuxerr.EINVAL;
    const ep = this.ep;
    if (ep instanceof TCPEndpoint || this.kind === 'udp') {
      call(() => (ep as TCPEndpoint | UDPEndpoint).shutdown(how));
      return;
    }
    // Ping sockets: an unconnected one says ENOTCONN as Linux; the rest is missing.
    try {
      ep.getpeername();
    } catch {
      throw linuxerr.ENOTCONN;
    }
    t.kernel.log.warnOnce('inet:pingshutdown', 'shutdown on a connected ping socket is not supported');
    throw linuxerr.EOPNOTSUPP;
  }

  // ---- Sending ----

  sendmsg(t: Task, req: SendRequest): IOStatus {
    return this.kind === 'tcp' ? this.tcpSend(t, req) : this.dgramSend(req);
  }

  private tcpSend(t: Task | null, req: SendRequest): IOStatus {
    const ep = this.tcp!;
    const oob = (req.flags & abi.MSG_OOB) !== 0;
    const more = (req.flags & abi.MSG_MORE) !== 0;
    const src = req.src;
    const fill = (dst: Uint8Array): number => src.takeInto(dst);
    do {
      let space: number;
      try {
        // Take only what the endpoint has room for: it may not take less than offered.
        space = ep.writeSpace();
      } catch (e) {
        if (req.sent > 0) return 'done';
        if (e instanceof ErrClosedForSend) {
          if (t && !(req.flags & abi.MSG_NOSIGNAL)) raiseSigpipe(t);
          throw linuxerr.EPIPE;
        }
        throw sysErr(e);
      }
      if (space <= 0) {
        // A full buffer (not thrown: a busy writer meets it often).
        if (!req.nonblock) return 'wait';
        if (req.sent > 0) return 'done';
        throw linuxerr.EAGAIN;
      }
      try {
        const n = Math.min(src.remaining, space, TCP_CHUNK);
        const last = n === src.remaining;
        // The bytes go from the source straight into the send queue's memory.
        const got = ep.writeFrom(n, fill, { oob: oob && last, more: more || !last });
        if (got === 0) {
          if (req.sent > 0) return 'done';
          throw linuxerr.EFAULT;
        }
        req.sent += got;
        if (got < n) break;
      } catch (e) {
        if (e instanceof ErrWouldBlock) {
          if (!req.nonblock) return 'wait';
          if (req.sent > 0) return 'done';
          throw linuxerr.EAGAIN;
        }
        if (req.sent > 0) return 'done';
        if (e instanceof ErrClosedForSend) {
          if (t && !(req.flags & abi.MSG_NOSIGNAL)) raiseSigpipe(t);
          throw linuxerr.EPIPE;
        }
        throw sysErr(e);
      }
    } while (src.remaining > 0);
    return 'done';
  }

  private dgramSend(req: SendRequest): IOStatus {
    const ep = this.ep as DgramEndpoint;
    if (req.flags & abi.MSG_OOB) throw linuxerr.EOPNOTSUPP;
    let to: FullAddress | undefined;
    if (req.to && req.to.length) {
      // AF_UNSPEC means "no address" on an IPv6 datagram socket (udpv6_sendmsg).
      if (!(this.family === abi.AF_INET6 && sockFamily(req.to) === abi.AF_UNSPEC)) {
        to = parseFor(this.family, req.to, true);
      }
    }
    const len = req.src.remaining;
    const data = len > 0 ? req.src.take(len) : new Uint8Array(0);
    try {
      req.sent = ep.send(data, to);
    } catch (e) {
      if (e instanceof ErrWouldBlock) {
        if (req.nonblock) throw linuxerr.EAGAIN;
        return 'wait';
      }
      // A datagram socket's EPIPE raises no SIGPIPE.
      if (e instanceof ErrClosedForSend) throw EPIPE_NOSIGNAL;
      throw sysErr(e);
    }
    return 'done';
  }

  // ---- Receiving ----

  recvmsg(_t: Task, req: RecvRequest): IOStatus {
    // No error queue is kept (see IP_RECVERR): it is always empty, and reading
    // an empty one never waits (Linux's ip_recv_error says EAGAIN).
    if (req.flags & abi.MSG_ERRQUEUE) throw linuxerr.EAGAIN;
    return this.kind === 'tcp' ? this.tcpRecv(req) : this.dgramRecv(req);
  }

  private tcpRecv(req: RecvRequest): IOStatus {
    const ep = this.tcp!;
    if (req.flags & abi.MSG_OOB) {
      const b = call(() => ep.readOOB((req.flags & abi.MSG_PEEK) !== 0));
      if (req.dst.length === 0) {
        req.msgFlags |= abi.MSG_OOB;
        return 'done';
      }
      req.dst.put(Uint8Array.of(b), 0);
      req.copied = 1;
      req.msgFlags |= abi.MSG_OOB;
      return 'done';
    }
    const peek = (req.flags & abi.MSG_PEEK) !== 0;
    // MSG_TRUNC on a stream discards the bytes instead of copying them.
    const discard = (req.flags & abi.MSG_TRUNC) !== 0;
    const dst = req.dst;
    // The received views go straight to the destination (no copy in between).
    let skip = 0;
    let fresh = 0;
    let faulted = false;
    const put = (v: Uint8Array): number => {
      let off = 0;
      if (skip > 0) {
        // A peek that waited resumes after what it already copied.
        off = Math.min(skip, v.length);
        skip -= off;
        if (off === v.length) return off;
      }
      const want = v.length - off;
      const c = discard ? want : dst.put(off === 0 ? v : v.subarray(off), req.copied);
      if (c < want) {
        // Like Linux's tcp_recvmsg, a chunk whose copy faults stays queued whole.
        faulted = true;
        return off;
      }
      req.copied += c;
      fresh += c;
      return off + c;
    };
    for (;;) {
      const room = dst.length - req.copied;
      if (room <= 0 && dst.length > 0) return 'done';
      skip = peek ? req.copied : 0;
      fresh = 0;
      let took: number;
      try {
        took = ep.tryReadTo(peek ? req.copied + room : room, put, { peek });
      } catch (e) {
        if (req.copied > 0) return 'done';
        throw sysErr(e);
      }
      if (took === READ_WOULD_BLOCK) {
        if (req.copied >= req.target) return 'done';
        if (!req.nonblock) return 'wait';
        if (req.copied > 0) return 'done';
        throw linuxerr.EAGAIN;
      }
      if (faulted) {
        if (req.copied === 0) throw linuxerr.EFAULT;
        return 'done';
      }
      if (took === 0) return 'done';
      if (dst.length === 0 || fresh === 0 || req.copied >= req.target) return 'done';
    }
  }

  private dgramRecv(req: RecvRequest): IOStatus {
    const ep = this.ep as DgramEndpoint;
    if (req.flags & abi.MSG_OOB) throw linuxerr.EOPNOTSUPP;
    let r: { data: Uint8Array; size: number; from: FullAddress | null };
    try {
      r = ep.recv(req.dst.length, (req.flags & abi.MSG_PEEK) !== 0);
    } catch (e) {
      if (e instanceof ErrWouldBlock) {
        if (req.nonblock) throw linuxerr.EAGAIN;
        return 'wait';
      }
      throw sysErr(e);
    }
    if (r.from === null) return 'done'; // EOF after SHUT_RD.
    if (this.kind === 'raw') req.hostControl = rawControl(this.ep as RawEndpoint, r as RawPacket);
    const n = r.data.length > 0 ? req.dst.put(r.data, 0) : 0;
    if (n < r.data.length && n === 0) throw linuxerr.EFAULT;
    req.copied = n;
    if (r.size > req.dst.length) req.msgFlags |= abi.MSG_TRUNC;
    if (req.flags & abi.MSG_TRUNC) req.result = r.size;
    req.from = encode(this.family, r.from);
    return 'done';
  }

  // ---- State ----

  readiness(mask: number): number {
    return this.ep.readiness(mask);
  }

  inq(): number {
    const ep = this.ep;
    if (ep instanceof TCPEndpoint) {
      if (ep.isListening()) throw linuxerr.EINVAL;
      return ep.queuedRead;
    }
    return this.kind === 'udp' || this.kind === 'raw' ? (ep as UDPEndpoint | RawEndpoint).nextSize() : 0;
  }

  outq(): number {
    const ep = this.tcp;
    if (ep?.isListening()) throw linuxerr.EINVAL;
    return ep ? ep.queuedWrite : 0;
  }

  takeError(): number {
    return this.ep.takeError();
  }

  release(): void {
    this.ep.setNotify(null);
    this.ep.close();
  }

  override ioctl(t: Task, fd: FileDescription, cmd: number, arg: number): number {
    const r = inetIoctl(t, this, cmd, arg);
    return r ?? super.ioctl(t, fd, cmd, arg);
  }

  // ---- Options ----

  override getsockopt(t: Task, level: number, name: number): Uint8Array {
    if (level === SOL_SOCKET && EP_SOCKET_OPTIONS.has(name)) {
      return int32(call(() => this.ep.getOption(linuxIntOption(level, name)!)));
    }
    if (level === SOL_SOCKET && name === abi.SO_LINGER) {
      const l = this.ep.getLinger();
      return int32s(l.onoff ? 1 : 0, l.linger);
    }
    if (level === SOL_SOCKET && name === abi.SO_RCVLOWAT) return int32(this.ep.getOption('SO_RCVLOWAT'));
    if (level === SOL_SOCKET && name === SO_BINDTODEVICE) {
      const id = this.ep.getOption('SO_BINDTOIFINDEX');
      const nic = id ? stackFor(t.kernel).nic(id) : undefined;
      return nic ? new TextEncoder().encode(nic.name + '\0') : new Uint8Array(0);
    }
    return super.getsockopt(t, level, name);
  }

  override setsockopt(t: Task, level: number, name: number, val: Uint8Array): void {
    if (level === SOL_SOCKET) {
      if (name === abi.SO_LINGER) {
        super.setsockopt(t, level, name, val);
        const l = this.opts.linger;
        this.ep.setLinger({ onoff: l.onoff !== 0, linger: l.linger });
        return;
      }
      if (name === abi.SO_RCVLOWAT) {
        super.setsockopt(t, level, name, val);
        call(() => this.ep.setOption('SO_RCVLOWAT', this.opts.rcvlowat));
        return;
      }
      if (name === SO_BINDTODEVICE) return this.bindToDevice(t, val);
      if (EP_SOCKET_OPTIONS.has(name)) {
        // Permission checks are the generic layer's (SO_PRIORITY).
        if (name === abi.SO_PRIORITY) super.setsockopt(t, level, name, val);
        const v = readInt(val);
        call(() => this.ep.setOption(linuxIntOption(level, name)!, v));
        return;
      }
    }
    super.setsockopt(t, level, name, val);
  }

  private bindToDevice(t: Task, val: Uint8Array): void {
    const z = val.indexOf(0);
    const dev = new TextDecoder().decode(z >= 0 ? val.subarray(0, z) : val);
    let id = 0;
    if (dev !== '') {
      const nic = stackFor(t.kernel).nicByName(dev);
      if (!nic) throw linuxerr.ENODEV;
      id = nic.id;
    }
    call(() => this.ep.setOption('SO_BINDTOIFINDEX', id));
  }

  /** isRecvErr: the option is IP_RECVERR (or IPV6_RECVERR on an AF_INET6 socket). */
  private isRecvErr(level: number, name: number): boolean {
    return (level === IPPROTO_IP && name === IP_RECVERR) || (level === IPPROTO_IPV6 && name === IPV6_RECVERR && this.family === abi.AF_INET6);
  }

  override protocolGetsockopt(t: Task, level: number, name: number): Uint8Array {
    if (this.kind === 'raw') {
      const v = rawGetsockopt(t, this.ep as RawEndpoint, level, name);
      if (v !== null) return v;
    }
    this.checkLevel(t, level, name, true);
    if (this.isRecvErr(level, name)) return int32(this.recvErr ? 1 : 0);
    const ep = this.ep;
    if (level === IPPROTO_TCP && ep instanceof TCPEndpoint) {
      if (name === TCP_INFO) return encodeTcpInfo(ep.getTcpInfo());
      if (name === TCP_CONGESTION) {
        const b = new Uint8Array(16);
        b.set(new TextEncoder().encode(ep.getCongestion()));
        return b;
      }
    }
    const opt = this.intOption(t, level, name);
    return int32(call(() => ep.getOption(opt)));
  }

  override protocolSetsockopt(t: Task, level: number, name: number, val: Uint8Array): void {
    if (this.kind === 'raw' && rawSetsockopt(t, this.ep as RawEndpoint, level, name, val)) return;
    this.checkLevel(t, level, name);
    if (this.isRecvErr(level, name)) {
      // Kept and reported; ICMP errors still surface as before (hard ones,
      // on connected sockets, as SO_ERROR) and there is no error queue.
      this.recvErr = (val.length >= 1 && val.length < 4 && level === IPPROTO_IP ? val[0] : readInt(val)) !== 0;
      if (this.recvErr) t.kernel.log.warnOnce('inet:recverr', 'IP_RECVERR/IPV6_RECVERR: accepted, but no error queue is kept (MSG_ERRQUEUE)');
      return;
    }
    const ep = this.ep;
    if (level === IPPROTO_TCP && ep instanceof TCPEndpoint) {
      if (name === TCP_INFO) throw linuxerr.ENOPROTOOPT;
      if (name === TCP_CONGESTION) {
        const z = val.indexOf(0);
        call(() => ep.setCongestion(new TextDecoder().decode(z >= 0 ? val.subarray(0, z) : val)));
        return;
      }
    }
    const opt = this.intOption(t, level, name);
    // IP_TOS and IP_TTL also accept a single byte, as Linux's do_ip_setsockopt.
    const v = val.length >= 1 && val.length < 4 && level === IPPROTO_IP ? val[0] : readInt(val);
    call(() => ep.setOption(opt, v));
  }

  /** checkLevel rejects levels the protocol does not have (ENOPROTOOPT, as Linux). */
  /** checkLevel refuses a level the socket does not have: ip_getsockopt
   *  says EOPNOTSUPP, ip_setsockopt ENOPROTOOPT. */
  private checkLevel(t: Task, level: number, name: number, get = false): void {
    const ok = level === IPPROTO_IP || (level === IPPROTO_IPV6 && this.family === abi.AF_INET6)
      || (level === IPPROTO_TCP && this.kind === 'tcp') || (level === IPPROTO_UDP && this.kind === 'udp');
    if (!ok) {
      t.kernel.log.warnOnce(`inet:opt:${level}:${name}`, `socket option level ${level} name ${name} is not supported`);
      throw get ? linuxerr.EOPNOTSUPP : linuxerr.ENOPROTOOPT;
    }
  }

  private intOption(t: Task, level: number, name: number): IntOption {
    const opt = linuxIntOption(level, name);
    if (!opt) {
      t.kernel.log.warnOnce(`inet:opt:${level}:${name}`, `socket option level ${level} name ${name} is not supported`);
      throw linuxerr.ENOPROTOOPT;
    }
    return opt;
  }

  // ---- File operations: read(2) and write(2) ----

  read(fd: FileDescription, dst: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    void fd;
    // Never waits here: the generic read path sleeps on EAGAIN.
    const req = new RecvRequest(new BufferSink(dst), 0, true, 1);
    if (this.kind === 'tcp') this.tcpRecv(req);
    else this.dgramRecv(req);
    return req.value;
  }

  /**
   * readGuest is read(2) of a TCP socket straight into guest memory (the
   * syscall layer's GuestReader): the received bytes are copied once, from
   * the receive queue to the guest. Null (the generic path) for other kinds
   * and for reads larger than the syscall layer's chunk.
   */
  readGuest(_fd: FileDescription, as: AddressSpace, addr: number, len: number, offset: number): number | null {
    const ep = this.tcp;
    if (ep === null || len > DIRECT_READ_MAX) return null;
    if (offset !== -1) throw linuxerr.ESPIPE;
    let done = 0;
    let faulted = false;
    let r: number;
    try {
      r = ep.tryReadTo(len, (v) => {
        // A chunk whose copy faults stays queued whole (tcp_recvmsg).
        if (as.write(addr + done, v, 0, v.length) < v.length) {
          faulted = true;
          return 0;
        }
        done += v.length;
        return v.length;
      });
    } catch (e) {
      throw sysErr(e);
    }
    // Would block: said as a value, not thrown (the syscall layer then waits).
    if (r === READ_WOULD_BLOCK) return -linuxerr.EAGAIN.errno;
    return faulted && done === 0 ? -linuxerr.EFAULT.errno : done;
  }

  /**
   * writeGuest is write(2) of a TCP socket straight from guest memory (the
   * syscall layer's GuestWriter): the bytes are copied once, into the send
   * queue. Null (the generic path) for other kinds.
   */
  writeGuest(_fd: FileDescription, as: AddressSpace, addr: number, len: number, offset: number): number | null {
    if (this.kind !== 'tcp') return null;
    if (offset !== -1) throw linuxerr.ESPIPE;
    // The generic write path waits, and raises SIGPIPE on EPIPE itself. A
    // full buffer is said as -EAGAIN when nothing was written (not thrown).
    const req = new SendRequest(new AddressSpaceSource(as, addr, len), null, abi.MSG_NOSIGNAL, false);
    const st = this.tcpSend(null, req);
    return st === 'wait' && req.sent === 0 ? -linuxerr.EAGAIN.errno : req.sent;
  }

  write(_fd: FileDescription, src: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    // The generic write path waits, and raises SIGPIPE on EPIPE itself.
    const req = new SendRequest(new BufferSource(src), null, abi.MSG_NOSIGNAL, true);
    if (this.kind === 'tcp') this.tcpSend(null, req);
    else this.dgramSend(req);
    return req.sent;
  }
}

/** AddressSpaceSource is a ByteSource over one guest buffer, read as it is taken. */
class AddressSpaceSource implements ByteSource {
  private pos = 0;

  constructor(private readonly as: AddressSpace, private readonly addr: number, private len: number) {}

  get remaining(): number {
    return this.len - this.pos;
  }

  take(n: number): Uint8Array {
    const b = new Uint8Array(n);
    const got = this.takeInto(b);
    if (got === 0 && n > 0) throw linuxerr.EFAULT;
    return got === n ? b : b.slice(0, got);
  }

  takeInto(dst: Uint8Array): number {
    const got = this.as.read(this.addr + this.pos, dst, 0, dst.length);
    this.pos += got;
    if (got < dst.length) this.len = this.pos; // a fault ends the payload here
    return got;
  }
}

function readInt(val: Uint8Array): number {
  if (val.length < 4) throw linuxerr.EINVAL;
  return new DataView(val.buffer, val.byteOffset, 4).getInt32(0, true);
}

function int32(v: number): Uint8Array {
  return int32s(v);
}

function int32s(...v: number[]): Uint8Array {
  const b = new Uint8Array(4 * v.length);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setInt32(4 * i, x | 0, true));
  return b;
}

// ---- Raw socket options (net/ipv4/raw.c, net/ipv6/raw.c) ----

const SOL_RAW = 255;
const ICMP_FILTER = 1;
const ICMPV6_FILTER = 1;
const IP_HDRINCL = 3;
const IPV6_CHECKSUM = 7;
const IPV6_HDRINCL = 36;
const IPV6_2292HOPLIMIT = 8;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;

/** rawControl returns the control messages an IPv6 raw socket asked for (the
 *  hop limit, which busybox ping6 prints), in the host's cmsg layout; null if none. */
function rawControl(ep: RawEndpoint, r: RawPacket): Uint8Array | null {
  const types = [...(ep.recvHopLimit ? [IPV6_HOPLIMIT] : []), ...(ep.recv2292HopLimit ? [IPV6_2292HOPLIMIT] : [])];
  if (types.length === 0) return null;
  const b = new Uint8Array(24 * types.length);
  const dv = new DataView(b.buffer);
  types.forEach((type, i) => {
    dv.setBigUint64(24 * i, 20n, true);
    dv.setInt32(24 * i + 8, IPPROTO_IPV6, true);
    dv.setInt32(24 * i + 12, type, true);
    dv.setInt32(24 * i + 16, r.ttl, true);
  });
  return b;
}

/** rawGetsockopt answers the options only raw sockets have; null for the others. */
function rawGetsockopt(t: Task, ep: RawEndpoint, level: number, name: number): Uint8Array | null {
  if (ep.family === 4) {
    if (level === SOL_RAW) {
      if (name !== ICMP_FILTER) throw linuxerr.ENOPROTOOPT;
      if (!ep.hasICMPFilter) throw linuxerr.EOPNOTSUPP;
      return ep.icmpFilter();
    }
    if (level === IPPROTO_IP && name === IP_HDRINCL) return int32(ep.hdrincl ? 1 : 0);
    return null;
  }
  if (level === IPPROTO_ICMPV6) {
    if (!ep.hasICMPFilter) throw linuxerr.EOPNOTSUPP;
    if (name !== ICMPV6_FILTER) throw linuxerr.ENOPROTOOPT;
    return ep.icmpFilter();
  }
  if (level === SOL_RAW || (level === IPPROTO_IPV6 && (name === IPV6_CHECKSUM || name === IPV6_HDRINCL))) {
    if (name === IPV6_CHECKSUM) return int32(ep.checksumOffset);
    if (name === IPV6_HDRINCL) return int32(0);
    throw linuxerr.ENOPROTOOPT;
  }
  if (level === IPPROTO_IPV6 && name === IPV6_RECVHOPLIMIT) return int32(ep.recvHopLimit ? 1 : 0);
  if (level === IPPROTO_IPV6 && name === IPV6_2292HOPLIMIT) return int32(ep.recv2292HopLimit ? 1 : 0);
  if (level === IPPROTO_IP) throw linuxerr.ENOPROTOOPT; // an IPv6 raw socket has no IPv4 options
  return null;
}

/** rawSetsockopt sets the options only raw sockets have; false for the others. */
function rawSetsockopt(t: Task, ep: RawEndpoint, level: number, name: number, val: Uint8Array): boolean {
  if (ep.family === 4) {
    if (level === SOL_RAW) {
      if (name !== ICMP_FILTER) throw linuxerr.ENOPROTOOPT;
      if (!ep.hasICMPFilter) throw linuxerr.EOPNOTSUPP;
      ep.setICMPFilter(val);
      return true;
    }
    if (level === IPPROTO_IP && name === IP_HDRINCL) {
      ep.hdrincl = (val.length >= 1 && val.length < 4 ? val[0] : readInt(val)) !== 0;
      return true;
    }
    return false;
  }
  if (level === IPPROTO_ICMPV6) {
    if (!ep.hasICMPFilter) throw linuxerr.EOPNOTSUPP;
    if (name !== ICMPV6_FILTER) throw linuxerr.ENOPROTOOPT;
    ep.setICMPFilter(val);
    return true;
  }
  if (level === SOL_RAW || (level === IPPROTO_IPV6 && (name === IPV6_CHECKSUM || name === IPV6_HDRINCL))) {
    const v = readInt(val);
    if (name === IPV6_CHECKSUM) {
      // RFC 3542: an ICMPv6 socket's checksum is not the IPV6 level's to change.
      if (level === IPPROTO_IPV6 && ep.protocol === IPPROTO_ICMPV6) throw linuxerr.EINVAL;
      call(() => ep.setChecksumOffset(v));
      return true;
    }
    if (name === IPV6_HDRINCL) {
      if (v === 0) return true;
      t.kernel.log.warnOnce('inet:raw6hdrincl', 'IPV6_HDRINCL is not supported (ENOPROTOOPT)');
    }
    throw linuxerr.ENOPROTOOPT;
  }
  if (level === IPPROTO_IPV6 && (name === IPV6_RECVHOPLIMIT || name === IPV6_2292HOPLIMIT)) {
    const on = readInt(val) !== 0;
    if (name === IPV6_RECVHOPLIMIT) ep.recvHopLimit = on;
    else ep.recv2292HopLimit = on;
    return true;
  }
  if (level === IPPROTO_IP) throw linuxerr.ENOPROTOOPT;
  return false;
}

/** newInetSocket implements socket(AF_INET or AF_INET6, type, protocol). */
export function newInetSocket(t: Task, family: number, type: number, protocol: number): InetSocket {
  const v = family === abi.AF_INET ? 4 : 6;
  const stack = stackFor(t.kernel);
  switch (type) {
    case abi.SOCK_STREAM:
      if (protocol !== 0 && protocol !== IPPROTO_TCP) throw linuxerr.EPROTONOSUPPORT;
      return new InetSocket(t.creds, family, type, IPPROTO_TCP, 'tcp', stack.newTCPEndpoint(v));
    case abi.SOCK_DGRAM: {
      const icmp = v === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
      if (protocol === icmp) return new InetSocket(t.creds, family, type, icmp, 'ping', stack.newPingEndpoint(v));
      if (protocol !== 0 && protocol !== IPPROTO_UDP) throw linuxerr.EPROTONOSUPPORT;
      return new InetSocket(t.creds, family, type, IPPROTO_UDP, 'udp', stack.newUDPEndpoint(v));
    }
    case abi.SOCK_RAW:
      // socket(2) checked the protocol (1..255) and CAP_NET_RAW.
      return new InetSocket(t.creds, family, type, protocol, 'raw', call(() => stack.newRawEndpoint(v, protocol)));
    default:
      throw linuxerr.ESOCKTNOSUPPORT;
  }
}

registerFamily(abi.AF_INET, { create: (t, type, protocol) => newInetSocket(t, abi.AF_INET, type, protocol) });
registerFamily(abi.AF_INET6, { create: (t, type, protocol) => newInetSocket(t, abi.AF_INET6, type, protocol) });
