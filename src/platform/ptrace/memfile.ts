// The guest memory file: one memfd per sandbox that backs the guests'
// private anonymous memory. Stubs map ranges of it (MAP_SHARED) where the
// guest asked for anonymous memory, and the Sentry maps all of it once, so
// copying to and from guest memory is a memcpy in the Sentry rather than a
// process_vm_readv/writev (which pins the guest's pages on every call).
// gVisor keeps guest memory the same way (its "memory file").
//
// Copy-on-write across fork is kept by the host: before a fork the parent's
// shared ranges are remapped MAP_PRIVATE (subprocess.ts), so parent and
// child read the same file pages and get private copies when they write.

import { closeSync, fstatSync, ftruncateSync } from 'node:fs';
import type { HostFile } from '../platform.js';
import { MemFileSpace } from './memfile_space.js';
import { native } from './native.js';

/** Sizes tried for the file and the Sentry's mapping of it (sparse; only touched pages cost memory). */
const SIZES = [4 * 2 ** 40, 2 ** 40, 2 ** 38, 2 ** 36];
const MFD_CLOEXEC = 1;
/** MFD_EXEC (Linux 6.3): guests map their memory executable (JITs), whatever vm.memfd_noexec says. */
const MFD_EXEC = 0x10;

export class MemoryFile implements HostFile {
  readonly fd: number;
  /** base is the Sentry's address of offset 0. */
  readonly base: number;
  readonly space: MemFileSpace;

  private constructor(fd: number, base: number, size: number) {
    this.fd = fd;
    this.base = base;
    this.space = new MemFileSpace(size);
    this.space.onRelease = (off, len) => {
      // Give the pages back to the host. Nothing maps the range any more.
      native.punchHole(this.fd, off, len);
    };
  }

  /** create makes the file and maps it, or returns null when the host refuses
   *  (guest memory then stays host anonymous memory, copied the slow way). */
  static create(): MemoryFile | null {
    if (process.env.TSVISOR_NO_MEMFILE === '1') return null;
    let fd = native.memfdCreate('tsvisor-memory', MFD_CLOEXEC | MFD_EXEC);
    if (fd === -22 /* EINVAL: a kernel before 6.3 */) fd = native.memfdCreate('tsvisor-memory', MFD_CLOEXEC);
    if (fd < 0) return null;
    for (const size of SIZES) {
      try {
        ftruncateSync(fd, size);
      } catch {
        continue;
      }
      const base = native.memMap(fd, size);
      if (base > 0) return new MemoryFile(fd, base, size);
    }
    closeSync(fd);
    return null;
  }

  /** resident returns the bytes of guest memory the file holds now (its allocated blocks). */
  resident(): number {
    try {
      return fstatSync(this.fd).blocks * 512;
    } catch {
      return 0;
    }
  }

  hostFd(): number {
    return this.fd;
  }
}
