// A guest address space as a host stub process, changed only by system calls
// the Sentry injects into one of its stopped threads (the stub's
// "syscall; int3" gadget). Private anonymous memory is backed by the guest
// memory file (memfile.ts) and copied through the Sentry's mapping of it;
// the rest is copied with process_vm_readv/writev.

import { SYSNO } from '../../abi/linux/sysno.js';
import { NUM_REGS } from '../../abi/linux/ptrace.js';
import { Regs } from '../../abi/linux/regs.js';
import type { AddressSpace, HostFile, Thread } from '../platform.js';
import type { Piece } from './anon_map.js';
import { AnonMap } from './anon_map.js';
import { forget, mappingOf } from './filemap.js';
import type { MemoryFile } from './memfile.js';
import { check, HostError, native } from './native.js';
import type { PtracePlatform } from './ptrace.js';

const CLONE_VM = 0x100;
const CLONE_FS = 0x200;
const CLONE_FILES = 0x400;
const CLONE_SIGHAND = 0x800;
const CLONE_PARENT = 0x8000;
const CLONE_THREAD = 0x10000;
const CLONE_SYSVSEM = 0x40000;
/** The stub's end of the Sentry's socket for passing fds into stubs. */
const STUB_SOCK_FD = 3;
const MAX_CACHED_FDS = 64;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const MAP_PRIVATE = 2;
const MAP_TYPE = 0xf;
const MAP_FIXED = 0x10;
const MREMAP_MAYMOVE = 1;
const MREMAP_FIXED = 2;
const MREMAP_DONTUNMAP = 4;
const MADV_FREE = 8;
const MADV_DONTNEED = 4;
const MADV_DONTFORK = 10;
const MADV_DOFORK = 11;
const MADV_WIPEONFORK = 18;
const MADV_KEEPONFORK = 19;
const MADV_DONTNEED_LOCKED = 24;
/** Anonymous mappings larger than this stay host memory: sparse
 *  reservations (sanitizers' shadow maps) would fill the memory file's
 *  offset space for nothing. */
const MAX_BACKED = 64 * 2 ** 30;
/** Copies of at least this many bytes into or out of a private piece make
 *  it shared again (reclaim): bulk transfers after a fork stay fast, while
 *  the small copies a child makes before exec do not pay for it. */
const RECLAIM_MIN = 16 * 1024;
/** reclaim works on windows of this alignment. */
const RECLAIM_WINDOW = 64 * 1024;
/** The buffer preadInto reads through; larger reads are cut to its size (short reads, as read(2) allows). */
const preadScratch = new Uint8Array(1 << 20);

/** PtraceThread is one traced host thread of a stub. */
export class PtraceThread implements Thread {
  readonly tid: number;
  /** tgid is the host process the thread belongs to. */
  readonly tgid: number;
  as: PtraceAddressSpace;
  readonly regs = new Regs();
  owner: unknown = null;
  running = false;
  alive = true;
  /** The CPU the host thread is bound to: -1 any, -2 never set (see PtracePlatform.bind). */
  cpu = -2;
  /** When it was last resumed (ms, performance.now) and its average run length (µs). */
  resumedAt = 0;
  runAvg = 0;

  constructor(tid: number, tgid: number, as: PtraceAddressSpace) {
    this.tid = tid;
    this.tgid = tgid;
    this.as = as;
  }
}

export class PtraceAddressSpace implements AddressSpace {
  readonly platform: PtracePlatform;
  readonly threads = new Set<PtraceThread>();
  reserved: { start: number; end: number; name: string }[];
  vdsoBase: number;
  /** The parts backed by the memory file. */
  readonly anon = new AnonMap();
  /** Host fds already passed into this stub, keyed by the file object. */
  private stubFds = new Map<HostFile, number>();
  private readonly args = new Float64Array(6);
  private readonly info = new Int32Array(2);

  constructor(platform: PtracePlatform, reserved: { start: number; end: number; name: string }[], vdsoBase: number) {
    this.platform = platform;
    this.reserved = reserved;
    this.vdsoBase = vdsoBase;
  }

  /** injector returns a stopped thread to run injected syscalls in. */
  private injector(): PtraceThread {
    for (const t of this.threads) if (!t.running && t.alive) return t;
    throw new HostError('inject: no stopped thread in address space', 3);
  }

  /** syscall injects one system call and returns its raw result (-errno on failure). */
  syscall(nr: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, via?: PtraceThread): number {
    const t = via ?? this.injector();
    const a = this.args;
    a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3; a[4] = a4; a[5] = a5;
    const r = native.inject(t.tid, this.platform.gadget, nr, a, this.info);
    if (this.info[0] !== 0) throw new HostError(`inject ${nr} into ${t.tid}`, -r);
    return r;
  }

  private must(name: string, r: number): number {
    if (r < 0 && r > -4096) throw new HostError(`stub ${name}`, -r);
    return r;
  }

  /** lastEvent is the event message of the last injected fork/clone (the new host tid). */
  private lastEvent(): number {
    return this.info[1];
  }

  private get mf(): MemoryFile | null {
    return this.platform.memfile;
  }

  mmap(addr: number, len: number, prot: number, flags: number, file: HostFile | null, offset: number): void {
    if (!file && (flags & MAP_TYPE) === MAP_PRIVATE && this.mf && len <= MAX_BACKED && this.mapFresh(addr, len, prot)) {
      return;
    }
    const MAP_ANONYMOUS = 0x20;
    let fd = -1;
    if (file) fd = this.stubFd(file);
    const MAP_FIXED_NOREPLACE = 0x100000;
    const f = ((flags | MAP_FIXED) & ~MAP_FIXED_NOREPLACE) & ~(file ? MAP_ANONYMOUS : 0);
    const r = this.syscall(SYSNO.mmap, addr, len, prot, file ? f : f | MAP_ANONYMOUS, fd, offset);
    if (r !== addr) throw new HostError(`stub mmap(${addr.toString(16)}, ${len})`, r < 0 ? -r : 0);
    this.dropPieces(addr, len);
  }

  /** mapFresh maps zeroed memory file pages at [addr, addr+len) (replacing
   *  what was there); false when the file has no room (the caller maps host
   *  anonymous memory instead). */
  private mapFresh(addr: number, len: number, prot: number, attrs?: Pick<Piece, 'dontFork' | 'wipe'>): boolean {
    const mf = this.mf;
    if (!mf) return false;
    const off = mf.space.alloc(len, this.preferredOffset(addr, len));
    if (off < 0) return false;
    let r: number;
    try {
      r = this.syscall(SYSNO.mmap, addr, len, prot, MAP_SHARED | MAP_FIXED, this.stubFd(mf), off);
    } catch (e) {
      mf.space.decRef(off, len);
      throw e;
    }
    if (r !== addr) {
      mf.space.decRef(off, len);
      throw new HostError(`stub mmap(${addr.toString(16)}, ${len})`, r < 0 ? -r : 0);
    }
    this.dropPieces(addr, len);
    this.anon.insert({ start: addr, end: addr + len, off, prot, priv: false, dontFork: attrs?.dontFork ?? false,
      wipe: attrs?.wipe ?? false });
    return true;
  }

  /** preferredOffset continues the file range of a piece ending at addr (or
   *  starting at addr+len), so the host keeps the two one VMA. */
  private preferredOffset(addr: number, len: number): number {
    const below = this.anon.find(addr - 1);
    if (below && below.end === addr) return below.off + (below.end - below.start);
    const above = this.anon.find(addr + len);
    if (above && above.start === addr + len && above.off >= len) return above.off - len;
    return -1;
  }

  /** dropPieces forgets the backed parts of [addr, addr+len) (the host no longer maps them here). */
  private dropPieces(addr: number, len: number): void {
    const mf = this.mf;
    if (!mf || this.anon.size === 0) return;
    for (const p of this.anon.remove(addr, addr + len)) mf.space.decRef(p.off, p.end - p.start);
  }

  /** privatize remaps every shared piece a fork copies MAP_PRIVATE, so
   *  after the fork parent and child share its pages copy-on-write (the
   *  host's), and the Sentry copies them through the host from then on. */
  private privatize(via: PtraceThread): void {
    const mf = this.mf;
    if (!mf) return;
    for (const p of this.anon.all()) {
      if (p.priv || p.dontFork || p.wipe) continue;
      const len = p.end - p.start;
      const r = this.syscall(SYSNO.mmap, p.start, len, p.prot, MAP_PRIVATE | MAP_FIXED, this.stubFd(mf), p.off, via);
      if (r !== p.start) throw new HostError(`stub mmap(${p.start.toString(16)}, ${len}) MAP_PRIVATE`, r < 0 ? -r : 0);
      p.priv = true;
    }
  }

  /** reclaim makes the private pieces around [addr, addr+len) shared again:
   *  their current bytes (the host's copy-on-write view) go to fresh file
   *  pages mapped in their place. Only while every thread of the address
   *  space is stopped, so no guest write can fall between copy and remap.
   *  Returns whether anything changed. */
  private reclaim(addr: number, len: number): boolean {
    const mf = this.mf;
    if (!mf) return false;
    for (const t of this.threads) if (t.alive && t.running) return false;
    const s = Math.floor(addr / RECLAIM_WINDOW) * RECLAIM_WINDOW;
    const e = Math.ceil((addr + len) / RECLAIM_WINDOW) * RECLAIM_WINDOW;
    let changed = false;
    for (const p of this.anon.overlapping(s, e)) {
      if (!p.priv || !(p.prot & PROT_READ)) continue;
      const n = p.end - p.start;
      const off = mf.space.alloc(n);
      if (off < 0) return changed;
      if (native.vmReadTo(this.pid(), p.start, mf.base + off, n) !== n) {
        mf.space.decRef(off, n);
        return changed;
      }
      const r = this.syscall(SYSNO.mmap, p.start, n, p.prot, MAP_SHARED | MAP_FIXED, this.stubFd(mf), off);
      if (r !== p.start) {
        mf.space.decRef(off, n);
        throw new HostError(`stub mmap(${p.start.toString(16)}, ${n})`, r < 0 ? -r : 0);
      }
      this.dropPieces(p.start, n);
      this.anon.insert({ ...p, off, priv: false });
      changed = true;
    }
    return changed;
  }

  /** inherit gives a forked child's address space the parent's pieces. */
  private inherit(child: PtraceAddressSpace): void {
    const mf = this.mf;
    if (!mf) return;
    const wipes: Piece[] = [];
    for (const p of this.anon.all()) {
      if (p.dontFork) continue;
      if (p.wipe) {
        wipes.push(p);
        continue;
      }
      mf.space.incRef(p.off, p.end - p.start);
      child.anon.insert({ ...p });
    }
    // The host copied these as shared mappings: the child gets zeroes instead.
    for (const w of wipes) child.mapFreshOrAnon(w.start, w.end - w.start, w.prot, { dontFork: false, wipe: true });
  }

  /** stubFd returns the stub's fd for a host file, passing it over the stub socket once. */
  private stubFd(file: HostFile): number {
    const cached = this.stubFds.get(file);
    if (cached !== undefined) return cached;
    if (this.stubFds.size >= MAX_CACHED_FDS) {
      const [oldFile, oldFd] = this.stubFds.entries().next().value as [HostFile, number];
      this.stubFds.delete(oldFile);
      this.syscall(SYSNO.close, oldFd);
    }
    const p = this.platform;
    check('sendFds', native.sendFds(p.sentrySock, Int32Array.of(file.hostFd()), new Uint8Array(1)));
    // struct msghdr at scratch, iovec at +64, cmsg buffer at +128, data byte at +256.
    const s = p.scratch;
    const hdr = new DataView(new ArrayBuffer(128 + 24));
    hdr.setBigUint64(16, BigInt(s + 64), true); // msg_iov
    hdr.setBigUint64(24, 1n, true); // msg_iovlen
    hdr.setBigUint64(32, BigInt(s + 128), true); // msg_control
    hdr.setBigUint64(40, 24n, true); // msg_controllen: CMSG_SPACE(4)
    hdr.setBigUint64(64, BigInt(s + 256), true); // iov_base
    hdr.setBigUint64(72, 1n, true); // iov_len
    const bytes = new Uint8Array(hdr.buffer);
    this.writeForce(s, bytes);
    const MSG_CMSG_CLOEXEC = 0x40000000;
    this.must('recvmsg', this.syscall(SYSNO.recvmsg, STUB_SOCK_FD, s, MSG_CMSG_CLOEXEC));
    const cmsg = new Uint8Array(24);
    this.read(s + 128, cmsg, 0, 24);
    const fd = new DataView(cmsg.buffer).getInt32(16, true);
    this.stubFds.set(file, fd);
    return fd;
  }

  /** fastCopy copies between buf and guest memory through the memory file,
   *  from addr on, as far as the parts are shared pieces the access is
   *  allowed to (force: any protection). Returns the bytes copied. */
  private fastCopy(addr: number, buf: Uint8Array, off: number, len: number, write: boolean, force: boolean): number {
    const mf = this.mf;
    if (!mf || this.anon.size === 0) return 0;
    const need = write ? PROT_WRITE : PROT_READ;
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const p = this.anon.find(a);
      if (!p || p.priv || (!force && !(p.prot & need))) break;
      const n = Math.min(len - done, p.end - a);
      const at = mf.base + p.off + (a - p.start);
      const r = write ? native.memWrite(at, buf, off + done, n) : native.memRead(at, buf, off + done, n);
      if (r !== n) break;
      done += n;
    }
    return done;
  }

  /** sharedTarget returns the Sentry's address of guest addr and how many
   *  bytes from it lie in one shared, writable piece (addr 0: none). */
  private sharedTarget(addr: number): { at: number; n: number } {
    const mf = this.mf;
    const p = mf && this.anon.size ? this.anon.find(addr) : undefined;
    if (!mf || !p || p.priv || !(p.prot & PROT_WRITE)) return { at: 0, n: 0 };
    return { at: mf.base + p.off + (addr - p.start), n: p.end - addr };
  }

  preadInto(file: HostFile, addr: number, len: number, pos: number): number {
    // Into memory file pages: one copy from the file's mapping (a memcpy in
    // the Sentry), or a pread straight into the Sentry's mapping of them.
    let done = 0;
    while (done < len) {
      let t = this.sharedTarget(addr + done);
      if (!t.at && len - done >= RECLAIM_MIN && this.reclaim(addr + done, len - done)) t = this.sharedTarget(addr + done);
      if (!t.at) break;
      const n = Math.min(len - done, t.n);
      const m = mappingOf(file);
      let r = -1;
      if (m.addr && pos + done + n <= m.size) {
        r = native.memCopy(t.at, m.addr + pos + done, n);
        // Short: a file that shrank after all (SIGBUS, caught). Stop mapping it.
        if (r !== n) forget(file);
      }
      if (r !== n) r = native.preadAt(file.hostFd(), t.at, n, pos + done);
      if (r < 0) return done > 0 ? done : r;
      done += r;
      if (r < n) return done;
    }
    if (done === len) return done;
    if (done > 0) {
      const r = this.preadSlow(file, addr + done, len - done, pos + done);
      return r < 0 ? done : done + r;
    }
    return this.preadSlow(file, addr, len, pos);
  }

  private preadSlow(file: HostFile, addr: number, len: number, pos: number): number {
    if (len > preadScratch.length) len = preadScratch.length;
    // Within a mapping of the file: one copy (page cache -> guest) and one
    // system call. The mapping stays, so only the first pass over a file
    // pays its page faults; 1 MiB reads of a cached 64 MiB file measured
    // ~25% faster this way than the pread below (two copies).
    const m = mappingOf(file);
    if (m.addr && pos + len <= m.size) {
      const n = native.vmWriteFrom(this.pid(), addr, m.addr + pos, len);
      if (n === len) return n;
      // Short: a bad guest page, or a file that shrank after all (its last
      // page reads as zeros up to the page end, then faults). Stop mapping
      // it and redo the read the pread way, which knows the real size and
      // stops at the same bad page.
      forget(file);
    }
    // Else pread into a scratch buffer and process_vm_writev, in one native
    // call. An injected pread64 in the stub would save that copy too, but
    // its extra stop (two context switches) measured dearer, even for 1 MiB.
    return native.preadToVm(file.hostFd(), pos, len, this.pid(), addr, preadScratch);
  }

  munmap(addr: number, len: number): void {
    this.must('munmap', this.syscall(SYSNO.munmap, addr, len));
    this.dropPieces(addr, len);
  }

  mprotect(addr: number, len: number, prot: number): void {
    this.must('mprotect', this.syscall(SYSNO.mprotect, addr, len, prot));
    if (this.anon.size) {
      this.anon.update(addr, addr + len, (p) => {
        p.prot = prot;
      });
    }
  }

  mremap(oldAddr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
    const pieces = this.mf && oldLen > 0 ? this.anon.overlapping(oldAddr, oldAddr + oldLen) : [];
    if (pieces.length === 0) return this.must('mremap', this.syscall(SYSNO.mremap, oldAddr, oldLen, newLen, flags, newAddr));
    const oldEnd = oldAddr + oldLen;
    if (newLen < oldLen) {
      this.munmap(oldAddr + newLen, oldLen - newLen);
      oldLen = newLen;
    }
    let dest = oldAddr;
    if (flags & MREMAP_FIXED) {
      // The host moves one VMA per call, and each piece (and each host
      // mapping between pieces) is its own VMA: move them one by one.
      dest = newAddr;
      const moved = this.anon.remove(oldAddr, oldAddr + oldLen);
      let at = oldAddr;
      const moveSeg = (s: number, e: number, piece: boolean): void => {
        const f = MREMAP_MAYMOVE | MREMAP_FIXED | (!piece && (flags & MREMAP_DONTUNMAP) ? MREMAP_DONTUNMAP : 0);
        this.must('mremap', this.syscall(SYSNO.mremap, s, e - s, e - s, f, dest + (s - oldAddr)));
      };
      for (const p of moved) {
        if (p.start > at) moveSeg(at, p.start, false);
        moveSeg(p.start, p.end, true);
        at = p.end;
      }
      if (at < oldAddr + oldLen) moveSeg(at, oldAddr + oldLen, false);
      for (const p of moved) this.anon.insert({ ...p, start: dest + (p.start - oldAddr), end: dest + (p.end - oldAddr) });
      // MREMAP_DONTUNMAP leaves the old range mapped and empty; a shared
      // mapping there would still show the moved pages.
      if (flags & MREMAP_DONTUNMAP) for (const p of moved) this.mapFreshOrAnon(p.start, p.end - p.start, p.prot);
    }
    if (newLen > oldLen) {
      // The growth is fresh memory (the file range after the old one may
      // belong to another mapping, so the host must not extend it).
      const last = pieces[pieces.length - 1];
      this.mapFreshOrAnon(dest + oldLen, newLen - oldLen, last.end === oldEnd ? last.prot : PROT_READ | PROT_WRITE);
    }
    return dest;
  }

  /** mapFreshOrAnon maps zeroed memory at [addr, addr+len): file pages, or
   *  host anonymous memory when the file is full (with attrs.wipe, told to
   *  the host, which then wipes it on fork itself). */
  private mapFreshOrAnon(addr: number, len: number, prot: number, attrs?: Pick<Piece, 'dontFork' | 'wipe'>): void {
    if (this.mapFresh(addr, len, prot, attrs)) return;
    this.must('mmap', this.syscall(SYSNO.mmap, addr, len, prot, MAP_PRIVATE | MAP_FIXED | 0x20, -1, 0));
    this.dropPieces(addr, len);
    if (attrs?.wipe) this.must('madvise', this.syscall(SYSNO.madvise, addr, len, MADV_WIPEONFORK));
  }

  madvise(addr: number, len: number, advice: number): void {
    const mf = this.mf;
    const pieces = mf && this.anon.size ? this.anon.overlapping(addr, addr + len) : [];
    if (pieces.length === 0 || !mf) {
      this.must('madvise', this.syscall(SYSNO.madvise, addr, len, advice));
      return;
    }
    // Host memory between the pieces takes the advice from the host.
    const gaps = (): [number, number][] => {
      const out: [number, number][] = [];
      let at = addr;
      for (const p of pieces) {
        if (p.start > at) out.push([at, p.start]);
        at = p.end;
      }
      if (at < addr + len) out.push([at, addr + len]);
      return out;
    };
    switch (advice) {
      case MADV_DONTNEED:
      case MADV_DONTNEED_LOCKED:
      case MADV_FREE:
        for (const [s, e] of gaps()) this.must('madvise', this.syscall(SYSNO.madvise, s, e - s, advice));
        for (const p of pieces) {
          const n = p.end - p.start;
          // Private anonymous memory reads as zeroes afterwards. A shared
          // piece's pages are this mapping's alone: free them in the file.
          // A private one's file pages are a fork's snapshot: map fresh ones.
          if (!p.priv && mf.space.refs(p.off) === 1) native.punchHole(mf.fd, p.off, n);
          else this.mapFreshOrAnon(p.start, n, p.prot);
        }
        return;
      case MADV_WIPEONFORK:
      case MADV_KEEPONFORK:
        // The host refuses it on shared mappings: fork() does it for pieces.
        for (const [s, e] of gaps()) this.must('madvise', this.syscall(SYSNO.madvise, s, e - s, advice));
        this.anon.update(addr, addr + len, (p) => {
          p.wipe = advice === MADV_WIPEONFORK;
        });
        return;
      case MADV_DONTFORK:
      case MADV_DOFORK:
        this.must('madvise', this.syscall(SYSNO.madvise, addr, len, advice));
        this.anon.update(addr, addr + len, (p) => {
          p.dontFork = advice === MADV_DONTFORK;
        });
        return;
      default:
        this.must('madvise', this.syscall(SYSNO.madvise, addr, len, advice));
    }
  }

  msync(addr: number, len: number, flags: number): void {
    this.must('msync', this.syscall(SYSNO.msync, addr, len, flags));
  }

  mincore(addr: number, len: number, vec: Uint8Array): number {
    const s = this.platform.scratch + 512;
    const pages = Math.ceil(len / 4096);
    const out = new Uint8Array(pages);
    for (let done = 0; done < pages; ) {
      const n = Math.min(pages - done, 3072);
      const r = this.syscall(SYSNO.mincore, addr + done * 4096, n * 4096, s);
      if (r < 0) return r;
      this.read(s, out, done, n);
      done += n;
    }
    vec.set(out.subarray(0, vec.length));
    return 0;
  }

  /** pid returns a live host tid of this process, for memory copies. */
  private pid(): number {
    for (const t of this.threads) if (t.alive) return t.tid;
    return -1;
  }

  read(addr: number, buf: Uint8Array, off: number, len: number): number {
    return this.copy(addr, buf, off, len, false);
  }

  write(addr: number, buf: Uint8Array, off: number, len: number): number {
    return this.copy(addr, buf, off, len, true);
  }

  /** copy moves bytes between buf and guest memory: through the memory file
   *  where it backs the range, through the host elsewhere. Returns the bytes
   *  copied (short at the first fault). */
  private copy(addr: number, buf: Uint8Array, off: number, len: number, write: boolean): number {
    let done = 0;
    while (done < len) {
      const a = addr + done;
      let f = this.fastCopy(a, buf, off + done, len - done, write, false);
      if (f === 0 && len - done >= RECLAIM_MIN && this.reclaim(a, len - done)) {
        f = this.fastCopy(a, buf, off + done, len - done, write, false);
      }
      done += f;
      if (done === len || f > 0) continue;
      // Through the host, up to where the next piece starts (or over a
      // piece the fast path cannot use).
      let n = len - done;
      const p = this.anon.size ? this.anon.next(a) : undefined;
      if (p) n = Math.min(n, p.start > a ? p.start - a : p.end - a);
      const r = this.slowCopy(a, buf, off + done, n, write);
      done += r;
      if (r < n) break;
    }
    return done;
  }

  private slowCopy(addr: number, buf: Uint8Array, off: number, len: number, write: boolean): number {
    const r = write ? native.vmWrite(this.pid(), addr, buf, off, len) : native.vmRead(this.pid(), addr, buf, off, len);
    if (r === len || r >= 0) return r;
    // A range that crosses into an unmapped page fails as a whole: retry page by page.
    return this.copyPaged(addr, buf, off, len, write);
  }

  private copyPaged(addr: number, buf: Uint8Array, off: number, len: number, write: boolean): number {
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const n = Math.min(len - done, 4096 - (a % 4096));
      const r = write ? native.vmWrite(this.pid(), a, buf, off + done, n) : native.vmRead(this.pid(), a, buf, off + done, n);
      if (r <= 0) break;
      done += r;
      if (r < n) break;
    }
    return done;
  }

  writeForce(addr: number, buf: Uint8Array, prot = -1): void {
    const f = this.fastCopy(addr, buf, 0, buf.length, true, true);
    if (f === buf.length) return;
    if (f > 0) {
      this.writeForce(addr + f, buf.subarray(f), prot);
      return;
    }
    const n = this.write(addr, buf, 0, buf.length);
    if (n === buf.length) return;
    // Read-only pages. The Sentry opens no /proc/pid/mem (its seccomp filter
    // refuses it): large copies lift the protection around the write, small
    // ones go through PTRACE_POKEDATA, which ignores it.
    const a = addr + n;
    const rest = buf.subarray(n);
    const PROT_WRITE = 2;
    if (prot >= 0 && rest.length > 4096) {
      const s = Math.floor(a / 4096) * 4096;
      const e = Math.ceil((a + rest.length) / 4096) * 4096;
      this.must('mprotect', this.syscall(SYSNO.mprotect, s, e - s, prot | PROT_WRITE));
      const w = this.write(a, rest, 0, rest.length);
      this.must('mprotect', this.syscall(SYSNO.mprotect, s, e - s, prot));
      if (w !== rest.length) throw new HostError('writeForce', 14);
      return;
    }
    const r = native.pokeData(this.injector().tid, a, rest, 0, rest.length);
    if (r !== rest.length) throw new HostError('writeForce (POKEDATA)', r < 0 ? -r : 14);
  }

  atomicOp32(addr: number, op: number): number {
    // The host's FUTEX_WAKE_OP does the operation atomically in the stub's
    // memory. The guest's futexes live in the Sentry, so no host thread ever
    // waits on these addresses and the call wakes nobody.
    const FUTEX_WAKE_OP_PRIVATE = 5 | 128;
    const r = this.syscall(SYSNO.futex, this.platform.scratch, FUTEX_WAKE_OP_PRIVATE, 0, 0, addr, op);
    return r < 0 ? r : 0;
  }

  fork(from: Thread): Thread {
    const t = from as PtraceThread;
    this.privatize(t);
    this.syscall(SYSNO.clone, CLONE_PARENT, 0, 0, 0, 0, 0, t);
    const child = this.lastEvent();
    const as = new PtraceAddressSpace(this.platform, this.reserved, this.vdsoBase);
    const th = this.platform.adopt(child, child, as);
    this.inherit(as);
    return th;
  }

  shareVM(from: Thread): Thread {
    const t = from as PtraceThread;
    this.syscall(SYSNO.clone, CLONE_PARENT | CLONE_VM, 0, 0, 0, 0, 0, t);
    const child = this.lastEvent();
    return this.platform.adopt(child, child, this);
  }

  newThread(from: Thread): Thread {
    const t = from as PtraceThread;
    const flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    this.syscall(SYSNO.clone, flags, 0, 0, 0, 0, 0, t);
    return this.platform.adopt(this.lastEvent(), t.tgid, this);
  }

  release(): void {
    for (const t of [...this.threads]) if (t.alive) this.platform.killProcess(t);
    const mf = this.mf;
    if (mf) for (const p of this.anon.clear()) mf.space.decRef(p.off, p.end - p.start);
  }
}

export { NUM_REGS, STUB_SOCK_FD };
