// VMA bookkeeping: the ordered, non-overlapping set of a guest's mappings
// (Linux's vm_area_struct list). Pure data: nothing here touches the host;
// the MemoryManager applies every change it makes here to the AddressSpace.
// A sorted array is enough: processes have hundreds of mappings, not millions.

import type { HostFile } from '../../platform/platform.js';
import { firstEndingAbove } from '../../platform/ranges.js';
import type { FileDescription } from '../vfs/file_description.js';

/** Vma is one mapping [start, end), page-aligned. */
export interface Vma {
  start: number;
  end: number;
  /** prot is PROT_READ|PROT_WRITE|PROT_EXEC. */
  prot: number;
  /** maxProt bounds what mprotect may grant (no PROT_WRITE on a shared mapping of a read-only fd). */
  maxProt: number;
  shared: boolean;
  growsDown: boolean;
  /** dontFork: MADV_DONTFORK; the host does not copy it into a forked child, nor do we. */
  dontFork: boolean;
  /** file backs the mapping (a reference is held), or null for anonymous memory. */
  file: FileDescription | null;
  /** hostFile is what the host maps, or null when anonymous memory holds a copy of file's data. */
  hostFile: HostFile | null;
  /** offset is the file offset of start (0 for anonymous memory). */
  offset: number;
  /** name is what /proc/[pid]/maps shows for the mapping ('' for plain anonymous memory). */
  name: string;
  /** dev and ino identify the file in /proc/[pid]/maps. */
  dev: number;
  ino: number;
}

/** Range is a half-open address range. */
export interface Range {
  start: number;
  end: number;
}

/** STACK_GUARD_GAP keeps other mappings this far below a grows-down mapping (Linux's stack_guard_gap). */
export const STACK_GUARD_GAP = 256 * 4096;

/** canMerge reports whether b can continue a (adjacent, same attributes, contiguous file offsets). */
export function canMerge(a: Vma, b: Vma): boolean {
  return a.end === b.start && a.prot === b.prot && a.maxProt === b.maxProt && a.shared === b.shared &&
    a.growsDown === b.growsDown && a.dontFork === b.dontFork && a.file === b.file &&
    a.hostFile === b.hostFile && a.name === b.name &&
    (a.file === null || a.offset + (a.end - a.start) === b.offset);
}

/** sliceVma returns a copy of v restricted to [start, end) (within v), with the file offset adjusted. */
export function sliceVma(v: Vma, start: number, end: number): Vma {
  return { ...v, start, end, offset: v.file ? v.offset + (start - v.start) : 0 };
}

/** VmaSet is the sorted set of a guest's mappings. The owner passes callbacks
 *  to keep file references right: onAdd for every Vma object entering the set
 *  as a new piece, onDrop for every piece leaving it. */
export class VmaSet {
  private vmas: Vma[] = [];
  onAdd: (v: Vma) => void = () => {};
  onDrop: (v: Vma) => void = () => {};

  get size(): number {
    return this.vmas.length;
  }

  /** all returns the mappings in address order (do not mutate). */
  all(): readonly Vma[] {
    return this.vmas;
  }

  /** index returns the index of the first vma whose end is above addr. */
  private index(addr: number): number {
    return firstEndingAbove(this.vmas, addr);
  }

  /** find returns the vma containing addr, if any. */
  find(addr: number): Vma | undefined {
    const v = this.vmas[this.index(addr)];
    return v && v.start <= addr ? v : undefined;
  }

  /** next returns the first vma ending above addr (containing it or after it). */
  next(addr: number): Vma | undefined {
    return this.vmas[this.index(addr)];
  }

  /** overlapping returns the vmas intersecting [start, end), in order. */
  overlapping(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.index(start); i < this.vmas.length && this.vmas[i].start < end; i++) out.push(this.vmas[i]);
    return out;
  }

  /** mappedPrefix returns how far [start, end) is mapped without a hole, from start. */
  mappedPrefix(start: number, end: number): number {
    let at = start;
    for (let i = this.index(start); i < this.vmas.length && at < end; i++) {
      const v = this.vmas[i];
      if (v.start > at) break;
      at = v.end;
    }
    return Math.min(at, end);
  }

  /** insert adds v over a range that must be free, merging with equal neighbours. */
  insert(v: Vma): void {
    const i = this.index(v.start);
    if (i < this.vmas.length && this.vmas[i].start < v.end) throw new Error(`vma insert over a mapping at ${v.start.toString(16)}`);
    this.onAdd(v);
    this.vmas.splice(i, 0, v);
    this.mergeAround(i);
  }

  /** remove takes [start, end) out of the set, splitting vmas at the edges.
   *  Returns the removed pieces (already dropped: their references are released). */
  remove(start: number, end: number): Vma[] {
    const removed: Vma[] = [];
    let i = this.index(start);
    while (i < this.vmas.length && this.vmas[i].start < end) {
      const v = this.vmas[i];
      const keepLeft = v.start < start ? sliceVma(v, v.start, start) : null;
      const keepRight = v.end > end ? sliceVma(v, end, v.end) : null;
      const piece = sliceVma(v, Math.max(v.start, start), Math.min(v.end, end));
      const repl: Vma[] = [];
      if (keepLeft) repl.push(keepLeft);
      if (keepRight) repl.push(keepRight);
      // v leaves; its surviving parts enter as new pieces.
      for (const r of repl) this.onAdd(r);
      this.onDrop(v);
      this.vmas.splice(i, 1, ...repl);
      removed.push(piece);
      i += keepLeft ? 1 : 0;
      if (keepRight) break;
    }
    return removed;
  }

  /** splitAt splits the vma strictly containing addr in two, if any. */
  private splitAt(addr: number): void {
    const i = this.index(addr);
    const v = this.vmas[i];
    if (!v || v.start >= addr) return;
    const left = sliceVma(v, v.start, addr);
    const right = sliceVma(v, addr, v.end);
    this.onAdd(left);
    this.onAdd(right);
    this.onDrop(v);
    this.vmas.splice(i, 1, left, right);
  }

  /** update applies change to every mapped part of [start, end) (splitting at
   *  the edges), then merges what became equal. change may mutate the piece's
   *  attributes (not its range, file or offset). */
  update(start: number, end: number, change: (v: Vma) => void): void {
    this.splitAt(start);
    this.splitAt(end);
    const first = this.index(start);
    let last = first;
    for (; last < this.vmas.length && this.vmas[last].start < end; last++) change(this.vmas[last]);
    // Merge from the right so indices below stay valid.
    for (let i = Math.min(last, this.vmas.length - 1); i >= Math.max(first, 1); i--) this.mergePair(i - 1);
  }

  /** mergePair merges vmas[i] and vmas[i+1] when they are equal in kind. */
  private mergePair(i: number): boolean {
    const a = this.vmas[i];
    const b = this.vmas[i + 1];
    if (!a || !b || !canMerge(a, b)) return false;
    const m = { ...a, end: b.end };
    this.onAdd(m);
    this.onDrop(a);
    this.onDrop(b);
    this.vmas.splice(i, 2, m);
    return true;
  }

  /** mergeAround merges vmas[i] with its neighbours when they are equal in kind. */
  private mergeAround(i: number): void {
    this.mergePair(i);
    if (i > 0) this.mergePair(i - 1);
  }

  /** clone copies the set (for fork), keeping pieces keep() accepts; onAdd runs for each. */
  clone(keep: (v: Vma) => boolean, onAdd: (v: Vma) => void, onDrop: (v: Vma) => void): VmaSet {
    const s = new VmaSet();
    s.onAdd = onAdd;
    s.onDrop = onDrop;
    for (const v of this.vmas) {
      if (!keep(v)) continue;
      const c = { ...v };
      onAdd(c);
      s.vmas.push(c);
    }
    return s;
  }

  /** clear drops every mapping. */
  clear(): void {
    for (const v of this.vmas) this.onDrop(v);
    this.vmas = [];
  }

  /** findGap returns the start of a free range of len bytes within [lo, hi),
   *  aligned to align, avoiding the mappings and the blocked ranges, or -1.
   *  topDown picks the highest such range, otherwise the lowest. A grows-down
   *  mapping keeps STACK_GUARD_GAP free below it. */
  findGap(len: number, lo: number, hi: number, topDown: boolean, blocked: readonly Range[] = [], align = 4096): number {
    if (len <= 0 || hi - lo < len) return -1;
    const busy: Range[] = this.vmas.map((v) => ({ start: v.growsDown ? Math.max(0, v.start - STACK_GUARD_GAP) : v.start, end: v.end }));
    for (const b of blocked) if (b.end > lo && b.start < hi) busy.push(b);
    busy.sort((a, b) => a.start - b.start);
    // The free gaps between busy ranges, clipped to [lo, hi).
    const gaps: Range[] = [];
    let at = lo;
    for (const b of busy) {
      if (b.start > at) gaps.push({ start: at, end: Math.min(b.start, hi) });
      at = Math.max(at, b.end);
      if (at >= hi) break;
    }
    if (at < hi) gaps.push({ start: at, end: hi });
    if (topDown) {
      for (let i = gaps.length - 1; i >= 0; i--) {
        const g = gaps[i];
        if (g.end - g.start < len) continue;
        const s = g.end - len;
        const a = s - (s % align);
        if (a >= g.start) return a;
      }
    } else {
      for (const g of gaps) {
        const a = g.start % align === 0 ? g.start : g.start + align - (g.start % align);
        if (a + len <= g.end) return a;
      }
    }
    return -1;
  }

  /** isFree reports whether [start, end) intersects no mapping and no blocked range. */
  isFree(start: number, end: number, blocked: readonly Range[] = []): boolean {
    const v = this.next(start);
    if (v && v.start < end) return false;
    return !blocked.some((b) => b.start < end && b.end > start);
  }
}
