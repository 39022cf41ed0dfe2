// Addresses. An IP address is a string of its raw bytes (4 for IPv4, 16 for
// IPv6), which makes it a cheap, hashable map key; '' is the unspecified
// address in endpoint APIs. Link (MAC) addresses are 6-byte strings too.

/** Address is an IP address as a string of raw bytes (length 4 or 16), or '' for unspecified. */
export type Address = string;
/** LinkAddress is a hardware address as a string of raw bytes ('' when the link has none). */
export type LinkAddress = string;

/** FullAddress is a transport address. */
export interface FullAddress {
  addr: Address;
  port: number;
  /** nic restricts the address to one NIC (IPv6 scope id / SO_BINDTODEVICE); 0 for any. */
  nic?: number;
}

export const ANY_V4: Address = '\0\0\0\0';
export const ANY_V6: Address = '\0'.repeat(16);
export const BROADCAST_V4: Address = '\xff\xff\xff\xff';
export const LOOPBACK_V4: Address = '\x7f\0\0\x01';
export const LOOPBACK_V6: Address = '\0'.repeat(15) + '\x01';
export const BROADCAST_MAC: LinkAddress = '\xff'.repeat(6);
/** ALL_NODES_V6 is ff02::1. */
export const ALL_NODES_V6: Address = '\xff\x02' + '\0'.repeat(13) + '\x01';

const V4_MAPPED_PREFIX = '\0'.repeat(10) + '\xff\xff';

/** ipv4 parses a dotted quad; throws on bad input. */
export function ipv4(s: string): Address {
  const parts = s.split('.');
  if (parts.length !== 4) throw new Error(`bad IPv4 address ${JSON.stringify(s)}`);
  let out = '';
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`bad IPv4 address ${JSON.stringify(s)}`);
    out += String.fromCharCode(Number(p));
  }
  return out;
}

/** ipv6 parses RFC 4291 text (with ::, and an embedded dotted quad); throws on bad input. */
export function ipv6(s: string): Address {
  const bad = (): never => {
    throw new Error(`bad IPv6 address ${JSON.stringify(s)}`);
  };
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    // An embedded dotted quad becomes two hex groups.
    const v4 = ipv4(text.slice(lastColon + 1));
    const w = (i: number): string => ((v4.charCodeAt(i) << 8) | v4.charCodeAt(i + 1)).toString(16);
    text = text.slice(0, lastColon + 1) + w(0) + ':' + w(2);
  }
  const parseGroups = (g: string): number[] => {
    if (g === '') return [];
    return g.split(':').map((h) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(h)) bad();
      return parseInt(h, 16);
    });
  };
  let words: number[];
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    if (text.indexOf('::', dbl + 1) >= 0) bad();
    const head = parseGroups(text.slice(0, dbl));
    const rest = parseGroups(text.slice(dbl + 2));
    const fill = 8 - head.length - rest.length;
    if (fill < 1) bad();
    words = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    words = parseGroups(text);
  }
  if (words.length !== 8) bad();
  let out = '';
  for (const w of words) out += String.fromCharCode(w >> 8, w & 0xff);
  return out;
}

/** parseAddress parses IPv4 or IPv6 text. */
export function parseAddress(s: string): Address {
  return s.includes(':') ? ipv6(s) : ipv4(s);
}

/** formatAddress renders an address as text ('' renders as ''). */
export function formatAddress(a: Address): string {
  if (a.length === 4) return [0, 1, 2, 3].map((i) => a.charCodeAt(i)).join('.');
  if (a.length !== 16) return a === '' ? '' : `<${a.length}-byte address>`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((a.charCodeAt(i) << 8) | a.charCodeAt(i + 1));
  if (isV4Mapped(a)) return '::ffff:' + formatAddress(a.slice(12));
  // Longest run of zero words (length >= 2) becomes '::'.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return hex(words.slice(0, best)) + '::' + hex(words.slice(best + bestLen));
}

/** mac parses "aa:bb:cc:dd:ee:ff". */
export function mac(s: string): LinkAddress {
  const parts = s.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new Error(`bad MAC ${s}`);
  return parts.map((p) => String.fromCharCode(parseInt(p, 16))).join('');
}

/** formatMac renders a link address as "aa:bb:...". */
export function formatMac(a: LinkAddress): string {
  return Array.from(a, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(':');
}

/** addrFromBytes reads an address of len bytes at off. */
export function addrFromBytes(b: Uint8Array, off: number, len: number): Address {
  if (len === 4) {
    // Packets mostly carry the same few addresses: reuse the last strings made.
    const v = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
    if (v === lastV4[0]) return lastV4s[0];
    if (v === lastV4[1]) return lastV4s[1];
    const s = String.fromCharCode(b[off], b[off + 1], b[off + 2], b[off + 3]);
    lastV4[1] = lastV4[0];
    lastV4s[1] = lastV4s[0];
    lastV4[0] = v;
    lastV4s[0] = s;
    return s;
  }
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[off + i]);
  return s;
}

const lastV4 = [-1, -1];
const lastV4s = ['', ''];

/** writeAddr writes an address's bytes at off. */
export function writeAddr(b: Uint8Array, off: number, a: Address): void {
  for (let i = 0; i < a.length; i++) b[off + i] = a.charCodeAt(i);
}

/** addrToBytes returns a new array of the address's bytes. */
export function addrToBytes(a: Address): Uint8Array {
  const b = new Uint8Array(a.length);
  writeAddr(b, 0, a);
  return b;
}

export function isUnspecified(a: Address): boolean {
  return a === '' || a === ANY_V4 || a === ANY_V6;
}

export function isV4Mapped(a: Address): boolean {
  return a.length === 16 && a.startsWith(V4_MAPPED_PREFIX);
}

/** v4Mapped returns ::ffff:a.b.c.d for an IPv4 address. */
export function v4Mapped(a: Address): Address {
  return V4_MAPPED_PREFIX + a;
}

/** unmapV4 returns the IPv4 address inside a v4-mapped IPv6 address. */
export function unmapV4(a: Address): Address {
  return a.slice(12);
}

export function isMulticast(a: Address): boolean {
  if (a.length === 4) return (a.charCodeAt(0) & 0xf0) === 0xe0;
  return a.length === 16 && a.charCodeAt(0) === 0xff;
}

export function isLoopback(a: Address): boolean {
  if (a.length === 4) return a.charCodeAt(0) === 127;
  return a === LOOPBACK_V6;
}

export function isLinkLocalV6(a: Address): boolean {
  return a.length === 16 && a.charCodeAt(0) === 0xfe && (a.charCodeAt(1) & 0xc0) === 0x80;
}

/** prefixMatch reports whether a lies in network/prefixLen (same family required). */
export function prefixMatch(a: Address, network: Address, prefixLen: number): boolean {
  if (a.length !== network.length) return false;
  const full = prefixLen >> 3;
  for (let i = 0; i < full; i++) if (a.charCodeAt(i) !== network.charCodeAt(i)) return false;
  const bits = prefixLen & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (a.charCodeAt(full) & mask) === (network.charCodeAt(full) & mask);
}

/** maskAddress clears the host bits of a. */
export function maskAddress(a: Address, prefixLen: number): Address {
  let out = '';
  for (let i = 0; i < a.length; i++) {
    const bits = Math.max(0, Math.min(8, prefixLen - i * 8));
    out += String.fromCharCode(a.charCodeAt(i) & ((0xff << (8 - bits)) & 0xff));
  }
  return out;
}

/** subnetBroadcastV4 returns the directed broadcast address of a/prefixLen. */
export function subnetBroadcastV4(a: Address, prefixLen: number): Address {
  let out = '';
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(8, prefixLen - i * 8));
    out += String.fromCharCode(a.charCodeAt(i) | (0xff >> bits));
  }
  return out;
}

/** solicitedNode returns the solicited-node multicast address ff02::1:ffXX:XXXX of a. */
export function solicitedNode(a: Address): Address {
  return '\xff\x02' + '\0'.repeat(9) + '\x01\xff' + a.slice(13);
}

/** multicastMac maps an IP multicast address to its Ethernet group address. */
export function multicastMac(a: Address): LinkAddress {
  if (a.length === 16) return '\x33\x33' + a.slice(12);
  return '\x01\x00\x5e' + String.fromCharCode(a.charCodeAt(1) & 0x7f) + a.slice(2);
}

/** linkLocalFromMac derives fe80::/64 with a modified EUI-64 interface id. */
export function linkLocalFromMac(m: LinkAddress): Address {
  const b = Array.from(m, (c) => c.charCodeAt(0));
  const id = [b[0] ^ 2, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
  return '\xfe\x80' + '\0'.repeat(6) + String.fromCharCode(...id);
}

/** familyOf returns 4 or 6 for an address's length, 0 for ''. */
export function familyOf(a: Address): 0 | 4 | 6 {
  return a.length === 4 ? 4 : a.length === 16 ? 6 : 0;
}
