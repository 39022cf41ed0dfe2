// /proc/[pid]/maps: the mappings in Linux's format (fs/proc/task_mmu.c).

import * as m from '../../abi/linux/mm.js';
import type { MemoryManager } from './mm.js';

/** The vsyscall page is above 2^53, where numbers lose precision: print it as text. */
const VSYSCALL_LINE = 'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 '.padEnd(72, ' ') + ' [vsyscall]\n';

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** devMajor/devMinor split a Linux dev_t (the encoding stat(2) returns). */
export function devMajor(dev: number): number {
  return (Math.floor(dev / 0x100) & 0xfff) | (Math.floor(dev / 2 ** 32) & 0xfffff000);
}
export function devMinor(dev: number): number {
  return (dev & 0xff) | (Math.floor(dev / 0x1000) & 0xfff00);
}

/** mapsLine formats one line; Linux pads so that the name starts at column 73 (0-based). */
export function mapsLine(start: number, end: number, prot: number, shared: boolean, offset: number, dev: number,
  ino: number, name: string): string {
  let s = `${hex(start, 8)}-${hex(end, 8)} ` +
    `${prot & m.PROT_READ ? 'r' : '-'}${prot & m.PROT_WRITE ? 'w' : '-'}${prot & m.PROT_EXEC ? 'x' : '-'}${shared ? 's' : 'p'} ` +
    `${hex(offset, 8)} ${hex(devMajor(dev), 2)}:${hex(devMinor(dev), 2)} ${ino} `;
  if (name) s = s.padEnd(72, ' ') + ' ' + name;
  return s + '\n';
}

/** mapsText returns the contents of /proc/[pid]/maps for mm. */
export function mapsText(mm: MemoryManager): string {
  const lines: { start: number; text: string }[] = [];
  for (const v of mm.mappings()) {
    let name = v.name;
    if (!v.file && !v.shared && !name) {
      // Linux names the heap and stack by address, not by how they were mapped.
      if (v.start <= mm.curBrk && v.end >= mm.startBrk && mm.startBrk !== 0) name = '[heap]';
      else if (v.start <= mm.stackStart && v.end >= mm.stackStart) name = '[stack]';
    }
    const text = mapsLine(v.start, v.end, v.prot, v.shared, v.file ? v.offset : 0, v.dev, v.ino, name);
    lines.push({ start: v.start, text });
  }
  let vsyscall = false;
  for (const r of mm.as.reserved) {
    if (r.name === '[vsyscall]') {
      vsyscall = true;
      continue;
    }
    // The host's vDSO and vvar pages are the guest's; the stub is hidden.
    if (!r.name.startsWith('[') || r.name === '[stub]') continue;
    const prot = r.name === '[vdso]' ? m.PROT_READ | m.PROT_EXEC : m.PROT_READ;
    lines.push({ start: r.start, text: mapsLine(r.start, r.end, prot, false, 0, 0, 0, r.name) });
  }
  lines.sort((a, b) => a.start - b.start);
  return lines.map((l) => l.text).join('') + (vsyscall ? VSYSCALL_LINE : '');
}
