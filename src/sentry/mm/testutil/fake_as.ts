// A fake AddressSpace for unit tests: pages in a Map, with protections, so
// MemoryManager and loader tests run without a host stub. Host operations
// that a real kernel would refuse (mprotect of an unmapped page, writeForce
// outside a mapping) throw, so bookkeeping bugs show up as failures.

import type { AddressSpace, HostFile, Thread } from '../../../platform/platform.js';
import type { MemoryManager } from '../mm.js';

const PAGE = 4096;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const MREMAP_FIXED = 2;
const MREMAP_DONTUNMAP = 4;
const MADV_DONTNEED = 4;

/** FakeHostFile is a "host file" whose contents live in memory. */
export class FakeHostFile implements HostFile {
  constructor(public data: Uint8Array) {}
  hostFd(): number {
    return -1;
  }
}

export interface FakePage {
  prot: number;
  shared: boolean;
  bytes: Uint8Array;
  file: FakeHostFile | null;
  fileOff: number;
}

function hostError(call: string, errno: number): Error {
  return Object.assign(new Error(`fake ${call}: errno ${errno}`), { errno });
}

export class FakeAddressSpace implements AddressSpace {
  readonly pages = new Map<number, FakePage>();
  /** ops logs every host operation, for assertions. */
  readonly ops: string[] = [];
  released = false;
  readonly reserved: { start: number; end: number; name: string }[];
  readonly vdsoBase: number;

  constructor(reserved: { start: number; end: number; name: string }[] = [], vdsoBase = 0) {
    this.reserved = reserved;
    this.vdsoBase = vdsoBase;
  }

  private check(addr: number, len: number, call: string): void {
    if (addr % PAGE !== 0 || len % PAGE !== 0 || len <= 0) throw hostError(call, 22);
    for (const r of this.reserved) if (r.start < addr + len && r.end > addr) throw new Error(`fake ${call} over reserved ${r.name}`);
  }

  private fill(p: FakePage): void {
    p.bytes.fill(0);
    if (p.file) p.bytes.set(p.file.data.subarray(p.fileOff, p.fileOff + PAGE));
  }

  mmap(addr: number, len: number, prot: number, flags: number, file: HostFile | null, offset: number): void {
    this.check(addr, len, 'mmap');
    this.ops.push(`mmap ${addr.toString(16)} ${len.toString(16)} ${prot} ${flags} ${file ? 'file@' + offset.toString(16) : 'anon'}`);
    for (let a = addr; a < addr + len; a += PAGE) {
      const p: FakePage = { prot, shared: (flags & MAP_SHARED) !== 0, bytes: new Uint8Array(PAGE),
        file: file as FakeHostFile | null, fileOff: offset + (a - addr) };
      this.fill(p);
      this.pages.set(a / PAGE, p);
    }
  }

  munmap(addr: number, len: number): void {
    this.check(addr, len, 'munmap');
    this.ops.push(`munmap ${addr.toString(16)} ${len.toString(16)}`);
    for (let a = addr; a < addr + len; a += PAGE) this.pages.delete(a / PAGE);
  }

  private mustBeMapped(addr: number, len: number, call: string): void {
    for (let a = addr; a < addr + len; a += PAGE) if (!this.pages.has(a / PAGE)) throw hostError(call, 12);
  }

  mprotect(addr: number, len: number, prot: number): void {
    this.check(addr, len, 'mprotect');
    this.mustBeMapped(addr, len, 'mprotect');
    this.ops.push(`mprotect ${addr.toString(16)} ${len.toString(16)} ${prot}`);
    for (let a = addr; a < addr + len; a += PAGE) this.pages.get(a / PAGE)!.prot = prot;
  }

  mremap(oldAddr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
    this.ops.push(`mremap ${oldAddr.toString(16)} ${oldLen.toString(16)} ${newLen.toString(16)} ${flags} ${newAddr.toString(16)}`);
    this.mustBeMapped(oldAddr, Math.max(oldLen, PAGE), 'mremap');
    const src: FakePage[] = [];
    for (let a = oldAddr; a < oldAddr + oldLen; a += PAGE) src.push(this.pages.get(a / PAGE)!);
    const proto = this.pages.get(oldAddr / PAGE)!;
    const extend = (base: number, from: number): void => {
      const last = src.length ? src[src.length - 1] : { ...proto, fileOff: proto.fileOff - PAGE };
      for (let i = from; i < newLen / PAGE; i++) {
        const p: FakePage = { ...last, bytes: new Uint8Array(PAGE), fileOff: last.fileOff + (i - from + 1) * PAGE };
        this.fill(p);
        this.pages.set(base / PAGE + i, p);
      }
    };
    if (flags & MREMAP_FIXED) {
      this.check(newAddr, newLen, 'mremap');
      for (let a = newAddr; a < newAddr + newLen; a += PAGE) this.pages.delete(a / PAGE);
      for (let i = 0; i < src.length; i++) {
        if (!(flags & MREMAP_DONTUNMAP)) {
          this.pages.delete(oldAddr / PAGE + i);
          continue;
        }
        // The old range stays mapped, empty.
        const fresh: FakePage = { ...src[i], bytes: new Uint8Array(PAGE) };
        this.fill(fresh);
        this.pages.set(oldAddr / PAGE + i, fresh);
      }
      const keep = Math.min(src.length, newLen / PAGE);
      for (let i = 0; i < keep; i++) this.pages.set(newAddr / PAGE + i, src[i]);
      extend(newAddr, keep);
      return newAddr;
    }
    if (newLen <= oldLen) {
      for (let a = oldAddr + newLen; a < oldAddr + oldLen; a += PAGE) this.pages.delete(a / PAGE);
      return oldAddr;
    }
    for (let a = oldAddr + oldLen; a < oldAddr + newLen; a += PAGE) if (this.pages.has(a / PAGE)) throw hostError('mremap', 12);
    extend(oldAddr, src.length);
    return oldAddr;
  }

  madvise(addr: number, len: number, advice: number): void {
    this.mustBeMapped(addr, len, 'madvise');
    this.ops.push(`madvise ${addr.toString(16)} ${len.toString(16)} ${advice}`);
    if (advice !== MADV_DONTNEED) return;
    for (let a = addr; a < addr + len; a += PAGE) {
      const p = this.pages.get(a / PAGE)!;
      if (!p.shared) this.fill(p);
    }
  }

  msync(addr: number, len: number, flags: number): void {
    this.mustBeMapped(addr, len, 'msync');
    this.ops.push(`msync ${addr.toString(16)} ${len.toString(16)} ${flags}`);
  }

  mincore(addr: number, len: number, vec: Uint8Array): number {
    for (let i = 0; i < len / PAGE; i++) {
      if (!this.pages.has(addr / PAGE + i)) return -12;
      vec[i] = 1;
    }
    return 0;
  }

  private copy(addr: number, buf: Uint8Array, off: number, len: number, write: boolean, force: boolean): number {
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const p = this.pages.get(Math.floor(a / PAGE));
      if (!p) break;
      if (!force && !(p.prot & (write ? PROT_WRITE : PROT_READ))) break;
      const po = a % PAGE;
      const n = Math.min(len - done, PAGE - po);
      if (write) p.bytes.set(buf.subarray(off + done, off + done + n), po);
      else buf.set(p.bytes.subarray(po, po + n), off + done);
      done += n;
    }
    return done;
  }

  read(addr: number, buf: Uint8Array, off: number, len: number): number {
    return this.copy(addr, buf, off, len, false, false);
  }

  write(addr: number, buf: Uint8Array, off: number, len: number): number {
    return this.copy(addr, buf, off, len, true, false);
  }

  writeForce(addr: number, buf: Uint8Array): void {
    if (this.copy(addr, buf, 0, buf.length, true, true) !== buf.length) throw hostError('writeForce', 5);
  }

  /** peek reads bytes ignoring protections (for assertions). */
  peek(addr: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    if (this.copy(addr, b, 0, len, false, true) !== len) throw new Error(`peek ${addr.toString(16)}: unmapped`);
    return b;
  }

  fork(from: Thread): Thread {
    void from;
    throw new Error('fake: fork');
  }

  shareVM(from: Thread): Thread {
    void from;
    throw new Error('fake: shareVM');
  }

  newThread(from: Thread): Thread {
    void from;
    throw new Error('fake: newThread');
  }

  release(): void {
    this.released = true;
  }
}

/** checkInSync throws unless mm's VMAs and the fake's pages agree page for page (mapping and protection). */
export function checkInSync(mm: MemoryManager, as: FakeAddressSpace): void {
  let n = 0;
  for (const v of mm.mappings()) {
    for (let a = v.start; a < v.end; a += PAGE) {
      const p = as.pages.get(a / PAGE);
      if (!p) throw new Error(`vma page ${a.toString(16)} not mapped on the host`);
      if (p.prot !== v.prot) throw new Error(`page ${a.toString(16)}: host prot ${p.prot}, vma prot ${v.prot}`);
      if (p.shared !== v.shared) throw new Error(`page ${a.toString(16)}: shared mismatch`);
      n++;
    }
  }
  if (n !== as.pages.size) throw new Error(`host has ${as.pages.size} pages, vmas cover ${n}`);
}
