import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BRK_RND_PAGES, mmapBase, randomPages, USER_TOP } from './layout.js';

test('randomPages covers its range in whole pages', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const r = randomPages(BRK_RND_PAGES);
    assert.equal(r % 4096, 0);
    assert.ok(r >= 0 && r < BRK_RND_PAGES * 4096);
    seen.add(r);
  }
  assert.ok(seen.size > 150, `only ${seen.size} distinct values`);
  assert.ok([...seen].some((r) => (r / 4096) % 2 === 1), 'odd page counts occur');
});

test('mmapBase leaves room for the stack, within Linux clamps', () => {
  const b = mmapBase(8 * 1024 * 1024, false);
  assert.equal(b % 4096, 0);
  // 8 MiB + guard gap is below the 128 MiB minimum gap.
  assert.equal(b, USER_TOP - 128 * 1024 * 1024);
  assert.equal(mmapBase(Infinity, false), USER_TOP - Math.floor(USER_TOP / 6) * 5);
  const r = mmapBase(8 * 1024 * 1024, true);
  assert.ok(r < USER_TOP - 16 * 1024 * 1024 * 1024, 'randomized: below the largest random stack offset');
});
