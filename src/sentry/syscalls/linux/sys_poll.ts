// poll(2), ppoll(2), select(2) and pselect6(2) over file readiness. A scan
// asks each file for its readiness; when nothing is ready and time remains,
// the task waits on every file's queue at once (plus a timer) and scans again.

import * as linuxerr from '../../../abi/linux/errno.js';
import { O_PATH } from '../../../abi/linux/file.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { setTemporaryMask } from '../../kernel/signals.js';
import type { Task } from '../../kernel/task.js';
import { TaskState } from '../../kernel/task.js';
import type { FileDescription } from '../../vfs/file_description.js';
import {
  EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_NVAL, EVENT_OUT, EVENT_PRI, EVENT_RDHUP,
} from '../../vfs/waiter.js';
import type { WaitQueue } from '../../vfs/waiter.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { supported } from '../syscalls.js';
import { nofile } from './sys_pipe.js';

export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const POLLRDNORM = 0x40;
export const POLLRDBAND = 0x80;
export const POLLWRNORM = 0x100;
export const POLLWRBAND = 0x200;
export const POLLRDHUP = 0x2000;

/** WaitSource is one queue to wait on, with the events of interest. */
export interface WaitSource {
  queue: WaitQueue;
  mask: number;
}

/** The longest delay setTimeout honours. */
const MAX_TIMEOUT_MS = 0x7fff_ffff;

/** waitAny waits until one of sources is notified (true), timeoutMs passes (false;
 *  negative waits forever), or the task is interrupted (rejects with the
 *  interrupter's error, ERESTARTSYS for a signal, else EINTR). */
export function waitAny(t: Task, sources: WaitSource[], timeoutMs: number): Promise<boolean> {
  if (t.state === TaskState.Dead) return Promise.reject(linuxerr.EINTR);
  return new Promise<boolean>((resolve, reject) => {
    const unregister: (() => void)[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const finish = (): void => {
      for (const u of unregister) u();
      if (timer) clearTimeout(timer);
      t.interrupt = null;
    };
    for (const s of sources) {
      unregister.push(s.queue.register(s.mask, () => {
        finish();
        resolve(true);
      }));
    }
    if (timeoutMs >= 0) {
      // Node clamps delays above 2^31-1 ms to 1 ms: wait in steps towards the deadline.
      const deadline = performance.now() + timeoutMs;
      const arm = (): void => {
        const left = deadline - performance.now();
        if (left <= 0) {
          finish();
          resolve(false);
          return;
        }
        timer = setTimeout(arm, Math.min(left, MAX_TIMEOUT_MS));
      };
      timer = setTimeout(arm, Math.min(timeoutMs, MAX_TIMEOUT_MS));
    }
    // A signal passes the restart code (ERESTARTSYS) for signal delivery to resolve.
    t.interrupt = (e) => {
      finish();
      reject(e ?? linuxerr.EINTR);
    };
  });
}

/** eventsToAsk converts poll(2) events into the EVENT_* bits to ask a file for. */
export function eventsToAsk(events: number): number {
  let m = events & (EVENT_IN | EVENT_PRI | EVENT_OUT | EVENT_RDHUP);
  if (events & POLLRDNORM) m |= EVENT_IN;
  if (events & (POLLWRNORM | POLLWRBAND)) m |= EVENT_OUT;
  return m | EVENT_ERR | EVENT_HUP;
}

/** revents converts a file's readiness into what poll reports for events:
 *  readable counts as POLLIN|POLLRDNORM, writable as POLLOUT|POLLWRNORM, and
 *  errors and hangups are always reported. */
export function revents(events: number, ready: number): number {
  let r = ready & (EVENT_IN | EVENT_PRI | EVENT_OUT | EVENT_ERR | EVENT_HUP | EVENT_RDHUP);
  if (ready & EVENT_IN) r |= POLLRDNORM;
  if (ready & EVENT_OUT) r |= POLLWRNORM;
  return r & (events | POLLERR | POLLHUP);
}

/** pollFile returns one fd's revents; POLLNVAL for a bad fd. */
function pollFile(t: Task, fd: number, events: number): number {
  const f = t.fdTable.lookup(fd);
  if (!f || (f.flags & O_PATH)) return EVENT_NVAL;
  return revents(events, f.readiness(eventsToAsk(events)));
}

/** now is a monotonic clock in ms. */
function now(): number {
  return performance.now();
}

/** msFromTimespec converts a relative timeout; EINVAL for invalid ones (negative, nsec out of range). */
function msFromTimespec(sec: number, nsec: number): number {
  if (sec < 0 || nsec < 0 || nsec >= 1e9) throw linuxerr.EINVAL;
  return sec * 1000 + nsec / 1e6;
}

function readTimespec(t: Task, addr: number): number {
  const b = t.mm.copyIn(addr, 16);
  const dv = new DataView(b.buffer);
  return msFromTimespec(Number(dv.getBigInt64(0, true)), Number(dv.getBigInt64(8, true)));
}

function writeTime(t: Task, addr: number, ms: number, usec: boolean): void {
  ms = Math.max(0, ms);
  const sec = Math.floor(ms / 1000);
  const frac = ms - sec * 1000;
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigInt64(0, BigInt(sec), true);
  dv.setBigInt64(8, BigInt(usec ? Math.floor(frac * 1000) : Math.floor(frac * 1e6)), true);
  t.mm.copyOut(addr, b);
}

/** checkSigmask applies ppoll/pselect6's signal mask for the call: signal
 *  delivery puts the old mask back on the way out (after a handler, if the
 *  wait was interrupted). */
function checkSigmask(t: Task, addr: number, size: number): void {
  if (addr === 0) return;
  if (size !== 8) throw linuxerr.EINVAL;
  setTemporaryMask(t, new DataView(t.mm.copyIn(addr, 8).buffer).getBigUint64(0, true));
}

// ---- poll ----

interface PollFd {
  fd: number;
  events: number;
  revents: number;
}

function scanPoll(t: Task, pfds: PollFd[]): number {
  let n = 0;
  for (const p of pfds) {
    p.revents = p.fd < 0 ? 0 : pollFile(t, p.fd, p.events);
    if (p.revents) n++;
  }
  return n;
}

function pollSources(t: Task, pfds: PollFd[]): WaitSource[] {
  const out: WaitSource[] = [];
  for (const p of pfds) {
    if (p.fd < 0) continue;
    const q = t.fdTable.lookup(p.fd)?.impl.waitQueue;
    if (q) out.push({ queue: q, mask: eventsToAsk(p.events) });
  }
  return out;
}

/** waitLoop scans, and while nothing is ready and time remains, waits and rescans.
 *  Synchronous when something is ready at once or the timeout is 0. */
function waitLoop(t: Task, timeoutMs: number, scan: () => number, sources: () => WaitSource[],
  held: () => FileDescription[]): number | Promise<number> {
  const n = scan();
  if (n > 0 || timeoutMs === 0) return n;
  const deadline = timeoutMs < 0 ? Infinity : now() + timeoutMs;
  return (async () => {
    const files = held();
    for (const f of files) f.incRef();
    try {
      for (;;) {
        const left = deadline === Infinity ? -1 : Math.max(0, Math.ceil(deadline - now()));
        // poll and select fail with EINTR once a handler has run, else restart (ERESTARTNOHAND).
        const woken = await waitAny(t, sources(), left).catch((e: unknown) => {
          throw e === linuxerr.ERESTARTSYS ? linuxerr.ERESTARTNOHAND : e;
        });
        const r = scan();
        if (r > 0 || (!woken && now() >= deadline)) return r;
      }
    } finally {
      for (const f of files) f.decRef();
    }
  })();
}

function doPoll(t: Task, addr: number, nfds: number, timeoutMs: number, done: (n: number) => void): number | Promise<number> {
  if (nfds > nofile(t)) throw linuxerr.EINVAL;
  const raw = nfds ? t.mm.copyIn(addr, 8 * nfds) : new Uint8Array(0);
  const dv = new DataView(raw.buffer);
  const pfds: PollFd[] = [];
  for (let i = 0; i < nfds; i++) pfds.push({ fd: dv.getInt32(8 * i, true), events: dv.getUint16(8 * i + 4, true), revents: 0 });
  const writeBack = (n: number): number => {
    for (let i = 0; i < nfds; i++) dv.setUint16(8 * i + 6, pfds[i].revents, true);
    if (nfds) t.mm.copyOut(addr, raw);
    done(n);
    return n;
  };
  const held = (): FileDescription[] => pfds.map((p) => t.fdTable.lookup(p.fd)).filter((f): f is FileDescription => !!f);
  const r = waitLoop(t, timeoutMs, () => scanPoll(t, pfds), () => pollSources(t, pfds), held);
  return typeof r === 'number' ? writeBack(r) : r.then(writeBack);
}

/** poll implements Linux syscall poll(2). */
export function poll(t: Task, a: SyscallArgs): number | Promise<number> {
  const addr = a.ptr(0);
  const nfds = a.uint(1);
  const timeout = a.int(2);
  return doPoll(t, addr, nfds, timeout < 0 ? -1 : timeout, () => {});
}

/** ppoll implements Linux syscall ppoll(2); the remaining time is written back. */
export function ppoll(t: Task, a: SyscallArgs): number | Promise<number> {
  const addr = a.ptr(0);
  const nfds = a.uint(1);
  const tsAddr = a.ptr(2);
  const maskAddr = a.ptr(3);
  const maskSize = a.sizeT(4);
  const timeoutMs = tsAddr ? readTimespec(t, tsAddr) : -1;
  checkSigmask(t, maskAddr, maskSize);
  const start = now();
  return doPoll(t, addr, nfds, timeoutMs, () => {
    if (tsAddr) writeTime(t, tsAddr, timeoutMs - (now() - start), false);
  });
}

// ---- select ----

const IN_SET = EVENT_IN | EVENT_HUP | EVENT_ERR;
const OUT_SET = EVENT_OUT | EVENT_ERR;
const EX_SET = EVENT_PRI;

/** FdSets are select's three bitmaps as 32-bit words. */
interface FdSets {
  n: number;
  in: Uint32Array | null;
  out: Uint32Array | null;
  ex: Uint32Array | null;
}

function readSet(t: Task, addr: number, bytes: number): Uint32Array | null {
  if (!addr) return null;
  const b = t.mm.copyIn(addr, bytes);
  return new Uint32Array(b.buffer, b.byteOffset, bytes / 4);
}

function bit(set: Uint32Array | null, fd: number): boolean {
  return set !== null && (set[fd >>> 5] & (1 << (fd & 31))) !== 0;
}

/** scanSelect fills the result sets; EBADF if a requested fd is not open. */
function scanSelect(t: Task, s: FdSets, res: FdSets): number {
  let count = 0;
  for (const r of [res.in, res.out, res.ex]) r?.fill(0);
  for (let fd = 0; fd < s.n; fd++) {
    const wi = bit(s.in, fd);
    const wo = bit(s.out, fd);
    const we = bit(s.ex, fd);
    if (!wi && !wo && !we) continue;
    const f = t.fdTable.lookup(fd);
    if (!f) throw linuxerr.EBADF;
    const ready = f.readiness((wi ? IN_SET : 0) | (wo ? OUT_SET : 0) | (we ? EX_SET : 0) | EVENT_ERR | EVENT_HUP);
    const m = 1 << (fd & 31);
    if (wi && (ready & IN_SET)) {
      res.in![fd >>> 5] |= m;
      count++;
    }
    if (wo && (ready & OUT_SET)) {
      res.out![fd >>> 5] |= m;
      count++;
    }
    if (we && (ready & EX_SET)) {
      res.ex![fd >>> 5] |= m;
      count++;
    }
  }
  return count;
}

function selectSources(t: Task, s: FdSets): WaitSource[] {
  const out: WaitSource[] = [];
  for (let fd = 0; fd < s.n; fd++) {
    const mask = (bit(s.in, fd) ? IN_SET : 0) | (bit(s.out, fd) ? OUT_SET : 0) | (bit(s.ex, fd) ? EX_SET : 0);
    if (!mask) continue;
    const q = t.fdTable.lookup(fd)?.impl.waitQueue;
    if (q) out.push({ queue: q, mask: mask | EVENT_ERR | EVENT_HUP });
  }
  return out;
}

function doSelect(t: Task, nfds: number, inAddr: number, outAddr: number, exAddr: number, timeoutMs: number,
  done: () => void): number | Promise<number> {
  if (nfds < 0) throw linuxerr.EINVAL;
  const n = Math.min(nfds, nofile(t));
  const bytes = 8 * Math.ceil(n / 64);
  const s: FdSets = { n, in: readSet(t, inAddr, bytes), out: readSet(t, outAddr, bytes), ex: readSet(t, exAddr, bytes) };
  const words = bytes / 4;
  const res: FdSets = {
    n, in: s.in && new Uint32Array(words), out: s.out && new Uint32Array(words), ex: s.ex && new Uint32Array(words),
  };
  const writeBack = (count: number): number => {
    const pairs: [number, Uint32Array | null][] = [[inAddr, res.in], [outAddr, res.out], [exAddr, res.ex]];
    for (const [addr, set] of pairs) if (addr && set) t.mm.copyOut(addr, new Uint8Array(set.buffer));
    done();
    return count;
  };
  const held = (): FileDescription[] => {
    const files: FileDescription[] = [];
    for (let fd = 0; fd < n; fd++) {
      if (!bit(s.in, fd) && !bit(s.out, fd) && !bit(s.ex, fd)) continue;
      const f = t.fdTable.lookup(fd);
      if (f) files.push(f);
    }
    return files;
  };
  let r: number | Promise<number>;
  try {
    r = waitLoop(t, timeoutMs, () => scanSelect(t, s, res), () => selectSources(t, s), held);
  } catch (e) {
    done();
    throw e;
  }
  if (typeof r === 'number') return writeBack(r);
  return r.then(writeBack, (e) => {
    done();
    throw e;
  });
}

/** select implements Linux syscall select(2); the remaining time is written back. */
export function select(t: Task, a: SyscallArgs): number | Promise<number> {
  const nfds = a.int(0);
  const inAddr = a.ptr(1);
  const outAddr = a.ptr(2);
  const exAddr = a.ptr(3);
  const tvAddr = a.ptr(4);
  let timeoutMs = -1;
  if (tvAddr) {
    const b = t.mm.copyIn(tvAddr, 16);
    const dv = new DataView(b.buffer);
    const sec = Number(dv.getBigInt64(0, true));
    const usec = Number(dv.getBigInt64(8, true));
    if (sec < 0 || usec < 0) throw linuxerr.EINVAL;
    // Linux normalizes an oversized tv_usec instead of rejecting it.
    timeoutMs = sec * 1000 + usec / 1000;
  }
  const start = now();
  return doSelect(t, nfds, inAddr, outAddr, exAddr, timeoutMs, () => {
    if (tvAddr) writeTime(t, tvAddr, timeoutMs - (now() - start), true);
  });
}

/** pselect6 implements Linux syscall pselect6(2); the remaining time is written back. */
export function pselect6(t: Task, a: SyscallArgs): number | Promise<number> {
  const nfds = a.int(0);
  const inAddr = a.ptr(1);
  const outAddr = a.ptr(2);
  const exAddr = a.ptr(3);
  const tsAddr = a.ptr(4);
  const sigAddr = a.ptr(5);
  const timeoutMs = tsAddr ? readTimespec(t, tsAddr) : -1;
  if (sigAddr) {
    const b = t.mm.copyIn(sigAddr, 16);
    const dv = new DataView(b.buffer);
    const ss = Number(dv.getBigUint64(0, true));
    checkSigmask(t, ss, Number(dv.getBigUint64(8, true)));
  }
  const start = now();
  return doSelect(t, nfds, inAddr, outAddr, exAddr, timeoutMs, () => {
    if (tsAddr) writeTime(t, tsAddr, timeoutMs - (now() - start), false);
  });
}

export const syscalls: SyscallEntries = {
  [SYSNO.poll]: supported('poll', poll),
  [SYSNO.ppoll]: supported('ppoll', ppoll),
  [SYSNO.select]: supported('select', select),
  [SYSNO.pselect6]: supported('pselect6', pselect6),
};
