// strace runs inside the sandbox: ptrace(2) (syscall stops, PTRACE_SEIZE,
// fork/exec events, GET_SYSCALL_INFO) and process_vm_readv are enough for it.
//
//   npm run build && node --test test/ptrace/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { RUNSC } from '../diff/harness.mjs';

const STRACE = '/usr/bin/strace';

test('strace -f traces a shell inside the sandbox', { timeout: 120000, skip: !fs.existsSync(STRACE) && 'strace is not installed' }, () => {
  const r = spawnSync(RUNSC, ['--network=none', 'do', STRACE, '-f', '-e', 'trace=write,execve', '/bin/sh', '-c', 'echo hi'],
    { encoding: 'utf8', timeout: 100000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  assert.match(r.stderr, /^execve\("\/bin\/sh", \["\/bin\/sh", "-c", "echo hi"\], .*\) = 0$/m);
  assert.match(r.stderr, /^write\(1, "hi\\n", 3\)\s+= 3$/m);
  assert.match(r.stderr, /^\+\+\+ exited with 0 \+\+\+$/m);
});

test('strace -f follows a forked child and its exec', { timeout: 120000, skip: !fs.existsSync(STRACE) && 'strace is not installed' }, () => {
  const r = spawnSync(RUNSC, ['--network=none', 'do', STRACE, '-f', '-e', 'trace=execve,exit_group', '/bin/sh', '-c', 'echo hi; ls / >/dev/null'],
    { encoding: 'utf8', timeout: 100000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  assert.match(r.stderr, /^\[pid\s+\d+\] execve\("\/(usr\/)?bin\/ls", \["ls", "\/"\], .*\) = 0$/m);
  assert.match(r.stderr, /^\[pid\s+\d+\] \+\+\+ exited with 0 \+\+\+$/m);
  assert.match(r.stderr, /^\+\+\+ exited with 0 \+\+\+$/m);
});
