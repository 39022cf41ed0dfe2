// eventfd: a file holding a 64-bit counter (eventfd(2)). A write adds to it
// (waiting while the sum would exceed 2^64-2); a read returns the counter and
// zeroes it, or with EFD_SEMAPHORE returns 1 and decrements it (waiting
// while it is 0). Readable when non-zero, writable while another 1 fits.

import * as linuxerr from '../../../abi/linux/errno.js';
import { FileDescription } from '../../vfs/file_description.js';
import type { FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import { allocAnonDev } from '../../vfs/inode.js';
import { EVENT_ERR, EVENT_IN, EVENT_OUT, WaitQueue } from '../../vfs/waiter.js';

export const EFD_SEMAPHORE = 1;
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;
const O_RDWR = 2;
const MAX = 0xffff_ffff_ffff_fffen;

// Linux backs every anonymous-inode file (eventfd, timerfd, epoll...) with one
// shared inode: mode 0600 without a file type, owned by root.
const ANON_DEV = allocAnonDev();
const ANON_INO = 1;
const EPOCH = { sec: 0, nsec: 0 };

/** anonInodeStat is what fstat reports for a file on the anonymous inode. */
export function anonInodeStat(): Stat {
  return {
    dev: ANON_DEV, ino: ANON_INO, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096,
    blocks: 0, atime: EPOCH, mtime: EPOCH, ctime: EPOCH,
  };
}

export class EventFile implements FileDescriptionImpl {
  readonly waitQueue = new WaitQueue();
  private count: bigint;
  readonly semaphore: boolean;

  constructor(initval: number, semaphore: boolean) {
    this.count = BigInt(initval);
    this.semaphore = semaphore;
  }

  /** counter is the current value (for /proc fdinfo). */
  get counter(): bigint {
    return this.count;
  }

  read(_fd: FileDescription, dst: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    if (dst.length < 8) throw linuxerr.EINVAL;
    if (this.count === 0n) throw linuxerr.EAGAIN;
    const v = this.semaphore ? 1n : this.count;
    this.count -= v;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, v, true);
    this.waitQueue.notify(EVENT_OUT);
    return 8;
  }

  write(_fd: FileDescription, src: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    if (src.length < 8) throw linuxerr.EINVAL;
    const v = new DataView(src.buffer, src.byteOffset, 8).getBigUint64(0, true);
    if (v === 0xffff_ffff_ffff_ffffn) throw linuxerr.EINVAL;
    if (v > MAX - this.count) throw linuxerr.EAGAIN;
    this.count += v;
    if (v > 0n) this.waitQueue.notify(EVENT_IN);
    return 8;
  }

  /** seek: eventfds have no position; Linux's noop_llseek reports 0. */
  seek(): number {
    return 0;
  }

  readiness(mask: number): number {
    let r = 0;
    if (this.count > 0n) r |= EVENT_IN;
    if (this.count < MAX) r |= EVENT_OUT;
    if (this.count === 0xffff_ffff_ffff_ffffn) r |= EVENT_ERR;
    return r & (mask | EVENT_ERR);
  }

  stat(): Stat {
    return anonInodeStat();
  }
}

/** newEventFD creates an eventfd description; flags may hold EFD_SEMAPHORE,
 *  EFD_NONBLOCK and EFD_CLOEXEC (the caller handles the latter). */
export function newEventFD(initval: number, flags: number): FileDescription {
  const impl = new EventFile(initval, (flags & EFD_SEMAPHORE) !== 0);
  return new FileDescription(impl, O_RDWR | (flags & EFD_NONBLOCK), 'anon_inode:[eventfd]');
}
