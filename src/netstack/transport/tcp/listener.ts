// The listening side: SYN admission against the backlog, creating the
// SYN-RECEIVED child (it inherits the listener's options and port, as
// Linux's inet_csk_clone_lock / inet_inherit_port do), and the accept queue.

import { ERRNO } from '../../../abi/linux/errno.js';
import type { Route } from '../../stack/types.js';
import { EVENT_IN } from '../../waiter.js';
import type { TCPEndpoint } from './endpoint.js';
import type { Segment } from './segment.js';
import { TCP_LISTEN } from './state.js';

/** listenerFull reports whether a new SYN must be dropped (Linux: the accept queue may exceed the backlog by one). */
export function listenerFull(l: TCPEndpoint): boolean {
  return l.acceptQueue.length + l.synRcvdCount > l.backlog;
}

/** newChild creates the endpoint answering a SYN received by listener l. */
export function newChild(l: TCPEndpoint, seg: Segment): TCPEndpoint | null {
  const info = seg.info;
  let route: Route;
  try {
    route = l.stack.findRoute(info.nic.id, info.dst, info.src, info.netProto);
  } catch {
    return null;
  }
  const c = l.stack.newTCPEndpoint(l.family);
  inheritOptions(c, l);
  c.netProto = info.netProto;
  c.inheritPort(l.port, info.netProto, info.dst);
  c.setRoute(route, seg.srcPort);
  c.registerConnected();
  c.parent = l;
  l.synRcvdCount++;
  return c;
}

function inheritOptions(c: TCPEndpoint, l: TCPEndpoint): void {
  c.reuseAddr = l.reuseAddr;
  c.reusePort = l.reusePort;
  c.bindNic = l.bindNic;
  c.keepAlive = l.keepAlive;
  c.oobInline = l.oobInline;
  c.ttl = l.ttl;
  c.tos = l.tos;
  c.v6only = l.v6only;
  c.linger = { ...l.linger };
  c.rcvBuf = l.rcvBuf;
  c.sndBuf = l.sndBuf;
  c.rcvCapacity = l.rcvCapacity;
  c.sndCapacity = l.sndCapacity;
  c.noDelay = l.noDelay;
  c.cork = l.cork;
  c.keepIdle = l.keepIdle;
  c.keepIntvl = l.keepIntvl;
  c.keepCnt = l.keepCnt;
  c.userTimeout = l.userTimeout;
  c.userMss = l.userMss;
  c.windowClamp = l.windowClamp;
  c.linger2 = l.linger2;
}

/** childEstablished moves a passively opened child to the accept queue. */
export function childEstablished(l: TCPEndpoint, child: TCPEndpoint): void {
  l.synRcvdCount--;
  if (l.state !== TCP_LISTEN) {
    child.parent = null;
    child.orphaned = true;
    child.abort(ERRNO.ECONNABORTED, true);
    return;
  }
  child.inAcceptQueue = true;
  l.acceptQueue.push(child);
  l.signal(EVENT_IN);
}

/** childFailed is told when a child dies before being accepted. */
export function childFailed(l: TCPEndpoint, child: TCPEndpoint): void {
  // A queued child stays: accept() returns it and its first read reports the error.
  if (!child.inAcceptQueue) l.synRcvdCount--;
}
