// Terminal ioctls for host file descriptions. A real host terminal keeps its
// own line discipline: termios and window size pass through to it. Job
// control state (the foreground process group) is the sandbox's, kept here
// per terminal, since host process groups mean nothing to the guest.

import * as linuxerr from '../../../abi/linux/errno.js';
import { native } from '../../../platform/ptrace/native.js';
import type { Task } from '../../kernel/task.js';
import { TCGETS, TCSETS, TCSETSW, TCSETSF, TCSBRK, TCXONC, TCFLSH, TIOCSCTTY, TIOCGPGRP, TIOCSPGRP, TIOCOUTQ, TIOCGWINSZ, TIOCSWINSZ, FIONREAD, TIOCNOTTY, TIOCGETD, TCSBRKP, TIOCGSID, TCGETS2, TCSETS2, TCSETSW2, TCSETSF2 } from '../../../abi/linux/tty.js';


/** TCFLSH arguments that discard pending input. */
const TCIFLUSH = 0;
const TCIOFLUSH = 2;

const SIZEOF_TERMIOS = 36;
const SIZEOF_TERMIOS2 = 44;
const SIZEOF_WINSIZE = 8;

/** TtyState is the sandbox's view of one host terminal. */
export class TtyState {
  /** Foreground process group; 0 until set, meaning the init process's group. */
  fgPgid = 0;
  /** Called when queued input must be discarded (TCSETSF, TCFLSH). */
  flushInput: () => void = () => {};
}

const ttys = new Map<string, TtyState>();

/** ttyState returns the state of the host terminal identified by key (its rdev). */
export function ttyState(key: string): TtyState {
  let s = ttys.get(key);
  if (!s) {
    s = new TtyState();
    ttys.set(key, s);
  }
  return s;
}

function hostIoctl(hostFd: number, cmd: number, buf: Uint8Array | null, arg: number): number {
  const r = native.ioctl(hostFd, cmd, buf, arg);
  if (r < 0) throw linuxerr.fromErrno(-r);
  return r;
}

function passIn(t: Task, hostFd: number, cmd: number, arg: number, size: number): number {
  const buf = t.mm.copyIn(arg, size);
  return hostIoctl(hostFd, cmd, buf, 0);
}

function passOut(t: Task, hostFd: number, cmd: number, arg: number, size: number): number {
  const buf = new Uint8Array(size);
  const r = hostIoctl(hostFd, cmd, buf, 0);
  t.mm.copyOut(arg, buf);
  return r;
}

/** ttyIoctl handles a terminal ioctl on a host terminal; buffered is the input the
 *  Sentry has already read ahead (counted by FIONREAD). Throws ENOTTY for others. */
export function ttyIoctl(t: Task, hostFd: number, st: TtyState, buffered: number, cmd: number, arg: number): number {
  switch (cmd) {
    case TCGETS:
      return passOut(t, hostFd, cmd, arg, SIZEOF_TERMIOS);
    case TCGETS2:
      return passOut(t, hostFd, cmd, arg, SIZEOF_TERMIOS2);
    case TCSETSF:
    case TCSETSF2:
      st.flushInput();
      return passIn(t, hostFd, cmd, arg, cmd === TCSETSF ? SIZEOF_TERMIOS : SIZEOF_TERMIOS2);
    case TCSETS:
    case TCSETSW:
      return passIn(t, hostFd, cmd, arg, SIZEOF_TERMIOS);
    case TCSETS2:
    case TCSETSW2:
      return passIn(t, hostFd, cmd, arg, SIZEOF_TERMIOS2);
    case TIOCGWINSZ:
      return passOut(t, hostFd, cmd, arg, SIZEOF_WINSIZE);
    case TIOCSWINSZ:
      return passIn(t, hostFd, cmd, arg, SIZEOF_WINSIZE);
    case TCFLSH:
      if (arg === TCIFLUSH || arg === TCIOFLUSH) st.flushInput();
      return hostIoctl(hostFd, cmd, null, arg);
    case TCXONC:
    case TCSBRK:
    case TCSBRKP:
      return hostIoctl(hostFd, cmd, null, arg);
    case TIOCOUTQ:
    case TIOCGETD:
      return passOut(t, hostFd, cmd, arg, 4);
    case FIONREAD: {
      const buf = new Uint8Array(4);
      hostIoctl(hostFd, cmd, buf, 0);
      const n = new DataView(buf.buffer).getInt32(0, true);
      t.mm.writeI32(arg, n + buffered);
      return 0;
    }
    case TIOCGPGRP:
      t.mm.writeI32(arg, foreground(t, st));
      return 0;
    case TIOCSPGRP: {
      const pgid = t.mm.readI32(arg);
      if (pgid < 0) throw linuxerr.EINVAL;
      let found = false;
      for (const tg of t.kernel.threadGroups.values()) {
        if (tg.pgid !== pgid) continue;
        if (tg.sid !== t.tg.sid) throw linuxerr.EPERM;
        found = true;
        break;
      }
      if (!found) throw linuxerr.ESRCH;
      st.fgPgid = pgid;
      return 0;
    }
    case TIOCGSID:
      t.mm.writeI32(arg, t.kernel.init?.sid ?? t.tg.sid);
      return 0;
    case TIOCSCTTY:
    case TIOCNOTTY:
      // The sandbox's terminal is every guest process's controlling terminal.
      return 0;
    default:
      t.kernel.log.warnOnce(`tty-ioctl:${cmd}`, `unsupported terminal ioctl 0x${cmd.toString(16)}`);
      throw linuxerr.ENOTTY;
  }
}

function foreground(t: Task, st: TtyState): number {
  return st.fgPgid || (t.kernel.init?.pgid ?? t.tg.pgid);
}
