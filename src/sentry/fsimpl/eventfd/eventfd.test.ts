import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { EVENT_IN, EVENT_OUT } from '../../vfs/waiter.js';
import { EFD_NONBLOCK, EFD_SEMAPHORE, newEventFD } from './eventfd.js';

function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
}
function readU64(f: ReturnType<typeof newEventFD>): bigint {
  const b = new Uint8Array(8);
  assert.equal(f.read(b, -1), 8);
  return new DataView(b.buffer).getBigUint64(0, true);
}

test('eventfd: read returns and clears the counter; writes add', () => {
  const f = newEventFD(3, EFD_NONBLOCK);
  assert.ok(f.nonblocking);
  assert.equal(f.readiness(EVENT_IN | EVENT_OUT), EVENT_IN | EVENT_OUT);
  assert.equal(readU64(f), 3n);
  assert.equal(f.readiness(EVENT_IN), 0);
  assert.throws(() => f.read(new Uint8Array(8), -1), linuxerr.EAGAIN);
  assert.equal(f.write(u64(2n), -1), 8);
  assert.equal(f.write(u64(40n), -1), 8);
  assert.equal(readU64(f), 42n);
  assert.throws(() => f.read(new Uint8Array(4), -1), linuxerr.EINVAL);
  assert.throws(() => f.read(new Uint8Array(8), 0), linuxerr.ESPIPE);
  assert.throws(() => f.write(u64(0xffff_ffff_ffff_ffffn), -1), linuxerr.EINVAL);
});

test('eventfd: the counter stops at 2^64-2; semaphore reads take one', () => {
  const f = newEventFD(0, EFD_SEMAPHORE);
  f.write(u64(0xffff_ffff_ffff_fffen), -1);
  assert.equal(f.readiness(EVENT_OUT), 0);
  assert.throws(() => f.write(u64(1n), -1), linuxerr.EAGAIN);
  assert.equal(f.write(u64(0n), -1), 8); // adding 0 always fits
  assert.equal(readU64(f), 1n);
  assert.equal(f.readiness(EVENT_OUT), EVENT_OUT);
  let woke = 0;
  f.impl.waitQueue!.register(EVENT_OUT, () => woke++);
  readU64(f);
  assert.equal(woke, 1);
  assert.equal(f.stat().mode, 0o600);
});
