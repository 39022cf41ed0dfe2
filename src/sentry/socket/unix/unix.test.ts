import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { fakeKernel, newProcess } from '../../kernel/testutil.js';
import type { Task } from '../../kernel/task.js';
import { FileDescription } from '../../vfs/file_description.js';
import type { Stat } from '../../vfs/file_description.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT } from '../../vfs/waiter.js';
import * as abi from '../abi.js';
import { BufferSink, BufferSource, RecvRequest, SendRequest } from '../socket.js';
import type { Socket } from '../socket.js';
import { abstractAddress } from './address.js';
import { newUnixPair, newUnixSocket } from './unix.js';

function task(): Task {
  return newProcess(fakeKernel().kernel, 1, null);
}

const enc = new TextEncoder();

function send(t: Task, s: Socket, data: string | Uint8Array, opts: { nonblock?: boolean; flags?: number; rights?: FileDescription[] } = {}) {
  const req = new SendRequest(new BufferSource(typeof data === 'string' ? enc.encode(data) : data), null,
    opts.flags ?? 0, opts.nonblock ?? true);
  // The request owns one reference per passed file, as sendmsg's control parsing takes.
  for (const f of opts.rights ?? []) f.incRef();
  req.rights = opts.rights ?? null;
  const st = s.sendmsg(t, req);
  req.release();
  return { st, sent: req.sent };
}

function recv(t: Task, s: Socket, n: number, flags = 0, nonblock = true) {
  const buf = new Uint8Array(n);
  const req = new RecvRequest(new BufferSink(buf), flags, nonblock, 1);
  const st = s.recvmsg(t, req);
  return { st, req, text: new TextDecoder().decode(buf.subarray(0, req.copied)) };
}

const eq = (err: linuxerr.SyscallError) => (e: unknown) => e === err;

/** counted makes a description whose release is counted. */
function counted(): { f: FileDescription; released: () => number } {
  let n = 0;
  const impl = { stat: () => ({}) as Stat, release: () => void n++ };
  return { f: new FileDescription(impl, 0), released: () => n };
}

test('stream pairs carry bytes without boundaries and report readiness', () => {
  const t = task();
  const [a, b] = newUnixPair(t, abi.SOCK_STREAM, 0);
  assert.equal(b.readiness(EVENT_IN | EVENT_OUT), EVENT_OUT);
  send(t, a, 'hello');
  send(t, a, ' world');
  assert.equal(b.readiness(EVENT_IN), EVENT_IN);
  assert.equal(recv(t, b, 3, abi.MSG_PEEK).text, 'hel');
  assert.equal(recv(t, b, 100).text, 'hello world');
  assert.throws(() => recv(t, b, 1), eq(linuxerr.EAGAIN));
  assert.equal(recv(t, b, 1, 0, false).st, 'wait');
});

test('a full stream buffer blocks the writer until the reader drains it', () => {
  const t = task();
  const [a, b] = newUnixPair(t, abi.SOCK_STREAM, 0);
  const big = new Uint8Array(1 << 20);
  const first = send(t, a, big);
  assert.ok(first.sent > 100_000 && first.sent < (1 << 20));
  assert.throws(() => send(t, a, 'x'), eq(linuxerr.EAGAIN));
  assert.equal(send(t, a, 'x', { nonblock: false }).st, 'wait');
  assert.equal(a.readiness(EVENT_OUT), 0);
  let woken = 0;
  a.waitQueue.register(EVENT_OUT, () => woken++);
  while (b.inq() > 0) recv(t, b, 65536);
  assert.equal(woken, 1);
  assert.equal(a.readiness(EVENT_OUT), EVENT_OUT);
});

test('datagram pairs keep boundaries; MSG_TRUNC reports the real length', () => {
  const t = task();
  const [a, b] = newUnixPair(t, abi.SOCK_DGRAM, 0);
  send(t, a, 'first');
  send(t, a, 'second');
  const r = recv(t, b, 2, abi.MSG_TRUNC);
  assert.equal(r.text, 'fi');
  assert.equal(r.req.value, 5);
  assert.ok(r.req.msgFlags & abi.MSG_TRUNC);
  assert.equal(recv(t, b, 100).text, 'second');
  b.release();
  assert.throws(() => send(t, a, 'x'), eq(linuxerr.ECONNREFUSED));
  assert.throws(() => send(t, a, 'x'), eq(linuxerr.ENOTCONN));
});

test('closing with unread data resets the peer; in-flight descriptors are released', () => {
  const t = task();
  const [a, b] = newUnixPair(t, abi.SOCK_STREAM, 0);
  const d = counted();
  send(t, a, 'fd', { rights: [d.f] });
  d.f.decRef(); // the sender's own reference: the message keeps the file alive
  assert.equal(d.released(), 0);
  // b closes with that message unread.
  b.release();
  assert.equal(d.released(), 1, 'dropped with the unread message');
  assert.equal(a.readiness(EVENT_IN), EVENT_IN | EVENT_HUP | EVENT_ERR);
  assert.throws(() => recv(t, a, 10), eq(linuxerr.ECONNRESET));
  assert.equal(recv(t, a, 10).req.copied, 0, 'then EOF');
  assert.throws(() => send(t, a, 'x', { flags: abi.MSG_NOSIGNAL }), eq(linuxerr.EPIPE));
});

test('a stream read stops after the bytes that carried descriptors; peeking duplicates them', () => {
  const t = task();
  const [a, b] = newUnixPair(t, abi.SOCK_STREAM, 0);
  const d = counted();
  send(t, a, 'ab');
  send(t, a, 'cd', { rights: [d.f] });
  send(t, a, 'ef');
  const p = recv(t, b, 100, abi.MSG_PEEK);
  assert.equal(p.text, 'abcd');
  assert.equal(p.req.rights?.length, 1);
  p.req.release();
  const r = recv(t, b, 100);
  assert.equal(r.text, 'abcd');
  assert.equal(r.req.rights?.[0], d.f);
  r.req.release();
  assert.equal(recv(t, b, 100).text, 'ef');
  d.f.decRef();
  assert.equal(d.released(), 1);
});

test('abstract listen, connect and accept with a backlog', () => {
  const t = task();
  const l = newUnixSocket(t, abi.SOCK_STREAM, 0);
  const addr = abstractAddress(enc.encode('unit-test')).bytes;
  l.bind(t, addr);
  l.listen(t, 0);
  const c1 = newUnixSocket(t, abi.SOCK_STREAM, 0);
  const c2 = newUnixSocket(t, abi.SOCK_STREAM, 0);
  c1.connect(t, addr, true);
  assert.throws(() => c2.connect(t, addr, true), eq(linuxerr.EAGAIN));
  let woken = 0;
  c2.waitQueue.register(EVENT_OUT, () => woken++);
  send(t, c1, 'early');
  assert.equal(l.readiness(EVENT_IN), EVENT_IN);
  const s = l.accept(t);
  assert.equal(woken, 1, 'accept makes room and wakes the waiting connector');
  assert.equal(recv(t, s, 10).text, 'early');
  assert.deepEqual(s.name(t, false), addr);
  c2.connect(t, addr, true);
  l.release();
  // The pending connection died with the listener.
  assert.throws(() => recv(t, c2, 10), eq(linuxerr.ECONNRESET));
  assert.throws(() => newUnixSocket(t, abi.SOCK_STREAM, 0).connect(t, addr, true), eq(linuxerr.ECONNREFUSED));
});

test('socket(2) argument checks', () => {
  const t = task();
  assert.throws(() => newUnixSocket(t, 9, 0), eq(linuxerr.ESOCKTNOSUPPORT));
  assert.throws(() => newUnixSocket(t, abi.SOCK_STREAM, 2), eq(linuxerr.EPROTONOSUPPORT));
  assert.equal(newUnixSocket(t, abi.SOCK_RAW, 0).type, abi.SOCK_DGRAM);
});
