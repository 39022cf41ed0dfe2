// Auxiliary vector entry types, and the host's values the guest inherits
// (CPU feature bits: the guest runs on the host's CPU).

import { readHostProc } from '../../platform/hostproc.js';

export const AT_NULL = 0;
export const AT_PHDR = 3;
export const AT_PHENT = 4;
export const AT_PHNUM = 5;
export const AT_PAGESZ = 6;
export const AT_BASE = 7;
export const AT_FLAGS = 8;
export const AT_ENTRY = 9;
export const AT_UID = 11;
export const AT_EUID = 12;
export const AT_GID = 13;
export const AT_EGID = 14;
export const AT_PLATFORM = 15;
export const AT_HWCAP = 16;
export const AT_CLKTCK = 17;
export const AT_SECURE = 23;
export const AT_RANDOM = 25;
export const AT_HWCAP2 = 26;
export const AT_EXECFN = 31;
export const AT_SYSINFO_EHDR = 33;
export const AT_MINSIGSTKSZ = 51;

/** AuxEntry is one (type, value) pair. */
export type AuxEntry = [number, number];

export interface HostAuxv {
  hwcap: number;
  hwcap2: number;
  minSigStkSz: number;
}

let cached: HostAuxv | null = null;

/** parseAuxv decodes a raw auxv (pairs of little-endian u64) into a map. */
export function parseAuxv(raw: Uint8Array): Map<number, number> {
  const out = new Map<number, number>();
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let o = 0; o + 16 <= raw.byteLength; o += 16) {
    const type = Number(dv.getBigUint64(o, true));
    if (type === AT_NULL) break;
    out.set(type, Number(dv.getBigUint64(o + 8, true)));
  }
  return out;
}

/** hostAuxv returns the Sentry process's own AT_HWCAP, AT_HWCAP2 and AT_MINSIGSTKSZ (read once). */
export function hostAuxv(): HostAuxv {
  if (cached) return cached;
  let m = new Map<number, number>();
  try {
    m = parseAuxv(readHostProc('self/auxv'));
  } catch {
    // Without /proc the guest sees no CPU feature bits; glibc then uses cpuid.
  }
  cached = { hwcap: m.get(AT_HWCAP) ?? 0, hwcap2: m.get(AT_HWCAP2) ?? 0, minSigStkSz: m.get(AT_MINSIGSTKSZ) ?? 2048 };
  return cached;
}
