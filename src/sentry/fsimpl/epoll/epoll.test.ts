import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { EVENT_IN } from '../../vfs/waiter.js';
import { newEventFD } from '../eventfd/eventfd.js';
import {
  EPOLLET, EPOLLEXCLUSIVE, EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLRDNORM, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD,
  EpollInstance, newEpoll,
} from './epoll.js';

function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
}
function ep(f: ReturnType<typeof newEpoll>): EpollInstance {
  return f.impl as EpollInstance;
}

test('epoll: level-triggered entries stay ready; ADD/MOD/DEL errors', () => {
  const e = newEpoll();
  const efd = newEventFD(0, 0);
  ep(e).ctl(e, EPOLL_CTL_ADD, 5, efd, EPOLLIN, 7n);
  assert.throws(() => ep(e).ctl(e, EPOLL_CTL_ADD, 5, efd, EPOLLIN, 7n), linuxerr.EEXIST);
  assert.throws(() => ep(e).ctl(e, EPOLL_CTL_MOD, 6, efd, EPOLLIN, 7n), linuxerr.ENOENT);
  assert.throws(() => ep(e).ctl(e, EPOLL_CTL_ADD, 3, e, EPOLLIN, 0n), linuxerr.EINVAL);
  assert.deepEqual(ep(e).harvest(10), []);
  assert.equal(e.readiness(EVENT_IN), 0);
  let woke = 0;
  ep(e).waitQueue.register(EVENT_IN, () => woke++);
  efd.write(u64(1n), -1);
  assert.equal(woke, 1);
  assert.equal(e.readiness(EVENT_IN), EVENT_IN);
  for (let i = 0; i < 2; i++) {
    const h = ep(e).harvest(10);
    assert.equal(h.length, 1);
    assert.equal(h[0].events, EPOLLIN); // RDNORM only when asked for
    assert.equal(h[0].data, 7n);
  }
  efd.read(new Uint8Array(8), -1);
  assert.deepEqual(ep(e).harvest(10), []);
  ep(e).ctl(e, EPOLL_CTL_DEL, 5, efd, 0, 0n);
  efd.write(u64(1n), -1);
  assert.deepEqual(ep(e).harvest(10), []);
  assert.equal(ep(e).size, 0);
});

test('epoll: edge-triggered reports once per change; oneshot until MOD', () => {
  const e = newEpoll();
  const a = newEventFD(0, 0);
  const b = newEventFD(0, 0);
  ep(e).ctl(e, EPOLL_CTL_ADD, 1, a, (EPOLLIN | EPOLLET) >>> 0, 1n);
  ep(e).ctl(e, EPOLL_CTL_ADD, 2, b, EPOLLIN | EPOLLONESHOT, 2n);
  a.write(u64(1n), -1);
  b.write(u64(1n), -1);
  assert.deepEqual(ep(e).harvest(10).map((h) => h.data), [1n, 2n]);
  assert.deepEqual(ep(e).harvest(10), []);
  a.write(u64(1n), -1); // a new edge
  b.write(u64(1n), -1); // oneshot: disabled
  assert.deepEqual(ep(e).harvest(10).map((h) => h.data), [1n]);
  ep(e).ctl(e, EPOLL_CTL_MOD, 2, b, EPOLLIN | EPOLLRDNORM | EPOLLOUT, 3n);
  const h = ep(e).harvest(1);
  assert.equal(h.length, 1);
  assert.equal(h[0].data, 3n);
  assert.equal(h[0].events, EPOLLIN | EPOLLRDNORM | EPOLLOUT);
});

test('epoll: nesting, loops, exclusive, regular files, release', () => {
  const outer = newEpoll();
  const inner = newEpoll();
  const efd = newEventFD(0, 0);
  ep(outer).ctl(outer, EPOLL_CTL_ADD, 4, inner, EPOLLIN, 9n);
  assert.throws(() => ep(inner).ctl(inner, EPOLL_CTL_ADD, 3, outer, EPOLLIN, 0n), linuxerr.ELOOP);
  assert.throws(() => ep(inner).ctl(inner, EPOLL_CTL_ADD, 3, outer, EPOLLIN | EPOLLEXCLUSIVE, 0n), linuxerr.EINVAL);
  ep(inner).ctl(inner, EPOLL_CTL_ADD, 5, efd, EPOLLIN | EPOLLEXCLUSIVE, 0n);
  assert.throws(() => ep(inner).ctl(inner, EPOLL_CTL_MOD, 5, efd, EPOLLIN, 0n), linuxerr.EINVAL);
  assert.deepEqual(ep(outer).harvest(10), []);
  efd.write(u64(1n), -1);
  assert.deepEqual(ep(outer).harvest(10).map((h) => h.data), [9n]);
  // The watched file's last close drops it from the interest list.
  efd.decRef();
  assert.equal(ep(inner).size, 0);
  assert.deepEqual(ep(outer).harvest(10), []);
  const plain = newEventFD(0, 0);
  (plain.impl as { readiness?: unknown }).readiness = undefined;
  assert.throws(() => ep(outer).ctl(outer, EPOLL_CTL_ADD, 6, plain, EPOLLIN, 0n), linuxerr.EPERM);
});
