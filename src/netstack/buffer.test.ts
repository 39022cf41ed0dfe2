import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockPool, ByteQueue, PacketBuffer, blockPool, isPooled, type Fill } from './buffer.js';
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

test('PacketBuffer: pullUpAt gives offsets into head, across payload and extra views', () => {
  const p = new PacketBuffer(Uint8Array.of(0, 0, 1, 2), 2, Uint8Array.of(3, 4));
  assert.equal(p.pullUpAt(2), 2, 'already contiguous: headStart');
  assert.equal(p.pullUpAt(7), -1, 'longer than the packet');
  p.extra = [Uint8Array.of(5, 6), Uint8Array.of(7)];
  const at = p.pullUpAt(5);
  assert.equal(at, 0);
  assert.deepEqual(Array.from(p.head.subarray(at, at + 5)), [1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(p.data()), [1, 2, 3, 4, 5, 6, 7], 'nothing lost');
  p.trim(7);
  assert.equal(p.size, 7, 'trim to the size keeps everything');
  p.trim(3);
  assert.deepEqual(Array.from(p.data()), [1, 2, 3]);
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

test('BlockPool: append copies into pooled blocks; a block is reused only after every counted holder let go', () => {
  const src = new Uint8Array(3 * BlockPool.BLOCK + 10_000).map((_, i) => (i * 7) & 0xff);
  const fill: Fill = (dst, off) => {
    dst.set(src.subarray(off, off + dst.length));
    return dst.length;
  };
  const snd = new ByteQueue();
  assert.equal(snd.append(src.length, fill), src.length);
  assert.equal(snd.length, src.length);
  const first = snd.peekViews(0, BlockPool.BLOCK);
  assert.equal(first.length, 1, 'a 64 KiB piece lies in one block');
  const block = first[0].buffer;
  assert.ok(isPooled(first[0]), 'large pieces go to pooled blocks');
  assert.ok(!isPooled(snd.peekViews(3 * BlockPool.BLOCK, 100)[0]), 'a remainder under POOLED_MIN gets its own array');
  assert.equal(blockPool.refCount(block), 1, 'the sender entry holds the block');
  // The receiver queues views of the same block (loopback): one more reference.
  const rcv = new ByteQueue();
  rcv.push(first[0].subarray(0, 40000));
  rcv.push(first[0].subarray(40000));
  assert.equal(blockPool.refCount(block), 2, 'contiguous views of one block share one entry');
  assert.equal(rcv.peekViews(0, BlockPool.BLOCK).length, 1, 'merged back into one view');
  snd.discard(BlockPool.BLOCK);
  assert.equal(blockPool.refCount(block), 1, 'acknowledged: the receiver still holds it');
  // While held, new blocks are different memory.
  const other = new ByteQueue();
  other.append(BlockPool.BLOCK, fill);
  assert.notEqual(other.peekViews(0, 10)[0].buffer, block);
  rcv.discard(1000);
  assert.equal(blockPool.refCount(block), 1, 'partly read: still held');
  const got = rcv.peek(0, 10);
  assert.deepEqual(Array.from(got), Array.from(src.subarray(1000, 1010)));
  rcv.discard(rcv.length);
  assert.equal(blockPool.refCount(block), 0, 'read: free');
  const again = new ByteQueue();
  again.append(BlockPool.BLOCK, () => 0);
  assert.equal(again.length, 0, 'a fill that copies nothing queues nothing');
  snd.clear();
  other.clear();
  assert.equal(blockPool.underflows, 0);
});

test('ByteQueue: small pieces coalesce in a pooled tail; a faulting piece of an append is dropped', () => {
  const q = new ByteQueue();
  for (let i = 0; i < 100; i++) q.push(Uint8Array.of(i, i + 1));
  const v = q.peekViews(0, 200);
  assert.equal(v.length, 1, 'one tail chunk');
  assert.ok(isPooled(v[0]));
  const tail = v[0].buffer;
  assert.equal(blockPool.refCount(tail), 2, 'the queue (tail) and its entry');
  q.discard(200);
  assert.equal(blockPool.refCount(tail), 0, 'emptied: tail released');
  // A fill that faults in the second piece: the first piece is queued, the faulting one dropped.
  let filled = 0;
  const n = q.append(100_000, (dst) => {
    const c = Math.min(dst.length, 70_000 - filled);
    filled += c;
    return c;
  });
  assert.equal(n, BlockPool.BLOCK);
  assert.equal(q.length, BlockPool.BLOCK);
  q.clear();
});
