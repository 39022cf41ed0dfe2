// Which parts of a stub's address space are backed by the guest memory file
// (memfile.ts), at which file offset, and how the stub maps them. The
// Sentry copies to and from these parts through its own mapping of the file.
// A sorted array, as the VMA set: hundreds of pieces, not millions.

import { firstEndingAbove } from '../ranges.js';

/** Piece is one range of guest addresses backed by the memory file. */
export interface Piece {
  start: number;
  end: number;
  /** off is the memory file offset of start. */
  off: number;
  prot: number;
  /** priv: the stub maps it MAP_PRIVATE (since a fork), so its writes may
   *  be in private copies the Sentry cannot see: copy through the host. */
  priv: boolean;
  /** dontFork (MADV_DONTFORK) and wipe (MADV_WIPEONFORK) say what a fork does with it. */
  dontFork: boolean;
  wipe: boolean;
}

export function slicePiece(p: Piece, start: number, end: number): Piece {
  return { ...p, start, end, off: p.off + (start - p.start) };
}

export class AnonMap {
  private ps: Piece[] = [];

  all(): readonly Piece[] {
    return this.ps;
  }

  get size(): number {
    return this.ps.length;
  }

  private index(addr: number): number {
    return firstEndingAbove(this.ps, addr);
  }

  /** find returns the piece holding addr. */
  find(addr: number): Piece | undefined {
    const p = this.ps[this.index(addr)];
    return p && p.start <= addr ? p : undefined;
  }

  /** next returns the first piece ending above addr (holding it or after it). */
  next(addr: number): Piece | undefined {
    return this.ps[this.index(addr)];
  }

  /** overlapping returns the pieces meeting [start, end), clipped to it. */
  overlapping(start: number, end: number): Piece[] {
    const out: Piece[] = [];
    for (let i = this.index(start); i < this.ps.length && this.ps[i].start < end; i++) {
      const p = this.ps[i];
      out.push(p.start >= start && p.end <= end ? { ...p } : slicePiece(p, Math.max(p.start, start), Math.min(p.end, end)));
    }
    return out;
  }

  /** remove takes [start, end) out and returns the removed parts. */
  remove(start: number, end: number): Piece[] {
    const out = this.overlapping(start, end);
    if (out.length === 0) return out;
    const i = this.index(start);
    let j = i;
    while (j < this.ps.length && this.ps[j].start < end) j++;
    const repl: Piece[] = [];
    const first = this.ps[i];
    const last = this.ps[j - 1];
    if (first.start < start) repl.push(slicePiece(first, first.start, start));
    if (last.end > end) repl.push(slicePiece(last, end, last.end));
    this.ps.splice(i, j - i, ...repl);
    return out;
  }

  /** insert adds p over a free range, merging with neighbours that continue it. */
  insert(p: Piece): void {
    const i = this.index(p.start);
    if (i < this.ps.length && this.ps[i].start < p.end) throw new Error('anon piece insert over a piece');
    this.ps.splice(i, 0, p);
    if (i + 1 < this.ps.length && joins(p, this.ps[i + 1])) {
      p.end = this.ps[i + 1].end;
      this.ps.splice(i + 1, 1);
    }
    if (i > 0 && joins(this.ps[i - 1], p)) {
      this.ps[i - 1].end = p.end;
      this.ps.splice(i, 1);
    }
  }

  /** update applies change to the parts of [start, end), splitting at its edges. */
  update(start: number, end: number, change: (p: Piece) => void): void {
    const parts = this.remove(start, end);
    for (const p of parts) {
      change(p);
      this.insert(p);
    }
  }

  clear(): Piece[] {
    const out = this.ps;
    this.ps = [];
    return out;
  }
}

function joins(a: Piece, b: Piece): boolean {
  return a.end === b.start && a.off + (a.end - a.start) === b.off && a.prot === b.prot && a.priv === b.priv &&
    a.dontFork === b.dontFork && a.wipe === b.wipe;
}
