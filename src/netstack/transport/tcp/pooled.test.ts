// The copying data path (writeFrom / readTo) and pooled send blocks: data
// integrity on loopback and on a lossy link, and views handed out by
// read/readViews staying valid after their block is reused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4 } from '../../addr.js';
import { BlockPool, blockPool, isPooled, type Fill } from '../../buffer.js';
import { ErrWouldBlock } from '../../errors.js';
import { connectPair, equalBytes, loopbackStack, pattern, stackPair, tryConnect } from '../../testing/harness.js';
import type { FakeClock } from '../../clock.js';
import { OutOfOrderQueue } from './ooo.js';
import type { TCPEndpoint } from './endpoint.js';

function from(data: Uint8Array): Fill {
  return (dst, off) => {
    dst.set(data.subarray(off, off + dst.length));
    return dst.length;
  };
}

/** pump moves data from tx to rx with writeFrom/readTo (reads of readMax), advancing clock when stuck. */
function pump(clock: FakeClock, tx: TCPEndpoint, rx: TCPEndpoint, data: Uint8Array, chunk: number, readMax: number): Uint8Array {
  const out = new Uint8Array(data.length);
  let sent = 0;
  let got = 0;
  for (let spins = 0; got < data.length; spins++) {
    assert.ok(spins < 100_000, `stalled at ${got}/${data.length}`);
    let progress = false;
    while (sent < data.length) {
      let n = 0;
      try {
        const piece = data.subarray(sent, Math.min(sent + chunk, data.length));
        n = tx.writeFrom(piece.length, from(piece));
      } catch (e) {
        if (!(e instanceof ErrWouldBlock)) throw e;
      }
      if (n === 0) break;
      sent += n;
      progress = true;
    }
    for (;;) {
      let n: number;
      try {
        n = rx.readTo(readMax, (v) => {
          out.set(v, got);
          got += v.length;
          return v.length;
        });
      } catch (e) {
        if (e instanceof ErrWouldBlock) break;
        throw e;
      }
      if (n === 0) break;
      progress = true;
    }
    if (!progress) {
      const next = clock.nextAt();
      assert.ok(next !== undefined, `stalled at ${got}/${data.length}`);
      clock.advance(next - clock.now());
    }
  }
  return out;
}

test('TCP writeFrom/readTo: 8 MB over loopback in 64 KiB writes, intact, blocks recycled', () => {
  const s = loopbackStack();
  const l = s.newTCPEndpoint(4);
  l.bind({ addr: '', port: 7000 });
  l.listen(1);
  const c = s.newTCPEndpoint(4);
  tryConnect(c, { addr: ipv4('127.0.0.1'), port: 7000 });
  const srv = l.accept().ep;
  const data = pattern(8 << 20, 5);
  const before = blockPool.allocated;
  const got = pump(s.clock as FakeClock, c, srv, data, 65536, 65536);
  assert.ok(equalBytes(got, data));
  assert.ok(blockPool.allocated - before <= 64, `blocks are reused (${blockPool.allocated - before} made for 128 writes)`);
  // Odd sizes: writes straddling blocks, reads smaller and larger than a segment.
  const odd = pattern(3_000_001, 6);
  assert.ok(equalBytes(pump(s.clock as FakeClock, c, srv, odd, 100_003, 70_001), odd));
  assert.ok(equalBytes(pump(s.clock as FakeClock, srv, c, odd, 33_333, 5_000), odd));
});

test('TCP writeFrom: views from read/readViews stay valid after their block is reused', () => {
  const s = loopbackStack();
  const l = s.newTCPEndpoint(4);
  l.bind({ addr: '', port: 7001 });
  l.listen(1);
  const c = s.newTCPEndpoint(4);
  tryConnect(c, { addr: ipv4('127.0.0.1'), port: 7001 });
  const srv = l.accept().ep;
  const a = pattern(BlockPool.BLOCK, 1);
  c.writeFrom(a.length, from(a));
  const views = srv.readViews(1 << 20);
  for (const v of views) assert.ok(!isPooled(v), 'handed-out views are copies');
  // Many more writes and reads reuse the pool's blocks.
  for (let i = 0; i < 40; i++) {
    const b = pattern(BlockPool.BLOCK, 100 + i);
    c.writeFrom(b.length, from(b));
    srv.readTo(1 << 20, (v) => v.length);
  }
  let off = 0;
  for (const v of views) {
    assert.ok(equalBytes(v, a.subarray(off, off + v.length)), 'unchanged');
    off += v.length;
  }
  assert.equal(off, a.length);
  c.writeFrom(a.length, from(a));
  const r = srv.read(1 << 20);
  for (let i = 0; i < 40; i++) {
    const b = pattern(BlockPool.BLOCK, 200 + i);
    c.writeFrom(b.length, from(b));
    srv.readTo(1 << 20, (v) => v.length);
  }
  assert.ok(equalBytes(r, a), 'read() result unchanged too');
});

test('TCP writeFrom/readTo: loss and reordering on a link still deliver intact data', () => {
  const p = stackPair({
    filter: (_frame, _from, i) => (i % 13 === 6 ? 'drop' : i % 17 === 9 ? 2 : 'pass'),
  });
  const { client, server } = connectPair(p);
  const data = pattern(700_000, 9);
  assert.ok(equalBytes(pump(p.clock, client, server, data, 65536, 65536), data));
  assert.ok(client.stats.retransSegs > 0, 'retransmissions happened');
});

test('TCP readTo: a short put consumes only what it took', () => {
  const s = loopbackStack();
  const l = s.newTCPEndpoint(4);
  l.bind({ addr: '', port: 7002 });
  l.listen(1);
  const c = s.newTCPEndpoint(4);
  tryConnect(c, { addr: ipv4('127.0.0.1'), port: 7002 });
  const srv = l.accept().ep;
  const a = pattern(100_000, 4);
  c.writeFrom(a.length, from(a));
  assert.equal(srv.readTo(1 << 20, (v) => Math.min(v.length, 1234)), 1234);
  assert.equal(srv.queuedRead, a.length - 1234);
  assert.equal(srv.readTo(10, (v) => v.length, { peek: true }), 10);
  assert.equal(srv.queuedRead, a.length - 1234, 'peek consumes nothing');
  const rest = srv.read(1 << 20);
  assert.ok(equalBytes(rest, a.subarray(1234)));
});

test('BlockPool: no reference was dropped twice in these tests', () => {
  assert.equal(blockPool.underflows, 0);
});

test('OutOfOrderQueue keeps a copy of pooled bytes', () => {
  const q = new OutOfOrderQueue();
  const block = blockPool.acquire();
  block.set(pattern(1000, 8));
  q.insert(5000, block.subarray(0, 1000), false);
  block.fill(0);
  blockPool.unref(block.buffer);
  const out: Uint8Array[] = [];
  assert.equal(q.popReady(5000, out), 6000);
  assert.ok(equalBytes(out[0], pattern(1000, 8)));
});
