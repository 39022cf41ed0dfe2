// pipefs: the file side of pipes. An anonymous pipe (pipe(2)) gets an inode
// in this pseudo file system and two file descriptions; a FIFO node of
// another file system hands its Pipe to openFifo. Either way a description
// is a PipeFile that counts itself as a reader and/or writer of the Pipe
// from creation until release.

import * as linux from '../../../abi/linux/file.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import { PAGE_SIZE } from '../../../abi/linux/mm.js';
import { EVENT_PIPE_OPEN, Pipe } from '../../kernel/pipe/pipe.js';
import type { Task } from '../../kernel/task.js';
import { FileDescription } from '../../vfs/file_description.js';
import type { FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import type { WaitQueue } from '../../vfs/waiter.js';

/** PIPEFS_DEV is pipefs's anonymous device number (0:12), as st_dev reports it. */
export const PIPEFS_DEV = 12;
const FIONREAD = 0x541b;

let nextIno = 4026532000;

/** PipeInode is what stat reports for an anonymous pipe. */
interface PipeInode {
  ino: number;
  uid: number;
  gid: number;
  ctimeMs: number;
}

/** FifoStatFn lets a FIFO's file system report its own node for fstat. */
export type FifoStatFn = () => Stat;

export class PipeFile implements FileDescriptionImpl {
  readonly pipe: Pipe;
  readonly isReader: boolean;
  readonly isWriter: boolean;
  /** See the constructor: HUP is reported only once writerOpens differs from this. */
  private readonly writerOpensAtOpen: number;
  private readonly inode: PipeInode | null;
  private readonly statFn: FifoStatFn | null;
  private released = false;

  /** hupAfter: -1, or the pipe's writer-open count when a non-blocking FIFO reader
   *  opened with no writer (Linux suppresses POLLHUP until a writer has come). */
  constructor(pipe: Pipe, reader: boolean, writer: boolean, inode: PipeInode | null, statFn: FifoStatFn | null,
    hupAfter = -1) {
    this.pipe = pipe;
    this.isReader = reader;
    this.isWriter = writer;
    this.inode = inode;
    this.statFn = statFn;
    this.writerOpensAtOpen = hupAfter;
    pipe.open(reader, writer);
  }

  get waitQueue(): WaitQueue {
    return this.pipe.waitQueue;
  }

  read(_fd: FileDescription, dst: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    return this.pipe.read(dst);
  }

  unread(data: Uint8Array): void {
    this.pipe.unread(data);
  }

  write(_fd: FileDescription, src: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    return this.pipe.write(src);
  }

  readiness(mask: number): number {
    let r = 0;
    if (this.isReader) r |= this.pipe.readerReadiness(mask, this.pipe.writerOpens !== this.writerOpensAtOpen);
    if (this.isWriter) r |= this.pipe.writerReadiness(mask);
    return r;
  }

  stat(): Stat {
    if (this.statFn) return this.statFn();
    const ino = this.inode!;
    const p = this.pipe;
    return {
      dev: PIPEFS_DEV, ino: ino.ino, mode: linux.S_IFIFO | 0o600, nlink: 1, uid: ino.uid, gid: ino.gid,
      rdev: 0, size: 0, blksize: PAGE_SIZE, blocks: 0,
      atime: msToTimespec(p.atimeMs), mtime: msToTimespec(p.mtimeMs), ctime: msToTimespec(Math.max(ino.ctimeMs, p.mtimeMs)),
    };
  }

  ioctl(t: Task, _fd: FileDescription, cmd: number, arg: number): number {
    if (cmd === FIONREAD) {
      t.mm.writeI32(arg, this.isReader ? this.pipe.size : 0);
      return 0;
    }
    throw linuxerr.ENOTTY;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.pipe.close(this.isReader, this.isWriter);
  }
}

function msToTimespec(ms: number): { sec: number; nsec: number } {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.round((ms - sec * 1000) * 1e6) };
}

/** isPipe reports whether a description is a pipe or FIFO end. */
export function isPipe(fd: FileDescription): boolean {
  return fd.impl instanceof PipeFile;
}

/** pipeOf returns the Pipe behind a description, or null. */
export function pipeOf(fd: FileDescription): Pipe | null {
  return fd.impl instanceof PipeFile ? fd.impl.pipe : null;
}

/** newPipe creates an anonymous pipe: [read end, write end]. flags may hold
 *  O_NONBLOCK and O_DIRECT (packet mode is not implemented: O_DIRECT is only recorded). */
export function newPipe(t: Task, flags: number): [FileDescription, FileDescription] {
  const pipe = new Pipe();
  const inode: PipeInode = { ino: nextIno++, uid: t.creds.euid, gid: t.creds.egid, ctimeMs: Date.now() };
  const status = flags & (linux.O_NONBLOCK | linux.O_DIRECT);
  const path = `pipe:[${inode.ino}]`;
  const r = new FileDescription(new PipeFile(pipe, true, false, inode, null), linux.O_RDONLY | status, path);
  const w = new FileDescription(new PipeFile(pipe, false, true, inode, null), linux.O_WRONLY | status, path);
  return [r, w];
}

/** newFifoState makes the Pipe a FIFO node keeps for its lifetime. */
export function newFifoState(): Pipe {
  return new Pipe();
}

export interface FifoOpenOptions {
  /** path for /proc/self/fd and strace. */
  path?: string;
  /** stat reports the FIFO's node (its own file system's inode). */
  stat?: FifoStatFn;
}

/** openFifo opens a FIFO end without waiting. Linux semantics except that a
 *  blocking open does not wait for the other side (see openFifoBlocking):
 *  O_WRONLY|O_NONBLOCK without readers is ENXIO; O_RDWR is both ends. */
export function openFifo(t: Task, fifo: Pipe, flags: number, opts: FifoOpenOptions = {}): FileDescription {
  void t;
  const acc = flags & linux.O_ACCMODE;
  if (acc === linux.O_ACCMODE) throw linuxerr.EINVAL;
  const reader = acc === linux.O_RDONLY || acc === linux.O_RDWR;
  const writer = acc === linux.O_WRONLY || acc === linux.O_RDWR;
  if (writer && !reader && fifo.readers === 0 && (flags & linux.O_NONBLOCK)) throw linuxerr.ENXIO;
  const hupAfter = reader && !writer && fifo.writers === 0 && (flags & linux.O_NONBLOCK) ? fifo.writerOpens : -1;
  const impl = new PipeFile(fifo, reader, writer, null, opts.stat ?? null, hupAfter);
  const keep = linux.O_ACCMODE | linux.O_APPEND | linux.O_NONBLOCK | linux.O_DIRECT | linux.O_ASYNC | linux.O_LARGEFILE |
    linux.O_NOATIME | linux.O_DSYNC | linux.O_SYNC;
  return new FileDescription(impl, flags & keep, opts.path ?? '');
}

/** openFifoBlocking is openFifo with Linux's open-time waits: a blocking reader
 *  waits for a writer and a blocking writer for a reader (O_RDWR never waits).
 *  Returns a promise only when it must wait; rejects EINTR if interrupted. */
export function openFifoBlocking(t: Task, fifo: Pipe, flags: number, opts: FifoOpenOptions = {}): FileDescription | Promise<FileDescription> {
  const fd = openFifo(t, fifo, flags, opts);
  const acc = flags & linux.O_ACCMODE;
  if ((flags & linux.O_NONBLOCK) || acc === linux.O_RDWR) return fd;
  const wantWriter = acc === linux.O_RDONLY;
  // Linux waits for the other side to have opened since we did (r_counter/w_counter), not to be open now.
  const seen = wantWriter ? fifo.writerOpens : fifo.readerOpens;
  const ready = (): boolean => (wantWriter ? fifo.writers > 0 : fifo.readers > 0) ||
    (wantWriter ? fifo.writerOpens : fifo.readerOpens) !== seen;
  if (ready()) return fd;
  return (async () => {
    try {
      while (!ready()) await t.block(fifo.waitQueue, EVENT_PIPE_OPEN);
    } catch (e) {
      fd.decRef();
      throw e;
    }
    return fd;
  })();
}
