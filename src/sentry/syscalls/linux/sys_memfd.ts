// memfd_create(2): an anonymous regular file in the kernel's internal tmpfs
// (Linux's shmem mount), mappable MAP_SHARED like any tmpfs file, and the
// fcntl seal commands (F_ADD_SEALS, F_GET_SEALS) on such files.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { PROT_WRITE } from '../../../abi/linux/mm.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { TmpfsFileImpl } from '../../fsimpl/tmpfs/regular_file.js';
import { F_SEAL_EXEC, addSeals } from '../../fsimpl/tmpfs/seals.js';
import { Tmpfs, TmpfsFile } from '../../fsimpl/tmpfs/tmpfs.js';
import type { Task } from '../../kernel/task.js';
import { FileDescription } from '../../vfs/file_description.js';
import { Mount } from '../../vfs/mount.js';
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
let internalMount: Mount | null = null;

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

/** shmemMount is the internal tmpfs's (never attached) mount: memfds have a
 *  place in it, so ftruncate, fallocate, fchmod and fexecve reach the inode. */
function shmemMount(): Mount {
  const fs = shmemFS();
  internalMount ??= new Mount(fs, fs.root, null, null, false);
  return internalMount;
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
  // vm.memfd_noexec is 0 in the sandbox: without a flag a memfd is executable.
  const mode = flags & MFD_NOEXEC_SEAL ? 0o666 : 0o777;
  const { file, fd } = newShmemFile(t, mode, linux.O_RDWR, `/memfd:${name} (deleted)`);
  // Linux 6.x: MFD_NOEXEC_SEAL seals the exec bits and allows sealing.
  if (flags & MFD_NOEXEC_SEAL) file.seals = F_SEAL_EXEC;
  else if (flags & MFD_ALLOW_SEALING) file.seals = 0;
  fd.dentry = { mnt: shmemMount(), node: file };
  try {
    return t.fdTable.newFD(fd, (flags & MFD_CLOEXEC) !== 0, 0, nofile(t));
  } finally {
    fd.decRef(); // the table holds the reference now (or nobody does)
  }
}

/** sealableFile returns the tmpfs file whose seals f's fcntl commands work on, or null. */
function sealableFile(f: FileDescription): TmpfsFile | null {
  const impl = f.impl;
  return impl instanceof TmpfsFileImpl && impl.sealable ? impl.file : null;
}

/** writablyMapped reports whether some address space maps file shared with
 *  write permission possible (Linux's i_mmap_writable: VM_SHARED|VM_MAYWRITE,
 *  whatever the current protection). */
function writablyMapped(t: Task, file: TmpfsFile): boolean {
  const seen = new Set<unknown>();
  for (const task of t.kernel.tasks.values()) {
    if (seen.has(task.mm)) continue;
    seen.add(task.mm);
    for (const v of task.mm.mappings()) {
      if (!v.shared || !(v.maxProt & PROT_WRITE)) continue;
      const impl = v.file?.impl;
      if (impl instanceof TmpfsFileImpl && impl.file === file) return true;
    }
  }
  return false;
}

/** fcntlAddSeals implements fcntl(fd, F_ADD_SEALS, seals) on f. */
export function fcntlAddSeals(t: Task, f: FileDescription, seals: number): number {
  if (!f.writable) throw linuxerr.EPERM;
  const file = sealableFile(f);
  if (!file) throw linuxerr.EINVAL;
  file.seals = addSeals(file.seals, seals >>> 0, file.mode, () => writablyMapped(t, file));
  return 0;
}

/** fcntlGetSeals implements fcntl(fd, F_GET_SEALS) on f. */
export function fcntlGetSeals(f: FileDescription): number {
  const file = sealableFile(f);
  if (!file) throw linuxerr.EINVAL;
  return file.seals;
}

export const syscalls: SyscallEntries = {
  [SYSNO.memfd_create]: partial('memfd_create', memfdCreate, 'no MFD_HUGETLB'),
};
