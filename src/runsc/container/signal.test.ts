import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal } from './signal.js';
import { RuntimeError } from './state.js';

test('signals by number and by name, with or without SIG', () => {
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('15'), 15);
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('sigusr1'), 10);
  assert.equal(parseSignal('hup'), 1);
  assert.equal(parseSignal('IOT'), 6);
  assert.equal(parseSignal('RTMIN+2'), 34);
  assert.equal(parseSignal('SIGRTMAX'), 64);
});

test('bad signals are user errors', () => {
  for (const s of ['0', '65', 'NOPE', 'SIG', 'RTMAX+1', '-1']) assert.throws(() => parseSignal(s), RuntimeError, s);
});
