// IPv4 header (RFC 791). Options are accepted on receive and skipped; we
// never send any.

import { addrFromBytes, writeAddr, type Address } from '../addr.js';
import { checksum, finish } from './checksum.js';

export const IPV4_MIN_HEADER_LEN = 20;
export const IPV4_MAX_TOTAL_LEN = 65535;
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;
export const IPV4_FRAG_OFFSET_MASK = 0x1fff;
/** IPV4_MIN_MTU is the smallest MTU every IPv4 link must carry (RFC 791). */
export const IPV4_MIN_MTU = 68;

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;

export interface IPv4Fields {
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  /** flags holds DF/MF in their header bit positions (0x4000, 0x2000). */
  flags: number;
  /** fragmentOffset is in bytes. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: Address;
  dst: Address;
}

export interface IPv4Encode {
  tos?: number;
  totalLength: number;
  id: number;
  flags?: number;
  fragmentOffset?: number;
  ttl: number;
  protocol: number;
  src: Address;
  dst: Address;
}

/** encodeIPv4 writes a 20-byte header at off, checksum included. */
export function encodeIPv4(b: Uint8Array, off: number, f: IPv4Encode): void {
  b[off] = 0x45;
  b[off + 1] = f.tos ?? 0;
  b[off + 2] = f.totalLength >> 8;
  b[off + 3] = f.totalLength & 0xff;
  b[off + 4] = (f.id >> 8) & 0xff;
  b[off + 5] = f.id & 0xff;
  const ff = (f.flags ?? 0) | ((f.fragmentOffset ?? 0) >> 3);
  b[off + 6] = ff >> 8;
  b[off + 7] = ff & 0xff;
  b[off + 8] = f.ttl;
  b[off + 9] = f.protocol;
  b[off + 10] = 0;
  b[off + 11] = 0;
  writeAddr(b, off + 12, f.src);
  writeAddr(b, off + 16, f.dst);
  const c = finish(checksum(b, 0, off, off + IPV4_MIN_HEADER_LEN));
  b[off + 10] = c >> 8;
  b[off + 11] = c & 0xff;
}

/**
 * decodeIPv4 parses and validates the header at offset off of b (version,
 * lengths, checksum); the header bytes present run to end (b.length by
 * default). Returns null for a malformed packet. packetLen is how many bytes
 * the link delivered.
 */
export function decodeIPv4(b: Uint8Array, packetLen: number, verified = false, off = 0, end = b.length): IPv4Fields | null {
  if (end - off < IPV4_MIN_HEADER_LEN || b[off] >> 4 !== 4) return null;
  const headerLength = (b[off] & 0x0f) * 4;
  const totalLength = (b[off + 2] << 8) | b[off + 3];
  if (headerLength < IPV4_MIN_HEADER_LEN || headerLength > end - off) return null;
  if (totalLength < headerLength || totalLength > packetLen) return null;
  // verified: the link guarantees integrity (loopback), so the sum is known good.
  if (!verified && checksum(b, 0, off, off + headerLength) !== 0xffff) return null;
  const ff = (b[off + 6] << 8) | b[off + 7];
  return {
    headerLength,
    tos: b[off + 1],
    totalLength,
    id: (b[off + 4] << 8) | b[off + 5],
    flags: ff & (IPV4_FLAG_DF | IPV4_FLAG_MF),
    fragmentOffset: (ff & IPV4_FRAG_OFFSET_MASK) * 8,
    ttl: b[off + 8],
    protocol: b[off + 9],
    checksum: (b[off + 10] << 8) | b[off + 11],
    src: addrFromBytes(b, off + 12, 4),
    dst: addrFromBytes(b, off + 16, 4),
  };
}
