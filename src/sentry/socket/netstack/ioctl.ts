// ioctls of inet sockets beyond SIOCINQ/SIOCOUTQ: the TCP queue queries and
// the interface queries (struct ifreq / struct ifconf) programs use to find
// their addresses. Only what the stack's NICs can answer.

import * as linuxerr from '../../../abi/linux/errno.js';
import type { NIC } from '../../../netstack/index.js';
import { TCPEndpoint, subnetBroadcastV4 } from '../../../netstack/index.js';
import type { Task } from '../../kernel/task.js';
import { AF_INET } from '../abi.js';
import type { InetSocket } from './inet.js';
import { stackFor } from './stack.js';

export const SIOCATMARK = 0x8905;
export const SIOCGIFNAME = 0x8910;
export const SIOCGIFCONF = 0x8912;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCGIFADDR = 0x8915;
export const SIOCGIFNETMASK = 0x891b;
export const SIOCGIFMTU = 0x8921;
export const SIOCGIFHWADDR = 0x8927;
export const SIOCGIFINDEX = 0x8933;
export const SIOCGIFBRDADDR = 0x8919;
export const SIOCGIFMETRIC = 0x891d;
export const SIOCGIFTXQLEN = 0x8942;
export const SIOCOUTQNSD = 0x894b;

/** sizeof(struct ifreq) and sizeof(struct ifconf) on x86-64. */
const IFREQ_LEN = 40;
const IFCONF_LEN = 16;
const IFNAMSIZ = 16;
const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_RUNNING = 0x40;
const IFF_MULTICAST = 0x1000;
const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

/** ifFlags is what SIOCGIFFLAGS reports for nic. */
export function ifFlags(nic: NIC): number {
  const up = nic.enabled ? IFF_UP | IFF_RUNNING : 0;
  return up | (nic.isLoopback ? IFF_LOOPBACK : IFF_BROADCAST | IFF_MULTICAST);
}

/** sockaddrIn encodes a struct sockaddr_in for addr (4 raw bytes) at b[off]. */
function putSockaddrIn(b: Uint8Array, off: number, addr: string): void {
  b[off] = AF_INET;
  for (let i = 0; i < 4; i++) b[off + 4 + i] = addr.charCodeAt(i);
}

function netmask(prefixLen: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(8, prefixLen - 8 * i));
    s += String.fromCharCode((0xff00 >> bits) & 0xff);
  }
  return s;
}

function readName(req: Uint8Array): string {
  const z = req.indexOf(0);
  return new TextDecoder().decode(req.subarray(0, z >= 0 && z < IFNAMSIZ ? z : IFNAMSIZ));
}

/** inetIoctl handles cmd on s, or returns null for the generic socket ioctls. */
export function inetIoctl(t: Task, s: InetSocket, cmd: number, arg: number): number | null {
  const ep = s.ep;
  switch (cmd) {
    case SIOCATMARK:
      if (!(ep instanceof TCPEndpoint)) break;
      t.mm.writeI32(arg, ep.atMark ? 1 : 0);
      return 0;
    case SIOCOUTQNSD:
      if (!(ep instanceof TCPEndpoint)) break;
      if (ep.isListening()) throw linuxerr.EINVAL;
      t.mm.writeI32(arg, ep.unsentBytes);
      return 0;
  }
  return deviceIoctl(t, cmd, arg);
}

/** deviceIoctl answers the interface queries any socket takes (Linux's dev_ioctl and
 *  dev_ifconf, reached from every family), or returns null for other commands. */
export function deviceIoctl(t: Task, cmd: number, arg: number): number | null {
  switch (cmd) {
    case SIOCGIFCONF:
      return ifconf(t, arg);
    case SIOCGIFNAME: case SIOCGIFFLAGS: case SIOCGIFADDR: case SIOCGIFNETMASK: case SIOCGIFMTU:
    case SIOCGIFHWADDR: case SIOCGIFINDEX: case SIOCGIFBRDADDR: case SIOCGIFMETRIC: case SIOCGIFTXQLEN:
      return ifreq(t, cmd, arg);
  }
  return null;
}

function ifreq(t: Task, cmd: number, arg: number): number {
  const req = t.mm.copyIn(arg, IFREQ_LEN);
  const dv = new DataView(req.buffer, req.byteOffset, IFREQ_LEN);
  const stack = stackFor(t.kernel);
  let nic: NIC | undefined;
  if (cmd === SIOCGIFNAME) {
    nic = stack.nic(dv.getInt32(16, true));
    if (!nic) throw linuxerr.ENODEV;
    req.fill(0, 0, IFNAMSIZ);
    req.set(new TextEncoder().encode(nic.name).subarray(0, IFNAMSIZ - 1));
    t.mm.copyOut(arg, req);
    return 0;
  }
  nic = stack.nicByName(readName(req));
  if (!nic) throw linuxerr.ENODEV;
  req.fill(0, 16);
  switch (cmd) {
    case SIOCGIFINDEX:
      dv.setInt32(16, nic.id, true);
      break;
    case SIOCGIFFLAGS:
      dv.setInt16(16, ifFlags(nic), true);
      break;
    case SIOCGIFMTU:
      dv.setInt32(16, nic.link.mtu, true);
      break;
    case SIOCGIFMETRIC:
      break;
    case SIOCGIFTXQLEN:
      dv.setInt32(16, 1000, true);
      break;
    case SIOCGIFBRDADDR: {
      // Linux reports 0.0.0.0 for an address without a broadcast (loopback, /31, /32).
      const a = nic.v4[0];
      if (!a) throw linuxerr.EADDRNOTAVAIL;
      putSockaddrIn(req, 16, !nic.isLoopback && a.prefixLen < 31 ? subnetBroadcastV4(a.addr, a.prefixLen) : '\0\0\0\0');
      break;
    }
    case SIOCGIFADDR:
    case SIOCGIFNETMASK: {
      const a = nic.v4[0];
      if (!a) throw linuxerr.EADDRNOTAVAIL;
      putSockaddrIn(req, 16, cmd === SIOCGIFADDR ? a.addr : netmask(a.prefixLen));
      break;
    }
    case SIOCGIFHWADDR: {
      dv.setUint16(16, nic.isLoopback ? ARPHRD_LOOPBACK : ARPHRD_ETHER, true);
      const mac = nic.link.linkAddress;
      for (let i = 0; i < mac.length && i < 14; i++) req[18 + i] = mac.charCodeAt(i);
      break;
    }
  }
  t.mm.copyOut(arg, req);
  return 0;
}

/** ifconf is SIOCGIFCONF: one ifreq per interface with an IPv4 address. */
function ifconf(t: Task, arg: number): number {
  const hdr = t.mm.copyIn(arg, IFCONF_LEN);
  const dv = new DataView(hdr.buffer, hdr.byteOffset, IFCONF_LEN);
  const len = dv.getInt32(0, true);
  const buf = Number(dv.getBigUint64(8, true));
  const entries: Uint8Array[] = [];
  for (const nic of stackFor(t.kernel).allNICs()) {
    for (const a of nic.v4) {
      const e = new Uint8Array(IFREQ_LEN);
      e.set(new TextEncoder().encode(nic.name).subarray(0, IFNAMSIZ - 1));
      putSockaddrIn(e, 16, a.addr);
      entries.push(e);
    }
  }
  let used = 0;
  if (buf === 0) {
    used = entries.length * IFREQ_LEN;
  } else {
    for (const e of entries) {
      if (used + IFREQ_LEN > len) break;
      t.mm.copyOut(buf + used, e);
      used += IFREQ_LEN;
    }
  }
  t.mm.writeI32(arg, used);
  return 0;
}
