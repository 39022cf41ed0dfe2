// NETLINK_SOCK_DIAG (Linux's net/core/sock_diag.c): the requests `ss` sends
// to list sockets. SOCK_DIAG_BY_FAMILY goes to the family's handler:
// inet_diag (diag_inet.ts) for AF_INET/AF_INET6, unix_diag (diag_unix.ts)
// for AF_UNIX; other families have no handler here (ENOENT, as a kernel
// without that module). The old TCPDIAG_GETSOCK/DCCPDIAG_GETSOCK requests are
// served as inet_diag's compatibility path does. SOCK_DESTROY is
// EOPNOTSUPP (a kernel built without CONFIG_INET_DIAG_DESTROY).
//
// Every socket listed is the sandbox's own: its netstack endpoints and its
// Unix sockets. With --network=host the guest's inet sockets are host
// sockets: only the sandbox's own are listed, never the host's others.

import * as linuxerr from '../../../abi/linux/errno.js';
import { PROTO_TCP } from '../inventory.js';
import { audit } from './diag_bytecode.js';
import type { InetReq, InetSockInfo } from './diag_inet.js';
import {
  AF_INET, AF_INET6, AF_UNSPEC, REQ_BYTECODE, REQ_COMPAT_LEN, REQ_PROTOCOL, REQ_V2_LEN, encodeInetMsg, findOne,
  parseReqCompat, parseReqV2, selectDump,
} from './diag_inet.js';
import type { UnixSockInfo } from './diag_unix.js';
import { UNIX_REQ_LEN, encodeUnixMsg, findUnix, parseUnixReq, selectUnixDump } from './diag_unix.js';
import type { Message } from './message.js';
import { MessageBuilder, NLMSG_DONE, NLM_F_DUMP, NLM_F_MULTI, align, parseAttrs, u32Of } from './message.js';
import type { Result } from './route.js';
import { RouteError } from './route.js';

export const NETLINK_SOCK_DIAG = 4;
export const TCPDIAG_GETSOCK = 18;
export const DCCPDIAG_GETSOCK = 19;
export const SOCK_DIAG_BY_FAMILY = 20;
export const SOCK_DESTROY = 21;
const AF_UNIX = 1;
const AF_MAX = 46;
const IPPROTO_DCCP = 33;

/** DiagContext is what a request may see. */
export interface DiagContext {
  /** inet lists the sockets of a protocol, or returns null when there is no
   *  handler for it (an unknown protocol, or inet sockets that are the host's). */
  inet(protocol: number): InetSockInfo[] | null;
  unix(): UnixSockInfo[];
  /** admin: the requester has CAP_NET_ADMIN. */
  admin: boolean;
  warn(key: string, msg: string): void;
}

/** DiagResult is a Result whose dump may end with an error in its NLMSG_DONE. */
export interface DiagResult extends Result {
  done: Uint8Array | null;
}

function fail(e: linuxerr.SyscallError): never {
  throw new RouteError(e.errno);
}

/** doneWith builds the NLMSG_DONE ending a dump, carrying -errno (0: success). */
export function doneWith(seq: number, portid: number, errno: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, -errno, true);
  return new MessageBuilder(NLMSG_DONE, NLM_F_MULTI, seq, portid).bytes(b).finish();
}

function dumpResult(msgs: Uint8Array[], m: Message, portid: number, errno = 0): DiagResult {
  return { msgs, dump: true, done: doneWith(m.hdr.seq, portid, errno) };
}

/** processDiag handles one NETLINK_SOCK_DIAG request sent by portid; failures throw RouteError. */
export function processDiag(ctx: DiagContext, m: Message, portid: number): DiagResult {
  const t = m.hdr.type;
  const p = m.payload;
  if (t === TCPDIAG_GETSOCK || t === DCCPDIAG_GETSOCK) return compat(ctx, m, portid);
  if (t !== SOCK_DIAG_BY_FAMILY && t !== SOCK_DESTROY) fail(linuxerr.EINVAL);
  if (p.length < 2) fail(linuxerr.EINVAL);
  const family = p[0];
  if (family >= AF_MAX) fail(linuxerr.EINVAL);
  if (family === AF_INET || family === AF_INET6) return inet(ctx, m, portid);
  if (family === AF_UNIX) return unix(ctx, m, portid);
  ctx.warn(`sock_diag:family:${family}`, `sock_diag: no handler for address family ${family} (ENOENT)`);
  return fail(linuxerr.ENOENT);
}

function isDump(m: Message): boolean {
  return (m.hdr.flags & NLM_F_DUMP) !== 0;
}

/** checkBytecode audits the filter a dump carries (null: none). */
function checkBytecode(ctx: DiagContext, bc: Uint8Array | undefined): Uint8Array | null {
  if (bc === undefined) return null;
  const e = audit(bc, ctx.admin);
  if (e !== 0) throw new RouteError(e);
  return bc;
}

function inet(ctx: DiagContext, m: Message, portid: number): DiagResult {
  const p = m.payload;
  if (m.hdr.type === SOCK_DESTROY) {
    if (ctx.inet(p[1]) === null) fail(linuxerr.ENOENT);
    ctx.warn('sock_diag:destroy', 'sock_diag: SOCK_DESTROY is not supported (EOPNOTSUPP)');
    return fail(linuxerr.EOPNOTSUPP);
  }
  if (p.length < REQ_V2_LEN) fail(linuxerr.EINVAL);
  const req = parseReqV2(p);
  const attrs = parseAttrs(p.subarray(align(REQ_V2_LEN)));
  const proto = attrs.get(REQ_PROTOCOL);
  if (proto !== undefined) req.protocol = u32Of(proto);
  if (isDump(m)) {
    const bc = checkBytecode(ctx, attrs.get(REQ_BYTECODE));
    return dumpInet(ctx, req, bc, m, portid);
  }
  return exactInet(ctx, req, m, portid);
}

function dumpInet(ctx: DiagContext, req: InetReq, bc: Uint8Array | null, m: Message, portid: number): DiagResult {
  const socks = ctx.inet(req.protocol);
  if (socks === null) {
    ctx.warn(`sock_diag:proto:${req.protocol}`, `sock_diag: no inet_diag handler for protocol ${req.protocol} (ENOENT)`);
    return dumpResult([], m, portid, linuxerr.ENOENT.errno);
  }
  const msgs = selectDump(socks, req, bc).map((s) => encodeInetMsg(s, req.ext, m.hdr.type, NLM_F_MULTI, m.hdr.seq, portid));
  return dumpResult(msgs, m, portid);
}

function exactInet(ctx: DiagContext, req: InetReq, m: Message, portid: number): DiagResult {
  const socks = ctx.inet(req.protocol);
  if (socks === null) return fail(linuxerr.ENOENT);
  let s: InetSockInfo;
  try {
    s = findOne(socks, req);
  } catch (e) {
    if (e instanceof linuxerr.SyscallError) fail(e);
    throw e;
  }
  return { msgs: [encodeInetMsg(s, req.ext, m.hdr.type, 0, m.hdr.seq, portid)], dump: false, done: null };
}

/** compat serves struct inet_diag_req (inet_diag_rcv_msg_compat). */
function compat(ctx: DiagContext, m: Message, portid: number): DiagResult {
  const p = m.payload;
  if (p.length < REQ_COMPAT_LEN) fail(linuxerr.EINVAL);
  const protocol = m.hdr.type === TCPDIAG_GETSOCK ? PROTO_TCP : IPPROTO_DCCP;
  const req = parseReqCompat(p, protocol);
  if (isDump(m)) {
    // Any attribute at all must include a valid filter there.
    const rest = p.subarray(align(REQ_COMPAT_LEN));
    const bc = rest.length > 0 ? checkBytecode(ctx, parseAttrs(rest).get(REQ_BYTECODE) ?? new Uint8Array(0)) : null;
    req.family = AF_UNSPEC; // the compatibility dump lists both IP versions
    return dumpInet(ctx, req, bc, m, portid);
  }
  return exactInet(ctx, req, m, portid);
}

function unix(ctx: DiagContext, m: Message, portid: number): DiagResult {
  if (m.hdr.type === SOCK_DESTROY) {
    ctx.warn('sock_diag:destroy', 'sock_diag: SOCK_DESTROY is not supported (EOPNOTSUPP)');
    return fail(linuxerr.EOPNOTSUPP);
  }
  const p = m.payload;
  if (p.length < UNIX_REQ_LEN) fail(linuxerr.EINVAL);
  const req = parseUnixReq(p);
  const socks = ctx.unix();
  if (isDump(m)) {
    const msgs = selectUnixDump(socks, req).map((s) => encodeUnixMsg(s, req.show, m.hdr.type, NLM_F_MULTI, m.hdr.seq, portid));
    return dumpResult(msgs, m, portid);
  }
  let s: UnixSockInfo;
  try {
    s = findUnix(socks, req);
  } catch (e) {
    if (e instanceof linuxerr.SyscallError) fail(e);
    throw e;
  }
  return { msgs: [encodeUnixMsg(s, req.show, m.hdr.type, 0, m.hdr.seq, portid)], dump: false, done: null };
}
