// TCP-level socket options (and the IP ones whose answer depends on the
// connection). Values and limits follow Linux's do_tcp_setsockopt.

import { errInvalidArgument, errNotConnected } from '../../errors.js';
import type { IntOption } from '../../sockopt.js';
import type { TCPEndpoint } from './endpoint.js';
import { armKeepalive, sendAck, sendData } from './output.js';

/** Linux's floor for TCP_WINDOW_CLAMP (SOCK_MIN_RCVBUF / 2). */
const MIN_WINDOW_CLAMP = 1152;

/** setTcpOption sets a TCP option; false means "not a TCP option" (the caller tries the generic ones). */
export function setTcpOption(ep: TCPEndpoint, name: IntOption, value: number): boolean {
  switch (name) {
    case 'TCP_NODELAY':
      ep.noDelay = value !== 0;
      if (ep.noDelay) sendData(ep);
      return true;
    case 'TCP_CORK':
      ep.cork = value !== 0;
      if (!ep.cork) sendData(ep);
      return true;
    case 'TCP_MAXSEG':
      if (value !== 0 && (value < 88 || value > 65535)) throw errInvalidArgument;
      ep.userMss = value;
      return true;
    case 'TCP_KEEPIDLE':
      if (value < 1 || value > 32767) throw errInvalidArgument;
      ep.keepIdle = value * 1000;
      armKeepalive(ep);
      return true;
    case 'TCP_KEEPINTVL':
      if (value < 1 || value > 32767) throw errInvalidArgument;
      ep.keepIntvl = value * 1000;
      return true;
    case 'TCP_KEEPCNT':
      if (value < 1 || value > 127) throw errInvalidArgument;
      ep.keepCnt = value;
      return true;
    case 'TCP_SYNCNT':
      if (value < 1 || value > 127) throw errInvalidArgument;
      ep.synCnt = value;
      return true;
    case 'TCP_LINGER2':
      ep.linger2 = value;
      return true;
    case 'TCP_DEFER_ACCEPT':
      // Accepted and reported back; connections are not actually deferred.
      ep.deferAccept = Math.max(0, value);
      return true;
    case 'TCP_WINDOW_CLAMP':
      if (value !== 0 && value < MIN_WINDOW_CLAMP) throw errInvalidArgument;
      ep.windowClamp = value;
      return true;
    case 'TCP_QUICKACK':
      ep.quickAckOpt = value !== 0;
      if (ep.quickAckOpt && ep.pendingAckBytes > 0) sendAck(ep);
      return true;
    case 'TCP_USER_TIMEOUT':
      if (value < 0) throw errInvalidArgument;
      ep.userTimeout = value;
      return true;
    default:
      return false;
  }
}

/** getTcpOption reads a TCP option; undefined means "not a TCP option". */
export function getTcpOption(ep: TCPEndpoint, name: IntOption): number | undefined {
  switch (name) {
    case 'TCP_NODELAY':
      return +ep.noDelay;
    case 'TCP_CORK':
      return +ep.cork;
    case 'TCP_MAXSEG':
      return ep.everConnected ? ep.sndMss : ep.userMss || 536;
    case 'TCP_KEEPIDLE':
      return Math.round(ep.keepIdle / 1000);
    case 'TCP_KEEPINTVL':
      return Math.round(ep.keepIntvl / 1000);
    case 'TCP_KEEPCNT':
      return ep.keepCnt;
    case 'TCP_SYNCNT':
      return ep.synCnt || ep.cfg.synRetries;
    case 'TCP_LINGER2':
      return ep.linger2 || Math.round(ep.cfg.finTimeoutMs / 1000);
    case 'TCP_DEFER_ACCEPT':
      return ep.deferAccept;
    case 'TCP_WINDOW_CLAMP':
      return ep.windowClamp;
    case 'TCP_QUICKACK':
      return +ep.quickAckOpt;
    case 'TCP_USER_TIMEOUT':
      return ep.userTimeout;
    case 'IP_MTU':
    case 'IPV6_MTU':
      if (ep.route === null) throw errNotConnected;
      return ep.route.mtu;
    default:
      return undefined;
  }
}
