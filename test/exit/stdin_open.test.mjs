// The sandbox ends when its guest ends, whatever its host stdin does: a read
// of stdin the guest gave up on (bash's read -t) leaves a libuv pool thread
// parked in read(2), and Node's own exit would wait for that thread, that is
// for input that may never come.
//
//   npm run build && node --test test/exit/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { RUNSC } from '../diff/harness.mjs';

test('runsc do exits while its stdin stays open', { timeout: 60000 }, async () => {
  const child = spawn(RUNSC, ['--network=none', 'do', '/bin/bash', '-c', 'read -t 1 x; echo done $?'],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  // stdin is never written to nor closed until the sandbox has exited (or 20 s have passed).
  const guard = setTimeout(() => child.stdin.end(), 20000);
  const st = await new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig, early: !child.stdin.writableEnded })));
  clearTimeout(guard);
  child.stdin.destroy();
  assert.deepEqual(st, { code: 0, sig: null, early: true }, err);
  assert.equal(out, 'done 142\n');
});
