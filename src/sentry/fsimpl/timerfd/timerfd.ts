// timerfd: a timer delivered through a file (timerfd_create(2)). Reading
// returns, as a u64, how many times the timer expired since the last read or
// setting, waiting while that is 0. Expirations are counted from the clock
// whenever the file is looked at, so a Node timer is needed only to wake
// waiters, and a late one loses nothing.

import * as linuxerr from '../../../abi/linux/errno.js';
import { armDeadline } from '../../kernel/time.js';
import { FileDescription } from '../../vfs/file_description.js';
import type { FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import { EVENT_IN, WaitQueue } from '../../vfs/waiter.js';
import { anonInodeStat } from '../eventfd/eventfd.js';

export const TFD_CLOEXEC = 0o2000000;
export const TFD_NONBLOCK = 0o4000;
export const TFD_TIMER_ABSTIME = 1;
export const TFD_TIMER_CANCEL_ON_SET = 2;
const O_RDWR = 2;

export class TimerFile implements FileDescriptionImpl {
  readonly waitQueue = new WaitQueue();
  /** now reads the timer's clock in ns. */
  readonly now: () => bigint;
  /** The next expiry (0n: disarmed) and the reload interval. */
  private deadline = 0n;
  private interval = 0n;
  /** Expirations not yet read. */
  private ticks = 0n;
  private cancel: (() => void) | null = null;

  constructor(now: () => bigint) {
    this.now = now;
  }

  /** update counts the expirations that are due. */
  private update(): void {
    if (this.deadline === 0n) return;
    const now = this.now();
    if (now < this.deadline) return;
    if (this.interval > 0n) {
      const n = (now - this.deadline) / this.interval + 1n;
      this.ticks += n;
      this.deadline += n * this.interval;
    } else {
      this.ticks += 1n;
      this.deadline = 0n;
    }
  }

  private arm(): void {
    this.cancel?.();
    this.cancel = null;
    if (this.deadline === 0n) return;
    this.cancel = armDeadline(this.now, this.deadline, () => {
      this.cancel = null;
      this.update();
      if (this.ticks > 0n) this.waitQueue.notify(EVENT_IN);
      this.arm();
    });
  }

  /** get returns the time to the next expiry (0: disarmed) and the interval. */
  get(): { value: bigint; interval: bigint } {
    this.update();
    if (this.deadline === 0n) return { value: 0n, interval: this.interval };
    const left = this.deadline - this.now();
    return { value: left > 0n ? left : 1n, interval: this.interval };
  }

  /** set arms the timer (value 0 disarms; absolute: value is a time on the
   *  clock) and forgets unread expirations. Returns the old setting. */
  set(value: bigint, interval: bigint, absolute: boolean): { value: bigint; interval: bigint } {
    const old = this.get();
    this.ticks = 0n;
    this.interval = interval;
    if (value === 0n) this.deadline = 0n;
    else this.deadline = absolute ? value : this.now() + value;
    this.update();
    this.arm();
    if (this.ticks > 0n) this.waitQueue.notify(EVENT_IN);
    return old;
  }

  read(_fd: FileDescription, dst: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    if (dst.length < 8) throw linuxerr.EINVAL;
    this.update();
    if (this.ticks === 0n) throw linuxerr.EAGAIN;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, BigInt.asUintN(64, this.ticks), true);
    this.ticks = 0n;
    return 8;
  }

  /** seek: no position; Linux's noop_llseek reports 0. */
  seek(): number {
    return 0;
  }

  readiness(mask: number): number {
    this.update();
    return this.ticks > 0n ? mask & EVENT_IN : 0;
  }

  stat(): Stat {
    return anonInodeStat();
  }

  release(): void {
    this.cancel?.();
    this.cancel = null;
    this.deadline = 0n;
  }
}

/** newTimerFD creates a timerfd description on the clock now() reads;
 *  flags may hold TFD_NONBLOCK (TFD_CLOEXEC is the caller's). */
export function newTimerFD(now: () => bigint, flags: number): FileDescription {
  return new FileDescription(new TimerFile(now), O_RDWR | (flags & TFD_NONBLOCK), 'anon_inode:[timerfd]');
}

/** timerOf returns the TimerFile behind a description, or null. */
export function timerOf(fd: FileDescription): TimerFile | null {
  return fd.impl instanceof TimerFile ? fd.impl : null;
}
