// MemoryManager: one guest address space as the Sentry sees it. It keeps the
// mappings (VMAs) and the brk, decides every change, and applies it to the
// platform AddressSpace. Copies to and from guest memory fail with EFAULT on
// bad addresses, never with a Sentry exception.

import * as linuxerr from '../../abi/linux/errno.js';
import { PATH_MAX } from '../../abi/linux/file.js';
import type { AddressSpace } from '../../platform/platform.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();
/** Guest addresses are below 2^47 on x86-64 (4-level paging). */
export const MAX_USER_ADDR = 0x7fff_ffff_f000;

export class MemoryManager {
  /** as is the host-side address space (a stub process). */
  as: AddressSpace;
  /** users counts tasks and vfork children sharing this MM (CLONE_VM). */
  users = 1;

  constructor(as: AddressSpace) {
    this.as = as;
  }

  /** fork returns the MM of a forked child whose host copy is as. */
  fork(as: AddressSpace): MemoryManager {
    return new MemoryManager(as);
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
