// Syscall-level tests of the fd and I/O handlers over pipes and devices, with
// a fake task: real FDTable and MemoryManager over an in-process fake address space.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linux from '../../../abi/linux/file.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import { REG } from '../../../abi/linux/ptrace.js';
import { Regs } from '../../../abi/linux/regs.js';
import { SIGPIPE } from '../../../abi/linux/signal.js';
import type { AddressSpace } from '../../../platform/platform.js';
import { openDevice } from '../../fsimpl/dev/devices.js';
import { Credentials } from '../../kernel/creds.js';
import { FDTable } from '../../kernel/fd_table.js';
import { Task } from '../../kernel/task.js';
import { ThreadGroup, defaultRlimits, newSigactions } from '../../kernel/thread_group.js';
import { MemoryManager } from '../../mm/mm.js';
import { FileDescription } from '../../vfs/file_description.js';
import { SyscallArgs } from '../syscalls.js';
import type { Handler } from '../syscalls.js';
import * as fdsys from './sys_fd.js';
import * as ioctlsys from './sys_ioctl.js';
import * as pipesys from './sys_pipe.js';
import * as pollsys from './sys_poll.js';
import * as rw from './sys_read_write.js';

const BASE = 0x10000;
const SIZE = 1 << 20;

function fakeAS(): AddressSpace {
  const mem = new Uint8Array(SIZE);
  const clip = (addr: number, len: number): number => (addr < BASE || addr >= BASE + SIZE ? 0 : Math.min(len, BASE + SIZE - addr));
  return {
    read(addr: number, buf: Uint8Array, off: number, len: number): number {
      const n = clip(addr, len);
      if (n) buf.set(mem.subarray(addr - BASE, addr - BASE + n), off);
      return n;
    },
    write(addr: number, buf: Uint8Array, off: number, len: number): number {
      const n = clip(addr, len);
      if (n) mem.set(buf.subarray(off, off + n), addr - BASE);
      return n;
    },
  } as unknown as AddressSpace;
}

interface Fake {
  t: Task;
  signals: number[];
}

function fakeTask(): Fake {
  const signals: number[] = [];
  const tg = new ThreadGroup(1, null, newSigactions(), defaultRlimits(), 17);
  const kernel = {
    log: { warnOnce() {}, warning() {}, debug() {} },
    tasks: new Map(),
    threadGroups: new Map([[1, tg]]),
    init: tg,
    signalProcess: (_tg: ThreadGroup, sig: number) => signals.push(sig),
    noteWake() {},
  };
  const t = Object.assign(Object.create(Task.prototype) as Task, {
    kernel, tid: 1, tg, mm: new MemoryManager(fakeAS()), fdTable: new FDTable(), creds: new Credentials(),
    state: 0, sigmask: 0n, interrupt: null,
  });
  tg.leader = t;
  kernel.tasks.set(1, t);
  return { t, signals };
}

const args = new SyscallArgs();
const ARG = [REG.rdi, REG.rsi, REG.rdx, REG.r10, REG.r8, REG.r9];

/** call runs a handler; errors come back as -errno like the dispatcher does. */
async function call(t: Task, h: Handler, ...a: number[]): Promise<number> {
  return settle(callSync(t, h, ...a));
}

function callSync(t: Task, h: Handler, ...a: number[]): number | Promise<number> {
  const regs = new Regs();
  a.forEach((v, i) => regs.set(ARG[i], v));
  args.regs = regs;
  try {
    const r = h(t, args);
    if (typeof r === 'number') return r;
    if (r instanceof Promise) return r.then((v) => v as number, (e) => -(e as linuxerr.SyscallError).errno);
    throw new Error('control result');
  } catch (e) {
    if (e instanceof linuxerr.SyscallError) return -e.errno;
    throw e;
  }
}

async function settle(r: number | Promise<number>): Promise<number> {
  return r;
}

const mem = (t: Task, addr: number, data: Uint8Array | string): void =>
  t.mm.copyOut(addr, typeof data === 'string' ? new TextEncoder().encode(data) : data);
const str = (t: Task, addr: number, n: number): string => new TextDecoder().decode(t.mm.copyIn(addr, n));

async function newPipe(t: Task, flags = 0): Promise<[number, number]> {
  assert.equal(await call(t, pipesys.pipe2, BASE, flags), 0);
  return [t.mm.readI32(BASE), t.mm.readI32(BASE + 4)];
}

const E = (e: linuxerr.SyscallError): number => -e.errno;

test('parseIovecs: clamps, rejects negative lengths and bad ranges', () => {
  const raw = new Uint8Array(32);
  const dv = new DataView(raw.buffer);
  dv.setBigUint64(0, 0x1000n, true);
  dv.setBigUint64(8, 0x7fff_f000n, true);
  dv.setBigUint64(16, 0x2000n, true);
  dv.setBigUint64(24, 100n, true);
  const { iovs, total } = rw.parseIovecs(raw, 2);
  assert.equal(total, rw.MAX_RW_COUNT);
  assert.equal(iovs[0].len, rw.MAX_RW_COUNT);
  assert.equal(iovs[1].len, 0);
  dv.setBigUint64(8, 1n << 63n, true);
  assert.throws(() => rw.parseIovecs(raw, 1), (e) => e === linuxerr.EINVAL);
  dv.setBigUint64(0, 0x7fff_ffff_f000n, true);
  dv.setBigUint64(8, 16n, true);
  assert.throws(() => rw.parseIovecs(raw, 1), (e) => e === linuxerr.EFAULT);
});

test('pipe: write then read, EOF, EPIPE with SIGPIPE', async () => {
  const { t, signals } = fakeTask();
  const [r, w] = await newPipe(t);
  assert.deepEqual([r, w], [0, 1]);
  mem(t, BASE + 100, 'hello');
  assert.equal(await call(t, rw.write, w, BASE + 100, 5), 5);
  assert.equal(await call(t, rw.read, r, BASE + 200, 100), 5);
  assert.equal(str(t, BASE + 200, 5), 'hello');
  assert.equal(await call(t, rw.read, w, BASE + 200, 1), E(linuxerr.EBADF), 'write end is not readable');
  assert.equal(await call(t, rw.pread64, r, BASE + 200, 1, 0), E(linuxerr.ESPIPE));
  assert.equal(await call(t, rw.lseek, r, 0, 0), E(linuxerr.ESPIPE));
  assert.equal(await call(t, fdsys.close, w), 0);
  assert.equal(await call(t, rw.read, r, BASE + 200, 100), 0, 'EOF');
  const [r2, w2] = await newPipe(t);
  await call(t, fdsys.close, r2);
  assert.equal(await call(t, rw.write, w2, BASE + 100, 5), E(linuxerr.EPIPE));
  assert.deepEqual(signals, [SIGPIPE]);
});

test('pipe: O_NONBLOCK gives EAGAIN; a blocking read waits for the writer', async () => {
  const { t } = fakeTask();
  const [r, w] = await newPipe(t, linux.O_NONBLOCK);
  assert.equal(await call(t, rw.read, r, BASE, 10), E(linuxerr.EAGAIN));
  assert.equal(await call(t, fdsys.fcntl, r, linux.F_GETFL), linux.O_RDONLY | linux.O_NONBLOCK);
  assert.equal(await call(t, fdsys.fcntl, r, linux.F_SETFL, 0), 0);
  assert.equal(await call(t, fdsys.fcntl, w, linux.F_GETFL), linux.O_NONBLOCK | linux.O_WRONLY);
  const pending = callSync(t, rw.read, r, BASE, 10);
  assert.ok(pending instanceof Promise, 'a blocking read with no data waits');
  mem(t, BASE + 100, 'abc');
  assert.equal(callSync(t, rw.write, w, BASE + 100, 3), 3, 'the write itself is synchronous');
  assert.equal(await pending, 3);
  assert.equal(str(t, BASE, 3), 'abc');
});

test('pipe: a blocking write larger than the pipe completes as the reader drains', async () => {
  const { t } = fakeTask();
  const [r, w] = await newPipe(t);
  const n = 100_000;
  mem(t, BASE + 0x1000, new Uint8Array(n).fill(9));
  const pending = callSync(t, rw.write, w, BASE + 0x1000, n);
  assert.ok(pending instanceof Promise);
  let got = 0;
  while (got < n) {
    const k = await call(t, rw.read, r, BASE + 0x80000, 65536);
    assert.ok(k > 0);
    got += k;
  }
  assert.equal(await pending, n);
  assert.equal(got, n);
});

test('readv and writev scatter and gather', async () => {
  const { t } = fakeTask();
  const [r, w] = await newPipe(t);
  mem(t, BASE + 100, 'abc');
  mem(t, BASE + 200, 'defgh');
  const iov = new Uint8Array(32);
  const dv = new DataView(iov.buffer);
  dv.setBigUint64(0, BigInt(BASE + 100), true);
  dv.setBigUint64(8, 3n, true);
  dv.setBigUint64(16, BigInt(BASE + 200), true);
  dv.setBigUint64(24, 5n, true);
  mem(t, BASE + 300, iov);
  assert.equal(await call(t, rw.writev, w, BASE + 300, 2), 8);
  dv.setBigUint64(0, BigInt(BASE + 400), true);
  dv.setBigUint64(8, 2n, true);
  dv.setBigUint64(16, BigInt(BASE + 500), true);
  dv.setBigUint64(24, 10n, true);
  mem(t, BASE + 300, iov);
  assert.equal(await call(t, rw.readv, r, BASE + 300, 2), 8);
  assert.equal(str(t, BASE + 400, 2), 'ab');
  assert.equal(str(t, BASE + 500, 6), 'cdefgh');
  assert.equal(await call(t, rw.readv, r, BASE + 300, 1025), E(linuxerr.EINVAL));
});

test('bad guest pointers: EFAULT, and bytes done before a fault', async () => {
  const { t } = fakeTask();
  const [r, w] = await newPipe(t);
  assert.equal(await call(t, rw.write, w, 1, 10), E(linuxerr.EFAULT));
  assert.equal(await call(t, rw.write, w, 0xdead_beef_000, 5), E(linuxerr.EFAULT));
  // A buffer whose tail runs off the end of mapped memory.
  assert.equal(await call(t, rw.write, w, BASE + SIZE - 4, 10), 4);
  assert.equal(await call(t, rw.read, r, BASE, 2 ** 50), E(linuxerr.EFAULT), 'huge count fails access_ok');
});

test('a read that faults leaves the data in the pipe', async () => {
  const { t } = fakeTask();
  const [r, w] = await newPipe(t);
  mem(t, BASE + 100, 'abcdef');
  await call(t, rw.write, w, BASE + 100, 6);
  assert.equal(await call(t, rw.read, r, 0xdead_beef_000, 10), E(linuxerr.EFAULT));
  assert.equal(await call(t, rw.read, r, BASE + SIZE - 2, 10), 2, 'copied up to the fault');
  assert.equal(str(t, BASE + SIZE - 2, 2), 'ab');
  assert.equal(await call(t, rw.read, r, BASE, 10), 4);
  assert.equal(str(t, BASE, 4), 'cdef');
});

test('poll: readiness, POLLNVAL, timeout, and wake-up', async () => {
  const { t } = fakeTask();
  const [r, w] = await newPipe(t);
  const pfd = (fd: number, events: number): Uint8Array => {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setInt32(0, fd, true);
    dv.setInt16(4, events, true);
    return b;
  };
  const revents = (i: number): number => new DataView(t.mm.copyIn(BASE + 8 * i, 8).buffer).getInt16(6, true);
  mem(t, BASE, pfd(r, pollsys.POLLIN));
  mem(t, BASE + 8, pfd(w, pollsys.POLLOUT));
  mem(t, BASE + 16, pfd(99, pollsys.POLLIN));
  assert.equal(await call(t, pollsys.poll, BASE, 3, 0), 2);
  assert.equal(revents(0), 0);
  assert.equal(revents(1), pollsys.POLLOUT);
  assert.equal(revents(2), pollsys.POLLNVAL);
  const t0 = performance.now();
  assert.equal(await call(t, pollsys.poll, BASE, 1, 30), 0);
  assert.ok(performance.now() - t0 >= 25, 'waited for the timeout');
  const pending = callSync(t, pollsys.poll, BASE, 1, -1);
  assert.ok(pending instanceof Promise);
  mem(t, BASE + 100, 'x');
  await call(t, rw.write, w, BASE + 100, 1);
  assert.equal(await pending, 1);
  assert.equal(revents(0), pollsys.POLLIN);
  await call(t, fdsys.close, w);
  assert.equal(await call(t, pollsys.poll, BASE, 1, 0), 1);
  assert.equal(revents(0), pollsys.POLLIN | pollsys.POLLHUP);
});

test('select: sets, EBADF, and remaining time', async () => {
  const { t } = fakeTask();
  const [r, w] = await newPipe(t);
  const set = (...fds: number[]): Uint8Array => {
    const b = new Uint8Array(8);
    for (const fd of fds) b[fd >> 3] |= 1 << (fd & 7);
    return b;
  };
  mem(t, BASE, set(r));
  mem(t, BASE + 8, set(w));
  const tv = new Uint8Array(16);
  new DataView(tv.buffer).setBigInt64(8, 20_000n, true);
  mem(t, BASE + 16, tv);
  assert.equal(await call(t, pollsys.select, w + 1, BASE, BASE + 8, 0, BASE + 16), 1);
  assert.deepEqual(t.mm.copyIn(BASE, 8), new Uint8Array(8), 'read set cleared');
  assert.deepEqual(t.mm.copyIn(BASE + 8, 8), set(w));
  mem(t, BASE, set(r));
  assert.equal(await call(t, pollsys.select, w + 1, BASE, 0, 0, BASE + 16), 0);
  assert.equal(t.mm.readU64(BASE + 24), 0, 'timeout fully used');
  mem(t, BASE, set(7));
  assert.equal(await call(t, pollsys.select, 8, BASE, 0, 0, 0), E(linuxerr.EBADF));
});

test('dup family and fcntl', async () => {
  const { t } = fakeTask();
  const [r, w] = await newPipe(t);
  assert.equal(await call(t, fdsys.dup, r), 2);
  assert.equal(await call(t, fdsys.dup2, r, r), r);
  assert.equal(await call(t, fdsys.dup3, r, r, 0), E(linuxerr.EINVAL));
  assert.equal(await call(t, fdsys.dup3, r, 10, linux.O_NONBLOCK), E(linuxerr.EINVAL));
  assert.equal(await call(t, fdsys.dup3, r, 10, linux.O_CLOEXEC), 10);
  assert.equal(await call(t, fdsys.fcntl, 10, linux.F_GETFD), linux.FD_CLOEXEC);
  assert.equal(await call(t, fdsys.fcntl, r, linux.F_DUPFD_CLOEXEC, 20), 20);
  assert.equal(await call(t, fdsys.fcntl, r, linux.F_DUPFD, 5000), E(linuxerr.EINVAL));
  assert.equal(await call(t, fdsys.dup2, 99, 5), E(linuxerr.EBADF));
  assert.equal(await call(t, fdsys.fcntl, w, linux.F_GETPIPE_SZ), 65536);
  assert.equal(await call(t, fdsys.fcntl, w, linux.F_SETPIPE_SZ, 5000), 8192);
  assert.equal(await call(t, fdsys.fcntl, r, linux.F_GETPIPE_SZ), 8192);
  assert.equal(await call(t, ioctlsys.ioctl, r, ioctlsys.FIONCLEX, 0), 0);
  assert.equal(await call(t, ioctlsys.ioctl, r, 0x5401 /* TCGETS */, BASE), E(linuxerr.ENOTTY));
  mem(t, BASE + 100, 'abcd');
  await call(t, rw.write, w, BASE + 100, 4);
  assert.equal(await call(t, ioctlsys.ioctl, r, ioctlsys.FIONREAD, BASE), 0);
  assert.equal(t.mm.readI32(BASE), 4);
  // Closing every read-end fd (0, 2, 10, 20) releases the reader: writes get EPIPE.
  for (const fd of [r, 2, 10, 20]) assert.equal(await call(t, fdsys.close, fd), 0);
  assert.equal(await call(t, rw.write, w, BASE + 100, 1), E(linuxerr.EPIPE));
  assert.equal(await call(t, fdsys.close, r), E(linuxerr.EBADF));
  assert.equal(await call(t, fdsys.closeRange, 0, 100, 0), 0);
  assert.equal(await call(t, fdsys.fcntl, w, linux.F_GETFD), E(linuxerr.EBADF));
});

test('flock between descriptions of one file; released on last close', async () => {
  const { t } = fakeTask();
  const [r, w] = await newPipe(t);
  const LOCK_EX = 2;
  const LOCK_NB = 4;
  const LOCK_UN = 8;
  assert.equal(await call(t, fdsys.flock, r, LOCK_EX | LOCK_NB), 0);
  assert.equal(await call(t, fdsys.flock, w, LOCK_EX | LOCK_NB), E(linuxerr.EAGAIN));
  const pending = callSync(t, fdsys.flock, w, LOCK_EX);
  assert.ok(pending instanceof Promise);
  const dupR = await call(t, fdsys.dup, r);
  await call(t, fdsys.close, r);
  assert.equal(await call(t, fdsys.flock, w, LOCK_EX | LOCK_NB), E(linuxerr.EAGAIN), 'dup keeps the description');
  await call(t, fdsys.close, dupR);
  assert.equal(await pending, 0);
  assert.equal(await call(t, fdsys.flock, w, LOCK_UN), 0);
});

test('devices: null, zero, full, and sendfile from zero to a pipe', async () => {
  const { t } = fakeTask();
  const install = (minor: number, flags: number): number => {
    const f = new FileDescription(openDevice(t, 1, minor, flags), flags, `/dev/${minor}`);
    const fd = t.fdTable.newFD(f, false);
    f.decRef();
    return fd;
  };
  const nul = install(3, linux.O_RDWR);
  const zero = install(5, linux.O_RDONLY);
  const full = install(7, linux.O_WRONLY);
  assert.equal(await call(t, rw.read, nul, BASE, 10), 0);
  assert.equal(await call(t, rw.write, nul, BASE, 10), 10);
  mem(t, BASE, new Uint8Array(10).fill(1));
  assert.equal(await call(t, rw.read, zero, BASE, 10), 10);
  assert.deepEqual(t.mm.copyIn(BASE, 10), new Uint8Array(10));
  assert.equal(await call(t, rw.write, full, BASE, 1), E(linuxerr.ENOSPC));
  assert.equal(await call(t, rw.lseek, nul, 100, 0), 0);
  assert.throws(() => openDevice(t, 1, 42, 0), (e) => e === linuxerr.ENXIO);
  const [r, w] = await newPipe(t);
  assert.equal(await call(t, rw.sendfile, w, zero, 0, 1000), 1000);
  assert.equal(await call(t, rw.read, r, BASE, 5000), 1000);
  t.mm.writeU64(BASE + 64, 7);
  assert.equal(await call(t, rw.sendfile, w, zero, BASE + 64, 10), 10);
  assert.equal(t.mm.readU64(BASE + 64), 17, 'offset advanced');
  assert.equal(await call(t, rw.sendfile, w, r, BASE + 64, 10), E(linuxerr.ESPIPE));
});

test('splice and tee between pipes', async () => {
  const { t } = fakeTask();
  const [r1, w1] = await newPipe(t);
  const [r2, w2] = await newPipe(t);
  mem(t, BASE + 100, 'splice!');
  await call(t, rw.write, w1, BASE + 100, 7);
  assert.equal(await call(t, pipesys.tee, r1, w2, 100, 0), 7);
  assert.equal(await call(t, pipesys.splice, r1, 0, w2, 0, 3, 0), 3);
  assert.equal(await call(t, rw.read, r2, BASE, 100), 10);
  assert.equal(str(t, BASE, 10), 'splice!spl');
  assert.equal(await call(t, pipesys.splice, r1, BASE + 200, w2, 0, 3, 0), E(linuxerr.ESPIPE));
  assert.equal(await call(t, pipesys.splice, r1, 0, w1, 0, 3, 0), E(linuxerr.EINVAL));
  assert.equal(await call(t, pipesys.tee, r1, w2, 10, 2 /* SPLICE_F_NONBLOCK */), 4);
});
