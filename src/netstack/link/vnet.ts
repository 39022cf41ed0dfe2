// The virtio_net_hdr that an AF_PACKET socket with PACKET_VNET_HDR puts in
// front of every frame (and expects in front of every frame written). It
// carries what the host kernel knows about a packet and did not do to it:
//
// - NEEDS_CSUM: the transport checksum is partial (CHECKSUM_PARTIAL, from the
//   sender's checksum offload, the default on a veth): the field at
//   csum_start + csum_offset holds only the pseudo-header sum, and whoever
//   receives the frame must finish it over [csum_start, end).
// - gso_type: the frame is a segmentation-offload super-packet, larger than
//   the MTU (TSO from the peer, or GRO merging on the way). A TCP one is a
//   valid, big segment; a UDP_L4 one is several datagrams sharing one set of
//   headers, which must be split at gso_size.
//
// Frames written carry a zeroed header: the netstack computes its checksums
// and never sends more than the MTU.

import { checksum, finish } from '../header/checksum.js';

/** VNET_HDR_LEN is sizeof(struct virtio_net_hdr) (no num_buffers: PACKET_VNET_HDR uses the short one). */
export const VNET_HDR_LEN = 10;
export const VNET_F_NEEDS_CSUM = 1;
export const VNET_F_DATA_VALID = 2;
export const VNET_GSO_NONE = 0;
export const VNET_GSO_TCPV4 = 1;
export const VNET_GSO_UDP = 3;
export const VNET_GSO_TCPV6 = 4;
export const VNET_GSO_UDP_L4 = 5;
export const VNET_GSO_ECN = 0x80;

const ETH_HLEN = 14;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const UDP_HLEN = 8;
const UDP_CSUM_OFFSET = 6;
const IPPROTO_UDP = 17;

/** VnetHdr is a decoded struct virtio_net_hdr (little-endian fields: x86 hosts). */
export interface VnetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

export function decodeVnetHdr(b: Uint8Array): VnetHdr {
  const u16 = (o: number): number => b[o] | (b[o + 1] << 8);
  return { flags: b[0], gsoType: b[1], hdrLen: u16(2), gsoSize: u16(4), csumStart: u16(6), csumOffset: u16(8) };
}

/** VnetStats counts what the receive path did, for diagnostics and tests. */
export interface VnetStats {
  csumCompleted: number;
  gsoFrames: number;
  udpSegments: number;
  malformed: number;
}

export function newVnetStats(): VnetStats {
  return { csumCompleted: 0, gsoFrames: 0, udpSegments: 0, malformed: 0 };
}

/** completeChecksum finishes a partial checksum in place: the ones' complement
 *  of the sum over frame[start, end), stored at start + offset. False when the
 *  offsets do not fit in the frame. */
export function completeChecksum(frame: Uint8Array, start: number, offset: number): boolean {
  const at = start + offset;
  if (start >= frame.length || at + 2 > frame.length) return false;
  let c = finish(checksum(frame, 0, start, frame.length));
  // In UDP a computed 0 is sent as 0xffff (0 means "no checksum").
  if (c === 0 && offset === UDP_CSUM_OFFSET) c = 0xffff;
  frame[at] = c >> 8;
  frame[at + 1] = c & 0xff;
  return true;
}

/** splitUdpGso cuts a UDP_L4 super-packet (Ethernet frame, UDP header at
 *  udpStart) into datagrams of gsoSize payload bytes, each with its own IP
 *  length (IPv4: identifier and header checksum too) and a full UDP checksum.
 *  Null when the headers are not IPv4/IPv6 + UDP as expected. */
export function splitUdpGso(frame: Uint8Array, udpStart: number, gsoSize: number): Uint8Array[] | null {
  if (frame.length < ETH_HLEN || gsoSize <= 0) return null;
  const type = (frame[12] << 8) | frame[13];
  const ip = ETH_HLEN;
  const hdrEnd = udpStart + UDP_HLEN;
  if (hdrEnd > frame.length) return null;
  let pseudo: number;
  if (type === ETHERTYPE_IPV4) {
    const ihl = (frame[ip] & 0x0f) * 4;
    if ((frame[ip] >> 4) !== 4 || ihl < 20 || udpStart < ip + ihl || frame[ip + 9] !== IPPROTO_UDP) return null;
    pseudo = checksum(frame, 0, ip + 12, ip + 20);
  } else if (type === ETHERTYPE_IPV6) {
    if ((frame[ip] >> 4) !== 6 || udpStart < ip + 40) return null;
    pseudo = checksum(frame, 0, ip + 8, ip + 40);
  } else {
    return null;
  }
  const payload = frame.subarray(hdrEnd);
  const out: Uint8Array[] = [];
  const id = (frame[ip + 4] << 8) | frame[ip + 5];
  const count = Math.max(1, Math.ceil(payload.length / gsoSize));
  for (let i = 0; i < count; i++) {
    const off = i * gsoSize;
    const chunk = payload.subarray(off, Math.min(off + gsoSize, payload.length));
    const seg = new Uint8Array(hdrEnd + chunk.length);
    seg.set(frame.subarray(0, hdrEnd));
    seg.set(chunk, hdrEnd);
    const udpLen = UDP_HLEN + chunk.length;
    if (type === ETHERTYPE_IPV4) {
      const ihl = (seg[ip] & 0x0f) * 4;
      put16(seg, ip + 2, udpStart - ip + udpLen);
      put16(seg, ip + 4, (id + i) & 0xffff);
      put16(seg, ip + 10, 0);
      put16(seg, ip + 10, finish(checksum(seg, 0, ip, ip + ihl)));
    } else {
      put16(seg, ip + 4, udpStart - ip - 40 + udpLen);
    }
    put16(seg, udpStart + 4, udpLen);
    put16(seg, udpStart + 6, 0);
    let c = finish(checksum(seg, pseudo + IPPROTO_UDP + udpLen, udpStart, seg.length));
    if (c === 0) c = 0xffff;
    put16(seg, udpStart + 6, c);
    out.push(seg);
  }
  return out;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/** receiveVnet turns one read from a PACKET_VNET_HDR socket (header + frame)
 *  into the frames to hand the stack: usually the frame itself, its checksum
 *  finished if it was partial; several for a UDP_L4 super-packet; none if it
 *  is malformed. frame may be modified in place. */
export function receiveVnet(hdr: VnetHdr, frame: Uint8Array, stats: VnetStats): Uint8Array[] {
  const gso = hdr.gsoType & ~VNET_GSO_ECN;
  if (gso !== VNET_GSO_NONE) stats.gsoFrames++;
  if (gso === VNET_GSO_UDP_L4) {
    // Each datagram gets a full checksum of its own: the partial one is for the whole.
    const segs = splitUdpGso(frame, hdr.csumStart, hdr.gsoSize);
    if (segs === null) {
      stats.malformed++;
      return [];
    }
    stats.udpSegments += segs.length;
    return segs;
  }
  if ((hdr.flags & VNET_F_NEEDS_CSUM) !== 0) {
    if (!completeChecksum(frame, hdr.csumStart, hdr.csumOffset)) {
      stats.malformed++;
      return [];
    }
    stats.csumCompleted++;
  }
  // TCP super-packets are valid segments (the IP length covers them all);
  // a UFO (GSO_UDP) one is one big datagram. Both go up whole.
  return [frame];
}
