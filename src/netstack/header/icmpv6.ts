// ICMPv6 (RFC 4443) and the Neighbor Discovery messages we use (RFC 4861).

import { addrFromBytes, writeAddr, type Address, type LinkAddress } from '../addr.js';
import { checksum, finish, pseudoHeaderChecksum } from './checksum.js';
import { PROTO_ICMPV6 } from './ipv4.js';

export const ICMPV6_HEADER_LEN = 8;
export const ICMPV6_DEST_UNREACHABLE = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAM_PROBLEM = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_ROUTER_SOLICIT = 133;
export const ICMPV6_ROUTER_ADVERT = 134;
export const ICMPV6_NEIGHBOR_SOLICIT = 135;
export const ICMPV6_NEIGHBOR_ADVERT = 136;
export const ICMPV6_REDIRECT = 137;

// Destination-unreachable codes.
export const ICMPV6_NO_ROUTE = 0;
export const ICMPV6_ADMIN_PROHIBITED = 1;
export const ICMPV6_BEYOND_SCOPE = 2;
export const ICMPV6_ADDRESS_UNREACHABLE = 3;
export const ICMPV6_PORT_UNREACHABLE = 4;

// NDP option types.
export const NDP_OPT_SOURCE_LINK_ADDR = 1;
export const NDP_OPT_TARGET_LINK_ADDR = 2;

// Neighbor advertisement flags (in the first byte after the checksum).
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;

/** NDP_NS_LEN / NDP_NA_LEN: message length with one link-address option. */
export const NDP_MESSAGE_LEN = ICMPV6_HEADER_LEN + 16 + 8;

export interface ICMPv6Fields {
  type: number;
  code: number;
  checksum: number;
  /** rest is the 4-byte field after the checksum. */
  rest: number;
}

/**
 * encodeICMPv6 writes the header at off (rest included) and the checksum
 * over pseudo-header, header and body (body may be empty when the message
 * body already follows the header in b up to off + length).
 */
export function encodeICMPv6(
  b: Uint8Array,
  off: number,
  f: Omit<ICMPv6Fields, 'checksum'>,
  body: Uint8Array,
  src: Address,
  dst: Address,
  headerAndInlineLen = ICMPV6_HEADER_LEN,
): void {
  b[off] = f.type;
  b[off + 1] = f.code;
  b[off + 2] = 0;
  b[off + 3] = 0;
  b[off + 4] = (f.rest >>> 24) & 0xff;
  b[off + 5] = (f.rest >>> 16) & 0xff;
  b[off + 6] = (f.rest >>> 8) & 0xff;
  b[off + 7] = f.rest & 0xff;
  const total = headerAndInlineLen + body.length;
  let sum = pseudoHeaderChecksum(PROTO_ICMPV6, src, dst, total);
  sum = checksum(b, sum, off, off + headerAndInlineLen);
  sum = checksum(body, sum);
  const c = finish(sum);
  b[off + 2] = c >> 8;
  b[off + 3] = c & 0xff;
}

/** decodeICMPv6 parses and checks a message (b = header + body) sent from src to dst. */
export function decodeICMPv6(b: Uint8Array, src: Address, dst: Address): ICMPv6Fields | null {
  if (b.length < ICMPV6_HEADER_LEN) return null;
  if (checksum(b, pseudoHeaderChecksum(PROTO_ICMPV6, src, dst, b.length)) !== 0xffff) return null;
  return {
    type: b[0],
    code: b[1],
    checksum: (b[2] << 8) | b[3],
    rest: ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0,
  };
}

export interface NDPMessage {
  target: Address;
  /** linkAddr is the source (NS) or target (NA) link-layer address option, '' if absent. */
  linkAddr: LinkAddress;
  /** flags are the NA flags (router/solicited/override); 0 for NS. */
  flags: number;
}

/**
 * encodeNDP writes an NS or NA message (header, target, one link-address
 * option when linkAddr is set) at off, checksum included; returns its length.
 */
export function encodeNDP(b: Uint8Array, off: number, type: number, m: NDPMessage, src: Address, dst: Address): number {
  writeAddr(b, off + 8, m.target);
  let len = ICMPV6_HEADER_LEN + 16;
  if (m.linkAddr !== '') {
    b[off + len] = type === ICMPV6_NEIGHBOR_SOLICIT ? NDP_OPT_SOURCE_LINK_ADDR : NDP_OPT_TARGET_LINK_ADDR;
    b[off + len + 1] = 1; // in units of 8 bytes
    writeAddr(b, off + len + 2, m.linkAddr);
    len += 8;
  }
  encodeICMPv6(b, off, { type, code: 0, rest: (m.flags << 24) >>> 0 }, new Uint8Array(0), src, dst, len);
  return len;
}

/** decodeNDP parses the body of an NS/NA (b = whole ICMPv6 message, already checked). */
export function decodeNDP(b: Uint8Array): NDPMessage | null {
  if (b.length < ICMPV6_HEADER_LEN + 16) return null;
  const target = addrFromBytes(b, 8, 16);
  let linkAddr = '';
  for (let o = ICMPV6_HEADER_LEN + 16; o + 2 <= b.length; ) {
    const type = b[o];
    const len = b[o + 1] * 8;
    if (len === 0 || o + len > b.length) return null; // RFC 4861: zero-length options are invalid
    if ((type === NDP_OPT_SOURCE_LINK_ADDR || type === NDP_OPT_TARGET_LINK_ADDR) && len >= 8) {
      linkAddr = addrFromBytes(b, o + 2, 6);
    }
    o += len;
  }
  return { target, linkAddr, flags: b[4] };
}
