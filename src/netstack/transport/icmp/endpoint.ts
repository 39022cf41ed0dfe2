// ICMP echo ("ping") datagram sockets, as Linux's SOCK_DGRAM/IPPROTO_ICMP:
// the user sends an echo request (ICMP header + data), the stack fills in
// the identifier (the socket's "port") and checksum; echo replies carrying
// that identifier are queued for recv.

import { type Address, type FullAddress } from '../../addr.js';
import { EMPTY, PacketBuffer } from '../../buffer.js';
import {
  errBadLocalAddress,
  errDestinationRequired,
  errInvalidArgument,
  errInvalidEndpointState,
  errMessageTooLong,
  errNotConnected,
  errorForErrno,
  errWouldBlock,
} from '../../errors.js';
import { ICMPV4_ECHO, ICMPV4_HEADER_LEN } from '../../header/icmpv4.js';
import { ICMPV6_ECHO_REQUEST, encodeICMPv6 } from '../../header/icmpv6.js';
import { checksum, finish } from '../../header/checksum.js';
import { PROTO_ICMP, PROTO_ICMPV6 } from '../../header/ipv4.js';
import type { Stack } from '../../stack/stack.js';
import type { ControlError, NetProto, PacketInfo, Route } from '../../stack/types.js';
import { EVENT_ERR, EVENT_IN, EVENT_OUT } from '../../waiter.js';
import { SocketBase, type NetAddress } from '../base.js';

export interface PingReply {
  /** data is the ICMP message (header + payload), at most the requested length. */
  data: Uint8Array;
  size: number;
  from: FullAddress;
}

/** PingProtocol demultiplexes echo replies by identifier. */
export class PingProtocol {
  private readonly byIdent = new Map<string, PingEndpoint>();

  constructor(private readonly stack: Stack) {}

  register(netProto: NetProto, ident: number, ep: PingEndpoint): void {
    this.byIdent.set(netProto + '/' + ident, ep);
  }

  unregister(netProto: NetProto, ident: number, ep: PingEndpoint): void {
    const k = netProto + '/' + ident;
    if (this.byIdent.get(k) === ep) this.byIdent.delete(k);
  }

  handleReply(info: PacketInfo, ident: number, _seq: number, msg: Uint8Array): void {
    this.byIdent.get(info.netProto + '/' + ident)?.deliver(info, msg);
  }

  handleControl(netProto: NetProto, _local: Address, ident: number, _remote: Address, err: ControlError): void {
    this.byIdent.get(netProto + '/' + ident)?.handleControl(err);
  }

  get stackRef(): Stack {
    return this.stack;
  }
}

export class PingEndpoint extends SocketBase {
  private ident = 0;
  private bound: NetAddress | null = null;
  private remote: NetAddress | null = null;
  private route: Route | null = null;
  private queue: { data: Uint8Array; from: FullAddress }[] = [];
  private queueBytes = 0;
  private error = 0;
  private closed = false;

  constructor(stack: Stack, family: NetProto) {
    super(stack, family, 212992, 212992);
  }

  private get proto(): number {
    return this.family === 4 ? PROTO_ICMP : PROTO_ICMPV6;
  }

  /** bind picks the identifier (port 0: any free one). */
  bind(a: FullAddress): void {
    this.stack.enter();
    try {
      if (this.bound !== null || this.closed) throw errInvalidArgument;
      const n = this.toNet(a);
      if (n.netProto !== this.family) throw errInvalidArgument;
      if (n.addr !== '' && !this.stack.isLocalAddress(n.addr)) throw errBadLocalAddress;
      this.ident = this.stack.ports.reserve(this.proto, [{ netProto: this.family, addr: n.addr }], n.port, this);
      this.bound = n;
      this.stack.ping.register(this.family, this.ident, this);
    } finally {
      this.stack.exit();
    }
  }

  connect(a: FullAddress): void {
    this.stack.enter();
    try {
      const n = this.toNet(a);
      if (n.netProto !== this.family) throw errInvalidArgument;
      this.route = this.stack.findRoute(n.nic || this.bindNic, this.bound?.addr ?? '', n.addr, this.family);
      this.remote = n;
      if (this.bound === null) this.bindAny();
    } finally {
      this.stack.exit();
    }
  }

  private bindAny(): void {
    this.ident = this.stack.ports.reserve(this.proto, [{ netProto: this.family, addr: '' }], 0, this);
    this.bound = { netProto: this.family, addr: '', port: this.ident, nic: 0 };
    this.stack.ping.register(this.family, this.ident, this);
  }

  /** send transmits an echo request: msg is the ICMP header (type ECHO, code 0) + data. */
  send(msg: Uint8Array, to?: FullAddress): number {
    this.stack.enter();
    try {
      if (this.closed) throw errInvalidEndpointState;
      if (this.error !== 0) throw errorForErrno(this.takeError());
      const echo = this.family === 4 ? ICMPV4_ECHO : ICMPV6_ECHO_REQUEST;
      if (msg.length < ICMPV4_HEADER_LEN || msg[0] !== echo || msg[1] !== 0) throw errInvalidArgument;
      if (msg.length > 65535 - 48) throw errMessageTooLong;
      let route: Route;
      if (to !== undefined) {
        const n = this.toNet(to);
        route = this.stack.findRoute(n.nic || this.bindNic, this.bound?.addr ?? '', n.addr, this.family);
      } else {
        if (this.route === null) throw errDestinationRequired;
        route = this.route;
      }
      if (this.bound === null) this.bindAny();
      const body = new Uint8Array(msg.length);
      body.set(msg);
      body[4] = this.ident >> 8;
      body[5] = this.ident & 0xff;
      body[2] = body[3] = 0;
      if (this.family === 4) {
        const c = finish(checksum(body));
        body[2] = c >> 8;
        body[3] = c & 0xff;
      } else {
        encodeICMPv6(body, 0, { type: body[0], code: 0, rest: ((body[4] << 24) | (body[5] << 16) | (body[6] << 8) | body[7]) >>> 0 }, EMPTY, route.local, route.remote, body.length);
      }
      const pkt = PacketBuffer.outbound(route.maxHeaderLength, body);
      this.stack.writePacket(route, this.proto, pkt, { ttl: this.effectiveTTL(this.family), tos: this.tos });
      return msg.length;
    } finally {
      this.stack.exit();
    }
  }

  recv(max: number, peek = false): PingReply {
    this.stack.enter();
    try {
      if (this.error !== 0) throw errorForErrno(this.takeError());
      const d = this.queue[0];
      if (d === undefined) throw errWouldBlock;
      if (!peek) {
        this.queue.shift();
        this.queueBytes -= d.data.length;
      }
      return { data: d.data.length > max ? d.data.subarray(0, max) : d.data, size: d.data.length, from: d.from };
    } finally {
      this.stack.exit();
    }
  }

  deliver(info: PacketInfo, msg: Uint8Array): void {
    if (this.closed || this.queueBytes >= this.rcvCapacity) return;
    if (this.remote !== null && this.remote.addr !== '' && this.remote.addr !== info.src) return;
    this.queue.push({ data: msg, from: this.fromNet(info.netProto, info.src, 0) });
    this.queueBytes += msg.length;
    this.signal(EVENT_IN);
  }

  handleControl(err: ControlError): void {
    if (this.remote === null || !err.hard) return;
    this.error = err.errno;
    this.signal(EVENT_ERR | EVENT_IN);
  }

  readiness(mask: number): number {
    let r = EVENT_OUT;
    if (this.queue.length > 0) r |= EVENT_IN;
    if (this.error !== 0) r |= EVENT_ERR;
    return r & (mask | EVENT_ERR);
  }

  takeError(): number {
    const e = this.error;
    this.error = 0;
    return e;
  }

  getsockname(): FullAddress {
    return this.fromNet(this.family, this.bound?.addr ?? '', this.ident);
  }

  getpeername(): FullAddress {
    if (this.remote === null) throw errNotConnected;
    return this.fromNet(this.family, this.remote.addr, 0);
  }

  close(): void {
    this.stack.enter();
    try {
      if (this.closed) return;
      this.closed = true;
      if (this.bound !== null) {
        this.stack.ping.unregister(this.family, this.ident, this);
        this.stack.ports.release(this.proto, [{ netProto: this.family, addr: this.bound.addr }], this.ident, this);
      }
      this.queue = [];
    } finally {
      this.stack.exit();
    }
  }
}
