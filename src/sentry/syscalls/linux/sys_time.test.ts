import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { alloc, args, fakeKernel, newProcess, u64At } from '../../kernel/testutil.js';
import * as st from './sys_time.js';

function setup() {
  const k = fakeKernel().kernel;
  return newProcess(k, 1, null);
}

function timespecNs(t: ReturnType<typeof setup>, addr: number): bigint {
  return u64At(t, addr) * 1_000_000_000n + u64At(t, addr + 8);
}

test('CLOCK_MONOTONIC is the host monotonic clock; CLOCK_REALTIME the wall clock', () => {
  const t = setup();
  const ts = alloc(t, 16);
  const before = process.hrtime.bigint();
  st.clockGettime(t, args(1, ts));
  const after = process.hrtime.bigint();
  const mono = timespecNs(t, ts);
  assert.ok(mono >= before && mono <= after, `${before} <= ${mono} <= ${after}`);
  st.clockGettime(t, args(0, ts));
  const real = Number(timespecNs(t, ts) / 1_000_000n);
  assert.ok(Math.abs(real - Date.now()) < 50);
  assert.ok(u64At(t, ts + 8) < 1_000_000_000n);
});

test('unknown clocks are EINVAL; bad pointers EFAULT', () => {
  const t = setup();
  const ts = alloc(t, 16);
  assert.throws(() => st.clockGettime(t, args(10, ts)), linuxerr.EINVAL);
  assert.throws(() => st.clockGettime(t, args(99, ts)), linuxerr.EINVAL);
  assert.throws(() => st.clockGettime(t, args(1, 8)), linuxerr.EFAULT);
  // A CPU clock of a process that does not exist.
  assert.throws(() => st.clockGettime(t, args((~77 << 3) | 2, ts)), linuxerr.EINVAL);
});

test('CPU clocks read the host process behind the task', () => {
  const t = setup();
  const ts = alloc(t, 16);
  // Burn some CPU so the host stat shows it.
  const end = Date.now() + 30;
  while (Date.now() < end) { /* spin */ }
  st.clockGettime(t, args(2, ts));
  assert.ok(timespecNs(t, ts) > 0n);
  st.clockGettime(t, args((~1 << 3) | 2, ts)); // pid 1's process clock
  assert.ok(timespecNs(t, ts) > 0n);
  st.clockGetres(t, args(6, ts));
  assert.equal(timespecNs(t, ts), 4_000_000n);
});

test('gettimeofday and time agree', () => {
  const t = setup();
  const tv = alloc(t, 16);
  const tz = alloc(t, 8, new Uint8Array([1, 1, 1, 1, 1, 1, 1, 1]));
  st.gettimeofday(t, args(tv, tz));
  assert.ok(u64At(t, tv + 8) < 1_000_000n);
  assert.equal(u64At(t, tz), 0n);
  const p = alloc(t, 8);
  const now = st.time(t, args(p));
  assert.equal(BigInt(now), u64At(t, p));
  assert.ok(Math.abs(now - Number(u64At(t, tv))) <= 1);
});

test('nanosleep validates and sleeps', async () => {
  const t = setup();
  const req = alloc(t, 16);
  const v = new DataView(new ArrayBuffer(16));
  v.setBigInt64(8, 1_000_000_000n, true); // tv_nsec out of range
  t.mm.copyOut(req, new Uint8Array(v.buffer));
  assert.throws(() => st.nanosleep(t, args(req, 0)), linuxerr.EINVAL);
  v.setBigInt64(8, 0n, true);
  t.mm.copyOut(req, new Uint8Array(v.buffer));
  assert.equal(st.nanosleep(t, args(req, 0)), 0);
  v.setBigInt64(8, 20_000_000n, true);
  t.mm.copyOut(req, new Uint8Array(v.buffer));
  const start = process.hrtime.bigint();
  assert.equal(await st.nanosleep(t, args(req, 0)), 0);
  assert.ok(process.hrtime.bigint() - start >= 20_000_000n);
});

test('an interrupted nanosleep writes the remaining time and fails with EINTR', async () => {
  const t = setup();
  const req = alloc(t, 16);
  const rem = alloc(t, 16);
  const v = new DataView(new ArrayBuffer(16));
  v.setBigInt64(0, 5n, true);
  t.mm.copyOut(req, new Uint8Array(v.buffer));
  const p = st.nanosleep(t, args(req, rem));
  setTimeout(() => t.interrupt?.(), 10);
  await assert.rejects(Promise.resolve(p), linuxerr.EINTR);
  const left = timespecNs(t, rem);
  assert.ok(left > 4_000_000_000n && left < 5_000_000_000n, String(left));
});

test('clock_nanosleep: absolute deadlines in the past return at once; raw clocks refuse', () => {
  const t = setup();
  const req = alloc(t, 16);
  assert.equal(st.clockNanosleep(t, args(1, 1, req, 0)), 0); // TIMER_ABSTIME at time 0
  assert.throws(() => st.clockNanosleep(t, args(4, 0, req, 0)), linuxerr.EOPNOTSUPP);
  assert.throws(() => st.clockNanosleep(t, args(3, 0, req, 0)), linuxerr.EOPNOTSUPP);
  assert.throws(() => st.clockNanosleep(t, args(12, 0, req, 0)), linuxerr.EINVAL);
});

test('alarm and setitimer/getitimer share ITIMER_REAL', () => {
  const t = setup();
  assert.equal(st.alarm(t, args(100)), 0);
  assert.equal(st.alarm(t, args(0)), 100); // rounded to the nearest second
  const cur = alloc(t, 32);
  st.getitimer(t, args(0, cur));
  assert.equal(u64At(t, cur + 16), 0n);
  const nv = alloc(t, 32);
  const v = new DataView(new ArrayBuffer(32));
  v.setBigInt64(0, 1n, true); // interval 1 s
  v.setBigInt64(16, 3n, true); // value 3 s
  t.mm.copyOut(nv, new Uint8Array(v.buffer));
  st.setitimer(t, args(0, nv, 0));
  st.getitimer(t, args(0, cur));
  assert.equal(u64At(t, cur), 1n);
  assert.equal(u64At(t, cur + 16), 2n); // 2.99... s left
  assert.throws(() => st.getitimer(t, args(3, cur)), linuxerr.EINVAL);
  v.setBigInt64(24, 1_000_000n, true); // tv_usec out of range
  t.mm.copyOut(nv, new Uint8Array(v.buffer));
  assert.throws(() => st.setitimer(t, args(0, nv, 0)), linuxerr.EINVAL);
  st.setitimer(t, args(0, 0, 0)); // NULL disarms
  st.getitimer(t, args(0, cur));
  assert.equal(u64At(t, cur + 16) + u64At(t, cur + 24), 0n);
});

test('ITIMER_REAL expiry sends SIGALRM to the process', async () => {
  const t = setup();
  t.tg.sigactions[14].handler = 0x1234n; // caught: the signal stays pending for delivery
  const nv = alloc(t, 32);
  const v = new DataView(new ArrayBuffer(32));
  v.setBigInt64(24, 5000n, true); // 5 ms
  t.mm.copyOut(nv, new Uint8Array(v.buffer));
  st.setitimer(t, args(0, nv, 0));
  assert.equal(t.tg.pendingSignals & (1n << 13n), 0n);
  await new Promise((r) => setTimeout(r, 30));
  assert.notEqual(t.tg.pendingSignals & (1n << 13n), 0n);
  const cur = alloc(t, 32);
  st.getitimer(t, args(0, cur));
  assert.equal(u64At(t, cur + 16) + u64At(t, cur + 24), 0n); // one-shot: disarmed
});

test('getrusage and times report this process', () => {
  const t = setup();
  const ru = alloc(t, 144);
  st.getrusage(t, args(0, ru));
  assert.ok(u64At(t, ru + 32) > 1000n, 'maxrss in KiB'); // the test process uses more than 1 MiB
  assert.throws(() => st.getrusage(t, args(2, ru)), linuxerr.EINVAL);
  st.getrusage(t, args(-1, ru));
  const tms = alloc(t, 32);
  assert.ok(st.times(t, args(tms)) > 0);
});
