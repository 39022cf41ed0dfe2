import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsStreamFramer, frameMessage } from './dns_relay_tcp.js';

test('DnsStreamFramer splits length-prefixed messages, across and within reads', () => {
  const a = Uint8Array.from({ length: 12 }, (_, i) => i);
  const b = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  const stream = new Uint8Array([...frameMessage(a), ...frameMessage(b)]);
  assert.deepEqual([...stream.subarray(0, 2)], [0, 12]);
  assert.deepEqual([...stream.subarray(14, 16)], [1, 44]); // 300 in network order
  const f = new DnsStreamFramer();
  assert.deepEqual(f.push(stream.subarray(0, 1)), []);
  assert.equal(f.pending, 1);
  const first = f.push(stream.subarray(1, 20));
  assert.equal(first.length, 1);
  assert.deepEqual(first[0], a);
  const second = f.push(stream.subarray(20));
  assert.equal(second.length, 1);
  assert.deepEqual(second[0], b);
  assert.equal(f.pending, 0);
  // Both at once, and an empty message.
  const g = new DnsStreamFramer();
  const all = g.push(new Uint8Array([...stream, 0, 0]));
  assert.equal(all.length, 3);
  assert.equal(all[2].length, 0);
});
