// Per-sandbox limits (issue 7, item 5): with small test-only limits, the
// guest that exhausts them gets the errno Linux gives on a full or limited
// system, while the Sentry stays up and runsc exits with the guest's status.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStatic } from '../escape/lib.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNSC = path.join(REPO, 'bin/runsc');
const PROG = path.join(REPO, 'test/build/limits-static');

function run(args, env) {
  buildStatic(path.join(REPO, 'test/confine/limits.c'), PROG);
  const r = spawnSync(RUNSC, ['do', PROG, ...args], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env },
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const SMALL = { TSVISOR_TESTONLY_MEMORY_LIMIT: '64M', TSVISOR_TESTONLY_MAX_TASKS: '20' };

test('tmpfs past the memory budget: ENOSPC, space back after unlink, guest exit status', () => {
  const r = run(['fill', '/tmp/limits-fill', '200'], SMALL);
  assert.match(r.out, /^fill: (\d+) MiB then No space left on device$/m, r.out + r.err);
  const mib = Number(/fill: (\d+) MiB/.exec(r.out)[1]);
  assert.ok(mib >= 32 && mib < 64, `stopped at ${mib} MiB`);
  assert.match(r.out, /^after unlink: write ok$/m);
  assert.equal(r.status, 3, r.err);
});

test('threads past the task limit: fork gets EAGAIN, and works again after reaping', () => {
  const r = run(['forks', '100'], SMALL);
  assert.match(r.out, /^forks: 19 then Resource temporarily unavailable$/m, r.out + r.err);
  assert.match(r.out, /^fork after reap: ok$/m);
  assert.equal(r.status, 0, r.err);
});

test('F_SETPIPE_SZ past the memory budget: EPERM; within it: allowed', () => {
  const r = run(['pipes'], SMALL);
  assert.match(r.out, /^setpipe 256M: Operation not permitted$/m, r.out + r.err);
  assert.match(r.out, /^setpipe 1M: ok$/m);
  assert.equal(r.status, 0, r.err);
});
