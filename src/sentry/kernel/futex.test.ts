import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../abi/linux/errno.js';
import {
  FUTEX_OWNER_DIED, FUTEX_WAITERS, futexExitRelease, futexKey, futexTableOf, lockPi, unlockPi, waitOn,
} from './futex.js';
import { alloc, fakeKernel, newProcess, newThread } from './testutil.js';
import { monotonicNs } from './time.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';

function setup(): { t: Task; u: Task } {
  const k = fakeKernel().kernel;
  const t = newProcess(k, 1, null);
  const u = newThread(k, 2, t.tg);
  u.mm = t.mm; // threads share the address space
  return { t, u };
}

test('private keys: misaligned is EINVAL; same address, same key', () => {
  const { t, u } = setup();
  const a = alloc(t, 8);
  assert.throws(() => futexKey(t, a + 1, true), linuxerr.EINVAL);
  assert.throws(() => futexKey(t, 2 ** 47, true), linuxerr.EFAULT);
  const k1 = futexKey(t, a, true);
  const k2 = futexKey(u, a, true);
  assert.equal(k1.base, k2.base);
  assert.equal(k1.off, k2.off);
  // Shared futexes need a mapping: none in the fake address space.
  assert.throws(() => futexKey(t, a, false), linuxerr.EFAULT);
});

test('wake counts like Linux: nr 0 still wakes one; bitsets filter', async () => {
  const { t, u } = setup();
  const a = alloc(t, 8);
  const key = futexKey(t, a, true);
  const table = futexTableOf(t.kernel);
  const p1 = waitOn(t, [{ key, addr: a }], 0b01, null);
  const p2 = waitOn(u, [{ key, addr: a }], 0b10, null);
  assert.equal(table.wake(key, 5, 0b100), 0);
  assert.equal(table.wake(key, 0, 0b10), 1);
  assert.equal(await p2, 0);
  assert.equal(table.wake(key, 1), 1);
  assert.equal(await p1, 0);
  assert.equal(table.waitersOf(key).length, 0);
});

test('requeue wakes nWake, moves up to nRequeue, and counts both', async () => {
  const { t, u } = setup();
  const k = t.kernel;
  const w = newThread(k, 3, t.tg);
  w.mm = t.mm;
  const a = alloc(t, 8);
  const b = alloc(t, 8);
  const ka = futexKey(t, a, true);
  const kb = futexKey(t, b, true);
  const table = futexTableOf(k);
  const ps = [t, u, w].map((x) => waitOn(x, [{ key: ka, addr: a }], ~0, null));
  assert.throws(() => table.requeue(ka, kb, b, -1, 1), linuxerr.EINVAL);
  assert.equal(table.requeue(ka, kb, b, 1, 1), 2);
  assert.equal(table.waitersOf(ka).length, 1);
  assert.equal(table.waitersOf(kb).length, 1);
  assert.equal(table.waitersOf(kb)[0].addr, b);
  assert.equal(table.wake(kb, 10), 1);
  assert.equal(table.wake(ka, 10), 1);
  await Promise.all(ps);
});

test('a wait times out at its deadline and leaves no waiter behind', async () => {
  const { t } = setup();
  const a = alloc(t, 8);
  const key = futexKey(t, a, true);
  const start = monotonicNs();
  await assert.rejects(waitOn(t, [{ key, addr: a }], ~0, { now: monotonicNs, at: start + 20_000_000n }), linuxerr.ETIMEDOUT);
  assert.ok(monotonicNs() - start >= 20_000_000n);
  assert.equal(futexTableOf(t.kernel).waitersOf(key).length, 0);
  assert.equal(t.interrupt, null);
});

test('an interrupted wait rejects with the error the interrupter passes, else EINTR', async () => {
  const { t } = setup();
  const a = alloc(t, 8);
  const key = futexKey(t, a, true);
  const p = waitOn(t, [{ key, addr: a }], ~0, null);
  (t.interrupt as unknown as (e?: unknown) => void)(linuxerr.ERESTARTSYS);
  await assert.rejects(p, linuxerr.ERESTARTSYS);
  const p2 = waitOn(t, [{ key, addr: a }], ~0, null);
  t.interrupt!();
  await assert.rejects(p2, linuxerr.EINTR);
  assert.equal(futexTableOf(t.kernel).waitersOf(key).length, 0);
});

test('futex_waitv-style waits resolve with the index woken', async () => {
  const { t } = setup();
  const a = alloc(t, 8);
  const b = alloc(t, 8);
  const ka = futexKey(t, a, true);
  const kb = futexKey(t, b, true);
  const p = waitOn(t, [{ key: ka, addr: a }, { key: kb, addr: b }], ~0, null);
  assert.equal(futexTableOf(t.kernel).wake(kb, 1), 1);
  assert.equal(await p, 1);
  assert.equal(futexTableOf(t.kernel).waitersOf(ka).length, 0);
});

test('PI: take a free futex, EDEADLK on self, hand over on unlock', async () => {
  const { t, u } = setup();
  const a = alloc(t, 8);
  const key = futexKey(t, a, true);
  assert.equal(lockPi(t, a, key, null, false), 0);
  assert.equal(t.mm.readU32(a), 1);
  assert.throws(() => lockPi(t, a, key, null, false), linuxerr.EDEADLK);
  assert.throws(() => lockPi(u, a, key, null, true), linuxerr.EAGAIN);
  assert.throws(() => unlockPi(u, a, key), linuxerr.EPERM);
  const p = lockPi(u, a, key, null, false) as Promise<number>;
  assert.ok(p instanceof Promise);
  assert.equal(t.mm.readU32(a), (1 | FUTEX_WAITERS) >>> 0);
  assert.throws(() => futexTableOf(t.kernel).wake(key, 1), linuxerr.EINVAL); // FUTEX_WAKE on a PI futex
  assert.equal(unlockPi(t, a, key), 0);
  assert.equal(await p, 0);
  assert.equal(t.mm.readU32(a), (2 | FUTEX_WAITERS) >>> 0);
  assert.equal(unlockPi(u, a, key), 0);
  assert.equal(t.mm.readU32(a), 0);
});

test('PI: a dead owner without a robust list is ESRCH; a dying owner hands over', async () => {
  const { t, u } = setup();
  const a = alloc(t, 8);
  const key = futexKey(t, a, true);
  t.mm.writeI32(a, 77); // no such task
  assert.throws(() => lockPi(u, a, key, null, false), linuxerr.ESRCH);
  t.mm.writeI32(a, 0);
  assert.equal(lockPi(t, a, key, null, false), 0);
  const p = lockPi(u, a, key, null, false) as Promise<number>;
  futexExitRelease(t); // t exits holding it, with u waiting
  t.state = TaskState.Dead;
  assert.equal(await p, 0);
  assert.equal(t.mm.readU32(a), (2 | FUTEX_WAITERS) >>> 0);
});

test('robust list: a held futex gets OWNER_DIED (waiters bit kept); others are left alone', () => {
  const { t } = setup();
  // struct robust_list_head { next, futex_offset, list_op_pending } and two
  // mutexes whose list node sits 8 bytes after the futex word (offset -8, as
  // in glibc, where the offset is negative).
  const head = alloc(t, 24);
  const m1 = alloc(t, 16);
  const m2 = alloc(t, 16);
  const mm = t.mm;
  mm.writeU64(head, m1 + 8);
  mm.writeU64(head + 8, -8);
  mm.writeU64(head + 16, 0);
  mm.writeU64(m1 + 8, m2 + 8);
  mm.writeU64(m2 + 8, head);
  mm.writeI32(m1, (1 | FUTEX_WAITERS) | 0); // held by t (tid 1), contended
  mm.writeI32(m2, 5); // held by someone else
  t.robustList = head;
  futexExitRelease(t);
  assert.equal(mm.readU32(m1), (FUTEX_OWNER_DIED | FUTEX_WAITERS) >>> 0);
  assert.equal(mm.readU32(m2), 5);
  assert.equal(t.robustList, 0);
});
