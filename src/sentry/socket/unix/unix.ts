// AF_UNIX sockets (Linux's net/unix/af_unix.c): SOCK_STREAM, SOCK_SEQPACKET
// and SOCK_DGRAM endpoints, connected back to back in memory.
//
// A connection is two UnixSockets that are each other's peer; each has its
// own receive queue, and a sender's messages are charged to its send buffer
// (wmem) until the receiver consumes them, which is what makes a stream
// writer block. A listener keeps its pending connections, the server-side
// sockets connect() already made and linked to the client (so a client may
// write before accept). Datagram sockets are connected one way, or address
// each message.
//
// Nothing here sleeps. Operations that must wait throw EAGAIN or return
// 'wait'; the waiter sleeps on its own socket's queue, and whoever can let it
// proceed notifies that queue: a reader consuming (sender's EVENT_OUT), a
// listener accepting or a receiver dequeuing (relayed to the sockets in its
// `waiters` set).

import * as linuxerr from '../../../abi/linux/errno.js';
import type { SyscallError } from '../../../abi/linux/errno.js';
import { AT_FDCWD } from '../../../abi/linux/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import { sandboxLimits } from '../../kernel/limits.js';
import type { Task } from '../../kernel/task.js';
import type { FileDescription } from '../../vfs/file_description.js';
import type { Inode } from '../../vfs/inode.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDHUP } from '../../vfs/waiter.js';
import * as abi from '../abi.js';
import type { UCred } from '../abi.js';
import type { IOStatus } from '../socket.js';
import {
  BufferSink, BufferSource, EPIPE_NOSIGNAL, RecvRequest, SendRequest, Socket, raiseSigpipe, registerFamily,
} from '../socket.js';
import type { UnixAddress } from './address.js';
import { UNNAMED, abstractAddress, autobindName, family, isAutobindRequest, parseUnixAddress } from './address.js';
import {
  abstractTaken, bindAbstract, bindPath, findAbstract, findPath, unbindAbstract, unbindPath,
} from './names.js';
import type { UnixMessage } from './queue.js';
import { MessageQueue, dropRights, truesize } from './queue.js';

export const enum State {
  Unconnected = 0,
  Listening = 1,
  Connected = 2,
}

/** net.unix.max_dgram_qlen: datagrams queued beyond this block senders the receiver is not connected to. */
const MAX_DGRAM_QLEN = 10;
const ALL_EVENTS = EVENT_IN | EVENT_OUT | EVENT_ERR | EVENT_HUP | EVENT_RDHUP;

/** Live sockets per kernel, for /proc/net/unix. */
const live = new WeakMap<Kernel, Set<UnixSocket>>();

/** unixSockets lists k's open Unix sockets. */
export function unixSockets(k: Kernel): UnixSocket[] {
  return [...(live.get(k) ?? [])];
}
/** What SCM_CREDENTIALS reports for a message sent without credentials. */
const NO_CREDS: UCred = { pid: 0, uid: abi.OVERFLOW_ID, gid: abi.OVERFLOW_ID };

/** Identity is who is sending, for default credentials; write(2) has no task at hand. */
interface Identity {
  pid: number;
  uid: number;
  gid: number;
}

export class UnixSocket extends Socket {
  readonly family = abi.AF_UNIX;
  override readonly passesRights = true;
  readonly kernel: Kernel;
  state = State.Unconnected;
  /** The bound name (for an accepted socket: its listener's). */
  addr: UnixAddress | null = null;
  /** Set when this socket owns its name binding (and must release it). */
  private boundNode: Inode | null = null;
  private boundAbstract = false;
  peer: UnixSocket | null = null;
  readonly queue = new MessageQueue();
  /** wmem is the truesize of this socket's messages still queued at a receiver. */
  wmem = 0;
  /** shut holds RCV_SHUTDOWN and SEND_SHUTDOWN. */
  shut = 0;
  private err: SyscallError | null = null;
  /** SO_PEERCRED: the peer's identity when the connection was made (listener: its own). */
  private cred: UCred | null = null;
  private backlog = 0;
  private readonly pending: UnixSocket[] = [];
  /** Sockets to wake (EVENT_OUT) when this one has room: connectors, datagram senders. */
  private readonly waiters = new Set<UnixSocket>();
  /** embryo: a server-side socket not yet accepted (it always receives credentials). */
  embryo = false;
  dead = false;
  /** Who made the socket: the default identity for write(2) with SO_PASSCRED. */
  private readonly maker: Identity;

  constructor(t: Task, type: number, protocol: number) {
    super(t.creds, type, protocol);
    this.kernel = t.kernel;
    this.maker = identityOf(t);
    let set = live.get(t.kernel);
    if (!set) live.set(t.kernel, (set = new Set()));
    set.add(this);
  }

  get isListening(): boolean {
    return this.state === State.Listening;
  }

  get stream(): boolean {
    return this.type === abi.SOCK_STREAM;
  }

  /** connectionOriented: stream or seqpacket. */
  private get connOriented(): boolean {
    return this.type !== abi.SOCK_DGRAM;
  }

  // ---- Names ----

  bind(t: Task, raw: Uint8Array): void {
    if (isAutobindRequest(raw)) {
      this.autobind();
      return;
    }
    const a = parseUnixAddress(raw);
    if (a.kind === 'abstract') {
      if (this.addr) throw linuxerr.EINVAL;
      bindAbstract(this.kernel, this, a.name);
      this.boundAbstract = true;
      this.addr = a;
      return;
    }
    // Linux makes the node first: an existing path is EADDRINUSE even for a bound socket.
    const node = bindPath(t, this, a.path);
    if (this.addr) {
      unbindPath(node, this);
      try {
        this.kernel.vfs.unlinkAt(t, AT_FDCWD, a.path, 0);
      } catch {
        // Someone else's business now.
      }
      throw linuxerr.EINVAL;
    }
    this.boundNode = node;
    this.addr = a;
  }

  /** autobind gives an unnamed socket an abstract name of five hex digits. */
  autobind(): void {
    if (this.addr) return;
    let n = Math.floor(Math.random() * 0x100000);
    for (let i = 0; i <= 0xfffff; i++, n = (n + 1) & 0xfffff) {
      const a = abstractAddress(autobindName(n));
      if (a.kind !== 'abstract' || abstractTaken(this.kernel, this.type, a.name)) continue;
      bindAbstract(this.kernel, this, a.name);
      this.boundAbstract = true;
      this.addr = a;
      return;
    }
    throw linuxerr.ENOSPC;
  }

  private unbind(): void {
    if (this.boundNode) unbindPath(this.boundNode, this);
    if (this.boundAbstract && this.addr?.kind === 'abstract') unbindAbstract(this.kernel, this, this.addr.name);
    this.boundNode = null;
    this.boundAbstract = false;
  }

  /** find returns the live socket bound at a: ENOENT, ECONNREFUSED, EPROTOTYPE (unix_find_other). */
  private find(t: Task, a: UnixAddress): UnixSocket {
    if (a.kind === 'abstract') return findAbstract(this.kernel, this.type, a.name) as UnixSocket;
    const s = findPath(t, a.path) as UnixSocket;
    if (s.type !== this.type) throw linuxerr.EPROTOTYPE;
    return s;
  }

  name(_t: Task, peer: boolean): Uint8Array {
    if (!peer) return this.addr?.bytes ?? UNNAMED;
    const p = this.peer;
    if (!p) throw linuxerr.ENOTCONN;
    return p.addr?.bytes ?? UNNAMED;
  }

  // ---- Connections ----

  listen(t: Task, backlog: number): void {
    if (!this.connOriented) throw linuxerr.EOPNOTSUPP;
    if (!this.addr) throw linuxerr.EINVAL;
    if (this.state === State.Connected) throw linuxerr.EINVAL;
    // The backlog is unsigned there: negative means the maximum.
    const b = backlog < 0 || backlog > abi.SOMAXCONN ? abi.SOMAXCONN : backlog;
    const grew = b > this.backlog;
    this.backlog = b;
    this.state = State.Listening;
    this.cred = credOf(t);
    if (grew) this.wakeWaiters();
    this.waitQueue.notify(ALL_EVENTS);
  }

  accept(_t: Task): Socket {
    if (!this.connOriented) throw linuxerr.EOPNOTSUPP;
    if (this.state !== State.Listening) throw linuxerr.EINVAL;
    const s = this.pending.shift();
    if (!s) throw this.shut & abi.RCV_SHUTDOWN ? linuxerr.EINVAL : linuxerr.EAGAIN;
    s.embryo = false;
    s.opts.passcred = this.opts.passcred;
    this.wakeWaiters();
    return s;
  }

  connect(t: Task, raw: Uint8Array, nonblock: boolean): void {
    void nonblock;
    if (!this.connOriented) return this.dgramConnect(t, raw);
    const a = parseUnixAddress(raw);
    if (this.opts.passcred && !this.addr) this.autobind();
    const other = this.find(t, a);
    if (other.state !== State.Listening || (other.shut & abi.RCV_SHUTDOWN)) throw linuxerr.ECONNREFUSED;
    // A backlog of n admits n+1 pending connections, as Linux's unix_recvq_full.
    if (other.pending.length > other.backlog) {
      other.waiters.add(this);
      throw linuxerr.EAGAIN;
    }
    if (this.state === State.Connected) throw linuxerr.EISCONN;
    if (this.state === State.Listening) throw linuxerr.EINVAL;
    const server = new UnixSocket(t, this.type, other.protocol);
    server.state = State.Connected;
    server.peer = this;
    server.cred = credOf(t);
    server.addr = other.addr;
    server.embryo = true;
    this.peer = server;
    this.state = State.Connected;
    this.cred = other.cred;
    other.pending.push(server);
    other.waitQueue.notify(EVENT_IN);
    this.waitQueue.notify(EVENT_OUT);
  }

  private dgramConnect(t: Task, raw: Uint8Array): void {
    if (raw.length < 2) throw linuxerr.EINVAL;
    if (family(raw) === abi.AF_UNSPEC) {
      this.setPeer(null);
      return;
    }
    const a = parseUnixAddress(raw);
    if (this.opts.passcred && !this.addr) this.autobind();
    const other = this.find(t, a);
    if (other.peer && other.peer !== this) throw linuxerr.EPERM;
    this.setPeer(other);
  }

  /** setPeer (re)connects or disconnects a datagram socket. */
  private setPeer(other: UnixSocket | null): void {
    const old = this.peer;
    this.peer = other;
    this.state = other ? State.Connected : State.Unconnected;
    if (old && old !== other) this.dgramDisconnected(old);
    this.waitQueue.notify(EVENT_OUT);
  }

  /** dgramDisconnected: leaving a peer drops what was queued here (unix_dgram_disconnected). */
  private dgramDisconnected(old: UnixSocket): void {
    if (this.queue.length === 0) return;
    for (const m of this.queue.drain()) dropRights(m);
    this.wakeWaiters();
    if (!old.dead && old.peer === this) {
      old.err = linuxerr.ECONNRESET;
      old.waitQueue.notify(EVENT_ERR);
    }
  }

  shutdown(_t: Task, how: number): void {
    if (how < abi.SHUT_RD || how > abi.SHUT_RDWR) throw linuxerr.EINVAL;
    const mode = (how + 1) & abi.SHUTDOWN_MASK;
    this.shut |= mode;
    this.waitQueue.notify(ALL_EVENTS);
    const p = this.peer;
    if (p && this.connOriented) {
      let pm = 0;
      if (mode & abi.RCV_SHUTDOWN) pm |= abi.SEND_SHUTDOWN;
      if (mode & abi.SEND_SHUTDOWN) pm |= abi.RCV_SHUTDOWN;
      p.shut |= pm;
      p.waitQueue.notify(ALL_EVENTS);
    }
  }

  // ---- Sending ----

  sendmsg(t: Task, req: SendRequest): IOStatus {
    return this.send(t, identityOf(t), req);
  }

  /** send is sendmsg for a task (t, for SIGPIPE) or for write(2) (t null: no signal here). */
  private send(t: Task | null, who: Identity, req: SendRequest): IOStatus {
    if (req.flags & abi.MSG_OOB) {
      this.kernel.log.warnOnce('unix:oob', 'MSG_OOB on Unix sockets is not supported');
      throw linuxerr.EOPNOTSUPP;
    }
    return this.stream ? this.streamSend(t, who, req) : this.dgramSend(t, who, req);
  }

  private streamSend(t: Task | null, who: Identity, req: SendRequest): IOStatus {
    if (req.to && req.to.length) throw this.state === State.Connected ? linuxerr.EISCONN : linuxerr.EOPNOTSUPP;
    const other = this.peer;
    if (!other) throw linuxerr.ENOTCONN;
    if (this.shut & abi.SEND_SHUTDOWN) return this.pipeError(t, req);
    const creds = this.credsFor(who, req, other);
    while (req.src.remaining > 0) {
      if (other.dead || (other.shut & abi.RCV_SHUTDOWN)) return this.pipeError(t, req);
      if (this.wmem >= this.opts.sndbuf) {
        if (!req.nonblock) return 'wait';
        if (req.sent > 0) return 'done';
        throw linuxerr.EAGAIN;
      }
      // Segments of at most half the buffer keep two in flight, as Linux does.
      const size = Math.min(req.src.remaining, (this.opts.sndbuf >> 1) - 64);
      if (truesize(size) > sandboxLimits().available()) {
        // The sandbox's memory is spent: wait for our own queued data to be
        // read; with none queued, fail as a failed skb allocation does.
        if (req.sent > 0) return 'done';
        if (req.nonblock) throw linuxerr.EAGAIN;
        if (this.wmem > 0) return 'wait';
        throw linuxerr.ENOMEM;
      }
      let data: Uint8Array;
      try {
        data = req.src.take(size);
      } catch (e) {
        if (req.sent > 0) return 'done';
        throw e;
      }
      other.deliver(this.message(data, req.rights, creds));
      req.rights = null;
      req.sent += data.length;
      if (data.length < size) break;
    }
    return 'done';
  }

  /** pipeError is EPIPE on a stream, with SIGPIPE unless MSG_NOSIGNAL (nothing sent yet). */
  private pipeError(t: Task | null, req: SendRequest): IOStatus {
    if (req.sent > 0) return 'done';
    if (t && !(req.flags & abi.MSG_NOSIGNAL)) raiseSigpipe(t);
    throw linuxerr.EPIPE;
  }

  private dgramSend(t: Task | null, who: Identity, req: SendRequest): IOStatus {
    let other: UnixSocket | null = null;
    let to: UnixAddress | null = null;
    if (this.type === abi.SOCK_SEQPACKET) {
      const e = this.takeErrorSentinel();
      if (e) throw e;
      if (this.state !== State.Connected) throw linuxerr.ENOTCONN;
      other = this.peer;
    } else if (req.to && req.to.length) {
      to = parseUnixAddress(req.to);
    } else {
      other = this.peer;
      if (!other) throw linuxerr.ENOTCONN;
    }
    if (this.opts.passcred && !this.addr) this.autobind();
    const len = req.src.remaining;
    if (len > this.opts.sndbuf - 32) throw linuxerr.EMSGSIZE;
    if (this.shut & abi.SEND_SHUTDOWN) throw EPIPE_NOSIGNAL;
    if (this.wmem >= this.opts.sndbuf) {
      if (req.nonblock) throw linuxerr.EAGAIN;
      return 'wait';
    }
    // Only sendmsg passes a destination, and it has a task to resolve it for.
    if (!other) other = this.find(t!, to!);
    if (other.peer && other.peer !== this) throw linuxerr.EPERM;
    if (other.dead) {
      if (this.type === abi.SOCK_SEQPACKET) throw EPIPE_NOSIGNAL;
      // The peer is gone: forget it (the first send learns it, later ones are ENOTCONN).
      if (this.peer === other) this.setPeer(null);
      throw linuxerr.ECONNREFUSED;
    }
    if (other.shut & abi.RCV_SHUTDOWN) throw EPIPE_NOSIGNAL;
    if (other !== this && other.peer !== this && other.queue.length > MAX_DGRAM_QLEN) {
      other.waiters.add(this);
      if (req.nonblock) throw linuxerr.EAGAIN;
      return 'wait';
    }
    if (truesize(len) > sandboxLimits().available()) {
      // Over the sandbox's memory budget: as a failed skb allocation.
      if (req.nonblock) throw linuxerr.EAGAIN;
      if (this.wmem > 0) return 'wait';
      throw linuxerr.ENOMEM;
    }
    const data = len > 0 ? req.src.take(len) : new Uint8Array(0);
    other.deliver(this.message(data, req.rights, this.credsFor(who, req, other)));
    req.rights = null;
    req.sent = data.length;
    return 'done';
  }

  /** credsFor picks a message's credentials: explicit ones, else the sender's when
   *  either end asked for them (unix_passcred_enabled; embryos always do). */
  private credsFor(who: Identity, req: SendRequest, other: UnixSocket): UCred | null {
    if (req.creds) return req.creds;
    if (this.opts.passcred || other.opts.passcred || other.embryo) return { pid: who.pid, uid: who.uid, gid: who.gid };
    return null;
  }

  private message(data: Uint8Array, rights: FileDescription[] | null, creds: UCred | null): UnixMessage {
    return { data, off: 0, sender: this, cost: truesize(data.length), rights, creds };
  }

  /** deliver queues a message here and wakes readers. */
  private deliver(m: UnixMessage): void {
    this.queue.push(m);
    this.waitQueue.notify(EVENT_IN);
  }

  sourceAddress(): Uint8Array | null {
    return this.addr?.bytes ?? null;
  }

  /** uncharged is called by a receive queue when this socket's message was consumed. */
  uncharged(): void {
    if (this.wmem * 4 <= this.opts.sndbuf) this.waitQueue.notify(EVENT_OUT);
  }

  private wakeWaiters(): void {
    if (this.waiters.size === 0) return;
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w.waitQueue.notify(EVENT_OUT);
  }

  // ---- Receiving ----

  recvmsg(_t: Task, req: RecvRequest): IOStatus {
    return this.recv(req);
  }

  private recv(req: RecvRequest): IOStatus {
    if (req.flags & abi.MSG_OOB) {
      this.kernel.log.warnOnce('unix:oob', 'MSG_OOB on Unix sockets is not supported');
      throw linuxerr.EOPNOTSUPP;
    }
    return this.stream ? this.streamRecv(req) : this.dgramRecv(req);
  }

  private dgramRecv(req: RecvRequest): IOStatus {
    if (this.type === abi.SOCK_SEQPACKET && this.state !== State.Connected) throw linuxerr.ENOTCONN;
    const e = this.takeErrorSentinel();
    if (e) throw e;
    const m = this.queue.at(0);
    if (!m) {
      // After SHUT_RD a blocking read sees EOF; a non-blocking one EAGAIN, except on seqpacket.
      if ((this.shut & abi.RCV_SHUTDOWN) && (!req.nonblock || this.type === abi.SOCK_SEQPACKET)) return 'done';
      if (req.nonblock) throw linuxerr.EAGAIN;
      return 'wait';
    }
    const peek = (req.flags & abi.MSG_PEEK) !== 0;
    const len = m.data.length;
    const n = Math.min(len, req.dst.length);
    if (!peek) {
      this.queue.shift();
      this.wakeWaiters();
    }
    if (n > 0 && req.dst.put(m.data.subarray(0, n), 0) < n) {
      if (!peek) dropRights(m);
      throw linuxerr.EFAULT;
    }
    req.copied = n;
    if (len > req.dst.length) req.msgFlags |= abi.MSG_TRUNC;
    if (req.flags & abi.MSG_TRUNC) req.result = len;
    req.from = m.sender?.sourceAddress() ?? null;
    if (this.opts.passcred) req.creds = m.creds ?? NO_CREDS;
    req.rights = peek ? dupRights(m.rights) : m.rights;
    if (!peek) m.rights = null;
    return 'done';
  }

  private streamRecv(req: RecvRequest): IOStatus {
    if (this.state !== State.Connected) throw linuxerr.EINVAL;
    const peek = (req.flags & abi.MSG_PEEK) !== 0;
    // A peek that waited resumes after what it already copied.
    let skip = peek ? req.copied : 0;
    for (let i = 0; ;) {
      const m = this.queue.at(i);
      if (!m) {
        if (peek && i > 0) return 'done';
        if (req.copied >= req.target) return 'done';
        const e = this.takeErrorSentinel();
        if (e) {
          if (req.copied > 0) return 'done';
          throw e;
        }
        if (this.shut & abi.RCV_SHUTDOWN) return 'done';
        if (!req.nonblock) return 'wait';
        if (req.copied > 0) return 'done';
        throw linuxerr.EAGAIN;
      }
      const avail = m.data.length - m.off;
      if (skip >= avail) {
        skip -= avail;
        i++;
        continue;
      }
      if (this.opts.passcred) {
        // Never glue data of different writers into one read.
        const c = m.creds ?? NO_CREDS;
        if (!req.credsLocked) {
          req.creds = c;
          req.credsLocked = true;
        } else if (!sameCreds(req.creds!, c)) {
          return 'done';
        }
      }
      if (req.copied === 0 && !req.from) req.from = m.sender?.sourceAddress() ?? null;
      const start = m.off + skip;
      const want = Math.min(m.data.length - start, req.dst.length - req.copied);
      const c = want > 0 ? req.dst.put(m.data.subarray(start, start + want), req.copied) : 0;
      if (c < want && c === 0 && req.copied === 0) throw linuxerr.EFAULT;
      req.copied += c;
      if (!peek) {
        this.queue.consume(c);
        if (m.rights) {
          req.rights = m.rights;
          m.rights = null;
        }
        if (m.off < m.data.length) return 'done';
        this.queue.shift();
        if (req.rights) return 'done';
      } else {
        if (m.rights) {
          req.rights = dupRights(m.rights);
          return 'done';
        }
        skip = 0;
        i++;
      }
      if (c < want || req.copied >= req.dst.length) return 'done';
    }
  }

  // ---- State queries ----

  private writable(): boolean {
    return this.state !== State.Listening && this.wmem * 4 <= this.opts.sndbuf;
  }

  readiness(mask: number): number {
    let r = 0;
    if (this.err) r |= EVENT_ERR;
    if (this.shut === abi.SHUTDOWN_MASK) r |= EVENT_HUP;
    if (this.shut & abi.RCV_SHUTDOWN) r |= EVENT_RDHUP | EVENT_IN;
    if (this.state === State.Listening ? this.pending.length > 0 : this.queue.length > 0) r |= EVENT_IN;
    if (this.connOriented && this.state === State.Unconnected) r |= EVENT_HUP;
    if (mask & EVENT_OUT) {
      let w = this.writable();
      const other = this.peer;
      // A datagram receiver not connected back to us may have its queue full: ask it to tell us.
      if (w && !this.stream && other && other.peer !== this && other.queue.length > MAX_DGRAM_QLEN) {
        other.waiters.add(this);
        w = false;
      }
      if (w) r |= EVENT_OUT;
    }
    return r & (mask | EVENT_HUP | EVENT_ERR);
  }

  inq(): number {
    if (this.state === State.Listening) throw linuxerr.EINVAL;
    if (this.type !== abi.SOCK_DGRAM) return this.queue.bytes;
    return this.queue.at(0)?.data.length ?? 0;
  }

  outq(): number {
    return this.wmem;
  }

  takeError(): number {
    return this.takeErrorSentinel()?.errno ?? 0;
  }

  private takeErrorSentinel(): SyscallError | null {
    const e = this.err;
    this.err = null;
    return e;
  }

  /** diagInfo is what sock_diag reports beyond the public fields: a listener's
   *  pending connections and backlog, and the node this socket bound (if it did). */
  diagInfo(): { pending: readonly UnixSocket[]; backlog: number; node: Inode | null } {
    return { pending: this.pending, backlog: this.backlog, node: this.boundNode };
  }

  /** setPeerCred sets what SO_PEERCRED reports (socketpair). */
  setPeerCred(c: UCred): void {
    this.cred = c;
  }

  override peerCred(): UCred {
    return this.cred ?? super.peerCred();
  }

  protected override buffersChanged(): void {
    this.uncharged();
  }

  // ---- File operations (read, write and close) ----

  read(fd: FileDescription, dst: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    const req = new RecvRequest(new BufferSink(dst), 0, fd.nonblocking, 1);
    try {
      if (this.recv(req) === 'wait') throw linuxerr.EAGAIN;
      return req.value;
    } finally {
      // read(2) has nowhere to put descriptors: they are closed, as Linux does.
      req.release();
    }
  }

  write(_fd: FileDescription, src: Uint8Array, offset: number): number {
    if (offset !== -1) throw linuxerr.ESPIPE;
    // The generic write path waits, and raises SIGPIPE on EPIPE itself.
    const req = new SendRequest(new BufferSource(src), null, abi.MSG_NOSIGNAL, true);
    this.send(null, this.maker, req);
    return req.sent;
  }

  /** unread puts back stream bytes a failed copy-out could not deliver. */
  unread(data: Uint8Array): void {
    if (!this.stream || data.length === 0) return;
    this.queue.unshift({ data: data.slice(), off: 0, sender: null, cost: 0, rights: null, creds: null });
  }

  release(): void {
    this.close(false);
  }

  /** close is unix_release_sock: embryo is set for a pending connection dropped with its listener. */
  private close(embryo: boolean): void {
    if (this.dead) return;
    this.dead = true;
    live.get(this.kernel)?.delete(this);
    this.unbind();
    const p = this.peer;
    this.peer = null;
    if (p && this.connOriented) {
      p.shut = abi.SHUTDOWN_MASK;
      if (this.queue.length > 0 || embryo) p.err = linuxerr.ECONNRESET;
      p.waitQueue.notify(ALL_EVENTS);
    }
    this.wakeWaiters();
    for (const s of this.pending.splice(0)) s.close(true);
    for (const m of this.queue.drain()) dropRights(m);
    this.waitQueue.notify(ALL_EVENTS);
  }
}

function identityOf(t: Task): Identity {
  return { pid: t.tg.pid, uid: t.creds.uid, gid: t.creds.gid };
}

/** credOf is SO_PEERCRED's view of t (effective ids). */
function credOf(t: Task): UCred {
  return { pid: t.tg.pid, uid: t.creds.euid, gid: t.creds.egid };
}

function sameCreds(a: UCred, b: UCred): boolean {
  return a.pid === b.pid && a.uid === b.uid && a.gid === b.gid;
}

function dupRights(r: FileDescription[] | null): FileDescription[] | null {
  if (!r) return null;
  for (const f of r) f.incRef();
  return [...r];
}

/** newUnixSocket implements socket(AF_UNIX, type, protocol). */
export function newUnixSocket(t: Task, type: number, protocol: number): UnixSocket {
  if (protocol !== 0 && protocol !== abi.AF_UNIX) throw linuxerr.EPROTONOSUPPORT;
  switch (type) {
    case abi.SOCK_STREAM:
    case abi.SOCK_SEQPACKET:
    case abi.SOCK_DGRAM:
      break;
    case abi.SOCK_RAW:
      // Linux quietly makes raw Unix sockets datagram ones.
      type = abi.SOCK_DGRAM;
      break;
    default:
      throw linuxerr.ESOCKTNOSUPPORT;
  }
  return new UnixSocket(t, type, 0);
}

/** newUnixPair implements socketpair(AF_UNIX, type, protocol): two connected, unnamed sockets. */
export function newUnixPair(t: Task, type: number, protocol: number): [UnixSocket, UnixSocket] {
  const a = newUnixSocket(t, type, protocol);
  const b = newUnixSocket(t, type, protocol);
  a.peer = b;
  b.peer = a;
  a.state = b.state = State.Connected;
  const c = credOf(t);
  a.setPeerCred(c);
  b.setPeerCred(c);
  return [a, b];
}

registerFamily(abi.AF_UNIX, { create: newUnixSocket, pair: newUnixPair });
