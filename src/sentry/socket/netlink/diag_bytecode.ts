// inet_diag filter bytecode (INET_DIAG_REQ_BYTECODE, what `ss ... sport = :80`
// sends): the audit Linux runs before a dump (net/ipv4/inet_diag.c
// inet_diag_bc_audit) and the interpreter it runs on each socket
// (inet_diag_bc_run). Pure logic over the bytes the guest sent.

import { ERRNO } from '../../../abi/linux/errno.js';

// Operation codes (include/uapi/linux/inet_diag.h).
export const BC_NOP = 0;
export const BC_JMP = 1;
export const BC_S_GE = 2;
export const BC_S_LE = 3;
export const BC_D_GE = 4;
export const BC_D_LE = 5;
export const BC_AUTO = 6;
export const BC_S_COND = 7;
export const BC_D_COND = 8;
export const BC_DEV_COND = 9;
export const BC_MARK_COND = 10;
export const BC_S_EQ = 11;
export const BC_D_EQ = 12;
export const BC_CGROUP_COND = 13;

const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;
/** sizeof(struct inet_diag_bc_op): u8 code, u8 yes, u16 no. */
const OP_LEN = 4;
/** sizeof(struct inet_diag_hostcond) before its address: u8 family, u8 prefix_len, int port. */
const HOSTCOND_LEN = 8;

/** BcEntry is what the filter sees of one socket (struct inet_diag_entry). */
export interface BcEntry {
  family: number;
  /** Local and remote address bytes in network order (4 or 16). */
  saddr: Uint8Array;
  daddr: Uint8Array;
  sport: number;
  dport: number;
  ifindex: number;
  /** autobound: the port was not chosen with bind() (no SOCK_BINDPORT_LOCK). */
  autobound: boolean;
  mark: number;
  cgroupId: bigint;
}

function op(bc: Uint8Array, off: number): { code: number; yes: number; no: number } {
  return { code: bc[off], yes: bc[off + 1], no: bc[off + 2] | (bc[off + 3] << 8) };
}

/** validCc: some instruction starts exactly cc bytes before the end (a jump lands on one). */
function validCc(bc: Uint8Array, cc: number): boolean {
  let off = 0;
  let len = bc.length;
  while (len >= 0) {
    if (cc > len) return false;
    if (cc === len) return true;
    const y = bc[off + 1];
    if (y < 4 || y & 3) return false;
    len -= y;
    off += y;
  }
  return false;
}

/** audit checks bytecode as Linux does before a dump: 0 if valid, else the errno
 *  (EINVAL; EPERM for a mark condition without CAP_NET_ADMIN). */
export function audit(bc: Uint8Array, admin: boolean): number {
  if (bc.length < OP_LEN) return ERRNO.EINVAL;
  let off = 0;
  let len = bc.length;
  while (len > 0) {
    if (len < OP_LEN) return ERRNO.EINVAL;
    const o = op(bc, off);
    let minLen = OP_LEN;
    switch (o.code) {
      case BC_S_COND:
      case BC_D_COND: {
        minLen += HOSTCOND_LEN;
        if (len < minLen) return ERRNO.EINVAL;
        const fam = bc[off + OP_LEN];
        const addrLen = fam === AF_UNSPEC ? 0 : fam === AF_INET ? 4 : fam === AF_INET6 ? 16 : -1;
        if (addrLen < 0) return ERRNO.EINVAL;
        minLen += addrLen;
        if (len < minLen || bc[off + OP_LEN + 1] > 8 * addrLen) return ERRNO.EINVAL;
        break;
      }
      case BC_DEV_COND:
        minLen += 4;
        if (len < minLen) return ERRNO.EINVAL;
        break;
      case BC_S_EQ: case BC_S_GE: case BC_S_LE: case BC_D_EQ: case BC_D_GE: case BC_D_LE:
        minLen += OP_LEN;
        if (len < minLen) return ERRNO.EINVAL;
        break;
      case BC_MARK_COND:
        if (!admin) return ERRNO.EPERM;
        minLen += 8;
        if (len < minLen) return ERRNO.EINVAL;
        break;
      case BC_CGROUP_COND:
        minLen += 8;
        if (len < minLen) return ERRNO.EINVAL;
        break;
      case BC_AUTO: case BC_JMP: case BC_NOP:
        break;
      default:
        return ERRNO.EINVAL;
    }
    if (o.code !== BC_NOP) {
      if (o.no < minLen || o.no > len + 4 || o.no & 3) return ERRNO.EINVAL;
      if (o.no < len && !validCc(bc, len - o.no)) return ERRNO.EINVAL;
    }
    if (o.yes < minLen || o.yes > len + 4 || o.yes & 3) return ERRNO.EINVAL;
    off += o.yes;
    len -= o.yes;
  }
  return len === 0 ? 0 : ERRNO.EINVAL;
}

/** prefixMatch compares the first bits bits of two addresses (bitstring_match). */
function prefixMatch(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const bytes = bits >> 3;
  for (let i = 0; i < bytes; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[bytes] ^ b[bytes]) & mask) === 0;
}

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

function hostCond(bc: Uint8Array, off: number, code: number, e: BcEntry): boolean {
  const dv = new DataView(bc.buffer, bc.byteOffset + off);
  const fam = dv.getUint8(0);
  const prefix = dv.getUint8(1);
  const port = dv.getInt32(4, true);
  const cond = bc.subarray(off + HOSTCOND_LEN);
  if (port !== -1 && port !== (code === BC_S_COND ? e.sport : e.dport)) return false;
  const addr = code === BC_S_COND ? e.saddr : e.daddr;
  if (fam !== AF_UNSPEC && fam !== e.family) {
    // An IPv4 condition matches a v4-mapped address of an IPv6 socket.
    return e.family === AF_INET6 && fam === AF_INET && addr.length === 16 && isV4Mapped(addr) &&
      prefixMatch(addr.subarray(12), cond, prefix);
  }
  return prefix === 0 || prefixMatch(addr, cond, prefix);
}

/** run interprets audited bytecode against one socket: true if the socket passes. */
export function run(bc: Uint8Array, e: BcEntry): boolean {
  let off = 0;
  let len = bc.length;
  while (len > 0) {
    const o = op(bc, off);
    const arg = off + OP_LEN;
    const argPort = (): number => bc[arg + 2] | (bc[arg + 3] << 8); // the next op's `no` field
    let yes = true;
    switch (o.code) {
      case BC_NOP: break;
      case BC_JMP: yes = false; break;
      case BC_S_EQ: yes = e.sport === argPort(); break;
      case BC_S_GE: yes = e.sport >= argPort(); break;
      case BC_S_LE: yes = e.sport <= argPort(); break;
      case BC_D_EQ: yes = e.dport === argPort(); break;
      case BC_D_GE: yes = e.dport >= argPort(); break;
      case BC_D_LE: yes = e.dport <= argPort(); break;
      case BC_AUTO: yes = e.autobound; break;
      case BC_S_COND: case BC_D_COND: yes = hostCond(bc, arg, o.code, e); break;
      case BC_DEV_COND: yes = new DataView(bc.buffer, bc.byteOffset + arg, 4).getUint32(0, true) === e.ifindex; break;
      case BC_MARK_COND: {
        const dv = new DataView(bc.buffer, bc.byteOffset + arg, 8);
        yes = ((e.mark & dv.getUint32(4, true)) >>> 0) === dv.getUint32(0, true);
        break;
      }
      case BC_CGROUP_COND:
        yes = new DataView(bc.buffer, bc.byteOffset + arg, 8).getBigUint64(0, true) === e.cgroupId;
        break;
    }
    const step = yes ? o.yes : o.no;
    len -= step;
    off += step;
  }
  return len === 0;
}
