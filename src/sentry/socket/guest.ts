// The socket syscalls' side of guest memory and waiting: byte sources and
// sinks over guest iovecs, struct msghdr, socket addresses in and out, and
// the loops that call a family again after it asked to wait (with the
// socket's SO_RCVTIMEO/SO_SNDTIMEO as a deadline).

import * as linuxerr from '../../abi/linux/errno.js';
import type { Task } from '../kernel/task.js';
import type { IoVec } from '../syscalls/linux/sys_read_write.js';
import { gatherIn, scatterOut } from '../syscalls/linux/sys_read_write.js';
import { waitAny } from '../syscalls/linux/sys_poll.js';
import type { FileDescription } from '../vfs/file_description.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT } from '../vfs/waiter.js';
import { MSGHDR_LEN, SOCKADDR_MAX } from './abi.js';
import type { ByteSink, ByteSource, IOStatus, RecvRequest, SendRequest, Socket } from './socket.js';

/** GuestSource reads a send's payload from guest buffers as the family takes it. */
export class GuestSource implements ByteSource {
  private pos = 0;
  private end: number;

  constructor(private readonly t: Task, private readonly iovs: IoVec[], total: number) {
    this.end = total;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  take(n: number): Uint8Array {
    const buf = new Uint8Array(n);
    const got = gatherIn(this.t, this.iovs, this.pos, buf);
    if (got === 0 && n > 0) throw linuxerr.EFAULT;
    this.pos += got;
    if (got === n) return buf;
    // A fault ends the payload here.
    this.end = this.pos;
    return buf.slice(0, got);
  }

  takeInto(dst: Uint8Array): number {
    const got = gatherIn(this.t, this.iovs, this.pos, dst);
    this.pos += got;
    if (got < dst.length) this.end = this.pos;
    return got;
  }
}

/** GuestSink writes received bytes into guest buffers. */
export class GuestSink implements ByteSink {
  constructor(private readonly t: Task, private readonly iovs: IoVec[], readonly length: number) {}

  put(src: Uint8Array, at: number): number {
    return scatterOut(this.t, this.iovs, at, src);
  }
}

/** Msghdr is struct msghdr as the guest passed it. */
export interface Msghdr {
  name: number;
  namelen: number;
  iov: number;
  iovlen: number;
  control: number;
  controllen: number;
}

function u64(dv: DataView, off: number): number {
  return dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 0x1_0000_0000;
}

/** readMsghdr copies in a struct msghdr (copy_msghdr_from_user's checks: EINVAL
 *  for a negative name length, EMSGSIZE for more than UIO_MAXIOV buffers). */
export function readMsghdr(t: Task, addr: number): Msghdr {
  const dv = new DataView(t.mm.copyIn(addr, MSGHDR_LEN).buffer);
  const h: Msghdr = {
    name: u64(dv, 0), namelen: dv.getInt32(8, true), iov: u64(dv, 16), iovlen: u64(dv, 24),
    control: u64(dv, 32), controllen: u64(dv, 40),
  };
  if (!h.name) h.namelen = 0;
  if (h.namelen < 0) throw linuxerr.EINVAL;
  if (h.namelen > SOCKADDR_MAX) h.namelen = SOCKADDR_MAX;
  if (h.iovlen > 1024) throw linuxerr.EMSGSIZE;
  return h;
}

/** copyInAddr is move_addr_to_kernel: EINVAL for a length outside [0, 128]. */
export function copyInAddr(t: Task, addr: number, len: number): Uint8Array {
  if (len < 0 || len > SOCKADDR_MAX) throw linuxerr.EINVAL;
  return len === 0 ? new Uint8Array(0) : t.mm.copyIn(addr, len);
}

/** copyOutAddr is move_addr_to_user: the address cut to the guest's *lenAddr, and
 *  its full length stored there. */
export function copyOutAddr(t: Task, addr: number, lenAddr: number, sa: Uint8Array): void {
  const len = t.mm.readI32(lenAddr);
  if (len < 0) throw linuxerr.EINVAL;
  const n = Math.min(len, sa.length);
  if (n > 0) t.mm.copyOut(addr, sa.subarray(0, n));
  t.mm.writeI32(lenAddr, sa.length);
}

// ---- Waiting ----

/** deadline turns a socket timeout (ms, Infinity: none) into an absolute time. */
export function deadline(timeout: number): number {
  return timeout === Infinity ? Infinity : performance.now() + timeout;
}

/** waitSocket sleeps until s's queue reports ev (or a hangup or error); false once
 *  the deadline has passed. Rejects with EINTR when interrupted. */
export async function waitSocket(t: Task, s: Socket, ev: number, until: number): Promise<boolean> {
  const mask = ev | EVENT_HUP | EVENT_ERR;
  if (until === Infinity) {
    await t.block(s.waitQueue, mask);
    return true;
  }
  const left = until - performance.now();
  if (left <= 0) return false;
  return waitAny(t, [{ queue: s.waitQueue, mask }], left);
}

/** runSend drives a send to completion: synchronous unless the family asks to
 *  wait. The request's leftover descriptors are released at the end. */
export function runSend(t: Task, f: FileDescription, s: Socket, req: SendRequest): number | Promise<number> {
  let st: IOStatus;
  try {
    st = s.sendmsg(t, req);
  } catch (e) {
    req.release();
    throw e;
  }
  if (st === 'done') {
    req.release();
    return req.sent;
  }
  return sendSlow(t, f, s, req, deadline(s.opts.sndtimeo));
}

async function sendSlow(t: Task, f: FileDescription, s: Socket, req: SendRequest, until: number): Promise<number> {
  // Hold the file while waiting: another thread's close must not release the socket under us.
  f.incRef();
  try {
    for (;;) {
      let ok: boolean;
      try {
        ok = await waitSocket(t, s, EVENT_OUT, until);
      } catch (e) {
        if (req.sent > 0) return req.sent;
        throw e;
      }
      // Out of time: one last try that may not wait (EAGAIN, or what got through).
      if (!ok) req.nonblock = true;
      if (s.sendmsg(t, req) === 'done') return req.sent;
    }
  } finally {
    req.release();
    f.decRef();
  }
}

/** runRecv drives a receive like runSend. The caller owns req's descriptors
 *  afterwards (and must release them on every path). */
export function runRecv(t: Task, f: FileDescription, s: Socket, req: RecvRequest): RecvRequest | Promise<RecvRequest> {
  if (s.recvmsg(t, req) === 'done') return req;
  return recvSlow(t, f, s, req, deadline(s.opts.rcvtimeo));
}

async function recvSlow(t: Task, f: FileDescription, s: Socket, req: RecvRequest, until: number): Promise<RecvRequest> {
  f.incRef();
  try {
    for (;;) {
      let ok: boolean;
      try {
        ok = await waitSocket(t, s, EVENT_IN, until);
      } catch (e) {
        if (req.copied > 0) return req;
        req.release();
        throw e;
      }
      if (!ok) req.nonblock = true;
      let st: IOStatus;
      try {
        st = s.recvmsg(t, req);
      } catch (e) {
        req.release();
        throw e;
      }
      if (st === 'done') return req;
    }
  } finally {
    f.decRef();
  }
}

/** retryWhileAgain runs op until it stops throwing EAGAIN, sleeping on s's queue for
 *  ev in between (connect, accept); non-blocking callers get the EAGAIN. */
export function retryWhileAgain<T>(t: Task, f: FileDescription, s: Socket, ev: number, nonblock: boolean,
  timeout: number, op: () => T): T | Promise<T> {
  try {
    return op();
  } catch (e) {
    if (e !== linuxerr.EAGAIN || nonblock) throw e;
  }
  const until = deadline(timeout);
  return (async () => {
    f.incRef();
    try {
      for (;;) {
        const ok = await waitSocket(t, s, ev, until);
        try {
          return op();
        } catch (e) {
          if (e !== linuxerr.EAGAIN || !ok) throw e;
        }
      }
    } finally {
      f.decRef();
    }
  })();
}
