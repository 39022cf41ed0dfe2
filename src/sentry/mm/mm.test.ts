import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as linuxerr from '../../abi/linux/errno.js';
import { O_RDONLY, O_RDWR, O_WRONLY, S_IFDIR, S_IFREG } from '../../abi/linux/file.js';
import * as m from '../../abi/linux/mm.js';
import type { FileDescriptionImpl, Stat } from '../vfs/file_description.js';
import { FileDescription } from '../vfs/file_description.js';
import { USER_TOP } from './layout.js';
import { mapsLine, mapsText } from './maps.js';
import { MemoryManager } from './mm.js';
import { checkInSync, FakeAddressSpace, FakeHostFile } from './testutil/fake_as.js';

const P = 4096;
const RW = m.PROT_READ | m.PROT_WRITE;
const ANON = m.MAP_PRIVATE | m.MAP_ANONYMOUS;
const STUB = { start: 0x7fe0_0000_0000, end: 0x7fe0_0000_2000, name: '[stub]' };
const VDSO = { start: 0x7fff_f7fc_0000, end: 0x7fff_f7fc_2000, name: '[vdso]' };

function newMM(): { mm: MemoryManager; as: FakeAddressSpace } {
  const as = new FakeAddressSpace([STUB, VDSO], VDSO.start);
  const mm = new MemoryManager(as);
  mm.mmapBase = 0x7f00_0000_0000;
  return { mm, as };
}

/** CountedFile is a FileDescription that tracks its reference count. */
class CountedFile extends FileDescription {
  count = 1;
  override incRef(): void {
    this.count++;
    super.incRef();
  }
  /** min is the lowest count seen: 0 means the file was released. */
  min = 1;
  override decRef(): void {
    this.count--;
    this.min = Math.min(this.min, this.count);
    super.decRef();
  }
}

function fileOf(data: Uint8Array, opts: { flags?: number; host?: boolean; mode?: number } = {}): CountedFile {
  const host = new FakeHostFile(data);
  const st: Stat = { dev: 0xfe00, ino: 42, mode: opts.mode ?? (S_IFREG | 0o644), nlink: 1, uid: 0, gid: 0, rdev: 0,
    size: data.length, blksize: 4096, blocks: 0, atime: { sec: 0, nsec: 0 }, mtime: { sec: 0, nsec: 0 },
    ctime: { sec: 0, nsec: 0 } };
  const impl: FileDescriptionImpl = {
    read: (_fd, dst, off) => {
      const n = Math.max(0, Math.min(dst.length, data.length - off));
      dst.set(data.subarray(off, off + n));
      return n;
    },
    stat: () => st,
  };
  if (opts.host !== false) impl.mappable = () => host;
  return new CountedFile(impl, opts.flags ?? O_RDONLY, '/data/file');
}

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 12)) & 0xff;
  return b;
}

test('anonymous mmap goes top-down below the mmap base and neighbours merge', () => {
  const { mm, as } = newMM();
  const a = mm.mmap({ addr: 0, length: 3 * P, prot: RW, flags: ANON });
  assert.equal(a, mm.mmapBase - 3 * P);
  const b = mm.mmap({ addr: 0, length: 100, prot: RW, flags: ANON });
  assert.equal(b, a - P);
  assert.equal(mm.mappings().length, 1);
  checkInSync(mm, as);
  mm.copyOut(b + 10, Uint8Array.of(1, 2, 3));
  assert.deepEqual([...mm.copyIn(b + 10, 3)], [1, 2, 3]);
});

test('a free hint is used as is; a busy one is not', () => {
  const { mm } = newMM();
  const hint = 0x1000_0000;
  assert.equal(mm.mmap({ addr: hint, length: P, prot: RW, flags: ANON }), hint);
  const again = mm.mmap({ addr: hint, length: P, prot: RW, flags: ANON });
  assert.notEqual(again, hint);
  // An unaligned hint is rounded up.
  assert.equal(mm.mmap({ addr: 0x2000_0010, length: P, prot: RW, flags: ANON }), 0x2000_1000);
});

test('mmap argument errors are Linux errnos', () => {
  const { mm } = newMM();
  const f = m.MAP_FIXED;
  assert.throws(() => mm.mmap({ addr: 0, length: 0, prot: RW, flags: ANON }), linuxerr.EINVAL);
  assert.throws(() => mm.mmap({ addr: 0x10000010, length: P, prot: RW, flags: ANON | f }), linuxerr.EINVAL);
  assert.throws(() => mm.mmap({ addr: 0, length: P, prot: RW, flags: m.MAP_ANONYMOUS }), linuxerr.EINVAL);
  assert.throws(() => mm.mmap({ addr: 0, length: P, prot: RW, flags: m.MAP_SHARED_VALIDATE | m.MAP_ANONYMOUS }), linuxerr.EINVAL);
  assert.throws(() => mm.mmap({ addr: 0, length: P, prot: RW, flags: ANON, offset: 100 }), linuxerr.EINVAL);
  assert.throws(() => mm.mmap({ addr: 0x1000, length: P, prot: RW, flags: ANON | f }), linuxerr.EPERM);
  assert.throws(() => mm.mmap({ addr: STUB.start, length: P, prot: RW, flags: ANON | f }), linuxerr.ENOMEM);
  assert.throws(() => mm.mmap({ addr: USER_TOP - P, length: 2 * P, prot: RW, flags: ANON | f }), linuxerr.ENOMEM);
  assert.throws(() => mm.mmap({ addr: 0, length: 2 ** 60, prot: RW, flags: ANON }), linuxerr.ENOMEM);
  assert.throws(() => mm.mmap({ addr: 0, length: P, prot: RW, flags: m.MAP_PRIVATE }), linuxerr.EBADF);
  assert.throws(() => mm.mmap({ addr: 0, length: P, prot: RW, flags: ANON | m.MAP_HUGETLB }), linuxerr.ENOMEM);
  assert.throws(() => mm.mmap({ addr: 0, length: 4 * P, prot: RW, flags: ANON, asLimit: 3 * P }), linuxerr.ENOMEM);
});

test('MAP_FIXED replaces; MAP_FIXED_NOREPLACE refuses with EEXIST', () => {
  const { mm, as } = newMM();
  const a = mm.mmap({ addr: 0x1000_0000, length: 4 * P, prot: RW, flags: ANON | m.MAP_FIXED });
  mm.copyOut(a, Uint8Array.of(9));
  mm.mmap({ addr: a, length: P, prot: m.PROT_READ, flags: ANON | m.MAP_FIXED });
  assert.equal(mm.mappings().length, 2);
  assert.equal(as.peek(a, 1)[0], 0, 'fresh pages');
  assert.throws(() => mm.mmap({ addr: a + P, length: P, prot: RW, flags: ANON | m.MAP_FIXED_NOREPLACE }), linuxerr.EEXIST);
  assert.equal(mm.mmap({ addr: a + 4 * P, length: P, prot: RW, flags: ANON | m.MAP_FIXED_NOREPLACE }), a + 4 * P);
  checkInSync(mm, as);
});

test('file mappings: contents, access checks, references', () => {
  const { mm, as } = newMM();
  const data = pattern(3 * P + 100);
  const f = fileOf(data);
  const a = mm.mmap({ addr: 0, length: 2 * P, prot: m.PROT_READ, flags: m.MAP_PRIVATE, file: f, offset: P });
  assert.deepEqual(mm.copyIn(a, 16), data.subarray(P, P + 16));
  assert.equal(f.count, 2);
  assert.throws(() => mm.mmap({ addr: 0, length: P, prot: RW, flags: m.MAP_SHARED, file: f }), linuxerr.EACCES);
  const ro = mm.mmap({ addr: 0, length: P, prot: m.PROT_READ, flags: m.MAP_SHARED, file: f });
  assert.throws(() => mm.mprotect(ro, P, RW), linuxerr.EACCES);
  const wo = fileOf(data, { flags: O_WRONLY });
  assert.throws(() => mm.mmap({ addr: 0, length: P, prot: m.PROT_READ, flags: m.MAP_PRIVATE, file: wo }), linuxerr.EACCES);
  const rw = fileOf(data, { flags: O_RDWR });
  mm.mmap({ addr: 0, length: P, prot: RW, flags: m.MAP_SHARED, file: rw });
  assert.throws(() => mm.mmap({ addr: 0, length: P, prot: RW, flags: m.MAP_PRIVATE, file: f, offset: -P }), linuxerr.EOVERFLOW);
  assert.throws(() => mm.mmap({ addr: 0, length: P, prot: RW, flags: m.MAP_SHARED_VALIDATE | m.MAP_SYNC, file: rw }),
    linuxerr.EOPNOTSUPP);
  const dir = fileOf(data, { host: false, mode: S_IFDIR | 0o755 });
  assert.throws(() => mm.mmap({ addr: 0, length: P, prot: m.PROT_READ, flags: m.MAP_PRIVATE, file: dir }), linuxerr.ENODEV);
  checkInSync(mm, as);
  // Unmapping everything returns the references.
  mm.munmap(0x10000, USER_TOP - 0x10000);
  assert.equal(f.count, 1);
  assert.equal(rw.count, 1);
  assert.equal(as.pages.size, 0);
});

test('a file without a host fd is copied for MAP_PRIVATE and refused for MAP_SHARED', () => {
  const { mm, as } = newMM();
  const data = pattern(P + 10);
  const f = fileOf(data, { host: false });
  const a = mm.mmap({ addr: 0, length: 3 * P, prot: m.PROT_READ, flags: m.MAP_PRIVATE, file: f });
  assert.deepEqual(mm.copyIn(a, P + 10), data);
  assert.deepEqual([...mm.copyIn(a + P + 10, 4)], [0, 0, 0, 0]);
  assert.throws(() => mm.mmap({ addr: 0, length: P, prot: m.PROT_READ, flags: m.MAP_SHARED, file: f }), linuxerr.ENODEV);
  // MADV_DONTNEED on the copy reads the file again, not zeros.
  as.writeForce(a, Uint8Array.of(0xee));
  mm.madvise(a, P, m.MADV_DONTNEED);
  assert.equal(mm.copyIn(a, 1)[0], data[0]);
  // Growing the copy by mremap copies the file's next bytes in.
  const b = mm.mmap({ addr: 0, length: P, prot: m.PROT_READ, flags: m.MAP_PRIVATE, file: f });
  mm.munmap(b - P, P);
  const c = mm.mremap(b, P, 2 * P, m.MREMAP_MAYMOVE, 0);
  assert.deepEqual(mm.copyIn(c + P, 10), data.subarray(P, P + 10));
  checkInSync(mm, as);
});

test('munmap splits and validates', () => {
  const { mm, as } = newMM();
  const a = mm.mmap({ addr: 0, length: 10 * P, prot: RW, flags: ANON });
  mm.munmap(a + 2 * P, 3 * P);
  assert.deepEqual(mm.mappings().map((v) => [(v.start - a) / P, (v.end - a) / P]), [[0, 2], [5, 10]]);
  assert.throws(() => mm.munmap(a + 1, P), linuxerr.EINVAL);
  assert.throws(() => mm.munmap(a, 0), linuxerr.EINVAL);
  mm.munmap(a + 20 * P, P); // unmapped: fine
  // Unmapping across the stub skips it.
  mm.munmap(STUB.start - P, 4 * P);
  checkInSync(mm, as);
});

test('mprotect: split, merge back, holes, growsdown, bad prot', () => {
  const { mm, as } = newMM();
  const a = mm.mmap({ addr: 0x1000_0000, length: 4 * P, prot: RW, flags: ANON });
  mm.mprotect(a + P, P, m.PROT_READ);
  assert.equal(mm.mappings().length, 3);
  assert.equal(mm.copyOutPartial(a + P, Uint8Array.of(1)), 0, 'read-only page refuses writes');
  mm.mprotect(a + P, P, RW);
  assert.equal(mm.mappings().length, 1);
  mm.mmap({ addr: a + 5 * P, length: P, prot: RW, flags: ANON | m.MAP_FIXED });
  // The hole stops the walk with ENOMEM, after changing what came before it.
  assert.throws(() => mm.mprotect(a, 6 * P, m.PROT_READ), linuxerr.ENOMEM);
  assert.equal(mm.mappings()[0].prot, m.PROT_READ);
  assert.equal(mm.mappings()[1].prot, RW);
  assert.throws(() => mm.mprotect(a + 1, P, 0), linuxerr.EINVAL);
  assert.throws(() => mm.mprotect(a, P, 0x10), linuxerr.EINVAL);
  assert.throws(() => mm.mprotect(a - 10 * P, P, 0), linuxerr.ENOMEM);
  assert.throws(() => mm.mprotect(a, P, m.PROT_READ | m.PROT_GROWSDOWN), linuxerr.EINVAL);
  mm.mprotect(a, 0, 0);
  const s = mm.mmap({ addr: 0, length: 4 * P, prot: RW, flags: ANON | m.MAP_GROWSDOWN });
  mm.mprotect(s + 2 * P, P, m.PROT_READ | m.PROT_WRITE | m.PROT_EXEC | m.PROT_GROWSDOWN);
  assert.equal(mm.vmas.find(s)!.prot, 7, 'PROT_GROWSDOWN extends down to the mapping start');
  assert.equal(mm.vmas.find(s + 3 * P)!.prot, RW);
  checkInSync(mm, as);
});

test('brk: query, grow, shrink, refuse', () => {
  const { mm, as } = newMM();
  mm.startBrk = mm.curBrk = 0x5555_0000_0000;
  assert.equal(mm.brk(0), 0x5555_0000_0000);
  assert.equal(mm.brk(0x5555_0000_0000 + 10), 0x5555_0000_000a);
  mm.copyOut(0x5555_0000_0000, Uint8Array.of(5));
  assert.equal(mm.brk(0x5555_0000_0000 + 3 * P), 0x5555_0000_0000 + 3 * P);
  assert.equal(mm.mappings().length, 1);
  assert.equal(mm.mappings()[0].end, 0x5555_0000_0000 + 3 * P);
  assert.equal(mm.brk(0x5555_0000_0000 + P), 0x5555_0000_0000 + P);
  assert.equal(mm.mappings()[0].end, 0x5555_0000_0000 + P);
  assert.equal(mm.copyIn(0x5555_0000_0000, 1)[0], 5);
  // A mapping in the way: brk fails by returning the old break.
  mm.mmap({ addr: 0x5555_0000_0000 + 5 * P, length: P, prot: RW, flags: ANON | m.MAP_FIXED });
  assert.equal(mm.brk(0x5555_0000_0000 + 5 * P), 0x5555_0000_0000 + P);
  assert.equal(mm.brk(0x5555_0000_0000 + 4 * P - 1), 0x5555_0000_0000 + 4 * P - 1);
  assert.equal(mm.brk(0x5555_0000_0000 - P), 0x5555_0000_0000 + 4 * P - 1, 'below the start: unchanged');
  assert.equal(mm.brk(0x5555_0000_0000 + 4 * P + P, undefined, 2 * P), 0x5555_0000_0000 + 4 * P - 1, 'RLIMIT_DATA');
  assert.match(mapsText(mm), /\[heap\]/);
  checkInSync(mm, as);
});

test('mremap: shrink, grow in place, move, fixed, errors', () => {
  const { mm, as } = newMM();
  const a = mm.mmap({ addr: 0x1000_0000, length: 4 * P, prot: RW, flags: ANON });
  mm.copyOut(a, Uint8Array.of(7));
  assert.equal(mm.mremap(a, 4 * P, 2 * P, 0, 0), a);
  assert.equal(mm.mappings()[0].end, a + 2 * P);
  assert.equal(mm.mremap(a, 2 * P, 6 * P, 0, 0), a, 'grows in place');
  assert.equal(mm.mappings()[0].end, a + 6 * P);
  mm.mmap({ addr: a + 6 * P, length: P, prot: m.PROT_READ, flags: ANON | m.MAP_FIXED });
  assert.throws(() => mm.mremap(a, 6 * P, 8 * P, 0, 0), linuxerr.ENOMEM);
  const b = mm.mremap(a, 6 * P, 8 * P, m.MREMAP_MAYMOVE, 0);
  assert.notEqual(b, a);
  assert.equal(mm.copyIn(b, 1)[0], 7, 'contents move');
  assert.equal(mm.vmas.find(a), undefined);
  const c = 0x2000_0000;
  assert.equal(mm.mremap(b, 8 * P, 2 * P, m.MREMAP_MAYMOVE | m.MREMAP_FIXED, c), c);
  assert.equal(mm.copyIn(c, 1)[0], 7);
  assert.equal(mm.vmas.find(b), undefined);
  assert.throws(() => mm.mremap(c, P, 2 * P, m.MREMAP_FIXED, 0x3000_0000), linuxerr.EINVAL);
  assert.throws(() => mm.mremap(c, P, 2 * P, m.MREMAP_MAYMOVE | m.MREMAP_FIXED, c - P), linuxerr.EINVAL, 'overlap');
  assert.throws(() => mm.mremap(c, P, 0, m.MREMAP_MAYMOVE, 0), linuxerr.EINVAL);
  assert.throws(() => mm.mremap(0x3000_0000, P, 2 * P, m.MREMAP_MAYMOVE, 0), linuxerr.EFAULT);
  assert.throws(() => mm.mremap(c, 3 * P, 4 * P, m.MREMAP_MAYMOVE, 0), linuxerr.EFAULT, 'old range spans past the mapping');
  assert.throws(() => mm.mremap(c, 0, P, m.MREMAP_MAYMOVE, 0), linuxerr.EINVAL, 'old_len 0 of a private mapping');
  const d = mm.mremap(c, 2 * P, 2 * P, m.MREMAP_MAYMOVE | m.MREMAP_DONTUNMAP, 0);
  assert.notEqual(d, c);
  assert.ok(mm.vmas.find(c), 'DONTUNMAP keeps the old range');
  assert.equal(mm.copyIn(d, 1)[0], 7);
  checkInSync(mm, as);
});

test('madvise, msync, mincore', () => {
  const { mm, as } = newMM();
  const a = mm.mmap({ addr: 0x1000_0000, length: 4 * P, prot: RW, flags: ANON });
  mm.copyOut(a + P, Uint8Array.of(3));
  mm.madvise(a, 2 * P, m.MADV_DONTNEED);
  assert.equal(mm.copyIn(a + P, 1)[0], 0, 'DONTNEED zeroes private anonymous pages');
  mm.madvise(a, 2 * P, m.MADV_WILLNEED);
  assert.throws(() => mm.madvise(a, P, 999), linuxerr.EINVAL);
  assert.throws(() => mm.madvise(a + 1, P, m.MADV_NORMAL), linuxerr.EINVAL);
  assert.throws(() => mm.madvise(a, 8 * P, m.MADV_NORMAL), linuxerr.ENOMEM);
  assert.throws(() => mm.madvise(a, P, m.MADV_REMOVE), linuxerr.EINVAL);
  mm.madvise(a, P, m.MADV_DONTFORK);
  assert.equal(mm.mappings().length, 2);
  mm.madvise(a, P, m.MADV_DOFORK);
  assert.equal(mm.mappings().length, 1);
  mm.msync(a, P, m.MS_SYNC);
  assert.throws(() => mm.msync(a, P, m.MS_SYNC | m.MS_ASYNC), linuxerr.EINVAL);
  assert.throws(() => mm.msync(a, 8 * P, m.MS_ASYNC), linuxerr.ENOMEM);
  assert.deepEqual([...mm.mincore(a, 2 * P - 1)], [1, 1]);
  assert.throws(() => mm.mincore(a, 8 * P), linuxerr.ENOMEM);
  assert.throws(() => mm.mincore(a + 1, P), linuxerr.EINVAL);
  assert.equal(mm.mincore(a, 0).length, 0);
  checkInSync(mm, as);
});

test('fork copies the bookkeeping except MADV_DONTFORK ranges, with file references', () => {
  const { mm } = newMM();
  const f = fileOf(pattern(P));
  mm.mmap({ addr: 0x1000_0000, length: P, prot: m.PROT_READ, flags: m.MAP_PRIVATE, file: f });
  const b = mm.mmap({ addr: 0x2000_0000, length: 2 * P, prot: RW, flags: ANON });
  mm.madvise(b, P, m.MADV_DONTFORK);
  mm.startBrk = 0x1234_0000;
  mm.curBrk = 0x1234_0100;
  const child = mm.fork(new FakeAddressSpace());
  assert.deepEqual(child.mappings().map((v) => v.start), [0x1000_0000, 0x2000_0000 + P]);
  assert.equal(child.curBrk, 0x1234_0100);
  assert.equal(f.count, 3);
  child.release();
  assert.equal(f.count, 2);
});

test('maps text follows Linux formatting', () => {
  // Taken from a Linux host's /proc/self/maps.
  assert.equal(mapsLine(0x563379c5b000, 0x563379c5c000, 5, false, 0x1000, 0xfe00, 26723, '/usr/bin/python3'),
    '563379c5b000-563379c5c000 r-xp 00001000 fe:00 26723                      /usr/bin/python3\n');
  assert.equal(mapsLine(0x7f0000000000, 0x7f0000001000, 3, false, 0, 0, 0, ''),
    '7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n');
  const { mm } = newMM();
  const f = fileOf(pattern(2 * P));
  mm.mmap({ addr: 0x1000_0000, length: P, prot: m.PROT_READ, flags: m.MAP_PRIVATE, file: f, offset: P });
  const s = mm.mmap({ addr: 0x2000_0000, length: 2 * P, prot: RW, flags: ANON });
  mm.stackStart = s + 100;
  mm.mmap({ addr: 0x3000_0000, length: P, prot: RW, flags: m.MAP_SHARED | m.MAP_ANONYMOUS });
  const lines = mapsText(mm).split('\n');
  assert.equal(lines[0], '10000000-10001000 r--p 00001000 fe:00 42' + ' '.repeat(33) + '/data/file');
  assert.match(lines[1], /^20000000-20002000 rw-p 00000000 00:00 0 +\[stack\]$/);
  assert.match(lines[2], /^30000000-30001000 rw-s 00000000 00:01 1 +\/dev\/zero \(deleted\)$/);
  assert.match(lines[3], /^7ffff7fc0000-7ffff7fc2000 r-xp 00000000 00:00 0 +\[vdso\]$/);
  assert.equal(lines.length, 5);
});

test('a mapping holding the last reference survives being replaced, split and moved', () => {
  const { mm, as } = newMM();
  const f = fileOf(pattern(4 * P));
  const a = mm.mmap({ addr: 0x1000_0000, length: 4 * P, prot: m.PROT_READ, flags: m.MAP_PRIVATE, file: f });
  f.decRef(); // the fd is closed: only the mapping holds the file now
  mm.mprotect(a + P, P, 0);
  mm.mprotect(a + P, P, m.PROT_READ);
  mm.mmap({ addr: a, length: 4 * P, prot: m.PROT_READ, flags: m.MAP_PRIVATE | m.MAP_FIXED, file: f });
  mm.mremap(a, 4 * P, 4 * P, m.MREMAP_MAYMOVE | m.MREMAP_FIXED, 0x2000_0000);
  assert.equal(f.min, 1);
  assert.equal(f.count, 1);
  mm.munmap(0x2000_0000, 4 * P);
  assert.equal(f.count, 0);
  checkInSync(mm, as);
});
