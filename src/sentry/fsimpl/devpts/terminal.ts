// A pseudo-terminal pair: the master (/dev/ptmx) and the replica
// (/dev/pts/N) around one line discipline, with the terminal's job control
// state (session, foreground process group), window size, and hangup.
// Controlling terminals are kept per session here (Linux keeps them in
// signal_struct): a session leader acquires one with TIOCSCTTY or by opening
// a terminal without O_NOCTTY.

import * as linuxerr from '../../../abi/linux/errno.js';
import * as linux from '../../../abi/linux/file.js';
import { SIGCONT, SIGHUP, SIGTTIN, SIGTTOU, SIGWINCH, SIG_IGN, sigbit } from '../../../abi/linux/signal.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';
import type { FileDescription, FileDescriptionImpl, Stat } from '../../vfs/file_description.js';
import type { Inode } from '../../vfs/inode.js';
import { CAP_SYS_ADMIN, hasCap } from '../../vfs/permissions.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, WaitQueue } from '../../vfs/waiter.js';
import { LineDiscipline } from './line_discipline.js';
import * as T from './termios.js';
import { Termios } from './termios.js';
import { TCGETS, TCSETS, TCSETSW, TCSETSF, TCSBRK, TCXONC, TCFLSH, TIOCEXCL, TIOCNXCL, TIOCSCTTY, TIOCGPGRP, TIOCSPGRP, TIOCOUTQ, TIOCGWINSZ, TIOCSWINSZ, FIONREAD, TIOCPKT, TIOCNOTTY, TIOCSETD, TIOCGETD, TCSBRKP, TIOCGSID, TCGETS2, TCSETS2, TCSETSW2, TCSETSF2, TIOCGPTN, TIOCSPTLCK, TIOCGPKT, TIOCGPTLCK, TIOCGEXCL, TIOCGPTPEER } from '../../../abi/linux/tty.js';


const TCIFLUSH = 0;
const TCOFLUSH = 1;
const TCIOFLUSH = 2;
const TCOOFF = 0;
const TCOON = 1;

/** The process group and session maps of one kernel: which terminal each session controls. */
const cttys = new WeakMap<Kernel, Map<number, Terminal>>();
/** Processes that gave up their controlling terminal with TIOCNOTTY (not session leaders). */
const detached = new WeakSet<ThreadGroup>();

function sessions(k: Kernel): Map<number, Terminal> {
  let m = cttys.get(k);
  if (!m) {
    m = new Map();
    cttys.set(k, m);
  }
  return m;
}

/** cttyOf returns t's controlling pseudo-terminal, or null. */
export function cttyOf(t: Task): Terminal | null {
  if (detached.has(t.tg)) return null;
  const term = sessions(t.kernel).get(t.tg.sid);
  return term && term.sid === t.tg.sid && !term.hungUp ? term : null;
}

/** killPgrp sends sig to every process of group pgid. */
function killPgrp(k: Kernel, pgid: number, sig: number): void {
  if (!pgid) return;
  for (const tg of [...k.threadGroups.values()]) if (tg.pgid === pgid && !tg.exiting) k.signalProcess?.(tg, sig, null);
}

/** orphaned reports whether no process of group pgid has a parent in another group of the same session. */
function orphaned(k: Kernel, pgid: number, sid: number): boolean {
  for (const g of k.threadGroups.values()) {
    if (g.pgid !== pgid || g.exiting) continue;
    const p = g.parent;
    if (p && p.pgid !== pgid && p.sid === sid) return false;
  }
  return true;
}

/** Owner is what the devpts file system does when a terminal comes and goes. */
export interface PtyOwner {
  /** masterClosed removes /dev/pts/N. */
  masterClosed(term: Terminal): void;
  /** released frees the index once neither side is open. */
  released(term: Terminal): void;
}

export class Terminal {
  readonly index: number;
  readonly kernel: Kernel;
  readonly ld: LineDiscipline;
  /** Woken when the master may read or write. */
  readonly masterQ = new WaitQueue();
  /** Woken when the replica may read or write. */
  readonly replicaQ = new WaitQueue();
  /** The replica's node in devpts (for fstat and TIOCGPTPEER). */
  node: Inode | null = null;
  readonly owner: PtyOwner;
  /** TIOCSPTLCK: the replica cannot be opened while locked (as after posix_openpt). */
  locked = true;
  masterOpen = true;
  replicaOpens = 0;
  /** Linux's TTY_OTHER_CLOSED for the master: the replica was opened and all its files closed. */
  replicaClosed = false;
  /** The session this terminal controls (0: none) and its foreground group. */
  sid = 0;
  fgPgid = 0;
  packet = false;
  exclusive = false;
  private winsize = new Uint8Array(8);
  /** Non-canonical VTIME reads: a pending timer, and whether it fired. */
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timedOut = false;

  constructor(kernel: Kernel, index: number, owner: PtyOwner) {
    this.kernel = kernel;
    this.index = index;
    this.owner = owner;
    this.ld = new LineDiscipline({ signal: (sig) => killPgrp(this.kernel, this.fgPgid, sig) });
  }

  /** hungUp: the master is gone; replica files act as hung up (read 0, write EIO). */
  get hungUp(): boolean {
    return !this.masterOpen;
  }

  // ---- Opening and closing ----

  /** openReplica opens the replica for t (EIO while locked or after hangup). */
  openReplica(t: Task, flags: number): ReplicaFile {
    if (this.locked || this.hungUp) throw linuxerr.EIO;
    if (this.exclusive && this.replicaOpens > 0 && !hasCap(t.creds, CAP_SYS_ADMIN)) throw linuxerr.EBUSY;
    this.replicaOpens++;
    this.replicaClosed = false;
    // A session leader without a terminal acquires this one (tty_open_proc_set_tty).
    const tg = t.tg;
    if (!(flags & linux.O_NOCTTY) && tg.sid === tg.pid && !cttyOf(t) && this.sid === 0) this.setCtty(tg);
    return new ReplicaFile(this);
  }

  private setCtty(tg: ThreadGroup): void {
    this.sid = tg.sid;
    this.fgPgid = tg.pgid;
    sessions(this.kernel).set(tg.sid, this);
    detached.delete(tg);
  }

  private clearCtty(): void {
    if (this.sid && sessions(this.kernel).get(this.sid) === this) sessions(this.kernel).delete(this.sid);
    this.sid = 0;
    this.fgPgid = 0;
  }

  closeMaster(): void {
    this.masterOpen = false;
    this.clearTimer();
    // Hangup: the session leader gets SIGHUP and SIGCONT; the session loses its terminal.
    if (this.sid) {
      const leader = this.kernel.threadGroups.get(this.sid);
      if (leader && leader.sid === this.sid && !leader.exiting) {
        this.kernel.signalProcess?.(leader, SIGHUP, null);
        this.kernel.signalProcess?.(leader, SIGCONT, null);
      }
      this.clearCtty();
    }
    this.ld.flushInput();
    this.replicaQ.notify(EVENT_IN | EVENT_OUT | EVENT_HUP | EVENT_ERR);
    this.owner.masterClosed(this);
    if (this.replicaOpens === 0) this.owner.released(this);
  }

  closeReplica(): void {
    if (--this.replicaOpens > 0) return;
    this.replicaClosed = true;
    this.masterQ.notify(EVENT_IN | EVENT_HUP);
    if (!this.masterOpen) this.owner.released(this);
  }

  // ---- Data ----

  masterRead(dst: Uint8Array): number {
    const out = this.ld.out;
    if (out.length === 0) {
      if (this.replicaClosed) throw linuxerr.EIO;
      throw linuxerr.EAGAIN;
    }
    let n: number;
    if (this.packet) {
      if (dst.length === 0) return 0;
      dst[0] = 0; // TIOCPKT_DATA
      n = 1 + out.read(dst.subarray(1));
    } else {
      n = out.read(dst);
    }
    this.replicaQ.notify(EVENT_OUT);
    return n;
  }

  masterWrite(src: Uint8Array): number {
    const n = this.ld.receive(src);
    if (n === 0 && src.length > 0) throw linuxerr.EAGAIN;
    this.replicaQ.notify(EVENT_IN);
    if (this.ld.out.length) this.masterQ.notify(EVENT_IN);
    return n;
  }

  replicaRead(fd: FileDescription, dst: Uint8Array): number {
    if (this.hungUp) return 0;
    const ld = this.ld;
    let n: number;
    if (ld.canonical) {
      n = ld.read(dst);
      if (n < 0) throw linuxerr.EAGAIN;
    } else {
      n = this.rawRead(fd, dst);
    }
    this.masterQ.notify(EVENT_OUT);
    return n;
  }

  /** rawRead applies VMIN and VTIME (termios(3), "Noncanonical mode"). */
  private rawRead(fd: FileDescription, dst: Uint8Array): number {
    const ld = this.ld;
    const cc = ld.termios.cc;
    const vmin = cc[T.VMIN];
    const vtime = cc[T.VTIME];
    const avail = ld.inputAvailable();
    const need = Math.max(1, Math.min(vmin, dst.length));
    if (avail >= need || (avail > 0 && fd.nonblocking) || this.timedOut) {
      this.clearTimer();
      return avail ? ld.read(dst) : 0;
    }
    if (vmin === 0 && vtime === 0) return 0;
    if (vtime > 0 && !fd.nonblocking && (vmin === 0 || avail > 0) && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.timedOut = true;
        this.replicaQ.notify(EVENT_IN);
      }, vtime * 100);
    }
    throw linuxerr.EAGAIN;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timedOut = false;
  }

  replicaWrite(src: Uint8Array): number {
    if (this.hungUp) throw linuxerr.EIO;
    if (!this.ld.outputRoom()) throw linuxerr.EAGAIN;
    this.ld.output(src);
    this.masterQ.notify(EVENT_IN);
    return src.length;
  }

  masterReadiness(mask: number): number {
    let r = 0;
    if (this.ld.out.length > 0) r |= EVENT_IN;
    if (this.replicaClosed) r |= EVENT_HUP;
    if (this.ld.inputRoom()) r |= EVENT_OUT;
    return r & (mask | EVENT_HUP | EVENT_ERR);
  }

  replicaReadiness(mask: number): number {
    if (this.hungUp) return (EVENT_IN | EVENT_OUT | EVENT_HUP | EVENT_ERR) & (mask | EVENT_HUP | EVENT_ERR);
    let r = 0;
    if (this.ld.readable(true) || this.timedOut) r |= EVENT_IN;
    if (this.ld.outputRoom()) r |= EVENT_OUT;
    return r & (mask | EVENT_HUP | EVENT_ERR);
  }

  // ---- Job control ----

  /** jobCheck is Linux's tty_check_change (SIGTTOU) and job-control read check
   *  (SIGTTIN): a background process of the terminal's session is stopped, or
   *  gets EIO when it could never be continued. */
  jobCheck(t: Task, sig: number): void {
    if (cttyOf(t) !== this || !this.fgPgid || t.tg.pgid === this.fgPgid) return;
    const tg = t.tg;
    const ignored = tg.sigactions[sig].handler === BigInt(SIG_IGN) || (t.sigmask & sigbit(sig)) !== 0n;
    if (ignored) {
      if (sig === SIGTTIN) throw linuxerr.EIO;
      return;
    }
    if (orphaned(this.kernel, tg.pgid, tg.sid)) throw linuxerr.EIO;
    killPgrp(this.kernel, tg.pgid, sig);
    throw linuxerr.ERESTARTSYS;
  }

  // ---- ioctl ----

  /** ioctl handles a terminal ioctl made on the master (master true) or the replica. */
  ioctl(t: Task, fd: FileDescription, master: boolean, cmd: number, arg: number): number {
    const mm = t.mm;
    const ld = this.ld;
    switch (cmd) {
      case TCGETS:
      case TCGETS2:
        mm.copyOut(arg, ld.termios.encode(cmd === TCGETS2));
        return 0;
      case TCSETS: case TCSETSW: case TCSETSF:
      case TCSETS2: case TCSETSW2: case TCSETSF2: {
        const two = cmd === TCSETS2 || cmd === TCSETSW2 || cmd === TCSETSF2;
        const raw = mm.copyIn(arg, two ? T.SIZEOF_TERMIOS2 : T.SIZEOF_TERMIOS);
        if (!master) this.jobCheck(t, SIGTTOU);
        const n = new Termios();
        n.decode(raw);
        if (!two) {
          n.ispeed = ld.termios.ispeed;
          n.ospeed = ld.termios.ospeed;
        }
        if (cmd === TCSETSF || cmd === TCSETSF2) ld.flushInput();
        ld.setTermios(n);
        this.replicaQ.notify(EVENT_IN | EVENT_OUT);
        this.masterQ.notify(EVENT_IN | EVENT_OUT);
        return 0;
      }
      case TIOCGWINSZ:
        mm.copyOut(arg, this.winsize);
        return 0;
      case TIOCSWINSZ: {
        const ws = mm.copyIn(arg, 8);
        if (ws.every((b, i) => b === this.winsize[i])) return 0;
        this.winsize = ws.slice();
        killPgrp(this.kernel, this.fgPgid, SIGWINCH);
        return 0;
      }
      case FIONREAD:
        mm.writeI32(arg, master ? ld.out.length : ld.inputAvailable());
        return 0;
      case TIOCOUTQ:
        mm.writeI32(arg, 0);
        return 0;
      case TCFLSH: {
        if (arg !== TCIFLUSH && arg !== TCOFLUSH && arg !== TCIOFLUSH) throw linuxerr.EINVAL;
        if (!master) this.jobCheck(t, SIGTTOU);
        // The master's input is the replica's output, and the other way round.
        const flushIn = arg !== TCOFLUSH;
        const flushOut = arg !== TCIFLUSH;
        if (master ? flushOut : flushIn) ld.flushInput();
        if (master ? flushIn : flushOut) ld.out.clear();
        this.replicaQ.notify(EVENT_OUT);
        this.masterQ.notify(EVENT_OUT);
        return 0;
      }
      case TCXONC:
        if (arg === TCOOFF) ld.stopped = true;
        else if (arg === TCOON) ld.stopped = false;
        else if (arg !== 2 && arg !== 3) throw linuxerr.EINVAL;
        this.replicaQ.notify(EVENT_OUT);
        return 0;
      case TCSBRK:
      case TCSBRKP:
        if (!master) this.jobCheck(t, SIGTTOU);
        return 0;
      case TIOCGETD:
        mm.writeI32(arg, 0);
        return 0;
      case TIOCSETD:
        if (mm.readI32(arg) !== 0) throw linuxerr.EINVAL;
        return 0;
      case TIOCEXCL:
        this.exclusive = true;
        return 0;
      case TIOCNXCL:
        this.exclusive = false;
        return 0;
      case TIOCGEXCL:
        mm.writeI32(arg, this.exclusive ? 1 : 0);
        return 0;
      case TIOCSCTTY:
        return this.tiocsctty(t, arg);
      case TIOCNOTTY:
        return this.tiocnotty(t);
      case TIOCGPGRP:
        if (!master && cttyOf(t) !== this) throw linuxerr.ENOTTY;
        mm.writeI32(arg, this.fgPgid);
        return 0;
      case TIOCSPGRP:
        return this.tiocspgrp(t, master, arg);
      case TIOCGSID:
        if ((!master && cttyOf(t) !== this) || !this.sid) throw linuxerr.ENOTTY;
        mm.writeI32(arg, this.sid);
        return 0;
    }
    if (master) {
      switch (cmd) {
        case TIOCGPTN:
          mm.writeI32(arg, this.index);
          return 0;
        case TIOCSPTLCK:
          this.locked = mm.readI32(arg) !== 0;
          return 0;
        case TIOCGPTLCK:
          mm.writeI32(arg, this.locked ? 1 : 0);
          return 0;
        case TIOCPKT:
          this.packet = mm.readI32(arg) !== 0;
          return 0;
        case TIOCGPKT:
          mm.writeI32(arg, this.packet ? 1 : 0);
          return 0;
      }
    }
    t.kernel.log.warnOnce(`pty-ioctl:${cmd}`, `unsupported pseudo-terminal ioctl 0x${cmd.toString(16)}`);
    throw linuxerr.ENOTTY;
  }

  private tiocsctty(t: Task, arg: number): number {
    const tg = t.tg;
    const cur = cttyOf(t);
    if (cur === this) return 0;
    if (tg.sid !== tg.pid || cur) throw linuxerr.EPERM;
    if (this.sid) {
      // Stealing another session's terminal takes CAP_SYS_ADMIN and arg 1.
      if (arg !== 1 || !hasCap(t.creds, CAP_SYS_ADMIN)) throw linuxerr.EPERM;
      this.clearCtty();
    }
    this.setCtty(tg);
    return 0;
  }

  private tiocnotty(t: Task): number {
    if (cttyOf(t) !== this) throw linuxerr.ENOTTY;
    const tg = t.tg;
    if (tg.sid === tg.pid) {
      // disassociate_ctty: the foreground group hears that the session lost its terminal.
      const fg = this.fgPgid;
      this.clearCtty();
      killPgrp(this.kernel, fg, SIGHUP);
      killPgrp(this.kernel, fg, SIGCONT);
    } else {
      detached.add(tg);
    }
    return 0;
  }

  private tiocspgrp(t: Task, master: boolean, arg: number): number {
    const pgid = t.mm.readI32(arg);
    if (cttyOf(t) !== this || this.sid !== t.tg.sid) throw linuxerr.ENOTTY;
    if (!master) this.jobCheck(t, SIGTTOU);
    if (pgid < 0) throw linuxerr.EINVAL;
    let found = false;
    for (const tg of this.kernel.threadGroups.values()) {
      if (tg.pgid !== pgid || tg.exiting) continue;
      if (tg.sid !== this.sid) throw linuxerr.EPERM;
      found = true;
    }
    if (!found) throw linuxerr.ESRCH;
    this.fgPgid = pgid;
    return 0;
  }
}

/** MasterFile is an open /dev/ptmx. */
export class MasterFile implements FileDescriptionImpl {
  readonly term: Terminal;
  readonly waitQueue: WaitQueue;
  private readonly statFn: () => Stat;

  constructor(term: Terminal, statFn: () => Stat) {
    this.term = term;
    this.waitQueue = term.masterQ;
    this.statFn = statFn;
  }

  read(_fd: FileDescription, dst: Uint8Array): number {
    return this.term.masterRead(dst);
  }

  write(_fd: FileDescription, src: Uint8Array): number {
    return this.term.masterWrite(src);
  }

  readiness(mask: number): number {
    return this.term.masterReadiness(mask);
  }

  stat(): Stat {
    return this.statFn();
  }

  ioctl(t: Task, fd: FileDescription, cmd: number, arg: number): number {
    if (cmd === TIOCGPTPEER) return openPeer(t, this.term, arg);
    return this.term.ioctl(t, fd, true, cmd, arg);
  }

  release(): void {
    this.term.closeMaster();
  }
}

/** ReplicaFile is an open /dev/pts/N (or /dev/tty leading to one). */
export class ReplicaFile implements FileDescriptionImpl {
  readonly term: Terminal;
  readonly waitQueue: WaitQueue;

  constructor(term: Terminal) {
    this.term = term;
    this.waitQueue = term.replicaQ;
  }

  read(fd: FileDescription, dst: Uint8Array): number {
    return this.term.replicaRead(fd, dst);
  }

  write(_fd: FileDescription, src: Uint8Array): number {
    return this.term.replicaWrite(src);
  }

  readiness(mask: number): number {
    return this.term.replicaReadiness(mask);
  }

  stat(): Stat {
    return this.term.node!.stat();
  }

  jobControl(t: Task, write: boolean): void {
    if (!write) this.term.jobCheck(t, SIGTTIN);
    else if (this.term.ld.termios.lflag & T.TOSTOP) this.term.jobCheck(t, SIGTTOU);
  }

  ioctl(t: Task, fd: FileDescription, cmd: number, arg: number): number {
    if (this.term.hungUp && cmd !== TIOCGPTPEER) {
      // Hung-up files answer only the generic ioctls (hung_up_tty_ioctl).
      throw cmd === TIOCSPGRP ? linuxerr.ENOTTY : linuxerr.EIO;
    }
    return this.term.ioctl(t, fd, false, cmd, arg);
  }

  release(): void {
    this.term.closeReplica();
  }
}

/** Hook for TIOCGPTPEER, set by devpts (which knows where the replica lives in the tree). */
export let openPeer: (t: Task, term: Terminal, flags: number) => number = () => {
  throw linuxerr.ENOTTY;
};

export function setOpenPeer(fn: (t: Task, term: Terminal, flags: number) => number): void {
  openPeer = fn;
}
