// WaitQueue: where blocked tasks wait for a file (or any kernel object) to
// change. Objects never sleep themselves: they throw EAGAIN and notify their
// queue when readiness may have changed; the syscall layer decides to wait.

export const EVENT_IN = 0x1; // POLLIN
export const EVENT_PRI = 0x2;
export const EVENT_OUT = 0x4; // POLLOUT
export const EVENT_ERR = 0x8;
export const EVENT_HUP = 0x10;
export const EVENT_NVAL = 0x20;
export const EVENT_RDHUP = 0x2000;

type Waiter = { mask: number; wake: (events: number) => void };

export class WaitQueue {
  private readonly waiters = new Set<Waiter>();

  /** notify wakes every waiter interested in any of events. Await points: none. */
  notify(events: number): void {
    for (const w of this.waiters) {
      if (w.mask & events) {
        this.waiters.delete(w);
        w.wake(events);
      }
    }
  }

  /** register adds a waiter; the returned function removes it. */
  register(mask: number, wake: (events: number) => void): () => void {
    const w: Waiter = { mask, wake };
    this.waiters.add(w);
    return () => this.waiters.delete(w);
  }

  get size(): number {
    return this.waiters.size;
  }
}
