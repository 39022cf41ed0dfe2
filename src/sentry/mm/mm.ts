// MemoryManager: one guest address space as the Sentry sees it. It keeps the
// mappings (VMAs) and the brk, decides every change, and applies it to the
// platform AddressSpace. Copies to and from guest memory fail with EFAULT on
// bad addresses, never with a Sentry exception.

import * as linuxerr from '../../abi/linux/errno.js';
import { PATH_MAX } from '../../abi/linux/file.js';
import type { AddressSpace } from '../../platform/platform.js';
import { mmapBase } from './layout.js';
import type { MmapOpts } from './syscalls.js';
import { doBrk, doMadvise, doMincore, doMmap, doMprotect, doMremap, doMsync, doMunmap } from './syscalls.js';
import type { Vma } from './vma.js';
import { VmaSet } from './vma.js';

export type { MmapOpts } from './syscalls.js';
export type { Vma } from './vma.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();
/** Guest addresses are below 2^47 on x86-64 (4-level paging). */
export const MAX_USER_ADDR = 0x7fff_ffff_f000;

export class MemoryManager {
  /** as is the host-side address space (a stub process). */
  as: AddressSpace;
  /** users counts tasks and vfork children sharing this MM (CLONE_VM). */
  users = 1;
  /** vmas are the mappings; each holds a reference on its file. */
  vmas = MemoryManager.newVmaSet();
  /** mmapBase is the top of the top-down mmap area (set by the loader). */
  mmapBase = mmapBase(8 * 1024 * 1024, false);
  /** The program break: the heap is [startBrk, curBrk). */
  startBrk = 0;
  curBrk = 0;
  /** Image layout, for /proc/[pid]/stat, and RLIMIT_DATA. */
  startCode = 0;
  endCode = 0;
  startData = 0;
  endData = 0;
  /** stackStart is the initial stack pointer (Linux's mm->start_stack). */
  stackStart = 0;
  /** argv and envp strings on the initial stack (for /proc/[pid]/cmdline and environ). */
  argStart = 0;
  argEnd = 0;
  envStart = 0;
  envEnd = 0;
  /** auxv is the auxiliary vector as the loader wrote it (pairs of u64, AT_NULL included), for /proc/[pid]/auxv. */
  auxv: Uint8Array = new Uint8Array(0);
  /** nextShmIno numbers shared anonymous mappings in /proc/[pid]/maps. */
  nextShmIno = 1;

  constructor(as: AddressSpace) {
    this.as = as;
  }

  private static newVmaSet(): VmaSet {
    const s = new VmaSet();
    s.onAdd = (v) => v.file?.incRef();
    s.onDrop = (v) => v.file?.decRef();
    return s;
  }

  /** fork returns the MM of a forked child whose host copy is as (the host
   *  already copied the memory; this copies the bookkeeping). */
  fork(as: AddressSpace): MemoryManager {
    const c = new MemoryManager(as);
    c.vmas = this.vmas.clone((v) => !v.dontFork, (v) => v.file?.incRef(), (v) => v.file?.decRef());
    c.mmapBase = this.mmapBase;
    c.startBrk = this.startBrk;
    c.curBrk = this.curBrk;
    c.startCode = this.startCode;
    c.endCode = this.endCode;
    c.startData = this.startData;
    c.endData = this.endData;
    c.stackStart = this.stackStart;
    c.argStart = this.argStart;
    c.argEnd = this.argEnd;
    c.envStart = this.envStart;
    c.envEnd = this.envEnd;
    c.auxv = this.auxv;
    c.nextShmIno = this.nextShmIno;
    return c;
  }

  /** release drops the mappings' file references and ends the host address space. */
  release(): void {
    this.vmas.clear();
    this.as.release();
  }

  /** mappings returns the VMAs in address order (read-only view, for /proc). */
  mappings(): readonly Vma[] {
    return this.vmas.all();
  }

  /** mmap implements mmap(2); returns the address. Throws Linux's errnos. */
  mmap(opts: MmapOpts): number {
    return doMmap(this, opts);
  }

  /** munmap implements munmap(2). */
  munmap(addr: number, len: number): void {
    doMunmap(this, addr, len);
  }

  /** mprotect implements mprotect(2). */
  mprotect(addr: number, len: number, prot: number): void {
    doMprotect(this, addr, len, prot);
  }

  /** brk implements brk(2): returns the new break, or the unchanged one on failure. */
  brk(addr: number, asLimit?: number, dataLimit?: number): number {
    return doBrk(this, addr, asLimit, dataLimit);
  }

  /** mremap implements mremap(2); returns the mapping's address. */
  mremap(oldAddr: number, oldLen: number, newLen: number, flags: number, newAddr: number, asLimit?: number): number {
    return doMremap(this, oldAddr, oldLen, newLen, flags, newAddr, asLimit);
  }

  /** madvise implements madvise(2). */
  madvise(addr: number, len: number, advice: number): void {
    doMadvise(this, addr, len, advice);
  }

  /** msync implements msync(2). */
  msync(addr: number, len: number, flags: number): void {
    doMsync(this, addr, len, flags);
  }

  /** mincore implements mincore(2): one byte per page of [addr, addr+len). */
  mincore(addr: number, len: number): Uint8Array {
    return doMincore(this, addr, len);
  }

  /** copyIn returns len bytes of guest memory at addr, or throws EFAULT. */
  copyIn(addr: number, len: number): Uint8Array {
    const buf = new Uint8Array(len);
    this.copyInto(addr, buf);
    return buf;
  }

  /** copyInto fills buf from guest memory at addr, or throws EFAULT. */
  copyInto(addr: number, buf: Uint8Array): void {
    if (buf.length === 0) return;
    if (addr <= 0 || addr + buf.length > MAX_USER_ADDR) throw linuxerr.EFAULT;
    if (this.as.read(addr, buf, 0, buf.length) !== buf.length) throw linuxerr.EFAULT;
  }

  /** copyInPartial copies what it can; returns the count (0 means EFAULT at addr). */
  copyInPartial(addr: number, buf: Uint8Array): number {
    if (buf.length === 0 || addr <= 0 || addr >= MAX_USER_ADDR) return 0;
    return this.as.read(addr, buf, 0, Math.min(buf.length, MAX_USER_ADDR - addr));
  }

  /** copyOut writes data to guest memory at addr, or throws EFAULT. */
  copyOut(addr: number, data: Uint8Array): void {
    if (data.length === 0) return;
    if (addr <= 0 || addr + data.length > MAX_USER_ADDR) throw linuxerr.EFAULT;
    if (this.as.write(addr, data, 0, data.length) !== data.length) throw linuxerr.EFAULT;
  }

  /** copyOutPartial writes what it can; returns the count. */
  copyOutPartial(addr: number, data: Uint8Array): number {
    if (data.length === 0 || addr <= 0 || addr >= MAX_USER_ADDR) return 0;
    return this.as.write(addr, data, 0, Math.min(data.length, MAX_USER_ADDR - addr));
  }

  /** copyInString reads a NUL-terminated string of at most max bytes (ENAMETOOLONG beyond). */
  copyInString(addr: number, max = PATH_MAX): string {
    if (addr <= 0 || addr >= MAX_USER_ADDR) throw linuxerr.EFAULT;
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      // Read up to the end of the page, so an unmapped next page does not fault early.
      const n = Math.min(4096 - ((addr + total) % 4096), max + 1 - total);
      if (n <= 0) throw linuxerr.ENAMETOOLONG;
      const chunk = new Uint8Array(n);
      const got = this.as.read(addr + total, chunk, 0, n);
      if (got <= 0) throw linuxerr.EFAULT;
      const z = chunk.subarray(0, got).indexOf(0);
      if (z >= 0) {
        chunks.push(chunk.subarray(0, z));
        total += z;
        break;
      }
      chunks.push(chunk.subarray(0, got));
      total += got;
      if (got < n) throw linuxerr.EFAULT;
    }
    if (total > max) throw linuxerr.ENAMETOOLONG;
    return decoder.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  }

  /** copyInStringVec reads a NULL-terminated array of string pointers (argv, envp). */
  copyInStringVec(addr: number, maxTotal = 2 * 1024 * 1024): string[] {
    const out: string[] = [];
    if (addr === 0) return out;
    let total = 0;
    for (let i = 0; ; i++) {
      const p = this.readU64(addr + 8 * i);
      if (p === 0) break;
      const s = this.copyInString(p, 128 * 1024);
      total += s.length + 1;
      if (total > maxTotal) throw linuxerr.E2BIG;
      out.push(s);
    }
    return out;
  }

  private readonly word = new Uint8Array(8);
  private readonly wordView = new DataView(this.word.buffer);

  readU64(addr: number): number {
    this.copyInto(addr, this.word);
    return this.wordView.getUint32(0, true) + this.wordView.getUint32(4, true) * 0x1_0000_0000;
  }

  readI32(addr: number): number {
    const b = this.word.subarray(0, 4);
    this.copyInto(addr, b);
    return this.wordView.getInt32(0, true);
  }

  readU32(addr: number): number {
    return this.readI32(addr) >>> 0;
  }

  writeU64(addr: number, v: number | bigint): void {
    this.wordView.setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
    this.copyOut(addr, this.word);
  }

  writeI32(addr: number, v: number): void {
    this.wordView.setInt32(0, v, true);
    this.copyOut(addr, this.word.subarray(0, 4));
  }

  /** writeString writes s with a terminating NUL. */
  writeString(addr: number, s: string): void {
    const b = encoder.encode(s + '\0');
    this.copyOut(addr, b);
  }
}
