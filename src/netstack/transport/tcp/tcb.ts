// The state of one TCP connection (Linux's struct tcp_sock): every field
// TCPEndpoint's methods and the input/output/teardown modules share, and
// its construction. The behaviour is in endpoint.ts (API, connecting, data),
// teardown.ts (shutdown, close, TIME-WAIT), input.ts and output.ts.

import type { Address } from '../../addr.js';
import { ByteQueue } from '../../buffer.js';
import { Timer } from '../../clock.js';
import type { PortBinding } from '../../stack/ports.js';
import type { Stack } from '../../stack/stack.js';
import type { NetProto, Route } from '../../stack/types.js';
import { SocketBase } from '../base.js';
import { NewReno, RttEstimator, SackScoreboard } from './cc.js';
import type { TCPEndpoint } from './endpoint.js';
import { OutOfOrderQueue } from './ooo.js';
import * as out from './output.js';
import type { TCPConfig } from './protocol.js';
import { STATE_NAMES, TCP_CLOSE, TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_LISTEN } from './state.js';
import { onWaitTimer } from './teardown.js';

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

/** Per-connection counters (TCP_INFO and tests). */
export interface TCPEndpointStats {
  segsIn: number;
  segsOut: number;
  dataSegsIn: number;
  dataSegsOut: number;
  bytesSent: number;
  bytesRetrans: number;
  bytesAcked: number;
  bytesReceived: number;
  retransSegs: number;
  fastRetransmits: number;
  timeouts: number;
  dupAcksIn: number;
  zeroWindowProbes: number;
  keepaliveProbes: number;
  sackRecoveries: number;
  outOfOrderSegs: number;
  lastDataSent: number;
  lastDataRecv: number;
  lastAckRecv: number;
}

/** ReadOptions for read(). */
export interface ReadOptions {
  /** peek leaves the data queued (MSG_PEEK). */
  peek?: boolean;
}

/** WriteOptions for write(). */
export interface WriteOptions {
  /** oob marks the last byte urgent (MSG_OOB). */
  oob?: boolean;
  /** more holds a partial segment back as TCP_CORK does, for this write (MSG_MORE). */
  more?: boolean;
}
/** TCB is the connection state; TCPEndpoint adds the operations. */
export abstract class TCB extends SocketBase {
  /** state is a Linux TCP state number (see state.ts). */
  state = TCP_CLOSE;
  readonly cfg: TCPConfig;

  // ---- Addressing ----
  netProto: NetProto;
  bindings: PortBinding[] = [];
  port = 0;
  bindAddr: Address = '';
  explicitlyBound = false;
  localAddr: Address = '';
  remoteAddr: Address = '';
  remotePort = 0;
  route: Route | null = null;
  /** connRegistered: the 4-tuple is in the demuxer. */
  connRegistered = false;
  /** listenRegistered: the listening binding is in the demuxer. */
  listenRegistered = false;
  /** connectPending mirrors SS_CONNECTING: a connect() awaiting its outcome report. */
  connectPending = false;

  // ---- Listener ----
  backlog = 0;
  acceptQueue: TCPEndpoint[] = [];
  synRcvdCount = 0;
  /** parent is the listener of a passively opened connection until accept(). */
  parent: TCPEndpoint | null = null;
  /** inAcceptQueue: established, waiting for accept(). */
  inAcceptQueue = false;

  // ---- Sequence space ----
  iss = 0;
  irs = 0;
  sndUna = 0;
  sndNxt = 0;
  sndMax = 0;
  sndWnd = 0;
  maxSndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  sndWndScale = 0;
  rcvWndScale = 0;
  rcvNxt = 0;
  /** rcvAdvEdge is the right edge of the window we advertised (never moved left). */
  rcvAdvEdge = 0;
  lastAckSent = 0;

  // ---- Buffers ----
  /** sndQueue holds unacknowledged and unsent bytes; its first byte has sequence number dataUna. */
  readonly sndQueue = new ByteQueue();
  dataUna = 0;
  /** finQueued: our FIN follows the queued data (shutdown/close). */
  finQueued = false;
  readonly rcvQueue = new ByteQueue();
  readonly ooo = new OutOfOrderQueue();
  finReceived = false;
  /** rcvConsumed counts bytes the user read (urgent mark bookkeeping). */
  rcvConsumed = 0;
  rcvDelivered = 0;

  // ---- Negotiated ----
  advMss = 536;
  /** sndMss is the payload per segment we send (peer MSS less our option overhead). */
  sndMss = 536;
  userMss = 0;
  sackOk = false;
  tsOk = false;
  tsRecent = 0;
  tsOffset = 0;
  wsOk = false;

  // ---- Timers and estimators ----
  readonly rtoTimer: Timer;
  readonly persistTimer: Timer;
  readonly delackTimer: Timer;
  readonly keepaliveTimer: Timer;
  readonly waitTimer: Timer;
  readonly rtt: RttEstimator;
  readonly cc: NewReno;
  readonly sack = new SackScoreboard();
  /** backoff counts consecutive RTO expirations (also SYN retries). */
  backoff = 0;
  firstRetransAt = 0;
  /** lastRecv is when the last acceptable segment arrived (keepalive idleness). */
  lastRecv = 0;
  /** rttSeq/rttTime time one segment when timestamps are off (Karn's algorithm). */
  rttSeq = -1;
  rttTime = 0;
  rexmitNext = 0;
  persistBackoff = 0;
  keepProbes = 0;
  pendingAckBytes = 0;
  quickAcks = 16;

  // ---- Errors and shutdown ----
  /** error is the pending hard error (SO_ERROR), reported once. */
  error = 0;
  softError = 0;
  shutRead = false;
  shutWrite = false;
  /** orphaned: close() was called; the connection finishes in the background. */
  orphaned = false;
  /** everConnected: reached ESTABLISHED at some point. */
  everConnected = false;

  // ---- Urgent data ----
  sndUp = -1;
  rcvUrgSeq = -1;
  oobByte = -1;
  urgMarkAt = -1;

  // ---- TCP options ----
  noDelay = false;
  cork = false;
  /** sndSml ends the last sub-MSS segment sent (Minshall's Nagle: only one small segment
   *  may be unacknowledged); meaningful once smlValid. */
  sndSml = 0;
  smlValid = false;
  moreHint = false;
  quickAckOpt = false;
  keepIdle: number;
  keepIntvl: number;
  keepCnt: number;
  userTimeout = 0;
  synCnt = 0;
  linger2 = 0;
  deferAccept = 0;
  windowClamp = 0;

  readonly stats: TCPEndpointStats = {
    segsIn: 0,
    segsOut: 0,
    dataSegsIn: 0,
    dataSegsOut: 0,
    bytesSent: 0,
    bytesRetrans: 0,
    bytesAcked: 0,
    bytesReceived: 0,
    retransSegs: 0,
    fastRetransmits: 0,
    timeouts: 0,
    dupAcksIn: 0,
    zeroWindowProbes: 0,
    keepaliveProbes: 0,
    sackRecoveries: 0,
    outOfOrderSegs: 0,
    lastDataSent: 0,
    lastDataRecv: 0,
    lastAckRecv: 0,
  };

  constructor(stack: Stack, family: NetProto) {
    const cfg = stack.tcp.config;
    super(stack, family, cfg.rcvBuf, cfg.sndBuf);
    this.cfg = cfg;
    this.netProto = family;
    this.keepIdle = cfg.keepIdleMs;
    this.keepIntvl = cfg.keepIntvlMs;
    this.keepCnt = cfg.keepCnt;
    const clock = stack.clock;
    this.rtoTimer = new Timer(clock, () => stack.runTimer(() => out.onRtoTimer(this as unknown as TCPEndpoint)));
    this.persistTimer = new Timer(clock, () => stack.runTimer(() => out.onPersistTimer(this as unknown as TCPEndpoint)));
    this.delackTimer = new Timer(clock, () => stack.runTimer(() => out.sendAck(this as unknown as TCPEndpoint)));
    this.keepaliveTimer = new Timer(clock, () => stack.runTimer(() => out.onKeepaliveTimer(this as unknown as TCPEndpoint)));
    this.waitTimer = new Timer(clock, () => stack.runTimer(() => onWaitTimer(this as unknown as TCPEndpoint)));
    this.rtt = new RttEstimator(cfg);
    this.cc = new NewReno(cfg.initialCwndSegments * 536);
  }

  get stateName(): string {
    return STATE_NAMES[this.state];
  }

  /** setState changes state, keeping the stack's CurrEstab count (ESTABLISHED + CLOSE-WAIT) right. */
  setState(s: number): void {
    const was = this.state === TCP_ESTABLISHED || this.state === TCP_CLOSE_WAIT;
    const is = s === TCP_ESTABLISHED || s === TCP_CLOSE_WAIT;
    if (was && !is) this.stack.stats.tcp.currentEstablished--;
    else if (!was && is) this.stack.stats.tcp.currentEstablished++;
    this.state = s;
  }

  override isListening(): boolean {
    return this.state === TCP_LISTEN;
  }

  now(): number {
    return this.stack.now();
  }

}
