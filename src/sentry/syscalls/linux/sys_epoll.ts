// epoll_create(2), epoll_create1(2), epoll_ctl(2), epoll_wait(2),
// epoll_pwait(2), epoll_pwait2(2); the epoll file is fsimpl/epoll. A wait
// with ready entries returns synchronously; otherwise it sleeps on the epoll
// file's queue (notified whenever an entry becomes ready) and harvests again.

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { EPOLL_CLOEXEC, EPOLL_CTL_DEL, EpollInstance, newEpoll } from '../../fsimpl/epoll/epoll.js';
import type { Harvested } from '../../fsimpl/epoll/epoll.js';
import { setTemporaryMask } from '../../kernel/signals.js';
import type { Task } from '../../kernel/task.js';
import type { FileDescription } from '../../vfs/file_description.js';
import { EVENT_IN } from '../../vfs/waiter.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { supported } from '../syscalls.js';
import { waitAny } from './sys_poll.js';
import { nofile } from './sys_pipe.js';

/** sizeof(struct epoll_event): packed on x86-64 (u32 events, u64 data). */
const EVENT_SIZE = 12;
/** Linux's EP_MAX_EVENTS. */
const MAX_EVENTS = Math.floor(0x7fff_ffff / EVENT_SIZE);

function create(t: Task, flags: number): number {
  if (flags & ~EPOLL_CLOEXEC) throw linuxerr.EINVAL;
  const f = newEpoll();
  try {
    return t.fdTable.newFD(f, (flags & EPOLL_CLOEXEC) !== 0, 0, nofile(t));
  } finally {
    f.decRef(); // the table holds the reference now (or nobody does)
  }
}

/** epollCreate implements Linux syscall epoll_create(2). */
export function epollCreate(t: Task, a: SyscallArgs): number {
  if (a.int(0) <= 0) throw linuxerr.EINVAL;
  return create(t, 0);
}

/** epollCreate1 implements Linux syscall epoll_create1(2). */
export function epollCreate1(t: Task, a: SyscallArgs): number {
  return create(t, a.int(0));
}

/** epollOf returns epfd's epoll, EBADF/EINVAL as Linux. */
function epollOf(t: Task, epfd: number): [FileDescription, EpollInstance] {
  const f = t.fdTable.get(epfd);
  if (!(f.impl instanceof EpollInstance)) throw linuxerr.EINVAL;
  return [f, f.impl];
}

/** epollCtl implements Linux syscall epoll_ctl(2). */
export function epollCtl(t: Task, a: SyscallArgs): number {
  const epfd = a.int(0);
  const op = a.int(1);
  const fd = a.int(2);
  const evAddr = a.ptr(3);
  let events = 0;
  let data = 0n;
  if (op !== EPOLL_CTL_DEL) {
    const dv = new DataView(t.mm.copyIn(evAddr, EVENT_SIZE).buffer);
    events = dv.getUint32(0, true);
    data = dv.getBigUint64(4, true);
  }
  const ef = t.fdTable.get(epfd);
  const target = t.fdTable.get(fd);
  if (!(ef.impl instanceof EpollInstance)) {
    // Linux checks pollability before the epoll-ness of epfd.
    if (target.impl.readiness === undefined) throw linuxerr.EPERM;
    throw linuxerr.EINVAL;
  }
  ef.impl.ctl(ef, op, fd, target, events, data);
  return 0;
}

/** copyEvents writes harvested events; EFAULT puts them back (Linux keeps them ready). */
function copyEvents(t: Task, ep: EpollInstance, addr: number, hs: Harvested[]): number {
  if (hs.length === 0) return 0;
  const b = new Uint8Array(hs.length * EVENT_SIZE);
  const dv = new DataView(b.buffer);
  hs.forEach((h, i) => {
    dv.setUint32(i * EVENT_SIZE, h.events >>> 0, true);
    dv.setBigUint64(i * EVENT_SIZE + 4, h.data, true);
  });
  try {
    t.mm.copyOut(addr, b);
  } catch (e) {
    ep.unharvest(hs);
    throw e;
  }
  return hs.length;
}

/** doWait is epoll_wait's body; timeoutMs < 0 waits forever. Synchronous when events are ready. */
function doWait(t: Task, epfd: number, addr: number, max: number, timeoutMs: number): number | Promise<number> {
  if (max <= 0 || max > MAX_EVENTS) throw linuxerr.EINVAL;
  const [f, ep] = epollOf(t, epfd);
  const n = copyEvents(t, ep, addr, ep.harvest(max));
  if (n > 0 || timeoutMs === 0) return n;
  const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
  f.incRef();
  return (async () => {
    try {
      for (;;) {
        const left = deadline === Infinity ? -1 : Math.max(0, Math.ceil(deadline - performance.now()));
        // A handler makes the wait fail with EINTR; otherwise it restarts.
        const woken = await waitAny(t, [{ queue: ep.waitQueue, mask: EVENT_IN }], left).catch((e: unknown) => {
          throw e === linuxerr.ERESTARTSYS ? linuxerr.ERESTARTNOHAND : e;
        });
        const r = copyEvents(t, ep, addr, ep.harvest(max));
        if (r > 0 || (!woken && performance.now() >= deadline)) return r;
      }
    } finally {
      f.decRef();
    }
  })();
}

/** applySigmask installs epoll_pwait's temporary signal mask. */
function applySigmask(t: Task, addr: number, size: number): void {
  if (addr === 0) return;
  if (size !== 8) throw linuxerr.EINVAL;
  setTemporaryMask(t, new DataView(t.mm.copyIn(addr, 8).buffer).getBigUint64(0, true));
}

/** epollWait implements Linux syscall epoll_wait(2). */
export function epollWait(t: Task, a: SyscallArgs): number | Promise<number> {
  const timeout = a.int(3);
  return doWait(t, a.int(0), a.ptr(1), a.int(2), timeout < 0 ? -1 : timeout);
}

/** epollPwait implements Linux syscall epoll_pwait(2). */
export function epollPwait(t: Task, a: SyscallArgs): number | Promise<number> {
  const epfd = a.int(0);
  const addr = a.ptr(1);
  const max = a.int(2);
  const timeout = a.int(3);
  applySigmask(t, a.ptr(4), a.sizeT(5));
  return doWait(t, epfd, addr, max, timeout < 0 ? -1 : timeout);
}

/** epollPwait2 implements Linux syscall epoll_pwait2(2): the timeout is a timespec (NULL: forever). */
export function epollPwait2(t: Task, a: SyscallArgs): number | Promise<number> {
  const epfd = a.int(0);
  const addr = a.ptr(1);
  const max = a.int(2);
  const tsAddr = a.ptr(3);
  const maskAddr = a.ptr(4);
  const maskSize = a.sizeT(5);
  let timeoutMs = -1;
  if (tsAddr) {
    const dv = new DataView(t.mm.copyIn(tsAddr, 16).buffer);
    const sec = Number(dv.getBigInt64(0, true));
    const nsec = Number(dv.getBigInt64(8, true));
    if (sec < 0 || nsec < 0 || nsec >= 1e9) throw linuxerr.EINVAL;
    timeoutMs = sec * 1000 + nsec / 1e6;
  }
  applySigmask(t, maskAddr, maskSize);
  return doWait(t, epfd, addr, max, timeoutMs);
}

export const syscalls: SyscallEntries = {
  [SYSNO.epoll_create]: supported('epoll_create', epollCreate),
  [SYSNO.epoll_create1]: supported('epoll_create1', epollCreate1),
  [SYSNO.epoll_ctl]: supported('epoll_ctl', epollCtl),
  [SYSNO.epoll_wait]: supported('epoll_wait', epollWait),
  [SYSNO.epoll_pwait]: supported('epoll_pwait', epollPwait),
  [SYSNO.epoll_pwait2]: supported('epoll_pwait2', epollPwait2),
};
