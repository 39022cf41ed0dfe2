// Character devices: the memory devices of major 1 (null, zero, full, random,
// urandom) and the terminal devices of major 5 (tty). devfs calls openDevice
// when one of its device nodes is opened.

import { randomFillSync } from 'node:crypto';
import * as linux from '../../../abi/linux/file.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import { PAGE_SIZE } from '../../../abi/linux/mm.js';
import type { Task } from '../../kernel/task.js';
import type { FileDescription, FileDescriptionImpl, Stat, Timespec } from '../../vfs/file_description.js';
import { PTMX_MAJOR, PTMX_MINOR, PTS_MAJOR, devptsOf } from '../devpts/devpts.js';
import { cttyOf } from '../devpts/terminal.js';
import { openStdioTty } from '../host/host_fd.js';
import { openSessionConsole } from '../devpts/console.js';

/** makedev packs a device number as Linux's new_encode_dev does. */
export function makedev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
}

/** DEVTMPFS_DEV is the st_dev devices report unless devfs supplies its own (0:5, like devtmpfs). */
export const DEVTMPFS_DEV = makedev(0, 5);

/** DeviceNode is what devfs may tell a device about the node it was opened through. */
export interface DeviceNode {
  dev?: number;
  ino?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  atime?: Timespec;
  mtime?: Timespec;
  ctime?: Timespec;
}

const bootTime = ((): Timespec => {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
})();

const enum Kind {
  Null,
  Zero,
  Full,
  Random,
}

/** MemDevice implements /dev/null, /dev/zero, /dev/full, /dev/random and /dev/urandom. */
export class MemDevice implements FileDescriptionImpl {
  private readonly kind: Kind;
  readonly major: number;
  readonly minor: number;
  /** node: devfs's inode data for stat; set at open or later. */
  node: DeviceNode;

  constructor(kind: Kind, major: number, minor: number, node: DeviceNode) {
    this.kind = kind;
    this.major = major;
    this.minor = minor;
    this.node = node;
  }

  read(_fd: FileDescription, dst: Uint8Array, _offset: number): number {
    switch (this.kind) {
      case Kind.Null:
        return 0;
      case Kind.Random:
        randomFillSync(dst);
        return dst.length;
      default:
        dst.fill(0);
        return dst.length;
    }
  }

  write(_fd: FileDescription, src: Uint8Array, _offset: number): number {
    if (this.kind === Kind.Full) throw linuxerr.ENOSPC;
    // Writes to random devices mix into the pool in Linux; here they are accepted and dropped.
    return src.length;
  }

  seek(fd: FileDescription, offset: number, whence: number): number {
    void offset; void whence;
    // null and full always report 0; zero and random leave the position alone (noop_llseek).
    if (this.kind === Kind.Null || this.kind === Kind.Full) return (fd.offset = 0);
    return fd.offset;
  }

  stat(): Stat {
    return deviceStat(this.major, this.minor, this.node);
  }
}

/** deviceStat is the stat of a device node: devfs's data where given, else devtmpfs-like defaults. */
export function deviceStat(major: number, minor: number, n: DeviceNode): Stat {
  return {
    dev: n.dev ?? DEVTMPFS_DEV, ino: n.ino ?? 0, mode: n.mode ?? (linux.S_IFCHR | 0o666), nlink: 1,
    uid: n.uid ?? 0, gid: n.gid ?? 0, rdev: makedev(major, minor), size: 0, blksize: PAGE_SIZE, blocks: 0,
    atime: n.atime ?? bootTime, mtime: n.mtime ?? bootTime, ctime: n.ctime ?? bootTime,
  };
}

/** openDevice opens character device (major, minor) for t; ENXIO if unknown.
 *  node (optional) gives the devfs node's identity for fstat. */
export function openDevice(t: Task, major: number, minor: number, flags: number, node: DeviceNode = {}): FileDescriptionImpl {
  if (major === 1) {
    switch (minor) {
      case 3:
        return new MemDevice(Kind.Null, major, minor, node);
      case 5:
        return new MemDevice(Kind.Zero, major, minor, node);
      case 7:
        return new MemDevice(Kind.Full, major, minor, node);
      case 8:
      case 9:
        return new MemDevice(Kind.Random, major, minor, node);
    }
  } else if (major === 5 && minor === 0 && cttyOf(t)) {
    // /dev/tty of a session whose controlling terminal is a pseudo-terminal.
    return cttyOf(t)!.openReplica(t, flags | linux.O_NOCTTY);
  } else if (major === PTMX_MAJOR && minor === PTMX_MINOR) {
    const pts = devptsOf(t);
    if (pts) return pts.openMaster(t, flags, () => deviceStat(major, minor, node));
  } else if (major >= PTS_MAJOR && major < PTS_MAJOR + 8) {
    const term = devptsOf(t)?.terminal(((major - PTS_MAJOR) << 20) | minor);
    if (!term) throw linuxerr.ENXIO;
    return term.openReplica(t, flags);
  } else if (major === 5 && minor === 0) {
    // /dev/tty: the controlling terminal: the session's console (a process
    // with a terminal: the container's, an exec'd one's), else the sandbox's stdio terminal.
    // fstat shows the /dev/tty node when devfs names it, else the host terminal.
    const stat = node.ino === undefined ? undefined : () => deviceStat(5, 0, node);
    return openSessionConsole(t.kernel.vfs, t.tg.sid, flags, stat) ?? openStdioTty(flags, stat);
  }
  t.kernel.log.warnOnce(`dev:${major}:${minor}`, `open of unsupported character device ${major}:${minor}`);
  throw linuxerr.ENXIO;
}
