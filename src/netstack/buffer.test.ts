import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteQueue, PacketBuffer } from './buffer.js';
import { FakeClock, Timer } from './clock.js';

test('ByteQueue: views within a chunk, copies across chunks, small pushes coalesce', () => {
  const q = new ByteQueue();
  const big = new Uint8Array(5000).map((_, i) => i & 0xff);
  q.push(big);
  q.push(Uint8Array.of(1, 2, 3));
  q.push(Uint8Array.of(4, 5));
  assert.equal(q.length, 5005);
  const v = q.peek(10, 100);
  assert.equal(v.buffer, big.buffer, 'zero-copy view inside one chunk');
  const across = q.peek(4998, 6);
  assert.deepEqual(Array.from(across), [4998 & 0xff, 4999 & 0xff, 1, 2, 3, 4]);
  q.discard(4999);
  assert.deepEqual(Array.from(q.read(100)), [4999 & 0xff, 1, 2, 3, 4, 5]);
  assert.equal(q.length, 0);
  // Many pushes and discards keep offsets right.
  let expect = 0;
  let next = 0;
  for (let round = 0; round < 200; round++) {
    const n = (round * 37) % 3000 + 1;
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (next + i) & 0xff;
    next += n;
    q.push(b);
    const take = q.read((round * 53) % 2500);
    for (const x of take) assert.equal(x, expect++ & 0xff);
  }
  const dst = new Uint8Array(q.length);
  assert.equal(q.peekInto(0, dst), dst.length);
  for (const x of dst) assert.equal(x, expect++ & 0xff);
});

test('PacketBuffer: headers prepend into headroom, pullUp merges across head and payload', () => {
  const p = PacketBuffer.outbound(4, Uint8Array.of(9, 9));
  const o1 = p.prepend(2);
  p.head.set([1, 2], o1);
  const o2 = p.prepend(4); // beyond the reserved headroom: grows (and replaces head)
  p.head.set([7, 7, 7, 7], o2);
  assert.deepEqual(Array.from(p.toBytes()), [7, 7, 7, 7, 1, 2, 9, 9]);
  const q = new PacketBuffer(Uint8Array.of(1, 2), 0, Uint8Array.of(3, 4, 5));
  assert.deepEqual(Array.from(q.pullUp(4) ?? []), [1, 2, 3, 4]);
  q.consume(1);
  q.trim(3);
  assert.deepEqual(Array.from(q.data()), [2, 3, 4]);
  assert.equal(q.pullUp(10), null);
});

test('Timer: resets later keep one host timer; fires once at the final deadline', () => {
  const clock = new FakeClock();
  let fired = 0;
  const t = new Timer(clock, () => fired++);
  t.reset(100);
  for (let i = 1; i <= 50; i++) {
    clock.advance(10);
    t.reset(100);
  }
  assert.equal(clock.pending, 1);
  assert.equal(fired, 0);
  clock.advance(99);
  assert.equal(fired, 0);
  clock.advance(1);
  assert.equal(fired, 1);
  t.reset(10);
  t.stop();
  clock.advance(100);
  assert.equal(fired, 1);
  assert.equal(t.enabled, false);
});
