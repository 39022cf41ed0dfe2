import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from './info.js';

test('Go durations', () => {
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('100ms'), 100);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('5'));
  assert.throws(() => parseDuration('5 s'));
});
