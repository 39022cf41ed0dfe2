// System V shared memory (shmget(2), shmat(2), shmdt(2), shmctl(2); Linux's
// ipc/shm.c). A segment is an unlinked file of the internal tmpfs, so an
// attach is a MAP_SHARED mapping of it (a host memfd): forks inherit it and
// every process that attaches it sees the same pages. The sandbox is one IPC
// namespace: segments live as long as the kernel, or until IPC_RMID and the
// last detach.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import * as m from '../../../abi/linux/mm.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { TmpfsFileImpl } from '../../fsimpl/tmpfs/regular_file.js';
import type { TmpfsFile } from '../../fsimpl/tmpfs/tmpfs.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import type { Vma } from '../../mm/vma.js';
import type { IpcObject, IpcRegistry } from '../../kernel/ipc/ipc.js';
import {
  IPC_64, IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, IPC_PRIVATE, S_IRUGO, S_IWUGO, encodePerm, isOwner, mayAccess, newPerm,
  nowSec, registryOf, setPerm,
} from '../../kernel/ipc/ipc.js';
import { kernelCaller } from '../../vfs/caller.js';
import type { FileDescription } from '../../vfs/file_description.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';
import { RLIMIT_AS } from './sys_rlimit.js';
import { newShmemFile, openShmemFile } from './sys_memfd.js';

const SHM_LOCK = 11;
const SHM_UNLOCK = 12;
const SHM_STAT = 13;
const SHM_INFO = 14;
const SHM_STAT_ANY = 15;
const SHM_HUGETLB = 0o4000;
const SHM_RDONLY = 0o10000;
const SHM_RND = 0o20000;
const SHM_REMAP = 0o40000;
const SHM_EXEC = 0o100000;
/** Mode bits: destroyed once the last attach goes; locked in memory. */
const SHM_DEST = 0o1000;
const SHM_LOCKED = 0o2000;
const SHMLBA = m.PAGE_SIZE;
const SHMMIN = 1;
/** Linux's defaults: SHMMAX = SHMALL = ULONG_MAX - 2^24, SHMMNI = 4096. */
const SHMMAX = 0xffff_ffff_feff_ffffn;
const SHMMNI = 4096;
const CAP_IPC_LOCK = 14;
/** sizeof(struct shmid64_ds), struct shminfo64 and struct shm_info on x86-64. */
const SHMID_DS_SIZE = 112;
const SHMINFO_SIZE = 72;
const SHM_INFO_SIZE = 48;

export interface Segment extends IpcObject {
  size: number;
  file: TmpfsFile;
  /** The registry's own open description: keeps the pages while nothing is attached. */
  held: FileDescription;
  path: string;
  /** mode: permission bits plus SHM_DEST and SHM_LOCKED. */
  cpid: number;
  lpid: number;
  atime: number;
  dtime: number;
  ctime: number;
}

type Registry = IpcRegistry<Segment>;

/** The segment of each internal file that is one (also after IPC_RMID). */
const segmentOfFile = new WeakMap<TmpfsFile, Segment>();

function registry(k: Kernel): Registry {
  return registryOf<Segment>(k, 'shm', SHMMNI);
}

/** segmentFileOf returns the segment file a mapping maps, if it is one. */
function segmentFileOf(v: Vma): TmpfsFile | null {
  const impl = v.file?.impl;
  if (!(impl instanceof TmpfsFileImpl)) return null;
  return segmentOfFile.has(impl.file) ? impl.file : null;
}

/** nattch counts the mappings of seg in every address space (an attach that
 *  fork copied counts again, one that munmap split counts per piece). */
function nattch(k: Kernel, seg: Segment): number {
  const seen = new Set<unknown>();
  let n = 0;
  for (const t of k.tasks.values()) {
    if (seen.has(t.mm)) continue;
    seen.add(t.mm);
    for (const v of t.mm.vmas.all()) if (segmentFileOf(v) === seg.file) n++;
  }
  return n;
}

/** destroy removes seg from the registry; its pages go with the last mapping. */
function destroy(r: Registry, seg: Segment): void {
  if (r.remove(seg)) seg.held.decRef();
}

/** sweep destroys removed segments that nothing maps any more (Linux does it
 *  at the last detach; here at the next shm call, which nobody can tell apart). */
function sweep(k: Kernel, r: Registry): void {
  for (const seg of [...r.byIndex.values()]) if ((seg.mode & SHM_DEST) && nattch(k, seg) === 0) destroy(r, seg);
}

/** shmget implements Linux syscall shmget(2). */
export function shmget(t: Task, a: SyscallArgs): number {
  const key = a.int(0);
  const size = a.ptr(1);
  const flag = a.int(2);
  const r = registry(t.kernel);
  sweep(t.kernel, r);
  return r.lookup(t, key, flag, (seg) => {
    if (size > seg.size) throw linuxerr.EINVAL;
  }, () => newSegment(t, r, key, size, flag));
}

function newSegment(t: Task, r: Registry, key: number, size: number, flag: number): Segment {
  if (size < SHMMIN || BigInt(size) > SHMMAX) throw linuxerr.EINVAL;
  if (flag & SHM_HUGETLB) {
    t.kernel.log.warnOnce('shm:hugetlb', 'shmget SHM_HUGETLB: no huge pages reserved (ENOMEM)');
    throw linuxerr.ENOMEM;
  }
  const [index, id] = r.allocId();
  const path = `/SYSV${(key >>> 0).toString(16).padStart(8, '0')} (deleted)`;
  const { file, fd } = newShmemFile(t, flag & 0o777, linux.O_RDWR, path);
  try {
    file.setattr(kernelCaller(), { size });
  } catch (e) {
    fd.decRef();
    throw e;
  }
  const seg: Segment = {
    id, index, ...newPerm(t, key, flag), size, file, held: fd, path,
    cpid: t.tg.pid, lpid: 0, atime: 0, dtime: 0, ctime: nowSec(),
  };
  segmentOfFile.set(file, seg);
  return seg;
}

/** shmat implements Linux syscall shmat(2). */
export function shmat(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  let addr = a.ptr(1);
  const flag = a.int(2);
  const r = registry(t.kernel);
  const seg = r.byId(id);
  if (addr) {
    if (addr % SHMLBA) {
      if (!(flag & SHM_RND)) throw linuxerr.EINVAL;
      addr -= addr % SHMLBA;
    }
  } else if (flag & SHM_REMAP) {
    throw linuxerr.EINVAL;
  }
  const rdonly = (flag & SHM_RDONLY) !== 0;
  if (!mayAccess(t, seg, rdonly ? S_IRUGO : S_IRUGO | S_IWUGO)) throw linuxerr.EACCES;
  const prot = m.PROT_READ | (rdonly ? 0 : m.PROT_WRITE) | (flag & SHM_EXEC ? m.PROT_EXEC : 0);
  let flags = m.MAP_SHARED;
  if (addr) flags |= flag & SHM_REMAP ? m.MAP_FIXED : m.MAP_FIXED_NOREPLACE;
  const f = openShmemFile(seg.file, rdonly ? linux.O_RDONLY : linux.O_RDWR, seg.path);
  let at: number;
  try {
    at = t.mm.mmap({ addr, length: seg.size, prot, flags, file: f, offset: 0, asLimit: t.tg.rlimits[RLIMIT_AS][0] });
  } catch (e) {
    // An attach over existing mappings without SHM_REMAP is EINVAL, not EEXIST.
    throw e === linuxerr.EEXIST ? linuxerr.EINVAL : e;
  } finally {
    f.decRef(); // the mapping holds it now
  }
  seg.atime = nowSec();
  seg.lpid = t.tg.pid;
  return at;
}

/** shmdt implements Linux syscall shmdt(2): it unmaps the attach at addr. */
export function shmdt(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(0);
  if (addr % m.PAGE_SIZE) throw linuxerr.EINVAL;
  const vmas = [...t.mm.vmas.all()];
  const first = vmas.find((v) => v.start === addr && v.offset === 0 && segmentFileOf(v) !== null);
  if (!first) throw linuxerr.EINVAL;
  const file = segmentFileOf(first)!;
  const seg = segmentOfFile.get(file)!;
  const end = addr + m.pageRoundUp(seg.size);
  // Every piece of this attach (mprotect may have split it), and no other mapping.
  for (const v of vmas) {
    if (v.start < addr || v.start >= end || segmentFileOf(v) !== file || v.offset !== v.start - addr) continue;
    t.mm.munmap(v.start, v.end - v.start);
  }
  seg.dtime = nowSec();
  seg.lpid = t.tg.pid;
  sweep(t.kernel, registry(t.kernel));
  return 0;
}

/** shmctl implements Linux syscall shmctl(2). */
export function shmctl(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  const cmd = a.int(1) & ~IPC_64;
  const buf = a.ptr(2);
  const k = t.kernel;
  const r = registry(k);
  sweep(k, r);
  switch (cmd) {
    case IPC_INFO: {
      const b = new DataView(new ArrayBuffer(SHMINFO_SIZE));
      b.setBigUint64(0, SHMMAX, true); // shmmax
      b.setBigUint64(8, BigInt(SHMMIN), true);
      b.setBigUint64(16, BigInt(SHMMNI), true);
      b.setBigUint64(24, BigInt(SHMMNI), true); // shmseg
      b.setBigUint64(32, SHMMAX, true); // shmall (pages)
      t.mm.copyOut(buf, new Uint8Array(b.buffer));
      return r.highestIndex();
    }
    case SHM_INFO: {
      const b = new DataView(new ArrayBuffer(SHM_INFO_SIZE));
      let pages = 0;
      for (const seg of r.byIndex.values()) pages += Math.ceil(seg.size / m.PAGE_SIZE);
      b.setInt32(0, r.byIndex.size, true);
      b.setBigUint64(8, BigInt(pages), true); // shm_tot
      b.setBigUint64(16, BigInt(pages), true); // shm_rss: all resident
      t.mm.copyOut(buf, new Uint8Array(b.buffer));
      return r.highestIndex();
    }
    case SHM_STAT:
    case SHM_STAT_ANY: {
      // id is an index here; the full id is returned.
      const seg = r.byIndex.get(id);
      if (id < 0 || !seg) throw linuxerr.EINVAL;
      if (cmd === SHM_STAT && !mayAccess(t, seg, S_IRUGO)) throw linuxerr.EACCES;
      t.mm.copyOut(buf, encodeShmid(k, seg));
      return seg.id;
    }
    case IPC_STAT: {
      const seg = r.byId(id);
      if (!mayAccess(t, seg, S_IRUGO)) throw linuxerr.EACCES;
      t.mm.copyOut(buf, encodeShmid(k, seg));
      return 0;
    }
    case IPC_SET: {
      const seg = r.byId(id);
      const b = new DataView(t.mm.copyIn(buf, SHMID_DS_SIZE).buffer);
      if (!isOwner(t, seg)) throw linuxerr.EPERM;
      setPerm(b, seg);
      seg.ctime = nowSec();
      return 0;
    }
    case IPC_RMID: {
      const seg = r.byId(id);
      if (!isOwner(t, seg)) throw linuxerr.EPERM;
      // Gone for shmget at once (the key reads as private); attaches keep the pages.
      seg.mode |= SHM_DEST;
      seg.key = IPC_PRIVATE;
      if (nattch(k, seg) === 0) destroy(r, seg);
      return 0;
    }
    case SHM_LOCK:
    case SHM_UNLOCK: {
      const seg = r.byId(id);
      if (!t.creds.hasCap(CAP_IPC_LOCK) && !isOwner(t, seg)) throw linuxerr.EPERM;
      // Nothing in the sandbox is swapped: only the flag changes.
      if (cmd === SHM_LOCK) seg.mode |= SHM_LOCKED;
      else seg.mode &= ~SHM_LOCKED;
      return 0;
    }
    default:
      throw linuxerr.EINVAL;
  }
}

/** encodeShmid lays out struct shmid64_ds (x86-64). */
function encodeShmid(k: Kernel, seg: Segment): Uint8Array {
  const b = new DataView(new ArrayBuffer(SHMID_DS_SIZE));
  encodePerm(b, seg);
  b.setBigUint64(48, BigInt(seg.size), true);
  b.setBigInt64(56, BigInt(seg.atime), true);
  b.setBigInt64(64, BigInt(seg.dtime), true);
  b.setBigInt64(72, BigInt(seg.ctime), true);
  b.setInt32(80, seg.cpid, true);
  b.setInt32(84, seg.lpid, true);
  b.setBigUint64(88, BigInt(nattch(k, seg)), true);
  return new Uint8Array(b.buffer);
}

/** shmSegments lists the sandbox's segments with their attach counts (for /proc/sysvipc/shm). */
export function shmSegments(k: Kernel): { seg: Readonly<Segment>; nattch: number }[] {
  const r = registry(k);
  sweep(k, r);
  return [...r.byIndex.values()].map((seg) => ({ seg, nattch: nattch(k, seg) }));
}

export const syscalls: SyscallEntries = {
  [SYSNO.shmget]: partial('shmget', shmget, 'no SHM_HUGETLB'),
  [SYSNO.shmat]: supported('shmat', shmat),
  [SYSNO.shmdt]: supported('shmdt', shmdt),
  [SYSNO.shmctl]: supported('shmctl', shmctl),
};
