// Identity syscalls: user and group ids, supplementary groups, capabilities.
// The rules live in kernel/setid.ts; handlers decode, apply, and install the
// new credentials on the calling thread only, as Linux does (libc makes a
// process-wide change by asking every thread).

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Credentials } from '../../kernel/creds.js';
import * as setid from '../../kernel/setid.js';
import type { Task } from '../../kernel/task.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { supported } from '../syscalls.js';

/** getuid implements Linux syscall getuid(2). */
export function getuid(t: Task): number {
  return t.creds.uid;
}

/** geteuid implements Linux syscall geteuid(2). */
export function geteuid(t: Task): number {
  return t.creds.euid;
}

/** getgid implements Linux syscall getgid(2). */
export function getgid(t: Task): number {
  return t.creds.gid;
}

/** getegid implements Linux syscall getegid(2). */
export function getegid(t: Task): number {
  return t.creds.egid;
}

function writeIds(t: Task, a: SyscallArgs, ids: [number, number, number]): number {
  for (let i = 0; i < 3; i++) t.mm.writeI32(a.ptr(i), ids[i] | 0);
  return 0;
}

/** getresuid implements Linux syscall getresuid(2). */
export function getresuid(t: Task, a: SyscallArgs): number {
  const c = t.creds;
  return writeIds(t, a, [c.uid, c.euid, c.suid]);
}

/** getresgid implements Linux syscall getresgid(2). */
export function getresgid(t: Task, a: SyscallArgs): number {
  const c = t.creds;
  return writeIds(t, a, [c.gid, c.egid, c.sgid]);
}

/** getgroups implements Linux syscall getgroups(2). */
export function getgroups(t: Task, a: SyscallArgs): number {
  const size = a.int(0);
  const addr = a.ptr(1);
  const g = t.creds.groups;
  if (size < 0) throw linuxerr.EINVAL;
  if (size === 0) return g.length;
  if (size < g.length) throw linuxerr.EINVAL;
  const b = new Uint8Array(4 * g.length);
  const v = new DataView(b.buffer);
  g.forEach((id, i) => v.setUint32(4 * i, id, true));
  t.mm.copyOut(addr, b);
  return g.length;
}

/** setgroups implements Linux syscall setgroups(2). */
export function setgroups(t: Task, a: SyscallArgs): number {
  const size = a.int(0);
  const addr = a.ptr(1);
  if (!t.creds.hasCap(setid.CAP_SETGID)) throw linuxerr.EPERM;
  if (size < 0 || size > setid.NGROUPS_MAX) throw linuxerr.EINVAL;
  const b = t.mm.copyIn(addr, 4 * size);
  const v = new DataView(b.buffer);
  const groups: number[] = [];
  for (let i = 0; i < size; i++) groups.push(v.getUint32(4 * i, true));
  t.creds = setid.setgroups(t.creds, groups);
  return 0;
}

function commit(t: Task, c: Credentials): number {
  t.creds = c;
  return 0;
}

/** setuid implements Linux syscall setuid(2). */
export function setuid(t: Task, a: SyscallArgs): number {
  return commit(t, setid.setuid(t.creds, a.uint(0)));
}

/** setgid implements Linux syscall setgid(2). */
export function setgid(t: Task, a: SyscallArgs): number {
  return commit(t, setid.setgid(t.creds, a.uint(0)));
}

/** setreuid implements Linux syscall setreuid(2). */
export function setreuid(t: Task, a: SyscallArgs): number {
  return commit(t, setid.setreuid(t.creds, a.uint(0), a.uint(1)));
}

/** setregid implements Linux syscall setregid(2). */
export function setregid(t: Task, a: SyscallArgs): number {
  return commit(t, setid.setregid(t.creds, a.uint(0), a.uint(1)));
}

/** setresuid implements Linux syscall setresuid(2). */
export function setresuid(t: Task, a: SyscallArgs): number {
  return commit(t, setid.setresuid(t.creds, a.uint(0), a.uint(1), a.uint(2)));
}

/** setresgid implements Linux syscall setresgid(2). */
export function setresgid(t: Task, a: SyscallArgs): number {
  return commit(t, setid.setresgid(t.creds, a.uint(0), a.uint(1), a.uint(2)));
}

/** setfsuid implements Linux syscall setfsuid(2): returns the previous fsuid. */
export function setfsuid(t: Task, a: SyscallArgs): number {
  const r = setid.setfsuid(t.creds, a.uint(0));
  t.creds = r.creds;
  return r.old;
}

/** setfsgid implements Linux syscall setfsgid(2): returns the previous fsgid. */
export function setfsgid(t: Task, a: SyscallArgs): number {
  const r = setid.setfsgid(t.creds, a.uint(0));
  t.creds = r.creds;
  return r.old;
}

const CAP_V1 = 0x19980330;
const CAP_V2 = 0x20071026;
const CAP_V3 = 0x20080522;

/** capHeader validates a cap_user_header_t; returns its pid and how many 32-bit words each set has. */
function capHeader(t: Task, addr: number): { pid: number; words: number } | null {
  const version = t.mm.readU32(addr);
  if (version === CAP_V1) return { pid: t.mm.readI32(addr + 4), words: 1 };
  if (version === CAP_V2 || version === CAP_V3) return { pid: t.mm.readI32(addr + 4), words: 2 };
  // Unknown version: the kernel answers with the one it prefers.
  t.mm.writeI32(addr, CAP_V3);
  return null;
}

/** capget implements Linux syscall capget(2). */
export function capget(t: Task, a: SyscallArgs): number {
  const hdr = a.ptr(0);
  const data = a.ptr(1);
  const h = capHeader(t, hdr);
  if (!h) {
    if (data === 0) return 0;
    throw linuxerr.EINVAL;
  }
  if (data === 0) return 0;
  if (h.pid < 0) throw linuxerr.EINVAL;
  let c = t.creds;
  if (h.pid !== 0 && h.pid !== t.tid) {
    const target = t.kernel.tasks.get(h.pid);
    if (!target) throw linuxerr.ESRCH;
    c = target.creds;
  }
  const b = new Uint8Array(12 * h.words);
  const v = new DataView(b.buffer);
  for (let i = 0; i < h.words; i++) {
    const sh = BigInt(32 * i);
    v.setUint32(12 * i, Number((c.capEffective >> sh) & 0xffff_ffffn), true);
    v.setUint32(12 * i + 4, Number((c.capPermitted >> sh) & 0xffff_ffffn), true);
    v.setUint32(12 * i + 8, Number((c.capInheritable >> sh) & 0xffff_ffffn), true);
  }
  t.mm.copyOut(data, b);
  return 0;
}

/** capset implements Linux syscall capset(2): only the calling thread's sets. */
export function capset(t: Task, a: SyscallArgs): number {
  const hdr = a.ptr(0);
  const data = a.ptr(1);
  const h = capHeader(t, hdr);
  if (!h) throw linuxerr.EINVAL;
  if (h.pid !== 0 && h.pid !== t.tid) throw linuxerr.EPERM;
  const v = new DataView(t.mm.copyIn(data, 12 * h.words).buffer);
  const sets = { effective: 0n, permitted: 0n, inheritable: 0n };
  for (let i = 0; i < h.words; i++) {
    const sh = BigInt(32 * i);
    sets.effective |= BigInt(v.getUint32(12 * i, true)) << sh;
    sets.permitted |= BigInt(v.getUint32(12 * i + 4, true)) << sh;
    sets.inheritable |= BigInt(v.getUint32(12 * i + 8, true)) << sh;
  }
  return commit(t, setid.capset(t.creds, sets));
}

export const syscalls: SyscallEntries = {
  [SYSNO.getuid]: supported('getuid', getuid),
  [SYSNO.geteuid]: supported('geteuid', geteuid),
  [SYSNO.getgid]: supported('getgid', getgid),
  [SYSNO.getegid]: supported('getegid', getegid),
  [SYSNO.getresuid]: supported('getresuid', getresuid),
  [SYSNO.getresgid]: supported('getresgid', getresgid),
  [SYSNO.getgroups]: supported('getgroups', getgroups),
  [SYSNO.setgroups]: supported('setgroups', setgroups),
  [SYSNO.setuid]: supported('setuid', setuid),
  [SYSNO.setgid]: supported('setgid', setgid),
  [SYSNO.setreuid]: supported('setreuid', setreuid),
  [SYSNO.setregid]: supported('setregid', setregid),
  [SYSNO.setresuid]: supported('setresuid', setresuid),
  [SYSNO.setresgid]: supported('setresgid', setresgid),
  [SYSNO.setfsuid]: supported('setfsuid', setfsuid),
  [SYSNO.setfsgid]: supported('setfsgid', setfsgid),
  [SYSNO.capget]: supported('capget', capget),
  [SYSNO.capset]: supported('capset', capset),
};
