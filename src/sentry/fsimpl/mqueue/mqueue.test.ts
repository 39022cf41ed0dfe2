import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { EVENT_IN, EVENT_OUT } from '../../vfs/waiter.js';
import type { Notification } from './mqueue.js';
import { MessageQueue, MqueueFS, SIGEV_SIGNAL } from './mqueue.js';

const text = (s: string) => new TextEncoder().encode(s);

test('messages come out by priority, oldest first within one', () => {
  const q = new MessageQueue(4, 16);
  q.send(text('a'), 1, 1, 0);
  q.send(text('bb'), 5, 1, 0);
  q.send(text('c'), 1, 1, 0);
  q.send(text('d'), 5, 1, 0);
  assert.throws(() => q.send(text('e'), 0, 1, 0), linuxerr.EAGAIN);
  assert.equal(q.readiness(EVENT_IN | EVENT_OUT), EVENT_IN);
  assert.equal(q.statusText(), 'QSIZE:5          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n');
  const order = [q.receive(), q.receive(), q.receive(), q.receive()].map((m) => new TextDecoder().decode(m.data));
  assert.deepEqual(order, ['bb', 'd', 'a', 'c']);
  assert.throws(() => q.receive(), linuxerr.EAGAIN);
  assert.equal(q.readiness(EVENT_IN | EVENT_OUT), EVENT_OUT);
});

test('a notification fires once, on the first message into an empty queue', () => {
  const q = new MessageQueue(4, 16);
  const sent: number[] = [];
  MessageQueue.deliver = (_n, pid) => sent.push(pid);
  const n: Notification = { owner: {}, ownerPid: 7, notify: SIGEV_SIGNAL, signo: 10, value: new Uint8Array(8) };
  q.notification = n;
  assert.match(q.statusText(), /NOTIFY:0 +SIGNO:10 +NOTIFY_PID:7 /);
  q.send(text('x'), 0, 42, 0);
  q.send(text('y'), 0, 43, 0);
  assert.deepEqual(sent, [42]);
  assert.equal(q.notification, null);
});

test('every mqueue mount shows the same queues', () => {
  const a = new MqueueFS();
  const b = new MqueueFS();
  assert.equal(a.root, b.root);
  assert.equal(a.dev, b.dev);
});
