// A NIC: one link endpoint, its IP addresses and neighbor caches.

import {
  ALL_NODES_V6,
  isLinkLocalV6,
  prefixMatch,
  solicitedNode,
  type Address,
  type LinkAddress,
} from '../addr.js';
import type { PacketBuffer } from '../buffer.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../header/ethernet.js';
import type { LinkEndpoint } from '../link/endpoint.js';
import { NeighborCache } from './neighbor.js';
import type { Stack } from './stack.js';
import type { NetProto, Route } from './types.js';

export interface ProtocolAddress {
  addr: Address;
  prefixLen: number;
}

export interface NICStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxDropped: number;
  txDropped: number;
}

export class NIC {
  readonly v4: ProtocolAddress[] = [];
  readonly v6: ProtocolAddress[] = [];
  /** IPv6 multicast groups joined (all-nodes and the solicited-node group of each address). */
  readonly groupsV6 = new Map<Address, number>();
  readonly arp: NeighborCache;
  readonly ndp: NeighborCache;
  readonly stats: NICStats = { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, rxDropped: 0, txDropped: 0 };
  enabled = true;

  constructor(
    readonly stack: Stack,
    readonly id: number,
    readonly name: string,
    readonly link: LinkEndpoint,
  ) {
    const hooks = (netProto: NetProto) => ({
      probe: (addr: Address) => (netProto === 4 ? stack.ipv4.sendARPRequest(this, addr) : stack.ipv6.sendNeighborSolicit(this, addr)),
      send: (dst: LinkAddress, ethertype: number, pkt: PacketBuffer) => this.writeLink(dst, ethertype, pkt),
      failed: (ethertype: number, pkt: PacketBuffer) => stack.resolutionFailed(ethertype, pkt),
      run: (fn: () => void) => stack.runTimer(fn),
    });
    this.arp = new NeighborCache(stack.clock, hooks(4), stack.neighborConfig);
    this.ndp = new NeighborCache(stack.clock, hooks(6), stack.neighborConfig);
    this.joinV6(ALL_NODES_V6);
    link.attach((proto, pkt, src, dst) => stack.deliverFromLink(this, proto, pkt, src, dst));
  }

  get isLoopback(): boolean {
    return this.link.capabilities.loopback;
  }

  addresses(netProto: NetProto): ProtocolAddress[] {
    return netProto === 4 ? this.v4 : this.v6;
  }

  hasAddress(a: Address): boolean {
    const list = a.length === 4 ? this.v4 : this.v6;
    for (const p of list) if (p.addr === a) return true;
    return false;
  }

  /** onLinkPrefix reports whether a is inside one of this NIC's prefixes. */
  onLinkPrefix(a: Address): boolean {
    for (const p of a.length === 4 ? this.v4 : this.v6) if (prefixMatch(a, p.addr, p.prefixLen)) return true;
    return false;
  }

  /**
   * primaryAddress picks a source address for talking to remote: one whose
   * prefix contains it, else (IPv6) a non-link-local one for a global remote,
   * else the first. '' if the NIC has none of that family.
   */
  primaryAddress(netProto: NetProto, remote: Address): Address {
    const list = this.addresses(netProto);
    if (list.length === 0) return '';
    for (const p of list) if (prefixMatch(remote, p.addr, p.prefixLen)) return p.addr;
    if (netProto === 6 && !isLinkLocalV6(remote)) {
      for (const p of list) if (!isLinkLocalV6(p.addr)) return p.addr;
    }
    return list[0].addr;
  }

  joinV6(group: Address): void {
    this.groupsV6.set(group, (this.groupsV6.get(group) ?? 0) + 1);
  }

  leaveV6(group: Address): void {
    const n = this.groupsV6.get(group) ?? 0;
    if (n <= 1) this.groupsV6.delete(group);
    else this.groupsV6.set(group, n - 1);
  }

  addAddress(a: ProtocolAddress): void {
    this.addresses(a.addr.length === 4 ? 4 : 6).push(a);
    if (a.addr.length === 16) this.joinV6(solicitedNode(a.addr));
  }

  removeAddress(addr: Address): boolean {
    const list = this.addresses(addr.length === 4 ? 4 : 6);
    const i = list.findIndex((p) => p.addr === addr);
    if (i < 0) return false;
    list.splice(i, 1);
    if (addr.length === 16) this.leaveV6(solicitedNode(addr));
    return true;
  }

  /** writeIP sends a finished IP packet along route. */
  writeIP(route: Route, pkt: PacketBuffer): void {
    const ethertype = route.netProto === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
    if (route.localDelivery) {
      this.stats.txPackets++;
      this.stats.txBytes += pkt.size;
      this.stack.deliverLocal(this, ethertype, pkt);
      return;
    }
    if (route.linkDst !== null || !this.link.capabilities.resolutionRequired) {
      this.writeLink(route.linkDst ?? '', ethertype, pkt);
      return;
    }
    (route.netProto === 4 ? this.arp : this.ndp).send(route.nextHop, ethertype, pkt);
  }

  /** writeLink hands a packet to the link. */
  writeLink(dst: LinkAddress, ethertype: number, pkt: PacketBuffer): void {
    if (!this.enabled) {
      this.stats.txDropped++;
      return;
    }
    this.stats.txPackets++;
    this.stats.txBytes += pkt.size;
    this.link.writePacket(dst, ethertype, pkt);
  }

  /** isARP reports whether an ethertype is ARP (helper for the stack's dispatch). */
  static isARP(ethertype: number): boolean {
    return ethertype === ETHERTYPE_ARP;
  }
}
