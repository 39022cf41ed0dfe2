// Types shared by the network and transport layers.

import type { Address, LinkAddress } from '../addr.js';
import type { PacketBuffer } from '../buffer.js';
import type { NIC } from './nic.js';

/** NetProto names a network protocol by IP version. */
export type NetProto = 4 | 6;

export const ETHERTYPE_FOR: Record<NetProto, number> = { 4: 0x0800, 6: 0x86dd };

/** Route is a resolved path to a remote address. */
export interface Route {
  readonly nic: NIC;
  readonly netProto: NetProto;
  readonly local: Address;
  readonly remote: Address;
  /** nextHop is the gateway, or remote itself when on-link. */
  readonly nextHop: Address;
  /** mtu is the largest IP packet (header included) on this route. */
  readonly mtu: number;
  /** maxHeaderLength is what senders reserve in front of the transport header (link + IP). */
  readonly maxHeaderLength: number;
  /** checksumOffload: transport checksums may be skipped. */
  readonly checksumOffload: boolean;
  /** localDelivery: remote is this stack; packets go straight back in. */
  readonly localDelivery: boolean;
  /** linkDst is fixed for broadcast/multicast routes ('' otherwise: resolve nextHop). */
  readonly linkDst: LinkAddress | null;
  /** broadcast: remote is a broadcast address. */
  readonly broadcast: boolean;
  readonly multicast: boolean;
}

/** PacketInfo describes the network layer of an inbound packet. */
export interface PacketInfo {
  nic: NIC;
  netProto: NetProto;
  src: Address;
  dst: Address;
  ttl: number;
  tos: number;
  /** multi is set when dst is a broadcast or multicast address. */
  multi: boolean;
  /** The IP header (for quoting in ICMP errors) is netBuf[netOff, netOff+netLen):
   *  no view is made per packet (see netHeaderOf). */
  netBuf: Uint8Array;
  netOff: number;
  netLen: number;
}

/** ControlError is an ICMP error (or a local resolution failure) for a transport flow. */
export interface ControlError {
  errno: number;
  /** hard errors abort connection attempts (port/protocol unreachable, and any error while connecting). */
  hard: boolean;
  /** mtu is set for "fragmentation needed"/"packet too big". */
  mtu?: number;
  /** local is set when this stack generated the error (no ICMP packet). */
  local: boolean;
}

/** TransportEndpointHandler is what the demuxer delivers to. */
export interface TransportEndpointHandler {
  /** handlePacket gets the transport packet (pkt starts at the transport header). */
  handlePacket(info: PacketInfo, pkt: PacketBuffer, srcPort: number, dstPort: number): void;
  handleControl(err: ControlError, remote: Address, remotePort: number): void;
}

/** WriteParams are per-packet IP fields. */
export interface WriteParams {
  ttl: number;
  tos: number;
  /** df sets Don't Fragment (IPv4); fragmentation of local packets still happens over the MTU. */
  df?: boolean;
}

/** netHeaderOf returns the IP header of an inbound packet. */
export function netHeaderOf(info: PacketInfo): Uint8Array {
  return info.netBuf.subarray(info.netOff, info.netOff + info.netLen);
}
