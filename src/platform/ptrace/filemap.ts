// Read-only mappings of host files in the Sentry, for reads of host files
// into guest memory with one copy: process_vm_writev from the mapping (the
// page cache) to the guest, instead of pread into a buffer and then
// process_vm_writev from it. Only stable files are mapped (a read-only tree
// whose metadata the Sentry caches anyway): a mapping covers the size the
// file had when mapped. Reads past it go the pread way; a copy cut short
// by a file that shrank all the same unmaps it (the caller rechecks).

import { fstatSync } from 'node:fs';
import type { HostFile } from '../platform.js';
import { native } from './native.js';

/** Files smaller than this are not mapped: a pread of them is as cheap as a mapping's set-up. */
export const MAP_MIN_SIZE = 256 * 1024;
/** At most this many files stay mapped (least recently used unmapped first). */
export const MAX_MAPPINGS = 64;
/** Together they span at most this much of the Sentry's address space. */
export const MAX_MAPPED_BYTES = 16 * 2 ** 30;

/** FileMapping is one mapped host file; addr 0 means the file could not be mapped. */
export interface FileMapping {
  addr: number;
  size: number;
}

const NONE: FileMapping = { addr: 0, size: 0 };

/** Mappings by file, least recently used first. */
const maps = new Map<HostFile, FileMapping>();
let mappedBytes = 0;

/** Files read once: the second read maps them (an open, one read and a close costs no mapping). */
const readBefore = new WeakSet<HostFile>();

/** mappingOf returns file's mapping, making it on its second read; NONE
 *  before, or when the file is small or cannot be mapped (not retried). */
export function mappingOf(file: HostFile): FileMapping {
  const m = maps.get(file);
  if (m) {
    maps.delete(file);
    maps.set(file, m);
    return m;
  }
  if (!file.stable) return NONE;
  if (!readBefore.has(file)) {
    readBefore.add(file);
    return NONE;
  }
  let size = 0;
  try {
    size = fstatSync(file.hostFd()).size;
  } catch {
    size = 0;
  }
  let made = NONE;
  if (size >= MAP_MIN_SIZE && size <= MAX_MAPPED_BYTES) {
    while (maps.size >= MAX_MAPPINGS || (maps.size > 0 && mappedBytes + size > MAX_MAPPED_BYTES)) evictOne();
    const addr = native.mapFile(file.hostFd(), size);
    if (addr > 0) {
      made = { addr, size };
      mappedBytes += size;
    }
  }
  // A file that is not mapped is remembered too (NONE), so it is not retried.
  if (made === NONE) while (maps.size >= MAX_MAPPINGS) evictOne();
  maps.set(file, made);
  return made;
}

function evictOne(): void {
  const [file, m] = maps.entries().next().value as [HostFile, FileMapping];
  maps.delete(file);
  if (m.addr) {
    native.unmapFile(m.addr, m.size);
    mappedBytes -= m.size;
  }
}

/** forget unmaps file and stops mapping it (it turned out to have changed). */
export function forget(file: HostFile): void {
  const m = maps.get(file);
  if (m?.addr) {
    native.unmapFile(m.addr, m.size);
    mappedBytes -= m.size;
  }
  maps.set(file, NONE);
}

/** mappedCount is the number of files remembered (for tests). */
export function mappedCount(): number {
  return maps.size;
}
