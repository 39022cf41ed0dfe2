// Tests for the small families: misc, prctl, sched, tls, identity.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { REG } from '../../../abi/linux/ptrace.js';
import { RegsDirty } from '../../../platform/platform.js';
import { Credentials } from '../../kernel/creds.js';
import { alloc, args, cstr, fakeKernel, newProcess, u64At } from '../../kernel/testutil.js';
import * as id from './sys_identity.js';
import * as misc from './sys_misc.js';
import * as prctl from './sys_prctl.js';
import * as sched from './sys_sched.js';
import * as tls from './sys_tls.js';

function setup(uid = 0) {
  const k = fakeKernel().kernel;
  const init = newProcess(k, 1, null);
  if (!uid) return init;
  const c = new Credentials();
  c.uid = c.euid = c.suid = c.fsuid = uid;
  c.capEffective = c.capPermitted = 0n;
  return newProcess(k, 2, init.tg, c);
}

const decode = (b: Uint8Array) => new TextDecoder().decode(b.subarray(0, b.indexOf(0)));

test('uname fills six 65-byte fields', () => {
  const t = setup();
  const p = alloc(t, 390);
  misc.uname(t, args(p));
  const b = t.mm.copyIn(p, 390);
  assert.equal(decode(b.subarray(0, 65)), 'Linux');
  assert.equal(decode(b.subarray(65, 130)), 'sandbox');
  assert.equal(decode(b.subarray(130, 195)), misc.UTS_RELEASE);
  assert.equal(decode(b.subarray(260, 325)), 'x86_64');
  assert.equal(decode(b.subarray(325, 390)), '(none)');
});

test('sethostname needs CAP_SYS_ADMIN and at most 64 bytes', () => {
  const t = setup();
  misc.sethostname(t, args(cstr(t, 'box'), 3));
  assert.equal(t.kernel.hostname, 'box');
  assert.throws(() => misc.sethostname(t, args(cstr(t, 'x'), 65)), linuxerr.EINVAL);
  const u = setup(1000);
  assert.throws(() => misc.sethostname(u, args(cstr(u, 'y'), 1)), linuxerr.EPERM);
});

test('getrandom fills the buffer; bad flags are EINVAL', () => {
  const t = setup();
  const p = alloc(t, 256);
  assert.equal(misc.getrandom(t, args(p, 256, 0)), 256);
  assert.ok(t.mm.copyIn(p, 256).some((x) => x !== 0));
  assert.throws(() => misc.getrandom(t, args(p, 8, 8)), linuxerr.EINVAL);
  assert.throws(() => misc.getrandom(t, args(p, 8, 6)), linuxerr.EINVAL);
  assert.throws(() => misc.getrandom(t, args(16, 8, 0)), linuxerr.EFAULT);
});

test('sysinfo reports uptime, memory and tasks', () => {
  const t = setup();
  const p = alloc(t, 112);
  misc.sysinfo(t, args(p));
  assert.ok(u64At(t, p) > 0n);
  assert.ok(u64At(t, p + 32) > 0n); // totalram
  assert.equal(t.mm.copyIn(p + 80, 2)[0], 1); // procs
  assert.equal(t.mm.readI32(p + 104), 1); // mem_unit
});

test('personality queries and records; priorities follow nice', () => {
  const t = setup();
  assert.equal(misc.personality(t, args(0xffffffff)), 0);
  assert.equal(misc.personality(t, args(0x0040000)), 0);
  assert.equal(misc.personality(t, args(0xffffffff)), 0x0040000);
  assert.equal(misc.getpriority(t, args(0, 0)), 20);
  misc.setpriority(t, args(0, 0, 10));
  assert.equal(misc.getpriority(t, args(0, 0)), 10);
  assert.equal(misc.ioprioGet(t, args(1, 0)), (2 << 13) | 6);
  assert.throws(() => misc.getpriority(t, args(5, 0)), linuxerr.EINVAL);
  assert.throws(() => misc.getpriority(t, args(0, 99)), linuxerr.ESRCH);
  const u = setup(1000);
  misc.setpriority(u, args(0, 0, 5));
  assert.throws(() => misc.setpriority(u, args(0, 0, 0)), linuxerr.EACCES); // RLIMIT_NICE is 0
});

test('prctl name: 15 bytes kept, 16-byte NUL-padded read', () => {
  const t = setup();
  prctl.prctl(t, args(prctl.PR_SET_NAME, cstr(t, 'a-very-long-thread-name')));
  assert.equal(t.name, 'a-very-long-thr');
  const p = alloc(t, 16, new Uint8Array(16).fill(0x41));
  prctl.prctl(t, args(prctl.PR_GET_NAME, p));
  const b = t.mm.copyIn(p, 16);
  assert.equal(decode(b), 'a-very-long-thr');
  assert.equal(b[15], 0);
});

test('prctl bookkeeping options', () => {
  const t = setup();
  assert.equal(prctl.prctl(t, args(prctl.PR_GET_DUMPABLE)), 1);
  prctl.prctl(t, args(prctl.PR_SET_DUMPABLE, 0));
  assert.equal(prctl.prctl(t, args(prctl.PR_GET_DUMPABLE)), 0);
  assert.throws(() => prctl.prctl(t, args(prctl.PR_SET_DUMPABLE, 2)), linuxerr.EINVAL);
  prctl.prctl(t, args(prctl.PR_SET_PDEATHSIG, 9));
  const p = alloc(t, 8);
  prctl.prctl(t, args(prctl.PR_GET_PDEATHSIG, p));
  assert.equal(t.mm.readI32(p), 9);
  assert.throws(() => prctl.prctl(t, args(prctl.PR_SET_PDEATHSIG, 65)), linuxerr.EINVAL);
  assert.throws(() => prctl.prctl(t, args(prctl.PR_SET_NO_NEW_PRIVS, 0)), linuxerr.EINVAL);
  prctl.prctl(t, args(prctl.PR_SET_NO_NEW_PRIVS, 1));
  assert.equal(prctl.prctl(t, args(prctl.PR_GET_NO_NEW_PRIVS)), 1);
  prctl.prctl(t, args(prctl.PR_SET_CHILD_SUBREAPER, 1));
  assert.ok(t.tg.subreaper);
  prctl.prctl(t, args(prctl.PR_SET_KEEPCAPS, 1));
  assert.equal(prctl.prctl(t, args(prctl.PR_GET_KEEPCAPS)), 1);
  assert.equal(prctl.prctl(t, args(prctl.PR_GET_SECUREBITS)), 1 << 4);
  assert.equal(prctl.prctl(t, args(prctl.PR_CAPBSET_READ, 21)), 1);
  prctl.prctl(t, args(prctl.PR_CAPBSET_DROP, 21));
  assert.equal(prctl.prctl(t, args(prctl.PR_CAPBSET_READ, 21)), 0);
  assert.throws(() => prctl.prctl(t, args(prctl.PR_CAPBSET_READ, 41)), linuxerr.EINVAL);
  assert.throws(() => prctl.prctl(t, args(prctl.PR_SET_SECCOMP, 1)), linuxerr.EINVAL);
  assert.throws(() => prctl.prctl(t, args(0x12345)), linuxerr.EINVAL);
  t.clearChildTid = 0x1234;
  prctl.prctl(t, args(prctl.PR_GET_TID_ADDRESS, p));
  assert.equal(u64At(t, p), 0x1234n);
});

test('sched_getaffinity returns the mask size written; setaffinity needs a CPU', () => {
  const t = setup();
  const p = alloc(t, 128);
  assert.equal(sched.schedGetaffinity(t, args(0, 128, p)), sched.CPUMASK_SIZE);
  assert.equal(t.mm.copyIn(p, 1)[0] & 1, 1);
  assert.throws(() => sched.schedGetaffinity(t, args(0, 4, p)), linuxerr.EINVAL);
  const zero = alloc(t, 8);
  assert.throws(() => sched.schedSetaffinity(t, args(0, 8, zero)), linuxerr.EINVAL);
  assert.equal(sched.schedGetPriorityMax(t, args(1)), 99);
  assert.equal(sched.schedGetPriorityMin(t, args(0)), 0);
  assert.throws(() => sched.schedGetPriorityMax(t, args(7)), linuxerr.EINVAL);
  const prio = alloc(t, 4, new Uint8Array([10, 0, 0, 0]));
  sched.schedSetscheduler(t, args(0, 2, prio));
  assert.equal(sched.schedGetscheduler(t, args(0)), 2);
  assert.throws(() => sched.schedSetscheduler(t, args(0, 0, prio)), linuxerr.EINVAL);
});

test('arch_prctl sets and reads fs base, marking registers dirty', () => {
  const t = setup();
  tls.archPrctl(t, args(tls.ARCH_SET_FS, 0x7f00_1234_5000));
  assert.equal(t.regs.get(REG.fs_base), 0x7f00_1234_5000);
  assert.equal(t.dirty, RegsDirty.All);
  const p = alloc(t, 8);
  tls.archPrctl(t, args(tls.ARCH_GET_FS, p));
  assert.equal(u64At(t, p), 0x7f00_1234_5000n);
  assert.throws(() => tls.archPrctl(t, args(tls.ARCH_SET_FS, 0x8000_0000_0000)), linuxerr.EPERM);
  assert.throws(() => tls.archPrctl(t, args(0x3001, p)), linuxerr.EINVAL);
  assert.throws(() => tls.setRobustList(t, args(p, 16)), linuxerr.EINVAL);
  tls.setRobustList(t, args(0x5000, 24));
  const h = alloc(t, 8);
  tls.getRobustList(t, args(0, h, p));
  assert.equal(u64At(t, h), 0x5000n);
  assert.equal(u64At(t, p), 24n);
});

test('identity handlers: ids, groups, capabilities', () => {
  const t = setup();
  assert.equal(id.getuid(t), 0);
  id.setresuid(t, args(-1, 1000, -1));
  assert.equal(id.geteuid(t), 1000);
  assert.equal(id.getuid(t), 0);
  const ids = alloc(t, 12);
  id.getresuid(t, args(ids, ids + 4, ids + 8));
  assert.deepEqual([t.mm.readI32(ids), t.mm.readI32(ids + 4), t.mm.readI32(ids + 8)], [0, 1000, 0]);
  assert.equal(id.setfsuid(t, args(-1)), 1000);
  id.setresuid(t, args(-1, 0, -1));
  const g = alloc(t, 8, new Uint8Array([20, 0, 0, 0, 10, 0, 0, 0]));
  id.setgroups(t, args(2, g));
  assert.equal(id.getgroups(t, args(0, 0)), 2);
  assert.throws(() => id.getgroups(t, args(1, g)), linuxerr.EINVAL);
  id.getgroups(t, args(2, g));
  assert.equal(t.mm.readI32(g), 10);

  const hdr = alloc(t, 8, new Uint8Array([0x22, 0x05, 0x08, 0x20, 0, 0, 0, 0])); // v3
  const data = alloc(t, 24);
  id.capget(t, args(hdr, data));
  assert.equal(t.mm.readU32(data), 0xffff_ffff);
  assert.equal(t.mm.readU32(data + 12), 0x1ff); // caps 32..40
  // Drop everything but CAP_KILL (5).
  t.mm.copyOut(data, new Uint8Array(24));
  t.mm.writeI32(data, 1 << 5);
  t.mm.writeI32(data + 4, 1 << 5);
  id.capset(t, args(hdr, data));
  assert.ok(t.creds.hasCap(5));
  assert.ok(!t.creds.hasCap(7));
  assert.throws(() => id.setuid(t, args(5)), linuxerr.EPERM);
  // A bad version is answered with the preferred one.
  const bad = alloc(t, 8, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(id.capget(t, args(bad, 0)), 0);
  assert.equal(t.mm.readU32(bad), 0x20080522);
});
