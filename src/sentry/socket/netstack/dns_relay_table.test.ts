import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayTable, UPSTREAM_GRACE_MS, chooseAnswer, isResponse, messageId, withId } from './dns_relay_table.js';

/** seq returns the given numbers in turn (a predictable rng). */
function seq(...ns: number[]): () => number {
  let i = 0;
  return () => ns[i++ % ns.length];
}

test('two guests with the same transaction id get distinct relay ids, each answer goes back to its asker', () => {
  const t = new RelayTable({ rng: seq(100, 200) });
  const a = t.add('\x7f\0\0\x01', 40000, 0x1234, 0);
  const b = t.add('\x7f\0\0\x01', 40001, 0x1234, 0);
  assert.notEqual(a, b);
  const pb = t.take(b, 1);
  assert.deepEqual([pb?.port, pb?.id], [40001, 0x1234]);
  const pa = t.take(a, 1);
  assert.deepEqual([pa?.port, pa?.id], [40000, 0x1234]);
  assert.equal(t.take(a, 1), null, 'an answer is delivered once');
  assert.equal(t.size, 0);
});

test('a relay id in use is not handed out again', () => {
  const t = new RelayTable({ rng: seq(7, 7, 7, 9) });
  assert.equal(t.add('a', 1, 1, 0), 7);
  assert.equal(t.add('a', 2, 1, 0), 9);
});

test('a retransmission keeps its relay id and its deadline moves', () => {
  const t = new RelayTable({ rng: seq(5, 6), timeoutMs: 100 });
  assert.equal(t.add('a', 1, 42, 0), 5);
  assert.equal(t.add('a', 1, 42, 90), 5);
  assert.equal(t.size, 1);
  assert.equal(t.take(5, 150)?.id, 42, 'refreshed at 90: still waiting at 150');
});

test('queries expire, and the oldest is dropped when the table is full', () => {
  const t = new RelayTable({ rng: seq(1, 2, 3, 4), timeoutMs: 100, max: 2 });
  t.add('a', 1, 1, 0);
  assert.equal(t.take(1, 100), null, 'expired at its deadline');
  t.add('a', 1, 2, 200); // 2
  t.add('a', 1, 3, 201); // 3
  t.add('a', 1, 4, 202); // 4: 2 is forgotten
  assert.equal(t.size, 2);
  assert.equal(t.take(2, 203), null);
  assert.equal(t.take(3, 203)?.id, 3);
  assert.equal(t.take(4, 203)?.id, 4);
});

test('header helpers', () => {
  const q = Uint8Array.of(0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0);
  assert.equal(messageId(q), 0xabcd);
  assert.equal(isResponse(q), false);
  const r = withId(q, 0x0102);
  assert.equal(messageId(r), 0x0102);
  assert.equal(messageId(q), 0xabcd, 'the original is left alone');
  r[2] |= 0x80;
  assert.equal(isResponse(r), true);
});

/** answer makes a response header with rcode and ancount. */
function answer(rcode: number, ancount: number): Uint8Array {
  return Uint8Array.of(0, 1, 0x81, 0x80 | rcode, 0, 1, 0, ancount, 0, 0, 0, 0);
}

test('chooseAnswer: Docker knows the containers, the upstream the rest', () => {
  const records = answer(0, 1);
  const nx = answer(3, 0);
  const servfail = answer(2, 0);
  // A container's name: Docker's records, even if the upstream said NXDOMAIN first.
  assert.equal(chooseAnswer({ upstream: nx }, 5, false), null);
  assert.equal(chooseAnswer({ upstream: nx, docker: records }, 6, false), records);
  // A public name Docker cannot forward: the upstream's, once Docker failed or the grace passed.
  assert.equal(chooseAnswer({ upstream: records }, 5, false), null);
  assert.equal(chooseAnswer({ upstream: records }, UPSTREAM_GRACE_MS, false), records);
  assert.equal(chooseAnswer({ upstream: records, docker: servfail }, 5, false), records);
  // Docker's NXDOMAIN (it could forward after all) settles it.
  assert.equal(chooseAnswer({ docker: nx }, 1, false), nx);
  // Both failed: Docker's failure; nothing at all by the end: nothing.
  assert.equal(chooseAnswer({ docker: servfail, upstream: answer(2, 0) }, 1, false), servfail);
  assert.equal(chooseAnswer({}, 3000, true), null);
  assert.equal(chooseAnswer({ upstream: servfail }, 3000, true), servfail);
});
