// Device and FIFO nodes of any file system: opening one hands over to the
// device drivers (fsimpl/dev) or to pipefs, which keeps a FIFO's Pipe in the
// node for the node's lifetime.

import * as linuxerr from '../../abi/linux/errno.js';
import * as linux from '../../abi/linux/file.js';
import type { Pipe } from '../kernel/pipe/pipe.js';
import type { Task } from '../kernel/task.js';
import { openDevice } from '../fsimpl/dev/devices.js';
import { newFifoState, openFifo, openFifoBlocking } from '../fsimpl/pipefs/pipefs.js';
import type { Caller, Inode, Opened } from './inode.js';
import { devMajor, devMinor } from './inode.js';

/** SpecialNode is what a file system keeps for a device, FIFO or socket node. */
export interface SpecialNode {
  readonly mode: number;
  readonly rdev: number;
  /** For FIFOs: the pipe, made on first open. */
  fifo: Pipe | null;
}

/** isTask tells a real task from a plain Caller (tests). */
export function isTask(c: Caller): c is Task {
  return 'kernel' in c && 'tg' in c;
}

/** warnOnce logs msg once per key through the caller's kernel, if any. */
export function warnOnce(c: Caller, key: string, msg: string): void {
  if (isTask(c)) c.kernel.log.warnOnce(key, msg);
}

/** openSpecial opens a device or FIFO node; statAs is what fstat reports. A
 *  FIFO open waits for the other end only when wait is set (then it may
 *  return a promise). */
export function openSpecial(c: Caller, n: SpecialNode, flags: number, statAs: Inode, wait: boolean): Opened {
  switch (n.mode & linux.S_IFMT) {
    case linux.S_IFCHR:
      if (!isTask(c)) throw linuxerr.ENXIO;
      return openDevice(c, devMajor(n.rdev), devMinor(n.rdev), flags);
    case linux.S_IFIFO: {
      if (!isTask(c)) throw linuxerr.ENXIO;
      const fifo = (n.fifo ??= newFifoState());
      const opts = { stat: () => statAs.stat() };
      return wait ? openFifoBlocking(c, fifo, flags, opts) : openFifo(c, fifo, flags, opts);
    }
    default:
      // Block devices have no driver here; sockets are never opened (Linux: ENXIO).
      throw linuxerr.ENXIO;
  }
}
