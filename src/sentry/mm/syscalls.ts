// The MemoryManager's mapping operations (Linux's mm/mmap.c, mremap.c,
// mprotect.c, madvise.c, msync.c, mincore.c): validate as Linux does, decide
// the layout, apply the change to the host address space, then record it.
// Every function is synchronous: the VMA set and the host agree at each return.

import * as linuxerr from '../../abi/linux/errno.js';
import { S_IFCHR, S_IFMT, S_IFREG } from '../../abi/linux/file.js';
import * as m from '../../abi/linux/mm.js';
import type { HostFile } from '../../platform/platform.js';
import type { FileDescription } from '../vfs/file_description.js';
import { MAX_MAP_COUNT, MMAP_MIN_ADDR, TASK_SIZE, TASK_UNMAPPED_BASE, USER_TOP } from './layout.js';
import type { MemoryManager } from './mm.js';
import type { Vma } from './vma.js';
import { sliceVma, STACK_GUARD_GAP } from './vma.js';

const PAGE = m.PAGE_SIZE;
const PROT_RWX = m.PROT_READ | m.PROT_WRITE | m.PROT_EXEC;
const PROT_SEM = 0x8;
/** MAP_DROPPABLE (Linux 6.11): private anonymous memory the kernel may zero; wiped on fork. */
export const MAP_DROPPABLE = 0x08;
const MAP_UNINITIALIZED = 0x4000000;
const MAP_HUGE_MASK = 0x3f << 26;
/** Flags MAP_SHARED_VALIDATE accepts (Linux's LEGACY_MAP_MASK, plus FIXED_NOREPLACE). */
const VALIDATE_MASK = m.MAP_SHARED | m.MAP_PRIVATE | m.MAP_FIXED | m.MAP_ANONYMOUS | m.MAP_DENYWRITE |
  m.MAP_EXECUTABLE | MAP_UNINITIALIZED | m.MAP_GROWSDOWN | m.MAP_LOCKED | m.MAP_NORESERVE | m.MAP_POPULATE |
  m.MAP_NONBLOCK | m.MAP_STACK | m.MAP_HUGETLB | m.MAP_32BIT | MAP_HUGE_MASK | m.MAP_FIXED_NOREPLACE;
/** /dev/zero's device number: mapping it means anonymous memory. */
const DEV_ZERO_RDEV = (1 << 8) | 5;
const TWO63 = 2 ** 63;
/** Shared anonymous memory lives in the kernel's internal tmpfs, device 0:1. */
const SHMEM_DEV = 1;

/** MmapOpts describes one mmap request. */
export interface MmapOpts {
  /** addr is the hint, or the address with MAP_FIXED. */
  addr: number;
  length: number;
  prot: number;
  /** flags are MAP_* (exactly one of the MAP_TYPE values). */
  flags: number;
  /** file is the mapped file; ignored with MAP_ANONYMOUS. */
  file?: FileDescription | null;
  /** offset in the file, page-aligned. */
  offset?: number;
  /** asLimit is RLIMIT_AS in bytes (Infinity: none). */
  asLimit?: number;
  /** copy (private mappings only): hold a copy of the file's bytes in
   *  anonymous memory rather than mapping the file (the loader's writable
   *  segments, which the Sentry then copies to and from without the host). */
  copy?: boolean;
}

/** hostCall runs a host operation, turning a host failure into the guest errno. */
function hostCall<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    const errno = (e as { errno?: unknown }).errno;
    if (e instanceof linuxerr.SyscallError) throw e;
    if (typeof errno === 'number' && errno > 0) throw linuxerr.fromErrno(errno);
    throw e;
  }
}

/** blocked lists what the guest may never map: the reserved ranges and everything from USER_TOP. */
export function blockedRanges(mm: MemoryManager): { start: number; end: number }[] {
  const out = mm.as.reserved.filter((r) => r.start < USER_TOP).map((r) => ({ start: r.start, end: r.end }));
  out.push({ start: USER_TOP, end: TASK_SIZE + PAGE });
  return out;
}

/** totalMapped returns the bytes mapped (for RLIMIT_AS). */
function totalMapped(mm: MemoryManager): number {
  let n = 0;
  for (const v of mm.vmas.all()) n += v.end - v.start;
  return n;
}

/** checkAS throws ENOMEM when growing by grow bytes would pass limit. */
function checkAS(mm: MemoryManager, grow: number, limit: number | undefined): void {
  if (limit === undefined || !Number.isFinite(limit) || grow <= 0) return;
  if (totalMapped(mm) + grow > limit) throw linuxerr.ENOMEM;
}

/** mappedIn returns how many bytes of [start, end) are mapped. */
function mappedIn(mm: MemoryManager, start: number, end: number): number {
  let n = 0;
  for (const v of mm.vmas.overlapping(start, end)) n += Math.min(v.end, end) - Math.max(v.start, start);
  return n;
}

/** hintOK reports whether a non-fixed hint can be used as is (Linux's checks in arch_get_unmapped_area_topdown). */
function hintOK(mm: MemoryManager, addr: number, len: number): boolean {
  if (addr < MMAP_MIN_ADDR || addr + len > USER_TOP) return false;
  if (!mm.vmas.isFree(addr, addr + len, blockedRanges(mm))) return false;
  const next = mm.vmas.next(addr + len);
  return !(next && next.growsDown && addr + len > next.start - STACK_GUARD_GAP);
}

/** unmappedArea chooses where a non-fixed mapping of len bytes goes, or throws ENOMEM. */
export function unmappedArea(mm: MemoryManager, hint: number, len: number, flags: number, align = PAGE): number {
  if (len > USER_TOP - MMAP_MIN_ADDR) throw linuxerr.ENOMEM;
  const blocked = blockedRanges(mm);
  if (flags & m.MAP_32BIT) {
    // x86-64 MAP_32BIT: the first 2 GiB above 1 GiB, bottom-up.
    const a = mm.vmas.findGap(len, 0x4000_0000, 0x8000_0000, false, blocked, align);
    if (a < 0) throw linuxerr.ENOMEM;
    return a;
  }
  if (hint) {
    const h = m.pageRoundUp(hint);
    if (h % align === 0 && hintOK(mm, h, len)) return h;
  }
  let a = mm.vmas.findGap(len, Math.max(MMAP_MIN_ADDR, PAGE), mm.mmapBase, true, blocked, align);
  // Like Linux, fall back to a bottom-up search above the mmap base.
  if (a < 0) a = mm.vmas.findGap(len, TASK_UNMAPPED_BASE, USER_TOP, false, blocked, align);
  if (a < 0) throw linuxerr.ENOMEM;
  return a;
}

/** doMmap implements mmap(2) for mm; returns the mapping's address. */
export function doMmap(mm: MemoryManager, o: MmapOpts): number {
  const offset = o.offset ?? 0;
  if (offset % PAGE !== 0) throw linuxerr.EINVAL;
  let flags = o.flags;
  const anon = (flags & m.MAP_ANONYMOUS) !== 0;
  const file = anon ? null : (o.file ?? null);
  if (!anon && !file) throw linuxerr.EBADF;
  if (file && (flags & m.MAP_HUGETLB)) throw linuxerr.EINVAL;
  if (o.length === 0) throw linuxerr.EINVAL;
  if (flags & m.MAP_FIXED_NOREPLACE) flags |= m.MAP_FIXED;
  const fixed = (flags & m.MAP_FIXED) !== 0;
  let addr = o.addr;
  if (!fixed && addr !== 0 && addr < MMAP_MIN_ADDR) addr = MMAP_MIN_ADDR;
  const len = m.pageRoundUp(o.length);
  if (len > TASK_SIZE) throw linuxerr.ENOMEM;
  if (file && (offset < 0 || offset + len > TWO63)) throw linuxerr.EOVERFLOW;
  if (mm.vmas.size > MAX_MAP_COUNT) throw linuxerr.ENOMEM;
  if (anon && (flags & m.MAP_HUGETLB)) throw linuxerr.ENOMEM; // no huge pages reserved

  // Where the mapping goes (Linux's get_unmapped_area).
  if (fixed) {
    if (len > USER_TOP - MMAP_MIN_ADDR) throw linuxerr.ENOMEM;
    if (addr > TASK_SIZE - len) throw linuxerr.ENOMEM;
    if (addr % PAGE !== 0) throw linuxerr.EINVAL;
    if (addr < MMAP_MIN_ADDR) throw linuxerr.EPERM;
    if (addr + len > USER_TOP || blockedRanges(mm).some((r) => r.start < addr + len && r.end > addr)) {
      throw linuxerr.ENOMEM;
    }
    if ((flags & m.MAP_FIXED_NOREPLACE) && mm.vmas.overlapping(addr, addr + len).length > 0) throw linuxerr.EEXIST;
  } else {
    addr = unmappedArea(mm, addr, len, flags);
  }

  // What kind of mapping (Linux's do_mmap type checks).
  const type = flags & m.MAP_TYPE;
  const growsDown = (flags & m.MAP_GROWSDOWN) !== 0;
  let shared: boolean;
  let maxProt = PROT_RWX;
  let stat = null;
  if (file) {
    if (type === m.MAP_SHARED_VALIDATE && (flags & ~VALIDATE_MASK)) throw linuxerr.EOPNOTSUPP;
    if (type === m.MAP_SHARED || type === m.MAP_SHARED_VALIDATE) {
      if ((o.prot & m.PROT_WRITE) && !file.writable) throw linuxerr.EACCES;
      if (!file.writable) maxProt &= ~m.PROT_WRITE;
      shared = true;
    } else if (type === m.MAP_PRIVATE) {
      shared = false;
    } else {
      throw linuxerr.EINVAL;
    }
    if (!file.readable) throw linuxerr.EACCES;
    if (shared && file.impl.writeSealed?.()) {
      // A write-sealed memfd (Linux's seal_check_write): no writable shared mapping, now or by mprotect.
      if (o.prot & m.PROT_WRITE) throw linuxerr.EPERM;
      maxProt &= ~m.PROT_WRITE;
    }
    stat = file.stat();
    const fmt = stat.mode & S_IFMT;
    const host = o.copy && !shared ? null : (file.impl.mappable?.() ?? null);
    const isZero = fmt === S_IFCHR && stat.rdev === DEV_ZERO_RDEV;
    if (!host && !isZero && fmt !== S_IFREG) throw linuxerr.ENODEV;
    if (growsDown) throw linuxerr.EINVAL;
    if (!host && !isZero && shared) throw linuxerr.ENODEV; // shared memory for in-Sentry files: not yet
    checkAS(mm, len - (fixed ? mappedIn(mm, addr, addr + len) : 0), o.asLimit);
    // /dev/zero maps as anonymous memory (shared: in the internal tmpfs).
    const zshared = isZero && shared;
    const v = newVma(addr, len, o.prot, maxProt, shared, false, isZero ? null : file, isZero ? null : host,
      isZero ? 0 : offset, zshared ? '/dev/zero (deleted)' : file.path, zshared ? SHMEM_DEV : stat.dev,
      zshared ? mm.nextShmIno++ : stat.ino);
    install(mm, v, flags);
    if (!host && !isZero) copyFileData(mm, file, addr, len, offset, stat.size, o.prot);
    return addr;
  }
  if (type === m.MAP_SHARED) {
    if (growsDown) throw linuxerr.EINVAL;
    shared = true;
  } else if (type === m.MAP_PRIVATE || type === MAP_DROPPABLE) {
    shared = false;
  } else {
    throw linuxerr.EINVAL;
  }
  checkAS(mm, len - (fixed ? mappedIn(mm, addr, addr + len) : 0), o.asLimit);
  const v = newVma(addr, len, o.prot, maxProt, shared, growsDown, null, null, 0,
    shared ? '/dev/zero (deleted)' : '', shared ? SHMEM_DEV : 0, shared ? mm.nextShmIno++ : 0);
  install(mm, v, flags);
  if (type === MAP_DROPPABLE) hostCall(() => mm.as.madvise(addr, len, m.MADV_WIPEONFORK));
  return addr;
}

/** newVma builds a Vma record. */
export function newVma(start: number, len: number, prot: number, maxProt: number, shared: boolean, growsDown: boolean,
  file: FileDescription | null, hostFile: HostFile | null, offset: number, name: string, dev: number, ino: number): Vma {
  return { start, end: start + len, prot: prot & PROT_RWX, maxProt, shared, growsDown, dontFork: false, file, hostFile,
    offset, name, dev, ino };
}

/** install maps v on the host (replacing whatever was there) and records it. */
export function install(mm: MemoryManager, v: Vma, flags: number): void {
  const len = v.end - v.start;
  const hostFlags = (v.shared ? m.MAP_SHARED : m.MAP_PRIVATE) | (flags & m.MAP_NORESERVE);
  try {
    mm.as.mmap(v.start, len, v.prot, hostFlags, v.hostFile, v.hostFile ? v.offset : 0);
  } catch (e) {
    // A failed MAP_FIXED may have unmapped the old pages: drop them on both sides.
    try {
      mm.as.munmap(v.start, len);
    } catch {
      // Nothing more can be done; the record below matches an empty range.
    }
    mm.vmas.remove(v.start, v.end);
    return hostCall(() => {
      throw e;
    });
  }
  // Hold v's file across the swap: the mapping being replaced may hold its last reference.
  v.file?.incRef();
  mm.vmas.remove(v.start, v.end);
  mm.vmas.insert(v);
  v.file?.decRef();
}

/** copyFileData fills fresh anonymous memory at addr with the file's bytes from offset (for files without a host fd). */
export function copyFileData(mm: MemoryManager, file: FileDescription, addr: number, len: number, offset: number, size: number, prot: number): void {
  const want = Math.max(0, Math.min(len, size - offset));
  const CHUNK = 1 << 20;
  const buf = new Uint8Array(Math.min(CHUNK, want));
  for (let done = 0; done < want; ) {
    const n = file.read(buf.subarray(0, Math.min(CHUNK, want - done)), offset + done);
    if (n <= 0) break;
    mm.as.writeForce(addr + done, buf.subarray(0, n), prot);
    done += n;
  }
}

/** unmapRange removes [start, end) on the host and in the record; reserved ranges are never touched. */
export function unmapRange(mm: MemoryManager, start: number, end: number): void {
  for (const v of mm.vmas.overlapping(start, end)) {
    const s = Math.max(v.start, start);
    const e = Math.min(v.end, end);
    hostCall(() => mm.as.munmap(s, e - s));
  }
  mm.vmas.remove(start, end);
}

/** doMunmap implements munmap(2). */
export function doMunmap(mm: MemoryManager, addr: number, length: number): void {
  if (addr % PAGE !== 0 || addr > TASK_SIZE || length > TASK_SIZE - addr) throw linuxerr.EINVAL;
  const len = m.pageRoundUp(length);
  if (len === 0) throw linuxerr.EINVAL;
  unmapRange(mm, addr, addr + len);
}

/** doMprotect implements mprotect(2). */
export function doMprotect(mm: MemoryManager, addr: number, length: number, protIn: number): void {
  const grows = protIn & (m.PROT_GROWSDOWN | m.PROT_GROWSUP);
  const prot = protIn & ~grows;
  if (grows === (m.PROT_GROWSDOWN | m.PROT_GROWSUP)) throw linuxerr.EINVAL;
  if (addr % PAGE !== 0) throw linuxerr.EINVAL;
  if (length === 0) return;
  let start = addr;
  const end = addr + m.pageRoundUp(length);
  if (end <= start) throw linuxerr.ENOMEM;
  if (prot & ~(PROT_RWX | PROT_SEM)) throw linuxerr.EINVAL;
  const first = mm.vmas.next(start);
  if (!first || first.start >= end) throw linuxerr.ENOMEM;
  if (grows & m.PROT_GROWSDOWN) {
    start = first.start;
    if (!first.growsDown) throw linuxerr.EINVAL;
  } else {
    if (first.start > start) throw linuxerr.ENOMEM;
    if (grows & m.PROT_GROWSUP) throw linuxerr.EINVAL; // x86 has no grows-up mappings
  }
  const p = prot & PROT_RWX;
  // Apply vma by vma, as Linux does: a hole or a refusal stops the walk, keeping what was done.
  let at = start;
  while (at < end) {
    const v = mm.vmas.find(at);
    if (!v) throw linuxerr.ENOMEM;
    if (p & ~v.maxProt) throw linuxerr.EACCES;
    const e = Math.min(v.end, end);
    if (v.prot !== p) {
      hostCall(() => mm.as.mprotect(at, e - at, p));
      mm.vmas.update(at, e, (x) => {
        x.prot = p;
      });
    }
    at = e;
  }
}

/** doBrk implements brk(2): returns the new break, or the old one on failure. */
export function doBrk(mm: MemoryManager, addr: number, asLimit?: number, dataLimit?: number): number {
  const cur = mm.curBrk;
  if (addr < mm.startBrk) return cur;
  if (dataLimit !== undefined && Number.isFinite(dataLimit) &&
    addr - mm.startBrk + (mm.endData - mm.startData) > dataLimit) return cur;
  const newBrk = m.pageRoundUp(addr);
  const oldBrk = m.pageRoundUp(cur);
  if (newBrk === oldBrk) {
    mm.curBrk = addr;
    return addr;
  }
  if (addr <= cur) {
    unmapRange(mm, newBrk, oldBrk);
    mm.curBrk = addr;
    return addr;
  }
  if (newBrk > USER_TOP) return cur;
  // Keep a page free below the next mapping (and the stack guard gap below a stack).
  const next = mm.vmas.next(oldBrk);
  if (next && newBrk + PAGE > (next.growsDown ? next.start - STACK_GUARD_GAP : next.start)) return cur;
  if (blockedRanges(mm).some((r) => r.start < newBrk + PAGE && r.end > oldBrk)) return cur;
  try {
    checkAS(mm, newBrk - oldBrk, asLimit);
    const v = newVma(oldBrk, newBrk - oldBrk, m.PROT_READ | m.PROT_WRITE, PROT_RWX, false, false, null, null, 0, '', 0, 0);
    install(mm, v, 0);
  } catch (e) {
    if (e instanceof linuxerr.SyscallError) return cur;
    throw e;
  }
  mm.curBrk = addr;
  return addr;
}

/** doMremap implements mremap(2); returns the (possibly new) address. */
export function doMremap(mm: MemoryManager, oldAddr: number, oldLength: number, newLength: number, flags: number,
  newAddrIn: number, asLimit?: number): number {
  if (flags & ~(m.MREMAP_MAYMOVE | m.MREMAP_FIXED | m.MREMAP_DONTUNMAP)) throw linuxerr.EINVAL;
  const mayMove = (flags & m.MREMAP_MAYMOVE) !== 0;
  const fixed = (flags & m.MREMAP_FIXED) !== 0;
  const dontUnmap = (flags & m.MREMAP_DONTUNMAP) !== 0;
  if (fixed && !mayMove) throw linuxerr.EINVAL;
  if (dontUnmap && (!mayMove || oldLength !== newLength)) throw linuxerr.EINVAL;
  if (oldAddr % PAGE !== 0) throw linuxerr.EINVAL;
  let oldLen = m.pageRoundUp(oldLength);
  const newLen = m.pageRoundUp(newLength);
  if (newLen === 0 || newLen > TASK_SIZE || oldLen > TASK_SIZE) throw linuxerr.EINVAL;
  if (!mm.vmas.find(oldAddr)) throw linuxerr.EFAULT;

  if (fixed || dontUnmap) {
    let newAddr = newAddrIn;
    if (fixed) {
      if (newAddr % PAGE !== 0) throw linuxerr.EINVAL;
      if (newAddr > TASK_SIZE - newLen) throw linuxerr.EINVAL;
      if (oldAddr + oldLen > newAddr && newAddr + newLen > oldAddr) throw linuxerr.EINVAL;
      if (newAddr < MMAP_MIN_ADDR) throw linuxerr.EPERM;
      if (newAddr + newLen > USER_TOP || blockedRanges(mm).some((r) => r.start < newAddr + newLen && r.end > newAddr)) {
        throw linuxerr.ENOMEM;
      }
      unmapRange(mm, newAddr, newAddr + newLen);
    }
    if (oldLen > newLen) {
      unmapRange(mm, oldAddr + newLen, oldAddr + oldLen);
      oldLen = newLen;
    }
    const v = resizable(mm, oldAddr, oldLen);
    checkAS(mm, dontUnmap ? newLen : newLen - oldLen, asLimit);
    if (!fixed) newAddr = unmappedArea(mm, 0, newLen, 0);
    return move(mm, v, oldAddr, oldLen, newAddr, newLen, dontUnmap);
  }

  if (oldLen >= newLen && oldLen !== 0) {
    if (oldLen > newLen) unmapRange(mm, oldAddr + newLen, oldAddr + oldLen);
    return oldAddr;
  }
  const v = resizable(mm, oldAddr, oldLen);
  checkAS(mm, newLen - oldLen, asLimit);
  // Grow in place when the pages after the mapping are free.
  const newEnd = oldAddr + newLen;
  if (oldLen !== 0 && oldAddr + oldLen === v.end && newEnd <= USER_TOP && hintFree(mm, v.end, newEnd)) {
    hostCall(() => mm.as.mremap(oldAddr, oldLen, newLen, 0, 0));
    const ext = sliceVma({ ...v, end: newEnd }, v.end, newEnd);
    mm.vmas.insert(ext);
    if (v.file && !v.hostFile) copyFileData(mm, v.file, ext.start, newEnd - ext.start, ext.offset, v.file.stat().size, v.prot);
    return oldAddr;
  }
  if (!mayMove) throw linuxerr.ENOMEM;
  const newAddr = unmappedArea(mm, 0, newLen, 0);
  return move(mm, v, oldAddr, oldLen, newAddr, newLen, false);
}

/** hintFree reports whether [start, end) is free, with room for a stack's guard gap. */
function hintFree(mm: MemoryManager, start: number, end: number): boolean {
  if (!mm.vmas.isFree(start, end, blockedRanges(mm))) return false;
  const next = mm.vmas.next(end);
  return !(next && next.growsDown && end > next.start - STACK_GUARD_GAP);
}

/** resizable returns the vma holding [addr, addr+oldLen), checking mremap's rules. */
function resizable(mm: MemoryManager, addr: number, oldLen: number): Vma {
  const v = mm.vmas.find(addr);
  if (!v) throw linuxerr.EFAULT;
  if (oldLen === 0 && !v.shared) throw linuxerr.EINVAL;
  if (addr + oldLen > v.end) throw linuxerr.EFAULT;
  return v;
}

/** move relocates [oldAddr, oldAddr+oldLen) of v to [newAddr, newAddr+newLen). */
function move(mm: MemoryManager, v: Vma, oldAddr: number, oldLen: number, newAddr: number, newLen: number,
  dontUnmap: boolean): number {
  const hf = m.MREMAP_MAYMOVE | m.MREMAP_FIXED | (dontUnmap ? m.MREMAP_DONTUNMAP : 0);
  hostCall(() => mm.as.mremap(oldAddr, oldLen, newLen, hf, newAddr));
  const nv: Vma = { ...v, start: newAddr, end: newAddr + newLen, offset: v.file ? v.offset + (oldAddr - v.start) : 0 };
  // Insert first: the new record takes its file reference before the old one may drop the last.
  mm.vmas.remove(newAddr, newAddr + newLen);
  mm.vmas.insert(nv);
  if (!dontUnmap && oldLen > 0) mm.vmas.remove(oldAddr, oldAddr + oldLen);
  if (v.file && !v.hostFile && newLen > oldLen) {
    copyFileData(mm, v.file, newAddr + oldLen, newLen - oldLen, nv.offset + oldLen, v.file.stat().size, nv.prot);
  }
  return newAddr;
}

const MADV_POPULATE_READ = 22;
const MADV_POPULATE_WRITE = 23;
const MADV_DONTNEED_LOCKED = 24;
const MADV_COLLAPSE = 25;
/** Advice values accepted without effect (hints about paging we leave to the host's defaults). */
const MADV_HINTS = new Set([m.MADV_NORMAL, m.MADV_RANDOM, m.MADV_SEQUENTIAL, m.MADV_WILLNEED, m.MADV_MERGEABLE,
  m.MADV_UNMERGEABLE, m.MADV_HUGEPAGE, m.MADV_NOHUGEPAGE, m.MADV_DONTDUMP, m.MADV_DODUMP, m.MADV_COLD,
  m.MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_COLLAPSE]);

/** doMadvise implements madvise(2). */
export function doMadvise(mm: MemoryManager, addr: number, length: number, advice: number): void {
  if (addr % PAGE !== 0) throw linuxerr.EINVAL;
  const known = MADV_HINTS.has(advice) || advice === m.MADV_DONTNEED || advice === MADV_DONTNEED_LOCKED ||
    advice === m.MADV_FREE || advice === m.MADV_REMOVE || advice === m.MADV_DONTFORK || advice === m.MADV_DOFORK ||
    advice === m.MADV_WIPEONFORK || advice === m.MADV_KEEPONFORK;
  if (!known) throw linuxerr.EINVAL;
  const len = m.pageRoundUp(length);
  if (length !== 0 && len === 0) throw linuxerr.EINVAL;
  const end = addr + len;
  if (end < addr || end > TASK_SIZE + PAGE) throw linuxerr.EINVAL;
  if (end === addr) return;
  const hole = mm.vmas.mappedPrefix(addr, end) !== end;
  for (const v of mm.vmas.overlapping(addr, end)) {
    const s = Math.max(v.start, addr);
    const e = Math.min(v.end, end);
    switch (advice) {
      case m.MADV_DONTNEED:
      case MADV_DONTNEED_LOCKED:
      case m.MADV_FREE:
        if (advice === m.MADV_FREE && (v.file || v.shared)) throw linuxerr.EINVAL;
        hostCall(() => mm.as.madvise(s, e - s, advice === m.MADV_FREE ? m.MADV_FREE : m.MADV_DONTNEED));
        // A private file copy must read as the file again, not as zeros.
        if (v.file && !v.hostFile) copyFileData(mm, v.file, s, e - s, v.offset + (s - v.start), v.file.stat().size, v.prot);
        break;
      case m.MADV_REMOVE:
        if (!v.shared) throw v.file ? linuxerr.EACCES : linuxerr.EINVAL;
        if (!(v.maxProt & m.PROT_WRITE)) throw linuxerr.EACCES;
        hostCall(() => mm.as.madvise(s, e - s, advice));
        break;
      case m.MADV_WIPEONFORK:
      case m.MADV_KEEPONFORK:
        if (v.file || v.shared) throw linuxerr.EINVAL;
        hostCall(() => mm.as.madvise(s, e - s, advice));
        break;
      case m.MADV_DONTFORK:
      case m.MADV_DOFORK: {
        const dontFork = advice === m.MADV_DONTFORK;
        hostCall(() => mm.as.madvise(s, e - s, advice));
        mm.vmas.update(s, e, (x) => {
          x.dontFork = dontFork;
        });
        break;
      }
      default:
        break;
    }
  }
  // Linux applies the advice to the mapped parts, then reports the hole.
  if (hole) throw linuxerr.ENOMEM;
}

/** doMsync implements msync(2). */
export function doMsync(mm: MemoryManager, addr: number, length: number, flags: number): void {
  if (addr % PAGE !== 0) throw linuxerr.EINVAL;
  if (flags & ~(m.MS_ASYNC | m.MS_INVALIDATE | m.MS_SYNC)) throw linuxerr.EINVAL;
  if ((flags & m.MS_ASYNC) && (flags & m.MS_SYNC)) throw linuxerr.EINVAL;
  const end = addr + m.pageRoundUp(length);
  if (end < addr) throw linuxerr.ENOMEM;
  if (end === addr) return;
  for (const v of mm.vmas.overlapping(addr, end)) {
    if (!(flags & m.MS_SYNC) || !v.shared || !v.hostFile) continue;
    const s = Math.max(v.start, addr);
    const e = Math.min(v.end, end);
    hostCall(() => mm.as.msync(s, e - s, m.MS_SYNC));
  }
  if (mm.vmas.mappedPrefix(addr, end) !== end) throw linuxerr.ENOMEM;
}

/** doMincore implements mincore(2): returns one byte per page (bit 0: resident). */
export function doMincore(mm: MemoryManager, addr: number, length: number): Uint8Array {
  if (addr % PAGE !== 0) throw linuxerr.EINVAL;
  if (addr > TASK_SIZE || length > TASK_SIZE - addr) throw linuxerr.ENOMEM;
  const pages = Math.ceil(length / PAGE);
  if (pages === 0) return new Uint8Array(0);
  const end = addr + pages * PAGE;
  if (mm.vmas.mappedPrefix(addr, end) !== end) throw linuxerr.ENOMEM;
  const vec = new Uint8Array(pages);
  const r = mm.as.mincore(addr, pages * PAGE, vec);
  if (r < 0) throw linuxerr.fromErrno(-r);
  return vec;
}
