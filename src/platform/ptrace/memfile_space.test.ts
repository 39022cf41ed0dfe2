import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemFileSpace } from './memfile_space.js';

const PG = 4096;

function space(size = 1024 * PG): { s: MemFileSpace; released: [number, number][] } {
  const s = new MemFileSpace(size);
  const released: [number, number][] = [];
  s.onRelease = (off, len) => released.push([off, len]);
  return { s, released };
}

test('alloc hands out disjoint ranges with room to grow after each', () => {
  const { s } = space();
  const a = s.alloc(4 * PG);
  const b = s.alloc(2 * PG);
  assert.equal(a, 0);
  // The room after a (its own size) is skipped.
  assert.equal(b, 8 * PG);
  assert.equal(s.refs(a), 1);
  assert.equal(s.refs(a + 4 * PG), 0);
  // A continuation of a fits in its room.
  assert.equal(s.alloc(4 * PG, a + 4 * PG), a + 4 * PG);
  // A preferred range that is taken is not given twice.
  assert.notEqual(s.alloc(PG, b), b);
});

test('a range is released when its last reference goes, in pieces', () => {
  const { s, released } = space();
  const a = s.alloc(8 * PG);
  s.incRef(a + 2 * PG, 2 * PG); // a fork's copy of part of it
  s.decRef(a, 8 * PG);
  assert.deepEqual(released, [[a, 2 * PG], [a + 4 * PG, 4 * PG]]);
  assert.equal(s.refs(a + 2 * PG), 1);
  assert.equal(s.used(), 2 * PG);
  s.decRef(a + 2 * PG, 2 * PG);
  assert.equal(s.used(), 0);
  assert.deepEqual(released.at(-1), [a + 2 * PG, 2 * PG]);
});

test('dropping a reference that is not held is a bug, caught', () => {
  const { s } = space();
  const a = s.alloc(PG);
  assert.throws(() => s.decRef(a + PG, PG));
});

test('once the top is reached, freed ranges are reused first-fit', () => {
  const { s } = space(16 * PG);
  const a = s.alloc(4 * PG); // room to 8
  const b = s.alloc(4 * PG); // 8..12, room to 16
  assert.equal(b, 8 * PG);
  assert.equal(s.alloc(8 * PG), -1);
  s.decRef(a, 4 * PG);
  assert.equal(s.alloc(6 * PG), 0);
  assert.equal(s.alloc(2 * PG), 6 * PG);
  assert.equal(s.alloc(8 * PG), -1);
});
