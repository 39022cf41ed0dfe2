// UDP header (RFC 768).

import { checksum, finish, pseudoHeaderChecksum } from './checksum.js';
import { PROTO_UDP } from './ipv4.js';
import type { Address } from '../addr.js';

export const UDP_HEADER_LEN = 8;

export interface UDPFields {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
}

/**
 * encodeUDP writes the header at off. The checksum covers pseudo-header,
 * header and payload unless skipChecksum (offloaded links); a computed 0 is
 * sent as 0xffff (0 means "none" in IPv4).
 */
export function encodeUDP(
  b: Uint8Array,
  off: number,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
  src: Address,
  dst: Address,
  skipChecksum: boolean,
): void {
  const length = UDP_HEADER_LEN + payload.length;
  b[off] = srcPort >> 8;
  b[off + 1] = srcPort & 0xff;
  b[off + 2] = dstPort >> 8;
  b[off + 3] = dstPort & 0xff;
  b[off + 4] = (length >> 8) & 0xff;
  b[off + 5] = length & 0xff;
  b[off + 6] = 0;
  b[off + 7] = 0;
  if (skipChecksum) return;
  let c = finish(checksum(payload, checksum(b, pseudoHeaderChecksum(PROTO_UDP, src, dst, length), off, off + UDP_HEADER_LEN)));
  if (c === 0) c = 0xffff;
  b[off + 6] = c >> 8;
  b[off + 7] = c & 0xff;
}

/** decodeUDP reads the header at the start of b. */
export function decodeUDP(b: Uint8Array): UDPFields {
  return {
    srcPort: (b[0] << 8) | b[1],
    dstPort: (b[2] << 8) | b[3],
    length: (b[4] << 8) | b[5],
    checksum: (b[6] << 8) | b[7],
  };
}

/** udpChecksumOK verifies the checksum of a whole datagram (header + payload, contiguous). */
export function udpChecksumOK(datagram: Uint8Array, src: Address, dst: Address, v6: boolean): boolean {
  const stored = (datagram[6] << 8) | datagram[7];
  if (stored === 0) return !v6; // IPv6 requires a checksum (RFC 8200)
  return checksum(datagram, pseudoHeaderChecksum(PROTO_UDP, src, dst, datagram.length)) === 0xffff;
}
