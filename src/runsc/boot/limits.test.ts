import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostRlimits } from './limits.js';

test('host rlimits are read in RLIMIT order', () => {
  const l = hostRlimits();
  const text = readFileSync('/proc/self/limits', 'utf8');
  const nofile = /Max open files\s+(\S+)\s+(\S+)/.exec(text)!;
  assert.equal(l[7][0], Number(nofile[1]));
  assert.equal(l[7][1], Number(nofile[2]));
  assert.equal(l.length, 16);
});

test('host rlimits replace the defaults row by row; unreadable rows keep them', async () => {
  const { withHostRlimits } = await import('./limits.js');
  const { defaultRlimits } = await import('../../sentry/kernel/thread_group.js');
  const d = defaultRlimits();
  const l = withHostRlimits([[1, 2], null, [Infinity, Infinity]]);
  assert.deepEqual(l[0], [1, 2]);
  assert.deepEqual(l[1], d[1]);
  assert.deepEqual(l[2], [Infinity, Infinity]);
  assert.deepEqual(l.slice(3), d.slice(3));
  assert.equal(withHostRlimits(Array.from({ length: 20 }, () => [5, 5])).length, d.length);
});
