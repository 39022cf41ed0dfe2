// An in-memory cable between two FrameLinks, for tests: each direction can
// drop, delay (and so reorder) or duplicate frames through a filter, and
// counts what it carried. Delays use the injected clock.

import type { Clock } from '../clock.js';
import type { FrameLink } from './endpoint.js';

/** Verdict: 'pass' delivers now, 'drop' loses the frame, a number delays it by that many ms. */
export type Verdict = 'pass' | 'drop' | number;

/** ChannelFilter decides the fate of the index-th frame (0-based, per direction) sent from side `from`. */
export type ChannelFilter = (frame: Uint8Array, from: 0 | 1, index: number) => Verdict;

export interface ChannelStats {
  sent: number;
  dropped: number;
  delayed: number;
  delivered: number;
  bytes: number;
}

/** ChannelLink is one end of a channel. */
export class ChannelLink implements FrameLink {
  private onFrame: ((frame: Uint8Array) => void) | null = null;
  peer!: ChannelLink;
  readonly stats: ChannelStats = { sent: 0, dropped: 0, delayed: 0, delivered: 0, bytes: 0 };
  /** tap sees every frame this side sends (before the filter). */
  tap: ((frame: Uint8Array) => void) | null = null;

  constructor(
    private readonly channel: Channel,
    readonly side: 0 | 1,
    readonly mtu: number,
  ) {}

  attach(onFrame: ((frame: Uint8Array) => void) | null): void {
    this.onFrame = onFrame;
  }

  writeFrame(frame: Uint8Array): void {
    const st = this.stats;
    const index = st.sent++;
    this.tap?.(frame);
    const v = this.channel.filter ? this.channel.filter(frame, this.side, index) : 'pass';
    if (v === 'drop') {
      st.dropped++;
      return;
    }
    if (v === 'pass' || v <= 0) {
      this.peer.receive(frame);
      return;
    }
    st.delayed++;
    this.channel.clock.setTimeout(() => this.peer.receive(frame), v);
  }

  private receive(frame: Uint8Array): void {
    this.peer.stats.delivered++;
    this.peer.stats.bytes += frame.length;
    this.onFrame?.(frame);
  }
}

/** Channel is a cable with two ends, a and b. */
export class Channel {
  readonly a: ChannelLink;
  readonly b: ChannelLink;
  filter: ChannelFilter | null;

  constructor(readonly clock: Clock, opts: { mtu?: number; filter?: ChannelFilter } = {}) {
    const mtu = opts.mtu ?? 1500;
    this.filter = opts.filter ?? null;
    this.a = new ChannelLink(this, 0, mtu);
    this.b = new ChannelLink(this, 1, mtu);
    this.a.peer = this.b;
    this.b.peer = this.a;
  }
}
