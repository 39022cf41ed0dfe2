// Resource limits: getrlimit, setrlimit, prlimit64 on the process's
// [soft, hard] pairs (Infinity stands for RLIM_INFINITY). Enforcement is the
// business of each resource's owner (fd table for RLIMIT_NOFILE, ...).

import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { CAP_SYS_RESOURCE } from '../../kernel/setid.js';
import type { Task } from '../../kernel/task.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { supported } from '../syscalls.js';

export const RLIMIT_CPU = 0;
export const RLIMIT_FSIZE = 1;
export const RLIMIT_DATA = 2;
export const RLIMIT_STACK = 3;
export const RLIMIT_CORE = 4;
export const RLIMIT_RSS = 5;
export const RLIMIT_NPROC = 6;
export const RLIMIT_NOFILE = 7;
export const RLIMIT_MEMLOCK = 8;
export const RLIMIT_AS = 9;
export const RLIMIT_LOCKS = 10;
export const RLIMIT_SIGPENDING = 11;
export const RLIMIT_MSGQUEUE = 12;
export const RLIMIT_NICE = 13;
export const RLIMIT_RTPRIO = 14;
export const RLIMIT_RTTIME = 15;
export const RLIM_NLIMITS = 16;

/** RLIM_INFINITY on the wire: (unsigned long)-1. */
export const RLIM_INFINITY_WIRE = 0xffff_ffff_ffff_ffffn;
/** fs.nr_open: the highest RLIMIT_NOFILE hard limit. */
export const NR_OPEN = 1_048_576;

/** limitToWire encodes one limit (Infinity becomes RLIM_INFINITY). */
export function limitToWire(v: number): bigint {
  return v === Infinity ? RLIM_INFINITY_WIRE : BigInt(v);
}

/** limitFromWire decodes one limit; values above 2^53 lose precision (none matter). */
export function limitFromWire(v: bigint): number {
  return v === RLIM_INFINITY_WIRE ? Infinity : Number(v);
}

/** encodeRlimit lays out struct rlimit {rlim_cur, rlim_max} (16 bytes). */
export function encodeRlimit(l: readonly [number, number]): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, limitToWire(l[0]), true);
  v.setBigUint64(8, limitToWire(l[1]), true);
  return b;
}

/** decodeRlimit reads a struct rlimit. */
export function decodeRlimit(b: Uint8Array): [number, number] {
  const v = new DataView(b.buffer, b.byteOffset, 16);
  return [limitFromWire(v.getBigUint64(0, true)), limitFromWire(v.getBigUint64(8, true))];
}

/** doPrlimit validates and applies new (if any) to tg's resource; returns the old pair.
 *  privileged: the caller has CAP_SYS_RESOURCE (may raise hard limits). */
export function doPrlimit(tg: ThreadGroup, resource: number, next: [number, number] | null,
  privileged: boolean): [number, number] {
  if (resource < 0 || resource >= RLIM_NLIMITS) throw linuxerr.EINVAL;
  const cur = tg.rlimits[resource];
  const old: [number, number] = [cur[0], cur[1]];
  if (next) {
    if (next[0] > next[1]) throw linuxerr.EINVAL;
    if (resource === RLIMIT_NOFILE && next[1] > NR_OPEN) throw linuxerr.EPERM;
    if (next[1] > cur[1] && !privileged) throw linuxerr.EPERM;
    tg.rlimits[resource] = [next[0], next[1]];
  }
  return old;
}

/** getrlimit implements Linux syscall getrlimit(2). */
export function getrlimit(t: Task, a: SyscallArgs): number {
  const resource = a.uint(0);
  const addr = a.ptr(1);
  const old = doPrlimit(t.tg, resource, null, false);
  t.mm.copyOut(addr, encodeRlimit(old));
  return 0;
}

/** setrlimit implements Linux syscall setrlimit(2). */
export function setrlimit(t: Task, a: SyscallArgs): number {
  const resource = a.uint(0);
  const addr = a.ptr(1);
  const next = decodeRlimit(t.mm.copyIn(addr, 16));
  doPrlimit(t.tg, resource, next, t.creds.hasCap(CAP_SYS_RESOURCE));
  return 0;
}

/** prlimit64 implements Linux syscall prlimit64(2). */
export function prlimit64(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const resource = a.uint(1);
  const newAddr = a.ptr(2);
  const oldAddr = a.ptr(3);
  const next = newAddr ? decodeRlimit(t.mm.copyIn(newAddr, 16)) : null;
  if (resource >= RLIM_NLIMITS) throw linuxerr.EINVAL;
  let target = t;
  if (pid !== 0 && pid !== t.tid) {
    const o = t.kernel.tasks.get(pid);
    if (!o) throw linuxerr.ESRCH;
    target = o;
    // Another process's limits: same real/effective/saved ids, or CAP_SYS_RESOURCE.
    const c = t.creds;
    const tc = o.creds;
    const same = c.uid === tc.euid && c.uid === tc.suid && c.uid === tc.uid &&
      c.gid === tc.egid && c.gid === tc.sgid && c.gid === tc.gid;
    if (!same && !c.hasCap(CAP_SYS_RESOURCE)) throw linuxerr.EPERM;
  }
  const old = doPrlimit(target.tg, resource, next, t.creds.hasCap(CAP_SYS_RESOURCE));
  if (oldAddr) t.mm.copyOut(oldAddr, encodeRlimit(old));
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.getrlimit]: supported('getrlimit', getrlimit),
  [SYSNO.setrlimit]: supported('setrlimit', setrlimit),
  [SYSNO.prlimit64]: supported('prlimit64', prlimit64),
};
