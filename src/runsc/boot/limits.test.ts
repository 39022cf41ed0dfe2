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
