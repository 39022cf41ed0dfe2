import { test } from 'node:test';
import assert from 'node:assert/strict';
import { undoLauncherEnv } from './do.js';

test('the launcher emptied NODE_EXTRA_CA_CERTS in place and saved it at the end: put back in place', () => {
  const env = ['A=1', 'NODE_EXTRA_CA_CERTS=', 'B=2', 'TSVISOR_CA_CERTS=/certs.pem'];
  assert.deepEqual(undoLauncherEnv(env), ['A=1', 'NODE_EXTRA_CA_CERTS=/certs.pem', 'B=2']);
});

test('a NODE_EXTRA_CA_CERTS the launcher added (none was set) goes', () => {
  const env = ['A=1', 'NODE_EXTRA_CA_CERTS=', 'TSVISOR_CA_CERTS='];
  assert.deepEqual(undoLauncherEnv(env), ['A=1']);
});

test('an environment the launcher did not touch stays as it is', () => {
  const env = ['NODE_EXTRA_CA_CERTS=', 'A=1'];
  assert.deepEqual(undoLauncherEnv(env), env);
});
