// unix_diag (Linux's net/unix/diag.c): the AF_UNIX part of NETLINK_SOCK_DIAG,
// what `ss -x` asks. Requests are struct unix_diag_req; answers struct
// unix_diag_msg with the attributes udiag_show selects.

import * as linuxerr from '../../../abi/linux/errno.js';
import { MessageBuilder } from './message.js';

/** sizeof(struct unix_diag_req), sizeof(struct unix_diag_msg). */
export const UNIX_REQ_LEN = 24;
export const UNIX_MSG_LEN = 16;
const AF_UNIX = 1;
const NOCOOKIE = 0xffffffff;

// udiag_show bits.
export const UDIAG_SHOW_NAME = 0x01;
export const UDIAG_SHOW_VFS = 0x02;
export const UDIAG_SHOW_PEER = 0x04;
export const UDIAG_SHOW_ICONS = 0x08;
export const UDIAG_SHOW_RQLEN = 0x10;
export const UDIAG_SHOW_MEMINFO = 0x20;
export const UDIAG_SHOW_UID = 0x40;

// Answer attributes.
export const UNIX_DIAG_NAME = 0;
export const UNIX_DIAG_VFS = 1;
export const UNIX_DIAG_PEER = 2;
export const UNIX_DIAG_ICONS = 3;
export const UNIX_DIAG_RQLEN = 4;
export const UNIX_DIAG_MEMINFO = 5;
export const UNIX_DIAG_SHUTDOWN = 6;
export const UNIX_DIAG_UID = 7;

/** UnixReq is a decoded struct unix_diag_req. */
export interface UnixReq {
  protocol: number;
  states: number;
  ino: number;
  show: number;
  cookie: [number, number];
}

/** parseUnixReq decodes a request (the caller checked its length). */
export function parseUnixReq(p: Uint8Array): UnixReq {
  const dv = new DataView(p.buffer, p.byteOffset, UNIX_REQ_LEN);
  return {
    protocol: p[1],
    states: dv.getUint32(4, true),
    ino: dv.getUint32(8, true),
    show: dv.getUint32(12, true),
    cookie: [dv.getUint32(16, true), dv.getUint32(20, true)],
  };
}

/** UnixSockInfo is what one record shows of a Unix socket. */
export interface UnixSockInfo {
  type: number;
  /** state: TCP_LISTEN, TCP_ESTABLISHED (connected) or TCP_CLOSE. */
  state: number;
  ino: number;
  cookie: number;
  /** name: sun_path as bound (a path with its NUL, or an abstract name with its leading NUL); null if unnamed. */
  name: Uint8Array | null;
  /** The bound node: its inode number and device (new_encode_dev), if this socket made it. */
  vfs: { ino: number; dev: number } | null;
  /** peer: the peer's inode number (0 once it is closed); null without a peer. */
  peer: number | null;
  /** icons: for a listener, the inode numbers of the clients of its pending connections. */
  icons: number[] | null;
  /** rqueue/wqueue: bytes queued (a listener: pending connections and backlog). */
  rqueue: number;
  wqueue: number;
  /** SK_MEMINFO_* values. */
  meminfo: number[];
  shutdown: number;
  uid: number;
}

function u32s(vals: number[]): Uint8Array {
  const b = new Uint8Array(vals.length * 4);
  const dv = new DataView(b.buffer);
  vals.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, true));
  return b;
}

/** encodeUnixMsg builds one answer (sk_diag_fill). */
export function encodeUnixMsg(s: UnixSockInfo, show: number, type: number, flags: number, seq: number, portid: number): Uint8Array {
  const r = new Uint8Array(UNIX_MSG_LEN);
  const dv = new DataView(r.buffer);
  r[0] = AF_UNIX;
  r[1] = s.type;
  r[2] = s.state;
  dv.setUint32(4, s.ino >>> 0, true);
  dv.setUint32(8, s.cookie % 2 ** 32, true);
  dv.setUint32(12, Math.floor(s.cookie / 2 ** 32), true);
  const b = new MessageBuilder(type, flags, seq, portid).bytes(r);
  if (show & UDIAG_SHOW_NAME && s.name) b.attr(UNIX_DIAG_NAME, s.name);
  if (show & UDIAG_SHOW_VFS && s.vfs) b.attr(UNIX_DIAG_VFS, u32s([s.vfs.ino, s.vfs.dev]));
  if (show & UDIAG_SHOW_PEER && s.peer !== null) b.u32(UNIX_DIAG_PEER, s.peer);
  if (show & UDIAG_SHOW_ICONS && s.icons) b.attr(UNIX_DIAG_ICONS, u32s(s.icons));
  if (show & UDIAG_SHOW_RQLEN) b.attr(UNIX_DIAG_RQLEN, u32s([s.rqueue, s.wqueue]));
  if (show & UDIAG_SHOW_MEMINFO) b.attr(UNIX_DIAG_MEMINFO, u32s(s.meminfo));
  b.u8(UNIX_DIAG_SHUTDOWN, s.shutdown);
  if (show & UDIAG_SHOW_UID) b.u32(UNIX_DIAG_UID, s.uid);
  return b.finish();
}

/** selectUnixDump keeps the sockets whose state the request asks for. */
export function selectUnixDump(socks: UnixSockInfo[], req: UnixReq): UnixSockInfo[] {
  return socks.filter((s) => (req.states & (1 << s.state)) !== 0);
}

/** findUnix is unix_diag_get_exact's lookup: EINVAL for inode 0, ENOENT without
 *  a match, ESTALE on a cookie mismatch. */
export function findUnix(socks: UnixSockInfo[], req: UnixReq): UnixSockInfo {
  if (req.ino === 0) throw linuxerr.EINVAL;
  const s = socks.find((x) => x.ino === req.ino);
  if (!s) throw linuxerr.ENOENT;
  const [lo, hi] = req.cookie;
  if (!(lo === NOCOOKIE && hi === NOCOOKIE) && (lo !== s.cookie % 2 ** 32 || hi !== Math.floor(s.cookie / 2 ** 32))) {
    throw linuxerr.ESTALE;
  }
  return s;
}
