// FDTable maps a process's file descriptors to open file descriptions, with
// the close-on-exec flag per fd. Shared between tasks created with CLONE_FILES,
// copied otherwise. Every method is synchronous: the table's invariants never
// span an await.

import * as linuxerr from '../../abi/linux/errno.js';
import type { FileDescription } from '../vfs/file_description.js';
import { sandboxLimits } from './limits.js';

interface Slot {
  file: FileDescription;
  cloexec: boolean;
}

/** The default RLIMIT_NOFILE, as Linux sets it. */
export const DEFAULT_NOFILE = 1024;

export class FDTable {
  private slots: (Slot | undefined)[] = [];
  /** Lowest fd that may be free (a search hint). */
  private hint = 0;
  /** count is the number of open fds, charged to the sandbox's fd limit. */
  count = 0;

  /** get returns the file at fd, or throws EBADF. */
  get(fd: number): FileDescription {
    const s = fd >= 0 ? this.slots[fd] : undefined;
    if (!s) throw linuxerr.EBADF;
    return s.file;
  }

  /** lookup returns the file at fd, or undefined. */
  lookup(fd: number): FileDescription | undefined {
    return fd >= 0 ? this.slots[fd]?.file : undefined;
  }

  getCloexec(fd: number): boolean {
    const s = this.slots[fd];
    if (!s) throw linuxerr.EBADF;
    return s.cloexec;
  }

  setCloexec(fd: number, on: boolean): void {
    const s = this.slots[fd];
    if (!s) throw linuxerr.EBADF;
    s.cloexec = on;
  }

  /** newFD installs file at the lowest free fd >= min, taking a new reference. */
  newFD(file: FileDescription, cloexec: boolean, min = 0, limit = DEFAULT_NOFILE): number {
    let fd = Math.max(min, min === 0 ? this.hint : min);
    while (this.slots[fd]) fd++;
    if (fd >= limit) throw linuxerr.EMFILE;
    // Past the sandbox-wide cap: ENFILE, as Linux past file-max.
    if (!sandboxLimits().chargeFiles(1)) throw linuxerr.ENFILE;
    this.count++;
    file.incRef();
    this.slots[fd] = { file, cloexec };
    if (min === 0) this.hint = fd + 1;
    return fd;
  }

  /** setAt installs file at exactly fd (dup2 semantics), closing what was there. */
  setAt(fd: number, file: FileDescription, cloexec: boolean, limit = DEFAULT_NOFILE): void {
    if (fd < 0 || fd >= limit) throw linuxerr.EBADF;
    const old = this.slots[fd];
    if (!old) {
      if (!sandboxLimits().chargeFiles(1)) throw linuxerr.ENFILE;
      this.count++;
    }
    file.incRef();
    this.slots[fd] = { file, cloexec };
    old?.file.decRef();
  }

  /** remove closes fd; throws EBADF if it is not open. */
  remove(fd: number): void {
    const s = fd >= 0 ? this.slots[fd] : undefined;
    if (!s) throw linuxerr.EBADF;
    this.slots[fd] = undefined;
    this.count--;
    sandboxLimits().unchargeFiles(1);
    if (fd < this.hint) this.hint = fd;
    s.file.decRef();
  }

  /** closeRange closes every open fd in [first, last]; with cloexecOnly it sets FD_CLOEXEC instead. */
  closeRange(first: number, last: number, cloexecOnly = false): void {
    const end = Math.min(last, this.slots.length - 1);
    for (let fd = first; fd <= end; fd++) {
      const s = this.slots[fd];
      if (!s) continue;
      if (cloexecOnly) s.cloexec = true;
      else this.remove(fd);
    }
  }

  /** onExec closes every close-on-exec fd. */
  onExec(): void {
    for (let fd = 0; fd < this.slots.length; fd++) if (this.slots[fd]?.cloexec) this.remove(fd);
  }

  /** fork returns a copy sharing the same open file descriptions. */
  fork(): FDTable {
    const t = new FDTable();
    t.slots = this.slots.map((s) => {
      if (!s) return undefined;
      s.file.incRef();
      return { file: s.file, cloexec: s.cloexec };
    });
    t.hint = this.hint;
    // clone checked the cap before making host resources: charge unconditionally.
    t.count = this.count;
    sandboxLimits().openFiles += this.count;
    return t;
  }

  /** closeAll drops every fd (process exit). */
  closeAll(): void {
    for (let fd = 0; fd < this.slots.length; fd++) if (this.slots[fd]) this.remove(fd);
  }

  /** entries lists open fds in order, for /proc/self/fd. */
  *entries(): Generator<[number, FileDescription]> {
    for (let fd = 0; fd < this.slots.length; fd++) {
      const s = this.slots[fd];
      if (s) yield [fd, s.file];
    }
  }
}
