// pipe(2), pipe2(2) and the splice family (splice, tee, vmsplice). Splice
// moves data through a bounce buffer rather than sharing pages, which only
// changes performance, not results.

import * as linux from '../../../abi/linux/file.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Pipe } from '../../kernel/pipe/pipe.js';
import type { Task } from '../../kernel/task.js';
import { newPipe, pipeOf } from '../../fsimpl/pipefs/pipefs.js';
import { EVENT_IN, EVENT_OUT } from '../../vfs/waiter.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';
import {
  MAX_RW_COUNT, Transfer, copyInIovecs, doRead, doWrite, getFile, positional, sendSigpipe, waitFor,
} from './sys_read_write.js';

const RLIMIT_NOFILE = 7;
const O_NOTIFICATION_PIPE = linux.O_EXCL;
const SPLICE_F_NONBLOCK = 0x2;
const SPLICE_F_ALL = 0x1 | 0x2 | 0x4 | 0x8;

/** nofile returns the caller's RLIMIT_NOFILE soft limit (the fd table bound). */
export function nofile(t: Task): number {
  return t.tg.rlimits[RLIMIT_NOFILE][0];
}

function doPipe(t: Task, addr: number, flags: number): number {
  if (flags & ~(linux.O_CLOEXEC | linux.O_NONBLOCK | linux.O_DIRECT | O_NOTIFICATION_PIPE)) throw linuxerr.EINVAL;
  if (flags & O_NOTIFICATION_PIPE) {
    t.kernel.log.warnOnce('pipe2:notification', 'pipe2 O_NOTIFICATION_PIPE is not supported');
    throw linuxerr.ENOPKG;
  }
  const [r, w] = newPipe(t, flags);
  const cloexec = (flags & linux.O_CLOEXEC) !== 0;
  const limit = nofile(t);
  try {
    const rfd = t.fdTable.newFD(r, cloexec, 0, limit);
    let wfd: number;
    try {
      wfd = t.fdTable.newFD(w, cloexec, 0, limit);
    } catch (e) {
      t.fdTable.remove(rfd);
      throw e;
    }
    const out = new Uint8Array(8);
    const dv = new DataView(out.buffer);
    dv.setInt32(0, rfd, true);
    dv.setInt32(4, wfd, true);
    try {
      t.mm.copyOut(addr, out);
    } catch (e) {
      t.fdTable.remove(rfd);
      t.fdTable.remove(wfd);
      throw e;
    }
    return 0;
  } finally {
    // The table holds the references now (or nobody does).
    r.decRef();
    w.decRef();
  }
}

/** pipe implements Linux syscall pipe(2). */
export function pipe(t: Task, a: SyscallArgs): number {
  return doPipe(t, a.ptr(0), 0);
}

/** pipe2 implements Linux syscall pipe2(2). */
export function pipe2(t: Task, a: SyscallArgs): number {
  return doPipe(t, a.ptr(0), a.int(1));
}

function readOffset(t: Task, addr: number): number {
  const v = t.mm.readU64(addr);
  if (v >= 2 ** 63) throw linuxerr.EINVAL;
  return v;
}

/** splice implements Linux syscall splice(2). */
export function splice(t: Task, a: SyscallArgs): number | Promise<number> {
  const inFd = a.int(0);
  const offInAddr = a.ptr(1);
  const outFd = a.int(2);
  const offOutAddr = a.ptr(3);
  let len = a.sizeT(4);
  const flags = a.uint(5);
  if (flags & ~SPLICE_F_ALL) throw linuxerr.EINVAL;
  const src = getFile(t, inFd);
  const dst = getFile(t, outFd);
  if (!src.readable || !dst.writable) throw linuxerr.EBADF;
  const ip = pipeOf(src);
  const op = pipeOf(dst);
  if (!ip && !op) throw linuxerr.EINVAL;
  if (ip && op && ip === op) throw linuxerr.EINVAL;
  if ((ip && offInAddr) || (op && offOutAddr)) throw linuxerr.ESPIPE;
  let srcOff = -1;
  let dstOff = -1;
  if (offInAddr) {
    if (!positional(src)) throw linuxerr.ESPIPE;
    srcOff = readOffset(t, offInAddr);
  }
  if (offOutAddr) {
    if (!positional(dst)) throw linuxerr.ESPIPE;
    dstOff = readOffset(t, offOutAddr);
  }
  if (!op && (dst.flags & linux.O_APPEND)) throw linuxerr.EINVAL;
  if (!src.impl.read || !dst.impl.write) throw linuxerr.EINVAL;
  len = Math.min(len, MAX_RW_COUNT);
  if (len === 0) return 0;
  const nb = (flags & SPLICE_F_NONBLOCK) !== 0;
  // Never read more than the destination pipe can take, so nothing is left in hand.
  const tr = new Transfer(t, src, dst, len, srcOff, dstOff, nb || src.nonblocking, nb || dst.nonblocking,
    op ? () => op.free : undefined, true);
  const writeBack = (n: number): number => {
    if (offInAddr) t.mm.writeU64(offInAddr, tr.srcOff);
    if (offOutAddr) t.mm.writeU64(offOutAddr, tr.dstOff);
    return n;
  };
  const r = tr.run();
  return typeof r === 'number' ? writeBack(r) : r.then(writeBack);
}

/** teeOnce duplicates up to len bytes of ip into op without waiting: a count, or which side to wait for. */
function teeOnce(t: Task, ip: Pipe, op: Pipe, len: number, nonblock: boolean): number | 'in' | 'out' {
  if (ip.size === 0) {
    if (ip.writers === 0) return 0;
    if (nonblock) throw linuxerr.EAGAIN;
    return 'in';
  }
  if (op.readers === 0) {
    sendSigpipe(t);
    throw linuxerr.EPIPE;
  }
  const n = Math.min(len, ip.size, op.free);
  if (n === 0) {
    if (nonblock) throw linuxerr.EAGAIN;
    return 'out';
  }
  const buf = new Uint8Array(n);
  ip.peek(buf, n);
  return op.write(buf);
}

/** tee implements Linux syscall tee(2). */
export function tee(t: Task, a: SyscallArgs): number | Promise<number> {
  const inFd = a.int(0);
  const outFd = a.int(1);
  const len = Math.min(a.sizeT(2), MAX_RW_COUNT);
  const flags = a.uint(3);
  if (flags & ~SPLICE_F_ALL) throw linuxerr.EINVAL;
  if (len === 0) return 0;
  const src = getFile(t, inFd);
  const dst = getFile(t, outFd);
  const ip = pipeOf(src);
  const op = pipeOf(dst);
  if (!ip || !op || ip === op) throw linuxerr.EINVAL;
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0 || src.nonblocking || dst.nonblocking;
  const r = teeOnce(t, ip, op, len, nonblock);
  if (typeof r === 'number') return r;
  return (async () => {
    src.incRef();
    dst.incRef();
    try {
      for (let w = r; ;) {
        await waitFor(t, w === 'in' ? src : dst, w === 'in' ? EVENT_IN : EVENT_OUT);
        const n = teeOnce(t, ip, op, len, nonblock);
        if (typeof n === 'number') return n;
        w = n;
      }
    } finally {
      src.decRef();
      dst.decRef();
    }
  })();
}

/** vmsplice implements Linux syscall vmsplice(2) by copying: to a pipe's write end
 *  it is writev, from a read end readv (SPLICE_F_GIFT has no effect). */
export function vmsplice(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const iovAddr = a.ptr(1);
  const nr = a.sizeT(2);
  const flags = a.uint(3);
  if (flags & ~SPLICE_F_ALL) throw linuxerr.EINVAL;
  const f = getFile(t, fd);
  if (!pipeOf(f) || (!f.readable && !f.writable)) throw linuxerr.EBADF;
  const { iovs, total } = copyInIovecs(t, iovAddr, nr);
  if (total === 0) return 0;
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0 || f.nonblocking;
  return f.writable ? doWrite(t, f, iovs, total, -1, nonblock) : doRead(t, f, iovs, total, -1, nonblock);
}

export const syscalls: SyscallEntries = {
  [SYSNO.pipe]: supported('pipe', pipe),
  [SYSNO.pipe2]: partial('pipe2', pipe2, 'O_DIRECT (packet mode) is recorded but writes are not packetized'),
  [SYSNO.splice]: partial('splice', splice, 'copies through a buffer'),
  [SYSNO.tee]: supported('tee', tee),
  [SYSNO.vmsplice]: partial('vmsplice', vmsplice, 'copies; SPLICE_F_GIFT ignored'),
};
