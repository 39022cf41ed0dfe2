// ICMPv4 (RFC 792).

import { checksum, finish } from './checksum.js';

export const ICMPV4_HEADER_LEN = 8;
export const ICMPV4_ECHO_REPLY = 0;
export const ICMPV4_DEST_UNREACHABLE = 3;
export const ICMPV4_SOURCE_QUENCH = 4;
export const ICMPV4_REDIRECT = 5;
export const ICMPV4_ECHO = 8;
export const ICMPV4_TIME_EXCEEDED = 11;
export const ICMPV4_PARAM_PROBLEM = 12;

// Destination-unreachable codes.
export const ICMPV4_NET_UNREACHABLE = 0;
export const ICMPV4_HOST_UNREACHABLE = 1;
export const ICMPV4_PROTO_UNREACHABLE = 2;
export const ICMPV4_PORT_UNREACHABLE = 3;
export const ICMPV4_FRAG_NEEDED = 4;
export const ICMPV4_SOURCE_ROUTE_FAILED = 5;
export const ICMPV4_NET_UNKNOWN = 6;
export const ICMPV4_HOST_UNKNOWN = 7;
export const ICMPV4_NET_PROHIBITED = 9;
export const ICMPV4_HOST_PROHIBITED = 10;
export const ICMPV4_ADMIN_PROHIBITED = 13;

export interface ICMPv4Fields {
  type: number;
  code: number;
  checksum: number;
  /** rest is the 4-byte field after the checksum (id/seq for echo, next-hop MTU for frag-needed). */
  rest: number;
}

/** encodeICMPv4 writes the 8-byte header at off and the checksum over header + body. */
export function encodeICMPv4(b: Uint8Array, off: number, f: Omit<ICMPv4Fields, 'checksum'>, body: Uint8Array): void {
  b[off] = f.type;
  b[off + 1] = f.code;
  b[off + 2] = 0;
  b[off + 3] = 0;
  b[off + 4] = (f.rest >>> 24) & 0xff;
  b[off + 5] = (f.rest >>> 16) & 0xff;
  b[off + 6] = (f.rest >>> 8) & 0xff;
  b[off + 7] = f.rest & 0xff;
  const c = finish(checksum(body, checksum(b, 0, off, off + ICMPV4_HEADER_LEN)));
  b[off + 2] = c >> 8;
  b[off + 3] = c & 0xff;
}

/** decodeICMPv4 parses and checks the message in b (header + body); null if malformed. */
export function decodeICMPv4(b: Uint8Array): ICMPv4Fields | null {
  if (b.length < ICMPV4_HEADER_LEN || checksum(b) !== 0xffff) return null;
  return {
    type: b[0],
    code: b[1],
    checksum: (b[2] << 8) | b[3],
    rest: ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0,
  };
}
