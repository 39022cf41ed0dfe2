import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Piece } from './anon_map.js';
import { AnonMap } from './anon_map.js';

const PG = 4096;

function piece(start: number, end: number, off: number, prot = 3): Piece {
  return { start, end, off, prot, priv: false, dontFork: false, wipe: false };
}

test('pieces that continue each other merge; others stay apart', () => {
  const m = new AnonMap();
  m.insert(piece(0, 4 * PG, 100 * PG));
  m.insert(piece(4 * PG, 8 * PG, 104 * PG));
  assert.equal(m.size, 1);
  m.insert(piece(8 * PG, 9 * PG, 500 * PG));
  assert.equal(m.size, 2);
  assert.equal(m.find(5 * PG)?.off, 100 * PG);
  assert.equal(m.find(9 * PG), undefined);
});

test('remove splits at the edges and returns the parts with their offsets', () => {
  const m = new AnonMap();
  m.insert(piece(0, 10 * PG, 0));
  const out = m.remove(2 * PG, 4 * PG);
  assert.deepEqual(out.map((p) => [p.start, p.end, p.off]), [[2 * PG, 4 * PG, 2 * PG]]);
  assert.deepEqual(m.all().map((p) => [p.start, p.end, p.off]), [[0, 2 * PG, 0], [4 * PG, 10 * PG, 4 * PG]]);
  assert.equal(m.next(2 * PG)?.start, 4 * PG);
});

test('update changes attributes of part of a piece', () => {
  const m = new AnonMap();
  m.insert(piece(0, 8 * PG, 0));
  m.update(2 * PG, 4 * PG, (p) => {
    p.prot = 1;
  });
  assert.deepEqual(m.all().map((p) => [p.start, p.prot]), [[0, 3], [2 * PG, 1], [4 * PG, 3]]);
  m.update(2 * PG, 4 * PG, (p) => {
    p.prot = 3;
  });
  assert.equal(m.size, 1);
});
