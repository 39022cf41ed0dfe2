// Readiness of the host sockets behind --network=host guest sockets. One
// epoll set (native/src/net.c) holds every host socket, edge-triggered: an
// event says "this socket's state changed", and the socket's waitQueue is
// notified so waiters re-check with a poll(2) of the fd. libuv watches the set,
// so a Sentry with every task asleep wakes as soon as a host socket changes;
// the hostinet operations also drain it synchronously (drainNotifier), so a
// peer inside the sandbox wakes without waiting for an event loop turn; and a
// waker thread (native/src/net.c) interrupts the run loop's bounded ptrace
// waits when events stay undrained while other guest threads run.

import { native } from '../../../platform/ptrace/native.js';
import { WAKE_SIGNAL } from '../../../platform/ptrace/ptrace.js';
import type { WaitQueue } from '../../vfs/waiter.js';

const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
/** EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP; errors and hangups always report. */
const WATCHED = 0x1 | 0x2 | 0x4 | 0x2000;
/** The events a drain collects per epoll_wait. */
const BATCH = 128;

let epfd = -1;
const watched = new Map<number, WaitQueue>();
const events = new Int32Array(2 * BATCH);

function ensure(): number {
  if (epfd < 0) {
    const r = native.netNotifier(() => {
      try {
        drainNotifier();
      } catch (e) {
        // An exception left pending in the native callback would stop every later wake-up.
        process.stderr.write(`hostinet: readiness callback failed: ${String(e)}\n`);
      }
    });
    if (r < 0) throw new Error(`hostinet: cannot make the readiness notifier (errno ${-r})`);
    epfd = r;
    // Without the waker, a host event waits for the run loop's next event loop
    // turn (up to its poll bound, 10 ms) while other guest threads run.
    const w = native.netNotifierWaker(epfd, WAKE_SIGNAL);
    if (w < 0) process.stderr.write(`hostinet: no waker thread (errno ${-w}): host events may wait up to 10 ms\n`);
  }
  return epfd;
}

/** watch starts reporting fd's readiness changes to q; returns -errno on failure. */
export function watch(fd: number, q: WaitQueue): number {
  const r = native.netNotifierCtl(ensure(), EPOLL_CTL_ADD, fd, WATCHED);
  if (r >= 0) watched.set(fd, q);
  return r;
}

/** unwatch stops reporting fd (call before closing it). */
export function unwatch(fd: number): void {
  if (!watched.delete(fd) || epfd < 0) return;
  native.netNotifierCtl(epfd, EPOLL_CTL_DEL, fd, 0);
}

/** drainNotifier delivers every pending event to its socket's waiters, without waiting. */
export function drainNotifier(): void {
  if (epfd < 0) return;
  for (;;) {
    const n = native.netNotifierWait(epfd, events);
    if (n <= 0) return;
    for (let i = 0; i < n; i++) {
      // epoll's bits are poll's, which are the waiter's EVENT_* bits.
      watched.get(events[2 * i])?.notify(events[2 * i + 1]);
    }
    if (n < BATCH) return;
  }
}

/** watchedCount is how many host sockets are watched (tests, diagnostics). */
export function watchedCount(): number {
  return watched.size;
}
