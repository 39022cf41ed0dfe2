// NETLINK_ROUTE (rtnetlink, Linux's net/core/rtnetlink.c, net/ipv4/devinet.c,
// net/ipv4/fib_frontend.c, net/ipv6/addrconf.c): links, addresses and routes
// of the sandbox's netstack, read by dumps and changed by `ip`.
//
// Pure protocol logic over a netstack Stack: the socket layer (netlink.ts)
// adds the acks, NLMSG_DONE and the packing into datagrams.

import type { Address, NIC, RouteEntry, Stack } from '../../../netstack/index.js';
import { TcpipError, isLinkLocalV6, maskAddress, subnetBroadcastV4 } from '../../../netstack/index.js';
import { ERRNO } from '../../../abi/linux/errno.js';
import type { Attrs, Message } from './message.js';
import { MessageBuilder, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_MULTI, binOf, parseAttrs, strOf, u32Of } from './message.js';

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_GETNEIGH = 30;
export const RTM_GETRULE = 34;
export const RTM_GETQDISC = 38;
export const RTM_GETNETCONF = 82;

const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_PACKET = 17;

// struct ifinfomsg (16 bytes) and its attributes.
const IFINFOMSG_LEN = 16;
const IFLA_ADDRESS = 1;
const IFLA_BROADCAST = 2;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINK = 5;
const IFLA_QDISC = 6;
const IFLA_TXQLEN = 13;
const IFLA_OPERSTATE = 16;
const IFLA_LINKMODE = 17;
const IFLA_GROUP = 27;
const IFLA_LINKINFO = 18;
const IFLA_CARRIER = 33;
const IF_OPER_UNKNOWN = 0;
const IF_OPER_DOWN = 2;
const IF_OPER_UP = 6;
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;
export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;

// struct ifaddrmsg (8 bytes) and its attributes.
const IFADDRMSG_LEN = 8;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_BROADCAST = 4;
const IFA_CACHEINFO = 6;
const IFA_FLAGS = 8;
const IFA_F_PERMANENT = 0x80;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;

// struct rtmsg (12 bytes) and its attributes.
const RTMSG_LEN = 12;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_TABLE = 15;
const RTA_PREF = 20;
const RT_TABLE_UNSPEC = 0;
const RT_TABLE_MAIN = 254;
const RT_TABLE_LOCAL = 255;
const RTPROT_KERNEL = 2;
const RTPROT_BOOT = 3;
const RTN_UNICAST = 1;
const RTN_LOCAL = 2;
const RTM_F_CLONED = 0x200;

/** RouteContext is what a request may use: the stack and the caller's rights. */
export interface RouteContext {
  stack: Stack;
  /** admin: the caller has CAP_NET_ADMIN (changes need it). */
  admin: boolean;
  /** strict: NETLINK_GET_STRICT_CHK is set (dumps honour the request's filters). */
  strict: boolean;
  warn(key: string, msg: string): void;
}

/** Result is a request's outcome: messages to queue, and whether they form a dump. */
export interface Result {
  msgs: Uint8Array[];
  dump: boolean;
}

/** RouteError carries the errno a request fails with (NLMSG_ERROR). */
export class RouteError extends Error {
  constructor(readonly errno: number) {
    super(`rtnetlink errno ${errno}`);
  }
}

function fail(errno: number): never {
  throw new RouteError(errno);
}

/** processRoute handles one rtnetlink request sent by portid. */
export function processRoute(ctx: RouteContext, m: Message, portid: number): Result {
  const dump = (m.hdr.flags & NLM_F_DUMP) === NLM_F_DUMP;
  const type = m.hdr.type;
  const isGet = (type & 3) === 2;
  if (!isGet && !ctx.admin) fail(ERRNO.EPERM);
  switch (type) {
    case RTM_GETLINK:
      return dump ? { msgs: dumpLinks(ctx, m, portid), dump } : { msgs: [getLink(ctx, m, portid)], dump };
    case RTM_GETADDR:
      if (!dump) fail(ERRNO.EOPNOTSUPP);
      return { msgs: dumpAddrs(ctx, m, portid), dump };
    case RTM_GETROUTE:
      return dump ? { msgs: dumpRoutes(ctx, m, portid), dump } : { msgs: [getRoute(ctx, m, portid)], dump };
    case RTM_NEWLINK: case RTM_SETLINK:
      setLink(ctx, m);
      return { msgs: [], dump: false };
    case RTM_NEWADDR:
      newAddr(ctx, m);
      return { msgs: [], dump: false };
    case RTM_DELADDR:
      delAddr(ctx, m);
      return { msgs: [], dump: false };
    case RTM_NEWROUTE:
      newRoute(ctx, m);
      return { msgs: [], dump: false };
    case RTM_DELROUTE:
      delRoute(ctx, m);
      return { msgs: [], dump: false };
    case RTM_GETNEIGH: case RTM_GETRULE: case RTM_GETQDISC: case RTM_GETNETCONF:
      // Nothing to report: an empty dump (neighbours, rules, qdiscs are not modelled).
      if (dump) return { msgs: [], dump };
      fail(ERRNO.EOPNOTSUPP);
      break;
    case RTM_DELLINK:
      ctx.warn('rtnl:dellink', 'rtnetlink: RTM_DELLINK is not supported (EOPNOTSUPP)');
      fail(ERRNO.EOPNOTSUPP);
  }
  ctx.warn(`rtnl:${type}`, `rtnetlink: message type ${type} is not supported (EOPNOTSUPP)`);
  fail(ERRNO.EOPNOTSUPP);
}

// ---- Helpers ----

function family(m: Message): number {
  return m.payload.length >= 1 ? m.payload[0] : AF_UNSPEC;
}

/** fixed returns the request's fixed header struct, zero-extended to n bytes
 *  (old tools send a 1-byte rtgenmsg where the struct belongs). */
function fixed(m: Message, n: number): DataView {
  const b = new Uint8Array(n);
  b.set(m.payload.subarray(0, n));
  return new DataView(b.buffer);
}

function attrsAfter(m: Message, n: number): Attrs {
  return m.payload.length > n ? parseAttrs(m.payload.subarray(n)) : new Map();
}

function nicOrFail(ctx: RouteContext, id: number): NIC {
  const nic = ctx.stack.nic(id);
  if (!nic) fail(ERRNO.ENODEV);
  return nic;
}

/** linkFlags is ifi_flags for nic. */
export function linkFlags(nic: NIC): number {
  const up = nic.enabled ? IFF_UP | IFF_RUNNING | IFF_LOWER_UP : 0;
  return up | (nic.isLoopback ? IFF_LOOPBACK : IFF_BROADCAST | IFF_MULTICAST);
}

/** scopeOf is an address's scope as Linux assigns it. */
export function scopeOf(a: Address): number {
  if (a.length === 4) return a.charCodeAt(0) === 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
  if (a === '\0'.repeat(15) + '\x01') return RT_SCOPE_HOST;
  return isLinkLocalV6(a) ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
}

// ---- Links ----

function linkMessage(nic: NIC, type: number, flags: number, seq: number, portid: number): Uint8Array {
  const hdr = new Uint8Array(IFINFOMSG_LEN);
  const dv = new DataView(hdr.buffer);
  dv.setUint16(2, nic.isLoopback ? ARPHRD_LOOPBACK : ARPHRD_ETHER, true);
  dv.setInt32(4, nic.id, true);
  dv.setUint32(8, linkFlags(nic), true);
  const b = new MessageBuilder(type, flags, seq, portid).bytes(hdr);
  b.str(IFLA_IFNAME, nic.name);
  b.u32(IFLA_TXQLEN, nic.isLoopback ? 1000 : 1000);
  b.u8(IFLA_OPERSTATE, !nic.enabled ? IF_OPER_DOWN : nic.isLoopback ? IF_OPER_UNKNOWN : IF_OPER_UP);
  b.u8(IFLA_LINKMODE, 0);
  b.u32(IFLA_MTU, nic.link.mtu);
  b.u32(IFLA_GROUP, 0);
  b.str(IFLA_QDISC, 'noqueue');
  b.u8(IFLA_CARRIER, 1);
  const mac = nic.isLoopback ? '\0'.repeat(6) : nic.link.linkAddress;
  if (mac.length > 0) {
    b.binary(IFLA_ADDRESS, mac);
    b.binary(IFLA_BROADCAST, nic.isLoopback ? '\0'.repeat(6) : '\xff'.repeat(mac.length));
  }
  return b.finish();
}

function dumpLinks(ctx: RouteContext, m: Message, portid: number): Uint8Array[] {
  const index = ctx.strict ? fixed(m, IFINFOMSG_LEN).getInt32(4, true) : 0;
  if (ctx.strict && index !== 0) fail(ERRNO.EINVAL); // a dump takes no index in strict mode
  return ctx.stack.allNICs().map((nic) => linkMessage(nic, RTM_NEWLINK, NLM_F_MULTI, m.hdr.seq, portid));
}

function findLink(ctx: RouteContext, m: Message): NIC {
  const index = fixed(m, IFINFOMSG_LEN).getInt32(4, true);
  const attrs = attrsAfter(m, IFINFOMSG_LEN);
  if (index > 0) return nicOrFail(ctx, index);
  const name = strOf(attrs.get(IFLA_IFNAME));
  const nic = name ? ctx.stack.nicByName(name) : undefined;
  if (!nic) fail(ERRNO.ENODEV);
  return nic;
}

function getLink(ctx: RouteContext, m: Message, portid: number): Uint8Array {
  return linkMessage(findLink(ctx, m), RTM_NEWLINK, 0, m.hdr.seq, portid);
}

function setLink(ctx: RouteContext, m: Message): void {
  const dv = fixed(m, IFINFOMSG_LEN);
  const attrs = attrsAfter(m, IFINFOMSG_LEN);
  const index = dv.getInt32(4, true);
  const name0 = strOf(attrs.get(IFLA_IFNAME));
  const exists = index > 0 ? ctx.stack.nic(index) !== undefined : name0 !== '' && ctx.stack.nicByName(name0) !== undefined;
  if (!exists && m.hdr.flags & NLM_F_CREATE) {
    // `ip link add`: creating links (veth, bridge, dummy) is not modelled.
    ctx.warn('rtnl:newlink', 'rtnetlink: creating links is not supported (EOPNOTSUPP)');
    fail(ERRNO.EOPNOTSUPP);
  }
  const nic = findLink(ctx, m);
  if (attrs.has(IFLA_LINKINFO) || attrs.has(IFLA_LINK)) {
    if (m.hdr.flags & NLM_F_CREATE && m.hdr.flags & NLM_F_EXCL) fail(ERRNO.EEXIST);
    ctx.warn('rtnl:linkinfo', 'rtnetlink: link kinds are not supported (EOPNOTSUPP)');
    fail(ERRNO.EOPNOTSUPP);
  }
  const mtu = attrs.get(IFLA_MTU);
  if (mtu && u32Of(mtu) !== nic.link.mtu) {
    ctx.warn('rtnl:mtu', 'rtnetlink: changing a link MTU is not supported (EOPNOTSUPP)');
    fail(ERRNO.EOPNOTSUPP);
  }
  const name = attrs.get(IFLA_IFNAME);
  if (index > 0 && name && strOf(name) !== nic.name) {
    ctx.warn('rtnl:rename', 'rtnetlink: renaming links is not supported (EOPNOTSUPP)');
    fail(ERRNO.EOPNOTSUPP);
  }
  const flags = dv.getUint32(8, true);
  const change = dv.getUint32(12, true);
  // ifi_change 0 means "all bits" for old tools (rtnl_dev_combine_flags).
  if ((change === 0 && flags !== 0) || (change & IFF_UP)) nic.enabled = (flags & IFF_UP) !== 0;
}

// ---- Addresses ----

function addrMessage(nic: NIC, a: { addr: Address; prefixLen: number }, seq: number, portid: number): Uint8Array {
  const v4 = a.addr.length === 4;
  const hdr = new Uint8Array(IFADDRMSG_LEN);
  hdr[0] = v4 ? AF_INET : AF_INET6;
  hdr[1] = a.prefixLen;
  hdr[2] = IFA_F_PERMANENT;
  hdr[3] = scopeOf(a.addr);
  new DataView(hdr.buffer).setUint32(4, nic.id, true);
  const b = new MessageBuilder(RTM_NEWADDR, NLM_F_MULTI, seq, portid).bytes(hdr);
  b.binary(IFA_ADDRESS, a.addr);
  if (v4) {
    b.binary(IFA_LOCAL, a.addr);
    if (!nic.isLoopback && a.prefixLen < 31) b.binary(IFA_BROADCAST, subnetBroadcastV4(a.addr, a.prefixLen));
    b.str(IFA_LABEL, nic.name);
  }
  b.u32(IFA_FLAGS, hdr[2]);
  const ci = new Uint8Array(16);
  const cdv = new DataView(ci.buffer);
  cdv.setUint32(0, 0xffffffff, true); // preferred: forever
  cdv.setUint32(4, 0xffffffff, true); // valid: forever
  return b.attr(IFA_CACHEINFO, ci).finish();
}

function dumpAddrs(ctx: RouteContext, m: Message, portid: number): Uint8Array[] {
  const fam = family(m);
  const index = ctx.strict ? fixed(m, IFADDRMSG_LEN).getUint32(4, true) : 0;
  const out: Uint8Array[] = [];
  // Linux walks the families in order: IPv4 addresses of every link, then IPv6.
  for (const v of [4, 6] as const) {
    if (fam !== AF_UNSPEC && fam !== AF_PACKET && fam !== (v === 4 ? AF_INET : AF_INET6)) continue;
    for (const nic of ctx.stack.allNICs()) {
      if (index && nic.id !== index) continue;
      for (const a of v === 4 ? nic.v4 : nic.v6) out.push(addrMessage(nic, a, m.hdr.seq, portid));
    }
  }
  return out;
}

function addrRequest(ctx: RouteContext, m: Message): { nic: NIC; addr: Address; prefixLen: number } {
  const dv = fixed(m, IFADDRMSG_LEN);
  const fam = dv.getUint8(0);
  if (fam !== AF_INET && fam !== AF_INET6) fail(ERRNO.EAFNOSUPPORT);
  const prefixLen = dv.getUint8(1);
  const nic = nicOrFail(ctx, dv.getUint32(4, true));
  const attrs = attrsAfter(m, IFADDRMSG_LEN);
  const raw = attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS);
  const len = fam === AF_INET ? 4 : 16;
  if (!raw || raw.length !== len || prefixLen > len * 8) fail(ERRNO.EINVAL);
  return { nic, addr: binOf(raw), prefixLen };
}

function newAddr(ctx: RouteContext, m: Message): void {
  const r = addrRequest(ctx, m);
  if (r.nic.hasAddress(r.addr)) fail(ERRNO.EEXIST);
  stackCall(() => ctx.stack.addAddress(r.nic.id, r.addr, r.prefixLen));
}

function delAddr(ctx: RouteContext, m: Message): void {
  const r = addrRequest(ctx, m);
  if (!r.nic.hasAddress(r.addr)) fail(ERRNO.EADDRNOTAVAIL);
  stackCall(() => ctx.stack.removeAddress(r.nic.id, r.addr));
}

function stackCall(op: () => void): void {
  try {
    op();
  } catch (e) {
    if (e instanceof TcpipError) fail(e.errno);
    throw e;
  }
}

// ---- Routes ----

/** tableOf: the connected route of 127/8 on loopback lives in Linux's local table, not main. */
function tableOf(ctx: RouteContext, r: RouteEntry): number {
  const local = r.destination.length === 4 && r.destination.charCodeAt(0) === 127 && r.gateway === '' &&
    ctx.stack.nic(r.nic)?.isLoopback;
  return local ? RT_TABLE_LOCAL : RT_TABLE_MAIN;
}

function routeMessage(ctx: RouteContext, r: RouteEntry, flags: number, seq: number, portid: number, cloned = false, src: Address = ''): Uint8Array {
  const v4 = r.destination.length === 4;
  const table = tableOf(ctx, r);
  const local = table === RT_TABLE_LOCAL;
  const hdr = new Uint8Array(RTMSG_LEN);
  hdr[0] = v4 ? AF_INET : AF_INET6;
  hdr[1] = r.prefixLen;
  hdr[4] = table;
  hdr[5] = r.gateway === '' ? RTPROT_KERNEL : RTPROT_BOOT;
  hdr[6] = local ? RT_SCOPE_HOST : r.gateway === '' && v4 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  hdr[7] = local ? RTN_LOCAL : RTN_UNICAST;
  if (cloned) new DataView(hdr.buffer).setUint32(8, RTM_F_CLONED, true);
  const b = new MessageBuilder(RTM_NEWROUTE, flags, seq, portid).bytes(hdr);
  b.u32(RTA_TABLE, table);
  if (r.prefixLen > 0) b.binary(RTA_DST, r.destination);
  if (!v4) b.u32(RTA_PRIORITY, r.gateway === '' ? 256 : 1024);
  b.u32(RTA_OIF, r.nic);
  if (r.gateway !== '') b.binary(RTA_GATEWAY, r.gateway);
  // Only connected routes carry a preferred source (the kernel's own), and `ip route get` answers.
  const nic = ctx.stack.nic(r.nic);
  const pref = src || (v4 && nic && r.gateway === '' ? nic.primaryAddress(4, r.destination) : '');
  if (pref) b.binary(RTA_PREFSRC, pref);
  if (!v4) b.u8(RTA_PREF, 0);
  return b.finish();
}

function dumpRoutes(ctx: RouteContext, m: Message, portid: number): Uint8Array[] {
  const fam = family(m);
  const table = ctx.strict ? fixed(m, RTMSG_LEN).getUint8(4) : 0;
  const out: Uint8Array[] = [];
  for (const v of [4, 16]) {
    if (fam !== AF_UNSPEC && fam !== (v === 4 ? AF_INET : AF_INET6)) continue;
    // The stack keeps longest prefix first; Linux's dump walks its trie in address order.
    const rows = ctx.stack.routeTable.filter((r) => r.destination.length === v)
      .sort((a, b) => (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : a.prefixLen - b.prefixLen));
    for (const r of rows) {
      if (table !== RT_TABLE_UNSPEC && tableOf(ctx, r) !== table) continue;
      out.push(routeMessage(ctx, r, NLM_F_MULTI, m.hdr.seq, portid));
    }
  }
  return out;
}

/** getRoute answers `ip route get`: the route the stack would use. */
function getRoute(ctx: RouteContext, m: Message, portid: number): Uint8Array {
  const dv = fixed(m, RTMSG_LEN);
  const fam = dv.getUint8(0);
  const attrs = attrsAfter(m, RTMSG_LEN);
  const dst = attrs.get(RTA_DST);
  const len = fam === AF_INET ? 4 : fam === AF_INET6 ? 16 : 0;
  if (len === 0) fail(ERRNO.EAFNOSUPPORT);
  if (!dst || dst.length !== len) fail(ERRNO.EINVAL);
  const remote = binOf(dst);
  const oif = u32Of(attrs.get(RTA_OIF));
  let route;
  try {
    route = ctx.stack.findRoute(oif, '', remote, len === 4 ? 4 : 6);
  } catch (e) {
    if (e instanceof TcpipError) fail(e.errno);
    throw e;
  }
  const gw = route.nextHop !== remote ? route.nextHop : '';
  const entry: RouteEntry = { destination: remote, prefixLen: len * 8, gateway: gw, nic: route.nic.id };
  return routeMessage(ctx, entry, 0, m.hdr.seq, portid, true, route.local);
}

function routeRequest(ctx: RouteContext, m: Message): RouteEntry & { explicitNic: boolean } {
  const dv = fixed(m, RTMSG_LEN);
  const fam = dv.getUint8(0);
  const len = fam === AF_INET ? 4 : fam === AF_INET6 ? 16 : 0;
  if (len === 0) fail(ERRNO.EAFNOSUPPORT);
  const prefixLen = dv.getUint8(1);
  if (prefixLen > len * 8) fail(ERRNO.EINVAL);
  const attrs = attrsAfter(m, RTMSG_LEN);
  let table = dv.getUint8(4);
  if (attrs.has(RTA_TABLE)) table = u32Of(attrs.get(RTA_TABLE));
  if (table !== RT_TABLE_UNSPEC && table !== RT_TABLE_MAIN) {
    ctx.warn('rtnl:table', 'rtnetlink: only the main routing table can be changed (EOPNOTSUPP)');
    fail(ERRNO.EOPNOTSUPP);
  }
  const dstRaw = attrs.get(RTA_DST);
  if (dstRaw && dstRaw.length !== len) fail(ERRNO.EINVAL);
  const destination = maskAddress(dstRaw ? binOf(dstRaw) : '\0'.repeat(len), prefixLen);
  const gwRaw = attrs.get(RTA_GATEWAY);
  if (gwRaw && gwRaw.length !== len) fail(ERRNO.EINVAL);
  const gateway = gwRaw ? binOf(gwRaw) : '';
  const oif = u32Of(attrs.get(RTA_OIF));
  return { destination, prefixLen, gateway, nic: oif, explicitNic: oif !== 0 };
}

function newRoute(ctx: RouteContext, m: Message): void {
  const r = routeRequest(ctx, m);
  if (r.explicitNic) nicOrFail(ctx, r.nic);
  if (r.gateway !== '') {
    // The gateway must be reachable on a link (fib_check_nh: ENETUNREACH).
    const nic = ctx.stack.allNICs().find((n) => (!r.explicitNic || n.id === r.nic) && n.onLinkPrefix(r.gateway));
    if (!nic) fail(ERRNO.ENETUNREACH);
    r.nic = nic.id;
  } else if (!r.explicitNic) {
    fail(ERRNO.ENODEV);
  }
  const same = ctx.stack.routeTable.find((x) => x.destination === r.destination && x.prefixLen === r.prefixLen);
  if (same) {
    if (m.hdr.flags & NLM_F_EXCL || !(m.hdr.flags & 0x100 /* NLM_F_REPLACE */)) fail(ERRNO.EEXIST);
    ctx.stack.removeRoutes((x) => x === same);
  }
  ctx.stack.addRoute({ destination: r.destination, prefixLen: r.prefixLen, gateway: r.gateway, nic: r.nic });
}

function delRoute(ctx: RouteContext, m: Message): void {
  const r = routeRequest(ctx, m);
  const n = ctx.stack.removeRoutes((x) => x.destination === r.destination && x.prefixLen === r.prefixLen &&
    (r.gateway === '' || x.gateway === r.gateway) && (!r.explicitNic || x.nic === r.nic));
  if (n === 0) fail(ERRNO.ESRCH);
}
