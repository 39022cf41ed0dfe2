import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, parseFlags } from './flags.js';
import type { FlagSpec } from './flags.js';

const specs: FlagSpec[] = [
  { name: 'debug', kind: 'bool', help: '', default: false },
  { name: 'root', kind: 'string', help: '', default: '/r' },
  { name: 'n', kind: 'int', help: '' },
  { name: 'volume', kind: 'list', help: '', default: [] },
];

test('single and double dashes, = and separate values', () => {
  const { values, rest } = parseFlags(specs, ['-debug', '--root', '/x', '-n=3', '--volume=a:b', '-volume', 'c:d', 'do', '-debug']);
  assert.equal(values.debug, true);
  assert.equal(values.root, '/x');
  assert.equal(values.n, 3);
  assert.deepEqual(values.volume, ['a:b', 'c:d']);
  assert.deepEqual(rest, ['do', '-debug']);
});

test('booleans take =false, and -- ends flags', () => {
  const { values, rest } = parseFlags(specs, ['--debug=false', '--', '-root']);
  assert.equal(values.debug, false);
  assert.equal(values.root, '/r');
  assert.deepEqual(rest, ['-root']);
});

test('unknown flags and missing values are errors', () => {
  assert.throws(() => parseFlags(specs, ['--nope']), FlagError);
  assert.throws(() => parseFlags(specs, ['--root']), FlagError);
  assert.throws(() => parseFlags(specs, ['-n=x']), FlagError);
});

test('list defaults are not shared between parses', () => {
  parseFlags(specs, ['--volume=a:b']);
  assert.deepEqual(parseFlags(specs, []).values.volume, []);
});
