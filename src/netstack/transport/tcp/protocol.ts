// TCP protocol: configuration, inbound validation and demultiplexing, and
// the stateless RST for segments no endpoint wants (RFC 9293 3.10.7.1).

import type { PacketBuffer } from '../../buffer.js';
import { EMPTY, PacketBuffer as PB } from '../../buffer.js';
import {
  TCP_ACK,
  TCP_MIN_HEADER_LEN,
  TCP_RST,
  TCP_SYN,
  decodeTCP,
  encodeTCP,
  parseTCPOptions,
  setTCPChecksum,
  tcpChecksumOK,
  type TCPOptions,
} from '../../header/tcp.js';
import { PROTO_TCP } from '../../header/ipv4.js';
import type { Stack, TransportProtocol } from '../../stack/stack.js';
import type { PacketInfo, Route } from '../../stack/types.js';
import { TCPEndpoint } from './endpoint.js';
import { Segment } from './segment.js';
import { seqAdd } from './seqnum.js';

/** TCPConfig holds the net.ipv4.tcp_* knobs; times in milliseconds. */
export interface TCPConfig {
  minRTO: number;
  maxRTO: number;
  initialRTO: number;
  /** synRetries: tcp_syn_retries (SYN retransmissions before ETIMEDOUT). */
  synRetries: number;
  synAckRetries: number;
  /** retries2: tcp_retries2 (data retransmissions before ETIMEDOUT). */
  retries2: number;
  /** timeWaitMs is 2*MSL (Linux: 60 s). */
  timeWaitMs: number;
  /** finTimeoutMs: tcp_fin_timeout for orphaned FIN-WAIT-2 connections. */
  finTimeoutMs: number;
  keepIdleMs: number;
  keepIntvlMs: number;
  keepCnt: number;
  delayedAck: boolean;
  delAckMs: number;
  sack: boolean;
  timestamps: boolean;
  windowScaling: boolean;
  initialCwndSegments: number;
  /** rcvBuf / sndBuf: default buffer capacity of a socket, bytes. */
  rcvBuf: number;
  sndBuf: number;
  /** maxRcvBuf bounds the window scale we announce. */
  maxRcvBuf: number;
  maxPersistMs: number;
  /** somaxconn caps listen backlogs. */
  somaxconn: number;
}

export const DEFAULT_TCP_CONFIG: TCPConfig = {
  minRTO: 200,
  maxRTO: 120_000,
  initialRTO: 1000,
  synRetries: 6,
  synAckRetries: 5,
  retries2: 15,
  timeWaitMs: 60_000,
  finTimeoutMs: 60_000,
  keepIdleMs: 7_200_000,
  keepIntvlMs: 75_000,
  keepCnt: 9,
  delayedAck: true,
  delAckMs: 40,
  sack: true,
  timestamps: true,
  windowScaling: true,
  initialCwndSegments: 10,
  rcvBuf: 1 << 20,
  sndBuf: 1 << 20,
  maxRcvBuf: 6 << 20,
  maxPersistMs: 120_000,
  somaxconn: 4096,
};

const NO_OPTIONS: TCPOptions = Object.freeze({ mss: 0, wscale: -1, sackPermitted: false, ts: false, tsVal: 0, tsEcr: 0, sackBlocks: null });

export class TCPProtocol implements TransportProtocol {
  readonly config: TCPConfig;

  constructor(private readonly stack: Stack, cfg: Partial<TCPConfig> = {}) {
    this.config = { ...DEFAULT_TCP_CONFIG, ...cfg };
  }

  quotedPorts(t: Uint8Array): [number, number] {
    return [(t[0] << 8) | t[1], (t[2] << 8) | t[3]];
  }

  /** isn returns a fresh initial sequence number. */
  isn(): number {
    return Math.floor(this.stack.random() * 0x100000000) >>> 0;
  }

  handlePacket(info: PacketInfo, pkt: PacketBuffer): void {
    const st = this.stack.stats.tcp;
    st.segmentsReceived++;
    const fixed = pkt.pullUpAt(TCP_MIN_HEADER_LEN);
    if (fixed < 0) return void st.invalidSegmentsReceived++;
    const dataOffset = (pkt.head[fixed + 12] >> 4) * 4;
    if (dataOffset < TCP_MIN_HEADER_LEN || dataOffset > pkt.size) return void st.invalidSegmentsReceived++;
    const at = pkt.pullUpAt(dataOffset);
    const h = pkt.head;
    if (!pkt.checksumVerified && !tcpChecksumOK(pkt.data(), info.src, info.dst)) return void st.checksumErrors++;
    if (info.multi) return void st.invalidSegmentsReceived++;
    const f = decodeTCP(h, at);
    const opts = dataOffset > TCP_MIN_HEADER_LEN
      ? parseTCPOptions(h, at + TCP_MIN_HEADER_LEN, at + dataOffset, (f.flags & TCP_SYN) !== 0)
      : NO_OPTIONS;
    pkt.consume(dataOffset);
    let first: Uint8Array;
    let rest: Uint8Array[] | null;
    if (pkt.headStart === pkt.head.length && pkt.extra === null) {
      // The usual shape (headers all consumed, one payload view): no array built.
      first = pkt.payload;
      rest = null;
    } else {
      const views = pkt.views();
      first = views[0] ?? EMPTY;
      rest = views.length > 1 ? views.slice(1) : null;
    }
    const seg = new Segment(info, f.srcPort, f.dstPort, f.seq, f.ack, f.flags, f.window, f.urgent, opts, first, rest);
    const ep = this.stack.demux.lookup(PROTO_TCP, info.netProto, info.dst, f.dstPort, info.src, f.srcPort, info.nic.id);
    if (ep instanceof TCPEndpoint) ep.handleSegment(seg);
    else this.replyWithReset(seg);
  }

  /** dispatchAgain re-runs demultiplexing (a SYN that ended a TIME-WAIT goes to the listener). */
  dispatchAgain(seg: Segment, except: TCPEndpoint): void {
    const info = seg.info;
    const ep = this.stack.demux.lookup(PROTO_TCP, info.netProto, info.dst, seg.dstPort, info.src, seg.srcPort, info.nic.id);
    if (ep instanceof TCPEndpoint && ep !== except) ep.handleSegment(seg);
    else this.replyWithReset(seg);
  }

  /** replyWithReset answers a segment for no connection. */
  replyWithReset(seg: Segment): void {
    if (seg.has(TCP_RST)) return;
    let route: Route;
    try {
      route = this.stack.findRoute(seg.info.nic.id, seg.info.dst, seg.info.src, seg.info.netProto);
    } catch {
      return;
    }
    if (seg.has(TCP_ACK)) this.sendBare(route, seg.dstPort, seg.srcPort, seg.ack, 0, TCP_RST);
    else this.sendBare(route, seg.dstPort, seg.srcPort, 0, seqAdd(seg.seq, seg.seqLen), TCP_RST | TCP_ACK);
  }

  /** sendBare sends an option-less segment outside any endpoint (RSTs). */
  sendBare(route: Route, srcPort: number, dstPort: number, seq: number, ack: number, flags: number): void {
    const pkt = PB.outbound(route.maxHeaderLength + TCP_MIN_HEADER_LEN, EMPTY);
    const off = pkt.prepend(TCP_MIN_HEADER_LEN);
    encodeTCP(pkt.head, off, { srcPort, dstPort, seq, ack, dataOffset: TCP_MIN_HEADER_LEN, flags, window: 0, urgent: 0 });
    if (!route.checksumOffload) setTCPChecksum(pkt.head, off, TCP_MIN_HEADER_LEN, EMPTY, route.local, route.remote);
    const st = this.stack.stats.tcp;
    st.segmentsSent++;
    if (flags & TCP_RST) st.resetsSent++;
    this.stack.writePacket(route, PROTO_TCP, pkt, { ttl: route.netProto === 4 ? this.stack.defaultTTL : this.stack.defaultHopLimit, tos: 0 });
  }
}
