// The receiver's out-of-order queue: segments above rcv.nxt, kept disjoint
// and sorted, and the SACK blocks describing them (RFC 2018: the block with
// the most recently received segment first).

import { isPooled } from '../../buffer.js';
import type { SackBlock } from '../../header/tcp.js';
import { seqAdd, seqGT, seqLE, seqLT } from './seqnum.js';

interface Piece {
  seq: number;
  end: number;
  data: Uint8Array;
}

export class OutOfOrderQueue {
  private pieces: Piece[] = [];
  bytes = 0;
  /** finSeq is the sequence number of a FIN seen out of order, or -1. */
  finSeq = -1;
  private lastSeq = 0;

  get empty(): boolean {
    return this.pieces.length === 0 && this.finSeq < 0;
  }

  clear(): void {
    this.pieces = [];
    this.bytes = 0;
    this.finSeq = -1;
  }

  /** insert stores data at seq (filling only gaps) and a FIN after it if fin. */
  insert(seq: number, data: Uint8Array, fin: boolean): void {
    const end = seqAdd(seq, data.length);
    if (fin) this.finSeq = end;
    this.lastSeq = seq;
    if (data.length === 0) return;
    const add: Piece[] = [];
    let cur = seq;
    for (const p of this.pieces) {
      if (seqLE(p.end, cur) || seqLE(end, p.seq)) continue;
      if (seqLT(cur, p.seq)) add.push(this.slice(seq, data, cur, p.seq));
      if (seqGT(p.end, cur)) cur = p.end;
      if (!seqLT(cur, end)) break;
    }
    if (seqLT(cur, end)) add.push(this.slice(seq, data, cur, end));
    for (const a of add) {
      let i = this.pieces.length;
      while (i > 0 && seqGT(this.pieces[i - 1].seq, a.seq)) i--;
      this.pieces.splice(i, 0, a);
      this.bytes += a.data.length;
    }
  }

  private slice(base: number, data: Uint8Array, from: number, to: number): Piece {
    const a = (from - base) >>> 0;
    const b = (to - base) >>> 0;
    // Pooled send blocks are reused once their counted holders let go: keep a copy.
    const v = data.subarray(a, b);
    return { seq: from, end: to, data: isPooled(v) ? v.slice() : v };
  }

  /**
   * popReady removes the data that now follows rcvNxt in order and returns
   * it (pieces to append to the stream), leaving overlap trimmed.
   */
  popReady(rcvNxt: number, out: Uint8Array[]): number {
    while (this.pieces.length > 0 && seqLE(this.pieces[0].seq, rcvNxt)) {
      const p = this.pieces.shift()!;
      this.bytes -= p.data.length;
      if (seqLE(p.end, rcvNxt)) continue;
      out.push(p.data.subarray((rcvNxt - p.seq) >>> 0));
      rcvNxt = p.end;
    }
    return rcvNxt;
  }

  /** sackBlocks returns up to max blocks (contiguous pieces merged). */
  sackBlocks(max: number): SackBlock[] {
    const ranges: SackBlock[] = [];
    for (const p of this.pieces) {
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last.end === p.seq) last.end = p.end;
      else ranges.push({ start: p.seq, end: p.end });
    }
    if (ranges.length === 0) return ranges;
    let first = ranges.findIndex((r) => seqLE(r.start, this.lastSeq) && seqLT(this.lastSeq, r.end));
    if (first < 0) first = ranges.length - 1;
    const out = [ranges[first]];
    for (let i = ranges.length - 1; i >= 0 && out.length < max; i--) if (i !== first) out.push(ranges[i]);
    return out;
  }
}
