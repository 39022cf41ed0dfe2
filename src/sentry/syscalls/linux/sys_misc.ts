// Miscellaneous syscalls: system identification (uname, hostname), entropy,
// system statistics, CPU identity, personality, priorities, and the
// syscalls a sandbox refuses (syslog, reboot) or lacks (rseq, kcmp).

import { randomFillSync } from 'node:crypto';
import * as linuxerr from '../../../abi/linux/errno.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { CAP_SYS_ADMIN, CAP_SYS_NICE } from '../../kernel/setid.js';
import type { Task } from '../../kernel/task.js';
import { TaskState } from '../../kernel/task.js';
import { boottimeNs, NS_PER_SEC } from '../../kernel/time.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported, unimplemented } from '../syscalls.js';
import { RLIMIT_NICE } from './sys_rlimit.js';
import { hostLoadavg } from '../../../platform/hostproc.js';
import { memInfo } from '../../kernel/meminfo.js';

/** The kernel release guests see: gVisor's choice, old enough that programs
 *  probing for features by version stay on well-trodden paths. */
export const UTS_RELEASE = '4.4.0';
export const UTS_VERSION = '#1 SMP Sun Jan 10 15:06:54 PST 2016';
/** __NEW_UTS_LEN: each utsname field holds 64 bytes and a NUL. */
const UTS_LEN = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** encodeUtsname lays out struct new_utsname (6 fields of 65 bytes). */
export function encodeUtsname(fields: string[]): Uint8Array {
  const b = new Uint8Array(6 * (UTS_LEN + 1));
  fields.forEach((f, i) => b.set(encoder.encode(f).subarray(0, UTS_LEN), i * (UTS_LEN + 1)));
  return b;
}

/** uname implements Linux syscall uname(2). */
export function uname(t: Task, a: SyscallArgs): number {
  const k = t.kernel;
  t.mm.copyOut(a.ptr(0), encodeUtsname(['Linux', k.hostname, UTS_RELEASE, UTS_VERSION, 'x86_64', k.domainname]));
  return 0;
}

function readName(t: Task, a: SyscallArgs): string {
  const addr = a.ptr(0);
  const len = a.int(1);
  if (!t.creds.hasCap(CAP_SYS_ADMIN)) throw linuxerr.EPERM;
  if (len < 0 || len > UTS_LEN) throw linuxerr.EINVAL;
  const b = t.mm.copyIn(addr, len);
  const z = b.indexOf(0);
  return decoder.decode(z < 0 ? b : b.subarray(0, z));
}

/** sethostname implements Linux syscall sethostname(2). */
export function sethostname(t: Task, a: SyscallArgs): number {
  t.kernel.hostname = readName(t, a);
  return 0;
}

/** setdomainname implements Linux syscall setdomainname(2). */
export function setdomainname(t: Task, a: SyscallArgs): number {
  t.kernel.domainname = readName(t, a);
  return 0;
}

const GRND_NONBLOCK = 1;
const GRND_RANDOM = 2;
const GRND_INSECURE = 4;
const INT_MAX = 0x7fff_ffff;
const RANDOM_CHUNK = 1 << 20;

/** getrandom implements Linux syscall getrandom(2). The host pool is always
 *  initialized, so no flag ever blocks. */
export function getrandom(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(0);
  const count = Math.min(a.sizeT(1), INT_MAX);
  const flags = a.uint(2);
  if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) throw linuxerr.EINVAL;
  if ((flags & GRND_INSECURE) && (flags & GRND_RANDOM)) throw linuxerr.EINVAL;
  const buf = new Uint8Array(Math.min(count, RANDOM_CHUNK));
  let done = 0;
  while (done < count) {
    const chunk = buf.subarray(0, Math.min(buf.length, count - done));
    randomFillSync(chunk);
    const n = t.mm.copyOutPartial(addr + done, chunk);
    done += n;
    if (n < chunk.length) {
      if (done === 0) throw linuxerr.EFAULT;
      break;
    }
  }
  return done;
}

/** SI_LOAD_SHIFT: sysinfo load averages are fixed point with 16 fraction bits. */
const SI_LOAD_SHIFT = 16;
const SIZEOF_SYSINFO = 112;

/** sysinfo implements Linux syscall sysinfo(2). */
export function sysinfo(t: Task, a: SyscallArgs): number {
  const b = new Uint8Array(SIZEOF_SYSINFO);
  const v = new DataView(b.buffer);
  const up = boottimeNs();
  v.setBigInt64(0, up / NS_PER_SEC + (up % NS_PER_SEC ? 1n : 0n), true);
  hostLoadavg().forEach((l, i) => v.setBigUint64(8 + 8 * i, BigInt(Math.round(l * (1 << SI_LOAD_SHIFT))), true));
  const mem = memInfo(t.kernel.platform);
  v.setBigUint64(32, BigInt(mem.total), true);
  v.setBigUint64(40, BigInt(mem.free), true);
  let procs = 0;
  for (const o of t.kernel.tasks.values()) if (o.state !== TaskState.Dead) procs++;
  v.setUint16(80, Math.min(procs, 0xffff), true);
  v.setUint32(104, 1, true); // mem_unit
  t.mm.copyOut(a.ptr(0), b);
  return 0;
}

/** getcpu implements Linux syscall getcpu(2): every task reports CPU 0, node 0. */
export function getcpu(t: Task, a: SyscallArgs): number {
  const cpu = a.ptr(0);
  const node = a.ptr(1);
  if (cpu) t.mm.writeI32(cpu, 0);
  if (node) t.mm.writeI32(node, 0);
  return 0;
}

const PER_QUERY = 0xffff_ffff;
const ADDR_NO_RANDOMIZE = 0x0040000;

/** personality implements Linux syscall personality(2). The process's
 *  personality is inherited and kept across exec; the loader honours
 *  ADDR_NO_RANDOMIZE, other flags are recorded only. */
export function personality(t: Task, a: SyscallArgs): number {
  const p = a.uint(0);
  const old = t.tg.personality;
  if (p !== PER_QUERY) {
    if (p & ~ADDR_NO_RANDOMIZE) t.kernel.log.warnOnce(`personality:${p}`, `personality 0x${p.toString(16)} recorded but not honoured`);
    t.tg.personality = p;
  }
  return old;
}

// --- priorities: nice (getpriority/setpriority) and I/O priority ------------

const PRIO_PROCESS = 0;
const PRIO_PGRP = 1;
const PRIO_USER = 2;
const nices = new WeakMap<Task, number>();

/** niceOf returns a task's nice value (-20..19). */
export function niceOf(t: Task): number {
  return nices.get(t) ?? 0;
}

/** prioTargets lists the live tasks a (which, who) pair names; EINVAL for a bad which. */
function prioTargets(t: Task, which: number, who: number): Task[] {
  const all = [...t.kernel.tasks.values()].filter((o) => o.state !== TaskState.Dead);
  switch (which) {
    case PRIO_PROCESS: {
      if (who === 0) return [t];
      const o = t.kernel.tasks.get(who);
      return o && o.state !== TaskState.Dead ? [o] : [];
    }
    case PRIO_PGRP: {
      const pgid = who === 0 ? t.tg.pgid : who;
      return all.filter((o) => o.tg.pgid === pgid);
    }
    case PRIO_USER: {
      const uid = who === 0 ? t.creds.uid : who >>> 0;
      return all.filter((o) => o.creds.uid === uid);
    }
    default:
      throw linuxerr.EINVAL;
  }
}

/** getpriority implements Linux syscall getpriority(2): returns 20 - nice (1..40), the best of the targets. */
export function getpriority(t: Task, a: SyscallArgs): number {
  const targets = prioTargets(t, a.int(0), a.int(1));
  if (targets.length === 0) throw linuxerr.ESRCH;
  return Math.max(...targets.map((o) => 20 - niceOf(o)));
}

/** setpriority implements Linux syscall setpriority(2): recorded, not applied to host threads. */
export function setpriority(t: Task, a: SyscallArgs): number {
  const targets = prioTargets(t, a.int(0), a.int(1));
  const nice = Math.max(-20, Math.min(19, a.int(2)));
  let err: linuxerr.SyscallError | null = linuxerr.ESRCH;
  const c = t.creds;
  for (const o of targets) {
    if (o.creds.uid !== c.euid && o.creds.euid !== c.euid && !c.hasCap(CAP_SYS_NICE)) {
      err = linuxerr.EPERM;
      continue;
    }
    // Lowering nice needs RLIMIT_NICE (20 - nice) headroom or CAP_SYS_NICE.
    if (nice < niceOf(o) && 20 - nice > o.tg.rlimits[RLIMIT_NICE][0] && !c.hasCap(CAP_SYS_NICE)) {
      err = linuxerr.EACCES;
      continue;
    }
    nices.set(o, nice);
    if (err === linuxerr.ESRCH) err = null;
  }
  if (err) throw err;
  return 0;
}

const IOPRIO_WHO_PROCESS = 1;
const IOPRIO_WHO_PGRP = 2;
const IOPRIO_WHO_USER = 3;
const IOPRIO_CLASS_SHIFT = 13;
const IOPRIO_CLASS_NONE = 0;
const IOPRIO_CLASS_RT = 1;
const IOPRIO_CLASS_BE = 2;
const IOPRIO_CLASS_IDLE = 3;
const ioprios = new WeakMap<Task, number>();

/** ioprioOf returns a task's I/O priority; "none" follows the nice value, as Linux reports it. */
function ioprioOf(t: Task): number {
  const p = ioprios.get(t) ?? 0;
  if (p >> IOPRIO_CLASS_SHIFT !== IOPRIO_CLASS_NONE) return p;
  return (IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | Math.floor((niceOf(t) + 20) / 5);
}

function ioprioTargets(t: Task, which: number, who: number): Task[] {
  switch (which) {
    case IOPRIO_WHO_PROCESS: return prioTargets(t, PRIO_PROCESS, who);
    case IOPRIO_WHO_PGRP: return prioTargets(t, PRIO_PGRP, who);
    case IOPRIO_WHO_USER: return prioTargets(t, PRIO_USER, who);
    default: throw linuxerr.EINVAL;
  }
}

/** ioprio_get implements Linux syscall ioprio_get(2). */
export function ioprioGet(t: Task, a: SyscallArgs): number {
  const targets = ioprioTargets(t, a.int(0), a.int(1));
  if (targets.length === 0) throw linuxerr.ESRCH;
  return ioprioOf(targets[0]);
}

/** ioprio_set implements Linux syscall ioprio_set(2): recorded, not applied. */
export function ioprioSet(t: Task, a: SyscallArgs): number {
  const which = a.int(0);
  const who = a.int(1);
  const prio = a.int(2);
  const cls = (prio >> IOPRIO_CLASS_SHIFT) & 7;
  const data = prio & ((1 << IOPRIO_CLASS_SHIFT) - 1);
  const c = t.creds;
  switch (cls) {
    case IOPRIO_CLASS_RT:
      if (!c.hasCap(CAP_SYS_NICE) && !c.hasCap(CAP_SYS_ADMIN)) throw linuxerr.EPERM;
      if (data >= 8) throw linuxerr.EINVAL;
      break;
    case IOPRIO_CLASS_BE:
      if (data >= 8) throw linuxerr.EINVAL;
      break;
    case IOPRIO_CLASS_IDLE:
      break;
    case IOPRIO_CLASS_NONE:
      if (data) throw linuxerr.EINVAL;
      break;
    default:
      throw linuxerr.EINVAL;
  }
  if (prio >>> 16) throw linuxerr.EINVAL;
  const targets = ioprioTargets(t, which, who);
  if (targets.length === 0) throw linuxerr.ESRCH;
  for (const o of targets) {
    if (o.creds.uid !== c.euid && o.creds.uid !== c.uid && !c.hasCap(CAP_SYS_NICE)) throw linuxerr.EPERM;
    ioprios.set(o, prio);
  }
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.uname]: supported('uname', uname),
  [SYSNO.sethostname]: supported('sethostname', sethostname),
  [SYSNO.setdomainname]: supported('setdomainname', setdomainname),
  [SYSNO.getrandom]: supported('getrandom', getrandom),
  [SYSNO.sysinfo]: partial('sysinfo', sysinfo, 'No swap, shared or buffer memory figures.'),
  [SYSNO.getcpu]: partial('getcpu', getcpu, 'Always CPU 0, node 0.'),
  [SYSNO.personality]: partial('personality', personality, 'Only ADDR_NO_RANDOMIZE is honoured.'),
  [SYSNO.getpriority]: supported('getpriority', getpriority),
  [SYSNO.setpriority]: partial('setpriority', setpriority, 'Recorded, not applied to host threads.'),
  [SYSNO.ioprio_get]: supported('ioprio_get', ioprioGet),
  [SYSNO.ioprio_set]: partial('ioprio_set', ioprioSet, 'Recorded, not applied.'),
  [SYSNO.rseq]: unimplemented('rseq', 38, 'Restartable sequences are not supported.'),
  [SYSNO.syslog]: unimplemented('syslog', 1, 'The kernel log is not readable from the sandbox.'),
  [SYSNO.reboot]: unimplemented('reboot', 1, 'The sandbox cannot be rebooted.'),
  [SYSNO.kcmp]: unimplemented('kcmp', 38),
};
