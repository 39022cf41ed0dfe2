// Port reservations with Linux's sharing rules (inet_csk_bind_conflict,
// udp_lib_lport_inuse): two bindings of one port conflict when their
// addresses overlap (a wildcard overlaps everything) unless both set
// SO_REUSEADDR (and, for TCP, the existing one is not listening), or both
// set SO_REUSEPORT.

import type { Address } from '../addr.js';
import { errAddressInUse, errNoPortAvailable } from '../errors.js';
import type { NetProto } from './types.js';

/** PortOwner is the endpoint behind a reservation; flags are read at check time. */
export interface PortOwner {
  readonly reuseAddr: boolean;
  readonly reusePort: boolean;
  /** isListening: a TCP listener (SO_REUSEADDR does not share with it). */
  isListening(): boolean;
  /** bindNic restricts the binding to one NIC (0: all). */
  readonly bindNic: number;
}

/** PortBinding is one (network protocol, address) pair of a reservation. */
export interface PortBinding {
  netProto: NetProto;
  /** addr is '' for the wildcard. */
  addr: Address;
}

interface Reservation {
  addr: Address;
  owner: PortOwner;
}

export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;

export class PortManager {
  private readonly table = new Map<string, Reservation[]>();
  first = EPHEMERAL_FIRST;
  last = EPHEMERAL_LAST;

  constructor(private readonly random: () => number) {}

  private static key(transProto: number, netProto: NetProto, port: number): string {
    return `${transProto}/${netProto}/${port}`;
  }

  private conflicts(transProto: number, b: PortBinding, port: number, owner: PortOwner): boolean {
    const list = this.table.get(PortManager.key(transProto, b.netProto, port));
    if (list === undefined) return false;
    const tcp = transProto === 6;
    for (const r of list) {
      if (r.owner === owner) continue;
      if (owner.bindNic !== 0 && r.owner.bindNic !== 0 && owner.bindNic !== r.owner.bindNic) continue;
      if (b.addr !== '' && r.addr !== '' && b.addr !== r.addr) continue;
      if (owner.reuseAddr && r.owner.reuseAddr && (!tcp || !r.owner.isListening())) continue;
      if (owner.reusePort && r.owner.reusePort) continue;
      return true;
    }
    return false;
  }

  /** isAvailable checks the bindings against existing reservations. */
  isAvailable(transProto: number, bindings: readonly PortBinding[], port: number, owner: PortOwner): boolean {
    for (const b of bindings) if (this.conflicts(transProto, b, port, owner)) return false;
    return true;
  }

  private isFree(transProto: number, bindings: readonly PortBinding[], port: number): boolean {
    for (const b of bindings) if (this.table.has(PortManager.key(transProto, b.netProto, port))) return false;
    return true;
  }

  /**
   * reserve binds port (0: pick a free ephemeral port) for all bindings at
   * once and returns the port. Throws ErrAddressInUse / ErrNoPortAvailable.
   */
  reserve(transProto: number, bindings: readonly PortBinding[], port: number, owner: PortOwner): number {
    if (port === 0) {
      port = this.pickEphemeral((p) => this.isFree(transProto, bindings, p));
    } else if (!this.isAvailable(transProto, bindings, port, owner)) {
      throw errAddressInUse;
    }
    for (const b of bindings) {
      const k = PortManager.key(transProto, b.netProto, port);
      let list = this.table.get(k);
      if (list === undefined) this.table.set(k, (list = []));
      list.push({ addr: b.addr, owner });
    }
    return port;
  }

  /** reserveUnchecked records a reservation without conflict checks (children inheriting a listener's port). */
  reserveUnchecked(transProto: number, bindings: readonly PortBinding[], port: number, owner: PortOwner): void {
    for (const b of bindings) {
      const k = PortManager.key(transProto, b.netProto, port);
      let list = this.table.get(k);
      if (list === undefined) this.table.set(k, (list = []));
      list.push({ addr: b.addr, owner });
    }
  }

  /** pickEphemeral returns a port in the ephemeral range accepted by ok, starting at a random point. */
  pickEphemeral(ok: (port: number) => boolean): number {
    const n = this.last - this.first + 1;
    const start = Math.floor(this.random() * n);
    for (let i = 0; i < n; i++) {
      const p = this.first + ((start + i) % n);
      if (ok(p)) return p;
    }
    throw errNoPortAvailable;
  }

  /** release drops owner's reservation of port. */
  release(transProto: number, bindings: readonly PortBinding[], port: number, owner: PortOwner): void {
    for (const b of bindings) {
      const k = PortManager.key(transProto, b.netProto, port);
      const list = this.table.get(k);
      if (list === undefined) continue;
      const i = list.findIndex((r) => r.owner === owner && r.addr === b.addr);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.table.delete(k);
    }
  }
}
