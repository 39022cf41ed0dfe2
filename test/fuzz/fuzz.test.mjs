// A short, fixed-seed run of the syscall fuzzer (the long one is
// `npm run fuzz -- --minutes 10`, bench/fuzz.mjs): the Sentry must survive,
// log no internal error and leave the host untouched. Findings that were
// fixed have their own minimal cases in test/syscalls/fuzz_regress.c.
//
//   npx tsc -p . && node tools/bundle.mjs && node --test test/fuzz/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fuzz } from '../../bench/fuzz.mjs';

const skip = spawnSync('gcc', ['--version']).error ? 'gcc is not installed' :
  !fs.existsSync('/bin/busybox') ? 'needs a static /bin/busybox' :
  process.getuid() !== 0 ? 'runsc do needs root' : false;

test('fixed seeds: the Sentry survives random system calls', { skip, timeout: 240000 }, async () => {
  const lines = [];
  const total = await fuzz({
    minutes: 3, seed: 1, runs: 3, calls: 5000, batch: 100, onlyBatch: null,
    runsc: process.env.TSV_FUZZ_RUNSC ?? null, keep: false, quiet: false,
  }, (l) => lines.push(l));
  assert.equal(total.runs, 3, lines.join('\n'));
  assert.deepEqual(total.failures, [], lines.join('\n'));
  assert.ok(total.calls > 5000, `only ${total.calls} calls ran:\n${lines.join('\n')}`);
});
