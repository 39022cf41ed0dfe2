// EthernetEndpoint frames network packets in Ethernet II over a FrameLink.

import { BROADCAST_MAC, type LinkAddress } from '../addr.js';
import { PacketBuffer } from '../buffer.js';
import { ETHERNET_HEADER_LEN, ETHERNET_MIN_FRAME, decodeEthernet, encodeEthernet } from '../header/ethernet.js';
import type { DeliverFn, FrameLink, LinkCapabilities, LinkEndpoint } from './endpoint.js';

export class EthernetEndpoint implements LinkEndpoint {
  readonly maxHeaderLength = ETHERNET_HEADER_LEN;
  readonly capabilities: LinkCapabilities = { loopback: false, resolutionRequired: true, checksumOffload: false };
  private deliver: DeliverFn | null = null;
  /** promiscuous accepts frames for any destination address. */
  promiscuous = false;

  constructor(private readonly link: FrameLink, readonly linkAddress: LinkAddress) {
    link.attach((frame) => this.onFrame(frame));
  }

  get mtu(): number {
    return this.link.mtu;
  }

  attach(deliver: DeliverFn | null): void {
    this.deliver = deliver;
  }

  writePacket(dst: LinkAddress, netProto: number, pkt: PacketBuffer): void {
    const off = pkt.prepend(ETHERNET_HEADER_LEN);
    encodeEthernet(pkt.head, off, { dst, src: this.linkAddress, type: netProto });
    let frame = pkt.toBytes();
    if (frame.length < ETHERNET_MIN_FRAME) {
      const padded = new Uint8Array(ETHERNET_MIN_FRAME);
      padded.set(frame);
      frame = padded;
    }
    this.link.writeFrame(frame);
  }

  private onFrame(frame: Uint8Array): void {
    if (this.deliver === null || frame.length < ETHERNET_HEADER_LEN) return;
    const eth = decodeEthernet(frame);
    // Accept our address, broadcast, and group addresses (low bit of the first byte).
    if (!this.promiscuous && eth.dst !== this.linkAddress && eth.dst !== BROADCAST_MAC && (eth.dst.charCodeAt(0) & 1) === 0) return;
    this.deliver(eth.type, PacketBuffer.inbound(frame.subarray(ETHERNET_HEADER_LEN)), eth.src, eth.dst);
  }
}
