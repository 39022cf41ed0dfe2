import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachMessage, guestRecvControl, hostSendControl } from './control.js';

/** cmsg builds one x86-64 control message. */
function cmsg(level: number, type: number, data: number[]): Uint8Array {
  const len = 16 + data.length;
  const b = new Uint8Array((len + 7) & ~7);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  dv.setInt32(8, level, true);
  dv.setInt32(12, type, true);
  b.set(data, 16);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function list(buf: Uint8Array): string[] {
  const out: string[] = [];
  forEachMessage(buf, (level, type, data) => out.push(`${level}:${type}:${Array.from(data).join(',')}`));
  return out;
}

test('sent control keeps only plain IP messages: never SCM_RIGHTS or credentials', () => {
  const raw = concat(cmsg(1, 1, [3, 0, 0, 0]), cmsg(0, 2, [64, 0, 0, 0]), cmsg(1, 2, new Array(12).fill(0)), cmsg(41, 67, [8, 0, 0, 0]));
  const out = hostSendControl(raw);
  assert.ok(out);
  assert.deepEqual(list(out), ['0:2:64,0,0,0', '41:67:8,0,0,0']);
  assert.equal(hostSendControl(cmsg(1, 1, [3, 0, 0, 0])), null);
  assert.equal(hostSendControl(null), null);
});

test('received control passes on, unless it carries descriptors', () => {
  const ts = cmsg(1, 29, new Array(16).fill(1)); // SO_TIMESTAMP
  const buf = new Uint8Array(64);
  buf.set(ts);
  assert.deepEqual(list(guestRecvControl(buf, ts.length)!), [`1:29:${new Array(16).fill(1).join(',')}`]);
  assert.equal(guestRecvControl(buf, 0), null);
  const rights = cmsg(1, 1, [5, 0, 0, 0]);
  assert.equal(guestRecvControl(rights, rights.length), null);
});

test('a malformed message ends the walk', () => {
  const bad = cmsg(0, 8, [1, 2, 3, 4]);
  new DataView(bad.buffer).setUint32(0, 200, true);
  assert.deepEqual(list(concat(cmsg(0, 1, [7]), bad)), ['0:1:7']);
});
