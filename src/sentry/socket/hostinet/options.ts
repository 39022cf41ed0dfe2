// The socket options a guest may set and read on a host socket. Only options
// whose value is plain bytes (no pointers into the caller's memory, no
// privilege beyond the socket) and whose meaning stays within the socket are
// passed through, as gVisor's hostinet does; the rest of SOL_SOCKET is the
// Sentry's own (timeouts, credentials), and anything else is ENOPROTOOPT.

export const SOL_SOCKET = 1;
export const SOL_IP = 0;
export const SOL_TCP = 6;
export const SOL_UDP = 17;
export const SOL_IPV6 = 41;
export const SOL_NETLINK = 270;
const AF_NETLINK = 16;

/** OptionRule says what may be done with one option: its value's size on
 *  getsockopt (0: write-only), and whether setsockopt may pass it on. */
export interface OptionRule {
  readonly getSize: number;
  readonly set: boolean;
}

const rules = new Map<string, OptionRule>();

function allow(level: number, names: number[], getSize: number, set: boolean): void {
  for (const n of names) rules.set(`${level}:${n}`, { getSize, set });
}

// SOL_SOCKET: SO_REUSEADDR, SO_DONTROUTE, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF,
// SO_KEEPALIVE, SO_OOBINLINE, SO_NO_CHECK, SO_PRIORITY, SO_REUSEPORT,
// SO_RCVLOWAT, SO_BINDTOIFINDEX.
allow(SOL_SOCKET, [2, 5, 6, 7, 8, 9, 10, 11, 12, 15, 18, 62], 4, true);
// SO_TYPE, SO_ERROR, SO_SNDLOWAT, SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN: read only.
allow(SOL_SOCKET, [3, 4, 19, 30, 38, 39], 4, false);
allow(SOL_SOCKET, [25], 16, true); // SO_BINDTODEVICE: an interface name

// IPPROTO_IP: IP_TOS, IP_TTL, IP_PKTINFO, IP_MTU_DISCOVER, IP_RECVERR,
// IP_RECVTTL, IP_RECVTOS, IP_FREEBIND, IP_RECVORIGDSTADDR,
// IP_BIND_ADDRESS_NO_PORT, IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_MULTICAST_ALL.
allow(SOL_IP, [1, 2, 8, 10, 11, 12, 13, 15, 20, 24, 33, 34, 49], 4, true);
allow(SOL_IP, [14], 4, false); // IP_MTU
allow(SOL_IP, [4], 40, true); // IP_OPTIONS
allow(SOL_IP, [32], 12, true); // IP_MULTICAST_IF: struct ip_mreqn (or in_addr)
// IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP (struct ip_mreqn), IP_ADD/DROP_SOURCE_MEMBERSHIP (struct ip_mreq_source).
allow(SOL_IP, [35, 36, 39, 40], 0, true);

// IPPROTO_IPV6: IPV6_UNICAST_HOPS, IPV6_MULTICAST_IF, IPV6_MULTICAST_HOPS,
// IPV6_MULTICAST_LOOP, IPV6_MTU_DISCOVER, IPV6_RECVERR, IPV6_V6ONLY,
// IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS, IPV6_TCLASS, IPV6_RECVORIGDSTADDR.
allow(SOL_IPV6, [16, 17, 18, 19, 23, 25, 26, 49, 51, 66, 67, 74], 4, true);
allow(SOL_IPV6, [24], 4, false); // IPV6_MTU
allow(SOL_IPV6, [20, 21], 0, true); // IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP: struct ipv6_mreq

// IPPROTO_TCP: TCP_NODELAY, TCP_MAXSEG, TCP_CORK, TCP_KEEPIDLE, TCP_KEEPINTVL,
// TCP_KEEPCNT, TCP_SYNCNT, TCP_LINGER2, TCP_DEFER_ACCEPT, TCP_WINDOW_CLAMP,
// TCP_QUICKACK, TCP_USER_TIMEOUT, TCP_FASTOPEN, TCP_NOTSENT_LOWAT, TCP_FASTOPEN_CONNECT.
allow(SOL_TCP, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 18, 23, 25, 30], 4, true);
allow(SOL_TCP, [11], 256, false); // TCP_INFO: struct tcp_info, as long as the host's
allow(SOL_TCP, [13], 16, true); // TCP_CONGESTION: an algorithm name

// IPPROTO_UDP: UDP_CORK, UDP_SEGMENT.
allow(SOL_UDP, [1, 103], 4, true);

// SOL_NETLINK (NETLINK_ROUTE sockets): NETLINK_PKTINFO, NETLINK_BROADCAST_ERROR,
// NETLINK_NO_ENOBUFS, NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK.
allow(SOL_NETLINK, [3, 4, 5, 10, 11, 12], 4, true);
// NETLINK_ADD_MEMBERSHIP, NETLINK_DROP_MEMBERSHIP: route change notifications.
allow(SOL_NETLINK, [1, 2], 0, true);

/** optionRule returns the rule for (level, name), or null when the option stays out. */
export function optionRule(level: number, name: number): OptionRule | null {
  return rules.get(`${level}:${name}`) ?? null;
}

/** levelFits reports whether a socket of this family and type has the level at all
 *  (a UDP socket has no SOL_TCP): Linux answers ENOPROTOOPT otherwise. */
export function levelFits(level: number, family: number, stream: boolean): boolean {
  if (family === AF_NETLINK) return level === SOL_SOCKET || level === SOL_NETLINK;
  switch (level) {
    case SOL_SOCKET: case SOL_IP: return true;
    case SOL_IPV6: return family === 10;
    case SOL_TCP: return stream;
    case SOL_UDP: return !stream;
    case SOL_NETLINK: return false;
    default: return false;
  }
}
