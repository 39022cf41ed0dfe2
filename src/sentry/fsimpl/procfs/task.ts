// /proc/[pid] and /proc/[pid]/task/[tid]: what a process looks like from
// inside the sandbox. Values describe the sandbox (guest pids, guest
// credentials, the guest's mappings), never the Sentry.

import type { Task } from '../../kernel/task.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';
import { mapsText } from '../../mm/maps.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import type { FileDescription } from '../../vfs/file_description.js';
import type { Caller } from '../../vfs/inode.js';
import { locOfFD } from '../../vfs/anon.js';
import type { Loc } from '../../vfs/mount.js';
import { pathOf } from '../../vfs/resolve.js';
import { isTask } from '../../vfs/special.js';
import { CAP_SYS_PTRACE } from '../../kernel/setid.js';
import type { DirOps, Gen, Owner, Spec, Writer } from './synthetic.js';
import { SynthFile, SynthLink, dir, dynDir, file, link } from './synthetic.js';
import { readHostProcText } from '../../../platform/hostproc.js';
import { netDir } from './net.js';
import { nsTable } from './ns.js';
import { idMapText, oomScoreAdj, writeOomScoreAdj } from './defaults.js';
import { cttyOf } from '../devpts/terminal.js';

const PAGE = 4096;

/** Per-process files refuse writes with EINVAL, as Linux's do. */
function pfile(gen: Gen, mode = 0o444, writer: Writer | null = null): Spec {
  return file(gen, mode, null, writer, 'einval');
}

function ptext(s: string): Spec {
  return pfile(() => s);
}
/** Clock ticks per second (USER_HZ). */
const HZ = 100;

function nulJoin(v: string[]): string {
  return v.length ? v.join('\0') + '\0' : '';
}

const NONE = new Uint8Array(0);

/** cmdlineOf reads the arguments from the process's memory, as Linux's
 *  get_mm_cmdline does, so that a title a process wrote over them
 *  (setproctitle: nginx, postgres, sshd) is what ps shows. */
function cmdlineOf(t: Task): Uint8Array {
  const mm = t.mm;
  const start = mm.argStart;
  const end = mm.argEnd;
  if (t.tg.zombie || mm.users === 0) return NONE;
  if (start === 0) return Buffer.from(nulJoin(t.tg.argv)); // no image loaded by the Sentry
  if (start >= end) return NONE;
  // A title may run on into the environment strings when they follow the arguments.
  const limit = mm.envStart === end && mm.envEnd >= mm.envStart ? mm.envEnd : end;
  const last = new Uint8Array(1);
  if (mm.copyInPartial(end - 1, last) === 1 && last[0] !== 0) {
    // The arguments' final NUL was overwritten: the title ends at its first
    // NUL (included), within a page.
    const buf = new Uint8Array(Math.min(PAGE, limit - start));
    const got = mm.copyInPartial(start, buf);
    const nul = buf.subarray(0, got).indexOf(0);
    return buf.subarray(0, nul < 0 ? got : nul + 1);
  }
  return areaOf(t, start, end);
}

/** areaOf reads [start, end) of t's memory, as far as it is mapped. */
function areaOf(t: Task, start: number, end: number): Uint8Array {
  if (t.tg.zombie || t.mm.users === 0 || start === 0 || start >= end) return NONE;
  const buf = new Uint8Array(end - start);
  return buf.subarray(0, t.mm.copyInPartial(start, buf));
}

function hex16(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

/** caller returns c as a Task, or ESRCH-like failure for non-task callers. */
export function callerTask(c: Caller): Task {
  if (!isTask(c)) throw linuxerr.ENOENT;
  return c;
}

interface MemInfo {
  vsize: number;
  rssPages: number;
  stack: number;
  data: number;
  exe: number;
  lib: number;
}

function memInfo(t: Task): MemInfo {
  // A zombie's memory is gone.
  if (t.tg.zombie) return { vsize: 0, rssPages: 0, stack: 0, data: 0, exe: 0, lib: 0 };
  const mm = t.mm;
  let vsize = 0;
  let stack = 0;
  let data = 0;
  let lib = 0;
  for (const v of mm.mappings()) {
    const len = v.end - v.start;
    vsize += len;
    if (v.start <= mm.stackStart && v.end >= mm.stackStart) stack += len;
    else if (!v.file && !v.shared && (v.prot & 2)) data += len;
    else if (v.file && (v.prot & 4)) lib += len;
  }
  const exe = Math.max(0, mm.endCode - mm.startCode);
  // Resident memory is what the host holds for the guest's address space.
  let rssPages = 0;
  try {
    rssPages = Number(readHostProcText(`${t.thread.tid}/statm`).split(' ')[1]) || 0;
  } catch {
    rssPages = 0;
  }
  return { vsize, rssPages, stack, data, exe, lib: Math.max(0, lib - exe) };
}

function stateOf(c: Caller, t: Task): [string, string] {
  if (t.tg.zombie) return ['Z', 'zombie'];
  if (isTask(c) && c === t) return ['R', 'running'];
  return ['S', 'sleeping'];
}

function ticks(ns: bigint): number {
  return Number(ns / BigInt(1e9 / HZ));
}

function statLine(c: Caller, t: Task, tg: ThreadGroup): string {
  const mi = memInfo(t);
  const mm = t.mm;
  let ign = 0n;
  let cgt = 0n;
  tg.sigactions.forEach((a, sig) => {
    if (sig === 0) return;
    if (a.handler === 1n) ign |= 1n << BigInt(sig - 1);
    else if (a.handler > 1n) cgt |= 1n << BigInt(sig - 1);
  });
  // tty_nr (new_encode_dev of /dev/pts/N, major 136) and the terminal's
  // foreground group, for a controlling pseudo-terminal; ps prints them.
  const ctty = cttyOf(t);
  const ttyNr = ctty ? (136 << 8) | (ctty.index & 0xff) | ((ctty.index & ~0xff) << 12) : 0;
  const tpgid = ctty?.fgPgid || -1;
  const f: (string | number | bigint)[] = [
    t.tid, `(${t.name})`, stateOf(c, t)[0], tg.parent?.pid ?? 0, tg.pgid, tg.sid, ttyNr, tpgid, 4194560,
    0, 0, 0, 0, 0, 0, ticks(tg.childUserNs), ticks(tg.childSysNs), 20, 0, tg.tasks.size, 0,
    ticks(tg.startTime - t.kernel.bootTime), mi.vsize, mi.rssPages, '18446744073709551615',
    mm.startCode, mm.endCode, mm.stackStart, 0, 0, 0, t.sigmask, ign, cgt, 0, 0, 0, tg.exitSignal, 0, 0, 0, 0, 0, 0,
    mm.startData, mm.endData, mm.startBrk, mm.argStart, mm.argEnd, mm.envStart, mm.envEnd, 0,
  ];
  return f.join(' ') + '\n';
}

function statusText(c: Caller, t: Task, tg: ThreadGroup): string {
  const cr = t.creds;
  const mi = memInfo(t);
  const kb = (n: number) => `${String(Math.floor(n / 1024)).padStart(8)} kB`;
  let maxFd = -1;
  for (const [fd] of t.fdTable.entries()) maxFd = fd;
  const fdSize = Math.max(64, Math.ceil((maxFd + 1) / 64) * 64);
  let ign = 0n;
  let cgt = 0n;
  tg.sigactions.forEach((a, sig) => {
    if (sig === 0) return;
    if (a.handler === 1n) ign |= 1n << BigInt(sig - 1);
    else if (a.handler > 1n) cgt |= 1n << BigInt(sig - 1);
  });
  const [st, stName] = stateOf(c, t);
  const rss = mi.rssPages * PAGE;
  return [
    `Name:\t${t.name}`,
    `Umask:\t${t.fs.umask.toString(8).padStart(4, '0')}`,
    `State:\t${st} (${stName})`,
    `Tgid:\t${tg.pid}`,
    'Ngid:\t0',
    `Pid:\t${t.tid}`,
    `PPid:\t${tg.parent?.pid ?? 0}`,
    'TracerPid:\t0',
    `Uid:\t${cr.uid}\t${cr.euid}\t${cr.suid}\t${cr.fsuid}`,
    `Gid:\t${cr.gid}\t${cr.egid}\t${cr.sgid}\t${cr.fsgid}`,
    `FDSize:\t${fdSize}`,
    `Groups:\t${cr.groups.map((g) => `${g} `).join('') || ' '}`, // Linux ends the list with a space, even an empty one
    `NStgid:\t${tg.pid}`,
    `NSpid:\t${t.tid}`,
    `NSpgid:\t${tg.pgid}`,
    `NSsid:\t${tg.sid}`,
    `VmPeak:\t${kb(mi.vsize)}`,
    `VmSize:\t${kb(mi.vsize)}`,
    `VmLck:\t${kb(0)}`,
    `VmPin:\t${kb(0)}`,
    `VmHWM:\t${kb(rss)}`,
    `VmRSS:\t${kb(rss)}`,
    `RssAnon:\t${kb(rss)}`,
    `RssFile:\t${kb(0)}`,
    `RssShmem:\t${kb(0)}`,
    `VmData:\t${kb(mi.data)}`,
    `VmStk:\t${kb(mi.stack)}`,
    `VmExe:\t${kb(mi.exe)}`,
    `VmLib:\t${kb(mi.lib)}`,
    `VmPTE:\t${kb(0)}`,
    `VmSwap:\t${kb(0)}`,
    `Threads:\t${tg.tasks.size}`,
    'SigQ:\t0/63535',
    `SigPnd:\t${hex16(0n)}`,
    `ShdPnd:\t${hex16(0n)}`,
    `SigBlk:\t${hex16(t.sigmask)}`,
    `SigIgn:\t${hex16(ign)}`,
    `SigCgt:\t${hex16(cgt)}`,
    `CapInh:\t${hex16(cr.capInheritable)}`,
    `CapPrm:\t${hex16(cr.capPermitted)}`,
    `CapEff:\t${hex16(cr.capEffective)}`,
    `CapBnd:\t${hex16(cr.capBounding)}`,
    `CapAmb:\t${hex16(cr.capAmbient)}`,
    'NoNewPrivs:\t0',
    'Seccomp:\t0',
    'Seccomp_filters:\t0',
    'voluntary_ctxt_switches:\t0',
    'nonvoluntary_ctxt_switches:\t0',
  ].join('\n') + '\n';
}

function statmText(t: Task): string {
  const mi = memInfo(t);
  return `${mi.vsize / PAGE} ${mi.rssPages} 0 ${Math.ceil(mi.exe / PAGE)} 0 ${(mi.data + mi.stack) / PAGE} 0\n`;
}

const LIMITS: [string, string][] = [
  ['Max cpu time', 'seconds'], ['Max file size', 'bytes'], ['Max data size', 'bytes'], ['Max stack size', 'bytes'],
  ['Max core file size', 'bytes'], ['Max resident set', 'bytes'], ['Max processes', 'processes'],
  ['Max open files', 'files'], ['Max locked memory', 'bytes'], ['Max address space', 'bytes'],
  ['Max file locks', 'locks'], ['Max pending signals', 'signals'], ['Max msgqueue size', 'bytes'],
  ['Max nice priority', ''], ['Max realtime priority', ''], ['Max realtime timeout', 'us'],
];

function limitsText(tg: ThreadGroup): string {
  const v = (n: number) => (n === Infinity ? 'unlimited' : String(n));
  let s = `${'Limit'.padEnd(25)} ${'Soft Limit'.padEnd(20)} ${'Hard Limit'.padEnd(20)} ${'Units'.padEnd(10)}\n`;
  LIMITS.forEach(([name, unit], i) => {
    const [soft, hard] = tg.rlimits[i] ?? [Infinity, Infinity];
    s += `${name.padEnd(25)} ${v(soft).padEnd(20)} ${v(hard).padEnd(20)} ${unit.padEnd(10)}\n`;
  });
  return s;
}

/** fdTarget is what readlink(/proc/[pid]/fd/N) shows. */
export function fdTarget(fd: FileDescription): string {
  return fd.path || 'anon_inode:[unknown]';
}

function fdinfoText(fd: FileDescription): string {
  const loc = fd.dentry as Loc | null;
  return `pos:\t${fd.offset}\nflags:\t${fd.flags.toString(8).padStart(7, '0')}\nmnt_id:\t${loc?.mnt.id ?? 0}\n` +
    `ino:\t${fd.stat().ino}\n`;
}

/** fdLinkPerm is an fd link's permission bits: r-x for reading, -wx for writing. */
function fdLinkPerm(fd: FileDescription): number {
  return (fd.readable ? 0o500 : 0) | (fd.writable ? 0o300 : 0);
}

function fdNumber(name: string): number {
  return /^(0|[1-9][0-9]{0,9})$/.test(name) ? Number(name) : -1;
}

function fdOps(t: Task, info: boolean): DirOps {
  return {
    lookup: (c, name, d) => {
      void c;
      const fd = t.fdTable.lookup(fdNumber(name));
      if (!fd) return null;
      const key = d.childKey(name);
      if (info) return new SynthFile(d.fs, key, 0o400, d.owner, () => fdinfoText(fd), null, 'einval');
      return new SynthLink(d.fs, key, d.owner, () => fdTarget(fd), () => locOfFD(fd), fdLinkPerm(fd), 64);
    },
    names: () => [...t.fdTable.entries()].map(([n]) => String(n)),
  };
}

/** mayTrace returns t if c may follow t's root/cwd/exe links (Linux's
 *  ptrace_may_access(PTRACE_MODE_READ_FSCREDS)), else throws EACCES: another
 *  user's process keeps its file system view to itself. */
function mayTrace(c: Caller, t: Task): Task {
  if (isTask(c) && c.tg === t.tg) return t;
  const cr = c.creds;
  const tc = t.creds;
  if (cr.hasCap(CAP_SYS_PTRACE)) return t;
  const sameUser = tc.uid === cr.fsuid && tc.euid === cr.fsuid && tc.suid === cr.fsuid;
  const sameGroup = tc.gid === cr.fsgid && tc.egid === cr.fsgid && tc.sgid === cr.fsgid;
  if (sameUser && sameGroup) return t;
  throw linuxerr.EACCES;
}

/** taskDir makes the Spec of /proc/[pid] (thread false) or /proc/[pid]/task/[tid]. */
export function taskDir(t: Task, thread: boolean): Spec {
  const tg = t.tg;
  const owner: Owner = () => [t.creds.euid, t.creds.egid];
  const root = (): Loc => {
    const r = t.fs.root;
    if (!r) throw linuxerr.ENOENT;
    return r;
  };
  const table: Record<string, Spec> = {
    auxv: pfile(() => t.mm.auxv, 0o400),
    cgroup: ptext('0::/\n'),
    cmdline: pfile(() => cmdlineOf(t)),
    comm: pfile(() => t.name + '\n', 0o644, (c, src) => {
      if (!isTask(c) || c.tg !== tg) throw linuxerr.EINVAL;
      let name = Buffer.from(src).toString().replace(/\n$/, '');
      while (Buffer.byteLength(name) > 15) name = name.slice(0, -1);
      t.name = name;
      return src.length;
    }),
    cwd: link((c) => pathOf(mayTrace(c, t).fs.cwd ?? root(), callerTask(c).fs.root ?? root()),
      (c) => mayTrace(c, t).fs.cwd),
    environ: pfile(() => (t.mm.envStart === 0 && !tg.zombie ? nulJoin(tg.envp) : areaOf(t, t.mm.envStart, t.mm.envEnd)),
      0o400),
    exe: link((c) => {
      mayTrace(c, t);
      if (!tg.exe) throw linuxerr.ENOENT;
      return tg.exe;
    }),
    fd: dynDir(fdOps(t, false), 0o500),
    fdinfo: dynDir(fdOps(t, true), 0o500),
    gid_map: pfile(() => idMapText(t.kernel, 'gid')),
    limits: pfile(() => limitsText(tg)),
    maps: pfile(() => (tg.zombie ? '' : mapsText(t.mm))),
    net: netDir,
    ns: dir(nsTable((c) => mayTrace(c, t)), 0o511),
    mountinfo: pfile(() => t.kernel.vfs.mountInfoText(root())),
    mounts: pfile(() => t.kernel.vfs.mountsText(root())),
    oom_score: ptext('0\n'),
    oom_score_adj: pfile(() => `${oomScoreAdj(tg)}\n`, 0o644, (_c, src) => writeOomScoreAdj(tg, src)), // recorded, not enforced
    root: link((c) => {
      mayTrace(c, t);
      return pathOf(root(), callerTask(c).fs.root ?? root());
    }, (c) => mayTrace(c, t).fs.root),
    stat: pfile((c) => statLine(c, t, tg)),
    statm: pfile(() => statmText(t)),
    status: pfile((c) => statusText(c, t, tg)),
    uid_map: pfile(() => idMapText(t.kernel, 'uid')),
  };
  if (!thread) {
    table.task = dynDir({
      lookup: (c, name, d) => {
        void c;
        const id = fdNumber(name);
        for (const x of tg.tasks) if (x.tid === id) return taskDir(x, true)(d, name);
        return null;
      },
      names: () => [...tg.tasks].map((x) => String(x.tid)),
    });
  }
  const spec = dir(table, 0o555, owner);
  return spec;
}
