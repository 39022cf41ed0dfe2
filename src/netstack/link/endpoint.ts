// The link layer seen by the stack. Network protocols are named by their
// EtherType (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP) on every link, Ethernet
// or not.

import type { LinkAddress } from '../addr.js';
import type { PacketBuffer } from '../buffer.js';

export interface LinkCapabilities {
  /** loopback links deliver everything back to the same stack. */
  loopback: boolean;
  /** resolutionRequired: IP next hops need ARP/NDP to find a link address. */
  resolutionRequired: boolean;
  /** checksumOffload: transport checksums need not be computed or verified. */
  checksumOffload: boolean;
}

/** DeliverFn receives one inbound packet whose link header was already removed. */
export type DeliverFn = (netProto: number, pkt: PacketBuffer, src: LinkAddress, dst: LinkAddress) => void;

/**
 * LinkEndpoint is a network interface's link. writePacket may deliver
 * synchronously (even back into the writing stack): the stack defers inbound
 * processing while it is busy, so links need no queue of their own.
 */
export interface LinkEndpoint {
  /** mtu is the largest network-layer packet the link carries. */
  readonly mtu: number;
  readonly linkAddress: LinkAddress;
  /** maxHeaderLength is the link header size senders must reserve. */
  readonly maxHeaderLength: number;
  readonly capabilities: LinkCapabilities;
  /** attach sets (or clears, with null) where inbound packets go. */
  attach(deliver: DeliverFn | null): void;
  /** writePacket sends a network packet to the link address dst ('' for links without addresses). */
  writePacket(dst: LinkAddress, netProto: number, pkt: PacketBuffer): void;
}

/** FrameLink moves whole link-layer frames (a channel, later a TAP device). */
export interface FrameLink {
  /** mtu is the largest frame payload (not counting the link header). */
  readonly mtu: number;
  writeFrame(frame: Uint8Array): void;
  attach(onFrame: ((frame: Uint8Array) => void) | null): void;
}
