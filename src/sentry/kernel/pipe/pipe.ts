// Pipe is the mechanism shared by anonymous pipes and FIFOs (Linux's struct
// pipe_inode_info): a byte ring buffer with a capacity, reader and writer
// counts, and the wait queue readers and writers block on. It never sleeps:
// operations that cannot proceed throw EAGAIN, and every state change
// notifies the queue. The file-level part lives in fsimpl/pipefs.

import * as linuxerr from '../../../abi/linux/errno.js';
import { PIPE_BUF } from '../../../abi/linux/file.js';
import { PAGE_SIZE } from '../../../abi/linux/mm.js';
import { sandboxLimits } from '../limits.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, WaitQueue } from '../../vfs/waiter.js';

/** DEFAULT_PIPE_SIZE is a new pipe's capacity (16 pages, as Linux). */
export const DEFAULT_PIPE_SIZE = 16 * PAGE_SIZE;
/** MAX_PIPE_SIZE is /proc/sys/fs/pipe-max-size: the most an unprivileged F_SETPIPE_SZ may ask. */
export const MAX_PIPE_SIZE = 1024 * 1024;
/** Largest size even a privileged caller may set (Linux refuses sizes above 2^31). */
const ABS_MAX_PIPE_SIZE = 2 ** 31;
/** Event bit, outside the poll range, notified when a reader or writer opens (FIFO open waits). */
export const EVENT_PIPE_OPEN = 0x10000;

/** roundPipeSize rounds a requested capacity up to a power-of-two number of pages; 0 if too large. */
export function roundPipeSize(size: number): number {
  if (size > ABS_MAX_PIPE_SIZE) return 0;
  let pages = Math.max(1, Math.ceil(size / PAGE_SIZE));
  pages = 2 ** Math.ceil(Math.log2(pages));
  return pages * PAGE_SIZE;
}

export class Pipe {
  /** Storage; allocated lazily and grown by doubling up to capacity. */
  private buf: Uint8Array | null = null;
  /** Index of the first unread byte in buf. */
  private head = 0;
  /** Number of unread bytes. */
  private len = 0;
  /** capacity is the most the pipe holds (F_GETPIPE_SZ). */
  capacity = DEFAULT_PIPE_SIZE;
  readers = 0;
  writers = 0;
  /** Counts writer opens ever, so a FIFO reader that never saw a writer does not report HUP. */
  writerOpens = 0;
  readerOpens = 0;
  readonly waitQueue = new WaitQueue();
  /** Times (ms since the epoch) for stat: last read, last write. */
  atimeMs: number;
  mtimeMs: number;

  constructor() {
    this.atimeMs = this.mtimeMs = Date.now();
  }

  /** size is the number of bytes waiting to be read (FIONREAD). */
  get size(): number {
    return this.len;
  }

  /** free is the room left before writers must wait. */
  get free(): number {
    return this.capacity - this.len;
  }

  /** open counts a new reader and/or writer end. */
  open(reader: boolean, writer: boolean): void {
    if (reader) {
      this.readers++;
      this.readerOpens++;
    }
    if (writer) {
      this.writers++;
      this.writerOpens++;
    }
    this.waitQueue.notify(EVENT_PIPE_OPEN);
  }

  /** close drops a reader and/or writer end, waking the other side when the last one goes. */
  close(reader: boolean, writer: boolean): void {
    let ev = 0;
    if (reader && --this.readers === 0) ev |= EVENT_OUT | EVENT_ERR;
    if (writer && --this.writers === 0) ev |= EVENT_IN | EVENT_HUP;
    // The last end gone: the storage goes (Linux frees the pipe_inode_info,
    // and a FIFO opened again starts empty), and with it its charge.
    if (this.readers === 0 && this.writers === 0 && this.buf) {
      sandboxLimits().uncharge(this.buf.length);
      this.buf = null;
      this.head = this.len = 0;
    }
    if (ev) this.waitQueue.notify(ev);
  }

  /** read moves up to dst.length bytes out; 0 means EOF (no writers, empty). Throws EAGAIN when it must wait. */
  read(dst: Uint8Array): number {
    const n = this.peek(dst, dst.length);
    if (n === 0) {
      if (dst.length === 0) return 0;
      if (this.writers === 0) return 0;
      throw linuxerr.EAGAIN;
    }
    this.consume(n);
    return n;
  }

  /** peek copies up to max unread bytes into dst without consuming them; returns the count. */
  peek(dst: Uint8Array, max: number): number {
    const n = Math.min(max, dst.length, this.len);
    if (n === 0) return 0;
    const buf = this.buf!;
    const first = Math.min(n, buf.length - this.head);
    dst.set(buf.subarray(this.head, this.head + first), 0);
    if (first < n) dst.set(buf.subarray(0, n - first), first);
    return n;
  }

  /** consume discards n unread bytes (after peek), waking writers. */
  consume(n: number): void {
    if (n <= 0) return;
    this.len -= n;
    this.head = this.len === 0 ? 0 : (this.head + n) % this.buf!.length;
    this.atimeMs = Date.now();
    this.waitQueue.notify(EVENT_OUT);
  }

  /** unread puts bytes just read back at the front (a failed copy-out); no wake-ups. */
  unread(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    this.reserve(this.len + n, true);
    const buf = this.buf!;
    this.head = (this.head - n + buf.length) % buf.length;
    const first = Math.min(n, buf.length - this.head);
    buf.set(first === n ? data : data.subarray(0, first), this.head);
    if (first < n) buf.set(data.subarray(first), 0);
    this.len += n;
  }

  /** write appends src. Writes of at most PIPE_BUF bytes are all-or-nothing; larger ones
   *  take what fits. Throws EPIPE without readers, EAGAIN when nothing can be written now. */
  write(src: Uint8Array): number {
    if (src.length === 0) return 0;
    if (this.readers === 0) throw linuxerr.EPIPE;
    const free = this.capacity - this.len;
    if (free === 0 || (src.length <= PIPE_BUF && free < src.length)) throw linuxerr.EAGAIN;
    const n = Math.min(src.length, free);
    // Storage past the sandbox's memory budget: ENOMEM, as a failed page allocation.
    if (!this.reserve(this.len + n)) throw linuxerr.ENOMEM;
    const buf = this.buf!;
    const tail = (this.head + this.len) % buf.length;
    const first = Math.min(n, buf.length - tail);
    buf.set(first === src.length ? src : src.subarray(0, first), tail);
    if (first < n) buf.set(src.subarray(first, n), 0);
    this.len += n;
    this.mtimeMs = Date.now();
    this.waitQueue.notify(EVENT_IN);
    return n;
  }

  /** reserve makes the storage hold at least need bytes (need <= capacity);
   *  false when the sandbox's memory budget refuses the growth (unless force). */
  private reserve(need: number, force = false): boolean {
    const cur = this.buf ? this.buf.length : 0;
    if (need <= cur) return true;
    let size = Math.max(cur * 2, PAGE_SIZE);
    while (size < need) size *= 2;
    return this.relocate(Math.min(size, this.capacity), force);
  }

  /** relocate moves the unread bytes to a new buffer of size bytes, starting at
   *  0, charging the size change to the sandbox; false if that was refused. */
  private relocate(size: number, force = false): boolean {
    const cur = this.buf ? this.buf.length : 0;
    const limits = sandboxLimits();
    if (size > cur) {
      if (force) limits.forceCharge(size - cur);
      else if (!limits.charge(size - cur)) return false;
    } else {
      limits.uncharge(cur - size);
    }
    const nb = new Uint8Array(size);
    if (this.len) this.peek(nb, this.len);
    this.buf = nb;
    this.head = 0;
    return true;
  }

  /** setCapacity implements F_SETPIPE_SZ: returns the new capacity. EBUSY if the
   *  data does not fit, EPERM above MAX_PIPE_SIZE without privilege, EINVAL if absurd. */
  setCapacity(size: number, privileged: boolean): number {
    if (size < 0) throw linuxerr.EINVAL;
    const c = roundPipeSize(size);
    if (c === 0) throw linuxerr.EINVAL;
    if (c > MAX_PIPE_SIZE && !privileged) throw linuxerr.EPERM;
    if (c < this.len) throw linuxerr.EBUSY;
    // Growth the sandbox's memory budget could not hold is refused, as Linux
    // refuses pipes past pipe-user-pages-hard (the storage is charged as it fills).
    if (c > this.capacity && c - (this.buf ? this.buf.length : 0) > sandboxLimits().available()) throw linuxerr.EPERM;
    this.capacity = c;
    if (this.buf && this.buf.length > c) this.relocate(c);
    // More room may let writers proceed.
    this.waitQueue.notify(EVENT_OUT);
    return c;
  }

  /** readerReadiness is what poll reports for a read end; sawWriter is false for a
   *  FIFO reader opened before any writer ever came (it must not see HUP yet). */
  readerReadiness(mask: number, sawWriter: boolean): number {
    let r = 0;
    if (this.len > 0) r |= EVENT_IN;
    if (this.writers === 0 && sawWriter) r |= EVENT_HUP;
    return r & (mask | EVENT_HUP | EVENT_ERR);
  }

  /** writerReadiness is what poll reports for a write end. A write end is writable
   *  when an atomic PIPE_BUF write would not block. */
  writerReadiness(mask: number): number {
    let r = 0;
    if (this.capacity - this.len >= Math.min(PIPE_BUF, this.capacity)) r |= EVENT_OUT;
    if (this.readers === 0) r |= EVENT_ERR;
    return r & (mask | EVENT_HUP | EVENT_ERR);
  }
}
