import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F_RDLCK, F_UNLCK, F_WRLCK, FileLocks } from './lock.js';

const alive = (): boolean => true;

test('flock: shared locks coexist, exclusive excludes', () => {
  const l = new FileLocks();
  const a = {};
  const b = {};
  assert.ok(l.flock(a, false, alive));
  assert.ok(l.flock(b, false, alive));
  assert.ok(!l.flock(a, true, alive), 'b still holds shared');
  l.flockUnlock(b);
  assert.ok(l.flock(a, true, alive));
  assert.ok(!l.flock(b, false, alive));
  l.flockUnlock(a);
  assert.ok(l.flock(b, true, alive));
});

test('flock: locks of dead owners are dropped', () => {
  const l = new FileLocks();
  const a = {};
  l.flock(a, true, alive);
  assert.ok(l.flock({}, true, (o) => o !== a));
});

test('records: conflicts only between different owners with a writer', () => {
  const l = new FileLocks();
  const p1 = {};
  const p2 = {};
  assert.ok(l.setRecord(p1, 1, 0, 100, F_RDLCK, alive));
  assert.ok(l.setRecord(p2, 2, 50, 150, F_RDLCK, alive));
  assert.ok(!l.setRecord(p2, 2, 50, 60, F_WRLCK, alive));
  assert.ok(l.setRecord(p2, 2, 100, 200, F_WRLCK, alive), 'no overlap with p1');
  const c = l.conflict(p1, 120, Infinity, F_RDLCK, alive);
  assert.equal(c?.pid, 2);
  assert.equal(c?.type, F_WRLCK);
  assert.equal(l.conflict(p1, 0, 10, F_WRLCK, alive), null);
});

test('records: unlock splits, same-type neighbours merge', () => {
  const l = new FileLocks();
  const p = {};
  l.setRecord(p, 1, 0, 100, F_WRLCK, alive);
  l.setRecord(p, 1, 40, 60, F_UNLCK, alive);
  assert.deepEqual(l.records.map((r) => [r.start, r.end]), [[0, 40], [60, 100]]);
  l.setRecord(p, 1, 40, 60, F_WRLCK, alive);
  assert.deepEqual(l.records.map((r) => [r.start, r.end]), [[0, 100]]);
  l.setRecord(p, 1, 10, 20, F_RDLCK, alive);
  assert.deepEqual(l.records.map((r) => [r.start, r.end, r.type]), [[0, 10, F_WRLCK], [10, 20, F_RDLCK], [20, 100, F_WRLCK]]);
  l.releaseRecords(p);
  assert.equal(l.records.length, 0);
});

test('records: wait queue is notified on release', () => {
  const l = new FileLocks();
  const p = {};
  l.setRecord(p, 1, 0, Infinity, F_WRLCK, alive);
  let woke = 0;
  l.waitQueue.register(~0, () => woke++);
  l.setRecord(p, 1, 0, Infinity, F_UNLCK, alive);
  assert.equal(woke, 1);
});
