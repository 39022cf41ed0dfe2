// TCP transmission: building segments, pushing queued data through the
// send and congestion windows (Nagle, SWS avoidance), retransmission,
// zero-window probes, keepalives and delayed ACKs.

import { EMPTY, PacketBuffer } from '../../buffer.js';
import { ERRNO } from '../../../abi/linux/errno.js';
import { IPV4_MIN_HEADER_LEN, PROTO_TCP } from '../../header/ipv4.js';
import { IPV6_HEADER_LEN } from '../../header/ipv6.js';
import {
  TCP_ACK,
  TCP_FIN,
  TCP_MIN_HEADER_LEN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  dataOptionsLength,
  encodeDataOptions,
  encodeSynOptions,
  encodeTCP,
  maxSackBlocks,
  setTCPChecksum,
  synOptionsLength,
  type SackBlock,
} from '../../header/tcp.js';
import type { TCPEndpoint } from './endpoint.js';
import { seqAdd, seqDiff, seqGT, seqLT, seqMax } from './seqnum.js';
import {
  TCP_CLOSE_WAIT,
  TCP_ESTABLISHED,
  TCP_FIN_WAIT1,
  TCP_FIN_WAIT2,
  TCP_SYN_RECV,
  TCP_SYN_SENT,
  canSendData,
} from './state.js';

const NO_SACK: SackBlock[] = [];
/** TS_OPTION_LEN is what the timestamp option costs every segment. */
export const TS_OPTION_LEN = 12;

/** tsNow returns our timestamp clock (1 ms ticks, randomly offset per connection). */
export function tsNow(ep: TCPEndpoint): number {
  return (Math.floor(ep.now()) + ep.tsOffset) >>> 0;
}

/** offeredWndScale is the window shift we announce in our SYN. */
export function offeredWndScale(ep: TCPEndpoint): number {
  const space = Math.max(ep.rcvCapacity, ep.cfg.maxRcvBuf);
  let s = 0;
  while (space >>> s > 65535 && s < 14) s++;
  return s;
}

/**
 * advertiseWindow returns the window field for an outgoing segment and
 * moves rcvAdvEdge. The right edge never moves left (RFC 9293 3.8.6.2.2);
 * windows smaller than min(buffer/2, MSS) are announced as zero (receiver
 * silly-window avoidance).
 */
function advertiseWindow(ep: TCPEndpoint, syn: boolean): number {
  let win = Math.max(0, ep.rcvCapacity - ep.rcvQueue.length - ep.ooo.bytes);
  if (ep.windowClamp > 0) win = Math.min(win, ep.windowClamp);
  if (win < Math.min(ep.rcvCapacity >> 1, ep.advMss)) win = 0;
  const cur = Math.max(0, seqDiff(ep.rcvAdvEdge, ep.rcvNxt));
  if (cur > win) win = cur;
  const scale = syn ? 0 : ep.rcvWndScale;
  let field = win >>> scale;
  if (field << scale < cur) field++;
  if (field > 65535) field = 65535;
  const edge = seqAdd(ep.rcvNxt, field << scale);
  if (seqGT(edge, ep.rcvAdvEdge)) ep.rcvAdvEdge = edge;
  return field;
}

/** sendSegment builds and sends one segment with the current ACK and window. */
export function sendSegment(ep: TCPEndpoint, flags: number, seq: number, payload: Uint8Array, extra: Uint8Array[] | null = null): void {
  const route = ep.route;
  if (route === null) return;
  const syn = (flags & TCP_SYN) !== 0;
  let optLen: number;
  let sack = NO_SACK;
  const tsVal = tsNow(ep);
  let synOpts = null;
  if (syn) {
    const active = (flags & TCP_ACK) === 0;
    synOpts = {
      mss: ep.advMss,
      wscale: active ? (ep.cfg.windowScaling ? ep.rcvWndScale : -1) : ep.wsOk ? ep.rcvWndScale : -1,
      sackPermitted: active ? ep.cfg.sack : ep.sackOk,
      ts: active ? ep.cfg.timestamps : ep.tsOk,
      tsVal,
      tsEcr: active ? 0 : ep.tsRecent,
    };
    optLen = synOptionsLength(synOpts);
  } else {
    if (ep.sackOk && (flags & TCP_ACK) !== 0 && !ep.ooo.empty) sack = ep.ooo.sackBlocks(maxSackBlocks(ep.tsOk));
    optLen = dataOptionsLength(ep.tsOk, sack.length);
  }
  const hdrLen = TCP_MIN_HEADER_LEN + optLen;
  const pkt = PacketBuffer.outbound(route.maxHeaderLength + hdrLen, payload, extra);
  const off = pkt.prepend(hdrLen);
  const hasAck = (flags & TCP_ACK) !== 0;
  const window = (flags & TCP_RST) !== 0 ? 0 : advertiseWindow(ep, syn);
  let urgent = 0;
  if (ep.sndUp >= 0 && payload.length > 0 && seqGT(ep.sndUp, seq)) {
    flags |= TCP_URG;
    urgent = Math.min(seqDiff(ep.sndUp, seq), 65535);
  }
  encodeTCP(pkt.head, off, {
    srcPort: ep.port,
    dstPort: ep.remotePort,
    seq,
    ack: hasAck ? ep.rcvNxt : 0,
    dataOffset: hdrLen,
    flags,
    window,
    urgent,
  });
  if (synOpts !== null) encodeSynOptions(pkt.head, off + TCP_MIN_HEADER_LEN, synOpts);
  else if (optLen > 0) encodeDataOptions(pkt.head, off + TCP_MIN_HEADER_LEN, ep.tsOk, tsVal, ep.tsRecent, sack, sack.length);
  if (!route.checksumOffload) setTCPChecksum(pkt.head, off, hdrLen, payload, route.local, route.remote, extra);
  if (hasAck) {
    ep.lastAckSent = ep.rcvNxt;
    ep.pendingAckBytes = 0;
    ep.delackTimer.stop();
  }
  const st = ep.stats;
  st.segsOut++;
  if (payload.length > 0 || extra !== null) {
    st.dataSegsOut++;
    st.lastDataSent = ep.now();
  }
  const gst = ep.stack.stats.tcp;
  gst.segmentsSent++;
  if (flags & TCP_RST) gst.resetsSent++;
  // DF unless IP_MTU_DISCOVER is IP_PMTUDISC_DONT (0), as Linux's ip_dont_fragment.
  ep.stack.writePacket(route, PROTO_TCP, pkt, { ttl: effectiveTTL(ep), tos: ep.tos, df: ep.pmtudisc !== 0 });
}

function effectiveTTL(ep: TCPEndpoint): number {
  if (ep.ttl >= 0) return ep.ttl;
  return ep.netProto === 4 ? ep.stack.defaultTTL : ep.stack.defaultHopLimit;
}

/** sendAck sends a pure ACK now. */
export function sendAck(ep: TCPEndpoint): void {
  if (ep.route === null) return;
  sendSegment(ep, TCP_ACK, ep.sndNxt, EMPTY);
}

/** sendChallengeAck answers a suspicious RST/SYN (RFC 5961). */
export function sendChallengeAck(ep: TCPEndpoint): void {
  sendAck(ep);
}

/** sendReset aborts the connection on the wire. */
export function sendReset(ep: TCPEndpoint): void {
  sendSegment(ep, TCP_RST | TCP_ACK, ep.sndNxt, EMPTY);
}

/** sendSyn sends our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED). */
export function sendSyn(ep: TCPEndpoint): void {
  if (ep.state === TCP_SYN_SENT && ep.rcvWndScale === 0 && ep.cfg.windowScaling) ep.rcvWndScale = offeredWndScale(ep);
  const flags = ep.state === TCP_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK;
  sendSegment(ep, flags, ep.iss, EMPTY);
}

/** scheduleAck acknowledges received data now or soon (delayed ACK). */
export function scheduleAck(ep: TCPEndpoint, bytes: number, now: boolean): void {
  ep.pendingAckBytes += bytes;
  if (now || !ep.cfg.delayedAck || ep.quickAckOpt || ep.quickAcks > 0 || ep.pendingAckBytes >= 2 * ep.advMss) {
    if (ep.quickAcks > 0) ep.quickAcks--;
    sendAck(ep);
    return;
  }
  if (!ep.delackTimer.enabled) ep.delackTimer.reset(ep.cfg.delAckMs);
}

/** currentRto returns the retransmission timeout including backoff. */
export function currentRto(ep: TCPEndpoint): number {
  return Math.min(ep.cfg.maxRTO, ep.rtt.rto * 2 ** ep.backoff);
}

function dataEnd(ep: TCPEndpoint): number {
  return seqAdd(ep.dataUna, ep.sndQueue.length);
}

/** sendData sends what the windows and Nagle allow. */
export function sendData(ep: TCPEndpoint): void {
  if (!canSendData(ep.state) || ep.route === null) return;
  const mss = ep.sndMss;
  for (;;) {
    const end = dataEnd(ep);
    const pending = seqDiff(end, ep.sndNxt);
    const needFin = ep.finQueued && ep.sndNxt === end;
    if (pending <= 0 && !needFin) break;
    const inFlight = seqDiff(ep.sndNxt, ep.sndUna);
    const wndAvail = seqDiff(seqAdd(ep.sndUna, ep.sndWnd), ep.sndNxt);
    const cwndAvail = ep.cc.cwnd - inFlight;
    const seq = ep.sndNxt;
    if (pending > 0) {
      let len = Math.min(mss, pending);
      const avail = Math.min(wndAvail, cwndAvail);
      if (avail < len) {
        if (wndAvail <= 0) {
          // Zero window: probe when nothing is in flight to elicit a window update.
          if (inFlight === 0) armPersist(ep);
          break;
        }
        if (inFlight > 0 && (cwndAvail < len || avail < Math.min(mss, ep.maxSndWnd >> 1))) break;
        len = avail;
      }
      if (len < mss && len === pending && !ep.finQueued) {
        // Nagle, Minshall's variant as Linux has it: hold a small tail while an earlier small
        // segment is unacknowledged (a full-sized one in flight does not hold it: the tail of
        // a large write goes at once). TCP_CORK/MSG_MORE hold it regardless.
        if (ep.cork || ep.moreHint) break;
        if (!ep.noDelay && inFlight > 0 && ep.smlValid && seqGT(ep.sndSml, ep.sndUna) && !seqGT(ep.sndSml, ep.sndNxt)) break;
      }
      const views = ep.sndQueue.peekViews(seqDiff(seq, ep.dataUna), len);
      const last = len === pending;
      const fin = last && ep.finQueued;
      let flags = TCP_ACK;
      if (last) flags |= TCP_PSH;
      if (fin) flags |= TCP_FIN;
      const retrans = seqLT(seq, ep.sndMax);
      sendSegment(ep, flags, seq, views[0], views.length > 1 ? views.slice(1) : null);
      ep.sndNxt = seqAdd(seq, len + (fin ? 1 : 0));
      if (len < mss) {
        ep.sndSml = seqAdd(seq, len);
        ep.smlValid = true;
      }
      ep.stats.bytesSent += len;
      if (retrans) countRetrans(ep, len);
      else if (!ep.tsOk && ep.rttSeq < 0) {
        ep.rttSeq = ep.sndNxt;
        ep.rttTime = ep.now();
      }
    } else {
      const retrans = seqLT(seq, ep.sndMax);
      sendSegment(ep, TCP_ACK | TCP_FIN, seq, EMPTY);
      ep.sndNxt = seqAdd(seq, 1);
      if (retrans) countRetrans(ep, 0);
    }
    if (seqGT(ep.sndNxt, ep.sndMax)) ep.sndMax = ep.sndNxt;
    if (!ep.rtoTimer.enabled) ep.rtoTimer.reset(currentRto(ep));
    ep.persistTimer.stop();
  }
}

function countRetrans(ep: TCPEndpoint, len: number): void {
  ep.stats.retransSegs++;
  ep.stats.bytesRetrans += len;
  ep.stack.stats.tcp.retransmits++;
  ep.rttSeq = -1; // Karn: never time a retransmitted segment
}

/** retransmitAt resends the segment starting at seq (at most maxLen bytes) without moving snd.nxt. */
export function retransmitAt(ep: TCPEndpoint, seq: number, maxLen: number): void {
  const end = dataEnd(ep);
  const left = seqDiff(end, seq);
  if (left > 0) {
    const len = Math.min(ep.sndMss, left, maxLen);
    const views = ep.sndQueue.peekViews(seqDiff(seq, ep.dataUna), len);
    const fin = ep.finQueued && len === left;
    sendSegment(ep, TCP_ACK | (fin ? TCP_FIN : 0) | (len === left ? TCP_PSH : 0), seq, views[0], views.length > 1 ? views.slice(1) : null);
    countRetrans(ep, len);
  } else if (ep.finQueued && left === 0 && seqGT(ep.sndMax, end)) {
    sendSegment(ep, TCP_ACK | TCP_FIN, seq, EMPTY);
    countRetrans(ep, 0);
  }
}

/**
 * retransmitLost resends the next presumed-lost segment during fast
 * recovery: the next SACK hole, or (without SACK information) snd.una.
 */
export function retransmitLost(ep: TCPEndpoint, force: boolean): void {
  if (ep.sackOk && ep.sack.ranges.length > 0) {
    const hole = ep.sack.nextHole(seqMax(ep.rexmitNext, ep.sndUna));
    if (hole !== null) {
      retransmitAt(ep, hole.start, seqDiff(hole.end, hole.start));
      ep.rexmitNext = seqAdd(hole.start, Math.min(ep.sndMss, seqDiff(hole.end, hole.start)));
      return;
    }
    if (!force) return;
  }
  retransmitAt(ep, ep.sndUna, ep.sndMss);
  ep.rexmitNext = seqAdd(ep.sndUna, ep.sndMss);
}

/** onRtoTimer handles retransmission timeouts (SYN, SYN-ACK and data). */
export function onRtoTimer(ep: TCPEndpoint): void {
  const cfg = ep.cfg;
  if (ep.state === TCP_SYN_SENT || ep.state === TCP_SYN_RECV) {
    const limit = ep.state === TCP_SYN_SENT ? ep.synCnt || cfg.synRetries : cfg.synAckRetries;
    if (ep.backoff >= limit) {
      if (ep.state === TCP_SYN_SENT) ep.connectFailed(ep.softError || ERRNO.ETIMEDOUT);
      else {
        if (ep.parent !== null) ep.orphaned = true;
        ep.connectFailed(ERRNO.ETIMEDOUT);
      }
      return;
    }
    ep.backoff++;
    ep.stack.stats.tcp.retransmits++;
    ep.stats.retransSegs++;
    ep.rttSeq = -1;
    sendSyn(ep);
    ep.rtoTimer.reset(Math.min(cfg.maxRTO, cfg.initialRTO * 2 ** ep.backoff));
    return;
  }
  if (!canSendData(ep.state) && ep.state !== TCP_FIN_WAIT2) return;
  if (ep.sndUna === ep.sndMax) return;
  const now = ep.now();
  if (ep.backoff === 0) ep.firstRetransAt = now;
  if (ep.backoff >= cfg.retries2 || (ep.userTimeout > 0 && now - ep.firstRetransAt >= ep.userTimeout)) {
    ep.abort(ep.softError || ERRNO.ETIMEDOUT, false);
    return;
  }
  ep.stats.timeouts++;
  ep.stack.stats.tcp.timeouts++;
  const flight = seqDiff(ep.sndMax, ep.sndUna);
  ep.cc.onTimeout(flight, ep.sndMss);
  ep.sack.clear();
  ep.backoff++;
  // Go back N: resend from snd.una as the (now one-segment) window allows.
  ep.sndNxt = ep.sndUna;
  ep.rexmitNext = ep.sndUna;
  ep.rttSeq = -1;
  ep.rtoTimer.stop();
  sendData(ep);
  ep.rtoTimer.reset(currentRto(ep));
}

/** armPersist starts the zero-window probe timer. */
export function armPersist(ep: TCPEndpoint): void {
  if (ep.persistTimer.enabled) return;
  ep.rtoTimer.stop();
  ep.persistTimer.reset(Math.min(ep.cfg.maxPersistMs, ep.rtt.rto * 2 ** ep.persistBackoff));
}

/** onPersistTimer sends a zero-window probe (an old sequence number: the peer answers with its window). */
export function onPersistTimer(ep: TCPEndpoint): void {
  if (!canSendData(ep.state)) return;
  const end = dataEnd(ep);
  const pending = seqDiff(end, ep.sndNxt) > 0;
  if (!pending) return;
  if (seqDiff(seqAdd(ep.sndUna, ep.sndWnd), ep.sndNxt) > 0) {
    ep.persistBackoff = 0;
    sendData(ep);
    return;
  }
  sendSegment(ep, TCP_ACK, seqAdd(ep.sndUna, -1), EMPTY);
  ep.stats.zeroWindowProbes++;
  ep.stack.stats.tcp.zeroWindowProbes++;
  ep.persistBackoff = Math.min(ep.persistBackoff + 1, 16);
  ep.persistTimer.reset(Math.min(ep.cfg.maxPersistMs, ep.rtt.rto * 2 ** ep.persistBackoff));
}

/** armKeepalive (re)starts the keepalive timer when SO_KEEPALIVE is on. */
export function armKeepalive(ep: TCPEndpoint): void {
  const s = ep.state;
  if (ep.keepAlive && (s === TCP_ESTABLISHED || s === TCP_CLOSE_WAIT || s === TCP_FIN_WAIT1 || s === TCP_FIN_WAIT2)) {
    ep.keepaliveTimer.reset(ep.keepIdle);
  } else {
    ep.keepaliveTimer.stop();
  }
}

/** onKeepaliveTimer probes an idle connection and gives up after keepCnt unanswered probes. */
export function onKeepaliveTimer(ep: TCPEndpoint): void {
  const s = ep.state;
  if (!ep.keepAlive || !(s === TCP_ESTABLISHED || s === TCP_CLOSE_WAIT || s === TCP_FIN_WAIT1 || s === TCP_FIN_WAIT2)) return;
  if (ep.sndMax !== ep.sndUna || seqDiff(dataEnd(ep), ep.sndNxt) > 0) {
    // Data in flight: the retransmission timer watches the peer.
    ep.keepaliveTimer.reset(ep.keepIdle);
    return;
  }
  const idle = ep.now() - ep.lastRecv;
  if (ep.keepProbes === 0 && idle < ep.keepIdle) {
    ep.keepaliveTimer.reset(ep.keepIdle - idle);
    return;
  }
  if (ep.keepProbes >= ep.keepCnt) {
    ep.abort(ERRNO.ETIMEDOUT, true);
    return;
  }
  sendSegment(ep, TCP_ACK, seqAdd(ep.sndUna, -1), EMPTY);
  ep.keepProbes++;
  ep.stats.keepaliveProbes++;
  ep.stack.stats.tcp.keepaliveProbes++;
  ep.keepaliveTimer.reset(ep.keepIntvl);
}

/** armFinWait2 bounds how long an orphaned connection waits for the peer's FIN. */
export function armFinWait2(ep: TCPEndpoint): void {
  if (ep.orphaned && ep.state === TCP_FIN_WAIT2) ep.waitTimer.reset(ep.linger2 > 0 ? ep.linger2 * 1000 : ep.cfg.finTimeoutMs);
}

/** maybeSendWindowUpdate announces a window that grew after the user read (RFC 9293 3.8.6.2.2). */
export function maybeSendWindowUpdate(ep: TCPEndpoint): void {
  const s = ep.state;
  if (s !== TCP_ESTABLISHED && s !== TCP_FIN_WAIT1 && s !== TCP_FIN_WAIT2) return;
  if (ep.finReceived) return;
  const cur = Math.max(0, seqDiff(ep.rcvAdvEdge, ep.rcvNxt));
  let free = Math.max(0, ep.rcvCapacity - ep.rcvQueue.length - ep.ooo.bytes);
  if (ep.windowClamp > 0) free = Math.min(free, ep.windowClamp);
  if (free - cur >= Math.min(2 * ep.advMss, ep.rcvCapacity >> 1)) sendAck(ep);
}

/** reduceMss applies a smaller path MTU (ICMP fragmentation needed / packet too big). */
export function reduceMss(ep: TCPEndpoint, mtu: number): void {
  const ipHeader = ep.netProto === 4 ? IPV4_MIN_HEADER_LEN : IPV6_HEADER_LEN;
  const mss = mtu - ipHeader - TCP_MIN_HEADER_LEN - (ep.tsOk ? TS_OPTION_LEN : 0);
  if (mss >= ep.sndMss || mss < 48) return;
  ep.sndMss = mss;
  if (ep.sndUna !== ep.sndMax) {
    ep.sndNxt = ep.sndUna;
    sendData(ep);
  }
}
