import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../abi/linux/errno.js';
import { sigbit } from '../../abi/linux/signal.js';
import { dequeue, encodeSigInfo } from './signals.js';
import { fakeKernel, newProcess } from './testutil.js';
import { SIGEV_NONE, SIGEV_SIGNAL, createTimer, deleteTimer, exitTimers, getTimer, setTimer, timerInfo } from './timers.js';

const MS = 1_000_000n;

test('timer ids count from 0; bad ids are EINVAL', () => {
  const t = newProcess(fakeKernel().kernel, 1, null);
  let v = 5_000n * MS;
  const clock = { now: () => v, cpu: false };
  const none = { notify: SIGEV_NONE, signo: 0, value: 0n, target: null };
  assert.equal(createTimer(t.tg, clock, none), 0);
  assert.equal(createTimer(t.tg, clock, none), 1);
  deleteTimer(t.tg, 0);
  assert.throws(() => deleteTimer(t.tg, 0), linuxerr.EINVAL);
  assert.throws(() => getTimer(t.tg, 7), linuxerr.EINVAL);
  // SIGEV_NONE: a periodic timer is moved forward when read.
  setTimer(t.tg, 1, false, { value: 10n * MS, interval: 4n * MS });
  assert.deepEqual(getTimer(t.tg, 1), { value: 10n * MS, interval: 4n * MS });
  v += 11n * MS;
  assert.deepEqual(getTimer(t.tg, 1), { value: 3n * MS, interval: 4n * MS });
  exitTimers(t.tg);
});

test('a timer whose signal is still pending counts overruns into that signal', async () => {
  const t = newProcess(fakeKernel().kernel, 1, null);
  const s = 40;
  t.tg.sigactions[s].handler = 0x1000n; // caught, so the signal waits for delivery
  t.sigmask = sigbit(s);
  const id = createTimer(t.tg, { now: () => process.hrtime.bigint(), cpu: false },
    { notify: SIGEV_SIGNAL, signo: s, value: 99n, target: null });
  setTimer(t.tg, id, false, { value: 2n * MS, interval: 2n * MS });
  await new Promise((r) => setTimeout(r, 40));
  deleteTimer(t.tg, id);
  const info = dequeue(t, sigbit(s));
  assert.ok(info);
  const v = new DataView(encodeSigInfo(info).buffer);
  assert.equal(v.getInt32(8, true), -2); // SI_TIMER
  assert.equal(v.getBigUint64(24, true), 99n);
  assert.ok(v.getInt32(20, true) >= 5, `si_overrun ${v.getInt32(20, true)}`);
  assert.equal(dequeue(t, sigbit(s)), null); // one signal, not one per expiry
});

test('timerInfo lays out si_tid, si_overrun and si_value', () => {
  const b = encodeSigInfo(timerInfo(34, 3, 7, 0x1122334455n));
  const v = new DataView(b.buffer);
  assert.equal(v.getInt32(0, true), 34);
  assert.equal(v.getInt32(8, true), -2); // SI_TIMER
  assert.equal(v.getInt32(16, true), 3);
  assert.equal(v.getInt32(20, true), 7);
  assert.equal(v.getBigUint64(24, true), 0x1122334455n);
});
