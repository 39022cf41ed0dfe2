// File seals (fcntl F_ADD_SEALS/F_GET_SEALS, memfd_create(2)): the rules of
// Linux's mm/memfd.c and shmem, as pure functions over a seal set. The tmpfs
// inode keeps the set; these decide what a write, a resize, a chmod or a
// new seal may do.

import * as linuxerr from '../../../abi/linux/errno.js';

export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;
export const F_SEAL_FUTURE_WRITE = 0x10;
export const F_SEAL_EXEC = 0x20;
export const F_ALL_SEALS = 0x3f;

const PAGE = 4096;

/** writeLength returns how many of len bytes a write at pos may store under
 *  seals, or throws EPERM when it may store none. Linux checks each page of a
 *  write in turn, so under F_SEAL_GROW a write crossing the end stores the
 *  whole pages before the page that would grow the file. */
export function writeLength(seals: number, size: number, pos: number, len: number): number {
  if (len === 0 || !(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_GROW))) return len;
  if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) throw linuxerr.EPERM;
  if (pos + len <= size) return len;
  const lastWhole = Math.floor(size / PAGE) * PAGE;
  if (lastWhole <= pos) throw linuxerr.EPERM;
  return lastWhole - pos;
}

/** checkResize throws EPERM if the seals forbid changing the size from oldSize to newSize. */
export function checkResize(seals: number, oldSize: number, newSize: number): void {
  if (newSize < oldSize && (seals & F_SEAL_SHRINK)) throw linuxerr.EPERM;
  if (newSize > oldSize && (seals & F_SEAL_GROW)) throw linuxerr.EPERM;
}

/** checkChmod throws EPERM if F_SEAL_EXEC forbids changing the exec bits. */
export function checkChmod(seals: number, oldMode: number, newMode: number): void {
  if ((seals & F_SEAL_EXEC) && ((oldMode ^ newMode) & 0o111)) throw linuxerr.EPERM;
}

/** writeSealed reports whether new writable shared mappings are refused. */
export function writeSealed(seals: number): boolean {
  return (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0;
}

/** addSeals returns the seal set after F_ADD_SEALS of add to cur on a file
 *  of mode, in Linux's order of checks: unknown bits (EINVAL), F_SEAL_SEAL
 *  (EPERM), then F_SEAL_WRITE while writablyMapped() (EBUSY). F_SEAL_EXEC on
 *  an executable file brings all the write seals with it (W^X). The caller
 *  checks beforehand that the description is writable and the file sealable. */
export function addSeals(cur: number, add: number, mode: number, writablyMapped: () => boolean): number {
  if (add & ~F_ALL_SEALS) throw linuxerr.EINVAL;
  if (cur & F_SEAL_SEAL) throw linuxerr.EPERM;
  if ((add & F_SEAL_EXEC) && (mode & 0o111)) add |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
  if ((add & F_SEAL_WRITE) && !(cur & F_SEAL_WRITE) && writablyMapped()) throw linuxerr.EBUSY;
  return cur | add;
}
