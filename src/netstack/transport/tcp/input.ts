// TCP segment arrival (RFC 9293 3.10.7), per state, with RFC 5961
// hardening (exact-sequence RSTs, challenge ACKs), RFC 7323 PAWS, and
// Linux's answers where the RFC leaves room.

import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TCP_URG } from '../../header/tcp.js';
import { EVENT_IN, EVENT_PRI, EVENT_RDHUP } from '../../waiter.js';
import type { TCPEndpoint } from './endpoint.js';
import { listenerFull, newChild } from './listener.js';
import {
  armFinWait2,
  currentRto,
  offeredWndScale,
  retransmitLost,
  scheduleAck,
  sendAck,
  sendChallengeAck,
  sendData,
  sendSyn,
  TS_OPTION_LEN,
  tsNow,
} from './output.js';
import type { Segment } from './segment.js';
import { seqAdd, seqDiff, seqGE, seqGT, seqInWindow, seqLE, seqLT, seqMin } from './seqnum.js';
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
  canReceiveData,
} from './state.js';

export function handleSegment(ep: TCPEndpoint, seg: Segment): void {
  ep.stats.segsIn++;
  if (seg.dataLen > 0) ep.stats.dataSegsIn++;
  switch (ep.state) {
    case TCP_LISTEN:
      return handleListen(ep, seg);
    case TCP_SYN_SENT:
      return handleSynSent(ep, seg);
    case TCP_TIME_WAIT:
      return handleTimeWait(ep, seg);
    case TCP_CLOSE:
      ep.stack.tcp.replyWithReset(seg);
      return;
    default:
      return handleSynchronized(ep, seg);
  }
}

/** negotiate records the peer's SYN: its ISN and the options both sides agreed on. */
function negotiate(ep: TCPEndpoint, seg: Segment): void {
  const o = seg.opts;
  const cfg = ep.cfg;
  ep.irs = seg.seq;
  ep.rcvNxt = seqAdd(seg.seq, 1);
  ep.rcvAdvEdge = ep.rcvNxt;
  ep.lastAckSent = ep.rcvNxt;
  if (o.wscale >= 0 && cfg.windowScaling) {
    ep.wsOk = true;
    ep.sndWndScale = o.wscale;
    if (ep.state !== TCP_SYN_SENT) ep.rcvWndScale = offeredWndScale(ep);
  } else {
    ep.wsOk = false;
    ep.sndWndScale = 0;
    ep.rcvWndScale = 0;
  }
  ep.sackOk = o.sackPermitted && cfg.sack;
  ep.tsOk = o.ts && cfg.timestamps;
  if (ep.tsOk) ep.tsRecent = o.tsVal;
  const peerMss = o.mss > 0 ? o.mss : ep.netProto === 4 ? 536 : 1220;
  const route = ep.route!;
  const ipHeader = ep.netProto === 4 ? 20 : 40;
  const pathMss = route.mtu - ipHeader - 20;
  ep.sndMss = Math.max(Math.min(peerMss, pathMss, ep.userMss > 0 ? ep.userMss : 65535) - (ep.tsOk ? TS_OPTION_LEN : 0), 48);
  // The window of a SYN is never scaled (RFC 7323 2.2).
  ep.sndWnd = seg.window;
  ep.maxSndWnd = seg.window;
  ep.sndWl1 = seg.seq;
  ep.sndWl2 = seg.ack;
}

function handleListen(ep: TCPEndpoint, seg: Segment): void {
  if (seg.has(TCP_RST)) return;
  if (seg.has(TCP_ACK)) {
    ep.stack.tcp.replyWithReset(seg);
    return;
  }
  if (!seg.has(TCP_SYN)) return;
  if (listenerFull(ep)) {
    // Linux drops the SYN (tcp_abort_on_overflow=0); the client retries.
    ep.stack.stats.tcp.listenOverflowSynDrop++;
    return;
  }
  const child = newChild(ep, seg);
  if (child === null) return;
  child.tsOffset = ep.stack.tcp.isn();
  child.setState(TCP_SYN_RECV);
  negotiate(child, seg);
  child.initSend(ep.stack.tcp.isn());
  child.lastRecv = child.now();
  ep.stack.stats.tcp.passiveOpens++;
  sendSyn(child);
  child.rttTime = child.now();
  child.rtoTimer.reset(child.cfg.initialRTO);
}

function handleSynSent(ep: TCPEndpoint, seg: Segment): void {
  const hasAck = seg.has(TCP_ACK);
  if (hasAck && (seqLE(seg.ack, ep.iss) || seqGT(seg.ack, ep.sndMax))) {
    if (!seg.has(TCP_RST)) ep.stack.tcp.replyWithReset(seg);
    return;
  }
  if (seg.has(TCP_RST)) {
    if (hasAck) ep.resetByPeer();
    return;
  }
  if (!seg.has(TCP_SYN)) return;
  negotiate(ep, seg);
  ep.lastRecv = ep.now();
  if (hasAck) {
    if (ep.tsOk && seg.opts.tsEcr !== 0) ep.rtt.sample(seqDiff(tsNow(ep), seg.opts.tsEcr));
    else if (ep.backoff === 0) ep.rtt.sample(ep.now() - ep.rttTime);
    ep.sndUna = seg.ack;
    ep.enterEstablished();
    sendAck(ep);
    sendData(ep);
    return;
  }
  // Simultaneous open: answer with SYN-ACK and wait for the ACK of our SYN.
  ep.setState(TCP_SYN_RECV);
  sendSyn(ep);
  ep.rtoTimer.reset(currentRto(ep));
}

/** acceptable is Linux's tcp_sequence(): the segment overlaps [rcv_wup, rcv_nxt + window]. */
function acceptable(ep: TCPEndpoint, seg: Segment): boolean {
  const wnd = Math.max(0, seqDiff(ep.rcvAdvEdge, ep.rcvNxt));
  const end = seqAdd(seg.seq, seg.seqLen);
  return !seqLT(end, ep.lastAckSent) && !seqGT(seg.seq, seqAdd(ep.rcvNxt, wnd));
}

function handleSynchronized(ep: TCPEndpoint, seg: Segment): void {
  const opts = seg.opts;
  // PAWS (RFC 7323 5.3): an old timestamp marks an old duplicate.
  if (ep.tsOk && opts.ts && !seg.has(TCP_RST) && seqLT(opts.tsVal, ep.tsRecent)) {
    sendAck(ep);
    return;
  }
  if (!acceptable(ep, seg)) {
    if (!seg.has(TCP_RST)) sendAck(ep);
    return;
  }
  ep.lastRecv = ep.now();
  ep.keepProbes = 0;
  if (seg.has(TCP_RST)) {
    if (seg.seq === ep.rcvNxt) ep.resetByPeer();
    else sendChallengeAck(ep);
    return;
  }
  if (seg.has(TCP_SYN)) {
    if (ep.state === TCP_SYN_RECV && seg.seq === ep.irs) {
      if (!seg.has(TCP_ACK)) {
        sendSyn(ep); // the peer lost our SYN-ACK
        return;
      }
      // Simultaneous open: the peer's SYN-ACK acknowledges our SYN (Linux lets it pass).
      if (seg.ack !== ep.sndNxt || seg.dataLen > 0 || seg.has(TCP_FIN)) {
        sendChallengeAck(ep);
        return;
      }
    } else {
      sendChallengeAck(ep);
      return;
    }
  }
  if (!seg.has(TCP_ACK)) return;
  if (ep.tsOk && opts.ts && seqLE(seg.seq, ep.lastAckSent)) ep.tsRecent = opts.tsVal;
  if (ep.state === TCP_SYN_RECV) {
    if (seqLE(seg.ack, ep.sndUna) || seqGT(seg.ack, ep.sndMax)) {
      ep.stack.tcp.replyWithReset(seg);
      return;
    }
    if (ep.tsOk && opts.tsEcr !== 0) ep.rtt.sample(seqDiff(tsNow(ep), opts.tsEcr));
    else if (ep.backoff === 0) ep.rtt.sample(ep.now() - ep.rttTime);
    ep.enterEstablished();
  }
  if (!processAck(ep, seg)) return;
  if (ep.state === TCP_CLOSE) return;
  if (ep.finQueued && ep.sndQueue.length === 0 && ep.sndUna === seqAdd(ep.dataUna, 1)) {
    // Our FIN is acknowledged.
    switch (ep.state) {
      case TCP_FIN_WAIT1:
        ep.setState(TCP_FIN_WAIT2);
        ep.rtoTimer.stop();
        armFinWait2(ep);
        break;
      case TCP_CLOSING:
        ep.enterTimeWait();
        return;
      case TCP_LAST_ACK:
        ep.destroy();
        return;
    }
  }
  if (seg.has(TCP_URG)) noteUrgent(ep, seg);
  processData(ep, seg);
}

/** processAck handles the ACK field (RFC 9293 3.10.7.4, RFC 5681/6582/6675); false drops the segment. */
function processAck(ep: TCPEndpoint, seg: Segment): boolean {
  const ack = seg.ack;
  if (seqGT(ack, ep.sndMax)) {
    sendAck(ep);
    return false;
  }
  const st = ep.stats;
  const mss = ep.sndMss;
  st.lastAckRecv = ep.now();
  let sackNew = false;
  if (ep.sackOk && seg.opts.sackBlocks !== null) sackNew = ep.sack.update(seg.opts.sackBlocks, ep.sndUna, ep.sndMax);
  const wnd = seg.window << ep.sndWndScale;
  if (seqGT(ack, ep.sndUna)) {
    const acked = seqDiff(ack, ep.sndUna);
    if (ep.tsOk && seg.opts.ts && seg.opts.tsEcr !== 0) ep.rtt.sample(seqDiff(tsNow(ep), seg.opts.tsEcr));
    else if (ep.rttSeq >= 0 && seqGE(ack, ep.rttSeq)) {
      ep.rtt.sample(ep.now() - ep.rttTime);
      ep.rttSeq = -1;
    }
    const end = seqAdd(ep.dataUna, ep.sndQueue.length);
    const dataAcked = seqDiff(seqMin(ack, end), ep.dataUna);
    if (dataAcked > 0) {
      ep.sndQueue.discard(dataAcked);
      ep.dataUna = seqAdd(ep.dataUna, dataAcked);
      st.bytesAcked += dataAcked;
    }
    ep.sndUna = ack;
    if (seqLT(ep.sndNxt, ack)) ep.sndNxt = ack;
    if (ep.sndUp >= 0 && seqGE(ack, ep.sndUp)) ep.sndUp = -1;
    ep.sack.ackedTo(ack);
    ep.backoff = 0;
    if (ep.cc.inRecovery) {
      if (seqGE(ack, ep.cc.recover)) {
        ep.cc.exitRecovery(seqDiff(ep.sndMax, ack), mss);
      } else {
        // Partial ACK (RFC 6582 3.2 step 5): resend the next loss, deflate.
        ep.cc.cwnd = Math.max(ep.cc.cwnd - acked + mss, mss);
        retransmitLost(ep, true);
      }
    } else {
      ep.cc.dupAcks = 0;
      ep.cc.onAck(acked, mss, seqDiff(ep.sndMax, ack) + acked);
    }
    if (ep.sndUna === ep.sndMax) ep.rtoTimer.stop();
    else ep.rtoTimer.reset(currentRto(ep));
    if (dataAcked > 0) ep.sendSpaceFreed();
  } else if (
    ack === ep.sndUna &&
    seg.dataLen === 0 &&
    (seg.flags & (TCP_SYN | TCP_FIN)) === 0 &&
    wnd === ep.sndWnd &&
    ep.sndMax !== ep.sndUna
  ) {
    st.dupAcksIn++;
    const cc = ep.cc;
    cc.dupAcks++;
    if (!cc.inRecovery) {
      const lost = cc.dupAcks >= 3 || (ep.sackOk && ep.sack.sacked >= 3 * mss);
      if (lost && seqGT(ack, cc.recover)) {
        cc.enterRecovery(seqDiff(ep.sndMax, ep.sndUna), mss, ep.sndMax);
        st.fastRetransmits++;
        ep.stack.stats.tcp.fastRetransmits++;
        if (ep.sackOk) {
          st.sackRecoveries++;
          ep.stack.stats.tcp.sackRecoveries++;
        }
        ep.rexmitNext = ep.sndUna;
        retransmitLost(ep, true);
      }
    } else {
      cc.cwnd += mss;
      if (ep.sackOk && sackNew) retransmitLost(ep, false);
    }
  }
  if (seqLT(ep.sndWl1, seg.seq) || (ep.sndWl1 === seg.seq && seqGE(ack, ep.sndWl2))) {
    ep.sndWnd = wnd;
    if (wnd > ep.maxSndWnd) ep.maxSndWnd = wnd;
    ep.sndWl1 = seg.seq;
    ep.sndWl2 = ack;
    if (wnd > 0 && ep.persistTimer.enabled) {
      ep.persistTimer.stop();
      ep.persistBackoff = 0;
    }
  }
  sendData(ep);
  return true;
}

/** noteUrgent records the urgent pointer (BSD semantics: it points just past the urgent byte). */
function noteUrgent(ep: TCPEndpoint, seg: Segment): void {
  if (seg.urgent === 0) return;
  const urg = seqAdd(seg.seq, seg.urgent - 1);
  if (seqLT(urg, ep.rcvNxt)) return;
  if (ep.rcvUrgSeq >= 0 && !seqGT(urg, ep.rcvUrgSeq)) return;
  ep.rcvUrgSeq = urg;
  ep.oobByte = -1;
}

/** deliver appends in-order bytes starting at seq to the receive queue, pulling out the urgent byte. */
function deliver(ep: TCPEndpoint, seq: number, data: Uint8Array): void {
  if (ep.rcvUrgSeq >= 0 && seqInWindow(ep.rcvUrgSeq, seq, data.length)) {
    const i = seqDiff(ep.rcvUrgSeq, seq);
    ep.rcvUrgSeq = -1;
    if (ep.oobInline) {
      ep.urgMarkAt = ep.rcvDelivered + i;
    } else {
      if (i > 0) push(ep, data.subarray(0, i));
      ep.oobByte = data[i];
      ep.urgMarkAt = ep.rcvDelivered;
      ep.signal(EVENT_PRI);
      if (i + 1 < data.length) push(ep, data.subarray(i + 1));
      return;
    }
  }
  push(ep, data);
}

function push(ep: TCPEndpoint, data: Uint8Array): void {
  ep.rcvQueue.push(data);
  ep.rcvDelivered += data.length;
}

/** processData queues the segment's data and FIN (RFC 9293 3.10.7.4 steps 7-8). */
function processData(ep: TCPEndpoint, seg: Segment): void {
  let fin = seg.has(TCP_FIN);
  let seq = seg.seq;
  if (seg.dataLen === 0 && !fin) return;
  if (!canReceiveData(ep.state)) return; // the peer already sent its FIN
  if (ep.orphaned && seg.dataLen > 0 && seqGT(seqAdd(seq, seg.dataLen), ep.rcvNxt)) {
    // Nobody will read this: reset, as Linux does for data after close().
    ep.abort(0, true);
    return;
  }
  if (seg.extra !== null) {
    // Fast path for multi-view (loopback) segments: in order and within the window, no copy.
    if (seq === ep.rcvNxt && seg.dataLen <= seqDiff(ep.rcvAdvEdge, seq) && ep.ooo.empty) {
      deliver(ep, seq, seg.payload);
      let s = seqAdd(seq, seg.payload.length);
      for (const v of seg.extra) {
        deliver(ep, s, v);
        s = seqAdd(s, v.length);
      }
      ep.rcvNxt = s;
      ep.stats.bytesReceived += seg.dataLen;
      ep.stats.lastDataRecv = ep.now();
      if (fin) {
        ep.rcvNxt = seqAdd(ep.rcvNxt, 1);
        handleFin(ep);
      }
      scheduleAck(ep, seg.dataLen, fin);
      ep.signal(EVENT_IN);
      return;
    }
    seg.flatten();
  }
  let payload = seg.payload;
  const skip = seqDiff(ep.rcvNxt, seq);
  if (skip > 0) {
    if (skip > payload.length || (skip === payload.length && !fin)) {
      sendAck(ep); // a retransmission of data we have: our ACK was lost
      return;
    }
    payload = payload.subarray(skip);
    seq = ep.rcvNxt;
  }
  const room = seqDiff(ep.rcvAdvEdge, seq);
  if (payload.length > room) {
    if (room <= 0) {
      sendAck(ep); // zero window: drop the data, re-announce the window
      return;
    }
    payload = payload.subarray(0, room);
    fin = false;
  }
  if (seq !== ep.rcvNxt) {
    ep.ooo.insert(seq, payload, fin);
    ep.stats.outOfOrderSegs++;
    sendAck(ep); // immediate duplicate ACK carrying SACK blocks
    return;
  }
  let delivered = payload.length;
  if (delivered > 0) deliver(ep, seq, payload);
  ep.rcvNxt = seqAdd(seq, delivered);
  let filled = false;
  if (!ep.ooo.empty) {
    const pieces: Uint8Array[] = [];
    let s = ep.rcvNxt;
    ep.rcvNxt = ep.ooo.popReady(ep.rcvNxt, pieces);
    for (const p of pieces) {
      deliver(ep, s, p);
      s = seqAdd(s, p.length);
      delivered += p.length;
    }
    if (ep.ooo.finSeq >= 0 && ep.ooo.finSeq === ep.rcvNxt) {
      fin = true;
      ep.ooo.finSeq = -1;
    }
    filled = pieces.length > 0;
  }
  if (delivered > 0) {
    ep.stats.bytesReceived += delivered;
    ep.stats.lastDataRecv = ep.now();
  }
  if (fin) {
    ep.rcvNxt = seqAdd(ep.rcvNxt, 1);
    handleFin(ep);
  }
  scheduleAck(ep, delivered, filled || fin || !ep.ooo.empty);
  if (delivered > 0) ep.signal(EVENT_IN);
}

function handleFin(ep: TCPEndpoint): void {
  ep.finReceived = true;
  switch (ep.state) {
    case TCP_ESTABLISHED:
      ep.setState(TCP_CLOSE_WAIT);
      break;
    case TCP_FIN_WAIT1:
      ep.setState(TCP_CLOSING);
      break;
    case TCP_FIN_WAIT2:
      ep.enterTimeWait();
      break;
  }
  ep.signal(EVENT_IN | EVENT_RDHUP);
}

function handleTimeWait(ep: TCPEndpoint, seg: Segment): void {
  if (seg.has(TCP_RST)) {
    if (seg.seq === ep.rcvNxt) ep.destroy();
    return;
  }
  if (seg.has(TCP_SYN) && !seg.has(TCP_ACK)) {
    // A new connection for this 4-tuple may reuse it (Linux tcp_timewait_state_process).
    const newer = seqGT(seg.seq, ep.rcvNxt) || (ep.tsOk && seg.opts.ts && seqGT(seg.opts.tsVal, ep.tsRecent));
    if (newer) {
      ep.orphaned = true;
      ep.destroy();
      ep.stack.tcp.dispatchAgain(seg, ep);
      return;
    }
  }
  if (seg.has(TCP_FIN)) ep.waitTimer.reset(ep.cfg.timeWaitMs);
  if (seg.has(TCP_FIN) || seg.dataLen > 0 || seg.has(TCP_SYN)) sendAck(ep);
}

