import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { Credentials } from '../../kernel/creds.js';
import { alloc, args, fakeKernel, newProcess, u64At } from '../../kernel/testutil.js';
import * as rl from './sys_rlimit.js';

test('wire format: Infinity is RLIM_INFINITY both ways', () => {
  assert.equal(rl.limitToWire(Infinity), 0xffff_ffff_ffff_ffffn);
  assert.equal(rl.limitFromWire(0xffff_ffff_ffff_ffffn), Infinity);
  assert.equal(rl.limitToWire(1024), 1024n);
  assert.equal(rl.limitFromWire(0x7fff_ffff_ffff_ffffn), 2 ** 63); // large, but not infinite
  assert.deepEqual(rl.decodeRlimit(rl.encodeRlimit([8 << 20, Infinity])), [8 << 20, Infinity]);
});

function setup(uid = 0) {
  const k = fakeKernel().kernel;
  const c = new Credentials();
  if (uid) {
    c.uid = c.euid = c.suid = uid;
    c.capEffective = c.capPermitted = 0n;
  }
  const init = newProcess(k, 1, null);
  const t = newProcess(k, 2, init.tg, c);
  return { init, t };
}

function rlimit(t: ReturnType<typeof setup>['t'], cur: number, max: number): number {
  return alloc(t, 16, rl.encodeRlimit([cur, max]));
}

test('getrlimit reports the defaults, RLIM_INFINITY on the wire', () => {
  const { t } = setup();
  const p = alloc(t, 16);
  rl.getrlimit(t, args(rl.RLIMIT_NOFILE, p));
  assert.equal(u64At(t, p), 1024n);
  assert.equal(u64At(t, p + 8), 1_048_576n);
  rl.getrlimit(t, args(rl.RLIMIT_CPU, p));
  assert.equal(u64At(t, p), 0xffff_ffff_ffff_ffffn);
  assert.throws(() => rl.getrlimit(t, args(16, p)), linuxerr.EINVAL);
});

test('setrlimit: soft above hard is EINVAL; NOFILE above nr_open is EPERM', () => {
  const { t } = setup();
  assert.throws(() => rl.setrlimit(t, args(rl.RLIMIT_STACK, rlimit(t, 10, 5))), linuxerr.EINVAL);
  assert.throws(() => rl.setrlimit(t, args(rl.RLIMIT_NOFILE, rlimit(t, 10, 2_000_000))), linuxerr.EPERM);
  rl.setrlimit(t, args(rl.RLIMIT_NOFILE, rlimit(t, 4096, 4096)));
  assert.deepEqual(t.tg.rlimits[rl.RLIMIT_NOFILE], [4096, 4096]);
});

test('raising a hard limit needs CAP_SYS_RESOURCE; lowering does not', () => {
  const { t } = setup(1000);
  rl.setrlimit(t, args(rl.RLIMIT_NOFILE, rlimit(t, 100, 200)));
  assert.throws(() => rl.setrlimit(t, args(rl.RLIMIT_NOFILE, rlimit(t, 100, 300))), linuxerr.EPERM);
  rl.setrlimit(t, args(rl.RLIMIT_NOFILE, rlimit(t, 200, 200)));
  assert.deepEqual(t.tg.rlimits[rl.RLIMIT_NOFILE], [200, 200]);
});

test('prlimit64 reads and writes another process, with permission checks', () => {
  const { init, t } = setup(1000);
  const old = alloc(init, 16);
  rl.prlimit64(init, args(2, rl.RLIMIT_CORE, rlimit(init, Infinity, Infinity), old));
  assert.equal(u64At(init, old), 0n);
  assert.deepEqual(t.tg.rlimits[rl.RLIMIT_CORE], [Infinity, Infinity]);
  // The unprivileged process may not touch root's limits.
  assert.throws(() => rl.prlimit64(t, args(1, rl.RLIMIT_CORE, 0, alloc(t, 16))), linuxerr.EPERM);
  assert.throws(() => rl.prlimit64(init, args(99, rl.RLIMIT_CORE, 0, old)), linuxerr.ESRCH);
});
