// SocketBase: what TCP, UDP and ping endpoints share — notification
// plumbing, the generic socket options, and address-family conversion for
// dual-stack IPv6 sockets (an AF_INET6 endpoint talks IPv4 through
// v4-mapped addresses unless IPV6_V6ONLY).

import { ANY_V4, ANY_V6, isV4Mapped, unmapV4, v4Mapped, type Address, type FullAddress } from '../addr.js';
import {
  errAddressFamilyNotSupported,
  errInvalidArgument,
  errNetworkUnreachable,
  errUnknownOption,
} from '../errors.js';
import type { IntOption, Linger } from '../sockopt.js';
import {
  IP_PMTUDISC_DO,
  IP_PMTUDISC_DONT,
  IP_PMTUDISC_OMIT,
  IP_PMTUDISC_WANT,
  RMEM_MAX,
  SOCK_MIN_RCVBUF,
  SOCK_MIN_SNDBUF,
  WMEM_MAX,
} from '../sockopt.js';
import type { PortOwner } from '../stack/ports.js';
import type { Stack } from '../stack/stack.js';
import type { NetProto } from '../stack/types.js';
import type { Notifier, NotifyFn } from '../waiter.js';

/** NetAddress is an address on the wire: its IP version and raw address ('' = any). */
export interface NetAddress {
  netProto: NetProto;
  addr: Address;
  port: number;
  nic: number;
}

export abstract class SocketBase implements Notifier, PortOwner {
  private notifyFn: NotifyFn | null = null;

  reuseAddr = false;
  reusePort = false;
  bindNic = 0;
  broadcast = false;
  keepAlive = false;
  oobInline = false;
  dontRoute = false;
  priority = 0;
  rcvLowat = 1;
  /** ttl: -1 means the stack default (IP_TTL / IPV6_UNICAST_HOPS). */
  ttl = -1;
  tos = 0;
  /** pmtudisc / pmtudisc6: IP_MTU_DISCOVER (IPv4 traffic) and IPV6_MTU_DISCOVER modes. */
  pmtudisc = IP_PMTUDISC_WANT;
  pmtudisc6 = IP_PMTUDISC_WANT;
  v6only = false;
  linger: Linger = { onoff: false, linger: 0 };
  /** rcvBuf / sndBuf are the values getsockopt reports; capacities are what the endpoint uses. */
  rcvBuf: number;
  sndBuf: number;
  rcvCapacity: number;
  sndCapacity: number;

  constructor(
    readonly stack: Stack,
    readonly family: NetProto,
    defaultRcv: number,
    defaultSnd: number,
  ) {
    this.rcvBuf = this.rcvCapacity = defaultRcv;
    this.sndBuf = this.sndCapacity = defaultSnd;
  }

  /** setNotify installs the readiness callback (null removes it). It is never called re-entrantly from inside an endpoint operation. */
  setNotify(fn: NotifyFn | null): void {
    this.notifyFn = fn;
  }

  /** fireNotify is called by the stack; not for users. */
  fireNotify(events: number): void {
    this.notifyFn?.(events);
  }

  /** signal queues a readiness notification (internal to netstack). */
  signal(events: number): void {
    this.stack.notify(this, events);
  }

  /** readiness returns which of the events in mask are ready now. */
  abstract readiness(mask: number): number;

  /** isListening is for the port manager: TCP listeners do not share ports through SO_REUSEADDR. */
  isListening(): boolean {
    return false;
  }

  /** dontFragment: the path MTU discovery mode for netProto forbids fragmenting
   *  this socket's packets locally (DO, PROBE, INTERFACE; OMIT allows it, as
   *  Linux's ip_sk_ignore_df). */
  protected dontFragment(netProto: NetProto): boolean {
    const m = netProto === 4 ? this.pmtudisc : this.pmtudisc6;
    return m >= IP_PMTUDISC_DO && m !== IP_PMTUDISC_OMIT;
  }

  protected effectiveTTL(netProto: NetProto): number {
    if (this.ttl >= 0) return this.ttl;
    return netProto === 4 ? this.stack.defaultTTL : this.stack.defaultHopLimit;
  }

  /**
   * toNet converts a user address to the wire: the IP version it uses and
   * the raw address ('' for any). Throws for a family mismatch.
   */
  protected toNet(a: FullAddress): NetAddress {
    const nic = a.nic ?? 0;
    if (this.family === 4) {
      if (a.addr.length === 16) throw errAddressFamilyNotSupported;
      if (a.addr !== '' && a.addr.length !== 4) throw errInvalidArgument;
      return { netProto: 4, addr: a.addr === ANY_V4 ? '' : a.addr, port: a.port, nic };
    }
    if (a.addr === '' || a.addr === ANY_V6) return { netProto: 6, addr: '', port: a.port, nic };
    if (a.addr.length !== 16) throw errAddressFamilyNotSupported;
    if (isV4Mapped(a.addr)) {
      if (this.v6only) throw errNetworkUnreachable;
      const v4 = unmapV4(a.addr);
      return { netProto: 4, addr: v4 === ANY_V4 ? '' : v4, port: a.port, nic };
    }
    return { netProto: 6, addr: a.addr, port: a.port, nic };
  }

  /** fromNet converts a wire address back to the endpoint's family. */
  protected fromNet(netProto: NetProto, addr: Address, port: number): FullAddress {
    if (this.family === 4) return { addr: addr === '' ? ANY_V4 : addr, port };
    if (netProto === 4) return { addr: v4Mapped(addr === '' ? ANY_V4 : addr), port };
    return { addr: addr === '' ? ANY_V6 : addr, port };
  }

  /** setOption sets an integer option (booleans as 0/1). Throws ErrUnknownOption / ErrInvalidArgument. */
  setOption(name: IntOption, value: number): void {
    const on = value !== 0;
    switch (name) {
      case 'SO_REUSEADDR':
        this.reuseAddr = on;
        return;
      case 'SO_REUSEPORT':
        this.reusePort = on;
        return;
      case 'SO_BROADCAST':
        this.broadcast = on;
        return;
      case 'SO_KEEPALIVE':
        this.keepAlive = on;
        this.keepAliveChanged();
        return;
      case 'SO_OOBINLINE':
        this.oobInline = on;
        return;
      case 'SO_DONTROUTE':
        this.dontRoute = on;
        return;
      case 'SO_PRIORITY':
        this.priority = value;
        return;
      case 'SO_RCVLOWAT':
        this.rcvLowat = Math.max(1, value);
        return;
      case 'SO_RCVBUF': {
        // Linux doubles the request (bookkeeping overhead) and reports the doubled value.
        const v = Math.max(Math.min(value >>> 0, RMEM_MAX) * 2, SOCK_MIN_RCVBUF);
        this.rcvBuf = v;
        this.rcvCapacity = v >> 1;
        this.bufferSizesChanged();
        return;
      }
      case 'SO_SNDBUF': {
        const v = Math.max(Math.min(value >>> 0, WMEM_MAX) * 2, SOCK_MIN_SNDBUF);
        this.sndBuf = v;
        this.sndCapacity = v >> 1;
        this.bufferSizesChanged();
        return;
      }
      case 'SO_BINDTOIFINDEX':
        if (value !== 0 && this.stack.nic(value) === undefined) throw errInvalidArgument;
        this.bindNic = value;
        return;
      case 'IP_TTL':
        if (value === -1) this.ttl = -1;
        else if (value < 1 || value > 255) throw errInvalidArgument;
        else this.ttl = value;
        return;
      case 'IPV6_UNICAST_HOPS':
        if (this.family !== 6) throw errUnknownOption;
        if (value < -1 || value > 255) throw errInvalidArgument;
        this.ttl = value;
        return;
      case 'IP_TOS':
      case 'IPV6_TCLASS':
        this.tos = value & 0xff;
        return;
      case 'IPV6_V6ONLY':
        if (this.family !== 6) throw errUnknownOption;
        this.setV6Only(on);
        return;
      case 'IP_MTU_DISCOVER':
      case 'IPV6_MTU_DISCOVER':
        if (name === 'IPV6_MTU_DISCOVER' && this.family !== 6) throw errUnknownOption;
        if (value < IP_PMTUDISC_DONT || value > IP_PMTUDISC_OMIT) throw errInvalidArgument;
        if (name === 'IP_MTU_DISCOVER') this.pmtudisc = value;
        else this.pmtudisc6 = value;
        return;
      default:
        throw errUnknownOption;
    }
  }

  /** getOption reads an integer option. */
  getOption(name: IntOption): number {
    switch (name) {
      case 'SO_REUSEADDR':
        return +this.reuseAddr;
      case 'SO_REUSEPORT':
        return +this.reusePort;
      case 'SO_BROADCAST':
        return +this.broadcast;
      case 'SO_KEEPALIVE':
        return +this.keepAlive;
      case 'SO_OOBINLINE':
        return +this.oobInline;
      case 'SO_DONTROUTE':
        return +this.dontRoute;
      case 'SO_PRIORITY':
        return this.priority;
      case 'SO_RCVLOWAT':
        return this.rcvLowat;
      case 'SO_RCVBUF':
        return this.rcvBuf;
      case 'SO_SNDBUF':
        return this.sndBuf;
      case 'SO_BINDTOIFINDEX':
        return this.bindNic;
      case 'SO_ERROR':
        return this.takeError();
      case 'SO_ACCEPTCONN':
        return +this.isListening();
      case 'IP_TTL':
        return this.ttl >= 0 ? this.ttl : this.stack.defaultTTL;
      case 'IPV6_UNICAST_HOPS':
        if (this.family !== 6) throw errUnknownOption;
        return this.ttl >= 0 ? this.ttl : this.stack.defaultHopLimit;
      case 'IP_TOS':
      case 'IPV6_TCLASS':
        return this.tos;
      case 'IPV6_V6ONLY':
        if (this.family !== 6) throw errUnknownOption;
        return +this.v6only;
      case 'IP_MTU_DISCOVER':
        return this.pmtudisc;
      case 'IPV6_MTU_DISCOVER':
        if (this.family !== 6) throw errUnknownOption;
        return this.pmtudisc6;
      default:
        throw errUnknownOption;
    }
  }

  /** setLinger / getLinger implement SO_LINGER. */
  setLinger(l: Linger): void {
    this.linger = { onoff: l.onoff, linger: Math.max(0, l.linger | 0) };
  }

  getLinger(): Linger {
    return { ...this.linger };
  }

  /** takeError returns and clears the pending error (SO_ERROR), as an errno (0 if none). */
  abstract takeError(): number;

  protected setV6Only(on: boolean): void {
    this.v6only = on;
  }

  protected keepAliveChanged(): void {}

  protected bufferSizesChanged(): void {}
}
