// IPv6 header (RFC 8200) and extension-header walking.

import { addrFromBytes, writeAddr, type Address } from '../addr.js';

export const IPV6_HEADER_LEN = 40;
export const IPV6_MIN_MTU = 1280;
export const IPV6_FRAGMENT_HEADER_LEN = 8;

export const EXT_HOP_BY_HOP = 0;
export const EXT_ROUTING = 43;
export const EXT_FRAGMENT = 44;
export const EXT_ESP = 50;
export const EXT_AUTH = 51;
export const EXT_NO_NEXT = 59;
export const EXT_DEST_OPTS = 60;

export interface IPv6Fields {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: Address;
  dst: Address;
}

/** encodeIPv6 writes a 40-byte header at off. */
export function encodeIPv6(b: Uint8Array, off: number, f: IPv6Fields): void {
  b[off] = 0x60 | (f.trafficClass >> 4);
  b[off + 1] = ((f.trafficClass & 0x0f) << 4) | ((f.flowLabel >> 16) & 0x0f);
  b[off + 2] = (f.flowLabel >> 8) & 0xff;
  b[off + 3] = f.flowLabel & 0xff;
  b[off + 4] = f.payloadLength >> 8;
  b[off + 5] = f.payloadLength & 0xff;
  b[off + 6] = f.nextHeader;
  b[off + 7] = f.hopLimit;
  writeAddr(b, off + 8, f.src);
  writeAddr(b, off + 24, f.dst);
}

/** decodeIPv6 parses the fixed header at the start of b; null if malformed. */
export function decodeIPv6(b: Uint8Array, packetLen: number): IPv6Fields | null {
  if (b.length < IPV6_HEADER_LEN || b[0] >> 4 !== 6) return null;
  const payloadLength = (b[4] << 8) | b[5];
  if (IPV6_HEADER_LEN + payloadLength > packetLen) return null;
  return {
    trafficClass: ((b[0] & 0x0f) << 4) | (b[1] >> 4),
    flowLabel: ((b[1] & 0x0f) << 16) | (b[2] << 8) | b[3],
    payloadLength,
    nextHeader: b[6],
    hopLimit: b[7],
    src: addrFromBytes(b, 8, 16),
    dst: addrFromBytes(b, 24, 16),
  };
}

export interface IPv6Fragment {
  /** offset of this fragment's data in the original payload, bytes. */
  offset: number;
  more: boolean;
  id: number;
}

export interface ExtensionWalk {
  /** proto is the upper-layer protocol (or EXT_NO_NEXT / EXT_ESP when it cannot be walked). */
  proto: number;
  /** offset of the upper-layer header from the start of the walked bytes. */
  offset: number;
  /** fragment is set when a fragment header was seen (the rest is a fragment). */
  fragment?: IPv6Fragment;
  /** fragmentHeaderOffset is where the fragment header starts (for reassembly). */
  fragmentHeaderOffset?: number;
}

/**
 * walkExtensionHeaders skips hop-by-hop, routing, destination-options and
 * AH headers starting at b[off] with first header type next; it stops at a
 * fragment header (recording it) or the first upper-layer protocol. Returns
 * null if a header runs past the end.
 */
export function walkExtensionHeaders(b: Uint8Array, off: number, next: number): ExtensionWalk | null {
  for (;;) {
    switch (next) {
      case EXT_HOP_BY_HOP:
      case EXT_ROUTING:
      case EXT_DEST_OPTS: {
        if (off + 2 > b.length) return null;
        const len = (b[off + 1] + 1) * 8;
        if (off + len > b.length) return null;
        next = b[off];
        off += len;
        break;
      }
      case EXT_AUTH: {
        if (off + 2 > b.length) return null;
        const len = (b[off + 1] + 2) * 4;
        if (off + len > b.length) return null;
        next = b[off];
        off += len;
        break;
      }
      case EXT_FRAGMENT: {
        if (off + IPV6_FRAGMENT_HEADER_LEN > b.length) return null;
        const fo = (b[off + 2] << 8) | b[off + 3];
        const fragment = {
          offset: fo & 0xfff8,
          more: (fo & 1) !== 0,
          id: ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0,
        };
        return { proto: b[off], offset: off + IPV6_FRAGMENT_HEADER_LEN, fragment, fragmentHeaderOffset: off };
      }
      default:
        return { proto: next, offset: off };
    }
  }
}

/** encodeFragmentHeader writes an IPv6 fragment extension header at off. */
export function encodeFragmentHeader(b: Uint8Array, off: number, next: number, offset: number, more: boolean, id: number): void {
  b[off] = next;
  b[off + 1] = 0;
  const fo = (offset & 0xfff8) | (more ? 1 : 0);
  b[off + 2] = fo >> 8;
  b[off + 3] = fo & 0xff;
  b[off + 4] = (id >>> 24) & 0xff;
  b[off + 5] = (id >>> 16) & 0xff;
  b[off + 6] = (id >>> 8) & 0xff;
  b[off + 7] = id & 0xff;
}
