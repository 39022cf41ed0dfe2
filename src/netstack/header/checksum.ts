// The Internet checksum (RFC 1071): a 16-bit ones' complement sum.

import type { Address } from '../addr.js';

/** checksum adds the bytes of buf[start, end) to the running 16-bit ones' complement sum initial. */
export function checksum(buf: Uint8Array, initial = 0, start = 0, end = buf.length): number {
  let sum = initial;
  const even = end - ((end - start) & 1);
  let i = start;
  // Sum 8 words per iteration; a double holds the carry without folding.
  for (; i + 16 <= even; i += 16) {
    sum +=
      ((buf[i] << 8) | buf[i + 1]) +
      ((buf[i + 2] << 8) | buf[i + 3]) +
      ((buf[i + 4] << 8) | buf[i + 5]) +
      ((buf[i + 6] << 8) | buf[i + 7]) +
      ((buf[i + 8] << 8) | buf[i + 9]) +
      ((buf[i + 10] << 8) | buf[i + 11]) +
      ((buf[i + 12] << 8) | buf[i + 13]) +
      ((buf[i + 14] << 8) | buf[i + 15]);
  }
  for (; i < even; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  return fold(sum);
}

/** checksumViews sums several arrays as if they were one (odd lengths carry across). */
export function checksumViews(views: readonly Uint8Array[], initial = 0): number {
  let sum = initial;
  let odd = false;
  for (const v of views) {
    if (v.length === 0) continue;
    if (!odd) {
      sum = checksum(v, sum);
      odd = (v.length & 1) === 1;
    } else {
      // The previous array's last byte was summed as a high byte; this first byte completes the word.
      sum = checksum(v, sum + v[0], 1);
      odd = ((v.length - 1) & 1) === 1;
    }
  }
  return fold(sum);
}

/** fold reduces a sum to 16 bits with end-around carry. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** combine adds two 16-bit ones' complement sums. */
export function combine(a: number, b: number): number {
  return fold(a + b);
}

/** pseudoHeaderChecksum sums the TCP/UDP/ICMPv6 pseudo-header of IPv4 or IPv6. */
export function pseudoHeaderChecksum(proto: number, src: Address, dst: Address, length: number): number {
  let sum = 0;
  for (let i = 0; i < src.length; i += 2) sum += (src.charCodeAt(i) << 8) | src.charCodeAt(i + 1);
  for (let i = 0; i < dst.length; i += 2) sum += (dst.charCodeAt(i) << 8) | dst.charCodeAt(i + 1);
  sum += proto;
  sum += length >>> 16;
  sum += length & 0xffff;
  return fold(sum);
}

/** finish turns a sum into the value stored in a header (ones' complement). */
export function finish(sum: number): number {
  return ~fold(sum) & 0xffff;
}
