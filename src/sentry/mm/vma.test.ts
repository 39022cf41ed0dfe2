import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileDescription } from '../vfs/file_description.js';
import type { Vma } from './vma.js';
import { STACK_GUARD_GAP, VmaSet } from './vma.js';

const P = 4096;

function vma(start: number, end: number, over: Partial<Vma> = {}): Vma {
  return { start, end, prot: 3, maxProt: 7, shared: false, growsDown: false, dontFork: false, file: null,
    hostFile: null, offset: 0, name: '', dev: 0, ino: 0, ...over };
}

function ranges(s: VmaSet): string[] {
  return s.all().map((v) => `${(v.start / P).toString()}-${(v.end / P).toString()}:${v.prot}${v.file ? '@' + v.offset / P : ''}`);
}

/** A stand-in file: only identity matters to the VMA set. */
const fileA = {} as FileDescription;
const fileB = {} as FileDescription;

/** counted returns a set whose file reference traffic is tallied per file. */
function counted(): { s: VmaSet; refs: Map<unknown, number> } {
  const refs = new Map<unknown, number>();
  const s = new VmaSet();
  s.onAdd = (v) => v.file && refs.set(v.file, (refs.get(v.file) ?? 0) + 1);
  s.onDrop = (v) => v.file && refs.set(v.file, (refs.get(v.file) ?? 0) - 1);
  return { s, refs };
}

test('adjacent anonymous mappings with equal attributes merge; different ones do not', () => {
  const s = new VmaSet();
  s.insert(vma(10 * P, 12 * P));
  s.insert(vma(12 * P, 13 * P));
  s.insert(vma(8 * P, 10 * P));
  assert.deepEqual(ranges(s), ['8-13:3']);
  s.insert(vma(13 * P, 14 * P, { prot: 1 }));
  s.insert(vma(20 * P, 21 * P));
  assert.deepEqual(ranges(s), ['8-13:3', '13-14:1', '20-21:3']);
});

test('file mappings merge only with contiguous offsets of the same file', () => {
  const s = new VmaSet();
  s.insert(vma(10 * P, 12 * P, { file: fileA, offset: 0 }));
  s.insert(vma(12 * P, 13 * P, { file: fileA, offset: 2 * P }));
  s.insert(vma(13 * P, 14 * P, { file: fileA, offset: 9 * P }));
  s.insert(vma(14 * P, 15 * P, { file: fileB, offset: 10 * P }));
  assert.deepEqual(ranges(s), ['10-13:3@0', '13-14:3@9', '14-15:3@10']);
});

test('inserting over a mapping is a bug', () => {
  const s = new VmaSet();
  s.insert(vma(10 * P, 12 * P));
  assert.throws(() => s.insert(vma(11 * P, 13 * P)));
});

test('remove splits at both edges and adjusts file offsets', () => {
  const { s, refs } = counted();
  s.insert(vma(10 * P, 20 * P, { file: fileA, offset: 5 * P }));
  const removed = s.remove(12 * P, 15 * P);
  assert.deepEqual(ranges(s), ['10-12:3@5', '15-20:3@10']);
  assert.equal(removed.length, 1);
  assert.equal(removed[0].start, 12 * P);
  assert.equal(removed[0].offset, 7 * P);
  assert.equal(refs.get(fileA), 2, 'one reference per remaining piece');
  s.remove(0, 100 * P);
  assert.equal(s.size, 0);
  assert.equal(refs.get(fileA), 0);
});

test('remove across several mappings and holes', () => {
  const s = new VmaSet();
  s.insert(vma(10 * P, 12 * P));
  s.insert(vma(14 * P, 16 * P, { prot: 1 }));
  s.insert(vma(18 * P, 20 * P));
  const removed = s.remove(11 * P, 19 * P);
  assert.deepEqual(removed.map((v) => [v.start / P, v.end / P]), [[11, 12], [14, 16], [18, 19]]);
  assert.deepEqual(ranges(s), ['10-11:3', '19-20:3']);
});

test('update splits, changes and re-merges', () => {
  const { s, refs } = counted();
  s.insert(vma(10 * P, 20 * P, { file: fileA }));
  s.update(12 * P, 14 * P, (v) => {
    v.prot = 1;
  });
  assert.deepEqual(ranges(s), ['10-12:3@0', '12-14:1@2', '14-20:3@4']);
  assert.equal(refs.get(fileA), 3);
  s.update(12 * P, 14 * P, (v) => {
    v.prot = 3;
  });
  assert.deepEqual(ranges(s), ['10-20:3@0']);
  assert.equal(refs.get(fileA), 1);
});

test('find, next, overlapping, mappedPrefix', () => {
  const s = new VmaSet();
  s.insert(vma(10 * P, 12 * P));
  s.insert(vma(12 * P, 14 * P, { prot: 1 }));
  s.insert(vma(16 * P, 18 * P));
  assert.equal(s.find(9 * P), undefined);
  assert.equal(s.find(10 * P)?.start, 10 * P);
  assert.equal(s.find(14 * P), undefined);
  assert.equal(s.next(14 * P)?.start, 16 * P);
  assert.equal(s.overlapping(11 * P, 17 * P).length, 3);
  assert.equal(s.mappedPrefix(10 * P, 18 * P), 14 * P);
  assert.equal(s.mappedPrefix(15 * P, 18 * P), 15 * P);
  assert.equal(s.mappedPrefix(16 * P, 17 * P), 17 * P);
});

test('findGap top-down, bottom-up, blocked ranges and alignment', () => {
  const s = new VmaSet();
  s.insert(vma(90 * P, 100 * P));
  s.insert(vma(70 * P, 85 * P));
  // Highest gap below 100 that fits 5 pages is [85, 90).
  assert.equal(s.findGap(5 * P, 0, 100 * P, true), 85 * P);
  // 6 pages do not fit there: next gap down ends at 70.
  assert.equal(s.findGap(6 * P, 0, 100 * P, true), 64 * P);
  assert.equal(s.findGap(6 * P, 0, 100 * P, false), 0);
  assert.equal(s.findGap(3 * P, 0, 100 * P, true, [{ start: 86 * P, end: 87 * P }]), 87 * P);
  assert.equal(s.findGap(2 * P, 0, 100 * P, true, [], 16 * P), 64 * P);
  assert.equal(s.findGap(2 * P, 1 * P, 100 * P, false, [], 16 * P), 16 * P);
  assert.equal(s.findGap(200 * P, 0, 100 * P, true), -1);
  assert.equal(s.findGap(20 * P, 60 * P, 100 * P, true), -1);
  assert.equal(s.findGap(2 * P, 100 * P, 110 * P, false), 100 * P);
});

test('findGap keeps the guard gap below a grows-down mapping', () => {
  const s = new VmaSet();
  const top = 10000 * P;
  s.insert(vma(top - 10 * P, top, { growsDown: true }));
  const a = s.findGap(P, 0, top, true);
  assert.equal(a, top - 10 * P - STACK_GUARD_GAP - P);
  assert.equal(s.isFree(top - 11 * P, top - 10 * P), true);
});

test('clone copies all but what keep() rejects, taking references', () => {
  const { s } = counted();
  s.insert(vma(10 * P, 12 * P, { file: fileA }));
  s.insert(vma(20 * P, 22 * P, { dontFork: true }));
  let adds = 0;
  const c = s.clone((v) => !v.dontFork, (v) => v.file && adds++, () => {});
  assert.deepEqual(ranges(c), ['10-12:3@0']);
  assert.equal(adds, 1);
  // The copy is independent.
  c.remove(10 * P, 11 * P);
  assert.deepEqual(ranges(s), ['10-12:3@0', '20-22:3']);
});
