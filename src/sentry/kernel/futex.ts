// Futexes: wait queues keyed by a guest address. Private futexes are keyed by
// (address space, address); shared ones by the same key for now, so sharing
// across fork() is not yet recognised (issue: POSIX process semantics).

import type { MemoryManager } from '../mm/mm.js';

interface Waiter {
  bitset: number;
  wake: () => void;
}

export class FutexTable {
  private readonly queues = new Map<MemoryManager, Map<number, Waiter[]>>();

  /** enqueue adds a waiter on (mm, addr); the returned function removes it. */
  enqueue(mm: MemoryManager, addr: number, bitset: number, wake: () => void): () => void {
    let byAddr = this.queues.get(mm);
    if (!byAddr) this.queues.set(mm, (byAddr = new Map()));
    let q = byAddr.get(addr);
    if (!q) byAddr.set(addr, (q = []));
    const w: Waiter = { bitset, wake };
    q.push(w);
    return () => this.remove(mm, addr, w);
  }

  private remove(mm: MemoryManager, addr: number, w: Waiter): void {
    const byAddr = this.queues.get(mm);
    const q = byAddr?.get(addr);
    if (!byAddr || !q) return;
    const i = q.indexOf(w);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) byAddr.delete(addr);
    if (byAddr.size === 0) this.queues.delete(mm);
  }

  /** wake wakes up to n waiters on (mm, addr) whose bitset matches; returns how many. */
  wake(mm: MemoryManager, addr: number, n: number, bitset = 0xffffffff): number {
    const q = this.queues.get(mm)?.get(addr);
    if (!q) return 0;
    let woken = 0;
    for (const w of [...q]) {
      if (woken >= n) break;
      if ((w.bitset & bitset) === 0) continue;
      this.remove(mm, addr, w);
      w.wake();
      woken++;
    }
    return woken;
  }

  /** requeue wakes up to nWake waiters, then moves up to nMove others to addr2. */
  requeue(mm: MemoryManager, addr: number, addr2: number, nWake: number, nMove: number): number {
    const woken = this.wake(mm, addr, nWake);
    const q = this.queues.get(mm)?.get(addr);
    if (!q || nMove <= 0) return woken;
    const moving = q.splice(0, nMove);
    if (q.length === 0) this.queues.get(mm)!.delete(addr);
    for (const w of moving) {
      const byAddr = this.queues.get(mm)!;
      let q2 = byAddr.get(addr2);
      if (!q2) byAddr.set(addr2, (q2 = []));
      q2.push(w);
    }
    return woken + moving.length;
  }
}
