import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as linuxerr from '../../abi/linux/errno.js';
import { Credentials } from '../kernel/creds.js';
import type { Task } from '../kernel/task.js';
import { ELF_ET_DYN_BASE, STACK_TOP } from '../mm/layout.js';
import { mapsText } from '../mm/maps.js';
import { MemoryManager } from '../mm/mm.js';
import { checkInSync, FakeAddressSpace, FakeHostFile } from '../mm/testutil/fake_as.js';
import type { FileDescriptionImpl } from '../vfs/file_description.js';
import { FileDescription } from '../vfs/file_description.js';
import * as auxv from './auxv.js';
import * as elf from './elf.js';
import { load } from './loader.js';

/** hostOpen opens a host file as a FileDescription whose "host fd" is a FakeHostFile holding its bytes. */
function hostOpen(path: string): FileDescription {
  const abs = resolve(path);
  let fd: number;
  try {
    fd = openSync(abs, 'r');
  } catch (e) {
    throw (e as { code?: string }).code === 'ENOENT' ? linuxerr.ENOENT : linuxerr.EACCES;
  }
  const st = fstatSync(fd);
  const host = st.isFile() ? new FakeHostFile(new Uint8Array(readFileSync(abs))) : null;
  const impl: FileDescriptionImpl = {
    read: (_f, dst, off) => readSync(fd, dst, 0, dst.length, off),
    stat: () => ({ dev: st.dev, ino: st.ino, mode: st.mode, nlink: st.nlink, uid: st.uid, gid: st.gid, rdev: st.rdev,
      size: st.size, blksize: 4096, blocks: 0, atime: { sec: 0, nsec: 0 }, mtime: { sec: 0, nsec: 0 },
      ctime: { sec: 0, nsec: 0 } }),
    mappable: () => host,
    release: () => closeSync(fd),
  };
  return new FileDescription(impl, 0, realpathSync(abs));
}

function fakeTask(opts: { personality?: number; uid?: number } = {}): Task {
  const creds = new Credentials();
  if (opts.uid !== undefined) creds.uid = creds.euid = creds.gid = creds.egid = opts.uid;
  const rlimits: [number, number][] = Array.from({ length: 16 }, () => [Infinity, Infinity]);
  rlimits[3] = [8 * 1024 * 1024, Infinity];
  return {
    kernel: { vfs: { openAt: (_t: unknown, _d: number, p: string) => hostOpen(p) }, log: { warnOnce: () => {} } },
    creds,
    tg: { rlimits, personality: opts.personality ?? 0 },
  } as unknown as Task;
}

const VDSO = { start: 0x7fff_f7fc_0000, end: 0x7fff_f7fc_2000, name: '[vdso]' };
const STUB = { start: 0x7fe0_0000_0000, end: 0x7fe0_0000_2000, name: '[stub]' };

function newMM(): { mm: MemoryManager; as: FakeAddressSpace } {
  const as = new FakeAddressSpace([STUB, VDSO], VDSO.start);
  return { mm: new MemoryManager(as), as };
}

function readAuxv(mm: MemoryManager): Map<number, number> {
  return auxv.parseAuxv(mm.auxv);
}

function fileHeaders(path: string): { hdr: elf.ElfHeader; phdrs: elf.ProgHeader[]; bytes: Uint8Array } {
  const bytes = new Uint8Array(readFileSync(path));
  const hdr = elf.parseElfHeader(bytes);
  return { hdr, phdrs: elf.parseProgHeaders(bytes.subarray(hdr.phoff), hdr.phnum), bytes };
}

test('static executable: fixed segments, zeroed bss, brk, stack and auxv', () => {
  const { mm, as } = newMM();
  const t = fakeTask({ personality: 0x0040000 });
  const r = load(t, mm, '/bin/busybox', ['busybox', 'echo', 'hi'], ['A=1']);
  const { hdr, phdrs, bytes } = fileHeaders('/bin/busybox');
  assert.equal(r.entry, hdr.entry);
  assert.equal(r.exe, realpathSync('/bin/busybox'));
  assert.equal(r.filename, '/bin/busybox');
  checkInSync(mm, as);
  for (const p of phdrs.filter((x) => x.type === elf.PT_LOAD)) {
    // File bytes are there; the rest of the segment reads as zeros.
    assert.deepEqual(as.peek(p.vaddr, 64), bytes.subarray(p.offset, p.offset + 64));
    if (p.memsz > p.filesz) {
      const z = as.peek(p.vaddr + p.filesz, Math.min(p.memsz - p.filesz, 8192));
      assert.ok(z.every((b) => b === 0), '.bss is zero');
    }
  }
  const end = Math.max(...phdrs.filter((x) => x.type === elf.PT_LOAD).map((x) => x.vaddr + x.memsz));
  assert.equal(mm.startBrk, Math.ceil(end / 4096) * 4096, 'no randomization: brk right after the image');
  assert.equal(r.sp % 16, 0);
  assert.ok(r.sp < STACK_TOP && r.sp > STACK_TOP - 8 * 1024 * 1024);
  assert.equal(mm.readU64(r.sp), 3);
  assert.equal(mm.copyInString(mm.readU64(r.sp + 16)), 'echo');
  const av = readAuxv(mm);
  assert.equal(av.get(auxv.AT_SYSINFO_EHDR), VDSO.start);
  assert.equal(av.get(auxv.AT_ENTRY), hdr.entry);
  assert.equal(av.get(auxv.AT_BASE), 0);
  assert.equal(av.get(auxv.AT_PHNUM), hdr.phnum);
  assert.equal(av.get(auxv.AT_PHENT), 56);
  assert.equal(av.get(auxv.AT_PAGESZ), 4096);
  assert.deepEqual(mm.copyIn(av.get(auxv.AT_PHDR)!, 56), bytes.subarray(hdr.phoff, hdr.phoff + 56));
  assert.equal(mm.copyInString(av.get(auxv.AT_EXECFN)!), '/bin/busybox');
  assert.equal(mm.copyInString(av.get(auxv.AT_PLATFORM)!), 'x86_64');
  assert.equal(av.get(auxv.AT_HWCAP), auxv.hostAuxv().hwcap);
  assert.equal(new TextDecoder().decode(mm.copyIn(mm.argStart, mm.argEnd - mm.argStart)), 'busybox\0echo\0hi\0');
  assert.equal(new TextDecoder().decode(mm.copyIn(mm.envStart, mm.envEnd - mm.envStart)), 'A=1\0');
  const maps = mapsText(mm);
  assert.match(maps, /r-xp [0-9a-f]{8} [0-9a-f]{2}:[0-9a-f]{2} \d+ +\/.*busybox\n/);
  assert.match(maps, /rw-p 00000000 00:00 0 +\[stack\]\n/);
  assert.match(maps, /\[vdso\]\n/);
});

test('dynamic PIE: loaded at ELF_ET_DYN_BASE with its interpreter below the mmap base', () => {
  const { mm, as } = newMM();
  const r = load(fakeTask({ personality: 0x0040000 }), mm, '/bin/ls', ['ls'], []);
  const main = fileHeaders('/bin/ls');
  const av = readAuxv(mm);
  const bias = av.get(auxv.AT_ENTRY)! - main.hdr.entry;
  assert.equal(bias, ELF_ET_DYN_BASE);
  assert.equal(av.get(auxv.AT_PHDR), bias + main.hdr.phoff);
  const base = av.get(auxv.AT_BASE)!;
  const interpPath = new TextDecoder().decode(
    ((p) => main.bytes.subarray(p.offset, p.offset + p.filesz - 1))(main.phdrs.find((p) => p.type === elf.PT_INTERP)!));
  const interp = fileHeaders(interpPath);
  assert.equal(r.entry, base + interp.hdr.entry);
  assert.ok(base < mm.mmapBase && base > 0x7000_0000_0000, `interpreter base ${base.toString(16)}`);
  assert.equal(base % 4096, 0);
  assert.deepEqual(as.peek(base, 4), Uint8Array.of(0x7f, 0x45, 0x4c, 0x46));
  assert.ok(mm.startBrk >= bias + elf.loadSpan(main.phdrs).end);
  assert.equal(r.exe, realpathSync('/bin/ls'));
  checkInSync(mm, as);
});

test('randomization moves the image, the stack and the heap', () => {
  const a = newMM();
  const b = newMM();
  load(fakeTask(), a.mm, '/bin/ls', ['ls'], []);
  load(fakeTask(), b.mm, '/bin/ls', ['ls'], []);
  const ea = readAuxv(a.mm).get(auxv.AT_ENTRY)!;
  const eb = readAuxv(b.mm).get(auxv.AT_ENTRY)!;
  assert.notEqual(ea, eb);
  assert.notEqual(a.mm.stackStart, b.mm.stackStart);
  assert.ok(a.mm.startBrk !== b.mm.startBrk);
  assert.ok(readAuxv(a.mm).get(auxv.AT_RANDOM)! % 1 === 0);
});

test('#! scripts: argv rewriting, nesting limit, errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-loader-'));
  const w = (name: string, text: string, mode = 0o755): string => {
    const p = join(dir, name);
    writeFileSync(p, text, { mode });
    return p;
  };
  const s0 = w('s0', '#!/bin/busybox sh -e\necho hi\n');
  const { mm } = newMM();
  const r = load(fakeTask({ personality: 0x0040000 }), mm, s0, ['s0', 'x', 'y'], []);
  assert.equal(r.exe, realpathSync('/bin/busybox'));
  assert.equal(r.filename, s0);
  assert.equal(new TextDecoder().decode(mm.copyIn(mm.argStart, mm.argEnd - mm.argStart)),
    `/bin/busybox\0sh -e\0${s0}\0x\0y\0`);
  assert.equal(mm.copyInString(readAuxv(mm).get(auxv.AT_EXECFN)!), s0);
  // Five scripts in a chain are fine; six are ELOOP (as on Linux).
  let prev = s0;
  for (let i = 1; i <= 5; i++) prev = w(`s${i}`, `#!${prev}\n`);
  load(fakeTask(), newMM().mm, join(dir, 's4'), ['s4'], []);
  assert.throws(() => load(fakeTask(), newMM().mm, join(dir, 's5'), ['s5'], []), linuxerr.ELOOP);
  assert.throws(() => load(fakeTask(), newMM().mm, w('bad', '#!/nonexistent/interp\n'), ['bad'], []), linuxerr.ENOENT);
  assert.throws(() => load(fakeTask(), newMM().mm, w('junk', 'hello world\n'), ['junk'], []), linuxerr.ENOEXEC);
  assert.throws(() => load(fakeTask(), newMM().mm, w('noexec', '#!/bin/sh\n', 0o644), ['noexec'], []), linuxerr.EACCES);
  assert.throws(() => load(fakeTask(), newMM().mm, dir, ['dir'], []), linuxerr.EACCES);
  assert.throws(() => load(fakeTask(), newMM().mm, w('interp-not-elf', '#!' + join(dir, 'junk') + '\n'), ['x'], []),
    linuxerr.ENOEXEC);
  // An empty argv becomes [""] (Linux 5.18+).
  const e = newMM();
  load(fakeTask(), e.mm, '/bin/busybox', [], []);
  assert.equal(e.mm.argEnd - e.mm.argStart, 1);
});
