import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../../abi/linux/errno.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT } from '../../vfs/waiter.js';
import { DEFAULT_PIPE_SIZE, Pipe, roundPipeSize } from './pipe.js';

function openPipe(): Pipe {
  const p = new Pipe();
  p.open(true, false);
  p.open(false, true);
  return p;
}

const bytes = (n: number, v = 7): Uint8Array => new Uint8Array(n).fill(v);

test('read returns what is there, in order, across the ring wrap', () => {
  const p = openPipe();
  p.setCapacity(4096, false);
  assert.equal(p.write(bytes(3000, 1)), 3000);
  const out = new Uint8Array(2000);
  assert.equal(p.read(out), 2000);
  // Wraps around the end of the 4096-byte ring.
  const src = new Uint8Array(3000).map((_, i) => i & 0xff);
  assert.equal(p.write(src), 3000);
  const rest = new Uint8Array(5000);
  assert.equal(p.read(rest), 4000);
  assert.deepEqual(rest.subarray(0, 1000), bytes(1000, 1));
  assert.deepEqual(rest.subarray(1000, 4000), src);
});

test('empty pipe: EAGAIN with writers, EOF without', () => {
  const p = openPipe();
  assert.throws(() => p.read(new Uint8Array(10)), (e) => e === linuxerr.EAGAIN);
  p.write(bytes(5));
  p.close(false, true);
  assert.equal(p.read(new Uint8Array(10)), 5, 'buffered data survives the last writer');
  assert.equal(p.read(new Uint8Array(10)), 0);
});

test('capacity defaults to 64 KiB and bounds writes', () => {
  const p = openPipe();
  assert.equal(p.capacity, DEFAULT_PIPE_SIZE);
  assert.equal(DEFAULT_PIPE_SIZE, 65536);
  assert.equal(p.write(bytes(70000)), 65536, 'a large write takes what fits');
  assert.throws(() => p.write(bytes(1)), (e) => e === linuxerr.EAGAIN);
});

test('writes of at most PIPE_BUF are atomic', () => {
  const p = openPipe();
  p.write(bytes(65536 - 100));
  assert.throws(() => p.write(bytes(101)), (e) => e === linuxerr.EAGAIN, 'small write does not split');
  assert.equal(p.write(bytes(100)), 100);
  const q = openPipe();
  q.write(bytes(65536 - 100));
  assert.equal(q.write(bytes(5000)), 100, 'writes above PIPE_BUF may split');
});

test('EPIPE without readers; zero-length write is fine', () => {
  const p = openPipe();
  p.close(true, false);
  assert.throws(() => p.write(bytes(1)), (e) => e === linuxerr.EPIPE);
  assert.equal(p.write(new Uint8Array(0)), 0);
});

test('readiness and notifications', () => {
  const p = openPipe();
  const seen: number[] = [];
  const watch = (mask: number): void => {
    p.waitQueue.register(mask, (ev) => seen.push(ev));
  };
  assert.equal(p.readerReadiness(EVENT_IN, true), 0);
  assert.equal(p.writerReadiness(EVENT_OUT), EVENT_OUT);
  watch(EVENT_IN);
  p.write(bytes(1));
  assert.deepEqual(seen, [EVENT_IN]);
  assert.equal(p.readerReadiness(EVENT_IN, true), EVENT_IN);
  p.write(bytes(65535));
  assert.equal(p.writerReadiness(EVENT_OUT), 0, 'full pipe is not writable');
  watch(EVENT_OUT);
  p.read(new Uint8Array(4096));
  assert.deepEqual(seen, [EVENT_IN, EVENT_OUT]);
  assert.equal(p.writerReadiness(EVENT_OUT), EVENT_OUT);
  watch(EVENT_HUP);
  p.close(false, true);
  assert.equal(seen.length, 3);
  assert.equal(p.readerReadiness(EVENT_IN, true) & EVENT_HUP, EVENT_HUP);
  assert.equal(p.readerReadiness(EVENT_IN, false) & EVENT_HUP, 0, 'FIFO reader that never saw a writer');
  p.close(true, false);
  assert.equal(p.writerReadiness(EVENT_OUT) & EVENT_ERR, EVENT_ERR);
});

test('F_SETPIPE_SZ rounding and limits', () => {
  assert.equal(roundPipeSize(1), 4096);
  assert.equal(roundPipeSize(4097), 8192);
  assert.equal(roundPipeSize(3 * 4096), 16384);
  const p = openPipe();
  assert.equal(p.setCapacity(0, false), 4096);
  assert.equal(p.setCapacity(100000, false), 131072);
  assert.throws(() => p.setCapacity(2 * 1024 * 1024, false), (e) => e === linuxerr.EPERM);
  assert.equal(p.setCapacity(2 * 1024 * 1024, true), 2 * 1024 * 1024);
  p.setCapacity(65536, false);
  p.write(bytes(10000));
  assert.throws(() => p.setCapacity(4096, false), (e) => e === linuxerr.EBUSY);
  assert.equal(p.setCapacity(16384, false), 16384);
  const out = new Uint8Array(20000);
  assert.equal(p.read(out), 10000, 'data kept across a shrink');
});

test('peek does not consume', () => {
  const p = openPipe();
  p.write(new Uint8Array([1, 2, 3]));
  const b = new Uint8Array(2);
  assert.equal(p.peek(b, 2), 2);
  assert.deepEqual(b, new Uint8Array([1, 2]));
  assert.equal(p.size, 3);
});
