// pidfd: a file that refers to a process (pidfd_open(2)). It polls readable
// once the process has exited, names it for pidfd_send_signal(2) and
// waitid(P_PIDFD), and cannot be read.

import type { ThreadGroup } from '../../kernel/thread_group.js';
import { exitQueue } from '../../kernel/signals.js';
import type { FileDescription, FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import { allocAnonDev } from '../../vfs/inode.js';
import type { WaitQueue } from '../../vfs/waiter.js';
import { EVENT_IN } from '../../vfs/waiter.js';

const anonDev = allocAnonDev();

/** PidFD is the file behind a pidfd. */
export class PidFD implements FileDescriptionImpl {
  readonly tg: ThreadGroup;
  readonly waitQueue: WaitQueue = exitQueue;

  constructor(tg: ThreadGroup) {
    this.tg = tg;
  }

  /** exited: every thread of the process is gone (a zombie, or reaped). */
  get exited(): boolean {
    return this.tg.exiting && this.tg.tasks.size === 0;
  }

  readiness(mask: number): number {
    return this.exited ? mask & EVENT_IN : 0;
  }

  stat(): Stat {
    const t = { sec: 0, nsec: 0 };
    return { dev: anonDev, ino: this.tg.pid, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0,
      blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t };
  }
}

/** pidfdOf returns f's PidFD, or null if f is not a pidfd. */
export function pidfdOf(f: FileDescription): PidFD | null {
  return f.impl instanceof PidFD ? f.impl : null;
}
