// Memory-mapping syscalls: argument decoding only; the MemoryManager
// (src/sentry/mm) validates, decides and applies.

import * as linuxerr from '../../../abi/linux/errno.js';
import { O_PATH, S_IFMT, S_IFREG } from '../../../abi/linux/file.js';
import * as m from '../../../abi/linux/mm.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Task } from '../../kernel/task.js';
import type { FileDescription } from '../../vfs/file_description.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial, supported } from '../syscalls.js';

const RLIMIT_DATA = 2;
const RLIMIT_AS = 9;
const MLOCK_ONFAULT = 1;
const MCL_CURRENT = 1;
const MCL_FUTURE = 2;
const MCL_ONFAULT = 4;

/** mmap implements Linux syscall mmap(2). */
export function mmap(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(0);
  const length = a.sizeT(1);
  const prot = a.int(2);
  const flags = a.int(3);
  const fd = a.int(4);
  const offset = a.int64(5);
  if (offset % m.PAGE_SIZE !== 0) throw linuxerr.EINVAL;
  let file: FileDescription | null = null;
  if (!(flags & m.MAP_ANONYMOUS)) {
    file = t.fdTable.get(fd);
    if (file.flags & O_PATH) throw linuxerr.EBADF;
    const type = flags & m.MAP_TYPE;
    if ((type === m.MAP_SHARED || type === m.MAP_SHARED_VALIDATE) && !file.impl.mappable?.()) {
      try {
        if ((file.stat().mode & S_IFMT) === S_IFREG) {
          t.kernel.log.warnOnce('mmap-shared-nohost', `mmap: MAP_SHARED of a file with no host fd (${file.path}): ENODEV`);
        }
      } catch {
        // stat failing here only loses the log line; mmap reports the error.
      }
    }
  }
  if (anonHuge(flags)) t.kernel.log.warnOnce('mmap-hugetlb', 'mmap: MAP_HUGETLB is not supported: ENOMEM');
  return t.mm.mmap({ addr, length, prot, flags, file, offset, asLimit: t.tg.rlimits[RLIMIT_AS][0] });
}

function anonHuge(flags: number): boolean {
  return (flags & (m.MAP_HUGETLB | m.MAP_ANONYMOUS)) === (m.MAP_HUGETLB | m.MAP_ANONYMOUS);
}

/** munmap implements Linux syscall munmap(2). */
export function munmap(t: Task, a: SyscallArgs): number {
  t.mm.munmap(a.ptr(0), a.sizeT(1));
  return 0;
}

/** mprotect implements Linux syscall mprotect(2). */
export function mprotect(t: Task, a: SyscallArgs): number {
  t.mm.mprotect(a.ptr(0), a.sizeT(1), a.int(2));
  return 0;
}

/** pkeyMprotect implements Linux syscall pkey_mprotect(2) for pkey -1 (no protection keys are ever allocated). */
export function pkeyMprotect(t: Task, a: SyscallArgs): number {
  if (a.int(3) !== -1) throw linuxerr.EINVAL;
  t.mm.mprotect(a.ptr(0), a.sizeT(1), a.int(2));
  return 0;
}

/** brk implements Linux syscall brk(2). */
export function brk(t: Task, a: SyscallArgs): number {
  return t.mm.brk(a.ptr(0), t.tg.rlimits[RLIMIT_AS][0], t.tg.rlimits[RLIMIT_DATA][0]);
}

/** mremap implements Linux syscall mremap(2). */
export function mremap(t: Task, a: SyscallArgs): number {
  const oldAddr = a.ptr(0);
  const oldLen = a.sizeT(1);
  const newLen = a.sizeT(2);
  const flags = a.u64(3);
  const newAddr = a.ptr(4);
  if (flags > 0xffn) throw linuxerr.EINVAL;
  return t.mm.mremap(oldAddr, oldLen, newLen, Number(flags), newAddr, t.tg.rlimits[RLIMIT_AS][0]);
}

/** madvise implements Linux syscall madvise(2). */
export function madvise(t: Task, a: SyscallArgs): number {
  t.mm.madvise(a.ptr(0), a.sizeT(1), a.int(2));
  return 0;
}

/** msync implements Linux syscall msync(2). */
export function msync(t: Task, a: SyscallArgs): number {
  t.mm.msync(a.ptr(0), a.sizeT(1), a.int(2));
  return 0;
}

/** mincore implements Linux syscall mincore(2). */
export function mincore(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(0);
  const len = a.sizeT(1);
  const vecAddr = a.ptr(2);
  const vec = t.mm.mincore(addr, len);
  t.mm.copyOut(vecAddr, vec);
  return 0;
}

/** checkLockRange validates an mlock-family range as Linux does (memory is never really locked). */
function checkLockRange(addr: number, len: number): void {
  if (addr + len < addr) throw linuxerr.EINVAL;
}

/** mlock implements Linux syscall mlock(2) as a no-op: the host may page guest memory. */
export function mlock(t: Task, a: SyscallArgs): number {
  void t;
  checkLockRange(a.ptr(0), a.sizeT(1));
  return 0;
}

/** mlock2 implements Linux syscall mlock2(2) as a no-op. */
export function mlock2(t: Task, a: SyscallArgs): number {
  void t;
  if (a.int(2) & ~MLOCK_ONFAULT) throw linuxerr.EINVAL;
  checkLockRange(a.ptr(0), a.sizeT(1));
  return 0;
}

/** munlock implements Linux syscall munlock(2) as a no-op. */
export function munlock(t: Task, a: SyscallArgs): number {
  void t;
  checkLockRange(a.ptr(0), a.sizeT(1));
  return 0;
}

/** mlockall implements Linux syscall mlockall(2) as a no-op (after Linux's flag checks). */
export function mlockall(t: Task, a: SyscallArgs): number {
  void t;
  const flags = a.int(0);
  if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags === MCL_ONFAULT) throw linuxerr.EINVAL;
  return 0;
}

/** munlockall implements Linux syscall munlockall(2) as a no-op. */
export function munlockall(t: Task, a: SyscallArgs): number {
  void t;
  void a;
  return 0;
}

export const syscalls: SyscallEntries = {
  [SYSNO.mmap]: partial('mmap', mmap, 'MAP_SHARED of files without a host fd (ENODEV); MAP_HUGETLB (ENOMEM)'),
  [SYSNO.munmap]: supported('munmap', munmap),
  [SYSNO.mprotect]: supported('mprotect', mprotect),
  [SYSNO.pkey_mprotect]: partial('pkey_mprotect', pkeyMprotect, 'only pkey -1 (no keys are ever allocated)'),
  [SYSNO.brk]: supported('brk', brk),
  [SYSNO.mremap]: supported('mremap', mremap),
  [SYSNO.madvise]: partial('madvise', madvise, 'paging hints are accepted and ignored; MADV_GUARD_* and HWPOISON are EINVAL'),
  [SYSNO.msync]: supported('msync', msync),
  [SYSNO.mincore]: supported('mincore', mincore),
  [SYSNO.mlock]: partial('mlock', mlock, 'no-op: memory is never locked'),
  [SYSNO.mlock2]: partial('mlock2', mlock2, 'no-op: memory is never locked'),
  [SYSNO.munlock]: partial('munlock', munlock, 'no-op'),
  [SYSNO.mlockall]: partial('mlockall', mlockall, 'no-op: memory is never locked'),
  [SYSNO.munlockall]: partial('munlockall', munlockall, 'no-op'),
};
