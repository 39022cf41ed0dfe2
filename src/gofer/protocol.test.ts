import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  FLAG_MORE, MAX_FRAME, OP, REPLY_HEADER, STAT_SIZE, STATFS_SIZE, WireError, decodeDirents, decodeRequest, decodeStat,
  decodeStatfs, decodeString, encodeDirents, encodeRequest, encodeStat, encodeStatfs, encodeString, readReplyHeader,
  requestId, writeReplyHeader,
} from './protocol.js';
import type { HostDirent, HostStat } from '../sentry/fsimpl/hostfs/host_fs.js';

test('request round trip', () => {
  const buf = new Uint8Array(MAX_FRAME);
  const r = { id: 0xfffffffe, op: OP.UTIMES, nums: [-1, 999_999_999, 2 ** 40, 0], strs: ['a/b', 'é/日本', ''] };
  const n = encodeRequest(r, buf);
  assert.deepEqual(decodeRequest(buf.subarray(0, n)), r);
  assert.equal(requestId(buf.subarray(0, n)), 0xfffffffe);
  assert.equal(requestId(buf.subarray(0, 3)), -1);
});

test('malformed requests are rejected', () => {
  const buf = new Uint8Array(MAX_FRAME);
  const n = encodeRequest({ id: 1, op: OP.RENAME, nums: [], strs: ['x', 'yy'] }, buf);
  assert.throws(() => decodeRequest(buf.subarray(0, n - 1)), WireError);
  assert.throws(() => decodeRequest(buf.subarray(0, 5)), WireError);
  const long = new Uint8Array(n + 1);
  long.set(buf.subarray(0, n));
  assert.throws(() => decodeRequest(long), WireError, 'trailing bytes');
  // A string length pointing past the end.
  const bad = buf.slice(0, n);
  new DataView(bad.buffer).setUint32(8, 1 << 30, true);
  assert.throws(() => decodeRequest(bad), WireError);
  assert.throws(() => encodeRequest({ id: 1, op: 1, nums: [], strs: ['x'.repeat(MAX_FRAME)] }, buf), WireError);
});

test('reply header round trip', () => {
  const b = new Uint8Array(REPLY_HEADER);
  writeReplyHeader(b, { id: 7, op: OP.READDIR, flags: FLAG_MORE, errno: 40 });
  assert.deepEqual(readReplyHeader(b), { id: 7, op: OP.READDIR, flags: FLAG_MORE, errno: 40 });
  assert.throws(() => readReplyHeader(b.subarray(0, 11)), WireError);
});

test('stat round trip, including 64-bit and negative times', () => {
  const s: HostStat = {
    dev: 0xffff_ffff_ffffn, ino: 2n ** 63n + 5n, mode: 0o100644, nlink: 3, uid: 0xfffffffe, gid: 1000, rdev: 0x10304,
    size: 2 ** 50 + 3, blksize: 4096, blocks: 17, atime: { sec: -2, nsec: 5 }, mtime: { sec: 1_700_000_000, nsec: 999_999_999 },
    ctime: { sec: 0, nsec: 0 }, btime: { sec: 42, nsec: 1 },
  };
  const b = new Uint8Array(STAT_SIZE + 3);
  encodeStat(s, b, 3);
  assert.deepEqual(decodeStat(b, 3), s);
  assert.throws(() => decodeStat(b, 4), WireError);
});

test('statfs round trip', () => {
  const s = { type: 0xef53, bsize: 4096, blocks: 2 ** 40, bfree: 1, bavail: 0, files: 9, ffree: 8, namelen: 255,
    frsize: 4096, flags: 0 };
  const b = new Uint8Array(STATFS_SIZE);
  encodeStatfs(s, b, 0);
  assert.deepEqual(decodeStatfs(b, 0), s);
});

test('dirents split across frames and round trip', () => {
  const list: HostDirent[] = [];
  for (let i = 0; i < 3000; i++) list.push({ name: `entry-${i}-${'x'.repeat(i % 40)}`, type: i % 13 });
  list.push({ name: 'ü'.repeat(127), type: 8 });
  const frame = new Uint8Array(4096);
  const out: HostDirent[] = [];
  let i = 0;
  let frames = 0;
  while (i < list.length) {
    const [next, end] = encodeDirents(list, i, frame, REPLY_HEADER);
    assert.ok(next > i, 'progress');
    decodeDirents(frame.subarray(0, end), REPLY_HEADER, out);
    i = next;
    frames++;
  }
  assert.ok(frames > 10);
  assert.deepEqual(out, list);
  assert.throws(() => decodeDirents(Uint8Array.of(8, 5, 0, 65), 0, []), WireError);
});

test('strings', () => {
  const b = new Uint8Array(64);
  const end = encodeString('lien → cible', b, 10);
  assert.equal(decodeString(b.subarray(0, end), 10), 'lien → cible');
  assert.throws(() => encodeString('x'.repeat(100), b, 0), WireError);
});
