// An open tmpfs regular file. I/O never leaves the Sentry until the file is
// mapped (then it lives in a memfd; see file_data.ts).

import * as linux from '../../../abi/linux/file.js';
import type { HostFile } from '../../../platform/platform.js';
import type { FileDescription, FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import { kernelCaller } from '../../vfs/caller.js';
import type { Inode } from '../../vfs/inode.js';
import { now } from '../../vfs/inode.js';
import { seekPosition } from '../../vfs/impls.js';
import type { TmpfsFile } from './tmpfs.js';
import { writeSealed } from './seals.js';

/** TMPFS_MAGIC (tmpfs.ts has it too; importing it here would be circular). */
const TMPFS_MAGIC = 0x01021994;

export class TmpfsFileImpl implements FileDescriptionImpl {
  readonly file: TmpfsFile;
  /** statAs is what fstat reports (the overlay inode when under an overlay). */
  private readonly statAs: Inode;
  private released = false;

  constructor(file: TmpfsFile, statAs: Inode) {
    this.file = file;
    this.statAs = statAs;
    file.openCount++;
  }

  read(fd: FileDescription, dst: Uint8Array, offset: number): number {
    const pos = offset < 0 ? fd.offset : offset;
    const n = this.file.read(dst, pos);
    if (offset < 0) fd.offset = pos + n;
    return n;
  }

  write(fd: FileDescription, src: Uint8Array, offset: number): number {
    // O_APPEND writes at the end even for pwrite, as Linux does.
    const pos = fd.flags & linux.O_APPEND ? this.file.size : offset < 0 ? fd.offset : offset;
    const n = this.file.write(src, pos);
    if (offset < 0) fd.offset = pos + n;
    return n;
  }

  seek(fd: FileDescription, offset: number, whence: number): number {
    fd.offset = seekPosition(fd.offset, offset, whence, this.file.size);
    return fd.offset;
  }

  stat(): Stat {
    return this.statAs.stat();
  }

  truncate(fd: FileDescription, size: number): void {
    void fd;
    this.file.setattr(kernelCaller(), { size, mtime: now() });
  }

  sync(): void {}

  /** sealable reports whether fcntl's seal commands apply: a file of a real
   *  tmpfs (memfds are), not one seen through an overlay or sysfs. */
  get sealable(): boolean {
    return this.statAs === this.file && this.file.fs.magic === TMPFS_MAGIC;
  }

  /** writeSealed refuses new writable shared mappings (F_SEAL_WRITE, F_SEAL_FUTURE_WRITE). */
  writeSealed(): boolean {
    return writeSealed(this.file.seals);
  }

  mappable(): HostFile {
    return this.file.data.hostFile;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.file.closed();
  }
}
