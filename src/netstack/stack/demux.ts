// Transport demultiplexing: an inbound packet goes to the endpoint
// connected to its exact 4-tuple, else to one bound to (address, port) — a
// specific address beating the wildcard, and SO_REUSEPORT groups spreading
// flows by a hash of the remote end.

import type { Address } from '../addr.js';
import { errAddressInUse } from '../errors.js';
import type { NetProto, TransportEndpointHandler } from './types.js';

interface BoundEntry {
  addr: Address;
  nic: number;
  ep: TransportEndpointHandler;
}

/** A remembered connected lookup (the flows of a busy connection repeat). */
interface Recent {
  proto: number;
  netProto: NetProto;
  local: Address;
  lport: number;
  remote: Address;
  rport: number;
  ep: TransportEndpointHandler;
}

export class TransportDemuxer {
  private readonly connected = new Map<string, TransportEndpointHandler>();
  private readonly bound = new Map<string, BoundEntry[]>();
  // The last two connected hits (both directions of a loopback connection);
  // forgotten whenever a 4-tuple is unregistered.
  private recent0: Recent | null = null;
  private recent1: Recent | null = null;

  private static connKey(proto: number, netProto: NetProto, local: Address, lport: number, remote: Address, rport: number): string {
    return proto + '/' + netProto + '/' + lport + '/' + rport + '/' + local + remote;
  }

  private static boundKey(proto: number, netProto: NetProto, port: number): string {
    return proto + '/' + netProto + '/' + port;
  }

  /** registerConnected claims a 4-tuple; throws ErrAddressInUse if another endpoint has it. */
  registerConnected(proto: number, netProto: NetProto, local: Address, lport: number, remote: Address, rport: number, ep: TransportEndpointHandler): void {
    const k = TransportDemuxer.connKey(proto, netProto, local, lport, remote, rport);
    const cur = this.connected.get(k);
    if (cur !== undefined && cur !== ep) throw errAddressInUse;
    this.connected.set(k, ep);
  }

  unregisterConnected(proto: number, netProto: NetProto, local: Address, lport: number, remote: Address, rport: number, ep: TransportEndpointHandler): void {
    this.recent0 = this.recent1 = null;
    const k = TransportDemuxer.connKey(proto, netProto, local, lport, remote, rport);
    if (this.connected.get(k) === ep) this.connected.delete(k);
  }

  /** hasConnected reports whether a 4-tuple is taken. */
  hasConnected(proto: number, netProto: NetProto, local: Address, lport: number, remote: Address, rport: number): boolean {
    return this.connected.has(TransportDemuxer.connKey(proto, netProto, local, lport, remote, rport));
  }

  registerBound(proto: number, netProto: NetProto, addr: Address, port: number, nic: number, ep: TransportEndpointHandler): void {
    const k = TransportDemuxer.boundKey(proto, netProto, port);
    let list = this.bound.get(k);
    if (list === undefined) this.bound.set(k, (list = []));
    if (!list.some((e) => e.ep === ep && e.addr === addr)) list.push({ addr, nic, ep });
  }

  unregisterBound(proto: number, netProto: NetProto, addr: Address, port: number, ep: TransportEndpointHandler): void {
    const k = TransportDemuxer.boundKey(proto, netProto, port);
    const list = this.bound.get(k);
    if (list === undefined) return;
    const i = list.findIndex((e) => e.ep === ep && e.addr === addr);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.bound.delete(k);
  }

  /** lookup finds the endpoint for an inbound packet (local = its destination). */
  lookup(
    proto: number,
    netProto: NetProto,
    local: Address,
    lport: number,
    remote: Address,
    rport: number,
    nic: number,
  ): TransportEndpointHandler | undefined {
    const r0 = this.recent0;
    if (r0 !== null && r0.lport === lport && r0.rport === rport && r0.local === local && r0.remote === remote && r0.proto === proto && r0.netProto === netProto) return r0.ep;
    const r1 = this.recent1;
    if (r1 !== null && r1.lport === lport && r1.rport === rport && r1.local === local && r1.remote === remote && r1.proto === proto && r1.netProto === netProto) {
      this.recent1 = r0;
      this.recent0 = r1;
      return r1.ep;
    }
    const c = this.connected.get(TransportDemuxer.connKey(proto, netProto, local, lport, remote, rport));
    if (c !== undefined) {
      this.recent1 = r0;
      this.recent0 = { proto, netProto, local, lport, remote, rport, ep: c };
      return c;
    }
    const list = this.bound.get(TransportDemuxer.boundKey(proto, netProto, lport));
    if (list === undefined) return undefined;
    let exact: BoundEntry[] | null = null;
    let wild: BoundEntry[] | null = null;
    for (const e of list) {
      if (e.nic !== 0 && e.nic !== nic) continue;
      if (e.addr === local) (exact ??= []).push(e);
      else if (e.addr === '') (wild ??= []).push(e);
    }
    const group = exact ?? wild;
    if (group === null) return undefined;
    if (group.length === 1) return group[0].ep;
    return group[hashFlow(remote, rport) % group.length].ep;
  }

  /** endpoints lists every registered endpoint of a transport protocol (each once). */
  endpoints(proto: number): TransportEndpointHandler[] {
    const seen = new Set<TransportEndpointHandler>();
    const prefix = proto + '/';
    for (const [k, ep] of this.connected) if (k.startsWith(prefix)) seen.add(ep);
    for (const [k, list] of this.bound) if (k.startsWith(prefix)) for (const e of list) seen.add(e.ep);
    return [...seen];
  }

  /** lookupBound returns every bound endpoint matching (for broadcast/multicast datagrams). */
  lookupBound(proto: number, netProto: NetProto, local: Address, lport: number, nic: number): TransportEndpointHandler[] {
    const list = this.bound.get(TransportDemuxer.boundKey(proto, netProto, lport));
    if (list === undefined) return [];
    const out: TransportEndpointHandler[] = [];
    for (const e of list) {
      if (e.nic !== 0 && e.nic !== nic) continue;
      if (e.addr === '' || e.addr === local) out.push(e.ep);
    }
    return out;
  }
}

function hashFlow(remote: Address, rport: number): number {
  let h = 2166136261 ^ rport;
  for (let i = 0; i < remote.length; i++) h = Math.imul(h ^ remote.charCodeAt(i), 16777619);
  return (h >>> 0);
}
