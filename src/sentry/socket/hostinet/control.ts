// Control messages of host-backed sockets. Received ones are the host's
// (x86-64 layout, the guest's too) and are handed on as they are; sent ones
// pass only when their level and type are known to carry plain values (no
// descriptors, no credentials: SCM_RIGHTS would name the Sentry's own fds).

import { CMSG_HDR_LEN } from '../abi.js';
import { cmsgAlign } from '../control.js';

const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;

/** SEND_ALLOWED lists "level:type" of the messages sendmsg may pass to the host:
 *  IP_TOS, IP_TTL, IP_PKTINFO; IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS; UDP_SEGMENT. */
const SEND_ALLOWED = new Set(['0:1', '0:2', '0:8', '41:50', '41:52', '41:67', '17:103']);

function u64(dv: DataView, off: number): number {
  return dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 0x1_0000_0000;
}

/** forEachMessage calls fn for every well-formed message of buf (stopping at the first that is not). */
export function forEachMessage(buf: Uint8Array, fn: (level: number, type: number, data: Uint8Array) => void): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + CMSG_HDR_LEN <= buf.length) {
    const len = u64(dv, off);
    if (len < CMSG_HDR_LEN || len > buf.length - off) return;
    fn(dv.getInt32(off + 8, true), dv.getInt32(off + 12, true), buf.subarray(off + CMSG_HDR_LEN, off + len));
    off += cmsgAlign(len);
  }
}

/** hostSendControl returns the messages of the guest's control data the host may
 *  see, laid out again, or null when none is left. */
export function hostSendControl(raw: Uint8Array | null): Uint8Array | null {
  if (!raw) return null;
  const parts: Uint8Array[] = [];
  forEachMessage(raw, (level, type, data) => {
    if (!SEND_ALLOWED.has(`${level}:${type}`)) return;
    const m = new Uint8Array(CMSG_HDR_LEN + cmsgAlign(data.length));
    const dv = new DataView(m.buffer);
    dv.setUint32(0, CMSG_HDR_LEN + data.length, true);
    dv.setInt32(8, level, true);
    dv.setInt32(12, type, true);
    m.set(data, CMSG_HDR_LEN);
    parts.push(m);
  });
  if (parts.length === 0) return null;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** guestRecvControl keeps what a host receive brought back for the guest: every
 *  message but descriptors (which inet and netlink sockets never carry). */
export function guestRecvControl(buf: Uint8Array, len: number): Uint8Array | null {
  if (len <= 0) return null;
  let rights = false;
  const msgs = buf.subarray(0, len);
  forEachMessage(msgs, (level, type) => {
    if (level === SOL_SOCKET && type === SCM_RIGHTS) rights = true;
  });
  return rights ? null : msgs.slice();
}
