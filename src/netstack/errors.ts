// Errors raised by netstack endpoints. Each carries the Linux errno the
// socket layer should report, so the Sentry adapter maps them with one field
// read. Endpoints throw the shared instances below (no stack trace is
// captured per throw: would-block happens on every drained read).

import { ERRNO } from '../abi/linux/errno.js';

/** TcpipError is the base class of every netstack error. */
export class TcpipError extends Error {
  readonly errno: number;
  constructor(errno: number, message: string) {
    super(message);
    this.errno = errno;
    this.name = new.target.name;
  }
}

/** ErrWouldBlock: the operation cannot complete now; wait for readiness (EAGAIN). */
export class ErrWouldBlock extends TcpipError {}
/** ErrConnectStarted: a non-blocking connect is under way (EINPROGRESS). */
export class ErrConnectStarted extends TcpipError {}
/** ErrAlreadyConnecting: connect called again while one is under way (EALREADY). */
export class ErrAlreadyConnecting extends TcpipError {}
/** ErrAlreadyConnected: the endpoint is already connected (EISCONN). */
export class ErrAlreadyConnected extends TcpipError {}
/** ErrConnectionRefused: the peer answered with RST or port unreachable (ECONNREFUSED). */
export class ErrConnectionRefused extends TcpipError {}
/** ErrConnectionReset: the peer reset an established connection (ECONNRESET). */
export class ErrConnectionReset extends TcpipError {}
/** ErrConnectionAborted: the connection was aborted locally (ECONNABORTED). */
export class ErrConnectionAborted extends TcpipError {}
/** ErrTimeout: retransmissions or keepalive probes went unanswered (ETIMEDOUT). */
export class ErrTimeout extends TcpipError {}
/** ErrAddressInUse: the local address/port is taken (EADDRINUSE). */
export class ErrAddressInUse extends TcpipError {}
/** ErrBadLocalAddress: the address is not one of this stack's (EADDRNOTAVAIL). */
export class ErrBadLocalAddress extends TcpipError {}
/** ErrNoPortAvailable: the ephemeral range is exhausted (EADDRNOTAVAIL, as Linux). */
export class ErrNoPortAvailable extends TcpipError {}
/** ErrNotConnected: the operation needs a connected endpoint (ENOTCONN). */
export class ErrNotConnected extends TcpipError {}
/** ErrClosedForSend: the endpoint was shut down for writing (EPIPE). */
export class ErrClosedForSend extends TcpipError {}
/** ErrInvalidEndpointState: wrong state for the operation (EINVAL). */
export class ErrInvalidEndpointState extends TcpipError {}
/** ErrInvalidArgument: a bad argument (EINVAL). */
export class ErrInvalidArgument extends TcpipError {}
/** ErrNetworkUnreachable: no route to the destination network (ENETUNREACH). */
export class ErrNetworkUnreachable extends TcpipError {}
/** ErrHostUnreachable: the next hop did not answer address resolution (EHOSTUNREACH). */
export class ErrHostUnreachable extends TcpipError {}
/** ErrMessageTooLong: a datagram over the protocol's limit (EMSGSIZE). */
export class ErrMessageTooLong extends TcpipError {}
/** ErrDestinationRequired: send on an unconnected datagram endpoint without an address (EDESTADDRREQ). */
export class ErrDestinationRequired extends TcpipError {}
/** ErrBroadcastDisabled: send to a broadcast address without SO_BROADCAST (EACCES). */
export class ErrBroadcastDisabled extends TcpipError {}
/** ErrNotSupported: an operation the endpoint does not implement (EOPNOTSUPP). */
export class ErrNotSupported extends TcpipError {}
/** ErrUnknownOption: an option this endpoint does not know (ENOPROTOOPT). */
export class ErrUnknownOption extends TcpipError {}
/** ErrAddressFamilyNotSupported: e.g. an IPv4 address on a v6-only socket (EAFNOSUPPORT). */
export class ErrAddressFamilyNotSupported extends TcpipError {}
/** ErrNoBufferSpace: an internal queue is full (ENOBUFS). */
export class ErrNoBufferSpace extends TcpipError {}
/** ErrProtocolError: a protocol violation (EPROTO). */
export class ErrProtocolError extends TcpipError {}

export const errWouldBlock = new ErrWouldBlock(ERRNO.EAGAIN, 'operation would block');
export const errConnectStarted = new ErrConnectStarted(ERRNO.EINPROGRESS, 'connection in progress');
export const errAlreadyConnecting = new ErrAlreadyConnecting(ERRNO.EALREADY, 'connection already in progress');
export const errAlreadyConnected = new ErrAlreadyConnected(ERRNO.EISCONN, 'endpoint is already connected');
export const errConnectionRefused = new ErrConnectionRefused(ERRNO.ECONNREFUSED, 'connection refused');
export const errConnectionReset = new ErrConnectionReset(ERRNO.ECONNRESET, 'connection reset by peer');
export const errConnectionAborted = new ErrConnectionAborted(ERRNO.ECONNABORTED, 'connection aborted');
export const errTimeout = new ErrTimeout(ERRNO.ETIMEDOUT, 'connection timed out');
export const errAddressInUse = new ErrAddressInUse(ERRNO.EADDRINUSE, 'address already in use');
export const errBadLocalAddress = new ErrBadLocalAddress(ERRNO.EADDRNOTAVAIL, 'cannot assign requested address');
export const errNoPortAvailable = new ErrNoPortAvailable(ERRNO.EADDRNOTAVAIL, 'no ephemeral port available');
export const errNotConnected = new ErrNotConnected(ERRNO.ENOTCONN, 'endpoint not connected');
export const errClosedForSend = new ErrClosedForSend(ERRNO.EPIPE, 'endpoint is closed for send');
export const errInvalidEndpointState = new ErrInvalidEndpointState(ERRNO.EINVAL, 'endpoint is in invalid state');
export const errInvalidArgument = new ErrInvalidArgument(ERRNO.EINVAL, 'invalid argument');
export const errNetworkUnreachable = new ErrNetworkUnreachable(ERRNO.ENETUNREACH, 'network is unreachable');
export const errHostUnreachable = new ErrHostUnreachable(ERRNO.EHOSTUNREACH, 'no route to host');
export const errMessageTooLong = new ErrMessageTooLong(ERRNO.EMSGSIZE, 'message too long');
export const errDestinationRequired = new ErrDestinationRequired(ERRNO.EDESTADDRREQ, 'destination address required');
export const errBroadcastDisabled = new ErrBroadcastDisabled(ERRNO.EACCES, 'broadcast is disabled');
export const errNotSupported = new ErrNotSupported(ERRNO.EOPNOTSUPP, 'operation not supported');
export const errUnknownOption = new ErrUnknownOption(ERRNO.ENOPROTOOPT, 'unknown option');
export const errAddressFamilyNotSupported = new ErrAddressFamilyNotSupported(ERRNO.EAFNOSUPPORT, 'address family not supported');
export const errNoBufferSpace = new ErrNoBufferSpace(ERRNO.ENOBUFS, 'no buffer space available');
export const errProtocolError = new ErrProtocolError(ERRNO.EPROTO, 'protocol error');

/** errorForErrno returns the shared error for a (network) errno, for soft errors kept as numbers. */
export function errorForErrno(errno: number): TcpipError {
  switch (errno) {
    case ERRNO.ECONNREFUSED: return errConnectionRefused;
    case ERRNO.ECONNRESET: return errConnectionReset;
    case ERRNO.ECONNABORTED: return errConnectionAborted;
    case ERRNO.ETIMEDOUT: return errTimeout;
    case ERRNO.EHOSTUNREACH: return errHostUnreachable;
    case ERRNO.ENETUNREACH: return errNetworkUnreachable;
    case ERRNO.EMSGSIZE: return errMessageTooLong;
    case ERRNO.EPIPE: return errClosedForSend;
    case ERRNO.EPROTO: return errProtocolError;
    case ERRNO.EACCES: return errBroadcastDisabled;
    default: return new TcpipError(errno, 'errno ' + errno);
  }
}
