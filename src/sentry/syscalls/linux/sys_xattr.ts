// Extended attributes: getxattr(2), setxattr(2), listxattr(2),
// removexattr(2), each by path, by path without following a final symlink
// (l*), and by fd (f*). The checks are in vfs/xattr.ts.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Task } from '../../kernel/task.js';
import { locOfFD } from '../../vfs/anon.js';
import type { Loc } from '../../vfs/mount.js';
import * as xattr from '../../vfs/xattr.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial } from '../syscalls.js';

type Kind = 'path' | 'lpath' | 'fd';

/** target resolves argument 0: a path (following a final symlink or not) or an fd. */
function target(t: Task, a: SyscallArgs, kind: Kind): Loc {
  if (kind === 'fd') {
    const f = t.fdTable.get(a.int(0));
    if (f.flags & linux.O_PATH) throw linuxerr.EBADF;
    return locOfFD(f);
  }
  return t.kernel.vfs.lookup(t, linux.AT_FDCWD, t.mm.copyInString(a.ptr(0)), kind === 'path');
}

function nameArg(t: Task, addr: number): string {
  let name: string;
  try {
    name = t.mm.copyInString(addr, xattr.XATTR_NAME_MAX + 1);
  } catch (e) {
    throw e === linuxerr.ENAMETOOLONG ? linuxerr.ERANGE : e;
  }
  if (name === '' || name.length > xattr.XATTR_NAME_MAX) throw linuxerr.ERANGE;
  return name;
}

function doGet(t: Task, a: SyscallArgs, kind: Kind): number {
  const nameAddr = a.ptr(1);
  const buf = a.ptr(2);
  const size = Math.min(a.sizeT(3), xattr.XATTR_SIZE_MAX);
  const loc = target(t, a, kind);
  const v = xattr.getxattr(t, loc, nameArg(t, nameAddr));
  if (size === 0) return v.length;
  if (v.length > size) throw linuxerr.ERANGE;
  t.mm.copyOut(buf, v);
  return v.length;
}

function doSet(t: Task, a: SyscallArgs, kind: Kind): number {
  const nameAddr = a.ptr(1);
  const valAddr = a.ptr(2);
  const size = a.sizeT(3);
  const flags = a.int(4);
  if (flags & ~(xattr.XATTR_CREATE | xattr.XATTR_REPLACE)) throw linuxerr.EINVAL;
  const name = nameArg(t, nameAddr);
  if (size > xattr.XATTR_SIZE_MAX) throw linuxerr.E2BIG;
  const value = size ? t.mm.copyIn(valAddr, size) : new Uint8Array(0);
  xattr.setxattr(t, target(t, a, kind), name, value, flags);
  return 0;
}

function doList(t: Task, a: SyscallArgs, kind: Kind): number {
  const buf = a.ptr(1);
  const size = Math.min(a.sizeT(2), xattr.XATTR_LIST_MAX);
  const names = xattr.listxattr(t, target(t, a, kind));
  const bytes = new TextEncoder().encode(names.map((n) => n + '\0').join(''));
  if (bytes.length > xattr.XATTR_LIST_MAX) throw linuxerr.E2BIG;
  if (size === 0) return bytes.length;
  if (bytes.length > size) throw linuxerr.ERANGE;
  t.mm.copyOut(buf, bytes);
  return bytes.length;
}

function doRemove(t: Task, a: SyscallArgs, kind: Kind): number {
  const nameAddr = a.ptr(1);
  const loc = target(t, a, kind);
  xattr.removexattr(t, loc, nameArg(t, nameAddr));
  return 0;
}

/** getxattr implements Linux syscall getxattr(2). */
export function getxattr(t: Task, a: SyscallArgs): number {
  return doGet(t, a, 'path');
}

/** lgetxattr implements Linux syscall lgetxattr(2). */
export function lgetxattr(t: Task, a: SyscallArgs): number {
  return doGet(t, a, 'lpath');
}

/** fgetxattr implements Linux syscall fgetxattr(2). */
export function fgetxattr(t: Task, a: SyscallArgs): number {
  return doGet(t, a, 'fd');
}

/** setxattr implements Linux syscall setxattr(2). */
export function setxattr(t: Task, a: SyscallArgs): number {
  return doSet(t, a, 'path');
}

/** lsetxattr implements Linux syscall lsetxattr(2). */
export function lsetxattr(t: Task, a: SyscallArgs): number {
  return doSet(t, a, 'lpath');
}

/** fsetxattr implements Linux syscall fsetxattr(2). */
export function fsetxattr(t: Task, a: SyscallArgs): number {
  return doSet(t, a, 'fd');
}

/** listxattr implements Linux syscall listxattr(2). */
export function listxattr(t: Task, a: SyscallArgs): number {
  return doList(t, a, 'path');
}

/** llistxattr implements Linux syscall llistxattr(2). */
export function llistxattr(t: Task, a: SyscallArgs): number {
  return doList(t, a, 'lpath');
}

/** flistxattr implements Linux syscall flistxattr(2). */
export function flistxattr(t: Task, a: SyscallArgs): number {
  return doList(t, a, 'fd');
}

/** removexattr implements Linux syscall removexattr(2). */
export function removexattr(t: Task, a: SyscallArgs): number {
  return doRemove(t, a, 'path');
}

/** lremovexattr implements Linux syscall lremovexattr(2). */
export function lremovexattr(t: Task, a: SyscallArgs): number {
  return doRemove(t, a, 'lpath');
}

/** fremovexattr implements Linux syscall fremovexattr(2). */
export function fremovexattr(t: Task, a: SyscallArgs): number {
  return doRemove(t, a, 'fd');
}

const NOTE = 'stored on tmpfs and the overlay upper layer; host (lower) files show none; system.* (ACLs) is EOPNOTSUPP';

export const syscalls: SyscallEntries = {
  [SYSNO.getxattr]: partial('getxattr', getxattr, NOTE),
  [SYSNO.lgetxattr]: partial('lgetxattr', lgetxattr, NOTE),
  [SYSNO.fgetxattr]: partial('fgetxattr', fgetxattr, NOTE),
  [SYSNO.setxattr]: partial('setxattr', setxattr, NOTE),
  [SYSNO.lsetxattr]: partial('lsetxattr', lsetxattr, NOTE),
  [SYSNO.fsetxattr]: partial('fsetxattr', fsetxattr, NOTE),
  [SYSNO.listxattr]: partial('listxattr', listxattr, NOTE),
  [SYSNO.llistxattr]: partial('llistxattr', llistxattr, NOTE),
  [SYSNO.flistxattr]: partial('flistxattr', flistxattr, NOTE),
  [SYSNO.removexattr]: partial('removexattr', removexattr, NOTE),
  [SYSNO.lremovexattr]: partial('lremovexattr', lremovexattr, NOTE),
  [SYSNO.fremovexattr]: partial('fremovexattr', fremovexattr, NOTE),
};
