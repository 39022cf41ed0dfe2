// Sender-side estimators: RTT/RTO (RFC 6298 with Linux's 200 ms floor on the
// variance term), NewReno congestion control (RFC 5681, 6582), and the SACK
// scoreboard (RFC 2018/6675, basic).

import type { SackBlock } from '../../header/tcp.js';
import { seqGE, seqGT, seqLE, seqLT, seqMax } from './seqnum.js';

export interface RtoConfig {
  minRTO: number;
  maxRTO: number;
  initialRTO: number;
}

export class RttEstimator {
  srtt = 0;
  rttvar = 0;
  rto: number;
  hasSample = false;
  minRtt = Number.POSITIVE_INFINITY;
  latest = 0;

  constructor(private readonly cfg: RtoConfig) {
    this.rto = cfg.initialRTO;
  }

  /** sample folds in one RTT measurement (ms) and recomputes the RTO. */
  sample(r: number): void {
    r = Math.max(r, 0);
    this.latest = r;
    if (r < this.minRtt) this.minRtt = r;
    if (!this.hasSample) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasSample = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    // Linux: RTO = SRTT + max(4 * RTTVAR, rto_min).
    this.rto = Math.min(this.cfg.maxRTO, this.srtt + Math.max(4 * this.rttvar, this.cfg.minRTO));
  }
}

/** NewReno congestion state (bytes). */
export class NewReno {
  cwnd: number;
  ssthresh = 0x7fffffff;
  inRecovery = false;
  /** recover is snd.max when recovery started (RFC 6582). */
  recover = 0;
  dupAcks = 0;
  private acc = 0;

  constructor(initialCwnd: number) {
    this.cwnd = initialCwnd;
  }

  /** onAck grows the window for acked new bytes outside recovery. flight
   *  is what was in flight before this ACK: as Linux (tcp_is_cwnd_limited,
   *  RFC 7661), a window the sender does not fill does not grow, or an
   *  application-limited flow would report an ever larger cwnd. */
  onAck(acked: number, mss: number, flight = Infinity): void {
    if (2 * flight < this.cwnd) return;
    if (this.cwnd < this.ssthresh) {
      // Slow start: one segment's worth per segment acked (ABC, L = 2 * SMSS).
      this.cwnd += Math.min(acked, 2 * mss);
      return;
    }
    this.acc += acked;
    if (this.acc >= this.cwnd) {
      this.acc -= this.cwnd;
      this.cwnd += mss;
    }
  }

  /** enterRecovery starts fast recovery after the third duplicate ACK. */
  enterRecovery(flight: number, mss: number, sndMax: number): void {
    this.ssthresh = Math.max(flight >> 1, 2 * mss);
    this.cwnd = this.ssthresh + 3 * mss;
    this.inRecovery = true;
    this.recover = sndMax;
    this.acc = 0;
  }

  /** exitRecovery deflates the window on a full ACK. */
  exitRecovery(flight: number, mss: number): void {
    this.cwnd = Math.min(this.ssthresh, Math.max(flight, mss) + mss);
    this.inRecovery = false;
    this.dupAcks = 0;
  }

  /** onTimeout collapses the window to one segment (RFC 5681 3.1). */
  onTimeout(flight: number, mss: number): void {
    this.ssthresh = Math.max(flight >> 1, 2 * mss);
    this.cwnd = mss;
    this.inRecovery = false;
    this.dupAcks = 0;
    this.acc = 0;
  }
}

/** SackScoreboard holds the ranges above snd.una the peer reported as received. */
export class SackScoreboard {
  /** ranges are disjoint, sorted by start. */
  ranges: SackBlock[] = [];
  sacked = 0;

  clear(): void {
    this.ranges = [];
    this.sacked = 0;
  }

  /** update merges blocks that lie inside (una, max]; returns whether anything new was sacked. */
  update(blocks: readonly SackBlock[], una: number, max: number): boolean {
    let changed = false;
    for (const b of blocks) {
      if (!seqGT(b.end, b.start) || seqLE(b.end, una) || seqGT(b.end, max)) continue; // D-SACK or bogus
      const start = seqMax(b.start, una);
      changed = this.insert(start, b.end) || changed;
    }
    return changed;
  }

  private insert(start: number, end: number): boolean {
    const before = this.sacked;
    const out: SackBlock[] = [];
    let placed = false;
    for (const r of this.ranges) {
      if (seqLT(r.end, start)) {
        out.push(r);
      } else if (seqGT(r.start, end)) {
        if (!placed) {
          out.push({ start, end });
          placed = true;
        }
        out.push(r);
      } else {
        // Overlapping or adjacent: absorb into the new range.
        if (seqLT(r.start, start)) start = r.start;
        if (seqGT(r.end, end)) end = r.end;
      }
    }
    if (!placed) out.push({ start, end });
    this.ranges = out;
    this.recount();
    return this.sacked !== before;
  }

  private recount(): void {
    let n = 0;
    for (const r of this.ranges) n += (r.end - r.start) >>> 0;
    this.sacked = n;
  }

  /** ackedTo drops what a cumulative ACK covers. */
  ackedTo(una: number): void {
    if (this.ranges.length === 0) return;
    const out: SackBlock[] = [];
    for (const r of this.ranges) {
      if (seqLE(r.end, una)) continue;
      out.push(seqLT(r.start, una) ? { start: una, end: r.end } : r);
    }
    this.ranges = out;
    this.recount();
  }

  /** highest returns the end of the highest SACKed range, or undefined. */
  highest(): number | undefined {
    return this.ranges.length === 0 ? undefined : this.ranges[this.ranges.length - 1].end;
  }

  /** isSacked reports whether seq is inside a SACKed range. */
  isSacked(seq: number): boolean {
    for (const r of this.ranges) if (seqGE(seq, r.start) && seqLT(seq, r.end)) return true;
    return false;
  }

  /**
   * nextHole returns the first un-SACKed span at or after from that lies
   * below the highest SACKed byte (a presumed loss), or null.
   */
  nextHole(from: number): SackBlock | null {
    let cur = from;
    for (const r of this.ranges) {
      if (seqLE(r.end, cur)) continue;
      if (seqLT(cur, r.start)) return { start: cur, end: r.start };
      cur = r.end;
    }
    return null;
  }
}
