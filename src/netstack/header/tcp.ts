// TCP header and options (RFC 9293, 7323, 2018).

import { checksum, checksumViews, finish, pseudoHeaderChecksum } from './checksum.js';
import { PROTO_TCP } from './ipv4.js';
import type { Address } from '../addr.js';

export const TCP_MIN_HEADER_LEN = 20;
export const TCP_MAX_OPTIONS_LEN = 40;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WS = 3;
export const TCPOPT_SACK_PERMITTED = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TS = 8;

/** TCP_MAX_WSCALE is the largest window shift RFC 7323 allows. */
export const TCP_MAX_WSCALE = 14;

export interface TCPFields {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** dataOffset is the header length in bytes. */
  dataOffset: number;
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
}

export interface SackBlock {
  start: number;
  end: number;
}

export interface TCPOptions {
  /** mss is 0 when absent. */
  mss: number;
  /** wscale is -1 when absent. */
  wscale: number;
  sackPermitted: boolean;
  ts: boolean;
  tsVal: number;
  tsEcr: number;
  sackBlocks: SackBlock[] | null;
}

/** decodeTCP reads the fixed header at offset off of b (20 bytes there). */
export function decodeTCP(b: Uint8Array, off = 0): TCPFields {
  return {
    srcPort: (b[off] << 8) | b[off + 1],
    dstPort: (b[off + 2] << 8) | b[off + 3],
    seq: ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0,
    ack: ((b[off + 8] << 24) | (b[off + 9] << 16) | (b[off + 10] << 8) | b[off + 11]) >>> 0,
    dataOffset: (b[off + 12] >> 4) * 4,
    flags: b[off + 13],
    window: (b[off + 14] << 8) | b[off + 15],
    checksum: (b[off + 16] << 8) | b[off + 17],
    urgent: (b[off + 18] << 8) | b[off + 19],
  };
}

/** encodeTCP writes the fixed header at off with a zero checksum. */
export function encodeTCP(b: Uint8Array, off: number, f: Omit<TCPFields, 'checksum'>): void {
  b[off] = f.srcPort >> 8;
  b[off + 1] = f.srcPort & 0xff;
  b[off + 2] = f.dstPort >> 8;
  b[off + 3] = f.dstPort & 0xff;
  writeU32(b, off + 4, f.seq);
  writeU32(b, off + 8, f.ack);
  b[off + 12] = (f.dataOffset / 4) << 4;
  b[off + 13] = f.flags;
  b[off + 14] = f.window >> 8;
  b[off + 15] = f.window & 0xff;
  b[off + 16] = 0;
  b[off + 17] = 0;
  b[off + 18] = f.urgent >> 8;
  b[off + 19] = f.urgent & 0xff;
}

/**
 * setTCPChecksum computes the checksum of header b[off, off+hdrLen) +
 * payload (+ extra views) and stores it.
 */
export function setTCPChecksum(
  b: Uint8Array,
  off: number,
  hdrLen: number,
  payload: Uint8Array,
  src: Address,
  dst: Address,
  extra: readonly Uint8Array[] | null = null,
): void {
  let len = hdrLen + payload.length;
  if (extra !== null) for (const v of extra) len += v.length;
  const hsum = checksum(b, pseudoHeaderChecksum(PROTO_TCP, src, dst, len), off, off + hdrLen);
  const sum = extra === null ? checksum(payload, hsum) : checksumViews([payload, ...extra], hsum);
  const c = finish(sum);
  b[off + 16] = c >> 8;
  b[off + 17] = c & 0xff;
}

/** tcpChecksumOK verifies a segment (header + payload, contiguous). */
export function tcpChecksumOK(segment: Uint8Array, src: Address, dst: Address): boolean {
  return checksum(segment, pseudoHeaderChecksum(PROTO_TCP, src, dst, segment.length)) === 0xffff;
}

function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

function readU32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** parseTCPOptions parses b[start, end); malformed options end the parse (what is parsed so far is kept). */
export function parseTCPOptions(b: Uint8Array, start: number, end: number, syn: boolean): TCPOptions {
  const o: TCPOptions = { mss: 0, wscale: -1, sackPermitted: false, ts: false, tsVal: 0, tsEcr: 0, sackBlocks: null };
  let i = start;
  while (i < end) {
    const kind = b[i];
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) break;
    const len = b[i + 1];
    if (len < 2 || i + len > end) break;
    switch (kind) {
      case TCPOPT_MSS:
        // MSS, window scale and SACK-permitted count only on SYN segments.
        if (len === 4 && syn) o.mss = (b[i + 2] << 8) | b[i + 3];
        break;
      case TCPOPT_WS:
        if (len === 3 && syn) o.wscale = Math.min(b[i + 2], TCP_MAX_WSCALE);
        break;
      case TCPOPT_SACK_PERMITTED:
        if (len === 2 && syn) o.sackPermitted = true;
        break;
      case TCPOPT_TS:
        if (len === 10) {
          o.ts = true;
          o.tsVal = readU32(b, i + 2);
          o.tsEcr = readU32(b, i + 6);
        }
        break;
      case TCPOPT_SACK:
        if (len >= 10 && (len - 2) % 8 === 0 && !syn) {
          const blocks: SackBlock[] = [];
          for (let j = i + 2; j < i + len; j += 8) blocks.push({ start: readU32(b, j), end: readU32(b, j + 4) });
          o.sackBlocks = blocks;
        }
        break;
    }
    i += len;
  }
  return o;
}

export interface SynOptions {
  mss: number;
  /** wscale: -1 to omit. */
  wscale: number;
  sackPermitted: boolean;
  ts: boolean;
  tsVal: number;
  tsEcr: number;
}

/** synOptionsLength returns the padded length encodeSynOptions writes. */
export function synOptionsLength(o: SynOptions): number {
  let n = 4; // MSS
  if (o.ts) n += 10 + (o.sackPermitted ? 2 : 0);
  else if (o.sackPermitted) n += 2;
  if (o.wscale >= 0) n += 3;
  return (n + 3) & ~3;
}

/**
 * encodeSynOptions writes SYN options in Linux's order (MSS, SACK-permitted,
 * timestamps, NOP, window scale), NOP-padded to a multiple of 4; returns the length.
 */
export function encodeSynOptions(b: Uint8Array, off: number, o: SynOptions): number {
  let i = off;
  b[i++] = TCPOPT_MSS;
  b[i++] = 4;
  b[i++] = o.mss >> 8;
  b[i++] = o.mss & 0xff;
  if (o.ts) {
    if (o.sackPermitted) {
      b[i++] = TCPOPT_SACK_PERMITTED;
      b[i++] = 2;
    } else {
      b[i++] = TCPOPT_NOP;
      b[i++] = TCPOPT_NOP;
    }
    b[i++] = TCPOPT_TS;
    b[i++] = 10;
    writeU32(b, i, o.tsVal);
    writeU32(b, i + 4, o.tsEcr);
    i += 8;
  } else if (o.sackPermitted) {
    b[i++] = TCPOPT_NOP;
    b[i++] = TCPOPT_NOP;
    b[i++] = TCPOPT_SACK_PERMITTED;
    b[i++] = 2;
  }
  if (o.wscale >= 0) {
    b[i++] = TCPOPT_NOP;
    b[i++] = TCPOPT_WS;
    b[i++] = 3;
    b[i++] = o.wscale;
  }
  while ((i - off) & 3) b[i++] = TCPOPT_NOP;
  return i - off;
}

/** dataOptionsLength returns the length of timestamps (if ts) plus n SACK blocks. */
export function dataOptionsLength(ts: boolean, nSack: number): number {
  return (ts ? 12 : 0) + (nSack > 0 ? 4 + 8 * nSack : 0);
}

/** maxSackBlocks returns how many SACK blocks fit next to the timestamp option. */
export function maxSackBlocks(ts: boolean): number {
  return ts ? 3 : 4;
}

/** encodeDataOptions writes NOP,NOP,TS and NOP,NOP,SACK blocks; returns the length. */
export function encodeDataOptions(
  b: Uint8Array,
  off: number,
  ts: boolean,
  tsVal: number,
  tsEcr: number,
  sack: readonly SackBlock[],
  nSack: number,
): number {
  let i = off;
  if (ts) {
    b[i++] = TCPOPT_NOP;
    b[i++] = TCPOPT_NOP;
    b[i++] = TCPOPT_TS;
    b[i++] = 10;
    writeU32(b, i, tsVal);
    writeU32(b, i + 4, tsEcr);
    i += 8;
  }
  if (nSack > 0) {
    b[i++] = TCPOPT_NOP;
    b[i++] = TCPOPT_NOP;
    b[i++] = TCPOPT_SACK;
    b[i++] = 2 + 8 * nSack;
    for (let k = 0; k < nSack; k++) {
      writeU32(b, i, sack[k].start);
      writeU32(b, i + 4, sack[k].end);
      i += 8;
    }
  }
  return i - off;
}
