import { test } from 'node:test';
import assert from 'node:assert/strict';
import { debugLogPath } from './config.js';

test('a --debug-log directory gets one file per command, named as gVisor names it', () => {
  const t = new Date(Date.UTC(2026, 10, 29, 3, 4, 5, 678));
  assert.equal(debugLogPath('/tmp/logs/', 'boot', t, 9), '/tmp/logs/runsc.log.20261129-030405.678009.boot.txt');
});

test('--debug-log patterns are expanded; a plain file stays as given', () => {
  const t = new Date(Date.UTC(2026, 0, 2, 13, 0, 0, 0));
  assert.equal(debugLogPath('/l/%COMMAND%-%TIMESTAMP%.log', 'create', t), '/l/create-20260102-130000.000000.log');
  assert.equal(debugLogPath('/var/log/runsc.log', 'start', t), '/var/log/runsc.log');
});
