// The Stack: NICs, addresses, routes, and the dispatch of packets between
// links, IP and transport endpoints.
//
// Concurrency model: everything is synchronous and single-threaded. Public
// entry points (endpoint calls, timers, link deliveries) run inside
// enter()/exit(); packets that arrive while the stack is busy (a loopback
// write, a reply over a synchronous channel) are queued and processed when
// the outermost call finishes, so no endpoint is ever re-entered in the
// middle of an operation. Readiness notifications are deferred the same way
// and fired after the queue drained.

import { BROADCAST_MAC, BROADCAST_V4, isMulticast, maskAddress, multicastMac, subnetBroadcastV4, type Address, type LinkAddress } from '../addr.js';
import { PacketBuffer } from '../buffer.js';
import { realClock, type Clock } from '../clock.js';
import { errBadLocalAddress, errInvalidArgument, errNetworkUnreachable } from '../errors.js';
import { ERRNO } from '../../abi/linux/errno.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../header/ethernet.js';
import { ICMPV4_DEST_UNREACHABLE, ICMPV4_PROTO_UNREACHABLE } from '../header/icmpv4.js';
import { ICMPV6_PARAM_PROBLEM } from '../header/icmpv6.js';
import { IPV4_MIN_HEADER_LEN, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from '../header/ipv4.js';
import { IPV6_HEADER_LEN } from '../header/ipv6.js';
import type { LinkEndpoint } from '../link/endpoint.js';
import { TCPProtocol, type TCPConfig } from '../transport/tcp/protocol.js';
import { TCPEndpoint } from '../transport/tcp/endpoint.js';
import { UDPEndpoint, UDPProtocol } from '../transport/udp/endpoint.js';
import { PingEndpoint, PingProtocol } from '../transport/icmp/endpoint.js';
import { RawEndpoint, RawProtocol } from '../transport/raw/endpoint.js';
import type { Notifier } from '../waiter.js';
import { TransportDemuxer } from './demux.js';
import { IPv4Protocol } from './ipv4.js';
import { IPv6Protocol } from './ipv6.js';
import { DEFAULT_NEIGHBOR_CONFIG, type NeighborConfig } from './neighbor.js';
import { NIC } from './nic.js';
import { PortManager } from './ports.js';
import type { ControlError, NetProto, PacketInfo, Route, WriteParams } from './types.js';

export interface StackOptions {
  clock?: Clock;
  /** random returns numbers in [0, 1): ephemeral ports, ISNs, IP ids. Inject a seeded one for tests. */
  random?: () => number;
  tcp?: Partial<TCPConfig>;
  neighbor?: Partial<NeighborConfig>;
}

/** RouteEntry is one row of the routing table. */
export interface RouteEntry {
  destination: Address;
  prefixLen: number;
  /** gateway is '' for on-link routes. */
  gateway: Address;
  nic: number;
}

/** TransportProtocol is what the stack dispatches a transport protocol number to. */
export interface TransportProtocol {
  handlePacket(info: PacketInfo, pkt: PacketBuffer): void;
  /** quotedPorts returns [local, remote] port of a quoted packet this stack sent. */
  quotedPorts(t: Uint8Array): [number, number];
}

interface Inbound {
  nic: NIC;
  ethertype: number;
  pkt: PacketBuffer;
}

function newStats() {
  return {
    ip: {
      packetsReceived: 0,
      malformedPacketsReceived: 0,
      invalidDestinationAddressesReceived: 0,
      invalidSourceAddressesReceived: 0,
      packetsDelivered: 0,
      packetsSent: 0,
      fragmentsSent: 0,
      outgoingPacketErrors: 0,
      unknownProtocolReceived: 0,
    },
    icmp: { echoRequests: 0, echoReplies: 0, echoRepliesSent: 0, errorsSent: 0, errorsReceived: 0, invalid: 0 },
    arp: { sent: 0, received: 0, repliesSent: 0, malformed: 0 },
    ndp: { sent: 0, received: 0 },
    tcp: {
      activeOpens: 0,
      passiveOpens: 0,
      failedConnectionAttempts: 0,
      establishedResets: 0,
      currentEstablished: 0,
      segmentsReceived: 0,
      segmentsSent: 0,
      retransmits: 0,
      fastRetransmits: 0,
      timeouts: 0,
      resetsSent: 0,
      resetsReceived: 0,
      invalidSegmentsReceived: 0,
      checksumErrors: 0,
      listenOverflowSynDrop: 0,
      zeroWindowProbes: 0,
      keepaliveProbes: 0,
      sackRecoveries: 0,
    },
    udp: { packetsReceived: 0, unknownPortErrors: 0, receiveBufferErrors: 0, malformedPacketsReceived: 0, packetsSent: 0, checksumErrors: 0 },
  };
}

export type StackStats = ReturnType<typeof newStats>;

export class Stack {
  readonly clock: Clock;
  readonly random: () => number;
  readonly neighborConfig: NeighborConfig;
  readonly stats: StackStats = newStats();
  readonly ports: PortManager;
  readonly demux = new TransportDemuxer();
  readonly ipv4: IPv4Protocol;
  readonly ipv6: IPv6Protocol;
  readonly tcp: TCPProtocol;
  readonly udp: UDPProtocol;
  readonly ping: PingProtocol;
  /** raw holds the raw IP endpoints; inbound packets are copied to them only while it has any. */
  readonly raw = new RawProtocol();
  /** defaultTTL / defaultHopLimit are net.ipv4.ip_default_ttl / net.ipv6.conf.all.hop_limit. */
  defaultTTL = 64;
  defaultHopLimit = 64;

  private readonly nics = new Map<number, NIC>();
  private readonly localAddrs = new Map<Address, NIC>();
  private routes: RouteEntry[] = [];
  private readonly transports = new Map<number, TransportProtocol>();

  private depth = 0;
  private flushing = false;
  private inbound: Inbound[] = [];
  /** The other inbound array: flush swaps the two instead of allocating one per turn. */
  private inboundSpare: Inbound[] = [];
  private pendingNotify = new Map<Notifier, number>();
  private notifySpare = new Map<Notifier, number>();

  constructor(opts: StackOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.neighborConfig = { ...DEFAULT_NEIGHBOR_CONFIG, ...opts.neighbor };
    this.ports = new PortManager(this.random);
    this.ipv4 = new IPv4Protocol(this);
    this.ipv6 = new IPv6Protocol(this);
    this.tcp = new TCPProtocol(this, opts.tcp);
    this.udp = new UDPProtocol(this);
    this.ping = new PingProtocol(this);
    this.transports.set(PROTO_TCP, this.tcp);
    this.transports.set(PROTO_UDP, this.udp);
  }

  // ---- Configuration ----

  /** createNIC adds a NIC on link; ids start at 1. */
  createNIC(link: LinkEndpoint, opts: { id?: number; name?: string } = {}): NIC {
    const id = opts.id ?? this.nics.size + 1;
    if (this.nics.has(id)) throw errInvalidArgument;
    const nic = new NIC(this, id, opts.name ?? (link.capabilities.loopback ? 'lo' : `eth${id - 1}`), link);
    this.nics.set(id, nic);
    return nic;
  }

  nic(id: number): NIC | undefined {
    return this.nics.get(id);
  }

  allNICs(): NIC[] {
    return [...this.nics.values()];
  }

  nicByName(name: string): NIC | undefined {
    for (const n of this.nics.values()) if (n.name === name) return n;
    return undefined;
  }

  /** addAddress assigns addr/prefixLen to a NIC and adds the connected route. */
  addAddress(nicId: number, addr: Address, prefixLen: number): void {
    const nic = this.nics.get(nicId);
    if (nic === undefined || (addr.length !== 4 && addr.length !== 16)) throw errInvalidArgument;
    if (prefixLen < 0 || prefixLen > addr.length * 8) throw errInvalidArgument;
    nic.addAddress({ addr, prefixLen });
    this.localAddrs.set(addr, nic);
    this.addRoute({ destination: maskAddress(addr, prefixLen), prefixLen, gateway: '', nic: nicId });
  }

  removeAddress(nicId: number, addr: Address): void {
    const nic = this.nics.get(nicId);
    if (nic === undefined) throw errInvalidArgument;
    const p = nic.addresses(addr.length === 4 ? 4 : 6).find((x) => x.addr === addr);
    if (p === undefined || !nic.removeAddress(addr)) throw errBadLocalAddress;
    if (this.localAddrs.get(addr) === nic) this.localAddrs.delete(addr);
    const net = maskAddress(addr, p.prefixLen);
    const stillUsed = nic.addresses(addr.length === 4 ? 4 : 6).some((x) => x.prefixLen === p.prefixLen && maskAddress(x.addr, x.prefixLen) === net);
    if (!stillUsed) {
      this.routes = this.routes.filter((r) => !(r.nic === nicId && r.gateway === '' && r.destination === net && r.prefixLen === p.prefixLen));
    }
  }

  /** addRoute inserts a route, keeping the table ordered by prefix length (longest first). */
  addRoute(r: RouteEntry): void {
    if (this.routes.some((x) => x.destination === r.destination && x.prefixLen === r.prefixLen && x.gateway === r.gateway && x.nic === r.nic)) return;
    const i = this.routes.findIndex((x) => x.prefixLen < r.prefixLen);
    if (i < 0) this.routes.push(r);
    else this.routes.splice(i, 0, r);
  }

  /** removeRoutes drops the routes for which match returns true; returns how many. */
  removeRoutes(match: (r: RouteEntry) => boolean): number {
    const before = this.routes.length;
    this.routes = this.routes.filter((r) => !match(r));
    return before - this.routes.length;
  }

  get routeTable(): readonly RouteEntry[] {
    return this.routes;
  }

  // ---- Addressing and routing ----

  /** isLocalAddress reports whether a belongs to this stack (any NIC, weak host model; 127/8 with a loopback). */
  isLocalAddress(a: Address): boolean {
    if (this.localAddrs.has(a)) return true;
    if (a.length === 4 && a.charCodeAt(0) === 127) return this.loopbackNIC(4) !== undefined;
    return false;
  }

  /** ownerOf returns the NIC holding a, if local. */
  private ownerOf(a: Address): NIC | undefined {
    const n = this.localAddrs.get(a);
    if (n !== undefined) return n;
    if (a.length === 4 && a.charCodeAt(0) === 127) return this.loopbackNIC(4);
    return undefined;
  }

  private loopbackNIC(netProto?: NetProto): NIC | undefined {
    for (const n of this.nics.values()) {
      if (n.isLoopback && (netProto === undefined || n.addresses(netProto).length > 0)) return n;
    }
    return undefined;
  }

  /**
   * findRoute picks the NIC, source address and next hop for remote.
   * nicId 0 means any NIC; local '' means choose a source address.
   * Throws ErrNetworkUnreachable / ErrBadLocalAddress.
   */
  findRoute(nicId: number, local: Address, remote: Address, netProto: NetProto): Route {
    const ipHeader = netProto === 4 ? IPV4_MIN_HEADER_LEN : IPV6_HEADER_LEN;
    if (local !== '' && !this.isLocalAddress(local) && !(isMulticast(local) || local === BROADCAST_V4)) throw errBadLocalAddress;
    const owner = this.ownerOf(remote);
    if (owner !== undefined && (nicId === 0 || nicId === owner.id || this.nics.get(nicId)?.isLoopback)) {
      // Traffic to ourselves goes through the loopback NIC when there is one, else straight back in.
      const lo = owner.isLoopback ? owner : this.loopbackNIC();
      const nic = lo ?? owner;
      return {
        nic,
        netProto,
        local: local !== '' ? local : remote,
        remote,
        nextHop: remote,
        mtu: lo !== undefined ? lo.link.mtu : 65536,
        maxHeaderLength: nic.link.maxHeaderLength + ipHeader,
        checksumOffload: true,
        localDelivery: lo === undefined,
        linkDst: lo !== undefined ? '' : null,
        broadcast: false,
        multicast: false,
      };
    }
    if (remote === BROADCAST_V4 || isMulticast(remote)) {
      let nic = nicId !== 0 ? this.nics.get(nicId) : undefined;
      if (nic === undefined) {
        const entry = this.lookupTable(0, remote);
        nic = entry !== undefined ? this.nics.get(entry.nic) : undefined;
      }
      nic ??= [...this.nics.values()].find((n) => !n.isLoopback && n.addresses(netProto).length > 0);
      if (nic === undefined) throw errNetworkUnreachable;
      const src = local !== '' && !isMulticast(local) && local !== BROADCAST_V4 ? local : nic.primaryAddress(netProto, remote);
      if (src === '' && netProto === 6) throw errNetworkUnreachable;
      const bcast = remote === BROADCAST_V4;
      return this.makeRoute(nic, netProto, src || '\0\0\0\0', remote, remote, bcast ? BROADCAST_MAC : multicastMac(remote), bcast, !bcast);
    }
    const entry = this.lookupTable(nicId, remote);
    if (entry === undefined) throw errNetworkUnreachable;
    const nic = this.nics.get(entry.nic)!;
    const nextHop = entry.gateway !== '' ? entry.gateway : remote;
    const src = local !== '' ? local : nic.primaryAddress(netProto, nextHop);
    if (src === '') throw errNetworkUnreachable;
    let bcast = false;
    if (netProto === 4 && entry.gateway === '') {
      for (const p of nic.v4) if (p.prefixLen < 31 && subnetBroadcastV4(p.addr, p.prefixLen) === remote) bcast = true;
    }
    return this.makeRoute(nic, netProto, src, remote, nextHop, bcast ? BROADCAST_MAC : null, bcast, false);
  }

  private makeRoute(nic: NIC, netProto: NetProto, local: Address, remote: Address, nextHop: Address, linkDst: LinkAddress | null, broadcast: boolean, multicast: boolean): Route {
    const caps = nic.link.capabilities;
    return {
      nic,
      netProto,
      local,
      remote,
      nextHop,
      mtu: nic.link.mtu,
      maxHeaderLength: nic.link.maxHeaderLength + (netProto === 4 ? IPV4_MIN_HEADER_LEN : IPV6_HEADER_LEN),
      checksumOffload: caps.checksumOffload,
      localDelivery: false,
      linkDst: linkDst !== null && !caps.resolutionRequired ? '' : linkDst,
      broadcast,
      multicast,
    };
  }

  private lookupTable(nicId: number, remote: Address): RouteEntry | undefined {
    for (const r of this.routes) {
      if (r.destination.length !== remote.length) continue;
      if (nicId !== 0 && r.nic !== nicId) continue;
      if (!this.nics.get(r.nic)?.enabled) continue;
      if (prefixMatchFast(remote, r.destination, r.prefixLen)) return r;
    }
    return undefined;
  }

  // ---- Processing context ----

  /** enter starts a stack operation; always pair with exit() (try/finally). */
  enter(): void {
    if (this.depth++ === 0 && !this.flushing) this.nowValid = false;
  }

  /** exit ends an operation; the outermost one processes queued packets and notifications. */
  exit(): void {
    if (--this.depth === 0 && !this.flushing) {
      this.flush();
      this.nowValid = false;
    }
  }

  private nowCache = 0;
  private nowValid = false;

  /**
   * now is the clock's time, read once per outermost operation: a segment
   * stamps, times and arms several things, and the host clock is not free.
   * Outside an operation it reads the clock.
   */
  now(): number {
    if (this.depth === 0 && !this.flushing) return this.clock.now();
    if (!this.nowValid) {
      this.nowCache = this.clock.now();
      this.nowValid = true;
    }
    return this.nowCache;
  }

  /** runTimer runs a timer callback as a stack operation. */
  runTimer(fn: () => void): void {
    this.depth++;
    try {
      fn();
    } finally {
      this.exit();
    }
  }

  private flush(): void {
    this.flushing = true;
    this.nowValid = false;
    try {
      for (;;) {
        if (this.inbound.length > 0) {
          const q = this.inbound;
          const next = this.inboundSpare; // empty
          this.inbound = next;
          this.depth++;
          try {
            for (let i = 0; i < q.length; i++) {
              // A failing packet must not strand the rest of the queue.
              try {
                this.dispatch(q[i]);
              } catch (e) {
                this.inbound = q.slice(i + 1).concat(next);
                next.length = 0;
                throw e;
              }
            }
          } finally {
            this.depth--;
            q.length = 0;
            this.inboundSpare = q;
          }
          continue;
        }
        if (this.pendingNotify.size > 0) {
          const m = this.pendingNotify;
          this.pendingNotify = this.notifySpare; // empty
          try {
            m.forEach(fireNotify);
          } finally {
            m.clear();
            this.notifySpare = m;
          }
          continue;
        }
        break;
      }
    } finally {
      this.flushing = false;
      this.nowValid = false;
    }
  }

  /** notify schedules a readiness notification (fired once the stack is idle). */
  notify(n: Notifier, events: number): void {
    this.pendingNotify.set(n, (this.pendingNotify.get(n) ?? 0) | events);
    if (this.depth === 0 && !this.flushing) this.flush();
  }

  // ---- Inbound path ----

  /** deliverFromLink is every link's delivery callback. */
  deliverFromLink(nic: NIC, ethertype: number, pkt: PacketBuffer, _src: LinkAddress, _dst: LinkAddress): void {
    if (!nic.enabled) {
      nic.stats.rxDropped++;
      return;
    }
    const item = { nic, ethertype, pkt };
    if (this.depth > 0 || this.flushing) {
      // Busy (or firing notifications): the flush loop picks it up.
      this.inbound.push(item);
      return;
    }
    this.depth++;
    try {
      this.dispatch(item);
    } finally {
      this.exit();
    }
  }

  /** deliverLocal loops a packet sent to one of our own addresses (no loopback NIC). */
  deliverLocal(nic: NIC, ethertype: number, pkt: PacketBuffer): void {
    const copy = pkt.clone();
    copy.checksumVerified = true;
    this.deliverFromLink(nic, ethertype, copy, '', '');
  }

  private dispatch(item: Inbound): void {
    item.nic.stats.rxPackets++;
    item.nic.stats.rxBytes += item.pkt.size;
    switch (item.ethertype) {
      case ETHERTYPE_IPV4:
        this.ipv4.handlePacket(item.nic, item.pkt);
        return;
      case ETHERTYPE_IPV6:
        this.ipv6.handlePacket(item.nic, item.pkt);
        return;
      case ETHERTYPE_ARP:
        this.ipv4.handleARP(item.nic, item.pkt);
        return;
      default:
        item.nic.stats.rxDropped++;
    }
  }

  /** deliverTransport hands a reassembled, accepted IP payload to its transport protocol. */
  deliverTransport(info: PacketInfo, proto: number, pkt: PacketBuffer): void {
    // Raw sockets get a copy first; normal handling still follows (raw_local_deliver).
    const raw = this.raw.count !== 0 && this.raw.deliver(info, proto, pkt);
    const t = this.transports.get(proto);
    if (t !== undefined) {
      t.handlePacket(info, pkt);
      return;
    }
    if (info.netProto === 4 && proto === PROTO_ICMP) return this.ipv4.handleICMP(info, pkt);
    if (info.netProto === 6 && proto === PROTO_ICMPV6) return this.ipv6.handleICMP(info, pkt);
    if (proto === 59) return; // IPv6 "no next header"
    // A protocol some raw socket took is not unreachable.
    if (raw) return;
    this.stats.ip.unknownProtocolReceived++;
    if (info.netProto === 4) this.ipv4.sendError(info, pkt.data(), ICMPV4_DEST_UNREACHABLE, ICMPV4_PROTO_UNREACHABLE);
    else this.ipv6.sendError(info, pkt.data(), ICMPV6_PARAM_PROBLEM, 1, 6);
  }

  /**
   * deliverControl reports an ICMP error (or a local failure) about a packet
   * this stack sent from local to remote; t is its transport header.
   */
  deliverControl(netProto: NetProto, transProto: number, local: Address, remote: Address, t: Uint8Array, err: ControlError): void {
    let lport: number;
    let rport: number;
    if (transProto === PROTO_ICMP || transProto === PROTO_ICMPV6) {
      // Echo requests from ping endpoints: the identifier is the "port".
      lport = (t[4] << 8) | t[5];
      rport = 0;
      this.ping.handleControl(netProto, local, lport, remote, err);
      return;
    }
    const proto = this.transports.get(transProto);
    if (proto === undefined) return;
    [lport, rport] = proto.quotedPorts(t);
    const ep = this.demux.lookup(transProto, netProto, local, lport, remote, rport, 0);
    ep?.handleControl(err, remote, rport);
  }

  /** deliverEchoReply routes an echo reply to the ping endpoint owning ident. */
  deliverEchoReply(info: PacketInfo, ident: number, seq: number, msg: Uint8Array): void {
    this.ping.handleReply(info, ident, seq, msg);
  }

  /** resolutionFailed is told of packets dropped because their next hop never answered ARP/NDP. */
  resolutionFailed(ethertype: number, pkt: PacketBuffer): void {
    const b = pkt.headerBytes();
    const err: ControlError = { errno: ERRNO.EHOSTUNREACH, hard: false, local: true };
    if (ethertype === ETHERTYPE_IPV4) this.ipv4.deliverQuotedError(pkt.data(), err);
    else if (ethertype === ETHERTYPE_IPV6 && b.length >= IPV6_HEADER_LEN) this.ipv6.deliverQuotedError(pkt.data(), err);
  }

  // ---- Outbound path ----

  /** writePacket sends a transport packet along route. */
  writePacket(route: Route, protocol: number, pkt: PacketBuffer, params: WriteParams): void {
    if (route.netProto === 4) this.ipv4.writePacket(route, protocol, pkt, params);
    else this.ipv6.writePacket(route, protocol, pkt, params);
  }

  // ---- Endpoints ----

  /** newTCPEndpoint creates a TCP socket of family 4 (AF_INET) or 6 (AF_INET6). */
  newTCPEndpoint(family: NetProto): TCPEndpoint {
    return new TCPEndpoint(this, family);
  }

  /** newUDPEndpoint creates a UDP socket. */
  newUDPEndpoint(family: NetProto): UDPEndpoint {
    return new UDPEndpoint(this, family);
  }

  /** newPingEndpoint creates an ICMP echo ("ping") datagram socket. */
  newPingEndpoint(family: NetProto): PingEndpoint {
    return new PingEndpoint(this, family);
  }

  /** newRawEndpoint creates a raw IP socket for protocol (1..255). */
  newRawEndpoint(family: NetProto, protocol: number): RawEndpoint {
    return new RawEndpoint(this, family, protocol);
  }
}

function prefixMatchFast(a: Address, network: Address, prefixLen: number): boolean {
  if (prefixLen === 0) return true;
  const full = prefixLen >> 3;
  for (let i = 0; i < full; i++) if (a.charCodeAt(i) !== network.charCodeAt(i)) return false;
  const bits = prefixLen & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (a.charCodeAt(full) & mask) === (network.charCodeAt(full) & mask);
}

function fireNotify(ev: number, n: Notifier): void {
  n.fireNotify(ev);
}
