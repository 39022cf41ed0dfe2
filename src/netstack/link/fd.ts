// FdFrameLink moves Ethernet frames through a host file descriptor that
// carries one frame per read(2)/write(2): a TAP device opened with IFF_NO_PI,
// or an AF_PACKET SOCK_RAW socket bound to an interface.
//
// Reads run in libuv's thread pool (fs.read), one outstanding at a time, so
// an idle link costs one parked pool thread and no polling; each completion
// delivers the frame on the event loop, where the stack runs. Writes are
// synchronous: both kinds of fd take a frame without blocking (a full TAP
// queue drops it, as a wire would).
//
// With vnetHdr (an AF_PACKET socket with PACKET_VNET_HDR), every frame read
// or written is preceded by a virtio_net_hdr: partial checksums and
// segmentation-offload super-packets from the host are completed or split
// (vnet.ts) before the stack sees them.

import { closeSync, read, readSync, writeSync, writevSync } from 'node:fs';
import type { FrameLink } from './endpoint.js';
import { VNET_HDR_LEN, decodeVnetHdr, newVnetStats, receiveVnet } from './vnet.js';

/** The largest frame read: a 64 KiB packet (a GSO super-packet on AF_PACKET)
 *  plus its Ethernet and VLAN headers and a virtio_net_hdr. A read that fills
 *  the whole buffer may have been truncated and is dropped. */
const MAX_FRAME = 65536 + 18 + VNET_HDR_LEN;
/** The header written before each frame with vnetHdr: no offload asked. */
const ZERO_VNET = new Uint8Array(VNET_HDR_LEN);
/** The most frames drained synchronously after one pool read completes. */
const BATCH = 256;

/** SetNonblock switches a fd's O_NONBLOCK (ioctl FIONBIO); false if it cannot. */
export type SetNonblock = (fd: number, on: boolean) => boolean;

export class FdFrameLink implements FrameLink {
  private onFrame: ((frame: Uint8Array) => void) | null = null;
  private readonly buf = Buffer.allocUnsafe(MAX_FRAME);
  private reading = false;
  private closed = false;
  /** Counters for diagnostics. */
  readonly stats = { rxFrames: 0, txFrames: 0, txErrors: 0, rxErrors: 0, rxTruncated: 0 };
  /** What the virtio_net_hdr receive path did (vnetHdr links). */
  readonly vnetStats = newVnetStats();
  private readonly vnetHdr: boolean;

  /** With setNonblock, each pool read that completes is followed by a drain of the frames
   *  already queued, read synchronously with the fd non-blocking: one pool round trip per
   *  burst instead of per frame. */
  constructor(readonly fd: number, readonly mtu = 1500, private readonly setNonblock: SetNonblock | null = null,
    opts: { vnetHdr?: boolean } = {}) {
    this.vnetHdr = opts.vnetHdr === true;
  }

  attach(onFrame: ((frame: Uint8Array) => void) | null): void {
    this.onFrame = onFrame;
    if (onFrame && !this.reading && !this.closed) this.readNext();
  }

  writeFrame(frame: Uint8Array): void {
    if (this.closed) return;
    try {
      if (this.vnetHdr) writevSync(this.fd, [ZERO_VNET, frame]);
      else writeSync(this.fd, frame);
      this.stats.txFrames++;
    } catch {
      // ENOBUFS, ENETDOWN (the host side went down): the frame is lost, as on a wire.
      this.stats.txErrors++;
    }
  }

  private readNext(): void {
    this.reading = true;
    read(this.fd, this.buf, 0, MAX_FRAME, null, (err, n) => {
      this.reading = false;
      if (this.closed) return;
      if (err) {
        // EAGAIN on a non-blocking fd, or EINTR: retry soon; EBADF and the like end the link.
        this.stats.rxErrors++;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EINTR') setTimeout(() => this.onFrame && this.readNext(), 1);
        return;
      }
      if (n > 0) this.deliver(n);
      if (n > 0 && this.setNonblock) this.drain();
      if (this.onFrame && !this.closed) this.readNext();
    });
  }

  private deliver(n: number): void {
    if (n >= MAX_FRAME) return void this.stats.rxTruncated++;
    this.stats.rxFrames++;
    if (!this.vnetHdr) {
      // The stack keeps a reference to the frame: copy it out of the shared buffer.
      this.onFrame?.(Uint8Array.prototype.slice.call(this.buf, 0, n));
      return;
    }
    if (n < VNET_HDR_LEN) return void this.vnetStats.malformed++;
    const hdr = decodeVnetHdr(this.buf);
    const frame = Uint8Array.prototype.slice.call(this.buf, VNET_HDR_LEN, n);
    for (const f of receiveVnet(hdr, frame, this.vnetStats)) this.onFrame?.(f);
  }

  /** drain reads what is queued without blocking (no pool read is in flight now). */
  private drain(): void {
    if (!this.setNonblock!(this.fd, true)) return;
    try {
      for (let i = 0; i < BATCH && this.onFrame && !this.closed; i++) {
        let n: number;
        try {
          n = readSync(this.fd, this.buf, 0, MAX_FRAME, null);
        } catch {
          break; // EAGAIN: drained
        }
        if (n <= 0) break;
        this.deliver(n);
      }
    } finally {
      if (!this.closed) this.setNonblock!(this.fd, false);
    }
  }

  /** close stops reading and closes the fd (a pending read completes with EBADF). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onFrame = null;
    try {
      closeSync(this.fd);
    } catch {
      // already gone
    }
  }
}
