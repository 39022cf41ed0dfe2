// UDP endpoints (RFC 768) with Linux socket semantics: connect filters the
// peer, hard ICMP errors surface on connected sockets as SO_ERROR, broadcast
// needs SO_BROADCAST, the receive queue is bounded by SO_RCVBUF.

import { isUnspecified, LOOPBACK_V4, LOOPBACK_V6, type Address, type FullAddress } from '../../addr.js';
import { EMPTY, PacketBuffer } from '../../buffer.js';
import {
  errBadLocalAddress,
  errBroadcastDisabled,
  errClosedForSend,
  errDestinationRequired,
  errInvalidEndpointState,
  errMessageTooLong,
  errNotConnected,
  errorForErrno,
  errWouldBlock,
  errInvalidArgument,
} from '../../errors.js';
import { ICMPV4_DEST_UNREACHABLE, ICMPV4_PORT_UNREACHABLE } from '../../header/icmpv4.js';
import { ICMPV6_DEST_UNREACHABLE, ICMPV6_PORT_UNREACHABLE } from '../../header/icmpv6.js';
import { IPV4_MIN_HEADER_LEN, PROTO_UDP } from '../../header/ipv4.js';
import { IPV6_HEADER_LEN } from '../../header/ipv6.js';
import { UDP_HEADER_LEN, decodeUDP, encodeUDP, udpChecksumOK } from '../../header/udp.js';
import type { PortBinding } from '../../stack/ports.js';
import type { Stack, TransportProtocol } from '../../stack/stack.js';
import type { ControlError, NetProto, PacketInfo, Route, TransportEndpointHandler } from '../../stack/types.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDHUP } from '../../waiter.js';
import { SocketBase, type NetAddress } from '../base.js';

/** Default SO_RCVBUF / SO_SNDBUF of a UDP socket (net.core.rmem_default / wmem_default). */
export const UDP_DEFAULT_BUF = 212992;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

/** RecvResult is one received datagram. */
export interface RecvResult {
  /** data holds at most the requested number of bytes (a view: do not modify). */
  data: Uint8Array;
  /** size is the datagram's real length (for MSG_TRUNC); 0 with from === null at EOF (after SHUT_RD). */
  size: number;
  from: FullAddress | null;
  /** dst is the local address the datagram was sent to (IP_PKTINFO). */
  dst: Address;
  nic: number;
  ttl: number;
  tos: number;
}

interface Datagram {
  data: Uint8Array;
  from: FullAddress;
  dst: Address;
  nic: number;
  ttl: number;
  tos: number;
}

const INITIAL = 0;
const BOUND = 1;
const CONNECTED = 2;
const CLOSED = 3;

export class UDPEndpoint extends SocketBase implements TransportEndpointHandler {
  private state = INITIAL;
  private bindings: PortBinding[] = [];
  private port = 0;
  /** explicitlyBound: bind() was called (disconnect keeps the port). */
  private explicitlyBound = false;
  /** bindAddr is the bound address on the wire ('' = any), with its IP version. */
  private bindAddr: Address = '';
  private bindNetProto: NetProto;
  private remote: NetAddress | null = null;
  private route: Route | null = null;
  private connLocal: Address = '';
  private queue: Datagram[] = [];
  private queueBytes = 0;
  private error = 0;
  private shutRead = false;
  private shutWrite = false;

  constructor(stack: Stack, family: NetProto) {
    super(stack, family, UDP_DEFAULT_BUF, UDP_DEFAULT_BUF);
    this.bindNetProto = family;
  }

  // ---- Binding and connecting ----

  private bindingsFor(n: NetAddress): PortBinding[] {
    if (this.family === 6 && n.netProto === 6 && n.addr === '' && !this.v6only) {
      return [
        { netProto: 6, addr: '' },
        { netProto: 4, addr: '' },
      ];
    }
    return [{ netProto: n.netProto, addr: n.addr }];
  }

  /** bind assigns a local address; port 0 picks an ephemeral port. */
  bind(a: FullAddress): void {
    this.stack.enter();
    try {
      if (this.state !== INITIAL) throw errInvalidArgument;
      const n = this.toNet(a);
      if (n.addr !== '' && !this.stack.isLocalAddress(n.addr) && !this.isGroupOrBroadcast(n.addr)) throw errBadLocalAddress;
      this.reservePort(n);
      this.explicitlyBound = true;
      this.registerBound();
      this.state = BOUND;
      // Linux's __inet6_bind: a specific IPv6 address (not v4-mapped) makes the socket v6-only.
      if (this.family === 6 && n.netProto === 6 && n.addr !== '') this.v6only = true;
    } finally {
      this.stack.exit();
    }
  }

  private isGroupOrBroadcast(a: Address): boolean {
    if (a.length === 16) return a.charCodeAt(0) === 0xff;
    return (a.charCodeAt(0) & 0xf0) === 0xe0 || a === '\xff\xff\xff\xff' || this.stack.allNICs().some((nic) => this.stack.ipv4.isBroadcast(nic, a));
  }

  private reservePort(n: NetAddress): void {
    const bindings = this.bindingsFor(n);
    this.port = this.stack.ports.reserve(PROTO_UDP, bindings, n.port, this);
    this.bindings = bindings;
    this.bindAddr = n.addr;
    this.bindNetProto = n.netProto;
    if (n.nic !== 0) this.bindNic = n.nic;
  }

  private registerBound(): void {
    for (const b of this.bindings) this.stack.demux.registerBound(PROTO_UDP, b.netProto, b.addr, this.port, this.bindNic, this);
  }

  private unregisterBound(): void {
    for (const b of this.bindings) this.stack.demux.unregisterBound(PROTO_UDP, b.netProto, b.addr, this.port, this);
  }

  private unregisterConnected(): void {
    if (this.remote === null) return;
    const r = this.remote;
    this.stack.demux.unregisterConnected(PROTO_UDP, r.netProto, this.connLocal, this.port, r.addr, r.port, this);
    this.remote = null;
    this.route = null;
  }

  private routeTo(n: NetAddress): Route {
    const dst = n.addr !== '' ? n.addr : n.netProto === 4 ? LOOPBACK_V4 : LOOPBACK_V6;
    if (this.state !== INITIAL && this.bindAddr !== '' && this.bindNetProto !== n.netProto) throw errInvalidArgument;
    const local = this.bindAddr !== '' && this.bindNetProto === n.netProto && !this.isGroupOrBroadcast(this.bindAddr) ? this.bindAddr : '';
    const route = this.stack.findRoute(this.bindNic || n.nic, local, dst, n.netProto);
    if (route.broadcast && !this.broadcast) throw errBroadcastDisabled;
    return route;
  }

  /** connect sets the default destination and filters incoming datagrams to that peer. */
  connect(a: FullAddress): void {
    this.stack.enter();
    try {
      if (this.state === CLOSED) throw errInvalidEndpointState;
      const n = this.toNet(a);
      const route = this.routeTo(n);
      if (this.state === INITIAL) {
        this.reservePort({ netProto: this.family, addr: '', port: 0, nic: 0 });
      } else if (this.state === BOUND) {
        this.unregisterBound();
      } else {
        this.unregisterConnected();
      }
      this.connLocal = route.local;
      this.stack.demux.registerConnected(PROTO_UDP, n.netProto, route.local, this.port, route.remote, n.port, this);
      this.remote = { netProto: n.netProto, addr: route.remote, port: n.port, nic: n.nic };
      this.route = route;
      this.state = CONNECTED;
    } finally {
      this.stack.exit();
    }
  }

  /** disconnect implements connect(AF_UNSPEC): forget the peer; an implicitly bound port is released. */
  disconnect(): void {
    this.stack.enter();
    try {
      if (this.state !== CONNECTED) return;
      this.unregisterConnected();
      if (this.explicitlyBound) {
        this.registerBound();
        this.state = BOUND;
      } else {
        this.stack.ports.release(PROTO_UDP, this.bindings, this.port, this);
        this.bindings = [];
        this.port = 0;
        this.state = INITIAL;
      }
    } finally {
      this.stack.exit();
    }
  }

  // ---- Data ----

  /** send transmits one datagram (to: required unless connected). Returns its length. */
  send(data: Uint8Array, to?: FullAddress): number {
    this.stack.enter();
    try {
      if (this.state === CLOSED) throw errInvalidEndpointState;
      if (this.shutWrite) throw errClosedForSend;
      if (this.error !== 0) throw errorForErrno(this.takeError());
      let route: Route;
      let dstPort: number;
      if (to !== undefined) {
        const n = this.toNet(to);
        route = this.routeTo(n);
        dstPort = n.port;
        if (this.state === INITIAL) {
          this.reservePort({ netProto: this.family, addr: '', port: 0, nic: 0 });
          this.registerBound();
          this.state = BOUND;
        }
      } else {
        if (this.state !== CONNECTED || this.route === null || this.remote === null) throw errDestinationRequired;
        route = this.route;
        dstPort = this.remote.port;
      }
      const ipHeader = route.netProto === 4 ? IPV4_MIN_HEADER_LEN : IPV6_HEADER_LEN;
      if (data.length > 65535 - UDP_HEADER_LEN - ipHeader) throw errMessageTooLong;
      // IP_PMTUDISC_DO and the like: a datagram over the MTU is refused, not fragmented.
      const df = this.dontFragment(route.netProto);
      if (df && data.length + UDP_HEADER_LEN + ipHeader > route.mtu) throw errMessageTooLong;
      if (route.netProto === 6 && dstPort === 0) throw errInvalidArgument;
      const pkt = PacketBuffer.outbound(route.maxHeaderLength + UDP_HEADER_LEN, data);
      const off = pkt.prepend(UDP_HEADER_LEN);
      encodeUDP(pkt.head, off, this.port, dstPort, data, route.local, route.remote, route.checksumOffload);
      this.stack.stats.udp.packetsSent++;
      this.stack.writePacket(route, PROTO_UDP, pkt, { ttl: this.effectiveTTL(route.netProto), tos: this.tos, df });
      return data.length;
    } finally {
      this.stack.exit();
    }
  }

  /** recv returns the next datagram (at most max bytes of it). Throws ErrWouldBlock when none. */
  recv(max: number, peek = false): RecvResult {
    this.stack.enter();
    try {
      if (this.error !== 0) throw errorForErrno(this.takeError());
      const d = this.queue[0];
      if (d === undefined) {
        if (this.shutRead || this.state === CLOSED) return { data: EMPTY, size: 0, from: null, dst: '', nic: 0, ttl: 0, tos: 0 };
        throw errWouldBlock;
      }
      if (!peek) {
        this.queue.shift();
        this.queueBytes -= d.data.length;
      }
      const data = d.data.length > max ? d.data.subarray(0, max) : d.data;
      return { data, size: d.data.length, from: { ...d.from }, dst: d.dst, nic: d.nic, ttl: d.ttl, tos: d.tos };
    } finally {
      this.stack.exit();
    }
  }

  /** nextSize returns the length of the next datagram (FIONREAD), 0 if none. */
  nextSize(): number {
    return this.queue[0]?.data.length ?? 0;
  }

  /** queuedBytes returns the bytes waiting in the receive queue. */
  get queuedBytes(): number {
    return this.queueBytes;
  }

  readiness(mask: number): number {
    let r = EVENT_OUT;
    if (this.queue.length > 0 || this.shutRead) r |= EVENT_IN;
    if (this.shutRead) r |= EVENT_RDHUP;
    if (this.shutRead && this.shutWrite) r |= EVENT_HUP;
    if (this.error !== 0) r |= EVENT_ERR;
    return r & (mask | EVENT_ERR | EVENT_HUP);
  }

  takeError(): number {
    const e = this.error;
    this.error = 0;
    return e;
  }

  getsockname(): FullAddress {
    if (this.state === CONNECTED) return this.fromNet(this.remote!.netProto, this.connLocal, this.port);
    return this.fromNet(this.bindNetProto, this.bindAddr, this.port);
  }

  getpeername(): FullAddress {
    if (this.state !== CONNECTED || this.remote === null) throw errNotConnected;
    return this.fromNet(this.remote.netProto, this.remote.addr, this.remote.port);
  }

  /** shutdown marks directions closed; an unconnected socket still wakes readers but reports ENOTCONN (as Linux). */
  shutdown(how: number): void {
    this.stack.enter();
    try {
      if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) throw errInvalidArgument;
      if (how !== SHUT_WR) this.shutRead = true;
      if (how !== SHUT_RD) this.shutWrite = true;
      this.signal(EVENT_IN | EVENT_OUT | EVENT_HUP | EVENT_RDHUP);
      if (this.state !== CONNECTED) throw errNotConnected;
    } finally {
      this.stack.exit();
    }
  }

  close(): void {
    this.stack.enter();
    try {
      if (this.state === CLOSED) return;
      if (this.state === CONNECTED) this.unregisterConnected();
      else if (this.state === BOUND) this.unregisterBound();
      if (this.port !== 0) this.stack.ports.release(PROTO_UDP, this.bindings, this.port, this);
      this.queue = [];
      this.queueBytes = 0;
      this.state = CLOSED;
      this.signal(EVENT_IN | EVENT_OUT | EVENT_HUP);
    } finally {
      this.stack.exit();
    }
  }

  // ---- From the stack ----

  handlePacket(info: PacketInfo, pkt: PacketBuffer, srcPort: number): void {
    if (this.shutRead || this.state === CLOSED) return;
    if (this.queueBytes >= this.rcvCapacity) {
      this.stack.stats.udp.receiveBufferErrors++;
      return;
    }
    const data = pkt.data();
    this.queue.push({ data, from: this.fromNet(info.netProto, info.src, srcPort), dst: info.dst, nic: info.nic.id, ttl: info.ttl, tos: info.tos });
    this.queueBytes += data.length;
    this.signal(EVENT_IN);
  }

  handleControl(err: ControlError): void {
    // Without IP_RECVERR Linux reports only hard errors, and only to connected sockets.
    if (this.state !== CONNECTED || !err.hard) return;
    this.error = err.errno;
    this.signal(EVENT_ERR | EVENT_IN | EVENT_OUT);
  }
}

/** UDPProtocol validates datagrams and demultiplexes them. */
export class UDPProtocol implements TransportProtocol {
  constructor(private readonly stack: Stack) {}

  quotedPorts(t: Uint8Array): [number, number] {
    return [(t[0] << 8) | t[1], (t[2] << 8) | t[3]];
  }

  handlePacket(info: PacketInfo, pkt: PacketBuffer): void {
    const st = this.stack.stats.udp;
    const h = pkt.pullUp(UDP_HEADER_LEN);
    if (h === null) return void st.malformedPacketsReceived++;
    const f = decodeUDP(h);
    if (f.length < UDP_HEADER_LEN || f.length > pkt.size) return void st.malformedPacketsReceived++;
    pkt.trim(f.length);
    const whole = pkt.checksumVerified ? null : pkt.data();
    if (whole !== null && !udpChecksumOK(whole, info.src, info.dst, info.netProto === 6)) return void st.checksumErrors++;
    st.packetsReceived++;
    if (info.multi) {
      const eps = this.stack.demux.lookupBound(PROTO_UDP, info.netProto, info.dst, f.dstPort, info.nic.id);
      pkt.consume(UDP_HEADER_LEN);
      for (const ep of eps) ep.handlePacket(info, pkt.clone(), f.srcPort, f.dstPort);
      return;
    }
    const ep = this.stack.demux.lookup(PROTO_UDP, info.netProto, info.dst, f.dstPort, info.src, f.srcPort, info.nic.id);
    if (ep === undefined) {
      st.unknownPortErrors++;
      if (isUnspecified(info.src)) return;
      const quoted = pkt.data();
      if (info.netProto === 4) this.stack.ipv4.sendError(info, quoted, ICMPV4_DEST_UNREACHABLE, ICMPV4_PORT_UNREACHABLE);
      else this.stack.ipv6.sendError(info, quoted, ICMPV6_DEST_UNREACHABLE, ICMPV6_PORT_UNREACHABLE);
      return;
    }
    pkt.consume(UDP_HEADER_LEN);
    ep.handlePacket(info, pkt, f.srcPort, f.dstPort);
  }
}
