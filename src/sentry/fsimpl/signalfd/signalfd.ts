// signalfd(2): a file whose reads take pending signals of a mask as struct
// signalfd_siginfo records, and which polls readable while one is pending.
// Linux reads the signals of the calling thread; file operations here do not
// know their caller, so a signalfd reads those of the thread that created it
// (or, once that thread is gone, of another thread of its process): the
// process-directed signals are the same either way.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as sig from '../../../abi/linux/signal.js';
import type { SigInfo } from '../../kernel/signals.js';
import { SI_KERNEL, SI_SIGIO, SI_TIMER, SI_USER, dequeue, encodeSigInfo, pendingOf, sighandQueue } from '../../kernel/signals.js';
import type { Task } from '../../kernel/task.js';
import { TaskState } from '../../kernel/task.js';
import type { FileDescription, FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import { allocAnonDev } from '../../vfs/inode.js';
import type { WaitQueue } from '../../vfs/waiter.js';
import { EVENT_IN } from '../../vfs/waiter.js';

/** sizeof(struct signalfd_siginfo). */
export const SIGNALFD_INFO_SIZE = 128;

const anonDev = allocAnonDev();
let nextIno = 1;

const enum Layout {
  Kill,
  Timer,
  Poll,
  Fault,
  Chld,
  Rt,
  Sys,
}

/** layout is Linux's siginfo_layout: which union member of siginfo_t is valid. */
function layout(signo: number, code: number): Layout {
  if (code > SI_USER && code < SI_KERNEL) {
    switch (signo) {
      case sig.SIGCHLD: return Layout.Chld;
      case sig.SIGSEGV: case sig.SIGBUS: case sig.SIGILL: case sig.SIGFPE: case sig.SIGTRAP: return Layout.Fault;
      case sig.SIGIO: return Layout.Poll;
      case sig.SIGSYS: return Layout.Sys;
      default: return Layout.Kill;
    }
  }
  if (code === SI_TIMER) return Layout.Timer;
  if (code === SI_SIGIO) return Layout.Poll;
  return code < 0 ? Layout.Rt : Layout.Kill;
}

/** encodeSignalfdInfo converts a pending signal into struct signalfd_siginfo (Linux's signalfd_copyinfo). */
export function encodeSignalfdInfo(i: SigInfo): Uint8Array {
  const si = new DataView(encodeSigInfo(i).buffer);
  const b = new Uint8Array(SIGNALFD_INFO_SIZE);
  const v = new DataView(b.buffer);
  const code = si.getInt32(8, true);
  v.setUint32(0, i.signo, true); // ssi_signo
  v.setInt32(4, si.getInt32(4, true), true); // ssi_errno
  v.setInt32(8, code, true); // ssi_code
  const pidUid = () => {
    v.setUint32(12, si.getUint32(16, true), true); // ssi_pid
    v.setUint32(16, si.getUint32(20, true), true); // ssi_uid
  };
  const value = () => {
    v.setBigUint64(48, si.getBigUint64(24, true), true); // ssi_ptr
    v.setInt32(44, si.getInt32(24, true), true); // ssi_int
  };
  switch (layout(i.signo, code)) {
    case Layout.Kill:
      pidUid();
      break;
    case Layout.Timer:
      v.setUint32(24, si.getUint32(16, true), true); // ssi_tid
      v.setUint32(32, si.getUint32(20, true), true); // ssi_overrun
      value();
      break;
    case Layout.Poll:
      v.setUint32(28, Number(si.getBigUint64(16, true) & 0xffff_ffffn), true); // ssi_band
      v.setInt32(20, si.getInt32(24, true), true); // ssi_fd
      break;
    case Layout.Fault:
      v.setBigUint64(72, si.getBigUint64(16, true), true); // ssi_addr
      break;
    case Layout.Chld:
      pidUid();
      v.setInt32(40, si.getInt32(24, true), true); // ssi_status
      v.setBigUint64(56, si.getBigUint64(32, true), true); // ssi_utime
      v.setBigUint64(64, si.getBigUint64(40, true), true); // ssi_stime
      break;
    case Layout.Rt:
      pidUid();
      value();
      break;
    case Layout.Sys:
      v.setBigUint64(88, si.getBigUint64(16, true), true); // ssi_call_addr
      v.setInt32(84, si.getInt32(24, true), true); // ssi_syscall
      v.setUint32(96, si.getUint32(28, true), true); // ssi_arch
      break;
  }
  return b;
}

/** SignalFD is the file behind a signalfd. */
export class SignalFD implements FileDescriptionImpl {
  /** The signals it reads (never SIGKILL or SIGSTOP). */
  mask: bigint;
  private readonly owner: Task;
  private readonly ino = nextIno++;
  readonly waitQueue: WaitQueue;

  constructor(owner: Task, mask: bigint) {
    this.owner = owner;
    this.mask = mask & ~sig.UNBLOCKABLE;
    this.waitQueue = sighandQueue(owner.tg);
  }

  /** reader is the thread whose signals the file reads. */
  private reader(): Task {
    if (this.owner.state !== TaskState.Dead) return this.owner;
    for (const t of this.owner.tg.tasks) if (t.state !== TaskState.Dead) return t;
    return this.owner;
  }

  read(_fd: FileDescription, dst: Uint8Array): number {
    if (dst.length < SIGNALFD_INFO_SIZE) throw linuxerr.EINVAL;
    const t = this.reader();
    let n = 0;
    while (n + SIGNALFD_INFO_SIZE <= dst.length) {
      const i = dequeue(t, this.mask);
      if (!i) break;
      dst.set(encodeSignalfdInfo(i), n);
      n += SIGNALFD_INFO_SIZE;
    }
    if (n === 0) throw linuxerr.EAGAIN;
    return n;
  }

  readiness(mask: number): number {
    return (pendingOf(this.reader()) & this.mask) !== 0n ? mask & EVENT_IN : 0;
  }

  stat(): Stat {
    const t = { sec: 0, nsec: 0 };
    return { dev: anonDev, ino: this.ino, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096,
      blocks: 0, atime: t, mtime: t, ctime: t };
  }
}

/** signalfdOf returns f's SignalFD, or null if f is not a signalfd. */
export function signalfdOf(f: FileDescription): SignalFD | null {
  return f.impl instanceof SignalFD ? f.impl : null;
}
