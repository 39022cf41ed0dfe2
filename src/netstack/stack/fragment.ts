// IP fragment reassembly, shared by IPv4 and IPv6. Fragments of one datagram
// (same key) are collected until the last one (more=false) fixed the length
// and no hole remains. Overlapping fragments invalidate the datagram (RFC
// 5722; Linux does the same for IPv4), exact duplicates are ignored.

import type { Clock } from '../clock.js';

export interface ReassemblyConfig {
  /** timeoutMs: incomplete datagrams are dropped after this long (Linux ipfrag_time: 30 s). */
  timeoutMs: number;
  /** maxBytes bounds memory held by incomplete datagrams (Linux ipfrag_high_thresh: 4 MiB). */
  maxBytes: number;
}

interface Frag {
  first: number;
  end: number;
  data: Uint8Array;
}

interface Datagram {
  frags: Frag[];
  total: number; // -1 until the last fragment arrived
  received: number;
  bad: boolean;
  timer: unknown;
}

export class Reassembler {
  private readonly pending = new Map<string, Datagram>();
  private bytes = 0;
  readonly stats = { reassembled: 0, timeouts: 0, dropped: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly config: ReassemblyConfig = { timeoutMs: 30000, maxBytes: 4 << 20 },
  ) {}

  /**
   * add records one fragment (offset in bytes) and returns the whole
   * payload when the datagram is complete, else null.
   */
  add(key: string, offset: number, more: boolean, data: Uint8Array): Uint8Array | null {
    const end = offset + data.length;
    if ((more && (data.length === 0 || (data.length & 7) !== 0)) || end > 65535) {
      this.stats.dropped++;
      return null;
    }
    let d = this.pending.get(key);
    if (d === undefined) {
      if (this.bytes + data.length > this.config.maxBytes) {
        this.stats.dropped++;
        return null;
      }
      d = { frags: [], total: -1, received: 0, bad: false, timer: undefined };
      const dd = d;
      d.timer = this.clock.setTimeout(() => {
        if (this.pending.get(key) === dd) {
          this.stats.timeouts++;
          this.forget(key, dd);
        }
      }, this.config.timeoutMs);
      this.pending.set(key, d);
    }
    if (d.bad) return null;
    if (!more) {
      if ((d.total >= 0 && d.total !== end) || end < d.received) {
        this.invalidate(d);
        return null;
      }
      d.total = end;
    } else if (d.total >= 0 && end > d.total) {
      this.invalidate(d);
      return null;
    }
    // Insert in order; overlapping (not identical) fragments poison the datagram.
    let i = 0;
    while (i < d.frags.length && d.frags[i].first < offset) i++;
    const prev = d.frags[i - 1];
    const next = d.frags[i];
    if (next !== undefined && next.first === offset && next.end === end) return null; // duplicate
    if ((prev !== undefined && prev.end > offset) || (next !== undefined && next.first < end)) {
      this.invalidate(d);
      return null;
    }
    d.frags.splice(i, 0, { first: offset, end, data });
    d.received += data.length;
    this.bytes += data.length;
    if (d.total < 0 || d.received !== d.total) return null;
    const out = new Uint8Array(d.total);
    for (const f of d.frags) out.set(f.data, f.first);
    this.forget(key, d);
    this.stats.reassembled++;
    return out;
  }

  private invalidate(d: Datagram): void {
    // Keep the key until the timer so later fragments of it are dropped too.
    d.bad = true;
    this.bytes -= d.received;
    d.received = 0;
    d.frags = [];
    this.stats.dropped++;
  }

  private forget(key: string, d: Datagram): void {
    this.clock.clearTimeout(d.timer);
    this.bytes -= d.received;
    this.pending.delete(key);
  }

  /** size is the number of incomplete datagrams. */
  get size(): number {
    return this.pending.size;
  }
}
