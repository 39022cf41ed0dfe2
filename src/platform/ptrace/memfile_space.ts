// The offset space of the guest memory file: which ranges hold guest pages
// and how many host mappings refer to each (a forked child's private copy
// and its parent both do). Pure bookkeeping; memfile.ts frees the pages of
// a range whose count reaches zero.
//
// Allocation bumps upward and leaves room after each new range, so a
// mapping that grows (brk, a stack, mremap) usually continues its range and
// the host keeps it one VMA. The offset space is virtual (the file is
// sparse), so the room costs nothing; once the top is reached, freed ranges
// are reused first-fit.

import { firstEndingAbove } from '../ranges.js';

const PAGE = 4096;

/** Room left after a new range for it to grow into: its own size, up to this. */
const MAX_ROOM = 64 * 1024 * 1024;

interface Seg {
  start: number;
  end: number;
  refs: number;
}

export class MemFileSpace {
  readonly size: number;
  /** Referenced ranges, sorted, non-overlapping, refs > 0. */
  private segs: Seg[] = [];
  /** Freed ranges below top, sorted and coalesced. */
  private free: { start: number; end: number }[] = [];
  /** Everything at or above top is unused. */
  private top = 0;
  /** release is called for each range whose count reached zero (after it left the set). */
  onRelease: (off: number, len: number) => void = () => {};

  constructor(size: number) {
    this.size = size;
  }

  /** alloc returns the offset of a fresh range of len bytes (count 1), at
   *  prefer when that range is unused, or -1 when the space is full. */
  alloc(len: number, prefer = -1): number {
    if (len <= 0 || len % PAGE !== 0) throw new Error(`memfile alloc of ${len}`);
    let off = -1;
    if (prefer >= 0 && prefer % PAGE === 0 && this.isUnused(prefer, prefer + len)) off = prefer;
    if (off < 0 && this.top + len <= this.size) {
      off = this.top;
    }
    if (off < 0) {
      const i = this.free.findIndex((f) => f.end - f.start >= len);
      if (i < 0) return -1;
      off = this.free[i].start;
    }
    this.take(off, off + len);
    if (off + len > this.top) {
      // Free the gap a preferred range skipped, then leave room to grow.
      if (off > this.top) this.addFree(this.top, off);
      this.top = Math.min(this.size, off + len + Math.min(len, MAX_ROOM));
      this.addFree(off + len, this.top);
    }
    this.addRef(off, off + len, 1);
    return off;
  }

  /** isUnused reports whether [start, end) is inside the space and holds no range. */
  isUnused(start: number, end: number): boolean {
    if (start < 0 || end > this.size) return false;
    if (start >= this.top) return true;
    const f = this.free.find((x) => x.start <= start && x.end > start);
    if (!f) return false;
    // Free up to top, and nothing above it is used.
    return f.end >= end || f.end === this.top;
  }

  /** incRef/decRef change the count of every page of [off, off+len). */
  incRef(off: number, len: number): void {
    this.addRef(off, off + len, 1);
  }

  decRef(off: number, len: number): void {
    this.addRef(off, off + len, -1);
  }

  /** refs returns the count at off (for tests and checks). */
  refs(off: number): number {
    const s = this.segs[this.index(off)];
    return s && s.start <= off ? s.refs : 0;
  }

  /** used returns the bytes referenced. */
  used(): number {
    let n = 0;
    for (const s of this.segs) n += s.end - s.start;
    return n;
  }

  /** index returns the first segment ending above off. */
  private index(off: number): number {
    return firstEndingAbove(this.segs, off);
  }

  /** addRef adds d to the count of [start, end); a fresh range (d = 1 over no segment) is created. */
  private addRef(start: number, end: number, d: number): void {
    let i = this.index(start);
    let at = start;
    const released: { start: number; end: number }[] = [];
    while (at < end) {
      const s = this.segs[i];
      if (!s || s.start >= end || s.start > at) {
        // A hole: only a fresh range may be counted into it.
        const holeEnd = s && s.start < end ? s.start : end;
        if (d < 0) throw new Error(`memfile decRef of unreferenced [${at}, ${holeEnd})`);
        this.segs.splice(i, 0, { start: at, end: holeEnd, refs: d });
        i++;
        at = holeEnd;
        continue;
      }
      // Split s at the edges of [at, end).
      if (s.start < at) {
        this.segs.splice(i, 0, { start: s.start, end: at, refs: s.refs });
        s.start = at;
        i++;
      }
      if (s.end > end) {
        this.segs.splice(i + 1, 0, { start: end, end: s.end, refs: s.refs });
        s.end = end;
      }
      s.refs += d;
      at = s.end;
      if (s.refs === 0) {
        released.push({ start: s.start, end: s.end });
        this.segs.splice(i, 1);
      } else {
        i++;
      }
    }
    this.coalesce(Math.max(0, this.index(start) - 1), this.index(end) + 1);
    for (const r of released) {
      this.addFree(r.start, r.end);
      this.onRelease(r.start, r.end - r.start);
    }
  }

  /** coalesce merges equal neighbours among segs[from, to]. */
  private coalesce(from: number, to: number): void {
    for (let i = Math.min(to, this.segs.length - 1); i > from; i--) {
      const a = this.segs[i - 1];
      const b = this.segs[i];
      if (a.end === b.start && a.refs === b.refs) {
        a.end = b.end;
        this.segs.splice(i, 1);
      }
    }
  }

  /** take removes [start, end) from the free list (it must be unused). */
  private take(start: number, end: number): void {
    if (start >= this.top) return;
    const i = this.free.findIndex((f) => f.start <= start && f.end >= Math.min(end, this.top));
    if (i < 0) throw new Error(`memfile take of a used range [${start}, ${end})`);
    const f = this.free[i];
    const repl: { start: number; end: number }[] = [];
    if (f.start < start) repl.push({ start: f.start, end: start });
    if (f.end > end) repl.push({ start: end, end: f.end });
    this.free.splice(i, 1, ...repl);
  }

  /** addFree returns [start, end) to the free list, coalescing. */
  private addFree(start: number, end: number): void {
    if (start >= end) return;
    let i = 0;
    while (i < this.free.length && this.free[i].start < start) i++;
    this.free.splice(i, 0, { start, end });
    if (i + 1 < this.free.length && this.free[i].end === this.free[i + 1].start) {
      this.free[i].end = this.free[i + 1].end;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].end === this.free[i].start) {
      this.free[i - 1].end = this.free[i].end;
      this.free.splice(i, 1);
      i--;
    }
  }
}
