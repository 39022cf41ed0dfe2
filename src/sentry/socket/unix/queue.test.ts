import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageQueue, truesize } from './queue.js';
import type { Sender, UnixMessage } from './queue.js';

function sender(): Sender & { calls: number } {
  return { wmem: 0, calls: 0, uncharged() { this.calls++; }, sourceAddress: () => null };
}

function msg(s: Sender | null, n: number): UnixMessage {
  return { data: new Uint8Array(n), off: 0, sender: s, cost: truesize(n), rights: null, creds: null };
}

test('truesize matches what Linux charges for small skbs', () => {
  assert.equal(truesize(1), 768);
  assert.equal(truesize(1000), 2304);
  assert.ok(truesize(100_000) > 100_000 && truesize(100_000) < 102_000);
});

test('queued messages are charged to their sender until consumed', () => {
  const s = sender();
  const q = new MessageQueue();
  q.push(msg(s, 10));
  q.push(msg(s, 20));
  assert.equal(q.length, 2);
  assert.equal(q.bytes, 30);
  assert.equal(s.wmem, truesize(10) + truesize(20));
  q.consume(4);
  assert.equal(q.bytes, 26);
  assert.equal(q.at(0)?.off, 4);
  assert.equal(q.shift()?.data.length, 10);
  assert.equal(s.wmem, truesize(20));
  assert.equal(s.calls, 1);
  assert.equal(q.drain().length, 1);
  assert.equal(s.wmem, 0);
  assert.equal(q.length, 0);
  assert.equal(q.bytes, 0);
});

test('the queue stays ordered across many shifts and an unshift', () => {
  const q = new MessageQueue();
  for (let i = 0; i < 200; i++) q.push(msg(null, i));
  for (let i = 0; i < 150; i++) assert.equal(q.shift()?.data.length, i);
  q.unshift(msg(null, 7));
  assert.equal(q.at(0)?.data.length, 7);
  assert.equal(q.at(1)?.data.length, 150);
  assert.equal(q.length, 51);
});
