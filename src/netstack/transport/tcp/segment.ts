// An inbound TCP segment, parsed.

import type { PacketInfo } from '../../stack/types.js';
import { TCP_FIN, TCP_SYN, type TCPOptions } from '../../header/tcp.js';

export class Segment {
  constructor(
    readonly info: PacketInfo,
    readonly srcPort: number,
    readonly dstPort: number,
    readonly seq: number,
    readonly ack: number,
    readonly flags: number,
    /** window is the raw 16-bit field (unscaled). */
    readonly window: number,
    readonly urgent: number,
    readonly opts: TCPOptions,
    /** payload is the first (usually only) view of the data. */
    public payload: Uint8Array,
    /** extra holds further data views (loopback segments spanning send-queue chunks), or null. */
    public extra: Uint8Array[] | null = null,
  ) {
    let n = payload.length;
    if (extra !== null) for (const v of extra) n += v.length;
    this.dataLen = n;
  }

  /** dataLen is the payload length over all views. */
  dataLen: number;

  /** flatten joins the views into payload (copies; for the rare trimming/out-of-order paths). */
  flatten(): Uint8Array {
    if (this.extra === null) return this.payload;
    const out = new Uint8Array(this.dataLen);
    out.set(this.payload);
    let o = this.payload.length;
    for (const v of this.extra) {
      out.set(v, o);
      o += v.length;
    }
    this.payload = out;
    this.extra = null;
    return out;
  }

  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }

  /** seqLen is the sequence space the segment occupies (data, SYN and FIN). */
  get seqLen(): number {
    return this.dataLen + (this.flags & TCP_SYN ? 1 : 0) + (this.flags & TCP_FIN ? 1 : 0);
  }
}
