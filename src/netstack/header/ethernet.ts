// Ethernet II framing.

import { addrFromBytes, writeAddr, type LinkAddress } from '../addr.js';

export const ETHERNET_HEADER_LEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
/** ETHERNET_MIN_FRAME is the minimum frame size without FCS; shorter frames are padded. */
export const ETHERNET_MIN_FRAME = 60;

export interface EthernetFields {
  dst: LinkAddress;
  src: LinkAddress;
  type: number;
}

/** encodeEthernet writes a header at off. */
export function encodeEthernet(b: Uint8Array, off: number, f: EthernetFields): void {
  writeAddr(b, off, f.dst);
  writeAddr(b, off + 6, f.src);
  b[off + 12] = f.type >> 8;
  b[off + 13] = f.type & 0xff;
}

/** decodeEthernet reads a header at off (the caller checked the length). */
export function decodeEthernet(b: Uint8Array, off = 0): EthernetFields {
  return {
    dst: addrFromBytes(b, off, 6),
    src: addrFromBytes(b, off + 6, 6),
    type: (b[off + 12] << 8) | b[off + 13],
  };
}
