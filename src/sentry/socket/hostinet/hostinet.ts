// --network=host: AF_INET and AF_INET6 sockets of a kernel in host mode are
// host sockets (socket.ts), and so are NETLINK_ROUTE sockets. The boot code switches a kernel to host mode
// before its first process starts; socket(2) then asks hostFamily first.

import * as linuxerr from '../../../abi/linux/errno.js';
import { native } from '../../../platform/ptrace/native.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import * as abi from '../abi.js';
import type { Socket, SocketFamily } from '../socket.js';
import { familyOf } from '../socket.js';
import { HostSocket } from './socket.js';

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;
const NETLINK_ROUTE = 0;

/** The kernels in host mode, each with its live inet host sockets. */
const hostKernels = new WeakMap<Kernel, Set<HostSocket>>();

/** enableHostNetwork puts k's inet sockets on the host's network stack. */
export function enableHostNetwork(k: Kernel): void {
  if (!hostKernels.has(k)) hostKernels.set(k, new Set());
}

/** usesHostNetwork reports whether k is in host mode. */
export function usesHostNetwork(k: Kernel): boolean {
  return hostKernels.has(k);
}

/** hostSockets lists k's open AF_INET/AF_INET6 host sockets (none unless in host mode). */
export function hostSockets(k: Kernel): HostSocket[] {
  return [...(hostKernels.get(k) ?? [])];
}

/** protocolFor checks (type, protocol) against what hostinet carries: TCP, UDP
 *  and ping sockets; returns the protocol the host socket is made with. */
export function protocolFor(family: number, type: number, protocol: number): number {
  switch (type) {
    case abi.SOCK_STREAM:
      if (protocol !== 0 && protocol !== IPPROTO_TCP) throw linuxerr.EPROTONOSUPPORT;
      return IPPROTO_TCP;
    case abi.SOCK_DGRAM: {
      const icmp = family === abi.AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
      if (protocol === icmp) return icmp;
      if (protocol !== 0 && protocol !== IPPROTO_UDP) throw linuxerr.EPROTONOSUPPORT;
      return IPPROTO_UDP;
    }
    default:
      // Raw sockets would need CAP_NET_RAW on the host, which the Sentry has not.
      throw linuxerr.ESOCKTNOSUPPORT;
  }
}

function create(t: Task, family: number, type: number, protocol: number): Socket {
  const p = protocolFor(family, type, protocol);
  const fd = native.netSocket(family, type, p);
  if (fd < 0) throw linuxerr.fromErrno(-fd);
  return new HostSocket(t.creds, family, type, p, fd, hostKernels.get(t.kernel) ?? null);
}

/** createNetlink makes NETLINK_ROUTE sockets host sockets, so that the guest
 *  sees the host's interfaces, addresses and routes (the host refuses changes:
 *  the Sentry has no CAP_NET_ADMIN there). Other netlink protocols stay the Sentry's. */
function createNetlink(t: Task, type: number, protocol: number): Socket {
  if (protocol !== NETLINK_ROUTE) {
    const own = familyOf(abi.AF_NETLINK);
    if (!own) throw linuxerr.EAFNOSUPPORT;
    return own.create(t, type, protocol);
  }
  if (type !== abi.SOCK_RAW && type !== abi.SOCK_DGRAM) throw linuxerr.ESOCKTNOSUPPORT;
  const fd = native.netSocket(abi.AF_NETLINK, type, protocol);
  if (fd < 0) throw linuxerr.fromErrno(-fd);
  return new HostSocket(t.creds, abi.AF_NETLINK, type, protocol, fd);
}

const netlink: SocketFamily = { create: createNetlink };
const inet: SocketFamily = { create: (t, type, protocol) => create(t, abi.AF_INET, type, protocol) };
const inet6: SocketFamily = { create: (t, type, protocol) => create(t, abi.AF_INET6, type, protocol) };

/** hostFamily returns the host-backed family for domain when k is in host mode, else null. */
export function hostFamily(k: Kernel, domain: number): SocketFamily | null {
  if (!hostKernels.has(k)) return null;
  if (domain === abi.AF_INET) return inet;
  if (domain === abi.AF_INET6) return inet6;
  if (domain === abi.AF_NETLINK) return netlink;
  return null;
}
