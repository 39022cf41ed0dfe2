// Ending a TCP connection: shutdown(2), close(2) with its graceful FIN or
// reset, aborts, the release of everything a connection holds, and the
// TIME-WAIT / orphaned FIN-WAIT-2 timer (Linux's tcp_close, tcp_done,
// tcp_time_wait). Functions over a TCPEndpoint, which wraps them as methods.

import { errInvalidArgument, errNotConnected } from '../../errors.js';
import { PROTO_TCP } from '../../header/ipv4.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDHUP } from '../../waiter.js';
import type { TCPEndpoint } from './endpoint.js';
import { childFailed } from './listener.js';
import * as out from './output.js';
import {
  TCP_CLOSE, TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_LAST_ACK, TCP_LISTEN, TCP_SYN_RECV,
  TCP_SYN_SENT, TCP_TIME_WAIT,
} from './state.js';
import { SHUT_RD, SHUT_RDWR, SHUT_WR } from './tcb.js';

/** shutdown closes one or both directions. */
export function shutdown(ep: TCPEndpoint, how: number): void {
  ep.stack.enter();
  try {
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) throw errInvalidArgument;
    const rd = how !== SHUT_WR;
    const wr = how !== SHUT_RD;
    switch (ep.state) {
      case TCP_LISTEN:
        if (rd) stopListening(ep);
        return;
      case TCP_SYN_SENT:
        ep.connectPending = false;
        destroy(ep);
        return;
      case TCP_CLOSE:
        if (rd) ep.shutRead = true;
        if (wr) ep.shutWrite = true;
        ep.signal(EVENT_IN | EVENT_OUT | EVENT_HUP);
        throw errNotConnected;
    }
    if (rd && !ep.shutRead) {
      ep.shutRead = true;
      ep.signal(EVENT_IN | EVENT_RDHUP);
    }
    if (wr && !ep.shutWrite) {
      ep.shutWrite = true;
      queueFin(ep);
    }
  } finally {
    ep.stack.exit();
  }
}

/** queueFin schedules our FIN after the queued data and moves to the closing state. */
export function queueFin(ep: TCPEndpoint): void {
  if (ep.finQueued) return;
  switch (ep.state) {
    case TCP_SYN_RECV:
    case TCP_ESTABLISHED:
      ep.setState(TCP_FIN_WAIT1);
      break;
    case TCP_CLOSE_WAIT:
      ep.setState(TCP_LAST_ACK);
      break;
    default:
      return;
  }
  ep.finQueued = true;
  out.sendData(ep);
  ep.signal(EVENT_OUT | EVENT_HUP);
}

/**
 * close releases the endpoint. An established connection is closed
 * gracefully in the background (FIN); with unread data, or SO_LINGER with
 * a zero timeout, it is reset instead (Linux).
 */
export function close(ep: TCPEndpoint): void {
  ep.stack.enter();
  try {
    if (ep.orphaned) return;
    ep.orphaned = true;
    ep.shutRead = true;
    ep.shutWrite = true;
    ep.connectPending = false;
    switch (ep.state) {
      case TCP_LISTEN:
        stopListening(ep);
        destroy(ep);
        return;
      case TCP_CLOSE:
        destroy(ep);
        return;
      case TCP_SYN_SENT:
        destroy(ep);
        return;
      case TCP_TIME_WAIT:
        return;
    }
    const unread = ep.rcvQueue.length > 0 || !ep.ooo.empty;
    if (unread || (ep.linger.onoff && ep.linger.linger === 0)) {
      abort(ep, 0, true);
      return;
    }
    queueFin(ep);
    if (ep.state === TCP_FIN_WAIT2) out.armFinWait2(ep);
  } finally {
    ep.stack.exit();
  }
}

export function stopListening(ep: TCPEndpoint): void {
  // Connections nobody accepted, or still in the handshake, are reset (Linux inet_csk_listen_stop).
  for (const c of ep.acceptQueue) {
    c.parent = null;
    c.inAcceptQueue = false;
    c.orphaned = true;
    c.abort(0, true);
  }
  ep.acceptQueue = [];
  if (ep.listenRegistered) {
    for (const b of ep.bindings) ep.stack.demux.unregisterBound(PROTO_TCP, b.netProto, b.addr, ep.port, ep);
    ep.listenRegistered = false;
  }
  ep.state = TCP_CLOSE;
  ep.signal(EVENT_IN | EVENT_OUT | EVENT_HUP);
}

/**
 * abort ends the connection now: sends RST if asked, records errno (0 for
 * none) as the pending error, and releases everything.
 */
export function abort(ep: TCPEndpoint, errno: number, sendRst: boolean): void {
  if (ep.state === TCP_CLOSE) return;
  if (sendRst && ep.state !== TCP_SYN_SENT && ep.state !== TCP_LISTEN && ep.route !== null) out.sendReset(ep);
  if (errno !== 0) ep.error = errno;
  destroy(ep);
}

/** destroy moves to CLOSED and releases timers, demux entries and (unless still owned by the user) the port. */
export function destroy(ep: TCPEndpoint): void {
  const prev = ep.state;
  ep.setState(TCP_CLOSE);
  // cancel, not stop: a closed endpoint keeps no host timer (nor itself) alive.
  ep.rtoTimer.cancel();
  ep.persistTimer.cancel();
  ep.delackTimer.cancel();
  ep.keepaliveTimer.cancel();
  ep.waitTimer.cancel();
  ep.sndQueue.clear();
  ep.ooo.clear();
  ep.finQueued = false;
  if (ep.connRegistered) {
    ep.stack.demux.unregisterConnected(PROTO_TCP, ep.netProto, ep.localAddr, ep.port, ep.remoteAddr, ep.remotePort, ep);
    ep.connRegistered = false;
  }
  if (ep.parent !== null && prev !== TCP_LISTEN) {
    childFailed(ep.parent, ep);
    if (!ep.inAcceptQueue) ep.parent = null;
  }
  // Linux releases an autobound port at CLOSE; an explicitly bound one stays until close().
  if (ep.orphaned || !ep.explicitlyBound) ep.releasePort();
  ep.shutRead = true;
  ep.shutWrite = true;
  ep.signal(EVENT_IN | EVENT_OUT | EVENT_HUP | EVENT_ERR | EVENT_RDHUP);
}

/** enterTimeWait starts the 2*MSL wait. */
export function enterTimeWait(ep: TCPEndpoint): void {
  ep.setState(TCP_TIME_WAIT);
  ep.rtoTimer.stop();
  ep.persistTimer.stop();
  ep.keepaliveTimer.stop();
  ep.delackTimer.stop();
  ep.waitTimer.reset(ep.cfg.timeWaitMs);
  ep.signal(EVENT_IN | EVENT_OUT | EVENT_HUP);
}

export function onWaitTimer(ep: TCPEndpoint): void {
  // TIME-WAIT expiry, or an orphaned FIN-WAIT-2 timing out.
  if (ep.state === TCP_TIME_WAIT || ep.state === TCP_FIN_WAIT2) {
    ep.orphaned = ep.orphaned || ep.state === TCP_TIME_WAIT;
    destroy(ep);
  }
}
