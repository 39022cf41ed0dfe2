// Host file descriptions: a host fd the Sentry holds (the caller's stdio in
// `runsc do`) seen by the guest as an open file. Regular files are read and
// written synchronously at the description's offset. Streams (terminals,
// pipes, sockets) are read ahead asynchronously on the libuv thread pool so a
// read that would block never stalls the Sentry: a guest read takes buffered
// bytes or throws EAGAIN, and the completion wakes the wait queue. The
// caller's O_NONBLOCK is never changed.

import * as fs from 'node:fs';
import { isatty } from 'node:tty';
import * as linux from '../../../abi/linux/file.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import type { HostFile } from '../../../platform/platform.js';
import { native } from '../../../platform/ptrace/native.js';
import type { Task } from '../../kernel/task.js';
import { FileDescription } from '../../vfs/file_description.js';
import type { FileDescriptionImpl, Stat, Timespec } from '../../vfs/file_description.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, WaitQueue } from '../../vfs/waiter.js';
import { FIONREAD } from '../../../abi/linux/tty.js';
import { TtyState, ttyIoctl, ttyState } from './tty.js';
import { readHostProcText } from '../../../platform/hostproc.js';

const READAHEAD = 64 * 1024;
/** How long to wait before retrying a host fd that said EAGAIN (the caller made it non-blocking). */
const RETRY_MS = 10;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x4000_0000;

/** hostError converts an exception from node:fs into the guest errno. */
export function hostError(e: unknown): linuxerr.SyscallError {
  const n = (e as { errno?: number }).errno;
  if (typeof n === 'number' && n !== 0) return linuxerr.fromErrno(Math.abs(n));
  return linuxerr.EIO;
}

/** HostInput reads a host stream ahead into a buffer. One per host terminal
 *  (shared by stdin, stdout, stderr and /dev/tty), one per other stream. */
class HostInput {
  readonly hostFd: number;
  readonly waitQueue = new WaitQueue();
  private readonly buf = Buffer.allocUnsafe(READAHEAD);
  private start = 0;
  private end = 0;
  private pending = false;
  /** A 0-byte host read: reported once to one guest read (a terminal may have more after ^D). */
  private eof = false;
  private error: linuxerr.SyscallError | null = null;
  /** Bumped by flush so a read already in flight is discarded. */
  private generation = 0;
  private readonly onRead = (err: NodeJS.ErrnoException | null, n: number, gen: number): void => {
    this.pending = false;
    if (gen !== this.generation) {
      if (this.waitQueue.size > 0) this.fill();
      return;
    }
    if (err) {
      const e = hostError(err);
      if (e === linuxerr.EAGAIN || e === linuxerr.EINTR) {
        // Retry while someone waits; otherwise the next read or poll restarts it.
        if (this.waitQueue.size > 0) setTimeout(() => this.fill(), RETRY_MS);
        return;
      }
      this.error = e;
    } else if (n === 0) {
      this.eof = true;
    } else {
      this.start = 0;
      this.end = n;
    }
    this.waitQueue.notify(EVENT_IN | EVENT_HUP | EVENT_ERR);
  };

  /** A socket is read without blocking (recvmsg MSG_DONTWAIT), never by a
   *  thread-pool read: a read blocked there keeps Node, and so runsc, from
   *  exiting, and a guest can start one just by polling its stdout. */
  private readonly socket: boolean;
  private readonly passedFds = new Int32Array(4);

  constructor(hostFd: number) {
    this.hostFd = hostFd;
    let socket = false;
    try {
      socket = fs.fstatSync(hostFd).isSocket();
    } catch {
      // Not ours to judge here: reads report the error.
    }
    this.socket = socket;
  }

  get buffered(): number {
    return this.end - this.start;
  }

  /** ready reports whether a read would not need to wait. */
  get ready(): boolean {
    return this.end > this.start || this.eof || this.error !== null;
  }

  get atEOF(): boolean {
    return this.eof;
  }

  /** fill starts one host read if none is in flight and nothing is buffered. */
  fill(): void {
    if (this.pending || this.ready) return;
    this.pending = true;
    const gen = this.generation;
    if (this.socket) {
      const r = native.recvFds(this.hostFd, this.buf, this.passedFds, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      // Descriptors the peer passed along are nobody's in the sandbox.
      for (const f of this.passedFds) if (f >= 0) fs.closeSync(f);
      const err = r < 0 ? Object.assign(new Error('recvmsg'), { errno: r }) : null;
      // Completed later, as a thread-pool read would be: callers expect no re-entry.
      setImmediate(() => this.onRead(err, r < 0 ? 0 : r, gen));
      return;
    }
    fs.read(this.hostFd, this.buf, 0, READAHEAD, null, (err, n) => this.onRead(err, n, gen));
  }

  /** unread puts bytes a guest read could not take back in front of the buffer. */
  unread(data: Uint8Array): void {
    const avail = this.end - this.start;
    if (data.length + avail > this.buf.length) return;
    this.buf.copy(this.buf, data.length, this.start, this.end);
    this.buf.set(data, 0);
    this.start = 0;
    this.end = data.length + avail;
  }

  read(dst: Uint8Array): number {
    const avail = this.end - this.start;
    if (avail > 0) {
      const n = Math.min(avail, dst.length);
      dst.set(this.buf.subarray(this.start, this.start + n));
      this.start += n;
      if (this.start === this.end) this.start = this.end = 0;
      return n;
    }
    if (dst.length === 0) return 0;
    if (this.eof) {
      this.eof = false;
      return 0;
    }
    if (this.error) {
      const e = this.error;
      this.error = null;
      throw e;
    }
    this.fill();
    throw linuxerr.EAGAIN;
  }

  /** flush discards input read ahead but not consumed (TCSETSF, TCFLSH). */
  flush(): void {
    this.start = this.end = 0;
    this.generation++;
  }
}

/** Host terminals by rdev, so every description of one terminal shares its input. */
const ttyInputs = new Map<string, HostInput>();
/** The host fd of the sandbox's terminal (stdio that is a tty), for /dev/tty. */
let stdioTty: { hostFd: number; key: string } | null = null;

export interface HostFDOptions {
  /** isStdio: the caller's stdin/stdout/stderr. Never closed by the Sentry; a terminal becomes /dev/tty. */
  isStdio?: boolean;
  /** owned: close the host fd when the description is released (default: !isStdio). */
  owned?: boolean;
  /** stat overrides what fstat reports (e.g. the /dev/tty node of devfs). */
  stat?: () => Stat;
  /** path overrides the path shown in /proc/self/fd. */
  path?: string;
}

function ts(ns: bigint): Timespec {
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

/** hostStat translates a host fstat into the Stat shape. */
export function hostStat(hostFd: number): Stat {
  let s: fs.BigIntStats;
  try {
    s = fs.fstatSync(hostFd, { bigint: true });
  } catch (e) {
    throw hostError(e);
  }
  return {
    dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink), uid: Number(s.uid),
    gid: Number(s.gid), rdev: Number(s.rdev), size: Number(s.size), blksize: Number(s.blksize), blocks: Number(s.blocks),
    atime: ts(s.atimeNs), mtime: ts(s.mtimeNs), ctime: ts(s.ctimeNs), btime: ts(s.birthtimeNs),
  };
}

/** hostFdInfo reads the host's position and open flags of one of the Sentry's fds. */
export function hostFdInfo(hostFd: number): { pos: number; flags: number } {
  try {
    const text = readHostProcText(`self/fdinfo/${hostFd}`);
    const pos = /^pos:\s*(\d+)/m.exec(text);
    const flags = /^flags:\s*([0-7]+)/m.exec(text);
    return { pos: pos ? Number(pos[1]) : 0, flags: flags ? parseInt(flags[1], 8) : 0 };
  } catch {
    return { pos: 0, flags: 0 };
  }
}

/** hostFDFlags returns the status flags a description of hostFd should start with
 *  (access mode, O_APPEND, O_NONBLOCK), read from the host. */
export function hostFDFlags(hostFd: number): number {
  return hostFdInfo(hostFd).flags & (linux.O_ACCMODE | linux.O_APPEND | linux.O_NONBLOCK);
}

export class HostFileImpl implements FileDescriptionImpl {
  readonly hostFd: number;
  readonly isRegular: boolean;
  readonly isTty: boolean;
  private readonly isFifo: boolean;
  private readonly owned: boolean;
  /** The host fd has O_APPEND: writes go to the host file's end wherever our offset is. */
  private readonly hostAppend: boolean;
  private readonly input: HostInput | null;
  private readonly tty: TtyState | null;
  private readonly statOverride: (() => Stat) | null;
  private readonly readable: boolean;
  private readonly writable: boolean;
  readonly waitQueue: WaitQueue;
  /** seek exists for files with a position (regular files) and is absent (ESPIPE) for streams. */
  seek?: (fd: FileDescription, offset: number, whence: number) => number;
  /** unread (streams only) takes back bytes of a read the guest could not receive. */
  unread?: (data: Uint8Array) => void;
  private outRetry: ReturnType<typeof setTimeout> | null = null;
  /** Set once the guest moved the position: from then on I/O is positional at fd.offset. */
  private seeked = false;

  constructor(hostFd: number, flags: number, st: Stat, opts: HostFDOptions) {
    this.hostFd = hostFd;
    const type = st.mode & linux.S_IFMT;
    this.isRegular = type === linux.S_IFREG || type === linux.S_IFBLK;
    this.isFifo = type === linux.S_IFIFO;
    this.isTty = type === linux.S_IFCHR && isatty(hostFd);
    this.owned = opts.owned ?? !opts.isStdio;
    this.statOverride = opts.stat ?? null;
    const acc = flags & linux.O_ACCMODE;
    this.readable = acc === linux.O_RDONLY || acc === linux.O_RDWR;
    this.writable = acc === linux.O_WRONLY || acc === linux.O_RDWR;
    this.hostAppend = (hostFdInfo(hostFd).flags & linux.O_APPEND) !== 0;
    if (this.isRegular) {
      this.input = null;
      this.tty = null;
      this.waitQueue = new WaitQueue();
      this.seek = (fd, offset, whence) => this.seekRegular(fd, offset, whence);
    } else if (this.isTty) {
      const key = String(st.rdev);
      let input = ttyInputs.get(key);
      if (!input) {
        input = new HostInput(hostFd);
        ttyInputs.set(key, input);
      }
      this.input = input;
      this.tty = ttyState(key);
      this.tty.flushInput = () => input.flush();
      this.waitQueue = input.waitQueue;
      this.unread = (data) => input.unread(data);
      if (opts.isStdio && !stdioTty) stdioTty = { hostFd, key };
    } else {
      this.input = new HostInput(hostFd);
      this.tty = null;
      this.waitQueue = this.input.waitQueue;
      const input = this.input;
      this.unread = (data) => input.unread(data);
      // Character devices other than terminals (e.g. /dev/null) accept lseek, returning 0.
      if (type === linux.S_IFCHR) this.seek = () => 0;
    }
  }

  read(fd: FileDescription, dst: Uint8Array, offset: number): number {
    if (this.input) return this.input.read(dst);
    // Sequential reads use the host offset, which the caller shares (a shell's `< file`).
    const hostPos = offset === -1 && !this.seeked;
    let n: number;
    try {
      n = fs.readSync(this.hostFd, dst, 0, dst.length, hostPos ? null : offset === -1 ? fd.offset : offset);
    } catch (e) {
      throw hostError(e);
    }
    if (offset === -1) fd.offset += n;
    return n;
  }

  write(fd: FileDescription, src: Uint8Array, offset: number): number {
    if (!this.isRegular) return this.writeStream(src);
    let n: number;
    try {
      if (offset !== -1) return fs.writeSync(this.hostFd, src, 0, src.length, offset);
      // A guest-set O_APPEND the host fd lacks: append positionally, leaving the host offset alone.
      if ((fd.flags & linux.O_APPEND) && !this.hostAppend) this.seeked = true;
      if (this.hostAppend || !this.seeked) {
        // The host offset (shared with the caller) or the host's O_APPEND decides where this lands.
        n = fs.writeSync(this.hostFd, src, 0, src.length, null);
        fd.offset = this.hostAppend ? hostStat(this.hostFd).size : fd.offset + n;
        return n;
      }
      if (fd.flags & linux.O_APPEND) fd.offset = hostStat(this.hostFd).size;
      n = fs.writeSync(this.hostFd, src, 0, src.length, fd.offset);
      fd.offset += n;
      return n;
    } catch (e) {
      throw hostError(e);
    }
  }

  private writeStream(src: Uint8Array): number {
    try {
      return fs.writeSync(this.hostFd, src, 0, src.length, null);
    } catch (e) {
      const err = hostError(e);
      if (err === linuxerr.EAGAIN && !this.outRetry) {
        // The host fd is non-blocking and full: let writers retry shortly.
        this.outRetry = setTimeout(() => {
          this.outRetry = null;
          this.waitQueue.notify(EVENT_OUT);
        }, RETRY_MS);
      }
      throw err;
    }
  }

  /** seekRegular implements lseek. Node cannot move a host offset, so after a
   *  seek elsewhere this description uses its own offset with positional I/O
   *  and the caller's shared host offset stays where sequential I/O left it. */
  private seekRegular(fd: FileDescription, offset: number, whence: number): number {
    if (!this.seeked) fd.offset = hostFdInfo(this.hostFd).pos;
    let base: number;
    switch (whence) {
      case linux.SEEK_SET:
        base = 0;
        break;
      case linux.SEEK_CUR:
        base = fd.offset;
        break;
      case linux.SEEK_END:
        base = hostStat(this.hostFd).size;
        break;
      case linux.SEEK_DATA:
      case linux.SEEK_HOLE: {
        const size = hostStat(this.hostFd).size;
        if (offset < 0 || offset >= size) throw linuxerr.ENXIO;
        base = 0;
        if (whence === linux.SEEK_HOLE) offset = size;
        break;
      }
      default:
        throw linuxerr.EINVAL;
    }
    const pos = base + offset;
    if (pos < 0 || !Number.isSafeInteger(pos)) throw linuxerr.EINVAL;
    if (pos !== fd.offset) this.seeked = true;
    fd.offset = pos;
    return pos;
  }

  stat(): Stat {
    return this.statOverride ? this.statOverride() : hostStat(this.hostFd);
  }

  readiness(mask: number): number {
    if (!this.input) return mask & (EVENT_IN | EVENT_OUT);
    let r = 0;
    if (this.readable && (mask & EVENT_IN)) {
      if (this.input.ready) r |= EVENT_IN;
      else this.input.fill();
    }
    if (this.readable && this.isFifo && this.input.atEOF) r |= EVENT_HUP;
    // Without host polling, a stream is assumed writable; a full non-blocking one retries by timer.
    if (this.writable) r |= EVENT_OUT;
    return r & (mask | EVENT_HUP | EVENT_ERR);
  }

  ioctl(t: Task, fd: FileDescription, cmd: number, arg: number): number {
    if (this.tty) return ttyIoctl(t, this.hostFd, this.tty, this.input!.buffered, cmd, arg);
    if (cmd !== FIONREAD) throw linuxerr.ENOTTY;
    let n: number;
    if (this.isRegular) {
      n = Math.max(0, hostStat(this.hostFd).size - fd.offset);
    } else {
      const buf = new Uint8Array(4);
      const r = native.ioctl(this.hostFd, FIONREAD, buf, 0);
      n = (r < 0 ? 0 : new DataView(buf.buffer).getInt32(0, true)) + this.input!.buffered;
    }
    t.mm.writeI32(arg, n);
    return 0;
  }

  mappable(): HostFile | null {
    if (!this.isRegular) return null;
    const hostFd = this.hostFd;
    return { hostFd: () => hostFd };
  }

  sync(): void {
    if (!this.isRegular) return;
    try {
      fs.fsyncSync(this.hostFd);
    } catch (e) {
      throw hostError(e);
    }
  }

  release(): void {
    if (this.outRetry) clearTimeout(this.outRetry);
    if (!this.owned) return;
    // The terminal's shared input reads this fd: forget it, or a later
    // terminal with the same rdev (a reused pty number) would read a closed fd.
    if (this.tty) {
      for (const [key, input] of ttyInputs) if (input === this.input && input.hostFd === this.hostFd) ttyInputs.delete(key);
    }
    try {
      fs.closeSync(this.hostFd);
    } catch {
      // Nothing the guest could do about it.
    }
  }
}

function hostPath(hostFd: number): string {
  try {
    // A host file's path would tell the guest about the host's tree: show it
    // as gVisor does (devices, pipes and sockets name nothing of the host's).
    const p = fs.readlinkSync(`/proc/self/fd/${hostFd}`);
    return p.startsWith('/') && !p.startsWith('/dev/') ? `host:[${hostFd}]` : p;
  } catch {
    return `host:[${hostFd}]`;
  }
}

/** newHostFD wraps a host fd the Sentry holds as a guest file description with
 *  status flags flags (access mode, O_APPEND, O_NONBLOCK). Regular files start
 *  at the host fd's current position. */
export function newHostFD(hostFd: number, flags: number, opts: HostFDOptions = {}): FileDescription {
  const st = hostStat(hostFd);
  const impl = new HostFileImpl(hostFd, flags, st, opts);
  const keep = linux.O_ACCMODE | linux.O_APPEND | linux.O_NONBLOCK | linux.O_DSYNC | linux.O_SYNC | linux.O_DIRECT |
    linux.O_LARGEFILE | linux.O_NOATIME | linux.O_ASYNC;
  const fd = new FileDescription(impl, flags & keep, opts.path ?? hostPath(hostFd));
  if (impl.isRegular) fd.offset = hostFdInfo(hostFd).pos;
  return fd;
}

/** openStdioTty opens the sandbox's terminal again (/dev/tty); ENXIO when stdio is not a terminal. */
export function openStdioTty(flags: number, stat?: () => Stat): FileDescriptionImpl {
  if (!stdioTty) throw linuxerr.ENXIO;
  return new HostFileImpl(stdioTty.hostFd, flags, hostStat(stdioTty.hostFd), { owned: false, stat });
}
