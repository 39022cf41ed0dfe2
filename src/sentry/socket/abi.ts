// Socket ABI constants (Linux x86-64: <linux/socket.h>, <asm-generic/socket.h>,
// <linux/net.h>). Kept beside the socket code until an abi/linux/socket.ts exists.

// ---- Address families ----
export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
/** AF_MAX bounds the family argument of socket(2). */
export const AF_MAX = 46;

// ---- Socket types and socket(2) flags ----
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_RDM = 4;
export const SOCK_SEQPACKET = 5;
export const SOCK_TYPE_MASK = 0xf;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

// ---- send/recv flags ----
export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_DONTROUTE = 0x4;
export const MSG_CTRUNC = 0x8;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80;
export const MSG_WAITALL = 0x100;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_MORE = 0x8000;
export const MSG_WAITFORONE = 0x10000;
export const MSG_ERRQUEUE = 0x2000;
export const MSG_CMSG_CLOEXEC = 0x40000000;

// ---- shutdown(2) ----
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
/** The socket's own shutdown state bits (Linux's RCV_SHUTDOWN, SEND_SHUTDOWN). */
export const RCV_SHUTDOWN = 1;
export const SEND_SHUTDOWN = 2;
export const SHUTDOWN_MASK = 3;

// ---- Levels and SOL_SOCKET options ----
export const SOL_SOCKET = 1;
export const SO_DEBUG = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_DONTROUTE = 5;
export const SO_BROADCAST = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_OOBINLINE = 10;
export const SO_NO_CHECK = 11;
export const SO_PRIORITY = 12;
export const SO_LINGER = 13;
export const SO_BSDCOMPAT = 14;
export const SO_REUSEPORT = 15;
export const SO_PASSCRED = 16;
export const SO_PEERCRED = 17;
export const SO_RCVLOWAT = 18;
export const SO_SNDLOWAT = 19;
export const SO_RCVTIMEO_OLD = 20;
export const SO_SNDTIMEO_OLD = 21;
export const SO_PEERNAME = 28;
export const SO_ACCEPTCONN = 30;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_PASSSEC = 34;
export const SO_MARK = 36;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;
export const SO_PEEK_OFF = 42;
export const SO_COOKIE = 57;
export const SO_RCVTIMEO_NEW = 66;
export const SO_SNDTIMEO_NEW = 67;

// ---- Control messages ----
export const SCM_RIGHTS = 1;
export const SCM_CREDENTIALS = 2;
/** SCM_MAX_FD is the most descriptors one sendmsg may pass. */
export const SCM_MAX_FD = 253;
/** sizeof(struct cmsghdr) on x86-64. */
export const CMSG_HDR_LEN = 16;

// ---- ioctls ----
export const SIOCINQ = 0x541b; // == FIONREAD
export const SIOCOUTQ = 0x5411; // == TIOCOUTQ

// ---- Sizes ----
/** sizeof(struct sockaddr_storage): the most an address argument may be. */
export const SOCKADDR_MAX = 128;
/** sizeof(struct msghdr) and sizeof(struct mmsghdr) on x86-64. */
export const MSGHDR_LEN = 56;
export const MMSGHDR_LEN = 64;
/** SOMAXCONN (net.core.somaxconn's default): listen backlogs are capped here. */
export const SOMAXCONN = 4096;
/** net.core.wmem_max / rmem_max (4 MiB, as the netstack's: src/netstack/sockopt.ts)
 *  and wmem_default / rmem_default (Linux's). */
export const WMEM_MAX = 4194304;
export const RMEM_MAX = 4194304;
export const SOCK_DEFAULT_BUF = 212992;
/** Smallest buffers setsockopt leaves (2 * TCP_SKB_MIN_TRUESIZE and TCP_SKB_MIN_TRUESIZE). */
export const SOCK_MIN_SNDBUF = 4608;
export const SOCK_MIN_RCVBUF = 2304;

/** UCred is struct ucred: what SO_PEERCRED and SCM_CREDENTIALS carry. */
export interface UCred {
  pid: number;
  uid: number;
  gid: number;
}

/** OVERFLOW_ID is what an unknown uid/gid reads as (overflowuid). */
export const OVERFLOW_ID = 65534;
