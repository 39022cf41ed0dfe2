// read(2), write(2) and their positional and vectored forms, lseek(2) and
// sendfile(2), plus the I/O cores the pipe and splice syscalls share.
// Data moves through a reused scratch buffer: file -> scratch -> guest (or
// back) within one synchronous step, so no await ever separates a fill from
// its copy. A file that would block throws EAGAIN; unless the description is
// non-blocking the syscall then waits on the file's queue and retries. The
// direct guest paths (GuestReader) say "would block" as a value instead,
// WOULD_BLOCK, down to the handler's result: a busy socket's reader meets it
// on most reads, and a JavaScript throw costs microseconds.

import * as linux from '../../../abi/linux/file.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import { SIGPIPE, SIGXFSZ, SIG_DFL, sigbit } from '../../../abi/linux/signal.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { pipeOf } from '../../fsimpl/pipefs/pipefs.js';
import type { Task } from '../../kernel/task.js';
import { killProcessBySignal } from '../../kernel/task_exit.js';
import { MAX_USER_ADDR } from '../../mm/mm.js';
import type { FileDescription } from '../../vfs/file_description.js';
import * as inotify from '../../fsimpl/inotify/inotify.js';
import type { AddressSpace } from '../../../platform/platform.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT } from '../../vfs/waiter.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';

/** MAX_RW_COUNT is the most one read or write moves (INT_MAX rounded down to a page). */
export const MAX_RW_COUNT = 0x7ffff000;
/** IOV_MAX (UIO_MAXIOV) bounds iovec arrays. */
export const IOV_MAX = 1024;

/** WOULD_BLOCK is -EAGAIN: readDirect's and readOnce's "nothing to read yet". */
const WOULD_BLOCK = -linuxerr.EAGAIN.errno;

const RWF_HIPRI = 0x1;
const RWF_DSYNC = 0x2;
const RWF_SYNC = 0x4;
const RWF_NOWAIT = 0x8;
const RWF_APPEND = 0x10;
const RWF_SUPPORTED = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT;

// ---- Scratch buffer ----

/** Largest single step through the scratch buffer; bigger transfers loop. */
const SCRATCH_MAX = 1 << 20;
let scratchBuf = new Uint8Array(64 * 1024);
let scratchView = scratchBuf.subarray(0, 4096);

/** scratch returns a reused buffer of n <= SCRATCH_MAX bytes. Valid until the next await. */
export function scratch(n: number): Uint8Array {
  if (scratchView.length === n) return scratchView;
  if (n > scratchBuf.length) scratchBuf = new Uint8Array(Math.min(SCRATCH_MAX, 2 ** Math.ceil(Math.log2(n))));
  scratchView = scratchBuf.subarray(0, n);
  return scratchView;
}

// ---- Guest buffers ----

/** IoVec is one guest buffer. */
export interface IoVec {
  base: number;
  len: number;
}

/** checkRange is access_ok: the range must lie in the user address space. */
export function checkRange(addr: number, len: number): void {
  if (len > MAX_USER_ADDR || addr > MAX_USER_ADDR - len) throw linuxerr.EFAULT;
}

/** parseIovecs decodes count struct iovec (16 bytes each) from raw: EINVAL for a
 *  negative length, EFAULT for a buffer outside user space; the total is clamped
 *  to MAX_RW_COUNT by shortening the buffers, as Linux does. */
export function parseIovecs(raw: Uint8Array, count: number): { iovs: IoVec[]; total: number } {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const iovs: IoVec[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const base = dv.getUint32(16 * i, true) + dv.getUint32(16 * i + 4, true) * 0x1_0000_0000;
    const hi = dv.getUint32(16 * i + 12, true);
    if (hi & 0x8000_0000) throw linuxerr.EINVAL;
    let len = dv.getUint32(16 * i + 8, true) + hi * 0x1_0000_0000;
    if (len > MAX_RW_COUNT - total) len = MAX_RW_COUNT - total;
    if (len > 0) checkRange(base, len);
    iovs.push({ base, len });
    total += len;
  }
  return { iovs, total };
}

/** copyInIovecs reads and checks a guest iovec array. */
export function copyInIovecs(t: Task, addr: number, count: number): { iovs: IoVec[]; total: number } {
  if (count > IOV_MAX) throw linuxerr.EINVAL;
  if (count === 0) return { iovs: [], total: 0 };
  return parseIovecs(t.mm.copyIn(addr, 16 * count), count);
}

/** scatterOut copies src into the guest buffers, starting skip bytes in; returns the count copied (short on a fault). */
export function scatterOut(t: Task, iovs: IoVec[], skip: number, src: Uint8Array): number {
  let done = 0;
  for (let i = 0; i < iovs.length && done < src.length; i++) {
    const v = iovs[i];
    if (skip >= v.len) {
      skip -= v.len;
      continue;
    }
    const n = Math.min(v.len - skip, src.length - done);
    const c = t.mm.copyOutPartial(v.base + skip, done === 0 && n === src.length ? src : src.subarray(done, done + n));
    done += c;
    if (c < n) break;
    skip = 0;
  }
  return done;
}

/** gatherIn fills dst from the guest buffers, starting skip bytes in; returns the count filled (short on a fault). */
export function gatherIn(t: Task, iovs: IoVec[], skip: number, dst: Uint8Array): number {
  let done = 0;
  for (let i = 0; i < iovs.length && done < dst.length; i++) {
    const v = iovs[i];
    if (skip >= v.len) {
      skip -= v.len;
      continue;
    }
    const n = Math.min(v.len - skip, dst.length - done);
    const c = t.mm.copyInPartial(v.base + skip, done === 0 && n === dst.length ? dst : dst.subarray(done, done + n));
    done += c;
    if (c < n) break;
    skip = 0;
  }
  return done;
}

// ---- Checks shared by the handlers ----

/** getFile returns fd's description for I/O: EBADF for bad fds and O_PATH ones. */
export function getFile(t: Task, fd: number): FileDescription {
  const f = t.fdTable.get(fd);
  if (f.flags & linux.O_PATH) throw linuxerr.EBADF;
  return f;
}

/** checkReadable is vfs_read's preamble: EBADF without read access, EISDIR, EINVAL. */
export function checkReadable(f: FileDescription): void {
  if (!f.readable) throw linuxerr.EBADF;
  if (!f.impl.read) throw f.impl.readdir ? linuxerr.EISDIR : linuxerr.EINVAL;
}

export function checkWritable(f: FileDescription): void {
  if (!f.writable) throw linuxerr.EBADF;
  if (!f.impl.write) throw linuxerr.EINVAL;
}

/** positional reports FMODE_PREAD/PWRITE: the file has a position (pipes, terminals do not). */
export function positional(f: FileDescription): boolean {
  return f.impl.seek !== undefined;
}

/** sendSigpipe raises SIGPIPE for a write that found no reader. Until signal
 *  delivery exists, a default disposition (not blocked) ends the process. */
export function sendSigpipe(t: Task): void {
  const k = t.kernel;
  if (k.signalProcess) {
    k.signalProcess(t.tg, SIGPIPE, null);
    return;
  }
  if (t.tg.sigactions[SIGPIPE].handler !== BigInt(SIG_DFL) || (t.sigmask & sigbit(SIGPIPE)) !== 0n) return;
  killProcessBySignal(t, SIGPIPE);
}

/** waitFor waits until f may be ready for ev (plus hangups and errors). */
export function waitFor(t: Task, f: FileDescription, ev: number): Promise<unknown> {
  const q = f.impl.waitQueue;
  if (q) return t.block(q, ev | EVENT_HUP | EVENT_ERR);
  // A file that says EAGAIN without a queue to wait on: poll it.
  t.kernel.log.warnOnce(`noqueue:${f.impl.constructor.name}`, `${f.impl.constructor.name} would block without a wait queue`);
  return t.sleep(10);
}

// ---- Read and write cores ----

/** Unreadable is a stream file that can take back bytes it handed out (pipes, host streams). */
export interface Unreadable {
  unread(data: Uint8Array): void;
}

function isUnreadable(impl: object): impl is Unreadable {
  return typeof (impl as Partial<Unreadable>).unread === 'function';
}

/** unread returns data, just read from f at offset (-1: the position), to the file. */
export function unread(t: Task, f: FileDescription, data: Uint8Array, offset: number): void {
  if (data.length === 0 || offset >= 0) return;
  if (isUnreadable(f.impl)) f.impl.unread(data);
  else if (positional(f)) f.seek(-data.length, linux.SEEK_CUR);
  else t.kernel.log.warnOnce(`unread:${f.impl.constructor.name}`, `${data.length} bytes read from a stream were lost`);
}

const one: IoVec[] = [{ base: 0, len: 0 }];

/** GuestReader is a file the platform can read into guest memory in one
 *  native step (host regular files): no JS buffer or extra crossing between
 *  the host read and the copy out. */
export interface GuestReader {
  readGuest(fd: FileDescription, as: AddressSpace, addr: number, len: number, offset: number): number | null;
}

function isGuestReader(impl: object): impl is GuestReader {
  return typeof (impl as Partial<GuestReader>).readGuest === 'function';
}

/** readDirect reads a host file into one guest buffer through the
 *  platform: the count, or null when the file or platform cannot. */
function readDirect(t: Task, f: FileDescription, addr: number, len: number, offset: number): number | null {
  if (!isGuestReader(f.impl)) return null;
  let done = 0;
  while (done < len) {
    // A regular file reads in full but at its end: no short count per chunk.
    const want = Math.min(len - done, SCRATCH_MAX);
    const n = f.impl.readGuest(f, t.mm.as, addr + done, want, offset < 0 ? -1 : offset + done);
    if (n === null) {
      if (done === 0) return null;
      break;
    }
    if (n < 0) {
      if (done > 0) break;
      if (n === WOULD_BLOCK) return n;
      throw linuxerr.fromErrno(-n);
    }
    done += n;
    if (n < want) break;
  }
  if (done > 0 && inotify.active()) inotify.notifyFile(f, inotify.IN_ACCESS);
  return done;
}

/** readOnce reads up to total bytes into the guest buffers without waiting.
 *  Throws only when nothing was read; would-block is thrown EAGAIN or
 *  returned WOULD_BLOCK (the direct path). */
function readOnce(t: Task, f: FileDescription, iovs: IoVec[], total: number, offset: number): number {
  if (iovs.length === 1) {
    const n = readDirect(t, f, iovs[0].base, total, offset);
    if (n !== null) return n;
  }
  let done = 0;
  while (done < total) {
    const want = Math.min(total - done, SCRATCH_MAX);
    const buf = scratch(want);
    let n: number;
    try {
      n = f.read(buf, offset < 0 ? -1 : offset + done);
    } catch (e) {
      if (done > 0) return done;
      throw e;
    }
    if (n === 0) break;
    const c = scatterOut(t, iovs, done, n === want ? buf : buf.subarray(0, n));
    done += c;
    if (c < n) {
      // Like Linux, bytes that could not be copied out stay in the file.
      unread(t, f, buf.subarray(c, n), offset);
      if (done === 0) throw linuxerr.EFAULT;
      break;
    }
    if (n < want) break;
  }
  return done;
}

/** doRead reads into the guest buffers, waiting for data unless nonblock. Synchronous when data is there. */
export function doRead(t: Task, f: FileDescription, iovs: IoVec[], total: number, offset: number, nonblock: boolean): number | Promise<number> {
  f.impl.jobControl?.(t, false);
  try {
    const n = readOnce(t, f, iovs, total, offset);
    // Non-blocking: EAGAIN is the result (returned, not thrown: see WOULD_BLOCK).
    if (n !== WOULD_BLOCK || nonblock) return n;
  } catch (e) {
    if (e !== linuxerr.EAGAIN || nonblock) throw e;
  }
  return readSlow(t, f, iovs === one ? [{ ...one[0] }] : iovs, total, offset);
}

async function readSlow(t: Task, f: FileDescription, iovs: IoVec[], total: number, offset: number): Promise<number> {
  // Hold the description while waiting, as Linux does: another thread's close must not release it under us.
  f.incRef();
  try {
    for (;;) {
      await waitFor(t, f, EVENT_IN);
      try {
        const n = readOnce(t, f, iovs, total, offset);
        if (n !== WOULD_BLOCK) return n;
      } catch (e) {
        if (e !== linuxerr.EAGAIN) throw e;
      }
    }
  } finally {
    f.decRef();
  }
}

/** GuestWriter is a file that takes bytes straight from guest memory (TCP
 *  sockets copy them into their send queue): no scratch copy in between.
 *  writeGuest returns the count written, WOULD_BLOCK when nothing could be,
 *  or null when it cannot; it throws as write does. */
export interface GuestWriter {
  writeGuest(fd: FileDescription, as: AddressSpace, addr: number, len: number, offset: number): number | null;
}

function isGuestWriter(impl: object): impl is GuestWriter {
  return typeof (impl as Partial<GuestWriter>).writeGuest === 'function';
}

/** writeOnce writes guest bytes [skip, total) without waiting; returns the count
 *  written. Throws only when nothing was written; would-block is thrown
 *  EAGAIN or returned WOULD_BLOCK (the direct path). */
function writeOnce(t: Task, f: FileDescription, iovs: IoVec[], total: number, offset: number, skip: number): number {
  if (iovs.length === 1 && isGuestWriter(f.impl)) {
    let n: number | null;
    try {
      n = f.impl.writeGuest(f, t.mm.as, iovs[0].base + skip, total - skip, offset < 0 ? -1 : offset + skip);
    } catch (e) {
      if (e === linuxerr.EPIPE) sendSigpipe(t);
      throw e;
    }
    if (n !== null) return n;
  }
  let done = 0;
  while (skip + done < total) {
    const want = Math.min(total - skip - done, SCRATCH_MAX);
    const buf = scratch(want);
    const got = gatherIn(t, iovs, skip + done, buf);
    if (got === 0) {
      if (done > 0) return done;
      throw linuxerr.EFAULT;
    }
    let n: number;
    try {
      n = f.write(got === want ? buf : buf.subarray(0, got), offset < 0 ? -1 : offset + skip + done);
    } catch (e) {
      if (e === linuxerr.EPIPE) sendSigpipe(t);
      if (done > 0) return done;
      throw e;
    }
    done += n;
    if (n < got || got < want) break;
  }
  return done;
}

const RLIMIT_FSIZE = 1;

/** fsizeLimit applies RLIMIT_FSIZE to a write of a regular file, as Linux's
 *  generic_write_checks does: a write starting at or past the limit raises
 *  SIGXFSZ and fails with EFBIG; one crossing it is cut short. */
function fsizeLimit(t: Task, f: FileDescription, total: number, offset: number, limit: number): number {
  const st = f.stat();
  if ((st.mode & linux.S_IFMT) !== linux.S_IFREG) return total;
  const pos = offset >= 0 ? offset : (f.flags & linux.O_APPEND) ? st.size : f.offset;
  if (pos >= limit) {
    t.kernel.signalProcess?.(t.tg, SIGXFSZ, null);
    throw linuxerr.EFBIG;
  }
  return Math.min(total, limit - pos);
}

/** doWrite writes the guest buffers. A blocking write to a stream (a file with a
 *  wait queue) continues until everything is written; others may be short. */
export function doWrite(t: Task, f: FileDescription, iovs: IoVec[], total: number, offset: number, nonblock: boolean): number | Promise<number> {
  if (total === 0) return 0;
  f.impl.jobControl?.(t, true);
  const fsize = t.tg.rlimits[RLIMIT_FSIZE][0];
  if (fsize !== Infinity) total = fsizeLimit(t, f, total, offset, fsize);
  let n: number;
  try {
    n = writeOnce(t, f, iovs, total, offset, 0);
  } catch (e) {
    if (e !== linuxerr.EAGAIN || nonblock) throw e;
    n = WOULD_BLOCK;
  }
  if (n === WOULD_BLOCK) {
    // Non-blocking: EAGAIN is the result (returned, not thrown).
    if (nonblock) return n;
    return writeSlow(t, f, iovs === one ? [{ ...one[0] }] : iovs, total, offset, 0);
  }
  if (n === total || n === 0 || nonblock || !f.impl.waitQueue) return n;
  return writeSlow(t, f, iovs === one ? [{ ...one[0] }] : iovs, total, offset, n);
}

async function writeSlow(t: Task, f: FileDescription, iovs: IoVec[], total: number, offset: number, done: number): Promise<number> {
  f.incRef();
  try {
    let tried = done > 0;
    while (done < total) {
      if (tried) {
        try {
          const n = writeOnce(t, f, iovs, total, offset, done);
          if (n === 0) return done;
          if (n !== WOULD_BLOCK) {
            done += n;
            continue;
          }
        } catch (e) {
          if (e !== linuxerr.EAGAIN) {
            if (done > 0) return done;
            throw e;
          }
        }
      }
      tried = true;
      try {
        await waitFor(t, f, EVENT_OUT);
      } catch (e) {
        if (done > 0) return done;
        throw e;
      }
    }
    return done;
  } finally {
    f.decRef();
  }
}

// ---- read, write, pread64, pwrite64 ----

/** read implements Linux syscall read(2). */
export function read(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const addr = a.ptr(1);
  const count = a.sizeT(2);
  const f = getFile(t, fd);
  checkReadable(f);
  checkRange(addr, count);
  const n = Math.min(count, MAX_RW_COUNT);
  one[0].base = addr;
  one[0].len = n;
  return doRead(t, f, one, n, -1, f.nonblocking);
}

/** write implements Linux syscall write(2). */
export function write(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const addr = a.ptr(1);
  const count = a.sizeT(2);
  const f = getFile(t, fd);
  checkWritable(f);
  checkRange(addr, count);
  const n = Math.min(count, MAX_RW_COUNT);
  one[0].base = addr;
  one[0].len = n;
  return doWrite(t, f, one, n, -1, f.nonblocking);
}

/** pread64 implements Linux syscall pread64(2). */
export function pread64(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const addr = a.ptr(1);
  const count = a.sizeT(2);
  const pos = a.int64(3);
  if (pos < 0) throw linuxerr.EINVAL;
  const f = getFile(t, fd);
  if (!positional(f)) throw linuxerr.ESPIPE;
  checkReadable(f);
  checkRange(addr, count);
  const n = Math.min(count, MAX_RW_COUNT);
  one[0].base = addr;
  one[0].len = n;
  return doRead(t, f, one, n, pos, f.nonblocking);
}

/** pwrite64 implements Linux syscall pwrite64(2). */
export function pwrite64(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const addr = a.ptr(1);
  const count = a.sizeT(2);
  const pos = a.int64(3);
  if (pos < 0) throw linuxerr.EINVAL;
  const f = getFile(t, fd);
  if (!positional(f)) throw linuxerr.ESPIPE;
  checkWritable(f);
  checkRange(addr, count);
  const n = Math.min(count, MAX_RW_COUNT);
  one[0].base = addr;
  one[0].len = n;
  return doWrite(t, f, one, n, pos, f.nonblocking);
}

// ---- Vectored forms ----

function rwFlags(t: Task, flags: number, write: boolean): void {
  if ((flags & ~RWF_SUPPORTED) === 0) return;
  if (write && (flags & RWF_APPEND) && (flags & ~(RWF_SUPPORTED | RWF_APPEND)) === 0) {
    t.kernel.log.warnOnce('rwf_append', 'pwritev2 RWF_APPEND is not supported');
  }
  throw linuxerr.EOPNOTSUPP;
}

function vread(t: Task, fd: number, iovAddr: number, iovcnt: number, pos: number, flags: number): number | Promise<number> {
  const f = getFile(t, fd);
  if (pos >= 0 && !positional(f)) throw linuxerr.ESPIPE;
  checkReadable(f);
  const { iovs, total } = copyInIovecs(t, iovAddr, iovcnt);
  rwFlags(t, flags, false);
  if (total === 0) return 0;
  return doRead(t, f, iovs, total, pos, f.nonblocking || (flags & RWF_NOWAIT) !== 0);
}

function vwrite(t: Task, fd: number, iovAddr: number, iovcnt: number, pos: number, flags: number): number | Promise<number> {
  const f = getFile(t, fd);
  if (pos >= 0 && !positional(f)) throw linuxerr.ESPIPE;
  checkWritable(f);
  const { iovs, total } = copyInIovecs(t, iovAddr, iovcnt);
  rwFlags(t, flags, true);
  if (total === 0) return 0;
  const r = doWrite(t, f, iovs, total, pos, f.nonblocking || (flags & RWF_NOWAIT) !== 0);
  if (!(flags & (RWF_DSYNC | RWF_SYNC))) return r;
  const sync = (n: number): number => {
    if (n > 0) f.impl.sync?.(f);
    return n;
  };
  return typeof r === 'number' ? sync(r) : r.then(sync);
}

/** readv implements Linux syscall readv(2). */
export function readv(t: Task, a: SyscallArgs): number | Promise<number> {
  return vread(t, a.int(0), a.ptr(1), a.sizeT(2), -1, 0);
}

/** writev implements Linux syscall writev(2). */
export function writev(t: Task, a: SyscallArgs): number | Promise<number> {
  return vwrite(t, a.int(0), a.ptr(1), a.sizeT(2), -1, 0);
}

/** preadv implements Linux syscall preadv(2). */
export function preadv(t: Task, a: SyscallArgs): number | Promise<number> {
  const pos = a.int64(3);
  if (pos < 0) throw linuxerr.EINVAL;
  return vread(t, a.int(0), a.ptr(1), a.sizeT(2), pos, 0);
}

/** pwritev implements Linux syscall pwritev(2). */
export function pwritev(t: Task, a: SyscallArgs): number | Promise<number> {
  const pos = a.int64(3);
  if (pos < 0) throw linuxerr.EINVAL;
  return vwrite(t, a.int(0), a.ptr(1), a.sizeT(2), pos, 0);
}

/** preadv2 implements Linux syscall preadv2(2): offset -1 means the file position. */
export function preadv2(t: Task, a: SyscallArgs): number | Promise<number> {
  const pos = a.int64(3);
  if (pos < -1) throw linuxerr.EINVAL;
  return vread(t, a.int(0), a.ptr(1), a.sizeT(2), pos, a.int(5));
}

/** pwritev2 implements Linux syscall pwritev2(2): offset -1 means the file position. */
export function pwritev2(t: Task, a: SyscallArgs): number | Promise<number> {
  const pos = a.int64(3);
  if (pos < -1) throw linuxerr.EINVAL;
  return vwrite(t, a.int(0), a.ptr(1), a.sizeT(2), pos, a.int(5));
}

/** lseek implements Linux syscall lseek(2). */
export function lseek(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const offset = a.int64(1);
  const whence = a.uint(2);
  const f = getFile(t, fd);
  if (whence > linux.SEEK_HOLE) throw linuxerr.EINVAL;
  return f.seek(offset, whence);
}

// ---- Transfers between files (sendfile, splice) ----

/** Transfer moves bytes from src to dst through a private buffer, resumable after waits. */
export class Transfer {
  private readonly buf: Uint8Array;
  private head = 0;
  private tail = 0;
  done = 0;
  /** Offsets: -1 uses (and moves) the file position. */
  srcOff: number;
  dstOff: number;
  private remaining: number;

  constructor(readonly t: Task, readonly src: FileDescription, readonly dst: FileDescription, count: number,
    srcOff: number, dstOff: number, readonly srcNonblock: boolean, readonly dstNonblock: boolean,
    /** room caps a single read (a destination pipe's free space, say). */
    readonly room: () => number = () => Infinity,
    /** returnEarly: once something moved, return rather than wait (splice); sendfile waits. */
    readonly returnEarly = false) {
    this.remaining = count;
    this.srcOff = srcOff;
    this.dstOff = dstOff;
    this.buf = new Uint8Array(Math.min(count, 64 * 1024));
  }

  /** unwritten counts bytes read from src but not (yet) written. */
  get unwritten(): number {
    return this.tail - this.head;
  }

  /** step moves what it can now: returns null when finished, or the file and event to wait for. */
  step(): { file: FileDescription; event: number } | null {
    for (;;) {
      if (this.head < this.tail) {
        let n: number;
        try {
          n = this.dst.write(this.buf.subarray(this.head, this.tail), this.dstOff);
        } catch (e) {
          if (e === linuxerr.EPIPE) sendSigpipe(this.t);
          if (e === linuxerr.EAGAIN && !this.dstNonblock && !(this.returnEarly && this.done > 0)) {
            return { file: this.dst, event: EVENT_OUT };
          }
          return this.fail(e);
        }
        this.head += n;
        this.done += n;
        if (this.dstOff >= 0) this.dstOff += n;
        continue;
      }
      if (this.remaining === 0) return null;
      // A non-blocking destination that is full: stop before reading data it cannot take.
      if (this.dstNonblock && (this.dst.readiness(EVENT_OUT) & EVENT_OUT) === 0) return this.fail(linuxerr.EAGAIN);
      const want = Math.min(this.remaining, this.buf.length, this.room());
      if (want <= 0) {
        if (this.dstNonblock || (this.returnEarly && this.done > 0)) return this.fail(linuxerr.EAGAIN);
        return { file: this.dst, event: EVENT_OUT };
      }
      let n: number;
      try {
        n = this.src.read(this.buf.subarray(0, want), this.srcOff);
      } catch (e) {
        if (e === linuxerr.EAGAIN && !this.srcNonblock && this.done === 0) return { file: this.src, event: EVENT_IN };
        return this.fail(e);
      }
      if (n === 0) return null;
      this.head = 0;
      this.tail = n;
      this.remaining -= n;
      if (this.srcOff >= 0) this.srcOff += n;
    }
  }

  private fail(e: unknown): null {
    if (this.done > 0) return null;
    this.giveBack();
    throw e;
  }

  /** giveBack returns bytes read but not written to src. */
  giveBack(): void {
    const n = this.tail - this.head;
    if (n === 0) return;
    if (this.srcOff >= 0) this.srcOff -= n;
    else unread(this.t, this.src, this.buf.subarray(this.head, this.tail), -1);
    this.head = this.tail;
  }

  /** run drives the transfer; synchronous unless it must wait. Resolves with the byte count. */
  run(): number | Promise<number> {
    const w = this.step();
    if (w === null) return this.finish();
    return this.runSlow(w);
  }

  private finish(): number {
    this.giveBack();
    return this.done;
  }

  private async runSlow(w: { file: FileDescription; event: number }): Promise<number> {
    this.src.incRef();
    this.dst.incRef();
    try {
      for (let next: typeof w | null = w; next; next = this.step()) {
        try {
          await waitFor(this.t, next.file, next.event);
        } catch (e) {
          if (this.done > 0) break;
          this.giveBack();
          throw e;
        }
      }
      return this.finish();
    } finally {
      this.src.decRef();
      this.dst.decRef();
    }
  }
}

/** sendfile implements Linux syscall sendfile(2). */
export function sendfile(t: Task, a: SyscallArgs): number | Promise<number> {
  const outFd = a.int(0);
  const inFd = a.int(1);
  const offAddr = a.ptr(2);
  let count = a.sizeT(3);
  const src = getFile(t, inFd);
  if (!src.readable) throw linuxerr.EBADF;
  let pos = -1;
  if (offAddr !== 0) {
    if (!positional(src)) throw linuxerr.ESPIPE;
    pos = t.mm.readU64(offAddr);
    if (pos >= 2 ** 63) throw linuxerr.EINVAL;
  }
  const dst = getFile(t, outFd);
  if (!dst.writable) throw linuxerr.EBADF;
  if (dst.flags & linux.O_APPEND) throw linuxerr.EINVAL;
  if (!src.impl.read || !dst.impl.write) throw linuxerr.EINVAL;
  count = Math.min(count, MAX_RW_COUNT);
  if (count === 0) return 0;
  const op = pipeOf(dst);
  const tr = new Transfer(t, src, dst, count, pos, -1, src.nonblocking, dst.nonblocking, op ? () => op.free : undefined);
  const writeBack = (n: number): number => {
    if (offAddr !== 0) t.mm.writeU64(offAddr, tr.srcOff);
    return n;
  };
  let r: number | Promise<number>;
  try {
    r = tr.run();
  } catch (e) {
    writeBack(0);
    throw e;
  }
  return typeof r === 'number' ? writeBack(r) : r.then(writeBack, (e) => {
    writeBack(0);
    throw e;
  });
}

export const syscalls: SyscallEntries = {
  [SYSNO.read]: supported('read', read),
  [SYSNO.write]: supported('write', write),
  [SYSNO.pread64]: supported('pread64', pread64),
  [SYSNO.pwrite64]: supported('pwrite64', pwrite64),
  [SYSNO.readv]: supported('readv', readv),
  [SYSNO.writev]: supported('writev', writev),
  [SYSNO.preadv]: supported('preadv', preadv),
  [SYSNO.pwritev]: supported('pwritev', pwritev),
  [SYSNO.preadv2]: partial('preadv2', preadv2, 'RWF_HIPRI ignored; RWF_NOWAIT only for files that would block'),
  [SYSNO.pwritev2]: partial('pwritev2', pwritev2, 'RWF_APPEND is EOPNOTSUPP'),
  [SYSNO.lseek]: supported('lseek', lseek),
  [SYSNO.sendfile]: supported('sendfile', sendfile),
};
