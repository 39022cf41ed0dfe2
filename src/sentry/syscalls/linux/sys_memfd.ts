// memfd_create(2): an anonymous regular file in the kernel's internal tmpfs
// (Linux's shmem mount), mappable MAP_SHARED like any tmpfs file.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { TmpfsFileImpl } from '../../fsimpl/tmpfs/regular_file.js';
import { Tmpfs, TmpfsFile } from '../../fsimpl/tmpfs/tmpfs.js';
import type { Task } from '../../kernel/task.js';
import { FileDescription } from '../../vfs/file_description.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial } from '../syscalls.js';
import { nofile } from './sys_pipe.js';

export const MFD_CLOEXEC = 0x1;
export const MFD_ALLOW_SEALING = 0x2;
export const MFD_HUGETLB = 0x4;
export const MFD_NOEXEC_SEAL = 0x8;
export const MFD_EXEC = 0x10;
/** The longest name: NAME_MAX less the "memfd:" prefix. */
const MFD_NAME_MAX = 249;

let internal: Tmpfs | null = null;

/** shmemFS is the internal tmpfs that holds memfds and SysV shared memory
 *  (never mounted, so no path reaches it). Its size is the sandbox budget's. */
export function shmemFS(): Tmpfs {
  internal ??= new Tmpfs({ type: 'tmpfs', source: 'shmem' });
  return internal;
}

/** newShmemFile makes an unlinked file in the internal tmpfs and opens it
 *  with flags (O_RDWR or O_RDONLY), as path for /proc/[pid]/fd and maps. */
export function newShmemFile(t: Task, mode: number, flags: number, path: string): { file: TmpfsFile; fd: FileDescription } {
  const fs = shmemFS();
  const file = new TmpfsFile(fs, linux.S_IFREG | (mode & 0o7777), t.creds.euid, t.creds.egid);
  file.nlink = 0;
  return { file, fd: openShmemFile(file, flags, path) };
}

/** openShmemFile opens another description of an internal file. */
export function openShmemFile(file: TmpfsFile, flags: number, path: string): FileDescription {
  return new FileDescription(new TmpfsFileImpl(file, file), flags | linux.O_LARGEFILE, path);
}

/** memfdCreate implements Linux syscall memfd_create(2). */
export function memfdCreate(t: Task, a: SyscallArgs): number {
  const nameAddr = a.ptr(0);
  const flags = a.uint(1);
  if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC)) throw linuxerr.EINVAL;
  if ((flags & MFD_EXEC) && (flags & MFD_NOEXEC_SEAL)) throw linuxerr.EINVAL;
  if (flags & MFD_HUGETLB) {
    // No huge pages are reserved in the sandbox (as mmap's MAP_HUGETLB).
    t.kernel.log.warnOnce('memfd:hugetlb', 'memfd_create MFD_HUGETLB: no huge pages (EINVAL)');
    throw linuxerr.EINVAL;
  }
  let name: string;
  try {
    name = t.mm.copyInString(nameAddr, MFD_NAME_MAX);
  } catch (e) {
    throw e === linuxerr.ENAMETOOLONG ? linuxerr.EINVAL : e;
  }
  if (flags & MFD_ALLOW_SEALING) {
    t.kernel.log.warnOnce('memfd:seals', 'memfd_create MFD_ALLOW_SEALING: seals are not supported (F_ADD_SEALS fails with EINVAL)');
  }
  const mode = flags & MFD_NOEXEC_SEAL ? 0o666 : 0o777;
  const { fd } = newShmemFile(t, mode, linux.O_RDWR, `/memfd:${name} (deleted)`);
  try {
    return t.fdTable.newFD(fd, (flags & MFD_CLOEXEC) !== 0, 0, nofile(t));
  } finally {
    fd.decRef(); // the table holds the reference now (or nobody does)
  }
}

export const syscalls: SyscallEntries = {
  [SYSNO.memfd_create]: partial('memfd_create', memfdCreate, 'no file seals, no MFD_HUGETLB'),
};
