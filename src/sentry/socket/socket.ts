// The family-independent part of sockets (Linux's net/socket.c and
// net/core/sock.c): the Socket file, the family registry socket(2) consults,
// the SOL_SOCKET options every socket shares, and the request objects through
// which the syscall layer drives a family's send and receive.
//
// Blocking follows the VFS protocol: a family never sleeps. sendmsg/recvmsg
// return 'wait' when the caller should sleep on the socket's waitQueue and
// call again with the same request (the request remembers progress); other
// operations throw EAGAIN for the same. A family makes sure its own waitQueue
// is notified when it may proceed, also when the cause is another socket (a
// listener's backlog, a datagram receiver's queue).

import * as linuxerr from '../../abi/linux/errno.js';
import * as linux from '../../abi/linux/file.js';
import { PAGE_SIZE } from '../../abi/linux/mm.js';
import { SIGPIPE } from '../../abi/linux/signal.js';
import { sendToThread, userInfo } from '../kernel/signals.js';
import type { Task } from '../kernel/task.js';
import type { FileDescriptionImpl, Stat } from '../vfs/file_description.js';
import { FileDescription } from '../vfs/file_description.js';
import { now } from '../vfs/inode.js';
import { WaitQueue } from '../vfs/waiter.js';
import * as abi from './abi.js';
import type { UCred } from './abi.js';
import { deviceIoctl } from './netstack/ioctl.js';

/** SOCKFS_DEV is st_dev of every socket (sockfs's anonymous device). */
export const SOCKFS_DEV = 9;
let nextIno = 70000;
let nextCookie = 1;

/** IOStatus is what sendmsg/recvmsg report: finished, or wait and call again. */
export type IOStatus = 'done' | 'wait';

/** ByteSource is a send's payload, consumed from the front. */
export interface ByteSource {
  /** remaining is how many bytes are left to take. */
  readonly remaining: number;
  /** take copies out the next n bytes (n <= remaining) into a fresh array; a
   *  fault makes it shorter and ends the source; EFAULT if nothing could be read. */
  take(n: number): Uint8Array;
  /** takeInto copies the next dst.length bytes (<= remaining) into dst and
   *  returns the count: short on a fault, which ends the source. */
  takeInto(dst: Uint8Array): number;
}

/** ByteSink is a receive's destination. */
export interface ByteSink {
  readonly length: number;
  /** put copies src to offset at; returns the count copied (short on a fault). */
  put(src: Uint8Array, at: number): number;
}

/** BufferSource is a ByteSource over a buffer the caller may reuse (it is copied). */
export class BufferSource implements ByteSource {
  private off = 0;
  constructor(private readonly src: Uint8Array) {}
  get remaining(): number {
    return this.src.length - this.off;
  }
  take(n: number): Uint8Array {
    const out = this.src.slice(this.off, this.off + n);
    this.off += n;
    return out;
  }
  takeInto(dst: Uint8Array): number {
    dst.set(this.src.subarray(this.off, this.off + dst.length));
    this.off += dst.length;
    return dst.length;
  }
}

/** BufferSink is a ByteSink over a buffer. */
export class BufferSink implements ByteSink {
  constructor(private readonly dst: Uint8Array) {}
  get length(): number {
    return this.dst.length;
  }
  put(src: Uint8Array, at: number): number {
    this.dst.set(src, at);
    return src.length;
  }
}

/** SendRequest is one sendmsg in progress. */
export class SendRequest {
  /** sent counts payload bytes already handed over. */
  sent = 0;
  /** Descriptors to pass (SCM_RIGHTS), each holding a reference the request owns.
   *  A family that queues them sets this to null: the references are its own then. */
  rights: FileDescription[] | null = null;
  /** Credentials given with SCM_CREDENTIALS (already checked), or null. */
  creds: UCred | null = null;
  /** The control data as the guest gave it (host-backed families pass vetted messages on). */
  control: Uint8Array | null = null;

  constructor(readonly src: ByteSource, readonly to: Uint8Array | null, readonly flags: number,
    /** nonblock: never return 'wait' (O_NONBLOCK, MSG_DONTWAIT, or a timeout that ran out). */
    public nonblock: boolean) {}

  /** release drops the descriptors no family took. */
  release(): void {
    const r = this.rights;
    this.rights = null;
    if (r) for (const f of r) f.decRef();
  }
}

/** RecvRequest is one recvmsg in progress and what it has gathered. */
export class RecvRequest {
  /** copied counts bytes stored in dst. */
  copied = 0;
  /** result, when set (>= 0), is the return value instead of copied (MSG_TRUNC on datagrams). */
  result = -1;
  /** msgFlags collects MSG_TRUNC/MSG_CTRUNC/MSG_EOR for msg_flags. */
  msgFlags = 0;
  /** from is the source address, when the family knows it. */
  from: Uint8Array | null = null;
  /** Received descriptors: references this request owns until installed or dropped. */
  rights: FileDescription[] | null = null;
  /** Credentials to report (SO_PASSCRED), or null. */
  creds: UCred | null = null;
  /** Family scratch state kept across waits (stream readers: whose credentials are being read). */
  credsLocked = false;
  /** Control messages a host-backed family received (x86-64 cmsg layout), delivered after the rest. */
  hostControl: Uint8Array | null = null;

  constructor(readonly dst: ByteSink, readonly flags: number, public nonblock: boolean,
    /** target: a stream read waits until this much is copied (MSG_WAITALL, SO_RCVLOWAT). */
    readonly target: number) {}

  /** value is what the syscall returns. */
  get value(): number {
    return this.result >= 0 ? this.result : this.copied;
  }

  /** release drops descriptors that were not installed. */
  release(): void {
    const r = this.rights;
    this.rights = null;
    if (r) for (const f of r) f.decRef();
  }
}

/** Timeout is a socket timeout in ms: Infinity blocks forever, 0 never blocks. */
export type Timeout = number;

/** SocketOptions holds the SOL_SOCKET state every family shares. */
export class SocketOptions {
  sndbuf = abi.SOCK_DEFAULT_BUF;
  rcvbuf = abi.SOCK_DEFAULT_BUF;
  rcvtimeo: Timeout = Infinity;
  sndtimeo: Timeout = Infinity;
  rcvlowat = 1;
  passcred = false;
  linger = { onoff: 0, linger: 0 };
  priority = 0;
  mark = 0;
  /** Boolean options that are recorded and reported back (SO_REUSEADDR, SO_KEEPALIVE...). */
  readonly flags = new Map<number, boolean>();
}

/** FLAG_OPTIONS are the int options kept as plain booleans. */
const FLAG_OPTIONS = new Set([
  abi.SO_DEBUG, abi.SO_REUSEADDR, abi.SO_DONTROUTE, abi.SO_BROADCAST, abi.SO_KEEPALIVE, abi.SO_OOBINLINE,
  abi.SO_NO_CHECK, abi.SO_REUSEPORT, abi.SO_PASSSEC, abi.SO_BSDCOMPAT,
]);

const CAP_NET_ADMIN = 12;

/** Socket is an open socket: the file-level object (FileDescriptionImpl) of
 *  every family. Families implement the abstract protocol operations. */
export abstract class Socket implements FileDescriptionImpl {
  abstract readonly family: number;
  readonly type: number;
  readonly protocol: number;
  readonly waitQueue = new WaitQueue();
  readonly opts = new SocketOptions();
  readonly ino = nextIno++;
  readonly cookie = nextCookie++;
  private readonly uid: number;
  private readonly gid: number;
  private readonly ctime = now();
  /** passesRights: SCM_RIGHTS is meaningful for this family (AF_UNIX). */
  readonly passesRights: boolean = false;

  constructor(creds: { fsuid: number; fsgid: number }, type: number, protocol: number) {
    this.type = type;
    this.protocol = protocol;
    this.uid = creds.fsuid;
    this.gid = creds.fsgid;
  }

  // ---- Protocol operations ----

  /** bind gives the socket the address raw (a sockaddr of raw.length bytes). */
  abstract bind(t: Task, raw: Uint8Array): void;
  abstract listen(t: Task, backlog: number): void;
  /** accept takes a pending connection: the new socket. Throws EAGAIN to wait for one. */
  abstract accept(t: Task): Socket;
  /** connect connects to raw. Throws EAGAIN when the caller should wait on waitQueue
   *  for EVENT_OUT and call again (or fail with EAGAIN if non-blocking). */
  abstract connect(t: Task, raw: Uint8Array, nonblock: boolean): void;
  /** name returns the socket's own address (getsockname), or its peer's (getpeername; ENOTCONN). */
  abstract name(t: Task, peer: boolean): Uint8Array;
  /** sendmsg sends from req. Returns 'done' when finished or 'wait' (never when
   *  req.nonblock); throws on error only if nothing was sent. */
  abstract sendmsg(t: Task, req: SendRequest): IOStatus;
  /** recvmsg receives into req, with the same conventions as sendmsg. */
  abstract recvmsg(t: Task, req: RecvRequest): IOStatus;
  abstract shutdown(t: Task, how: number): void;
  abstract readiness(mask: number): number;
  /** inq and outq are what SIOCINQ and SIOCOUTQ report. */
  abstract inq(): number;
  abstract outq(): number;
  /** pendingError returns and clears the pending error (SO_ERROR), 0 if none. */
  abstract takeError(): number;
  /** release tears the socket down; the last reference to its file calls it. */
  abstract release(): void;
  /** isListening answers SO_ACCEPTCONN. */
  abstract get isListening(): boolean;
  /** peerCred answers SO_PEERCRED. */
  peerCred(): UCred {
    return { pid: 0, uid: -1, gid: -1 };
  }

  /** protocolGetsockopt/protocolSetsockopt handle levels other than SOL_SOCKET. */
  protocolGetsockopt(t: Task, level: number, name: number): Uint8Array {
    void t; void level; void name;
    throw linuxerr.EOPNOTSUPP;
  }
  protocolSetsockopt(t: Task, level: number, name: number, val: Uint8Array): void {
    void t; void level; void name; void val;
    throw linuxerr.EOPNOTSUPP;
  }

  // ---- SOL_SOCKET options ----

  /** getsockopt returns an option's whole value; the caller truncates it to optlen. */
  getsockopt(t: Task, level: number, name: number): Uint8Array {
    if (level !== abi.SOL_SOCKET) return this.protocolGetsockopt(t, level, name);
    const o = this.opts;
    if (FLAG_OPTIONS.has(name)) return int32(o.flags.get(name) ? 1 : 0);
    switch (name) {
      case abi.SO_TYPE: return int32(this.type);
      case abi.SO_PROTOCOL: return int32(this.protocol);
      case abi.SO_DOMAIN: return int32(this.family);
      case abi.SO_ERROR: return int32(this.takeError());
      case abi.SO_ACCEPTCONN: return int32(this.isListening ? 1 : 0);
      case abi.SO_SNDBUF: return int32(o.sndbuf);
      case abi.SO_RCVBUF: return int32(o.rcvbuf);
      case abi.SO_PRIORITY: return int32(o.priority);
      case abi.SO_MARK: return int32(o.mark);
      case abi.SO_RCVLOWAT: return int32(o.rcvlowat);
      case abi.SO_SNDLOWAT: return int32(1);
      case abi.SO_PASSCRED: return int32(o.passcred ? 1 : 0);
      case abi.SO_PEEK_OFF: return int32(-1);
      case abi.SO_LINGER: return int32s(o.linger.onoff, o.linger.linger);
      case abi.SO_RCVTIMEO_OLD: case abi.SO_RCVTIMEO_NEW: return timeval(o.rcvtimeo);
      case abi.SO_SNDTIMEO_OLD: case abi.SO_SNDTIMEO_NEW: return timeval(o.sndtimeo);
      case abi.SO_PEERCRED: {
        const c = this.peerCred();
        return int32s(c.pid, c.uid, c.gid);
      }
      case abi.SO_COOKIE: {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, BigInt(this.cookie), true);
        return b;
      }
      default:
        t.kernel.log.warnOnce(`getsockopt:${name}`, `getsockopt(SOL_SOCKET, ${name}) is not supported`);
        throw linuxerr.ENOPROTOOPT;
    }
  }

  setsockopt(t: Task, level: number, name: number, val: Uint8Array): void {
    if (level !== abi.SOL_SOCKET) return this.protocolSetsockopt(t, level, name, val);
    const o = this.opts;
    switch (name) {
      case abi.SO_RCVTIMEO_OLD: case abi.SO_RCVTIMEO_NEW:
        o.rcvtimeo = parseTimeval(val);
        return;
      case abi.SO_SNDTIMEO_OLD: case abi.SO_SNDTIMEO_NEW:
        o.sndtimeo = parseTimeval(val);
        return;
      case abi.SO_LINGER: {
        if (val.length < 8) throw linuxerr.EINVAL;
        const dv = new DataView(val.buffer, val.byteOffset, 8);
        o.linger = { onoff: dv.getInt32(0, true) ? 1 : 0, linger: dv.getInt32(4, true) };
        if (o.linger.onoff) t.kernel.log.warnOnce('so_linger', 'SO_LINGER is recorded; close never lingers');
        return;
      }
    }
    if (val.length < 4) throw linuxerr.EINVAL;
    const v = new DataView(val.buffer, val.byteOffset, 4).getInt32(0, true);
    if (FLAG_OPTIONS.has(name)) {
      if (name === abi.SO_DEBUG && v && !t.creds.hasCap(CAP_NET_ADMIN)) throw linuxerr.EACCES;
      o.flags.set(name, v !== 0);
      return;
    }
    switch (name) {
      case abi.SO_SNDBUF:
      case abi.SO_SNDBUFFORCE: {
        const force = name === abi.SO_SNDBUFFORCE && t.creds.hasCap(CAP_NET_ADMIN);
        if (name === abi.SO_SNDBUFFORCE && !force) throw linuxerr.EPERM;
        o.sndbuf = bufferSize(v, force ? Infinity : abi.WMEM_MAX, abi.SOCK_MIN_SNDBUF);
        this.buffersChanged();
        return;
      }
      case abi.SO_RCVBUF:
      case abi.SO_RCVBUFFORCE: {
        const force = name === abi.SO_RCVBUFFORCE && t.creds.hasCap(CAP_NET_ADMIN);
        if (name === abi.SO_RCVBUFFORCE && !force) throw linuxerr.EPERM;
        o.rcvbuf = bufferSize(v, force ? Infinity : abi.RMEM_MAX, abi.SOCK_MIN_RCVBUF);
        this.buffersChanged();
        return;
      }
      case abi.SO_PRIORITY:
        if ((v < 0 || v > 6) && !t.creds.hasCap(CAP_NET_ADMIN)) throw linuxerr.EPERM;
        o.priority = v;
        return;
      case abi.SO_MARK:
        if (!t.creds.hasCap(CAP_NET_ADMIN)) throw linuxerr.EPERM;
        o.mark = v >>> 0;
        return;
      case abi.SO_RCVLOWAT:
        o.rcvlowat = v < 0 ? 0x7fff_ffff : v || 1;
        return;
      case abi.SO_PASSCRED:
        o.passcred = v !== 0;
        return;
      case abi.SO_TYPE: case abi.SO_PROTOCOL: case abi.SO_DOMAIN: case abi.SO_ERROR: case abi.SO_ACCEPTCONN:
      case abi.SO_PEERCRED: case abi.SO_SNDLOWAT: case abi.SO_COOKIE:
        throw linuxerr.ENOPROTOOPT;
      default:
        t.kernel.log.warnOnce(`setsockopt:${name}`, `setsockopt(SOL_SOCKET, ${name}) is not supported`);
        throw linuxerr.ENOPROTOOPT;
    }
  }

  /** buffersChanged lets a family wake writers after SO_SNDBUF/SO_RCVBUF grew. */
  protected buffersChanged(): void {
    this.waitQueue.notify(0x4);
  }

  // ---- File operations ----

  stat(): Stat {
    const t = this.ctime;
    return {
      dev: SOCKFS_DEV, ino: this.ino, mode: linux.S_IFSOCK | 0o777, nlink: 1, uid: this.uid, gid: this.gid,
      rdev: 0, size: 0, blksize: PAGE_SIZE, blocks: 0, atime: t, mtime: t, ctime: t,
    };
  }

  ioctl(t: Task, _fd: FileDescription, cmd: number, arg: number): number {
    switch (cmd) {
      case abi.SIOCINQ:
        t.mm.writeI32(arg, this.inq());
        return 0;
      case abi.SIOCOUTQ:
        t.mm.writeI32(arg, this.outq());
        return 0;
      default: {
        const r = deviceIoctl(t, cmd, arg);
        if (r !== null) return r;
        t.kernel.log.warnOnce(`sockioctl:${cmd}`, `socket ioctl 0x${cmd.toString(16)} is not supported`);
        throw linuxerr.ENOTTY;
      }
    }
  }
}

// ---- Families ----

/** SocketFamily makes sockets of one address family. */
export interface SocketFamily {
  /** create implements socket(2) for this family; type has no SOCK_* flags. */
  create(t: Task, type: number, protocol: number): Socket;
  /** pair implements socketpair(2); absent means EOPNOTSUPP. */
  pair?(t: Task, type: number, protocol: number): [Socket, Socket];
}

const families = new Map<number, SocketFamily>();

/** registerFamily makes socket(domain, ...) use fam. */
export function registerFamily(domain: number, fam: SocketFamily): void {
  families.set(domain, fam);
}

/** familyOf returns the registered family, or null. */
export function familyOf(domain: number): SocketFamily | null {
  return families.get(domain) ?? null;
}

/** newSocketFile opens a description for sock; its /proc/self/fd link reads socket:[ino]. */
export function newSocketFile(sock: Socket, nonblock: boolean): FileDescription {
  return new FileDescription(sock, linux.O_RDWR | (nonblock ? linux.O_NONBLOCK : 0), `socket:[${sock.ino}]`);
}

/** socketOf returns the socket behind a description, or null. */
export function socketOf(fd: FileDescription): Socket | null {
  return fd.impl instanceof Socket ? fd.impl : null;
}

/** raiseSigpipe sends SIGPIPE to the calling thread, as a write to a broken connection does. */
export function raiseSigpipe(t: Task): void {
  sendToThread(t, SIGPIPE, userInfo(SIGPIPE, t.tg.pid, t.creds.uid));
}

/** EPIPE_NOSIGNAL is EPIPE for the generic write path without its SIGPIPE (datagram sockets never raise it). */
export const EPIPE_NOSIGNAL = new linuxerr.SyscallError(linuxerr.EPIPE.errno, 'broken pipe (no SIGPIPE)');

// ---- Option encoding ----

function int32(v: number): Uint8Array {
  return int32s(v);
}

function int32s(...v: number[]): Uint8Array {
  const b = new Uint8Array(4 * v.length);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setInt32(4 * i, x | 0, true));
  return b;
}

/** bufferSize applies Linux's SO_SNDBUF/SO_RCVBUF rule: capped, doubled, floored. */
export function bufferSize(v: number, max: number, min: number): number {
  // The value is unsigned there: a negative request is a huge one.
  const req = Math.min(v < 0 ? 0x7fff_ffff : v, max, 0x7fff_ffff / 2);
  return Math.max(req * 2, min);
}

/** timeval encodes a timeout for getsockopt (0,0 means forever). */
function timeval(ms: Timeout): Uint8Array {
  const b = new Uint8Array(16);
  if (ms !== Infinity) {
    const dv = new DataView(b.buffer);
    const sec = Math.floor(ms / 1000);
    dv.setBigInt64(0, BigInt(sec), true);
    dv.setBigInt64(8, BigInt(Math.round((ms - sec * 1000) * 1000)), true);
  }
  return b;
}

/** parseTimeval decodes a SO_RCVTIMEO/SO_SNDTIMEO value (sock_set_timeout). */
export function parseTimeval(val: Uint8Array): Timeout {
  if (val.length < 16) throw linuxerr.EINVAL;
  const dv = new DataView(val.buffer, val.byteOffset, 16);
  const sec = Number(dv.getBigInt64(0, true));
  const usec = Number(dv.getBigInt64(8, true));
  if (usec < 0 || usec >= 1_000_000) throw linuxerr.EDOM;
  // A negative time means "do not wait" there; zero means forever.
  if (sec < 0) return 0;
  if (sec === 0 && usec === 0) return Infinity;
  // Whole milliseconds, rounded up (a 1000 Hz tick).
  return sec * 1000 + Math.ceil(usec / 1000);
}
