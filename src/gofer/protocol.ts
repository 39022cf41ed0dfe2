// The Gofer's wire format (docs/gofer-protocol.md). One SOCK_SEQPACKET
// message per frame; all integers little-endian. Kept binary and fixed-layout
// because the Sentry makes these calls synchronously on its fast paths.
//
//   request: u32 id | u8 op | u8 nnum | u16 nstr | nnum x f64 | nstr x (u32 len, UTF-8 bytes)
//   reply:   u32 id | u8 op | u8 flags | u16 0 | i32 errno | payload
//
// A reply with FLAG_MORE is followed by more frames of the same reply
// (readdir of a large directory). An open's fd travels as SCM_RIGHTS.

import type { Timespec } from '../sentry/vfs/file_description.js';
import type { Statfs } from '../sentry/vfs/inode.js';
import type { HostDirent, HostStat } from '../sentry/fsimpl/hostfs/host_fs.js';

export const PROTOCOL_VERSION = 1;
/** MAX_FRAME bounds every message in both directions. */
export const MAX_FRAME = 1 << 16;
export const REQUEST_HEADER = 8;
export const REPLY_HEADER = 12;
export const STAT_SIZE = 128;
export const STATFS_SIZE = 80;
/** FLAG_MORE marks a reply frame that more frames of the same reply follow. */
export const FLAG_MORE = 1;
/** VERSION reply flags. */
export const VFLAG_READONLY = 1;
export const VFLAG_DEVICES = 2;

/** OP numbers the operations; see docs/gofer-protocol.md for their arguments. */
export const OP = {
  VERSION: 1,
  LSTAT: 2,
  READDIR: 3,
  READLINK: 4,
  OPEN: 5,
  STATFS: 6,
  MKDIR: 7,
  UNLINK: 8,
  RMDIR: 9,
  RENAME: 10,
  SYMLINK: 11,
  LINK: 12,
  CHMOD: 13,
  LCHOWN: 14,
  UTIMES: 15,
  TRUNCATE: 16,
} as const;

/** ARITY gives each op's [number count, string count]. */
export const ARITY: Record<number, readonly [number, number]> = {
  [OP.VERSION]: [1, 0],
  [OP.LSTAT]: [0, 1],
  [OP.READDIR]: [0, 1],
  [OP.READLINK]: [0, 1],
  [OP.OPEN]: [2, 1], // flags, mode; path
  [OP.STATFS]: [0, 1],
  [OP.MKDIR]: [1, 1], // mode; path
  [OP.UNLINK]: [0, 1],
  [OP.RMDIR]: [0, 1],
  [OP.RENAME]: [0, 2], // from, to
  [OP.SYMLINK]: [0, 2], // target, path
  [OP.LINK]: [0, 2], // from, to
  [OP.CHMOD]: [1, 1], // mode; path
  [OP.LCHOWN]: [2, 1], // uid, gid; path
  [OP.UTIMES]: [4, 1], // atime sec, nsec, mtime sec, nsec; path
  [OP.TRUNCATE]: [1, 1], // size; path
};

export interface Request {
  id: number;
  op: number;
  nums: number[];
  strs: string[];
}

/** WireError is a malformed frame: the peer is broken or hostile. */
export class WireError extends Error {}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** encodeRequest writes r into buf (MAX_FRAME bytes) and returns its length. */
export function encodeRequest(r: Request, buf: Uint8Array): number {
  if (r.nums.length > 255 || r.strs.length > 0xffff) throw new WireError('too many arguments');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(0, r.id >>> 0, true);
  dv.setUint8(4, r.op);
  dv.setUint8(5, r.nums.length);
  dv.setUint16(6, r.strs.length, true);
  let off = REQUEST_HEADER;
  for (const n of r.nums) {
    if (off + 8 > buf.length) throw new WireError('request too long');
    dv.setFloat64(off, n, true);
    off += 8;
  }
  for (const s of r.strs) {
    if (off + 4 > buf.length) throw new WireError('request too long');
    const { read, written } = enc.encodeInto(s, buf.subarray(off + 4));
    if (read !== s.length) throw new WireError('request too long');
    dv.setUint32(off, written, true);
    off += 4 + written;
  }
  return off;
}

/** decodeRequest parses one request frame; it throws WireError unless the frame is exactly well formed. */
export function decodeRequest(b: Uint8Array): Request {
  if (b.length < REQUEST_HEADER) throw new WireError('short request');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const id = dv.getUint32(0, true);
  const op = dv.getUint8(4);
  const nnum = dv.getUint8(5);
  const nstr = dv.getUint16(6, true);
  let off = REQUEST_HEADER;
  const nums: number[] = [];
  for (let i = 0; i < nnum; i++) {
    if (off + 8 > b.length) throw new WireError('truncated number');
    nums.push(dv.getFloat64(off, true));
    off += 8;
  }
  const strs: string[] = [];
  for (let i = 0; i < nstr; i++) {
    if (off + 4 > b.length) throw new WireError('truncated string length');
    const len = dv.getUint32(off, true);
    off += 4;
    if (len > b.length - off) throw new WireError('truncated string');
    strs.push(dec.decode(b.subarray(off, off + len)));
    off += len;
  }
  if (off !== b.length) throw new WireError('trailing bytes');
  return { id, op, nums, strs };
}

/** requestId reads a request's id, or -1 if the frame is too short to have one. */
export function requestId(b: Uint8Array): number {
  if (b.length < 4) return -1;
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);
}

export interface ReplyHeader {
  id: number;
  op: number;
  flags: number;
  errno: number;
}

/** writeReplyHeader fills the first REPLY_HEADER bytes of buf. */
export function writeReplyHeader(buf: Uint8Array, h: ReplyHeader): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(0, h.id >>> 0, true);
  dv.setUint8(4, h.op);
  dv.setUint8(5, h.flags);
  dv.setUint16(6, 0, true);
  dv.setInt32(8, h.errno, true);
}

export function readReplyHeader(b: Uint8Array): ReplyHeader {
  if (b.length < REPLY_HEADER) throw new WireError('short reply');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { id: dv.getUint32(0, true), op: dv.getUint8(4), flags: dv.getUint8(5), errno: dv.getInt32(8, true) };
}

function putTime(dv: DataView, off: number, t: Timespec): void {
  dv.setBigInt64(off, BigInt(t.sec), true);
  dv.setUint32(off + 8, t.nsec, true);
  dv.setUint32(off + 12, 0, true);
}

function getTime(dv: DataView, off: number): Timespec {
  return { sec: Number(dv.getBigInt64(off, true)), nsec: dv.getUint32(off + 8, true) };
}

/** encodeStat writes s as STAT_SIZE bytes at b[off]. */
export function encodeStat(s: HostStat, b: Uint8Array, off: number): void {
  const dv = new DataView(b.buffer, b.byteOffset + off, STAT_SIZE);
  dv.setBigUint64(0, s.dev, true);
  dv.setBigUint64(8, s.ino, true);
  dv.setUint32(16, s.mode, true);
  dv.setUint32(20, s.nlink, true);
  dv.setUint32(24, s.uid, true);
  dv.setUint32(28, s.gid, true);
  dv.setBigUint64(32, BigInt(s.rdev), true);
  dv.setBigInt64(40, BigInt(s.size), true);
  dv.setBigInt64(48, BigInt(s.blksize), true);
  dv.setBigInt64(56, BigInt(s.blocks), true);
  putTime(dv, 64, s.atime);
  putTime(dv, 80, s.mtime);
  putTime(dv, 96, s.ctime);
  putTime(dv, 112, s.btime);
}

export function decodeStat(b: Uint8Array, off: number): HostStat {
  if (off + STAT_SIZE > b.length) throw new WireError('short stat');
  const dv = new DataView(b.buffer, b.byteOffset + off, STAT_SIZE);
  return {
    dev: dv.getBigUint64(0, true), ino: dv.getBigUint64(8, true), mode: dv.getUint32(16, true),
    nlink: dv.getUint32(20, true), uid: dv.getUint32(24, true), gid: dv.getUint32(28, true),
    rdev: Number(dv.getBigUint64(32, true)), size: Number(dv.getBigInt64(40, true)),
    blksize: Number(dv.getBigInt64(48, true)), blocks: Number(dv.getBigInt64(56, true)),
    atime: getTime(dv, 64), mtime: getTime(dv, 80), ctime: getTime(dv, 96), btime: getTime(dv, 112),
  };
}

const STATFS_FIELDS = ['type', 'bsize', 'blocks', 'bfree', 'bavail', 'files', 'ffree', 'namelen', 'frsize', 'flags'] as const;

export function encodeStatfs(s: Statfs, b: Uint8Array, off: number): void {
  const dv = new DataView(b.buffer, b.byteOffset + off, STATFS_SIZE);
  STATFS_FIELDS.forEach((k, i) => dv.setFloat64(i * 8, s[k], true));
}

export function decodeStatfs(b: Uint8Array, off: number): Statfs {
  if (off + STATFS_SIZE > b.length) throw new WireError('short statfs');
  const dv = new DataView(b.buffer, b.byteOffset + off, STATFS_SIZE);
  const s = {} as Statfs;
  STATFS_FIELDS.forEach((k, i) => (s[k] = dv.getFloat64(i * 8, true)));
  return s;
}

/** encodeDirents packs entries from list[start] on into b[off:] (u8 type, u16
 *  name length, name bytes each) while they fit; returns [next index, end offset]. */
export function encodeDirents(list: HostDirent[], start: number, b: Uint8Array, off: number): [number, number] {
  let i = start;
  for (; i < list.length; i++) {
    if (off + 3 > b.length) break;
    const { read, written } = enc.encodeInto(list[i].name, b.subarray(off + 3));
    if (read !== list[i].name.length) break;
    b[off] = list[i].type;
    b[off + 1] = written & 0xff;
    b[off + 2] = written >> 8;
    off += 3 + written;
  }
  return [i, off];
}

export function decodeDirents(b: Uint8Array, off: number, out: HostDirent[]): void {
  while (off < b.length) {
    if (off + 3 > b.length) throw new WireError('truncated dirent');
    const len = b[off + 1] | (b[off + 2] << 8);
    if (off + 3 + len > b.length) throw new WireError('truncated dirent name');
    out.push({ type: b[off], name: dec.decode(b.subarray(off + 3, off + 3 + len)) });
    off += 3 + len;
  }
}

export function encodeString(s: string, b: Uint8Array, off: number): number {
  const { read, written } = enc.encodeInto(s, b.subarray(off));
  if (read !== s.length) throw new WireError('string too long');
  return off + written;
}

export function decodeString(b: Uint8Array, off: number): string {
  return dec.decode(b.subarray(off));
}
