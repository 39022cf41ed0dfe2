// ELF64 header and program header parsing (the parts execve needs), with
// Linux's validity rules (fs/binfmt_elf.c): a bad file is ENOEXEC.

import * as linuxerr from '../../abi/linux/errno.js';

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_X86_64 = 62;
export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_PHDR = 6;
export const PT_GNU_STACK = 0x6474e551;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
/** Sizes of Elf64_Ehdr and Elf64_Phdr. */
export const EHDR_SIZE = 64;
export const PHDR_SIZE = 56;
/** Linux reads at most one page of program headers. */
export const MAX_PHDRS_SIZE = 4096;

export interface ElfHeader {
  type: number;
  machine: number;
  entry: number;
  phoff: number;
  phentsize: number;
  phnum: number;
}

export interface ProgHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

/** isElf reports whether b starts with the ELF magic. */
export function isElf(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

function u64(dv: DataView, off: number): number {
  return dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 0x1_0000_0000;
}

/** parseElfHeader validates an x86-64 executable's ELF header (ENOEXEC if it is not one). */
export function parseElfHeader(b: Uint8Array): ElfHeader {
  if (b.length < EHDR_SIZE || !isElf(b)) throw linuxerr.ENOEXEC;
  // EI_CLASS 2: 64-bit; EI_DATA 1: little-endian.
  if (b[4] !== 2 || b[5] !== 1) throw linuxerr.ENOEXEC;
  const dv = new DataView(b.buffer, b.byteOffset, EHDR_SIZE);
  const h: ElfHeader = {
    type: dv.getUint16(16, true),
    machine: dv.getUint16(18, true),
    entry: u64(dv, 24),
    phoff: u64(dv, 32),
    phentsize: dv.getUint16(54, true),
    phnum: dv.getUint16(56, true),
  };
  if (h.type !== ET_EXEC && h.type !== ET_DYN) throw linuxerr.ENOEXEC;
  if (h.machine !== EM_X86_64) throw linuxerr.ENOEXEC;
  if (h.phentsize !== PHDR_SIZE) throw linuxerr.ENOEXEC;
  const size = h.phnum * PHDR_SIZE;
  if (size === 0 || size > MAX_PHDRS_SIZE) throw linuxerr.ENOEXEC;
  return h;
}

/** parseProgHeaders decodes phnum program headers from b (the bytes at phoff). */
export function parseProgHeaders(b: Uint8Array, phnum: number): ProgHeader[] {
  if (b.length < phnum * PHDR_SIZE) throw linuxerr.ENOEXEC;
  const dv = new DataView(b.buffer, b.byteOffset, phnum * PHDR_SIZE);
  const out: ProgHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = i * PHDR_SIZE;
    out.push({
      type: dv.getUint32(o, true),
      flags: dv.getUint32(o + 4, true),
      offset: u64(dv, o + 8),
      vaddr: u64(dv, o + 16),
      filesz: u64(dv, o + 32),
      memsz: u64(dv, o + 40),
      align: u64(dv, o + 48),
    });
  }
  return out;
}

/** loadSpan returns the page-aligned extent [first, end) of the PT_LOAD segments, relative to vaddr 0. */
export function loadSpan(phdrs: readonly ProgHeader[]): { first: number; end: number } {
  let first = Infinity;
  let end = 0;
  for (const p of phdrs) {
    if (p.type !== PT_LOAD) continue;
    first = Math.min(first, p.vaddr - (p.vaddr % 4096));
    const e = p.vaddr + p.memsz;
    end = Math.max(end, e + ((4096 - (e % 4096)) % 4096));
  }
  return first === Infinity ? { first: 0, end: 0 } : { first, end };
}

/** maxAlign is the largest power-of-two p_align of the PT_LOAD segments (at least a page). */
export function maxAlign(phdrs: readonly ProgHeader[]): number {
  let a = 4096;
  for (const p of phdrs) {
    if (p.type !== PT_LOAD) continue;
    if (p.align > a && p.align <= 2 ** 30 && (p.align & (p.align - 1)) === 0) a = p.align;
  }
  return a;
}
