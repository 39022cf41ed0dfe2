// getdents64 and getdents: directory listings in Linux's record formats. The
// listing and the cursor live on the open directory (vfs/impls.ts
// DirectoryImpl): fd.offset is the index of the next entry, and d_off of a
// record is the offset just after it, so lseek to a d_off resumes there.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import type { Task } from '../../kernel/task.js';
import type { DirEntry, FileDescription } from '../../vfs/file_description.js';
import { DirectoryImpl } from '../../vfs/impls.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { supported } from '../syscalls.js';

/** listing returns the entries getdents works through for f. */
function listing(f: FileDescription): DirEntry[] {
  if (f.flags & linux.O_PATH) throw linuxerr.EBADF;
  const impl = f.impl;
  if (impl instanceof DirectoryImpl) return impl.entries(f);
  if (impl.readdir) return impl.readdir(f);
  throw linuxerr.ENOTDIR;
}

function put64(v: DataView, off: number, n: number): void {
  v.setUint32(off, n % 0x1_0000_0000, true);
  v.setUint32(off + 4, Math.floor(n / 0x1_0000_0000), true);
}

/** fill encodes entries from f.offset into at most count bytes at addr; old selects struct linux_dirent. */
function fill(t: Task, f: FileDescription, addr: number, count: number, old: boolean): number {
  const entries = listing(f);
  const names: Buffer[] = [];
  const lens: number[] = [];
  let total = 0;
  let i = f.offset;
  for (; i < entries.length; i++) {
    const name = Buffer.from(entries[i].name);
    // linux_dirent64: ino, off, reclen, type, name, NUL; linux_dirent: ino, off, reclen, name, NUL, type.
    const reclen = (20 + name.length + 7) & ~7;
    if (total + reclen > count) break;
    names.push(name);
    lens.push(reclen);
    total += reclen;
  }
  if (names.length === 0) {
    if (i < entries.length) throw linuxerr.EINVAL;
    return 0;
  }
  const buf = new Uint8Array(total);
  const v = new DataView(buf.buffer);
  let off = 0;
  for (let k = 0; k < names.length; k++) {
    const e = entries[f.offset + k];
    const reclen = lens[k];
    put64(v, off, e.ino);
    put64(v, off + 8, f.offset + k + 1);
    v.setUint16(off + 16, reclen, true);
    if (old) {
      buf.set(names[k], off + 18);
      buf[off + reclen - 1] = e.type;
    } else {
      buf[off + 18] = e.type;
      buf.set(names[k], off + 19);
    }
    off += reclen;
  }
  t.mm.copyOut(addr, buf);
  f.offset += names.length;
  return total;
}

/** getdents64 implements Linux syscall getdents64(2). */
export function getdents64(t: Task, a: SyscallArgs): number {
  return fill(t, t.fdTable.get(a.int(0)), a.ptr(1), a.uint(2), false);
}

/** getdents implements Linux syscall getdents(2) (struct linux_dirent). */
export function getdents(t: Task, a: SyscallArgs): number {
  return fill(t, t.fdTable.get(a.int(0)), a.ptr(1), a.uint(2), true);
}

export const syscalls: SyscallEntries = {
  [SYSNO.getdents64]: supported('getdents64', getdents64),
  [SYSNO.getdents]: supported('getdents', getdents),
};
