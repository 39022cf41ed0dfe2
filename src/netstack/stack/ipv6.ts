// IPv6: receive (extension headers, reassembly, multicast groups), send
// (fragment header over the MTU), ICMPv6 echo and errors, and neighbor
// discovery (solicitations and advertisements only: no router discovery,
// no DAD, no SLAAC).

import { ALL_NODES_V6, isMulticast, multicastMac, solicitedNode, type Address } from '../addr.js';
import { PacketBuffer } from '../buffer.js';
import { ERRNO } from '../../abi/linux/errno.js';
import {
  ICMPV6_DEST_UNREACHABLE,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_HEADER_LEN,
  ICMPV6_NEIGHBOR_ADVERT,
  ICMPV6_NEIGHBOR_SOLICIT,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAM_PROBLEM,
  ICMPV6_TIME_EXCEEDED,
  NA_FLAG_OVERRIDE,
  NA_FLAG_SOLICITED,
  NDP_MESSAGE_LEN,
  decodeICMPv6,
  decodeNDP,
  encodeICMPv6,
  encodeNDP,
} from '../header/icmpv6.js';
import { PROTO_ICMPV6 } from '../header/ipv4.js';
import {
  EXT_FRAGMENT,
  IPV6_FRAGMENT_HEADER_LEN,
  IPV6_HEADER_LEN,
  IPV6_MIN_MTU,
  decodeIPv6,
  encodeFragmentHeader,
  encodeIPv6,
  walkExtensionHeaders,
} from '../header/ipv6.js';
import { Reassembler } from './fragment.js';
import type { NIC } from './nic.js';
import type { Stack } from './stack.js';
import type { ControlError, PacketInfo, Route, WriteParams } from './types.js';
import { netHeaderOf } from './types.js';

// Linux's icmpv6_err_convert for destination unreachable codes: [errno, hard].
const UNREACH_ERRORS: ReadonlyArray<readonly [number, boolean]> = [
  [ERRNO.ENETUNREACH, false],
  [ERRNO.EACCES, true],
  [ERRNO.EHOSTUNREACH, false],
  [ERRNO.EHOSTUNREACH, false],
  [ERRNO.ECONNREFUSED, true],
  [ERRNO.EACCES, true],
  [ERRNO.EACCES, true],
];

const NDP_HOP_LIMIT = 255;

/** isUpperLayer reports whether next is a protocol we deliver (not an extension header). */
function isUpperLayer(next: number): boolean {
  return next === 6 || next === 17 || next === PROTO_ICMPV6 || next === 59;
}

export class IPv6Protocol {
  private nextId = 0;
  readonly reassembler: Reassembler;

  constructor(private readonly stack: Stack) {
    this.reassembler = new Reassembler(stack.clock, { timeoutMs: 60000, maxBytes: 4 << 20 });
    this.nextId = Math.floor(stack.random() * 0x100000000) >>> 0;
  }

  handlePacket(nic: NIC, pkt: PacketBuffer): void {
    const st = this.stack.stats.ip;
    st.packetsReceived++;
    const h = pkt.pullUp(IPV6_HEADER_LEN);
    const f = h === null ? null : decodeIPv6(h, pkt.size);
    if (f === null || h === null) return void st.malformedPacketsReceived++;
    pkt.trim(IPV6_HEADER_LEN + f.payloadLength);
    let multi = false;
    if (!this.stack.isLocalAddress(f.dst)) {
      if (isMulticast(f.dst) && nic.groupsV6.has(f.dst)) multi = true;
      else return void st.invalidDestinationAddressesReceived++;
    }
    if (isMulticast(f.src)) return void st.invalidSourceAddressesReceived++;
    pkt.consume(IPV6_HEADER_LEN);
    let proto = f.nextHeader;
    if (!isUpperLayer(proto)) {
      const verified = pkt.checksumVerified;
      let data = pkt.data();
      let w = walkExtensionHeaders(data, 0, proto);
      if (w === null) return void st.malformedPacketsReceived++;
      if (w.fragment !== undefined) {
        const key = f.src + f.dst + '/' + w.fragment.id;
        const whole = this.reassembler.add(key, w.fragment.offset, w.fragment.more, data.subarray(w.offset));
        if (whole === null) return;
        data = whole;
        w = walkExtensionHeaders(data, 0, w.proto);
        if (w === null || w.fragment !== undefined) return void st.malformedPacketsReceived++;
      }
      proto = w.proto;
      pkt = PacketBuffer.inbound(data.subarray(w.offset));
      pkt.checksumVerified = verified;
    }
    st.packetsDelivered++;
    const info: PacketInfo = {
      nic, netProto: 6, src: f.src, dst: f.dst, ttl: f.hopLimit, tos: f.trafficClass, multi,
      netBuf: h, netOff: 0, netLen: h.length,
    };
    this.stack.deliverTransport(info, proto, pkt);
  }

  writePacket(route: Route, protocol: number, pkt: PacketBuffer, params: WriteParams): void {
    const payloadLength = pkt.size;
    if (payloadLength + IPV6_HEADER_LEN > route.mtu && !route.localDelivery) {
      this.fragment(route, protocol, pkt, params);
      return;
    }
    const off = pkt.prepend(IPV6_HEADER_LEN);
    encodeIPv6(pkt.head, off, {
      trafficClass: params.tos,
      flowLabel: 0,
      payloadLength,
      nextHeader: protocol,
      hopLimit: params.ttl,
      src: route.local,
      dst: route.remote,
    });
    this.stack.stats.ip.packetsSent++;
    route.nic.writeIP(route, pkt);
  }

  private fragment(route: Route, protocol: number, pkt: PacketBuffer, params: WriteParams): void {
    const data = pkt.data();
    const maxData = (Math.max(route.mtu, IPV6_MIN_MTU) - IPV6_HEADER_LEN - IPV6_FRAGMENT_HEADER_LEN) & ~7;
    if (data.length > 65535 - IPV6_FRAGMENT_HEADER_LEN) return void this.stack.stats.ip.outgoingPacketErrors++;
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    for (let off = 0; off < data.length; off += maxData) {
      const chunk = data.subarray(off, Math.min(off + maxData, data.length));
      const more = off + chunk.length < data.length;
      const frag = PacketBuffer.outbound(route.maxHeaderLength + IPV6_FRAGMENT_HEADER_LEN, chunk);
      const fo = frag.prepend(IPV6_FRAGMENT_HEADER_LEN);
      encodeFragmentHeader(frag.head, fo, protocol, off, more, id);
      const o = frag.prepend(IPV6_HEADER_LEN);
      encodeIPv6(frag.head, o, {
        trafficClass: params.tos,
        flowLabel: 0,
        payloadLength: IPV6_FRAGMENT_HEADER_LEN + chunk.length,
        nextHeader: EXT_FRAGMENT,
        hopLimit: params.ttl,
        src: route.local,
        dst: route.remote,
      });
      this.stack.stats.ip.packetsSent++;
      this.stack.stats.ip.fragmentsSent++;
      route.nic.writeIP(route, frag);
    }
  }

  handleICMP(info: PacketInfo, pkt: PacketBuffer): void {
    const st = this.stack.stats.icmp;
    const data = pkt.data();
    const icmp = pkt.checksumVerified
      ? data.length >= ICMPV6_HEADER_LEN
        ? { type: data[0], code: data[1], rest: ((data[4] << 24) | (data[5] << 16) | (data[6] << 8) | data[7]) >>> 0 }
        : null
      : decodeICMPv6(data, info.src, info.dst);
    if (icmp === null) return void st.invalid++;
    switch (icmp.type) {
      case ICMPV6_ECHO_REQUEST:
        st.echoRequests++;
        this.sendEchoReply(info, icmp.rest, data.subarray(ICMPV6_HEADER_LEN));
        return;
      case ICMPV6_ECHO_REPLY:
        st.echoReplies++;
        this.stack.deliverEchoReply(info, icmp.rest >>> 16, icmp.rest & 0xffff, data);
        return;
      case ICMPV6_NEIGHBOR_SOLICIT:
        this.handleNS(info, data);
        return;
      case ICMPV6_NEIGHBOR_ADVERT:
        this.handleNA(info, data);
        return;
      case ICMPV6_DEST_UNREACHABLE:
      case ICMPV6_PACKET_TOO_BIG:
      case ICMPV6_TIME_EXCEEDED:
      case ICMPV6_PARAM_PROBLEM: {
        st.errorsReceived++;
        let err: ControlError;
        if (icmp.type === ICMPV6_DEST_UNREACHABLE) {
          const [errno, hard] = UNREACH_ERRORS[icmp.code] ?? [ERRNO.EHOSTUNREACH, false];
          err = { errno, hard, local: false };
        } else if (icmp.type === ICMPV6_PACKET_TOO_BIG) {
          err = { errno: ERRNO.EMSGSIZE, hard: false, local: false, mtu: icmp.rest };
        } else if (icmp.type === ICMPV6_TIME_EXCEEDED) {
          err = { errno: ERRNO.EHOSTUNREACH, hard: false, local: false };
        } else {
          err = { errno: ERRNO.EPROTO, hard: true, local: false };
        }
        this.deliverQuotedError(data.subarray(ICMPV6_HEADER_LEN), err);
        return;
      }
      default:
        return;
    }
  }

  /** deliverQuotedError finds the flow of a quoted IPv6 packet we sent and reports err. */
  deliverQuotedError(quoted: Uint8Array, err: ControlError): void {
    if (quoted.length < IPV6_HEADER_LEN || quoted[0] >> 4 !== 6) return;
    const src = String.fromCharCode(...quoted.subarray(8, 24));
    const dst = String.fromCharCode(...quoted.subarray(24, 40));
    const w = walkExtensionHeaders(quoted, IPV6_HEADER_LEN, quoted[6]);
    if (w === null || (w.fragment !== undefined && w.fragment.offset !== 0)) return;
    const t = quoted.subarray(w.offset);
    if (t.length < 8) return;
    this.stack.deliverControl(6, w.proto, src, dst, t, err);
  }

  private sendEchoReply(info: PacketInfo, rest: number, body: Uint8Array): void {
    let route: Route;
    try {
      route = this.stack.findRoute(info.nic.id, info.multi ? '' : info.dst, info.src, 6);
    } catch {
      return;
    }
    const pkt = PacketBuffer.outbound(route.maxHeaderLength + ICMPV6_HEADER_LEN, body);
    const off = pkt.prepend(ICMPV6_HEADER_LEN);
    encodeICMPv6(pkt.head, off, { type: ICMPV6_ECHO_REPLY, code: 0, rest }, body, route.local, route.remote);
    this.stack.stats.icmp.echoRepliesSent++;
    this.writePacket(route, PROTO_ICMPV6, pkt, { ttl: this.stack.defaultHopLimit, tos: 0 });
  }

  /** sendError sends an ICMPv6 error about an inbound packet (RFC 4443 2.4 limits). */
  sendError(info: PacketInfo, quotedTransport: Uint8Array, type: number, code: number, rest = 0): void {
    if (info.multi || info.src === '\0'.repeat(16)) return;
    let route: Route;
    try {
      route = this.stack.findRoute(info.nic.id, info.dst, info.src, 6);
    } catch {
      return;
    }
    const h = netHeaderOf(info);
    const room = IPV6_MIN_MTU - IPV6_HEADER_LEN - ICMPV6_HEADER_LEN - h.length;
    const body = new Uint8Array(h.length + Math.min(quotedTransport.length, room));
    body.set(h);
    body.set(quotedTransport.subarray(0, body.length - h.length), h.length);
    const pkt = PacketBuffer.outbound(route.maxHeaderLength + ICMPV6_HEADER_LEN, body);
    const off = pkt.prepend(ICMPV6_HEADER_LEN);
    encodeICMPv6(pkt.head, off, { type, code, rest }, body, route.local, route.remote);
    this.stack.stats.icmp.errorsSent++;
    this.writePacket(route, PROTO_ICMPV6, pkt, { ttl: this.stack.defaultHopLimit, tos: 0 });
  }

  /** sendNeighborSolicit multicasts an NS for target from nic. */
  sendNeighborSolicit(nic: NIC, target: Address): void {
    const src = nic.primaryAddress(6, target);
    if (src === '') return;
    const dst = solicitedNode(target);
    this.sendNDP(nic, ICMPV6_NEIGHBOR_SOLICIT, src, dst, multicastMac(dst), { target, linkAddr: nic.link.linkAddress, flags: 0 });
  }

  private sendNDP(
    nic: NIC,
    type: number,
    src: Address,
    dst: Address,
    dstMac: string,
    m: { target: Address; linkAddr: string; flags: number },
  ): void {
    const pkt = PacketBuffer.outbound(nic.link.maxHeaderLength + IPV6_HEADER_LEN + NDP_MESSAGE_LEN);
    const off = pkt.prepend(NDP_MESSAGE_LEN);
    const len = encodeNDP(pkt.head, off, type, m, src, dst);
    pkt.trim(len);
    const ho = pkt.prepend(IPV6_HEADER_LEN);
    encodeIPv6(pkt.head, ho, { trafficClass: 0, flowLabel: 0, payloadLength: len, nextHeader: PROTO_ICMPV6, hopLimit: NDP_HOP_LIMIT, src, dst });
    this.stack.stats.ndp.sent++;
    nic.writeLink(dstMac, 0x86dd, pkt);
  }

  private handleNS(info: PacketInfo, data: Uint8Array): void {
    if (info.ttl !== NDP_HOP_LIMIT) return;
    const m = decodeNDP(data);
    if (m === null || isMulticast(m.target)) return;
    this.stack.stats.ndp.received++;
    const nic = info.nic;
    if (!nic.hasAddress(m.target)) return;
    const unspecifiedSrc = info.src === '\0'.repeat(16);
    if (!unspecifiedSrc && m.linkAddr !== '') nic.ndp.confirm(info.src, m.linkAddr, true);
    const dst = unspecifiedSrc ? ALL_NODES_V6 : info.src;
    const dstMac = unspecifiedSrc ? multicastMac(ALL_NODES_V6) : m.linkAddr || nic.ndp.lookup(info.src);
    if (dstMac === undefined || dstMac === '') return;
    const flags = (unspecifiedSrc ? 0 : NA_FLAG_SOLICITED) | NA_FLAG_OVERRIDE;
    this.sendNDP(nic, ICMPV6_NEIGHBOR_ADVERT, m.target, dst, dstMac, { target: m.target, linkAddr: nic.link.linkAddress, flags });
  }

  private handleNA(info: PacketInfo, data: Uint8Array): void {
    if (info.ttl !== NDP_HOP_LIMIT) return;
    const m = decodeNDP(data);
    if (m === null || m.linkAddr === '') return;
    this.stack.stats.ndp.received++;
    info.nic.ndp.confirm(m.target, m.linkAddr, false);
  }
}
