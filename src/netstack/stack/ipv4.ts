// IPv4: receive (validation, local acceptance, reassembly), send
// (fragmentation over the MTU), ICMPv4 echo and errors, and ARP.

import {
  BROADCAST_MAC,
  BROADCAST_V4,
  isMulticast,
  subnetBroadcastV4,
  type Address,
  type LinkAddress,
} from '../addr.js';
import { PacketBuffer } from '../buffer.js';
import { ERRNO } from '../../abi/linux/errno.js';
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, decodeARP, encodeARP } from '../header/arp.js';
import { ETHERTYPE_ARP } from '../header/ethernet.js';
import {
  ICMPV4_DEST_UNREACHABLE,
  ICMPV4_ECHO,
  ICMPV4_ECHO_REPLY,
  ICMPV4_HEADER_LEN,
  ICMPV4_PARAM_PROBLEM,
  ICMPV4_TIME_EXCEEDED,
  ICMPV4_FRAG_NEEDED,
  decodeICMPv4,
  encodeICMPv4,
} from '../header/icmpv4.js';
import {
  IPV4_FLAG_DF,
  IPV4_FLAG_MF,
  IPV4_MIN_HEADER_LEN,
  PROTO_ICMP,
  decodeIPv4,
  encodeIPv4,
} from '../header/ipv4.js';
import { Reassembler } from './fragment.js';
import type { NIC } from './nic.js';
import type { Stack } from './stack.js';
import type { ControlError, PacketInfo, Route, WriteParams } from './types.js';
import { netHeaderOf } from './types.js';

/** ALL_HOSTS_V4 is 224.0.0.1, the only IPv4 group we accept without membership. */
const ALL_HOSTS_V4 = '\xe0\0\0\x01';

// Linux's icmp_err_convert: [errno, hard] per destination-unreachable code.
const UNREACH_ERRORS: ReadonlyArray<readonly [number, boolean]> = [
  [ERRNO.ENETUNREACH, false],
  [ERRNO.EHOSTUNREACH, false],
  [ERRNO.ENOPROTOOPT, true],
  [ERRNO.ECONNREFUSED, true],
  [ERRNO.EMSGSIZE, false],
  [ERRNO.EOPNOTSUPP, false],
  [ERRNO.ENETUNREACH, true],
  [ERRNO.EHOSTDOWN, true],
  [ERRNO.ENONET, true],
  [ERRNO.ENETUNREACH, true],
  [ERRNO.EHOSTUNREACH, true],
  [ERRNO.ENETUNREACH, false],
  [ERRNO.EHOSTUNREACH, false],
  [ERRNO.EHOSTUNREACH, true],
  [ERRNO.EHOSTUNREACH, true],
  [ERRNO.EHOSTUNREACH, true],
];

export class IPv4Protocol {
  private nextId = 0;
  readonly reassembler: Reassembler;
  /** ignoreBroadcastEcho mirrors net.ipv4.icmp_echo_ignore_broadcasts (Linux default 1). */
  ignoreBroadcastEcho = true;

  constructor(private readonly stack: Stack) {
    this.reassembler = new Reassembler(stack.clock);
    this.nextId = Math.floor(stack.random() * 0x10000);
  }

  /** isBroadcast reports whether a is the limited broadcast or a subnet broadcast of nic. */
  isBroadcast(nic: NIC, a: Address): boolean {
    if (a === BROADCAST_V4) return true;
    for (const p of nic.v4) if (p.prefixLen < 31 && subnetBroadcastV4(p.addr, p.prefixLen) === a) return true;
    return false;
  }

  handlePacket(nic: NIC, pkt: PacketBuffer): void {
    const st = this.stack.stats.ip;
    st.packetsReceived++;
    const fixed = pkt.pullUpAt(IPV4_MIN_HEADER_LEN);
    if (fixed < 0) return void st.malformedPacketsReceived++;
    const hlen = (pkt.head[fixed] & 0x0f) * 4;
    const at = pkt.pullUpAt(hlen);
    const hb = pkt.head;
    const f = at < 0 ? null : decodeIPv4(hb, pkt.size, pkt.checksumVerified, at, at + hlen);
    if (f === null) return void st.malformedPacketsReceived++;
    pkt.trim(f.totalLength);
    let multi = false;
    if (!this.stack.isLocalAddress(f.dst)) {
      if (this.isBroadcast(nic, f.dst) || f.dst === ALL_HOSTS_V4) multi = true;
      else return void st.invalidDestinationAddressesReceived++;
    }
    if (f.src === BROADCAST_V4 || isMulticast(f.src)) return void st.invalidSourceAddressesReceived++;
    pkt.consume(f.headerLength);
    if ((f.flags & IPV4_FLAG_MF) !== 0 || f.fragmentOffset !== 0) {
      const key = f.src + f.dst + f.protocol + '/' + f.id;
      const whole = this.reassembler.add(key, f.fragmentOffset, (f.flags & IPV4_FLAG_MF) !== 0, pkt.data());
      if (whole === null) return;
      const verified = pkt.checksumVerified;
      pkt = PacketBuffer.inbound(whole);
      pkt.checksumVerified = verified;
    }
    st.packetsDelivered++;
    const info: PacketInfo = {
      nic, netProto: 4, src: f.src, dst: f.dst, ttl: f.ttl, tos: f.tos, multi, netBuf: hb, netOff: at, netLen: hlen,
    };
    this.stack.deliverTransport(info, f.protocol, pkt);
  }

  /** takeId returns the next identification value (a raw socket's IP_HDRINCL packet with id 0). */
  takeId(): number {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) & 0xffff;
    return id;
  }

  /** writeHeaderIncluded sends pkt, a whole IPv4 packet a raw socket built (IP_HDRINCL), along route. */
  writeHeaderIncluded(route: Route, pkt: PacketBuffer): void {
    this.stack.stats.ip.packetsSent++;
    route.nic.writeIP(route, pkt);
  }

  /** writePacket adds the IPv4 header and sends pkt (transport header + payload) along route. */
  writePacket(route: Route, protocol: number, pkt: PacketBuffer, params: WriteParams): void {
    const st = this.stack.stats.ip;
    const total = pkt.size + IPV4_MIN_HEADER_LEN;
    const id = this.nextId;
    this.nextId = (this.nextId + 1) & 0xffff;
    if (total > route.mtu && !route.localDelivery) {
      this.fragment(route, protocol, pkt, params, id);
      return;
    }
    const off = pkt.prepend(IPV4_MIN_HEADER_LEN);
    encodeIPv4(pkt.head, off, {
      tos: params.tos,
      totalLength: total,
      id,
      flags: params.df ? IPV4_FLAG_DF : 0,
      ttl: params.ttl,
      protocol,
      src: route.local,
      dst: route.remote,
    });
    st.packetsSent++;
    route.nic.writeIP(route, pkt);
  }

  private fragment(route: Route, protocol: number, pkt: PacketBuffer, params: WriteParams, id: number): void {
    const data = pkt.data();
    const maxData = (route.mtu - IPV4_MIN_HEADER_LEN) & ~7;
    if (maxData <= 0 || data.length > 65535 - IPV4_MIN_HEADER_LEN) {
      this.stack.stats.ip.outgoingPacketErrors++;
      return;
    }
    for (let off = 0; off < data.length; off += maxData) {
      const chunk = data.subarray(off, Math.min(off + maxData, data.length));
      const more = off + chunk.length < data.length;
      const frag = PacketBuffer.outbound(route.maxHeaderLength, chunk);
      const o = frag.prepend(IPV4_MIN_HEADER_LEN);
      encodeIPv4(frag.head, o, {
        tos: params.tos,
        totalLength: IPV4_MIN_HEADER_LEN + chunk.length,
        id,
        flags: more ? IPV4_FLAG_MF : 0,
        fragmentOffset: off,
        ttl: params.ttl,
        protocol,
        src: route.local,
        dst: route.remote,
      });
      this.stack.stats.ip.packetsSent++;
      this.stack.stats.ip.fragmentsSent++;
      route.nic.writeIP(route, frag);
    }
  }

  /** handleICMP processes an ICMPv4 message (pkt starts at the ICMP header). */
  handleICMP(info: PacketInfo, pkt: PacketBuffer): void {
    const st = this.stack.stats.icmp;
    const data = pkt.data();
    const icmp = decodeICMPv4(data);
    if (icmp === null) return void st.invalid++;
    switch (icmp.type) {
      case ICMPV4_ECHO: {
        st.echoRequests++;
        if (info.multi && this.ignoreBroadcastEcho) return;
        this.sendEchoReply(info, icmp.rest, data.subarray(ICMPV4_HEADER_LEN));
        return;
      }
      case ICMPV4_ECHO_REPLY:
        st.echoReplies++;
        this.stack.deliverEchoReply(info, icmp.rest >>> 16, icmp.rest & 0xffff, data);
        return;
      case ICMPV4_DEST_UNREACHABLE:
      case ICMPV4_TIME_EXCEEDED:
      case ICMPV4_PARAM_PROBLEM: {
        st.errorsReceived++;
        let err: ControlError;
        if (icmp.type === ICMPV4_DEST_UNREACHABLE) {
          const [errno, hard] = UNREACH_ERRORS[icmp.code] ?? [ERRNO.EHOSTUNREACH, false];
          err = { errno, hard, local: false };
          if (icmp.code === ICMPV4_FRAG_NEEDED) err.mtu = icmp.rest & 0xffff;
        } else if (icmp.type === ICMPV4_TIME_EXCEEDED) {
          err = { errno: ERRNO.EHOSTUNREACH, hard: false, local: false };
        } else {
          err = { errno: ERRNO.EPROTO, hard: true, local: false };
        }
        this.deliverQuotedError(data.subarray(ICMPV4_HEADER_LEN), err);
        return;
      }
      default:
        return;
    }
  }

  /** deliverQuotedError finds the flow of a quoted IPv4 packet (one we sent) and reports err to it. */
  deliverQuotedError(quoted: Uint8Array, err: ControlError): void {
    if (quoted.length < IPV4_MIN_HEADER_LEN) return;
    const ihl = (quoted[0] & 0x0f) * 4;
    if (quoted[0] >> 4 !== 4 || ihl < IPV4_MIN_HEADER_LEN || quoted.length < ihl + 8) return;
    const src = String.fromCharCode(quoted[12], quoted[13], quoted[14], quoted[15]);
    const dst = String.fromCharCode(quoted[16], quoted[17], quoted[18], quoted[19]);
    const t = quoted.subarray(ihl);
    this.stack.deliverControl(4, quoted[9], src, dst, t, err);
  }

  private sendEchoReply(info: PacketInfo, rest: number, body: Uint8Array): void {
    const local = info.multi ? '' : info.dst;
    let route: Route;
    try {
      route = this.stack.findRoute(info.nic.id, local, info.src, 4);
    } catch {
      return;
    }
    const pkt = PacketBuffer.outbound(route.maxHeaderLength + ICMPV4_HEADER_LEN, body);
    const off = pkt.prepend(ICMPV4_HEADER_LEN);
    encodeICMPv4(pkt.head, off, { type: ICMPV4_ECHO_REPLY, code: 0, rest }, body);
    this.stack.stats.icmp.echoRepliesSent++;
    this.writePacket(route, PROTO_ICMP, pkt, { ttl: this.stack.defaultTTL, tos: info.tos });
  }

  /**
   * sendError sends an ICMP error about an inbound packet; quoted is its IP
   * header followed by its payload. No errors about broadcast/multicast
   * packets, non-first fragments or ICMP errors (RFC 1122 3.2.2).
   */
  sendError(info: PacketInfo, quotedTransport: Uint8Array, type: number, code: number, rest = 0): void {
    if (info.multi || info.src === '\0\0\0\0') return;
    const h = netHeaderOf(info);
    if ((((h[6] << 8) | h[7]) & 0x1fff) !== 0) return;
    if (h[9] === PROTO_ICMP && quotedTransport.length > 0 && quotedTransport[0] !== ICMPV4_ECHO && quotedTransport[0] !== ICMPV4_ECHO_REPLY) return;
    let route: Route;
    try {
      route = this.stack.findRoute(info.nic.id, info.dst, info.src, 4);
    } catch {
      return;
    }
    // Quote as much as fits in 576 bytes (RFC 1812 4.3.2.3), as Linux does.
    const room = 576 - IPV4_MIN_HEADER_LEN - ICMPV4_HEADER_LEN - h.length;
    const body = new Uint8Array(h.length + Math.min(quotedTransport.length, Math.max(8, room)));
    body.set(h);
    body.set(quotedTransport.subarray(0, body.length - h.length), h.length);
    const pkt = PacketBuffer.outbound(route.maxHeaderLength + ICMPV4_HEADER_LEN, body);
    const off = pkt.prepend(ICMPV4_HEADER_LEN);
    encodeICMPv4(pkt.head, off, { type, code, rest }, body);
    this.stack.stats.icmp.errorsSent++;
    this.writePacket(route, PROTO_ICMP, pkt, { ttl: this.stack.defaultTTL, tos: 0 });
  }

  sendARPRequest(nic: NIC, target: Address): void {
    const src = nic.primaryAddress(4, target);
    if (src === '') return;
    this.sendARP(nic, ARP_REQUEST, src, BROADCAST_MAC, '\0'.repeat(6), target);
  }

  private sendARP(nic: NIC, op: number, senderIp: Address, dstMac: LinkAddress, targetMac: LinkAddress, targetIp: Address): void {
    const pkt = PacketBuffer.outbound(nic.link.maxHeaderLength + ARP_LEN);
    const off = pkt.prepend(ARP_LEN);
    encodeARP(pkt.head, off, { op, senderMac: nic.link.linkAddress, senderIp, targetMac, targetIp });
    this.stack.stats.arp.sent++;
    nic.writeLink(dstMac, ETHERTYPE_ARP, pkt);
  }

  handleARP(nic: NIC, pkt: PacketBuffer): void {
    const b = pkt.pullUp(ARP_LEN);
    const a = b === null ? null : decodeARP(b);
    if (a === null) return void this.stack.stats.arp.malformed++;
    this.stack.stats.arp.received++;
    const forUs = nic.hasAddress(a.targetIp);
    // Learn the sender: always refresh an existing entry, create one if the request is for us.
    if (a.senderIp !== '\0\0\0\0') nic.arp.confirm(a.senderIp, a.senderMac, forUs);
    if (a.op === ARP_REQUEST && forUs) {
      this.stack.stats.arp.repliesSent++;
      this.sendARP(nic, ARP_REPLY, a.targetIp, a.senderMac, a.senderMac, a.senderIp);
    }
  }
}
