// The line discipline (Linux's n_tty): what the terminal does between the
// master and the replica. Input (master writes) is translated (ICRNL...),
// edited in canonical mode (ERASE, KILL, WERASE, LNEXT, EOF), echoed, and
// turned into signals (ISIG); output (replica writes) is post-processed
// (ONLCR...). Pure and synchronous: the Terminal adds waiting, job control
// and signal delivery through Hooks.

import { SIGINT, SIGQUIT, SIGTSTP } from '../../../abi/linux/signal.js';
import * as T from './termios.js';
import { Termios } from './termios.js';

/** Canonical lines hold at most this many bytes (N_TTY_BUF_SIZE - 1). */
export const MAX_CANON = 4095;
/** Bytes a queue takes before writers must wait (the flip buffer's bound). */
export const QUEUE_LIMIT = 65536;

/** ByteQueue is a FIFO of bytes kept as chunks. */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  length = 0;

  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  /** read moves up to dst.length bytes into dst; returns the count. */
  read(dst: Uint8Array): number {
    let n = 0;
    while (n < dst.length && this.chunks.length) {
      const c = this.chunks[0];
      const take = Math.min(dst.length - n, c.length - this.head);
      dst.set(c.subarray(this.head, this.head + take), n);
      n += take;
      this.head += take;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.length -= n;
    return n;
  }

  /** takeAll empties the queue, returning its bytes. */
  takeAll(): Uint8Array {
    const out = new Uint8Array(this.length);
    this.read(out);
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.length = 0;
  }
}

/** Hooks is what the line discipline asks of its terminal. */
export interface Hooks {
  /** signal sends sig to the terminal's foreground process group. */
  signal(sig: number): void;
}

/** A committed canonical line; off bytes of it were read already. */
interface Line {
  data: Uint8Array;
  off: number;
}

function isCtrl(c: number): boolean {
  return c < 32 || c === 127;
}

export class LineDiscipline {
  termios = Termios.replicaDefault();
  /** Committed canonical lines, readable by the replica. */
  private lines: Line[] = [];
  private linesBytes = 0;
  /** The canonical line being edited. */
  private edit: number[] = [];
  /** Non-canonical input, readable by the replica. */
  private readonly raw = new ByteQueue();
  /** Output for the master to read (replica writes and echoes). */
  readonly out = new ByteQueue();
  /** Output stopped by VSTOP (IXON). */
  stopped = false;
  private lnext = false;
  private column = 0;
  private readonly hooks: Hooks;

  constructor(hooks: Hooks) {
    this.hooks = hooks;
  }

  get canonical(): boolean {
    return (this.termios.lflag & T.ICANON) !== 0;
  }

  /** setTermios installs new settings, moving queued input across a mode change. */
  setTermios(n: Termios): void {
    const wasCanon = this.canonical;
    this.termios = n;
    if (wasCanon && !this.canonical) {
      for (const l of this.lines) this.raw.push(l.data.subarray(l.off));
      this.raw.push(Uint8Array.from(this.edit));
      this.lines = [];
      this.linesBytes = 0;
      this.edit = [];
    } else if (!wasCanon && this.canonical) {
      // Pending raw input becomes the start of the line being edited, as in n_tty.
      this.edit = Array.from(this.raw.takeAll());
    }
    if (!(n.iflag & T.IXON)) this.stopped = false;
  }

  // ---- Replica side: reading input ----

  /** inputAvailable is the byte count a replica read could return now (FIONREAD). */
  inputAvailable(): number {
    return this.canonical ? this.linesBytes : this.raw.length;
  }

  /** readable reports whether a read would not block; poll uses VMIN when VTIME is 0. */
  readable(forPoll: boolean): boolean {
    if (this.canonical) return this.lines.length > 0;
    const cc = this.termios.cc;
    const amt = forPoll && cc[T.VTIME] === 0 && cc[T.VMIN] > 0 ? cc[T.VMIN] : 1;
    return this.raw.length >= amt;
  }

  /** read reads input into dst: one line at most in canonical mode. Returns
   *  -1 when nothing is there (the caller decides whether to wait), 0 for an
   *  end-of-file line. */
  read(dst: Uint8Array): number {
    if (!this.canonical) {
      if (this.raw.length === 0) return -1;
      return this.raw.read(dst);
    }
    const l = this.lines[0];
    if (!l) return -1;
    const n = Math.min(dst.length, l.data.length - l.off);
    dst.set(l.data.subarray(l.off, l.off + n));
    l.off += n;
    this.linesBytes -= n;
    if (l.off === l.data.length) this.lines.shift();
    return n;
  }

  /** flushInput discards unread input (TCIFLUSH). */
  flushInput(): void {
    this.lines = [];
    this.linesBytes = 0;
    this.edit = [];
    this.raw.clear();
  }

  // ---- Master side: input ----

  /** inputRoom reports whether the master may write now. */
  inputRoom(): boolean {
    return (this.canonical ? this.linesBytes : this.raw.length) < QUEUE_LIMIT;
  }

  /** receive processes bytes typed at the terminal; returns how many it took. */
  receive(src: Uint8Array): number {
    let i = 0;
    for (; i < src.length; i++) {
      if (!this.inputRoom()) break;
      this.receiveChar(src[i]);
    }
    return i;
  }

  private receiveChar(c: number): void {
    const t = this.termios;
    const cc = t.cc;
    const lflag = t.lflag;
    if (t.iflag & T.ISTRIP) c &= 0x7f;
    if (this.lnext) {
      this.lnext = false;
      if ((lflag & T.ECHO) && (lflag & T.ECHOCTL)) this.echoRaw([8, 8]);
      this.store(c);
      return;
    }
    if (c === 13) {
      if (t.iflag & T.IGNCR) return;
      if (t.iflag & T.ICRNL) c = 10;
    } else if (c === 10 && (t.iflag & T.INLCR)) {
      c = 13;
    }
    const special = (idx: number): boolean => cc[idx] !== T.VDISABLE && c === cc[idx];
    if (t.iflag & T.IXON) {
      if (special(T.VSTOP)) {
        this.stopped = true;
        return;
      }
      if (special(T.VSTART)) {
        this.stopped = false;
        return;
      }
      if (this.stopped && (t.iflag & T.IXANY)) this.stopped = false;
    }
    if (lflag & T.ISIG) {
      const sig = special(T.VINTR) ? SIGINT : special(T.VQUIT) ? SIGQUIT : special(T.VSUSP) ? SIGTSTP : 0;
      if (sig) {
        if (!(lflag & T.NOFLSH)) {
          this.flushInput();
          this.out.clear();
        }
        this.stopped = false;
        if (lflag & T.ECHO) this.echoChar(c);
        this.hooks.signal(sig);
        return;
      }
    }
    if (!(lflag & T.ICANON)) {
      if (lflag & T.ECHO) this.echoChar(c);
      this.raw.push(Uint8Array.of(c));
      return;
    }
    const iext = (lflag & T.IEXTEN) !== 0;
    if (special(T.VERASE) || special(T.VKILL) || (iext && special(T.VWERASE))) {
      this.erase(c);
      return;
    }
    if (iext && special(T.VLNEXT)) {
      this.lnext = true;
      if ((lflag & T.ECHO) && (lflag & T.ECHOCTL)) this.echoRaw([0x5e, 8]);
      return;
    }
    if (iext && special(T.VREPRINT) && (lflag & T.ECHO)) {
      this.echoChar(c);
      this.echoRaw([10]);
      for (const b of this.edit) this.echoChar(b);
      return;
    }
    if (c === 10) {
      if (lflag & (T.ECHO | T.ECHONL)) this.echoRaw([10]);
      this.commit(c);
      return;
    }
    if (special(T.VEOF)) {
      this.commit(-1);
      return;
    }
    if (special(T.VEOL) || (iext && special(T.VEOL2))) {
      if (lflag & T.ECHO) this.echoChar(c);
      this.commit(c);
      return;
    }
    this.store(c);
  }

  /** store adds a literal character to the line (or the raw queue). */
  private store(c: number): void {
    if (!this.canonical) {
      this.raw.push(Uint8Array.of(c));
      if (this.termios.lflag & T.ECHO) this.echoChar(c);
      return;
    }
    // A full line takes no more characters (n_tty drops them).
    if (this.edit.length >= MAX_CANON) return;
    if (this.termios.lflag & T.ECHO) this.echoChar(c);
    this.edit.push(c);
  }

  /** commit ends the line being edited with c (-1: end of file, not stored). */
  private commit(c: number): void {
    if (c >= 0) this.edit.push(c);
    const data = Uint8Array.from(this.edit);
    this.edit = [];
    this.lines.push({ data, off: 0 });
    this.linesBytes += data.length;
  }

  /** erase handles ERASE, WERASE and KILL on the line being edited. */
  private erase(c: number): void {
    const t = this.termios;
    const lflag = t.lflag;
    if (this.edit.length === 0) return;
    const isKill = c === t.cc[T.VKILL];
    const isWerase = !isKill && c === t.cc[T.VWERASE] && c !== t.cc[T.VERASE];
    if (isKill) {
      if (!(lflag & T.ECHO)) {
        this.edit = [];
        return;
      }
      if (!(lflag & T.ECHOK) || !(lflag & T.ECHOKE) || !(lflag & T.ECHOE)) {
        this.edit = [];
        this.echoChar(c);
        if (lflag & T.ECHOK) this.echoRaw([10]);
        return;
      }
    }
    let seenAlnum = false;
    while (this.edit.length) {
      // A character is its UTF-8 lead byte and continuation bytes.
      let len = 1;
      if (t.iflag & T.IUTF8) {
        while (len < this.edit.length && (this.edit[this.edit.length - len] & 0xc0) === 0x80) len++;
      }
      const ch = this.edit[this.edit.length - len];
      if (isWerase) {
        const alnum = ch === 0x5f || (ch >= 0x30 && ch <= 0x39) || ((ch | 0x20) >= 0x61 && (ch | 0x20) <= 0x7a) || ch >= 0x80;
        if (alnum) seenAlnum = true;
        else if (seenAlnum) break;
      }
      this.edit.length -= len;
      if (lflag & T.ECHO) {
        if (lflag & T.ECHOE) {
          const cols = isCtrl(ch) && ch !== 9 && (lflag & T.ECHOCTL) ? 2 : 1;
          for (let k = 0; k < cols; k++) this.echoRaw([8, 32, 8]);
        } else {
          this.echoChar(t.cc[T.VERASE]);
        }
      }
      if (!isKill && !isWerase) break;
    }
  }

  private echoChar(c: number): void {
    const t = this.termios;
    if ((t.lflag & T.ECHOCTL) && isCtrl(c) && c !== 9 && c !== 10 && c !== t.cc[T.VSTART] && c !== t.cc[T.VSTOP]) {
      this.echoRaw([0x5e, c ^ 0x40]);
    } else {
      this.echoRaw([c]);
    }
  }

  private echoRaw(bytes: number[]): void {
    this.output(Uint8Array.from(bytes));
  }

  // ---- Replica side: output ----

  /** outputRoom reports whether the replica may write now. */
  outputRoom(): boolean {
    return !this.stopped && this.out.length < QUEUE_LIMIT;
  }

  /** output post-processes bytes written to the terminal into the master's queue. */
  output(src: Uint8Array): void {
    const t = this.termios;
    if (!(t.oflag & T.OPOST)) {
      this.out.push(src.slice());
      return;
    }
    const o: number[] = [];
    for (let c of src) {
      if (t.oflag & T.OLCUC && c >= 0x61 && c <= 0x7a) c -= 32;
      switch (c) {
        case 10:
          if (t.oflag & T.ONLCR) {
            o.push(13, 10);
            this.column = 0;
            continue;
          }
          if (t.oflag & T.ONLRET) this.column = 0;
          break;
        case 13:
          if ((t.oflag & T.ONOCR) && this.column === 0) continue;
          if (t.oflag & T.OCRNL) {
            c = 10;
            if (t.oflag & T.ONLRET) this.column = 0;
            break;
          }
          this.column = 0;
          break;
        case 9: {
          const spaces = 8 - (this.column & 7);
          if ((t.oflag & T.TABDLY) === T.XTABS) {
            for (let k = 0; k < spaces; k++) o.push(32);
            this.column += spaces;
            continue;
          }
          this.column += spaces;
          break;
        }
        case 8:
          if (this.column > 0) this.column--;
          break;
        default:
          if (!isCtrl(c) && !((t.iflag & T.IUTF8) && (c & 0xc0) === 0x80)) this.column++;
      }
      o.push(c);
    }
    this.out.push(Uint8Array.from(o));
  }
}
