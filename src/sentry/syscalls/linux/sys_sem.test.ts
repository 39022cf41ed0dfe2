import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { alloc, args, fakeKernel, newProcess } from '../../kernel/testutil.js';
import type { Task } from '../../kernel/task.js';
import { semSets, semctl, semget, semop } from './sys_sem.js';

const GETVAL = 12;
const GETNCNT = 14;
const SETVAL = 16;
const IPC_RMID = 0;
const IPC_NOWAIT = 0o4000;
const SEM_UNDO = 0x1000;

function sops(t: Task, ...ops: [number, number, number][]): number {
  const b = new DataView(new ArrayBuffer(ops.length * 6));
  ops.forEach(([num, op, flg], i) => {
    b.setUint16(i * 6, num, true);
    b.setInt16(i * 6 + 2, op, true);
    b.setInt16(i * 6 + 4, flg, true);
  });
  return alloc(t, ops.length * 6, new Uint8Array(b.buffer));
}

function setup() {
  const k = fakeKernel().kernel;
  const init = newProcess(k, 1, null);
  const a = newProcess(k, 2, init.tg);
  const b = newProcess(k, 3, init.tg);
  return { k, a, b };
}

test('semop applies all operations or none', () => {
  const { a } = setup();
  const id = semget(a, args(0, 2, 0o600));
  assert.equal(semctl(a, args(id, 0, SETVAL, 1)), 0);
  assert.throws(() => semop(a, args(id, sops(a, [0, -1, 0], [1, -1, IPC_NOWAIT]), 2)), linuxerr.EAGAIN);
  assert.equal(semctl(a, args(id, 0, GETVAL)), 1);
  assert.throws(() => semop(a, args(id, sops(a, [2, 1, 0]), 1)), linuxerr.EFBIG);
  assert.throws(() => semop(a, args(id, sops(a, [0, 32767, 0]), 1)), linuxerr.ERANGE);
});

test('waiters are served in arrival order by whoever makes room', async () => {
  const { a, b } = setup();
  const id = semget(a, args(0, 1, 0o600));
  const order: string[] = [];
  const pa = (semop(a, args(id, sops(a, [0, -1, 0]), 1)) as Promise<number>).then(() => order.push('a'));
  const pb = (semop(b, args(id, sops(b, [0, -1, 0]), 1)) as Promise<number>).then(() => order.push('b'));
  assert.equal(semctl(a, args(id, 0, GETNCNT)), 2);
  assert.equal(semctl(a, args(id, 0, SETVAL, 1)), 0);
  await pa;
  assert.deepEqual(order, ['a']);
  assert.equal(semctl(a, args(id, 0, GETNCNT)), 1);
  assert.equal(semctl(a, args(id, 0, IPC_RMID)), 0);
  await assert.rejects(pb, linuxerr.EIDRM);
});

test('SEM_UNDO adjustments are applied when the process is gone', () => {
  const { a, b } = setup();
  const id = semget(a, args(0, 1, 0o600));
  semctl(a, args(id, 0, SETVAL, 3));
  assert.equal(semop(b, args(id, sops(b, [0, -2, SEM_UNDO]), 1)), 0);
  assert.equal(semctl(a, args(id, 0, GETVAL)), 1);
  b.tg.exiting = true;
  b.tg.tasks.clear();
  assert.equal(semctl(a, args(id, 0, GETVAL)), 3);
  assert.equal(semSets(a.kernel).length, 1);
});
