import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NewReno, RttEstimator, SackScoreboard } from './cc.js';
import { OutOfOrderQueue } from './ooo.js';
import { seqGT, seqLT, seqDiff } from './seqnum.js';

test('sequence numbers compare across wraparound', () => {
  assert.ok(seqLT(0xfffffff0, 5));
  assert.ok(seqGT(5, 0xfffffff0));
  assert.equal(seqDiff(5, 0xfffffff0), 21);
});

test('RTO: RFC 6298 estimator with the 200 ms floor on the variance term', () => {
  const r = new RttEstimator({ minRTO: 200, maxRTO: 120000, initialRTO: 1000 });
  assert.equal(r.rto, 1000);
  r.sample(100);
  assert.equal(r.srtt, 100);
  assert.equal(r.rttvar, 50);
  assert.equal(r.rto, 300);
  r.sample(100);
  assert.equal(r.rttvar, 37.5);
  assert.equal(r.rto, 300, 'srtt + max(4*rttvar, 200)');
  const lo = new RttEstimator({ minRTO: 200, maxRTO: 120000, initialRTO: 1000 });
  lo.sample(0);
  assert.equal(lo.rto, 200);
});

test('NewReno: slow start, avoidance, recovery, timeout', () => {
  const cc = new NewReno(10 * 1000);
  cc.onAck(1000, 1000);
  assert.equal(cc.cwnd, 11000);
  cc.enterRecovery(20000, 1000, 12345);
  assert.equal(cc.ssthresh, 10000);
  assert.equal(cc.cwnd, 13000);
  cc.exitRecovery(5000, 1000);
  assert.equal(cc.cwnd, 6000);
  cc.ssthresh = 6000;
  for (let i = 0; i < 6; i++) cc.onAck(1000, 1000);
  assert.equal(cc.cwnd, 7000, 'one MSS per window in congestion avoidance');
  cc.onTimeout(8000, 1000);
  assert.equal(cc.cwnd, 1000);
  assert.equal(cc.ssthresh, 4000);
  // A window the sender does not fill does not grow (RFC 7661).
  const idle = new NewReno(10 * 1000);
  idle.onAck(1000, 1000, 2000);
  assert.equal(idle.cwnd, 10000, 'flight 2000 of 10000: application-limited');
  idle.onAck(1000, 1000, 5000);
  assert.equal(idle.cwnd, 11000, 'half the window in flight counts as limited by it');
});

test('SACK scoreboard merges blocks and finds holes', () => {
  const sb = new SackScoreboard();
  assert.ok(sb.update([{ start: 3000, end: 4000 }], 1000, 10000));
  assert.ok(sb.update([{ start: 5000, end: 6000 }, { start: 4000, end: 4500 }], 1000, 10000));
  assert.deepEqual(sb.ranges, [{ start: 3000, end: 4500 }, { start: 5000, end: 6000 }]);
  assert.equal(sb.sacked, 2500);
  assert.deepEqual(sb.nextHole(1000), { start: 1000, end: 3000 });
  assert.deepEqual(sb.nextHole(3500), { start: 4500, end: 5000 });
  assert.equal(sb.nextHole(5500), null);
  assert.ok(!sb.update([{ start: 500, end: 900 }], 1000, 10000), 'below snd.una (D-SACK) ignored');
  sb.ackedTo(4200);
  assert.deepEqual(sb.ranges, [{ start: 4200, end: 4500 }, { start: 5000, end: 6000 }]);
});

test('out-of-order queue fills gaps only, pops in order, reports SACK blocks', () => {
  const q = new OutOfOrderQueue();
  const bytes = (from: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
  q.insert(200, bytes(200, 100), false);
  q.insert(400, bytes(400, 100), true);
  q.insert(250, bytes(250, 200), false); // overlaps both
  assert.equal(q.bytes, 300);
  assert.deepEqual(q.sackBlocks(3), [{ start: 200, end: 500 }]);
  const out: Uint8Array[] = [];
  assert.equal(q.popReady(100, out), 100, 'nothing at 100 yet');
  const next = q.popReady(200, out);
  assert.equal(next, 500);
  const flat = out.flatMap((b) => Array.from(b));
  assert.deepEqual(flat, Array.from(bytes(200, 300)));
  assert.equal(q.finSeq, 500);
});
