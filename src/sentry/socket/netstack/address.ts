// struct sockaddr_in / sockaddr_in6 in and out of netstack's FullAddress,
// with the length and family checks Linux's inet and inet6 code makes.

import * as linuxerr from '../../../abi/linux/errno.js';
import type { FullAddress } from '../../../netstack/index.js';
import { AF_INET, AF_INET6, AF_UNSPEC } from '../abi.js';

/** sizeof(struct sockaddr_in) and sizeof(struct sockaddr_in6). */
export const SOCKADDR_IN_LEN = 16;
export const SOCKADDR_IN6_LEN = 28;
/** SIN6_LEN_RFC2133: a sockaddr_in6 without sin6_scope_id, still accepted. */
export const SIN6_LEN_RFC2133 = 24;

const ANY4 = '\0\0\0\0';

/** sockFamily returns sa_family, or -1 when raw is too short to hold it. */
export function sockFamily(raw: Uint8Array): number {
  return raw.length < 2 ? -1 : raw[0] | (raw[1] << 8);
}

function bytesToAddr(raw: Uint8Array, off: number, len: number): string {
  return String.fromCharCode(...raw.subarray(off, off + len));
}

function port(raw: Uint8Array, off: number): number {
  return (raw[off] << 8) | raw[off + 1];
}

/** parseIn decodes a sockaddr_in (EINVAL if short, EAFNOSUPPORT for another family).
 *  allowUnspecAny accepts AF_UNSPEC with INADDR_ANY, as inet_bind does for old programs. */
export function parseIn(raw: Uint8Array, allowUnspecAny = false): FullAddress {
  if (raw.length < SOCKADDR_IN_LEN) throw linuxerr.EINVAL;
  const fam = sockFamily(raw);
  const addr = bytesToAddr(raw, 4, 4);
  if (fam !== AF_INET && !(allowUnspecAny && fam === AF_UNSPEC && addr === ANY4)) throw linuxerr.EAFNOSUPPORT;
  return { addr, port: port(raw, 2) };
}

/** parseIn6 decodes a sockaddr_in6 (24 bytes suffice; the scope id is then 0). */
export function parseIn6(raw: Uint8Array): FullAddress {
  if (raw.length < SIN6_LEN_RFC2133) throw linuxerr.EINVAL;
  if (sockFamily(raw) !== AF_INET6) throw linuxerr.EAFNOSUPPORT;
  const a: FullAddress = { addr: bytesToAddr(raw, 8, 16), port: port(raw, 2) };
  if (raw.length >= SOCKADDR_IN6_LEN) {
    const scope = (raw[24] | (raw[25] << 8) | (raw[26] << 16) | (raw[27] << 24)) >>> 0;
    if (scope !== 0) a.nic = scope;
  }
  return a;
}

/** parseFor decodes an address for a socket of family fam (AF_INET or AF_INET6). An
 *  AF_INET6 socket may be given a sockaddr_in where Linux allows it (datagram sends):
 *  it becomes the v4-mapped address when v4ok. */
export function parseFor(fam: number, raw: Uint8Array, v4ok = false): FullAddress {
  if (fam === AF_INET) return parseIn(raw);
  if (v4ok && sockFamily(raw) === AF_INET) {
    const a = parseIn(raw);
    return { addr: '\0'.repeat(10) + '\xff\xff' + a.addr, port: a.port };
  }
  return parseIn6(raw);
}

/** encode makes the sockaddr for a (its family decided by the address length). */
export function encode(fam: number, a: FullAddress): Uint8Array {
  const v6 = fam === AF_INET6;
  const b = new Uint8Array(v6 ? SOCKADDR_IN6_LEN : SOCKADDR_IN_LEN);
  b[0] = fam & 0xff;
  b[1] = fam >> 8;
  b[2] = (a.port >> 8) & 0xff;
  b[3] = a.port & 0xff;
  const addr = a.addr === '' ? (v6 ? '\0'.repeat(16) : ANY4) : a.addr;
  const off = v6 ? 8 : 4;
  for (let i = 0; i < addr.length && i < (v6 ? 16 : 4); i++) b[off + i] = addr.charCodeAt(i);
  if (v6 && a.nic) new DataView(b.buffer).setUint32(24, a.nic, true);
  return b;
}
