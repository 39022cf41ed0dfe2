// FileData holds a tmpfs regular file's bytes: in a growable Buffer while the
// file is small and unmapped (no host crossing per read or write), in a host
// memfd once it is mapped (the MM maps the memfd, so writes and MAP_SHARED
// mappings stay coherent) or grows large (sparse, outside the JS heap).

import { closeSync, ftruncateSync, readSync, writeSync } from 'node:fs';
import * as linuxerr from '../../../abi/linux/errno.js';
import { native } from '../../../platform/ptrace/native.js';
import { hostError } from '../hostfs/host_fs.js';

/** Files growing past this move to a memfd. */
const BUFFER_MAX = 64 << 20;
const MFD_CLOEXEC = 1;
const EMPTY = Buffer.alloc(0);

export class FileData {
  size = 0;
  private buf: Buffer = EMPTY;
  private fd = -1;
  /** hostFile is what the MM maps (one object: the platform caches by identity). */
  readonly hostFile = { hostFd: (): number => this.memfd() };

  get inMemfd(): boolean {
    return this.fd >= 0;
  }

  /** read copies up to dst.length bytes at pos into dst; returns the count. */
  read(dst: Uint8Array, pos: number): number {
    if (pos >= this.size) return 0;
    const n = Math.min(dst.length, this.size - pos);
    if (this.fd >= 0) {
      let done = 0;
      try {
        while (done < n) {
          const r = readSync(this.fd, dst, done, n - done, pos + done);
          if (r <= 0) break;
          done += r;
        }
      } catch (e) {
        throw hostError(e);
      }
      return done;
    }
    dst.set(this.buf.subarray(pos, pos + n));
    return n;
  }

  /** write stores src at pos, growing the file; returns src.length. */
  write(src: Uint8Array, pos: number): number {
    const end = pos + src.length;
    if (this.fd < 0 && end > BUFFER_MAX) this.toMemfd();
    if (this.fd >= 0) {
      let done = 0;
      try {
        while (done < src.length) done += writeSync(this.fd, src, done, src.length - done, pos + done);
      } catch (e) {
        throw hostError(e);
      }
    } else {
      this.reserve(end);
      this.buf.set(src, pos);
    }
    if (end > this.size) this.size = end;
    return src.length;
  }

  /** truncate sets the size; new bytes read as zeros. */
  truncate(n: number): void {
    if (this.fd < 0 && n > BUFFER_MAX) this.toMemfd();
    if (this.fd >= 0) {
      try {
        ftruncateSync(this.fd, n);
      } catch (e) {
        throw hostError(e);
      }
    } else if (n < this.size) {
      // Bytes past the size are kept zero, so growing again needs no clearing.
      if (n < this.buf.length >> 2) {
        const nb = n === 0 ? EMPTY : Buffer.alloc(n);
        this.buf.copy(nb, 0, 0, n);
        this.buf = nb;
      } else {
        this.buf.fill(0, n, this.size);
      }
    } else {
      this.reserve(n);
    }
    this.size = n;
  }

  private reserve(n: number): void {
    if (n <= this.buf.length) return;
    let cap = this.buf.length ? this.buf.length * 2 : 64;
    while (cap < n) cap *= 2;
    cap = Math.min(cap, Math.max(n, BUFFER_MAX));
    const nb = Buffer.alloc(cap);
    this.buf.copy(nb, 0, 0, this.size);
    this.buf = nb;
  }

  /** memfd moves the data to a memfd (once) and returns it, for mapping. */
  memfd(): number {
    if (this.fd < 0) this.toMemfd();
    return this.fd;
  }

  private toMemfd(): void {
    const fd = native.memfdCreate('tmpfs', MFD_CLOEXEC);
    if (fd < 0) throw linuxerr.fromErrno(-fd);
    try {
      ftruncateSync(fd, this.size);
      let done = 0;
      while (done < this.size) done += writeSync(fd, this.buf, done, this.size - done, done);
    } catch (e) {
      closeSync(fd);
      throw hostError(e);
    }
    this.fd = fd;
    this.buf = EMPTY;
  }

  /** release frees the data (the file is gone). */
  release(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.buf = EMPTY;
    this.size = 0;
  }
}
