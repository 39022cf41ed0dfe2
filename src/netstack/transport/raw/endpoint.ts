// Raw IP sockets, as Linux's SOCK_RAW (net/ipv4/raw.c, net/ipv6/raw.c).
//
// Receive: every inbound IP packet of the socket's protocol, once accepted
// and reassembled, is copied to each raw endpoint that matches it (bound
// local address, connected peer, bound device), besides its normal handling.
// An IPv4 endpoint gets the IP header and the payload, an IPv6 one the
// payload only. ICMP_FILTER / ICMP6_FILTER drop ICMP types per socket.
//
// Send: IPv4 data is the payload and the stack adds the header, unless
// IP_HDRINCL (implied by protocol 255, IPPROTO_RAW), where the user's header
// goes out with its total length and checksum filled in (and the id and the
// source when zero). IPv6 data is always the payload; the stack computes
// the checksum at IPV6_CHECKSUM's offset (on by default at 2 for ICMPv6).

import { type Address, type FullAddress, isMulticast, BROADCAST_V4, writeAddr } from '../../addr.js';
import { PacketBuffer } from '../../buffer.js';
import {
  errBadLocalAddress,
  errBroadcastDisabled,
  errDestinationRequired,
  errInvalidArgument,
  errInvalidEndpointState,
  errMessageTooLong,
  errNetworkUnreachable,
  errNotConnected,
  errWouldBlock,
} from '../../errors.js';
import { checksum, finish, pseudoHeaderChecksum } from '../../header/checksum.js';
import { IPV4_MIN_HEADER_LEN, PROTO_ICMP, PROTO_ICMPV6 } from '../../header/ipv4.js';
import { IPV6_HEADER_LEN } from '../../header/ipv6.js';
import type { Stack } from '../../stack/stack.js';
import type { NetProto, PacketInfo, Route } from '../../stack/types.js';
import { EVENT_IN, EVENT_OUT } from '../../waiter.js';
import { SocketBase, type NetAddress } from '../base.js';

/** PROTO_RAW is IPPROTO_RAW: send-only, the user writes the IP header. */
export const PROTO_RAW = 255;
/** ICMP_FILTER_LEN / ICMP6_FILTER_LEN are sizeof(struct icmp_filter) / sizeof(struct icmp6_filter). */
export const ICMP_FILTER_LEN = 4;
export const ICMP6_FILTER_LEN = 32;
/** Linux's default raw socket buffers (net.core.rmem_default / wmem_default). */
const DEFAULT_BUF = 212992;

export interface RawPacket {
  /** data is the packet as the socket reads it (at most the requested length). */
  data: Uint8Array;
  /** size is the whole packet's length (MSG_TRUNC). */
  size: number;
  /** from is the packet's source, port 0. */
  from: FullAddress;
  /** ttl is the packet's TTL / hop limit (IPV6_HOPLIMIT control messages). */
  ttl: number;
}

interface Queued {
  data: Uint8Array;
  netProto: NetProto;
  src: Address;
  ttl: number;
}

/** RawProtocol keeps the open raw endpoints by (IP version, protocol). */
export class RawProtocol {
  /** count is the number of registered endpoints: the stack skips raw delivery while it is 0. */
  count = 0;
  private readonly byProto = new Map<number, Set<RawEndpoint>>();

  register(ep: RawEndpoint): void {
    const k = ep.family * 512 + ep.protocol;
    let s = this.byProto.get(k);
    if (s === undefined) this.byProto.set(k, (s = new Set()));
    if (!s.has(ep)) {
      s.add(ep);
      this.count++;
    }
  }

  unregister(ep: RawEndpoint): void {
    const k = ep.family * 512 + ep.protocol;
    const s = this.byProto.get(k);
    if (s?.delete(ep)) {
      this.count--;
      if (s.size === 0) this.byProto.delete(k);
    }
  }

  /** endpoints lists the registered endpoints (for /proc/net/raw). */
  endpoints(): RawEndpoint[] {
    const out: RawEndpoint[] = [];
    for (const s of this.byProto.values()) out.push(...s);
    return out;
  }

  /**
   * deliver copies an accepted inbound packet (pkt starts at the transport
   * header) to every matching endpoint. Returns whether any matched, filters
   * aside: then an unknown protocol draws no ICMP error (raw_local_deliver).
   */
  deliver(info: PacketInfo, proto: number, pkt: PacketBuffer): boolean {
    const s = this.byProto.get(info.netProto * 512 + proto);
    if (s === undefined) return false;
    let bytes: Uint8Array | null = null;
    let matched = false;
    for (const ep of s) {
      if (!ep.matches(info)) continue;
      matched = true;
      // One copy shared by every reader: queued bytes are never modified.
      bytes ??= info.netProto === 4 ? withIPv4Header(info, pkt.data()) : pkt.data().slice();
      ep.deliver(info, bytes, pkt.checksumVerified);
    }
    return matched;
  }
}

/** withIPv4Header returns the IPv4 header of info followed by payload, as
 *  one packet: the total length is the payload's, the fragment fields are
 *  cleared (a reassembled packet), and the header checksum is redone if that
 *  changed anything. */
function withIPv4Header(info: PacketInfo, payload: Uint8Array): Uint8Array {
  const hlen = info.netLen;
  const b = new Uint8Array(hlen + payload.length);
  b.set(info.netBuf.subarray(info.netOff, info.netOff + hlen));
  b.set(payload, hlen);
  const total = Math.min(b.length, 0xffff);
  const ff = ((b[6] << 8) | b[7]) & 0x4000; // keep DF only
  if (((b[2] << 8) | b[3]) !== total || ((b[6] << 8) | b[7]) !== ff) {
    b[2] = total >> 8;
    b[3] = total & 0xff;
    b[6] = ff >> 8;
    b[7] = 0;
    b[10] = b[11] = 0;
    const c = finish(checksum(b, 0, 0, hlen));
    b[10] = c >> 8;
    b[11] = c & 0xff;
  }
  return b;
}

export class RawEndpoint extends SocketBase {
  /** hdrincl is IP_HDRINCL (IPv4 only). */
  hdrincl: boolean;
  /** checksumOffset is IPV6_CHECKSUM: where the stack writes the checksum, -1 for none. */
  checksumOffset: number;
  /** recvHopLimit / recv2292HopLimit are IPV6_RECVHOPLIMIT / IPV6_2292HOPLIMIT, kept for the socket layer. */
  recvHopLimit = false;
  recv2292HopLimit = false;
  private readonly filter: Uint8Array;
  private bound: Address = '';
  /** boundByUser: bind chose the address (connect only fills in an unset one). */
  private boundByUser = false;
  private remote: NetAddress | null = null;
  private queue: Queued[] = [];
  private queueBytes = 0;
  private closed = false;

  /** protocol is 1..262 as Linux accepts (socket(2) says EPROTONOSUPPORT for 0);
   *  those over 255 match no packet and send their low byte, as Linux's. */
  constructor(stack: Stack, family: NetProto, readonly protocol: number) {
    super(stack, family, DEFAULT_BUF, DEFAULT_BUF);
    if (protocol < 1 || protocol > 262) throw errInvalidArgument;
    this.hdrincl = family === 4 && protocol === PROTO_RAW;
    this.checksumOffset = family === 6 && protocol === PROTO_ICMPV6 ? 2 : -1;
    this.filter = new Uint8Array(family === 4 ? ICMP_FILTER_LEN : ICMP6_FILTER_LEN);
    stack.enter();
    try {
      stack.raw.register(this);
    } finally {
      stack.exit();
    }
  }

  // ---- Options ----

  /** hasICMPFilter: ICMP_FILTER / ICMP6_FILTER apply (an ICMP or ICMPv6 socket). */
  get hasICMPFilter(): boolean {
    return this.protocol === (this.family === 4 ? PROTO_ICMP : PROTO_ICMPV6);
  }

  /** setICMPFilter stores the first bytes of v over the filter, as Linux copies
   *  min(optlen, sizeof filter) bytes. Bits set block a type. */
  setICMPFilter(v: Uint8Array): void {
    if (!this.hasICMPFilter) throw errInvalidArgument;
    this.filter.set(v.subarray(0, this.filter.length));
  }

  /** icmpFilter returns a copy of the filter (struct icmp_filter or icmp6_filter bytes). */
  icmpFilter(): Uint8Array {
    return this.filter.slice();
  }

  /** setChecksumOffset implements IPV6_CHECKSUM: -1 (any negative) turns it off; odd offsets are EINVAL. */
  setChecksumOffset(v: number): void {
    if (this.family !== 6) throw errInvalidArgument;
    if (v > 0 && (v & 1) !== 0) throw errInvalidArgument;
    this.checksumOffset = v < 0 ? -1 : v;
  }

  // ---- Names ----

  /** bind sets the local address received packets must be sent to ('' any); the port is ignored. */
  bind(a: FullAddress): void {
    this.stack.enter();
    try {
      if (this.closed) throw errInvalidEndpointState;
      const n = this.toNet(a);
      if (n.netProto !== this.family) throw errBadLocalAddress;
      if (n.addr !== '' && !this.stack.isLocalAddress(n.addr) && !isMulticast(n.addr) && n.addr !== BROADCAST_V4) throw errBadLocalAddress;
      this.bound = n.addr;
      this.boundByUser = n.addr !== '';
    } finally {
      this.stack.exit();
    }
  }

  /** connect fixes the default destination and accepts packets from it only. */
  connect(a: FullAddress): void {
    this.stack.enter();
    try {
      if (this.closed) throw errInvalidEndpointState;
      const n = this.toNet(a);
      if (n.netProto !== this.family) throw errNetworkUnreachable;
      const r = this.routeTo(n.addr, n.nic);
      this.remote = n;
      // As ip4_datagram_connect: an unbound socket takes the route's source address.
      if (this.bound === '') this.bound = r.local;
    } finally {
      this.stack.exit();
    }
  }

  /** disconnect is connect(AF_UNSPEC). */
  disconnect(): void {
    this.remote = null;
    if (!this.boundByUser) this.bound = '';
  }

  getsockname(): FullAddress {
    // Linux reports the protocol as the port (inet_sport = htons(protocol)).
    return this.fromNet(this.family, this.bound, this.protocol);
  }

  getpeername(): FullAddress {
    // inet_getname: a peer without a port (the usual raw connect) is "not connected".
    if (this.remote === null || this.remote.port === 0) throw errNotConnected;
    return this.fromNet(this.family, this.remote.addr, this.remote.port);
  }

  private routeTo(remote: Address, nic: number): Route {
    const local = this.bound !== '' && !isMulticast(this.bound) && this.bound !== BROADCAST_V4 ? this.bound : '';
    return this.stack.findRoute(nic || this.bindNic, local, remote === '' ? (this.family === 4 ? '\x7f\0\0\x01' : '\0'.repeat(15) + '\x01') : remote, this.family);
  }

  // ---- Data ----

  /** send transmits one datagram (see the file comment). Returns its length. */
  send(data: Uint8Array, to?: FullAddress): number {
    this.stack.enter();
    try {
      if (this.closed) throw errInvalidEndpointState;
      let dst: NetAddress;
      if (to !== undefined) {
        dst = this.toNet(to);
        if (dst.netProto !== this.family) throw errNetworkUnreachable;
      } else {
        if (this.remote === null) throw errDestinationRequired;
        dst = this.remote;
      }
      if (data.length > 0xffff) throw errMessageTooLong;
      const route = this.routeTo(dst.addr, dst.nic);
      if (route.broadcast && !this.broadcast) throw errBroadcastDisabled;
      if (this.family === 4) {
        this.send4(route, data);
      } else {
        // rawv6_sendmsg: the port names the next header; another protocol than
        // the socket's is EINVAL unless the socket is IPPROTO_RAW.
        const proto = dst.port !== 0 ? dst.port : this.protocol;
        if ((proto !== this.protocol && this.protocol !== PROTO_RAW) || proto > 255) throw errInvalidArgument;
        this.send6(route, data, proto);
      }
      return data.length;
    } finally {
      this.stack.exit();
    }
  }

  private send4(route: Route, data: Uint8Array): void {
    if (!this.hdrincl) {
      if (data.length > 0xffff - IPV4_MIN_HEADER_LEN) throw errMessageTooLong;
      const df = this.dontFragment(4);
      if (df && data.length + IPV4_MIN_HEADER_LEN > route.mtu) throw errMessageTooLong;
      const pkt = PacketBuffer.outbound(route.maxHeaderLength, data.slice());
      this.stack.writePacket(route, this.protocol, pkt, { ttl: this.effectiveTTL(4), tos: this.tos, df });
      return;
    }
    // raw_send_hdrinc: the user's header, completed; never fragmented.
    if (data.length > route.mtu) throw errMessageTooLong;
    if (data.length < IPV4_MIN_HEADER_LEN) throw errInvalidArgument;
    const ihl = (data[0] & 0x0f) * 4;
    if (ihl > data.length || ihl < IPV4_MIN_HEADER_LEN) throw errInvalidArgument;
    const b = data.slice();
    if (b[12] === 0 && b[13] === 0 && b[14] === 0 && b[15] === 0) writeAddr(b, 12, route.local);
    b[2] = b.length >> 8;
    b[3] = b.length & 0xff;
    if (b[4] === 0 && b[5] === 0) {
      const id = this.stack.ipv4.takeId();
      b[4] = id >> 8;
      b[5] = id & 0xff;
    }
    b[10] = b[11] = 0;
    const c = finish(checksum(b, 0, 0, ihl));
    b[10] = c >> 8;
    b[11] = c & 0xff;
    this.stack.ipv4.writeHeaderIncluded(route, PacketBuffer.outbound(route.maxHeaderLength - IPV4_MIN_HEADER_LEN, b));
  }

  private send6(route: Route, data: Uint8Array, proto: number): void {
    if (data.length > 0xffff) throw errMessageTooLong;
    const df = this.dontFragment(6);
    if (df && data.length + IPV6_HEADER_LEN > route.mtu) throw errMessageTooLong;
    const b = data.slice();
    const off = this.checksumOffset;
    if (off >= 0) {
      if (off + 1 >= b.length) throw errInvalidArgument;
      b[off] = b[off + 1] = 0;
      const c = finish(checksum(b, pseudoHeaderChecksum(proto, route.local, route.remote, b.length)));
      b[off] = c >> 8;
      b[off + 1] = c & 0xff;
    }
    const pkt = PacketBuffer.outbound(route.maxHeaderLength, b);
    this.stack.writePacket(route, proto, pkt, { ttl: this.effectiveTTL(6), tos: this.tos, df });
  }

  /** recv returns the next packet (at most max bytes of it). Throws ErrWouldBlock when none. */
  recv(max: number, peek = false): RawPacket {
    this.stack.enter();
    try {
      const d = this.queue[0];
      if (d === undefined) throw errWouldBlock;
      if (!peek) {
        this.queue.shift();
        this.queueBytes -= d.data.length;
      }
      return { data: d.data.length > max ? d.data.subarray(0, max) : d.data, size: d.data.length, from: this.fromNet(d.netProto, d.src, 0), ttl: d.ttl };
    } finally {
      this.stack.exit();
    }
  }

  /** nextSize is the length of the next packet (FIONREAD), 0 if none. */
  nextSize(): number {
    return this.queue[0]?.data.length ?? 0;
  }

  /** queuedBytes is what the receive queue holds. */
  get queuedBytes(): number {
    return this.queueBytes;
  }

  /** peerAddress is the connected peer in the socket's family ('' when unconnected): /proc/net/raw. */
  get peerAddress(): Address {
    return this.remote === null ? '' : this.fromNet(this.family, this.remote.addr, 0).addr;
  }

  /** connected reports whether connect gave a peer. */
  get connected(): boolean {
    return this.remote !== null;
  }

  // ---- Delivery (the stack's) ----

  /** matches is raw_v4_match / the IPv6 lookup: addresses and the bound device. */
  matches(info: PacketInfo): boolean {
    if (this.closed) return false;
    if (this.bound !== '' && this.bound !== info.dst) return false;
    if (this.remote !== null && this.remote.addr !== '' && this.remote.addr !== info.src) return false;
    return this.bindNic === 0 || this.bindNic === info.nic.id;
  }

  /** deliver queues bytes (the packet as this socket reads it) unless filtered or over SO_RCVBUF. */
  deliver(info: PacketInfo, bytes: Uint8Array, verified: boolean): void {
    const t = this.family === 4 ? info.netLen : 0;
    if (this.hasICMPFilter) {
      // Linux drops messages too short to hold the header it inspects.
      if (bytes.length < t + (this.family === 4 ? 8 : 4)) return;
      const type = bytes[t];
      if (this.family === 4) {
        if (type < 32 && (this.filter[type >> 3] & (1 << (type & 7))) !== 0) return;
      } else if ((this.filter[type >> 3] & (1 << (type & 7))) !== 0) {
        return;
      }
    }
    if (this.family === 6 && this.checksumOffset >= 0 && !verified) {
      if (checksum(bytes, pseudoHeaderChecksum(this.protocol, info.src, info.dst, bytes.length)) !== 0xffff) return;
    }
    if (this.queueBytes >= this.rcvCapacity) return;
    this.queue.push({ data: bytes, netProto: info.netProto, src: info.src, ttl: info.ttl });
    this.queueBytes += bytes.length;
    this.signal(EVENT_IN);
  }

  readiness(mask: number): number {
    let r = EVENT_OUT;
    if (this.queue.length > 0) r |= EVENT_IN;
    return r & mask;
  }

  takeError(): number {
    return 0;
  }

  close(): void {
    this.stack.enter();
    try {
      if (this.closed) return;
      this.closed = true;
      this.stack.raw.unregister(this);
      this.queue = [];
      this.queueBytes = 0;
    } finally {
      this.stack.exit();
    }
  }
}
