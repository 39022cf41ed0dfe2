// The guest address-space layout: where the stack, the mmap area, PIE
// binaries and the heap go, as Linux's x86-64 top-down layout places them
// (arch/x86/mm/mmap.c, fs/binfmt_elf.c), scaled to the part of the address
// space guests may use (below the stub).

import { getRandomValues } from 'node:crypto';
import { PAGE_SIZE } from '../../abi/linux/mm.js';
import { STACK_GUARD_GAP } from './vma.js';

/** TASK_SIZE is Linux's x86-64 user address limit (what range checks use for EINVAL). */
export const TASK_SIZE = 0x7fff_ffff_f000;
/** USER_TOP is the end of the part guests may map: the stub lives above. */
export const USER_TOP = 0x7fe0_0000_0000;
/** STACK_TOP is the highest stack address before randomization. */
export const STACK_TOP = USER_TOP - PAGE_SIZE;
/** MMAP_MIN_ADDR is Linux's default vm.mmap_min_addr. */
export const MMAP_MIN_ADDR = 0x10000;
/** ELF_ET_DYN_BASE is where PIE executables go (2/3 of the address space). */
export const ELF_ET_DYN_BASE = 0x5555_5555_4000;
/** TASK_UNMAPPED_BASE is where bottom-up searches start. */
export const TASK_UNMAPPED_BASE = 0x2aaa_aaaa_b000;
/** MAX_MAP_COUNT is Linux's default vm.max_map_count. */
export const MAX_MAP_COUNT = 65530;
/** Randomization ranges, in pages: stack top (STACK_RND_MASK), mmap base (28 bits), brk (32 MiB). */
export const STACK_RND_PAGES = 0x3fffff + 1;
export const MMAP_RND_PAGES = 1 << 28;
export const BRK_RND_PAGES = 0x0200_0000 / PAGE_SIZE;
const SIZE_128M = 128 * 1024 * 1024;

/** randomPages returns a random multiple of PAGE_SIZE below n pages. */
export function randomPages(n: number): number {
  const r = getRandomValues(new Uint32Array(2));
  // 53 random bits: exact in a double, so the remainder is uniform enough.
  return (((r[0] & 0x1f_ffff) * 0x1_0000_0000 + r[1]) % n) * PAGE_SIZE;
}

/** randomBelow returns a random integer in [0, n). */
export function randomBelow(n: number): number {
  return getRandomValues(new Uint32Array(1))[0] % n;
}

/** mmapBase computes the top of the top-down mmap area below a stack limited
 *  to stackLimit bytes (RLIMIT_STACK, Infinity allowed), like Linux's mmap_base(). */
export function mmapBase(stackLimit: number, randomize: boolean): number {
  const pad = (randomize ? STACK_RND_PAGES * PAGE_SIZE : 0) + STACK_GUARD_GAP;
  let gap = stackLimit + pad;
  const gapMax = Math.floor(USER_TOP / 6) * 5;
  if (!(gap >= SIZE_128M)) gap = SIZE_128M;
  if (gap > gapMax) gap = gapMax;
  const rnd = randomize ? randomPages(MMAP_RND_PAGES) : 0;
  const b = USER_TOP - gap - rnd;
  return b - (b % PAGE_SIZE);
}
