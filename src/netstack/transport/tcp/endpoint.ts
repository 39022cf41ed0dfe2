// TCPEndpoint: one TCP socket. This file holds the user-facing API:
// binding, listening, connecting, data and options. The connection state is
// in tcb.ts, its ending in teardown.ts, segment processing in input.ts,
// transmission and timers in output.ts. Everything runs inside
// stack.enter()/exit().

import { LOOPBACK_V4, LOOPBACK_V6, type Address, type FullAddress } from '../../addr.js';
import { EMPTY, isPooled, type Fill } from '../../buffer.js';
import {
  errAlreadyConnected,
  errAlreadyConnecting,
  errBadLocalAddress,
  errClosedForSend,
  errConnectionAborted,
  errConnectStarted,
  errInvalidArgument,
  errInvalidEndpointState,
  errNetworkUnreachable,
  errNotConnected,
  errorForErrno,
  errWouldBlock,
  errAddressInUse,
  TcpipError,
  errBadLocalAddress as errAddrNotAvail,
} from '../../errors.js';
import { ERRNO } from '../../../abi/linux/errno.js';
import { PROTO_TCP, IPV4_MIN_HEADER_LEN } from '../../header/ipv4.js';
import { IPV6_HEADER_LEN } from '../../header/ipv6.js';
import { TCP_MIN_HEADER_LEN } from '../../header/tcp.js';
import type { IntOption } from '../../sockopt.js';
import type { PortBinding } from '../../stack/ports.js';
import type { ControlError, NetProto, PacketInfo, Route, TransportEndpointHandler } from '../../stack/types.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_PRI, EVENT_RDHUP } from '../../waiter.js';
import type { NetAddress } from '../base.js';
import { buildTcpInfo, type TcpInfo } from './info.js';
import { handleSegment } from './input.js';
import { childEstablished } from './listener.js';
import { getTcpOption, setTcpOption } from './options.js';
import * as out from './output.js';
import type { Segment } from './segment.js';
import { seqAdd, seqDiff } from './seqnum.js';
import {
  TCP_CLOSE,
  TCP_CLOSE_WAIT,
  TCP_CLOSING,
  TCP_ESTABLISHED,
  TCP_FIN_WAIT1,
  TCP_FIN_WAIT2,
  TCP_LAST_ACK,
  TCP_LISTEN,
  TCP_SYN_RECV,
  TCP_SYN_SENT,
  TCP_TIME_WAIT,
} from './state.js';

export { SHUT_RD, SHUT_WR, SHUT_RDWR, type ReadOptions, type TCPEndpointStats, type WriteOptions } from './tcb.js';
import type { ReadOptions, WriteOptions } from './tcb.js';
import { TCB } from './tcb.js';
import * as td from './teardown.js';

/** READ_WOULD_BLOCK is tryReadTo's answer when a read would wait. */
export const READ_WOULD_BLOCK = -1;

export class TCPEndpoint extends TCB implements TransportEndpointHandler {
  // ---- Binding ----

  private bindingsFor(n: NetAddress): PortBinding[] {
    if (this.family === 6 && n.netProto === 6 && n.addr === '' && !this.v6only) {
      return [
        { netProto: 6, addr: '' },
        { netProto: 4, addr: '' },
      ];
    }
    return [{ netProto: n.netProto, addr: n.addr }];
  }

  /** bind assigns the local address; port 0 picks an ephemeral port. */
  bind(a: FullAddress): void {
    this.stack.enter();
    try {
      if (this.state !== TCP_CLOSE || this.port !== 0) throw errInvalidArgument;
      const n = this.toNet(a);
      if (n.addr !== '' && !this.stack.isLocalAddress(n.addr)) throw errBadLocalAddress;
      const bindings = this.bindingsFor(n);
      this.port = this.stack.ports.reserve(PROTO_TCP, bindings, n.port, this);
      this.bindings = bindings;
      this.bindAddr = n.addr;
      this.netProto = n.netProto;
      this.explicitlyBound = true;
      if (n.nic !== 0) this.bindNic = n.nic;
      // Linux's __inet6_bind: a specific IPv6 address (not v4-mapped) makes the socket v6-only.
      if (this.family === 6 && n.netProto === 6 && n.addr !== '') this.v6only = true;
    } finally {
      this.stack.exit();
    }
  }

  releasePort(): void {
    if (this.port === 0) return;
    this.stack.ports.release(PROTO_TCP, this.bindings, this.port, this);
    this.bindings = [];
    this.port = 0;
  }

  /** inheritPort gives a passively opened child the listener's port (Linux inet_inherit_port: no conflict check). */
  inheritPort(port: number, netProto: NetProto, local: Address): void {
    this.port = port;
    this.bindings = [{ netProto, addr: local }];
    this.stack.ports.reserveUnchecked(PROTO_TCP, this.bindings, port, this);
  }

  // ---- Listening ----

  /** listen starts accepting connections; backlog is capped by somaxconn. */
  listen(backlog: number): void {
    this.stack.enter();
    try {
      backlog = Math.max(0, Math.min(backlog | 0, this.cfg.somaxconn));
      if (this.state === TCP_LISTEN) {
        this.backlog = backlog;
        return;
      }
      if (this.state !== TCP_CLOSE || this.connectPending || this.everConnected) throw errInvalidEndpointState;
      if (this.port === 0) {
        const bindings = this.bindingsFor({ netProto: this.family, addr: '', port: 0, nic: 0 });
        this.port = this.stack.ports.reserve(PROTO_TCP, bindings, 0, this);
        this.bindings = bindings;
      }
      this.state = TCP_LISTEN;
      if (!this.stack.ports.isAvailable(PROTO_TCP, this.bindings, this.port, this)) {
        this.state = TCP_CLOSE;
        throw errAddressInUse;
      }
      this.backlog = backlog;
      for (const b of this.bindings) this.stack.demux.registerBound(PROTO_TCP, b.netProto, b.addr, this.port, this.bindNic, this);
      this.listenRegistered = true;
    } finally {
      this.stack.exit();
    }
  }

  /** accept returns an established connection from the queue; throws ErrWouldBlock when empty. */
  accept(): { ep: TCPEndpoint; addr: FullAddress } {
    this.stack.enter();
    try {
      if (this.state !== TCP_LISTEN) throw errInvalidArgument;
      const ep = this.acceptQueue.shift();
      if (ep === undefined) throw errWouldBlock;
      ep.parent = null;
      ep.inAcceptQueue = false;
      return { ep, addr: ep.peerAddress() };
    } finally {
      this.stack.exit();
    }
  }

  // ---- Connecting ----

  /** setRoute fixes the connection's addresses and derives the MSS we announce. */
  setRoute(route: Route, remotePort: number): void {
    this.route = route;
    this.netProto = route.netProto;
    this.localAddr = route.local;
    this.remoteAddr = route.remote;
    this.remotePort = remotePort;
    const ipHeader = route.netProto === 4 ? IPV4_MIN_HEADER_LEN : IPV6_HEADER_LEN;
    let mss = Math.min(route.mtu, 65535 + (route.netProto === 6 ? ipHeader : 0)) - ipHeader - TCP_MIN_HEADER_LEN;
    if (this.userMss > 0) mss = Math.min(mss, this.userMss);
    this.advMss = Math.max(mss, 88);
  }

  registerConnected(): void {
    this.stack.demux.registerConnected(PROTO_TCP, this.netProto, this.localAddr, this.port, this.remoteAddr, this.remotePort, this);
    this.connRegistered = true;
  }

  /**
   * connect starts the handshake. It returns normally only when the
   * connection is already established (loopback completes synchronously);
   * otherwise it throws ErrConnectStarted and the outcome shows in
   * readiness (EVENT_OUT, or EVENT_ERR/EVENT_HUP) and takeError() (SO_ERROR).
   * Called again, it behaves as Linux: ErrAlreadyConnecting while in
   * progress, then once returns normally (or throws the failure), then
   * ErrAlreadyConnected.
   */
  connect(a: FullAddress): void {
    let done: boolean;
    this.stack.enter();
    try {
      done = this.connectLocked(a);
    } finally {
      this.stack.exit();
    }
    if (done) return;
    // The handshake may have completed during exit() (loopback).
    if (this.connectPending && this.isConnectedState()) {
      this.connectPending = false;
      return;
    }
    throw errConnectStarted;
  }

  private isConnectedState(): boolean {
    const s = this.state;
    return s === TCP_ESTABLISHED || s === TCP_CLOSE_WAIT || s === TCP_FIN_WAIT1 || s === TCP_FIN_WAIT2 || s === TCP_CLOSING || s === TCP_LAST_ACK || s === TCP_TIME_WAIT;
  }

  /** connectLocked starts a connection; returns true when a repeated call reports completion. */
  private connectLocked(a: FullAddress): boolean {
    if (this.connectPending) {
      if (this.state === TCP_SYN_SENT || this.state === TCP_SYN_RECV) throw errAlreadyConnecting;
      this.connectPending = false;
      if (this.state === TCP_CLOSE) {
        const e = this.takeError();
        throw e !== 0 ? errorForErrno(e) : errConnectionAborted;
      }
      return true;
    }
    if (this.state !== TCP_CLOSE || this.everConnected || this.orphaned) throw errAlreadyConnected;
    const n = this.toNet(a);
    const remote = n.addr !== '' ? n.addr : n.netProto === 4 ? LOOPBACK_V4 : LOOPBACK_V6;
    if (this.port !== 0 && this.bindAddr !== '' && this.netProto !== n.netProto) throw errNetworkUnreachable;
    const route = this.stack.findRoute(this.bindNic || n.nic, this.bindAddr, remote, n.netProto);
    if (route.broadcast || route.multicast) throw errNetworkUnreachable;
    if (this.port === 0) {
      // Autobind: a port whose 4-tuple with this destination is free.
      const bindings = this.bindingsFor({ netProto: this.family, addr: '', port: 0, nic: 0 });
      const demux = this.stack.demux;
      this.port = this.stack.ports.reserve(PROTO_TCP, bindings, 0, this);
      this.bindings = bindings;
      if (demux.hasConnected(PROTO_TCP, route.netProto, route.local, this.port, route.remote, n.port)) {
        this.releasePort();
        throw errAddrNotAvail;
      }
    } else if (this.stack.demux.hasConnected(PROTO_TCP, route.netProto, route.local, this.port, route.remote, n.port)) {
      throw errAddrNotAvail;
    }
    this.setRoute(route, n.port);
    this.registerConnected();
    // A socket may connect again after a failed attempt: start from a clean slate.
    this.error = 0;
    this.softError = 0;
    this.shutRead = false;
    this.shutWrite = false;
    this.finReceived = false;
    this.finQueued = false;
    this.rcvQueue.clear();
    this.ooo.clear();
    this.sack.clear();
    this.backoff = 0;
    this.initSend(this.stack.tcp.isn());
    this.tsOffset = this.stack.tcp.isn();
    this.state = TCP_SYN_SENT;
    this.rttTime = this.now();
    this.connectPending = true;
    this.stack.stats.tcp.activeOpens++;
    out.sendSyn(this);
    this.rtoTimer.reset(this.cfg.initialRTO);
    return false;
  }

  /** initSend sets up the send sequence space after choosing an ISS. */
  initSend(iss: number): void {
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = seqAdd(iss, 1);
    this.sndMax = this.sndNxt;
    this.dataUna = seqAdd(iss, 1);
    this.cc.recover = iss;
    this.rexmitNext = this.dataUna;
  }

  /** enterEstablished finishes the handshake (both sides). */
  enterEstablished(): void {
    this.setState(TCP_ESTABLISHED);
    this.everConnected = true;
    this.backoff = 0;
    this.rtoTimer.stop();
    this.cc.cwnd = this.cfg.initialCwndSegments * this.sndMss;
    this.lastRecv = this.now();
    out.armKeepalive(this);
    if (this.parent !== null) childEstablished(this.parent, this);
    this.signal(EVENT_OUT | EVENT_IN);
  }

  // ---- Data ----

  /**
   * read returns up to max bytes (a view of internal memory when possible:
   * do not modify). An empty array means end of stream. Throws ErrWouldBlock
   * when nothing is available yet, the pending error if any, ErrNotConnected
   * before a connection.
   */
  read(max: number, opts: ReadOptions = {}): Uint8Array {
    const views = this.readViews(max, opts);
    if (views.length === 1) return views[0];
    return views.length === 0 ? EMPTY : concat(views);
  }

  /**
   * readViews is read without joining: the bytes come back as views (an
   * empty list means end of stream). Views of pooled send blocks are copied,
   * as those blocks are reused once read; readTo avoids even that copy.
   */
  readViews(max: number, opts: ReadOptions = {}): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.readTo(max, (v) => {
      out.push(isPooled(v) ? v.slice() : v);
      return v.length;
    }, opts);
    return out;
  }

  /**
   * readTo hands up to max bytes to put, view by view, without copying; put
   * returns how many bytes of the view it took (a short count stops the read,
   * and only the bytes taken are consumed). The views are valid during the
   * call only. Returns the count taken; 0 means end of stream (or that put
   * took nothing, which the caller knows). Throws as read does.
   */
  readTo(max: number, put: (view: Uint8Array) => number, opts: ReadOptions = {}): number {
    const n = this.tryReadTo(max, put, opts);
    if (n === READ_WOULD_BLOCK) throw errWouldBlock;
    return n;
  }

  /**
   * tryReadTo is readTo that returns READ_WOULD_BLOCK instead of throwing
   * ErrWouldBlock: a reader finding no data is the common case of a busy
   * socket, and a JavaScript throw costs microseconds (V8 unwinds the stack
   * to find the handler). Other errors still throw.
   */
  tryReadTo(max: number, put: (view: Uint8Array) => number, opts: ReadOptions = {}): number {
    const peek = opts.peek === true;
    this.stack.enter();
    try {
      if (this.state === TCP_LISTEN) throw errNotConnected;
      const avail = this.rcvQueue.length;
      if (avail > 0 && max > 0) {
        let n = Math.min(max, avail);
        // A read stops at the urgent mark (as Linux's tcp_recvmsg does).
        const toMark = this.urgMarkAt - this.rcvConsumed;
        if (toMark > 0 && toMark < n) n = toMark;
        let took = 0;
        for (const v of this.rcvQueue.peekViews(0, n)) {
          const c = put(v);
          took += c;
          if (c < v.length) break;
        }
        if (peek || took === 0) return took;
        this.rcvQueue.discard(took);
        this.rcvConsumed += took;
        // Like Linux's tcp_cleanup_rbuf: a delayed ACK goes out now once the
        // reader drained the queue (the sender may be holding a Nagle tail).
        if (this.delackTimer.enabled && (this.rcvQueue.length === 0 || this.pendingAckBytes > this.advMss)) out.sendAck(this);
        else out.maybeSendWindowUpdate(this);
        return took;
      }
      if (this.error !== 0) throw errorForErrno(this.takeError());
      if (this.finReceived || this.shutRead || (this.state === TCP_CLOSE && this.everConnected) || (max === 0 && avail > 0)) {
        return 0;
      }
      if (this.state === TCP_CLOSE && !this.connectPending) throw errNotConnected;
      return READ_WOULD_BLOCK;
    } finally {
      this.stack.exit();
    }
  }

  /** readOOB returns the urgent byte (MSG_OOB). Throws ErrWouldBlock if announced but not arrived, ErrInvalidArgument if none. */
  readOOB(peek = false): number {
    this.stack.enter();
    try {
      if (this.oobInline) throw errInvalidArgument;
      if (this.oobByte >= 0) {
        const b = this.oobByte;
        if (!peek) this.oobByte = -1;
        return b;
      }
      if (this.rcvUrgSeq >= 0) throw errWouldBlock;
      throw errInvalidArgument;
    } finally {
      this.stack.exit();
    }
  }

  /**
   * write queues data for sending and returns how many bytes were taken
   * (possibly fewer than offered). The endpoint keeps a reference to data:
   * do not modify it afterwards. Throws ErrWouldBlock when the send buffer
   * is full or the connection is not yet established, ErrClosedForSend after
   * shutdown (EPIPE), or the pending error.
   */
  write(data: Uint8Array, opts: WriteOptions = {}): number {
    this.stack.enter();
    try {
      const space = this.checkWritable();
      const n = Math.min(space, data.length);
      if (n === 0) return 0;
      this.sndQueue.push(n === data.length ? data : data.subarray(0, n));
      this.queued(opts);
      return n;
    } finally {
      this.stack.exit();
    }
  }

  /**
   * writeFrom is write copying from a source: up to n bytes go through fill
   * into the send queue's own memory (pooled blocks for large pieces), so the
   * caller may reuse its buffer. Returns the count taken; 0 with n > 0 means
   * fill copied nothing (a fault). Throws as write does.
   */
  writeFrom(n: number, fill: Fill, opts: WriteOptions = {}): number {
    this.stack.enter();
    try {
      const space = this.checkWritable();
      const want = Math.min(space, n);
      if (want === 0) return 0;
      const got = this.sndQueue.append(want, fill);
      if (got === 0) return 0;
      this.queued(opts);
      return got;
    } finally {
      this.stack.exit();
    }
  }

  /**
   * writeSpace is the free send space, 0 when a write would wait (without
   * throwing: see tryReadTo), or throws the error a write would report.
   */
  writeSpace(): number {
    this.stack.enter();
    try {
      if (this.error === 0 && !this.shutWrite && !this.finQueued &&
          (this.state === TCP_ESTABLISHED || this.state === TCP_CLOSE_WAIT)) {
        return Math.max(0, this.sndCapacity - this.sndQueue.length);
      }
      if (this.error === 0 && !this.shutWrite && !this.finQueued &&
          (this.state === TCP_SYN_SENT || this.state === TCP_SYN_RECV)) {
        return 0;
      }
      return this.checkWritable();
    } finally {
      this.stack.exit();
    }
  }

  /** checkWritable returns the free send space, or throws what write reports. */
  private checkWritable(): number {
    if (this.error !== 0) throw errorForErrno(this.takeError());
    if (this.shutWrite || this.finQueued) throw errClosedForSend;
    if (this.state === TCP_SYN_SENT || this.state === TCP_SYN_RECV) throw errWouldBlock;
    if (this.state !== TCP_ESTABLISHED && this.state !== TCP_CLOSE_WAIT) throw errClosedForSend;
    const space = this.sndCapacity - this.sndQueue.length;
    if (space <= 0) throw errWouldBlock;
    return space;
  }

  /** queued pushes newly queued bytes out (urgent mark, MSG_MORE). */
  private queued(opts: WriteOptions): void {
    if (opts.oob) this.sndUp = seqAdd(this.dataUna, this.sndQueue.length);
    this.moreHint = opts.more === true;
    out.sendData(this);
    this.moreHint = false;
  }

  /** writable reports whether write would accept bytes now (Linux: free space >= half of what is queued). */
  private sendSpaceReady(): boolean {
    const used = this.sndQueue.length;
    return this.sndCapacity - used >= used >> 1 && used < this.sndCapacity;
  }

  /** sendSpaceFreed is called by ACK processing after queued bytes were acknowledged. */
  sendSpaceFreed(): void {
    if (this.sendSpaceReady()) this.signal(EVENT_OUT);
  }

  // ---- Shutdown and close (teardown.ts) ----

  /** shutdown closes one or both directions. */
  shutdown(how: number): void {
    td.shutdown(this, how);
  }

  /**
   * close releases the endpoint. An established connection is closed
   * gracefully in the background (FIN); with unread data, or SO_LINGER with
   * a zero timeout, it is reset instead (Linux).
   */
  close(): void {
    td.close(this);
  }

  /** abort ends the connection now: RST if asked, errno (0: none) as the pending error. */
  abort(errno: number, sendRst: boolean): void {
    td.abort(this, errno, sendRst);
  }

  /** destroy moves to CLOSED and releases timers, demux entries and (unless still owned by the user) the port. */
  destroy(): void {
    td.destroy(this);
  }

  /** enterTimeWait starts the 2*MSL wait. */
  enterTimeWait(): void {
    td.enterTimeWait(this);
  }

  // ---- Readiness and addresses ----

  readiness(mask: number): number {
    let r = 0;
    const s = this.state;
    if (s === TCP_LISTEN) {
      if (this.acceptQueue.length > 0) r |= EVENT_IN;
      return r & mask;
    }
    const sendShut = this.shutWrite || this.finQueued || (s === TCP_CLOSE && this.everConnected);
    const rcvShut = this.shutRead || this.finReceived || (s === TCP_CLOSE && this.everConnected);
    if ((rcvShut && sendShut) || s === TCP_CLOSE) r |= EVENT_HUP;
    if (rcvShut) r |= EVENT_IN | EVENT_RDHUP;
    if (s !== TCP_SYN_SENT && s !== TCP_SYN_RECV) {
      // SO_RCVLOWAT, unless the window is nearly closed (Linux tcp_epollin_ready).
      const q = this.rcvQueue.length;
      if (q > 0 && (q >= this.rcvLowat || this.rcvCapacity - q < this.advMss)) r |= EVENT_IN;
      if (!sendShut) {
        if (this.sendSpaceReady()) r |= EVENT_OUT;
      } else {
        r |= EVENT_OUT;
      }
      if (this.oobByte >= 0) r |= EVENT_PRI;
    }
    if (this.error !== 0) r |= EVENT_ERR;
    return r & (mask | EVENT_ERR | EVENT_HUP);
  }

  takeError(): number {
    const e = this.error;
    this.error = 0;
    return e;
  }

  private peerAddress(): FullAddress {
    return this.fromNet(this.netProto, this.remoteAddr, this.remotePort);
  }

  getsockname(): FullAddress {
    if (this.connRegistered || this.localAddr !== '') return this.fromNet(this.netProto, this.localAddr, this.port);
    return this.fromNet(this.netProto, this.bindAddr, this.port);
  }

  getpeername(): FullAddress {
    if (!this.connRegistered || this.state === TCP_SYN_SENT || this.state === TCP_CLOSE || this.state === TCP_LISTEN) throw errNotConnected;
    return this.peerAddress();
  }

  /** queuedRead is FIONREAD/SIOCINQ: bytes readable now. */
  get queuedRead(): number {
    return this.rcvQueue.length;
  }

  /** queuedWrite is SIOCOUTQ: bytes not yet acknowledged. */
  get queuedWrite(): number {
    return this.sndQueue.length;
  }

  /** unsentBytes is SIOCOUTQNSD. */
  get unsentBytes(): number {
    return Math.max(0, this.sndQueue.length - seqDiff(this.sndNxt, this.dataUna));
  }

  /** atMark is SIOCATMARK. */
  get atMark(): boolean {
    return this.urgMarkAt >= 0 && this.urgMarkAt === this.rcvConsumed;
  }

  // ---- Options ----

  override setOption(name: IntOption, value: number): void {
    this.stack.enter();
    try {
      if (!setTcpOption(this, name, value)) super.setOption(name, value);
    } finally {
      this.stack.exit();
    }
  }

  override getOption(name: IntOption): number {
    return getTcpOption(this, name) ?? super.getOption(name);
  }

  protected override keepAliveChanged(): void {
    out.armKeepalive(this);
  }

  protected override bufferSizesChanged(): void {
    if (this.state !== TCP_CLOSE && this.state !== TCP_LISTEN) out.maybeSendWindowUpdate(this);
  }

  /** getCongestion / setCongestion implement TCP_CONGESTION: only "reno" exists (others: ENOENT, as Linux). */
  getCongestion(): string {
    return 'reno';
  }

  setCongestion(name: string): void {
    if (name !== 'reno') throw new TcpipError(ERRNO.ENOENT, 'no such congestion control');
  }

  /** getTcpInfo fills struct tcp_info (TCP_INFO). */
  getTcpInfo(): TcpInfo {
    return buildTcpInfo(this);
  }

  // ---- From the stack ----

  /** handleSegment processes one inbound segment. */
  handleSegment(seg: Segment): void {
    handleSegment(this, seg);
  }

  handlePacket(_info: PacketInfo): void {
    // TCP segments arrive through handleSegment (the protocol parses them first).
  }

  handleControl(err: ControlError): void {
    if (this.state === TCP_SYN_SENT || (this.state === TCP_SYN_RECV && this.parent === null)) {
      // Any error while connecting aborts (Linux tcp_v4_err).
      if (err.mtu !== undefined) return;
      this.connectFailed(err.errno);
      return;
    }
    if (err.mtu !== undefined && err.mtu > 0) {
      out.reduceMss(this, err.mtu);
      return;
    }
    this.softError = err.errno;
  }

  /** connectFailed ends a connection attempt with errno. */
  connectFailed(errno: number): void {
    this.stack.stats.tcp.failedConnectionAttempts++;
    this.error = errno;
    this.destroy();
  }

  /** resetByPeer handles an acceptable RST. */
  resetByPeer(): void {
    const s = this.state;
    this.stack.stats.tcp.resetsReceived++;
    if (s === TCP_SYN_SENT || (s === TCP_SYN_RECV && this.parent === null)) {
      this.connectFailed(ERRNO.ECONNREFUSED);
      return;
    }
    if (s === TCP_SYN_RECV) {
      this.orphaned = true;
      this.destroy();
      return;
    }
    if (s === TCP_CLOSING || s === TCP_LAST_ACK || s === TCP_TIME_WAIT) {
      this.destroy();
      return;
    }
    this.stack.stats.tcp.establishedResets++;
    this.error = s === TCP_CLOSE_WAIT ? ERRNO.EPIPE : ERRNO.ECONNRESET;
    this.destroy();
  }
}

/** concat joins views into one array. */
function concat(views: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const v of views) n += v.length;
  const b = new Uint8Array(n);
  let o = 0;
  for (const v of views) {
    b.set(v, o);
    o += v.length;
  }
  return b;
}
