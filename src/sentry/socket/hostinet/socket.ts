// HostSocket: a guest AF_INET/AF_INET6 socket backed by a host socket the
// Sentry owns (--network=host, gVisor's hostinet). The host socket is always
// non-blocking: every operation is one host call that either progresses or
// says EAGAIN, and then the syscall layer sleeps on the socket's waitQueue,
// which the notifier (notifier.ts) wakes when the host socket changes. So a
// blocked guest call never blocks the Sentry, O_NONBLOCK is the guest file's
// flag alone, and a signal ends the wait with EINTR as for any socket.

import { closeSync, fstatSync } from 'node:fs';
import * as linuxerr from '../../../abi/linux/errno.js';
import { native } from '../../../platform/ptrace/native.js';
import type { Task } from '../../kernel/task.js';
import type { FileDescription } from '../../vfs/file_description.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_PRI, EVENT_RDHUP } from '../../vfs/waiter.js';
import * as abi from '../abi.js';
import type { IOStatus } from '../socket.js';
import { EPIPE_NOSIGNAL, RecvRequest, SendRequest, Socket, raiseSigpipe } from '../socket.js';
import { drainNotifier, unwatch, watch } from './notifier.js';
import { SOL_SOCKET, levelFits, optionRule } from './options.js';
import { hostIoctl } from './ioctl.js';
import { guestRecvControl, hostSendControl } from './control.js';

const EAGAIN = linuxerr.EAGAIN.errno;
const EINPROGRESS = linuxerr.EINPROGRESS.errno;
const EPIPE = linuxerr.EPIPE.errno;
const SO_ERROR = 4;
const SO_RCVLOWAT = 18;
const CAP_NET_BIND_SERVICE = 10;
const SOCKADDR_MAX = 128;
/** The most one host send or receive moves: bounds the Sentry's copy per step. */
const CHUNK = 256 * 1024;
/** The largest datagram an IP socket can carry (IPv6 jumbograms aside). */
const MAX_DGRAM = 65536;
/** Flags a send may pass on; MSG_DONTWAIT and MSG_NOSIGNAL are always added
 *  (the Sentry waits and raises SIGPIPE itself). */
const SEND_FLAGS = abi.MSG_OOB | abi.MSG_DONTROUTE | abi.MSG_EOR | abi.MSG_MORE | 0x800 /* MSG_CONFIRM */;
/** Flags a receive may pass on (MSG_WAITALL is the Sentry's: it loops). */
const RECV_FLAGS = abi.MSG_OOB | abi.MSG_PEEK | abi.MSG_TRUNC | abi.MSG_ERRQUEUE;
/** msg_flags bits a host receive reports back. */
const RESULT_FLAGS = abi.MSG_TRUNC | abi.MSG_CTRUNC | abi.MSG_EOR | abi.MSG_OOB | abi.MSG_ERRQUEUE;
/** Space for the control messages a receive brings back (timestamps, packet info, errors). */
const CONTROL_MAX = 512;

/** Scratch buffers shared by all sockets: the Sentry handles one call at a time. */
const scratch = new Uint8Array(CHUNK);
const addrBuf = new Uint8Array(SOCKADDR_MAX);
const controlBuf = new Uint8Array(CONTROL_MAX);
const info = new Int32Array(3);
const lenOut = new Int32Array(1);
const intBuf = new Uint8Array(4);

/** unsent keeps the bytes a blocking send took from the guest but the host did not take yet. */
const unsent = new WeakMap<SendRequest, Uint8Array>();

/** err turns a -errno from the host into the guest's errno sentinel. */
function err(r: number): linuxerr.SyscallError {
  return linuxerr.fromErrno(-r);
}

export class HostSocket extends Socket {
  readonly family: number;
  private fd: number;
  private readonly stream: boolean;
  /** A blocking connect is waiting for the host's handshake. */
  private connectWait = false;
  /** registry lists the kernel's live inet host sockets (for /proc/net and sock_diag). */
  private readonly registry: Set<HostSocket> | null;
  private hostIno_ = -1;

  constructor(creds: { fsuid: number; fsgid: number }, family: number, type: number, protocol: number, fd: number,
    registry: Set<HostSocket> | null = null) {
    super(creds, type, protocol);
    this.family = family;
    this.fd = fd;
    this.stream = type === abi.SOCK_STREAM;
    this.registry = registry;
    const r = watch(fd, this.waitQueue);
    if (r < 0) {
      closeSync(fd);
      this.fd = -1;
      throw err(r);
    }
    registry?.add(this);
  }

  /** hostFd is the host socket (tests, diagnostics). */
  get hostFd(): number {
    return this.fd;
  }

  /** hostIno is the host socket's inode (the inode column of the host's
   *  /proc/net files), or 0 once released. */
  get hostIno(): number {
    if (this.hostIno_ < 0 && this.fd >= 0) {
      try {
        this.hostIno_ = fstatSync(this.fd).ino;
      } catch {
        return 0;
      }
    }
    return Math.max(0, this.hostIno_);
  }

  /** hostOption reads an option of the host socket (at most size bytes), or null when the host refuses. */
  hostOption(level: number, name: number, size: number): Uint8Array | null {
    if (this.fd < 0) return null;
    const b = new Uint8Array(size);
    const r = native.netGetsockopt(this.fd, level, name, b);
    return r < 0 ? null : b.subarray(0, r);
  }

  get isListening(): boolean {
    return this.intOption(SOL_SOCKET, 30 /* SO_ACCEPTCONN */) !== 0;
  }

  // ---- Names and connections ----

  bind(t: Task, raw: Uint8Array): void {
    // The guest's privilege counts first; the host then applies its own.
    if (this.family !== abi.AF_NETLINK && raw.length >= 4 && (raw[0] | (raw[1] << 8)) === this.family) {
      const port = (raw[2] << 8) | raw[3];
      if (port !== 0 && port < 1024 && !t.creds.hasCap(CAP_NET_BIND_SERVICE)) throw linuxerr.EACCES;
    }
    const r = native.netBind(this.fd, raw);
    if (r < 0) throw err(r);
  }

  listen(_t: Task, backlog: number): void {
    const r = native.netListen(this.fd, backlog);
    if (r < 0) throw err(r);
  }

  accept(t: Task): Socket {
    const r = native.netAccept(this.fd, addrBuf, lenOut);
    if (r < 0) throw err(r);
    const s = new HostSocket(t.creds, this.family, this.type, this.protocol, r, this.registry);
    // Linux clones the listener's sock: the Sentry-side options carry over.
    const o = this.opts;
    Object.assign(s.opts, { rcvtimeo: o.rcvtimeo, sndtimeo: o.sndtimeo, rcvlowat: o.rcvlowat, priority: o.priority, mark: o.mark });
    return s;
  }

  connect(_t: Task, raw: Uint8Array, nonblock: boolean): void {
    if (this.connectWait) {
      // A blocking connect woke up (or restarted after a signal): has the handshake ended?
      if ((this.readiness(EVENT_OUT) & (EVENT_OUT | EVENT_ERR | EVENT_HUP)) === 0) {
        if (nonblock) throw linuxerr.EALREADY;
        throw linuxerr.EAGAIN;
      }
      this.connectWait = false;
      const e = this.takeError();
      if (e) throw linuxerr.fromErrno(e);
      return;
    }
    const r = native.netConnect(this.fd, raw);
    if (r >= 0) {
      drainNotifier(); // a listener in the sandbox may have a connection to accept now
      return;
    }
    if (-r !== EINPROGRESS || nonblock) {
      if (-r === EINPROGRESS) drainNotifier();
      throw err(r);
    }
    // No drain here: the event that ends the handshake must reach the waiter
    // the syscall layer registers next. Over loopback it may be over already.
    this.connectWait = true;
    if ((this.readiness(EVENT_OUT) & (EVENT_OUT | EVENT_ERR | EVENT_HUP)) !== 0) return this.connect(_t, raw, nonblock);
    throw linuxerr.EAGAIN;
  }

  name(_t: Task, peer: boolean): Uint8Array {
    const r = native.netName(this.fd, peer ? 1 : 0, addrBuf);
    if (r < 0) throw err(r);
    return addrBuf.slice(0, Math.min(r, SOCKADDR_MAX));
  }

  shutdown(_t: Task, how: number): void {
    const r = native.netShutdown(this.fd, how);
    if (r < 0) throw err(r);
    drainNotifier();
  }

  // ---- Sending ----

  sendmsg(t: Task, req: SendRequest): IOStatus {
    return this.send(t, req);
  }

  /** send moves req's payload to the host socket; t is null for write(2) (no SIGPIPE here). */
  private send(t: Task | null, req: SendRequest): IOStatus {
    const flags = (req.flags & SEND_FLAGS) | abi.MSG_DONTWAIT | abi.MSG_NOSIGNAL;
    const to = req.to && req.to.length ? req.to : null;
    // Ancillary data goes with the first bytes (a stream) or the datagram, until they are taken.
    let control = req.sent === 0 ? hostSendControl(req.control) : null;
    for (;;) {
      let data = unsent.get(req);
      if (data) unsent.delete(req);
      else if (this.stream) data = req.src.take(Math.min(req.src.remaining, CHUNK));
      else {
        if (req.src.remaining > MAX_DGRAM) throw linuxerr.EMSGSIZE;
        data = req.src.take(req.src.remaining);
      }
      const r = native.netSendmsg(this.fd, data, to, control, flags);
      if (r >= 0) {
        control = null;
        req.sent += r;
        drainNotifier(); // wake a receiver in the sandbox at once
        if (!this.stream) return 'done';
        if (r < data.length) {
          // The host's buffer is full: the rest waits for room (or is dropped, non-blocking).
          if (req.nonblock) return 'done';
          unsent.set(req, data.subarray(r));
          return 'wait';
        }
        if (req.src.remaining === 0) return 'done';
        continue;
      }
      if (req.sent > 0 && (req.nonblock || -r !== EAGAIN)) return 'done';
      if (-r === EAGAIN) {
        if (req.nonblock) throw linuxerr.EAGAIN;
        unsent.set(req, data);
        return 'wait';
      }
      if (-r === EPIPE) {
        if (!this.stream) throw EPIPE_NOSIGNAL;
        if (t && !(req.flags & abi.MSG_NOSIGNAL)) raiseSigpipe(t);
      }
      throw err(r);
    }
  }

  // ---- Receiving ----

  recvmsg(_t: Task, req: RecvRequest): IOStatus {
    // The error queue never waits (an empty one is EAGAIN), and its messages
    // carry their sock_extended_err as control data on streams too.
    if (req.flags & abi.MSG_ERRQUEUE) return this.dgramRecv(req, true);
    return this.stream ? this.streamRecv(req) : this.dgramRecv(req);
  }

  private streamRecv(req: RecvRequest): IOStatus {
    const flags = (req.flags & RECV_FLAGS) | abi.MSG_DONTWAIT;
    const peek = (req.flags & abi.MSG_PEEK) !== 0;
    const discard = (req.flags & abi.MSG_TRUNC) !== 0;
    if (req.dst.length === 0 && !(req.flags & abi.MSG_OOB)) return 'done';
    for (;;) {
      // A peek reads from the front every time: it restarts rather than appends.
      const at = peek ? 0 : req.copied;
      const want = Math.min(req.dst.length - at, CHUNK);
      const r = native.netRecvmsg(this.fd, scratch.subarray(0, want), null, null, flags, info);
      if (r < 0) {
        if (-r === EAGAIN) {
          if (req.copied >= req.target) return 'done';
          if (!req.nonblock) return 'wait';
          if (req.copied > 0) return 'done';
        }
        if (req.copied > 0) return 'done';
        throw err(r);
      }
      req.msgFlags |= info[2] & RESULT_FLAGS;
      if (r === 0) return 'done'; // end of stream
      const n = discard ? r : req.dst.put(scratch.subarray(0, Math.min(r, want)), at);
      if (n === 0 && r > 0 && req.copied === 0) throw linuxerr.EFAULT;
      req.copied = at + n;
      drainNotifier(); // room freed for a sender in the sandbox
      if (n < r || req.copied >= req.target || req.copied >= req.dst.length || (req.flags & abi.MSG_OOB)) return 'done';
      if (peek) return req.nonblock ? 'done' : 'wait';
    }
  }

  private dgramRecv(req: RecvRequest, errQueue = false): IOStatus {
    const flags = (req.flags & RECV_FLAGS) | abi.MSG_DONTWAIT;
    const want = Math.min(req.dst.length, scratch.length);
    const r = native.netRecvmsg(this.fd, scratch.subarray(0, want), addrBuf, controlBuf, flags, info);
    if (r < 0) {
      if (-r === EAGAIN && !req.nonblock && !errQueue) {
        // After SHUT_RD a blocking receive ends with 0 where the host's
        // non-blocking one says EAGAIN: poll tells the two apart.
        if (this.readiness(EVENT_RDHUP) & EVENT_RDHUP) return 'done';
        return 'wait';
      }
      throw err(r);
    }
    const n = Math.min(r, want);
    const c = n > 0 ? req.dst.put(scratch.subarray(0, n), 0) : 0;
    if (c === 0 && n > 0) throw linuxerr.EFAULT;
    req.copied = c;
    req.msgFlags |= info[2] & RESULT_FLAGS;
    if (req.flags & abi.MSG_TRUNC) req.result = r;
    if (info[0] > 0) req.from = addrBuf.slice(0, Math.min(info[0], SOCKADDR_MAX));
    req.hostControl = guestRecvControl(controlBuf, info[1]);
    return 'done';
  }

  // ---- State ----

  readiness(mask: number): number {
    const r = native.netPoll(this.fd, (mask & (EVENT_IN | EVENT_OUT | EVENT_PRI | EVENT_RDHUP)) | EVENT_ERR | EVENT_HUP);
    if (r < 0) return EVENT_ERR & mask;
    return r & (mask | EVENT_HUP | EVENT_ERR);
  }

  inq(): number {
    return this.queueIoctl(abi.SIOCINQ);
  }

  outq(): number {
    return this.queueIoctl(abi.SIOCOUTQ);
  }

  private queueIoctl(cmd: number): number {
    const b = new Int32Array(1);
    const r = native.ioctl(this.fd, cmd, new Uint8Array(b.buffer), 0);
    if (r < 0) throw err(r);
    return b[0];
  }

  takeError(): number {
    return this.intOption(SOL_SOCKET, SO_ERROR);
  }

  private intOption(level: number, name: number): number {
    const r = native.netGetsockopt(this.fd, level, name, intBuf);
    if (r < 0) throw err(r);
    return new DataView(intBuf.buffer).getInt32(0, true);
  }

  release(): void {
    if (this.fd < 0) return;
    this.registry?.delete(this);
    unwatch(this.fd);
    try {
      closeSync(this.fd);
    } catch {
      // nothing to do: the descriptor is gone either way
    }
    this.fd = -1;
    drainNotifier(); // the peer of a connection in the sandbox sees the close
  }

  override ioctl(t: Task, fd: FileDescription, cmd: number, arg: number): number {
    const r = hostIoctl(t, this.fd, cmd, arg);
    return r ?? super.ioctl(t, fd, cmd, arg);
  }

  // ---- Options ----

  override getsockopt(t: Task, level: number, name: number): Uint8Array {
    const rule = optionRule(level, name);
    if (!rule || rule.getSize === 0) {
      if (level === SOL_SOCKET) return super.getsockopt(t, level, name);
      return this.refuse(t, level, name, true);
    }
    // A level the socket lacks: ip_getsockopt says EOPNOTSUPP (setsockopt ENOPROTOOPT).
    if (!levelFits(level, this.family, this.stream)) throw linuxerr.EOPNOTSUPP;
    const b = new Uint8Array(rule.getSize);
    const r = native.netGetsockopt(this.fd, level, name, b);
    if (r < 0) throw err(r);
    return b.subarray(0, r);
  }

  override setsockopt(t: Task, level: number, name: number, val: Uint8Array): void {
    if (level === SOL_SOCKET && name === abi.SO_LINGER) return this.setLinger(t, val);
    const rule = optionRule(level, name);
    if (!rule || !rule.set) {
      if (level === SOL_SOCKET) return super.setsockopt(t, level, name, val);
      this.refuse(t, level, name);
    }
    if (!levelFits(level, this.family, this.stream)) throw linuxerr.ENOPROTOOPT;
    // The Sentry-side copies matter too: SO_RCVLOWAT sets how long a read waits,
    // SO_PRIORITY's check is the guest's.
    if (level === SOL_SOCKET && (name === SO_RCVLOWAT || name === abi.SO_PRIORITY)) super.setsockopt(t, level, name, val);
    const r = native.netSetsockopt(this.fd, level, name, val);
    if (r < 0) throw err(r);
  }

  /** setLinger records SO_LINGER (getsockopt reports it) but gives the host only an
   *  abortive close (linger 0): a lingering close(2) would block the whole Sentry. */
  private setLinger(t: Task, val: Uint8Array): void {
    super.setsockopt(t, SOL_SOCKET, abi.SO_LINGER, val);
    const l = this.opts.linger;
    const v = new Uint8Array(8);
    new DataView(v.buffer).setInt32(0, l.onoff && l.linger === 0 ? 1 : 0, true);
    const r = native.netSetsockopt(this.fd, SOL_SOCKET, abi.SO_LINGER, v);
    if (r < 0) throw err(r);
  }

  private refuse(t: Task, level: number, name: number, get = false): never {
    if (levelFits(level, this.family, this.stream)) {
      t.kernel.log.warnOnce(`hostinet:opt:${level}:${name}`, `hostinet: socket option level ${level} name ${name} is not passed to the host (ENOPROTOOPT)`);
      throw linuxerr.ENOPROTOOPT;
    }
    throw get ? linuxerr.EOPNOTSUPP : linuxerr.ENOPROTOOPT;
  }

  // ---- File operations: read(2) and write(2) ----

  read(_fd: FileDescription, dst: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    // Never waits here: the generic read path sleeps on EAGAIN.
    const r = native.netRecvmsg(this.fd, dst, null, null, abi.MSG_DONTWAIT, info);
    if (r < 0) throw err(r);
    if (r > 0) drainNotifier();
    return r;
  }

  write(_fd: FileDescription, src: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    // The generic write path waits, and raises SIGPIPE on EPIPE itself.
    const r = native.netSendmsg(this.fd, src, null, null, abi.MSG_DONTWAIT | abi.MSG_NOSIGNAL);
    if (r < 0) throw -r === EPIPE && !this.stream ? EPIPE_NOSIGNAL : err(r);
    drainNotifier();
    return r;
  }
}
