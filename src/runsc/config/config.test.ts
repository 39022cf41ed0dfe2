import { test } from 'node:test';
import assert from 'node:assert/strict';
import { debugLogPath, parseOverlay2 } from './config.js';

test('a --debug-log directory gets one file per command, named as gVisor names it', () => {
  const t = new Date(Date.UTC(2026, 10, 29, 3, 4, 5, 678));
  assert.equal(debugLogPath('/tmp/logs/', 'boot', t, 9), '/tmp/logs/runsc.log.20261129-030405.678009.boot.txt');
});

test('--debug-log patterns are expanded; a plain file stays as given', () => {
  const t = new Date(Date.UTC(2026, 0, 2, 13, 0, 0, 0));
  assert.equal(debugLogPath('/l/%COMMAND%-%TIMESTAMP%.log', 'create', t), '/l/create-20260102-130000.000000.log');
  assert.equal(debugLogPath('/var/log/runsc.log', 'start', t), '/var/log/runsc.log');
});

test('--overlay2: root:memory and none are accepted; gVisor media tsvisor lacks are refused by name', () => {
  assert.equal(parseOverlay2('root:memory'), 'root:memory');
  assert.equal(parseOverlay2('none'), 'none');
  assert.throws(() => parseOverlay2('root:self'), /self.*not supported.*root:memory.*none/);
  assert.throws(() => parseOverlay2('all:memory'), /submounts are not supported/);
  assert.throws(() => parseOverlay2('root:/var/tmp'), /directory.*not supported/);
  assert.throws(() => parseOverlay2('memory'), /expected \{mount\}:\{medium\} or none/);
});
