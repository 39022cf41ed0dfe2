// Netlink wire format (include/uapi/linux/netlink.h): struct nlmsghdr, the
// 4-byte alignment, and route attributes (struct rtattr / nlattr share one
// layout: u16 len, u16 type, payload). Pure encoding, no socket state.

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;

// Message types below NLMSG_MIN_TYPE are control messages.
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const NLMSG_MIN_TYPE = 0x10;

// nlmsg_flags.
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ECHO = 0x8;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_CAPPED = 0x100;

/** align rounds n up to NLMSG_ALIGNTO (4). */
export function align(n: number): number {
  return (n + 3) & ~3;
}

/** Header is a decoded struct nlmsghdr. */
export interface Header {
  len: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

/** Message is one request: its header, its payload (without padding) and its raw bytes. */
export interface Message {
  hdr: Header;
  payload: Uint8Array;
  raw: Uint8Array;
}

/** parseMessages splits a buffer into messages, stopping (as netlink_rcv_skb does)
 *  at the first header that is too short or runs past the buffer. */
export function parseMessages(buf: Uint8Array): Message[] {
  const out: Message[] = [];
  let off = 0;
  while (buf.length - off >= NLMSG_HDRLEN) {
    const dv = new DataView(buf.buffer, buf.byteOffset + off, NLMSG_HDRLEN);
    const hdr: Header = {
      len: dv.getUint32(0, true), type: dv.getUint16(4, true), flags: dv.getUint16(6, true),
      seq: dv.getUint32(8, true), pid: dv.getUint32(12, true),
    };
    if (hdr.len < NLMSG_HDRLEN || hdr.len > buf.length - off) break;
    out.push({ hdr, payload: buf.subarray(off + NLMSG_HDRLEN, off + hdr.len), raw: buf.subarray(off, off + hdr.len) });
    off += align(hdr.len);
  }
  return out;
}

/** Attrs maps attribute types to payloads (the last one wins, as nla_parse keeps). */
export type Attrs = Map<number, Uint8Array>;

/** parseAttrs decodes the attributes in b; a malformed one ends the list. */
export function parseAttrs(b: Uint8Array): Attrs {
  const m: Attrs = new Map();
  let off = 0;
  while (b.length - off >= NLA_HDRLEN) {
    const dv = new DataView(b.buffer, b.byteOffset + off, NLA_HDRLEN);
    const len = dv.getUint16(0, true);
    const type = dv.getUint16(2, true) & 0x3fff; // drop NLA_F_NESTED / NLA_F_NET_BYTEORDER
    if (len < NLA_HDRLEN || len > b.length - off) break;
    m.set(type, b.subarray(off + NLA_HDRLEN, off + len));
    off += align(len);
  }
  return m;
}

/** MessageBuilder appends one message: a fixed header struct, then attributes. */
export class MessageBuilder {
  private buf = new Uint8Array(256);
  private len = NLMSG_HDRLEN;

  constructor(readonly type: number, readonly flags: number, readonly seq: number, readonly pid: number) {}

  private reserve(n: number): number {
    const at = this.len;
    const need = at + align(n);
    if (need > this.buf.length) {
      const nb = new Uint8Array(Math.max(need, this.buf.length * 2));
      nb.set(this.buf.subarray(0, this.len));
      this.buf = nb;
    }
    this.len = need;
    return at;
  }

  /** bytes appends raw bytes (a fixed struct), padded to 4. */
  bytes(b: Uint8Array): this {
    this.buf.set(b, this.reserve(b.length));
    return this;
  }

  /** attr appends one attribute. */
  attr(type: number, value: Uint8Array): this {
    const at = this.reserve(NLA_HDRLEN + value.length);
    const dv = new DataView(this.buf.buffer, at, NLA_HDRLEN);
    dv.setUint16(0, NLA_HDRLEN + value.length, true);
    dv.setUint16(2, type, true);
    this.buf.set(value, at + NLA_HDRLEN);
    return this;
  }

  u8(type: number, v: number): this {
    return this.attr(type, Uint8Array.of(v));
  }

  u32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.attr(type, b);
  }

  /** str appends a NUL-terminated string attribute. */
  str(type: number, s: string): this {
    const e = new TextEncoder().encode(s);
    const b = new Uint8Array(e.length + 1);
    b.set(e);
    return this.attr(type, b);
  }

  /** binary appends an attribute holding a binary string (addresses). */
  binary(type: number, s: string): this {
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    return this.attr(type, b);
  }

  /** finish returns the message, header filled in, padded to 4. */
  finish(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, this.len, true);
    dv.setUint16(4, this.type, true);
    dv.setUint16(6, this.flags, true);
    dv.setUint32(8, this.seq, true);
    dv.setUint32(12, this.pid, true);
    return out;
  }
}

/** errorMessage builds NLMSG_ERROR for req: errno 0 is an ack. The request is
 *  quoted whole on an error, only its header on an ack or with NETLINK_CAP_ACK. */
export function errorMessage(req: Message, errno: number, portid: number, capAck: boolean): Uint8Array {
  const quoteAll = errno !== 0 && !capAck;
  const quote = quoteAll ? req.raw : req.raw.subarray(0, NLMSG_HDRLEN);
  const b = new Uint8Array(4 + quote.length);
  new DataView(b.buffer).setInt32(0, -errno, true);
  b.set(quote, 4);
  return new MessageBuilder(NLMSG_ERROR, capAck && errno !== 0 ? NLM_F_CAPPED : 0, req.hdr.seq, portid).bytes(b).finish();
}

/** doneMessage builds the NLMSG_DONE that ends a dump. */
export function doneMessage(seq: number, portid: number): Uint8Array {
  return new MessageBuilder(NLMSG_DONE, NLM_F_MULTI, seq, portid).bytes(new Uint8Array(4)).finish();
}

/** u32At reads a little-endian u32 attribute value (0 if short). */
export function u32Of(b: Uint8Array | undefined): number {
  if (!b || b.length < 4) return 0;
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
}

/** strOf reads a string attribute up to its NUL. */
export function strOf(b: Uint8Array | undefined): string {
  if (!b) return '';
  const z = b.indexOf(0);
  return new TextDecoder().decode(z >= 0 ? b.subarray(0, z) : b);
}

/** binOf reads an attribute as a binary string (an Address). */
export function binOf(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}
