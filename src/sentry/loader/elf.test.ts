import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as linuxerr from '../../abi/linux/errno.js';
import * as elf from './elf.js';

function headers(path: string): { hdr: elf.ElfHeader; phdrs: elf.ProgHeader[]; bytes: Uint8Array } {
  const bytes = new Uint8Array(readFileSync(path));
  const hdr = elf.parseElfHeader(bytes.subarray(0, elf.EHDR_SIZE));
  const phdrs = elf.parseProgHeaders(bytes.subarray(hdr.phoff, hdr.phoff + hdr.phnum * elf.PHDR_SIZE), hdr.phnum);
  return { hdr, phdrs, bytes };
}

test('static busybox: ET_EXEC, no interpreter, entry in an executable segment', () => {
  const { hdr, phdrs } = headers('/bin/busybox');
  assert.equal(hdr.type, elf.ET_EXEC);
  assert.equal(hdr.machine, elf.EM_X86_64);
  assert.equal(phdrs.find((p) => p.type === elf.PT_INTERP), undefined);
  const loads = phdrs.filter((p) => p.type === elf.PT_LOAD);
  assert.ok(loads.length >= 2);
  const text = loads.find((p) => p.vaddr <= hdr.entry && hdr.entry < p.vaddr + p.memsz);
  assert.ok(text && text.flags & elf.PF_X, 'entry lies in an executable PT_LOAD');
  for (const p of loads) {
    assert.equal(p.offset % 4096, p.vaddr % 4096, 'offset and address agree modulo the page size');
    assert.ok(p.filesz <= p.memsz);
  }
  const span = elf.loadSpan(phdrs);
  assert.ok(span.first >= 0x10000 && span.end > span.first && span.end % 4096 === 0);
});

test('dynamic PIE ls: ET_DYN with PT_INTERP and PT_PHDR', () => {
  const { hdr, phdrs, bytes } = headers('/bin/ls');
  assert.equal(hdr.type, elf.ET_DYN);
  const interp = phdrs.find((p) => p.type === elf.PT_INTERP)!;
  const path = new TextDecoder().decode(bytes.subarray(interp.offset, interp.offset + interp.filesz - 1));
  assert.match(path, /^\/.*ld-linux-x86-64\.so\.2$/);
  const phdr = phdrs.find((p) => p.type === elf.PT_PHDR)!;
  assert.equal(phdr.offset, hdr.phoff);
  assert.equal(phdr.filesz, hdr.phnum * elf.PHDR_SIZE);
  assert.equal(elf.loadSpan(phdrs).first, 0);
  assert.equal(elf.maxAlign(phdrs), 4096);
});

function fakeHeader(edit: (dv: DataView, b: Uint8Array) => void): Uint8Array {
  const b = new Uint8Array(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  const dv = new DataView(b.buffer);
  dv.setUint16(16, elf.ET_EXEC, true);
  dv.setUint16(18, elf.EM_X86_64, true);
  dv.setUint32(24, 0x401000, true);
  dv.setUint32(32, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, 2, true);
  edit(dv, b);
  return b;
}

test('header validation: ENOEXEC for what Linux refuses', () => {
  assert.equal(elf.parseElfHeader(fakeHeader(() => {})).entry, 0x401000);
  assert.equal(elf.isElf(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46)), true);
  const bad: [string, (dv: DataView, b: Uint8Array) => void][] = [
    ['magic', (_dv, b) => (b[1] = 0)],
    ['32-bit class', (_dv, b) => (b[4] = 1)],
    ['big-endian', (_dv, b) => (b[5] = 2)],
    ['ET_REL', (dv) => dv.setUint16(16, 1, true)],
    ['aarch64', (dv) => dv.setUint16(18, 183, true)],
    ['phentsize', (dv) => dv.setUint16(54, 32, true)],
    ['no phdrs', (dv) => dv.setUint16(56, 0, true)],
    ['too many phdrs', (dv) => dv.setUint16(56, 100, true)],
  ];
  for (const [what, edit] of bad) assert.throws(() => elf.parseElfHeader(fakeHeader(edit)), linuxerr.ENOEXEC, what);
  assert.throws(() => elf.parseElfHeader(new Uint8Array(10)), linuxerr.ENOEXEC);
});

test('maxAlign takes the largest power-of-two alignment', () => {
  const p = (align: number): elf.ProgHeader => ({ type: elf.PT_LOAD, flags: 4, offset: 0, vaddr: 0, filesz: 0, memsz: 1, align });
  assert.equal(elf.maxAlign([p(0x1000), p(0x200000)]), 0x200000);
  assert.equal(elf.maxAlign([p(0x3000)]), 0x1000);
  assert.equal(elf.maxAlign([p(1)]), 0x1000);
});
