// Neighbor resolution shared by ARP (IPv4) and NDP (IPv6): a cache of
// IP → link address with the RFC 4861 states we need. Packets to an
// unresolved neighbor wait in the entry; after maxProbes unanswered probes
// they are dropped and their senders told the host is unreachable.

import type { Address, LinkAddress } from '../addr.js';
import type { PacketBuffer } from '../buffer.js';
import { Timer, type Clock } from '../clock.js';

export interface NeighborConfig {
  /** retransMs between probes (RFC 4861 RetransTimer, Linux 1 s). */
  retransMs: number;
  /** maxProbes before giving up (Linux mcast_solicit 3). */
  maxProbes: number;
  /** reachableMs before a resolved entry goes stale and is re-probed on use. */
  reachableMs: number;
  /** queueLimit is how many packets may wait per unresolved neighbor. */
  queueLimit: number;
}

export const DEFAULT_NEIGHBOR_CONFIG: NeighborConfig = { retransMs: 1000, maxProbes: 3, reachableMs: 30000, queueLimit: 64 };

const INCOMPLETE = 0;
const REACHABLE = 1;
const STALE = 2;

interface Pending {
  netProto: number;
  pkt: PacketBuffer;
}

interface Entry {
  state: number;
  linkAddr: LinkAddress;
  confirmedAt: number;
  probes: number;
  queue: Pending[];
  timer: Timer | null;
}

export interface NeighborHooks {
  /** probe sends a request for addr (ARP request / neighbor solicitation). */
  probe(addr: Address): void;
  /** send writes a packet to a resolved link address. */
  send(linkAddr: LinkAddress, netProto: number, pkt: PacketBuffer): void;
  /** failed reports packets that could not be sent (EHOSTUNREACH to their senders). */
  failed(netProto: number, pkt: PacketBuffer): void;
  /** run wraps timer callbacks in the stack's processing context. */
  run(fn: () => void): void;
}

export class NeighborCache {
  private readonly entries = new Map<Address, Entry>();
  /** stats for tests and debugging. */
  readonly stats = { probes: 0, resolved: 0, failures: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly hooks: NeighborHooks,
    private readonly config: NeighborConfig = DEFAULT_NEIGHBOR_CONFIG,
  ) {}

  /** lookup returns the cached link address of addr, if resolved. */
  lookup(addr: Address): LinkAddress | undefined {
    const e = this.entries.get(addr);
    return e !== undefined && e.state !== INCOMPLETE ? e.linkAddr : undefined;
  }

  /** send delivers pkt to addr's link address, resolving it first if needed. */
  send(addr: Address, netProto: number, pkt: PacketBuffer): void {
    let e = this.entries.get(addr);
    if (e !== undefined && e.state !== INCOMPLETE) {
      if (e.state === REACHABLE && this.clock.now() - e.confirmedAt > this.config.reachableMs) e.state = STALE;
      if (e.state === STALE && e.timer === null) this.startProbing(addr, e);
      this.hooks.send(e.linkAddr, netProto, pkt);
      return;
    }
    if (e === undefined) {
      e = { state: INCOMPLETE, linkAddr: '', confirmedAt: 0, probes: 0, queue: [], timer: null };
      this.entries.set(addr, e);
      this.startProbing(addr, e);
    }
    if (e.queue.length >= this.config.queueLimit) {
      this.hooks.failed(netProto, pkt);
      return;
    }
    e.queue.push({ netProto, pkt });
  }

  private startProbing(addr: Address, e: Entry): void {
    e.probes = 0;
    e.timer ??= new Timer(this.clock, () => this.hooks.run(() => this.onTimer(addr)));
    this.probe(addr, e);
  }

  private probe(addr: Address, e: Entry): void {
    e.probes++;
    this.stats.probes++;
    e.timer!.reset(this.config.retransMs);
    this.hooks.probe(addr);
  }

  private onTimer(addr: Address): void {
    const e = this.entries.get(addr);
    if (e === undefined) return;
    if (e.probes < this.config.maxProbes) {
      this.probe(addr, e);
      return;
    }
    e.timer = null;
    if (e.state === STALE) {
      // A stale entry keeps being used until proven wrong by a failed send; forget it.
      this.entries.delete(addr);
      return;
    }
    this.entries.delete(addr);
    this.stats.failures++;
    for (const p of e.queue) this.hooks.failed(p.netProto, p.pkt);
  }

  /**
   * confirm records that addr is at linkAddr (a reply or advertisement) and
   * flushes waiting packets. create adds an entry when none exists (a
   * request addressed to us tells us where the requester is).
   */
  confirm(addr: Address, linkAddr: LinkAddress, create: boolean): void {
    let e = this.entries.get(addr);
    if (e === undefined) {
      if (!create) return;
      e = { state: REACHABLE, linkAddr, confirmedAt: this.clock.now(), probes: 0, queue: [], timer: null };
      this.entries.set(addr, e);
      return;
    }
    e.state = REACHABLE;
    e.linkAddr = linkAddr;
    e.confirmedAt = this.clock.now();
    e.timer?.stop();
    e.timer = null;
    this.stats.resolved++;
    const q = e.queue;
    e.queue = [];
    for (const p of q) this.hooks.send(linkAddr, p.netProto, p.pkt);
  }

  /** add installs a static entry. */
  add(addr: Address, linkAddr: LinkAddress): void {
    this.confirm(addr, linkAddr, true);
    const e = this.entries.get(addr)!;
    e.confirmedAt = Number.POSITIVE_INFINITY;
  }

  /** remove forgets addr. */
  remove(addr: Address): void {
    this.entries.get(addr)?.timer?.stop();
    this.entries.delete(addr);
  }

  /** size is the number of entries (for tests). */
  get size(): number {
    return this.entries.size;
  }
}
