// An open host regular file. The host fd is opened on first use (an
// open+close that never reads costs no host call) and cached for the
// description's lifetime; reads are synchronous preads on it.

import * as linux from '../../../abi/linux/file.js';
import type { AddressSpace, HostFile } from '../../../platform/platform.js';
import type { FileDescription, FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import type { Inode } from '../../vfs/inode.js';
import { seekPosition } from '../../vfs/impls.js';
import type { HostNode } from './hostfs.js';

export class HostFileImpl implements FileDescriptionImpl {
  readonly node: HostNode;
  private readonly statAs: Inode;
  private readonly hostFlags: number;
  private fd = -1;
  /** One HostFile per description: the platform caches what it passed to the stub by identity. */
  private readonly hostFile: HostFile;

  constructor(node: HostNode, statAs: Inode, flags: number) {
    this.node = node;
    this.statAs = statAs;
    // Read-only trees are only ever opened for reading.
    this.hostFlags = node.fs.readonly ? linux.O_RDONLY : flags & (linux.O_ACCMODE | linux.O_APPEND);
    this.hostFile = { hostFd: () => this.hostFd(), stable: node.fs.readonly && node.fs.cache };
  }

  /** hostFd opens the host file on first use. */
  hostFd(): number {
    if (this.fd < 0) this.fd = this.node.fs.host.open(this.node.hostPath, this.hostFlags);
    return this.fd;
  }

  read(fd: FileDescription, dst: Uint8Array, offset: number): number {
    const pos = offset < 0 ? fd.offset : offset;
    const n = this.node.fs.host.pread(this.hostFd(), dst, pos);
    if (offset < 0) fd.offset = pos + n;
    return n;
  }

  /** readGuest reads up to len bytes at offset (-1: the position) into guest
   *  memory at addr through the platform (as.preadInto); returns the count or
   *  -errno, or null when the platform cannot. */
  readGuest(fd: FileDescription, as: AddressSpace, addr: number, len: number, offset: number): number | null {
    if (!as.preadInto) return null;
    const pos = offset < 0 ? fd.offset : offset;
    const n = as.preadInto(this.hostFile, addr, len, pos);
    if (n > 0 && offset < 0) fd.offset = pos + n;
    return n;
  }

  write(fd: FileDescription, src: Uint8Array, offset: number): number {
    const h = this.node.fs.host;
    if (fd.flags & linux.O_APPEND) {
      const n = h.append(this.hostFd(), src);
      if (offset < 0) fd.offset = h.fstat(this.fd).size;
      return n;
    }
    const pos = offset < 0 ? fd.offset : offset;
    const n = h.pwrite(this.hostFd(), src, pos);
    if (offset < 0) fd.offset = pos + n;
    return n;
  }

  private size(): number {
    if (this.node.fs.cache) return this.node.st.size;
    return this.node.fs.host.fstat(this.hostFd()).size;
  }

  seek(fd: FileDescription, offset: number, whence: number): number {
    const size = whence === linux.SEEK_SET || whence === linux.SEEK_CUR ? 0 : this.size();
    fd.offset = seekPosition(fd.offset, offset, whence, size);
    return fd.offset;
  }

  stat(): Stat {
    return this.statAs.stat();
  }

  truncate(fd: FileDescription, size: number): void {
    void fd;
    this.node.fs.host.ftruncate(this.hostFd(), size);
  }

  sync(): void {
    if (this.fd >= 0 && !this.node.fs.readonly) this.node.fs.host.fsync(this.fd);
  }

  mappable(): HostFile {
    return this.hostFile;
  }

  release(): void {
    if (this.fd >= 0) this.node.fs.host.close(this.fd);
    this.fd = -1;
  }
}
