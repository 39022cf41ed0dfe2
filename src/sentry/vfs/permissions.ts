// Permission checks (Linux's generic_permission and friends), on the mode and
// owner an inode reports and the caller's file-system credentials.

import * as linuxerr from '../../abi/linux/errno.js';
import * as linux from '../../abi/linux/file.js';

export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;

export const CAP_CHOWN = 0;
export const CAP_DAC_OVERRIDE = 1;
export const CAP_DAC_READ_SEARCH = 2;
export const CAP_FOWNER = 3;
export const CAP_FSETID = 4;
export const CAP_MKNOD = 27;
export const CAP_SYS_CHROOT = 18;
export const CAP_SYS_ADMIN = 21;

/** PermCreds is the part of Credentials permission checks use. */
export interface PermCreds {
  fsuid: number;
  fsgid: number;
  groups: number[];
  capEffective: bigint;
}

/** PermSubject is what permission checks read of an inode. */
export interface PermSubject {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

const CAP_MASKS: bigint[] = Array.from({ length: 64 }, (_, i) => 1n << BigInt(i));

export function hasCap(c: PermCreds, cap: number): boolean {
  return (c.capEffective & CAP_MASKS[cap]) !== 0n;
}

export function inGroup(c: PermCreds, gid: number): boolean {
  return c.fsgid === gid || c.groups.includes(gid);
}

/** mayAccess reports whether c may access n for may (MAY_* bits). */
export function mayAccess(c: PermCreds, n: PermSubject, may: number): boolean {
  const mode = n.mode;
  let bits: number;
  if (c.fsuid === n.uid) bits = mode >> 6;
  else if (inGroup(c, n.gid)) bits = mode >> 3;
  else bits = mode;
  if ((bits & may & 7) === may) return true;
  const dir = (mode & linux.S_IFMT) === linux.S_IFDIR;
  // CAP_DAC_OVERRIDE passes everything but executing a file with no x bit at all.
  if (hasCap(c, CAP_DAC_OVERRIDE) && (!(may & MAY_EXEC) || dir || (mode & 0o111) !== 0)) return true;
  if (hasCap(c, CAP_DAC_READ_SEARCH) && (may === MAY_READ || (dir && !(may & MAY_WRITE)))) return true;
  return false;
}

/** checkAccess throws EACCES unless mayAccess. */
export function checkAccess(c: PermCreds, n: PermSubject, may: number): void {
  if (!mayAccess(c, n, may)) throw linuxerr.EACCES;
}

/** isOwner: the caller owns n, or holds CAP_FOWNER. */
export function isOwner(c: PermCreds, n: PermSubject): boolean {
  return c.fsuid === n.uid || hasCap(c, CAP_FOWNER);
}

/** searchFast reports whether c may search any directory without looking at it. */
export function searchFast(c: PermCreds): boolean {
  return hasCap(c, CAP_DAC_OVERRIDE) || hasCap(c, CAP_DAC_READ_SEARCH);
}
