import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { EVENT_IN } from '../../vfs/waiter.js';
import { TFD_NONBLOCK, TimerFile, newTimerFD } from './timerfd.js';

const MS = 1_000_000n;

/** A timerfd on a clock the test moves by hand (far from any real deadline). */
function fakeClock(): { now: () => bigint; set: (v: bigint) => void } {
  let v = 1_000_000n * MS;
  return { now: () => v, set: (x: bigint) => (v = x) };
}

function ticks(f: ReturnType<typeof newTimerFD>): bigint {
  const b = new Uint8Array(8);
  assert.equal(f.read(b, -1), 8);
  return new DataView(b.buffer).getBigUint64(0, true);
}

test('timerfd counts expirations from the clock, reset by reads and settings', () => {
  const c = fakeClock();
  const f = newTimerFD(c.now, TFD_NONBLOCK);
  const tf = f.impl as TimerFile;
  assert.throws(() => f.read(new Uint8Array(8), -1), linuxerr.EAGAIN);
  const t0 = c.now();
  assert.deepEqual(tf.set(10n * MS, 10n * MS, false), { value: 0n, interval: 0n });
  assert.equal(f.readiness(EVENT_IN), 0);
  c.set(t0 + 35n * MS);
  assert.equal(f.readiness(EVENT_IN), EVENT_IN);
  assert.equal(ticks(f), 3n);
  assert.deepEqual(tf.get(), { value: 5n * MS, interval: 10n * MS });
  c.set(t0 + 45n * MS);
  assert.deepEqual(tf.set(0n, 0n, false), { value: 5n * MS, interval: 10n * MS }); // disarm drops the tick
  assert.throws(() => f.read(new Uint8Array(8), -1), linuxerr.EAGAIN);
  // Absolute and already past: one expiry at once.
  tf.set(1n, 0n, true);
  assert.equal(ticks(f), 1n);
  assert.deepEqual(tf.get(), { value: 0n, interval: 0n });
  assert.throws(() => f.read(new Uint8Array(4), -1), linuxerr.EINVAL);
  tf.release();
});
