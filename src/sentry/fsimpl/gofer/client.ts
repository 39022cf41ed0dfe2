// GoferClient: synchronous RPCs to one Gofer over a blocking SOCK_SEQPACKET
// socket. The Sentry's VFS calls HostFS synchronously, so each call is a
// blocking sendmsg then recvmsg (no event loop involved). One call is in
// flight at a time (the Sentry is single-threaded), so the reply's id only
// guards against a desynchronized peer.
//
// If the Gofer dies, the socket reports EOF or ECONNRESET: the client marks
// itself dead and every call from then on fails with EIO (never hangs).

import { closeSync } from 'node:fs';
import * as linuxerr from '../../../abi/linux/errno.js';
import { native } from '../../../platform/ptrace/native.js';
import {
  FLAG_MORE, MAX_FRAME, OP, PROTOCOL_VERSION, REPLY_HEADER, VFLAG_DEVICES, VFLAG_READONLY, encodeRequest,
  readReplyHeader,
} from '../../../gofer/protocol.js';

const EINTR = 4;
const NO_FDS = new Int32Array(0);

export class GoferClient {
  /** name identifies the Gofer in messages (its root). */
  readonly name: string;
  private sock: number;
  private nextId = 1;
  private readonly req = new Uint8Array(MAX_FRAME);
  private readonly rep = new Uint8Array(MAX_FRAME);
  private readonly fds = new Int32Array(4);
  private readonly onDeath: (why: string) => void;

  /** fd is the socket (-1 once closed), for handing it to another process. */
  get fd(): number {
    return this.sock;
  }

  constructor(sock: number, name: string, onDeath: (why: string) => void = () => {}) {
    this.sock = sock;
    this.name = name;
    this.onDeath = onDeath;
  }

  /** readonly is what the Gofer said in version(): it refuses every change. */
  readonly = false;

  get alive(): boolean {
    return this.sock >= 0;
  }

  /** version checks the protocol version; returns the Gofer's VFLAG_* flags. */
  version(): { readonly: boolean; devices: boolean } {
    let flags = 0;
    this.rpc(OP.VERSION, [PROTOCOL_VERSION], [], (p) => {
      const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
      if (p.length < 8 || dv.getUint32(0, true) !== PROTOCOL_VERSION) throw this.broken('bad version reply');
      flags = dv.getUint32(4, true);
    });
    this.readonly = (flags & VFLAG_READONLY) !== 0;
    return { readonly: this.readonly, devices: (flags & VFLAG_DEVICES) !== 0 };
  }

  /** rpc sends one request and reads its reply frames, passing each payload
   *  to onPayload (valid only during the callback). It returns the fd that
   *  came with the reply, or -1, and throws the reply's errno. */
  rpc(op: number, nums: number[], strs: string[], onPayload?: (payload: Uint8Array) => void): number {
    if (this.sock < 0) throw linuxerr.EIO;
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0 || 1;
    const len = encodeRequest({ id, op, nums, strs }, this.req);
    let r;
    do r = native.sendFds(this.sock, NO_FDS, this.req.subarray(0, len));
    while (r === -EINTR);
    if (r < 0) throw this.broken(`send: errno ${-r}`);
    let fd = -1;
    for (;;) {
      do r = native.recvFds(this.sock, this.rep, this.fds, 0);
      while (r === -EINTR);
      for (const f of this.fds) {
        if (f < 0) continue;
        if (fd < 0) fd = f;
        else closeSync(f);
      }
      if (r <= 0) {
        if (fd >= 0) closeSync(fd);
        throw this.broken(r === 0 ? 'connection closed' : `recv: errno ${-r}`);
      }
      const h = readReplyHeader(this.rep.subarray(0, r));
      if (h.id !== id || h.op !== op) {
        if (fd >= 0) closeSync(fd);
        throw this.broken(`reply ${h.id}/${h.op} to request ${id}/${op}`);
      }
      if (h.errno !== 0) {
        if (fd >= 0) closeSync(fd);
        if (h.flags & FLAG_MORE) throw this.broken('error reply with more frames');
        throw linuxerr.fromErrno(h.errno);
      }
      if (onPayload) {
        try {
          onPayload(this.rep.subarray(REPLY_HEADER, r));
        } catch (e) {
          if (fd >= 0) closeSync(fd);
          throw e instanceof linuxerr.SyscallError ? e : this.broken(`bad reply: ${(e as Error).message}`);
        }
      }
      if (!(h.flags & FLAG_MORE)) return fd;
    }
  }

  /** broken marks the connection dead and returns the error to throw. */
  private broken(why: string): linuxerr.SyscallError {
    if (this.sock >= 0) {
      this.close();
      this.onDeath(why);
    }
    return linuxerr.EIO;
  }

  /** close hangs up: the Gofer sees EOF and exits. */
  close(): void {
    if (this.sock < 0) return;
    try {
      closeSync(this.sock);
    } catch {
      // already gone
    }
    this.sock = -1;
  }
}
