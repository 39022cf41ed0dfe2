// ARP for IPv4 over Ethernet (RFC 826).

import { addrFromBytes, writeAddr, type Address, type LinkAddress } from '../addr.js';

export const ARP_LEN = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export interface ARPFields {
  op: number;
  senderMac: LinkAddress;
  senderIp: Address;
  targetMac: LinkAddress;
  targetIp: Address;
}

/** encodeARP writes an Ethernet/IPv4 ARP packet at off. */
export function encodeARP(b: Uint8Array, off: number, f: ARPFields): void {
  b[off] = 0;
  b[off + 1] = 1; // hardware type: Ethernet
  b[off + 2] = 0x08;
  b[off + 3] = 0x00; // protocol type: IPv4
  b[off + 4] = 6;
  b[off + 5] = 4;
  b[off + 6] = f.op >> 8;
  b[off + 7] = f.op & 0xff;
  writeAddr(b, off + 8, f.senderMac);
  writeAddr(b, off + 14, f.senderIp);
  writeAddr(b, off + 18, f.targetMac);
  writeAddr(b, off + 24, f.targetIp);
}

/** decodeARP parses an Ethernet/IPv4 ARP packet, or returns null if it is another kind or too short. */
export function decodeARP(b: Uint8Array, off = 0): ARPFields | null {
  if (b.length - off < ARP_LEN) return null;
  if (b[off] !== 0 || b[off + 1] !== 1 || b[off + 2] !== 0x08 || b[off + 3] !== 0 || b[off + 4] !== 6 || b[off + 5] !== 4) {
    return null;
  }
  return {
    op: (b[off + 6] << 8) | b[off + 7],
    senderMac: addrFromBytes(b, off + 8, 6),
    senderIp: addrFromBytes(b, off + 14, 4),
    targetMac: addrFromBytes(b, off + 18, 6),
    targetIp: addrFromBytes(b, off + 24, 4),
  };
}
