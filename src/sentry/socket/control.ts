// Control messages (ancillary data, struct cmsghdr): decoding what sendmsg
// passes and encoding what recvmsg returns, with Linux's truncation rules
// (put_cmsg and scm_detach_fds). Pure byte logic: descriptors are numbers here;
// the syscall layer turns them into files.

import * as linuxerr from '../../abi/linux/errno.js';
import type { UCred } from './abi.js';
import { CMSG_HDR_LEN, SCM_CREDENTIALS, SCM_MAX_FD, SCM_RIGHTS, SOL_SOCKET } from './abi.js';

/** cmsgAlign rounds up to the cmsg alignment (sizeof(long)). */
export function cmsgAlign(n: number): number {
  return (n + 7) & ~7;
}

/** cmsgLen is CMSG_LEN: header plus n data bytes. */
export function cmsgLen(n: number): number {
  return CMSG_HDR_LEN + n;
}

/** cmsgSpace is CMSG_SPACE: what a cmsg with n data bytes occupies. */
export function cmsgSpace(n: number): number {
  return CMSG_HDR_LEN + cmsgAlign(n);
}

/** SendControl is what sendmsg's control data asks for. */
export interface SendControl {
  /** Descriptors from SCM_RIGHTS messages, in order (null: none). */
  fds: number[] | null;
  /** An SCM_CREDENTIALS message, unchecked (null: none). */
  creds: UCred | null;
}

function u64(dv: DataView, off: number): number {
  return dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 0x1_0000_0000;
}

/** parseControl decodes sendmsg control data as Linux's __scm_send does:
 *  EINVAL for a malformed header, too many descriptors, a bad credentials
 *  size or an unknown SOL_SOCKET type; other levels are skipped. */
export function parseControl(buf: Uint8Array): SendControl {
  const out: SendControl = { fds: null, creds: null };
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const size = buf.length;
  let off = 0;
  while (off + CMSG_HDR_LEN <= size) {
    const len = u64(dv, off);
    // CMSG_OK: the header fits, and the message stays inside the buffer.
    if (len < CMSG_HDR_LEN || len > size - off) throw linuxerr.EINVAL;
    const level = dv.getInt32(off + 8, true);
    const type = dv.getInt32(off + 12, true);
    if (level === SOL_SOCKET) {
      const data = off + CMSG_HDR_LEN;
      const dlen = len - CMSG_HDR_LEN;
      switch (type) {
        case SCM_RIGHTS: {
          const n = Math.floor(dlen / 4);
          if (n > 0) {
            const fds = (out.fds ??= []);
            if (fds.length + n > SCM_MAX_FD) throw linuxerr.EINVAL;
            for (let i = 0; i < n; i++) fds.push(dv.getInt32(data + 4 * i, true));
          }
          break;
        }
        case SCM_CREDENTIALS:
          if (dlen !== 12) throw linuxerr.EINVAL;
          out.creds = { pid: dv.getInt32(data, true), uid: dv.getUint32(data + 4, true), gid: dv.getUint32(data + 8, true) };
          break;
        default:
          throw linuxerr.EINVAL;
      }
    }
    off += cmsgAlign(len);
  }
  return out;
}

/** ControlWriter builds recvmsg control data into a buffer of the caller's size. */
export class ControlWriter {
  private readonly buf: Uint8Array;
  private readonly dv: DataView;
  /** used is how far messages have advanced (the msg_controllen recvmsg reports). */
  used = 0;
  /** truncated is set when something did not fit (MSG_CTRUNC). */
  truncated = false;

  /** capacity is the guest's msg_controllen (0 without a control buffer). */
  constructor(private readonly capacity: number) {
    // What recvmsg writes is small (credentials and at most SCM_MAX_FD descriptors).
    this.buf = new Uint8Array(Math.min(capacity, 4096));
    this.dv = new DataView(this.buf.buffer);
  }

  get room(): number {
    return this.capacity - this.used;
  }

  private header(len: number, type: number): void {
    this.dv.setUint32(this.used, len, true);
    this.dv.setUint32(this.used + 4, 0, true);
    this.dv.setInt32(this.used + 8, SOL_SOCKET, true);
    this.dv.setInt32(this.used + 12, type, true);
  }

  /** put adds one SOL_SOCKET message, cutting it short when room runs out (put_cmsg). */
  put(type: number, data: Uint8Array): void {
    if (this.room < CMSG_HDR_LEN) {
      this.truncated = true;
      return;
    }
    let len = cmsgLen(data.length);
    if (this.room < len) {
      this.truncated = true;
      len = this.room;
    }
    this.header(len, type);
    this.buf.set(data.subarray(0, len - CMSG_HDR_LEN), this.used + CMSG_HDR_LEN);
    this.used += Math.min(cmsgSpace(data.length), this.room);
  }

  /** putMessage adds a message of any level, cut short like put (host-backed sockets' messages). */
  putMessage(level: number, type: number, data: Uint8Array): void {
    const at = this.used;
    this.put(type, data);
    if (this.used > at) this.dv.setInt32(at + 8, level, true);
  }

  /** putCreds adds an SCM_CREDENTIALS message. */
  putCreds(c: UCred): void {
    const d = new Uint8Array(12);
    const dv = new DataView(d.buffer);
    dv.setInt32(0, c.pid, true);
    dv.setUint32(4, c.uid >>> 0, true);
    dv.setUint32(8, c.gid >>> 0, true);
    this.put(SCM_CREDENTIALS, d);
  }

  /** rightsRoom is how many descriptors an SCM_RIGHTS message may carry now (scm_max_fds). */
  rightsRoom(): number {
    const r = this.room;
    return r <= CMSG_HDR_LEN ? 0 : Math.floor((r - CMSG_HDR_LEN) / 4);
  }

  /** putRights adds an SCM_RIGHTS message of installed descriptors (at most rightsRoom()),
   *  offered is how many were on hand: fewer written means MSG_CTRUNC. */
  putRights(fds: number[], offered: number): void {
    if (fds.length > 0) {
      this.header(cmsgLen(4 * fds.length), SCM_RIGHTS);
      for (let i = 0; i < fds.length; i++) this.dv.setInt32(this.used + CMSG_HDR_LEN + 4 * i, fds[i], true);
      this.used += Math.min(cmsgSpace(4 * fds.length), this.room);
    }
    if (fds.length < offered) this.truncated = true;
  }

  /** bytes returns the control data written. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.used);
  }
}
