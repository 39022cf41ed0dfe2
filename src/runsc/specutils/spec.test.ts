import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpecError, capMask, checkProcess, checkSpec, defaultSpec, rlimitIndex } from './spec.js';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

test('the default spec is valid and looks like runc\'s', () => {
  const s = checkSpec(defaultSpec());
  assert.deepEqual(s.process?.args, ['sh']);
  assert.equal(s.process?.terminal, true);
  assert.equal(s.root?.path, 'rootfs');
  assert.deepEqual(checkSpec(defaultSpec(['echo', 'hi'], '/tmp')).process?.args, ['echo', 'hi']);
});

test('every 1.x ociVersion is accepted, others refused', () => {
  for (const v of ['1.0.0', '1.0.2-dev', '1.1.0-rc.1', '1.2.0']) {
    const s = clone(defaultSpec());
    s.ociVersion = v;
    assert.doesNotThrow(() => checkSpec(s), v);
  }
  for (const v of ['2.0.0', '0.9.0', 'x']) {
    const s = clone(defaultSpec());
    s.ociVersion = v;
    assert.throws(() => checkSpec(s), SpecError, v);
  }
});

test('malformed specs fail with a message naming the field', () => {
  const cases: [(s: Record<string, any>) => void, RegExp][] = [
    [(s) => delete s.process, /process/],
    [(s) => (s.process.args = []), /args/],
    [(s) => (s.process.cwd = 'relative'), /absolute/],
    [(s) => (s.process.user = { uid: -1, gid: 0 }), /uid/],
    [(s) => delete s.root, /root\.path/],
    [(s) => (s.mounts = [{ destination: 'rel' }]), /absolute/],
    [(s) => (s.hooks = { prestart: [{ path: 'x' }] }), /hook/],
    [(s) => (s.process.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]), /RLIMIT_BOGUS/],
    [(s) => (s.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 2, hard: 1 }]), /soft/],
    [(s) => (s.annotations = { a: 1 }), /annotations/],
  ];
  for (const [edit, re] of cases) {
    const s = clone(defaultSpec()) as unknown as Record<string, any>;
    edit(s);
    assert.throws(() => checkSpec(s), (e: unknown) => e instanceof SpecError && re.test(e.message), String(re));
  }
  assert.throws(() => checkSpec([]), SpecError);
  assert.throws(() => checkProcess({ user: { uid: 0, gid: 0 }, args: ['x'] }), /cwd/);
});

test('capability names and resource limit names', () => {
  const unknown: string[] = [];
  assert.equal(capMask(['CAP_CHOWN', 'CAP_KILL', 'NET_ADMIN', 'CAP_NOPE'], unknown), (1n << 0n) | (1n << 5n) | (1n << 12n));
  assert.deepEqual(unknown, ['CAP_NOPE']);
  assert.equal(capMask(undefined), 0n);
  assert.equal(rlimitIndex('RLIMIT_NOFILE'), 7);
  assert.equal(rlimitIndex('RLIMIT_RTTIME'), 15);
  assert.equal(rlimitIndex('NOFILE'), -1);
});
