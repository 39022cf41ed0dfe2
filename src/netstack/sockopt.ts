// Socket option names, and the Linux (level, optname) numbers they stand for,
// so the Sentry can translate getsockopt/setsockopt with one table lookup.

/** IntOption names an integer-valued option (booleans are 0/1). */
export type IntOption =
  | 'SO_REUSEADDR'
  | 'SO_REUSEPORT'
  | 'SO_KEEPALIVE'
  | 'SO_BROADCAST'
  | 'SO_RCVBUF'
  | 'SO_SNDBUF'
  | 'SO_ERROR'
  | 'SO_OOBINLINE'
  | 'SO_RCVLOWAT'
  | 'SO_DONTROUTE'
  | 'SO_PRIORITY'
  | 'SO_ACCEPTCONN'
  | 'SO_BINDTOIFINDEX'
  | 'IP_TTL'
  | 'IP_TOS'
  | 'IP_MTU'
  | 'IP_MTU_DISCOVER'
  | 'IPV6_V6ONLY'
  | 'IPV6_UNICAST_HOPS'
  | 'IPV6_TCLASS'
  | 'IPV6_MTU'
  | 'IPV6_MTU_DISCOVER'
  | 'TCP_NODELAY'
  | 'TCP_MAXSEG'
  | 'TCP_CORK'
  | 'TCP_KEEPIDLE'
  | 'TCP_KEEPINTVL'
  | 'TCP_KEEPCNT'
  | 'TCP_SYNCNT'
  | 'TCP_LINGER2'
  | 'TCP_DEFER_ACCEPT'
  | 'TCP_WINDOW_CLAMP'
  | 'TCP_QUICKACK'
  | 'TCP_USER_TIMEOUT';

export const SOL_SOCKET = 1;
export const SOL_IP = 0;
export const SOL_TCP = 6;
export const SOL_UDP = 17;
export const SOL_IPV6 = 41;

/** LINUX_INT_OPTIONS maps `${level}/${optname}` to an option name. */
const LINUX_INT_OPTIONS: Record<string, IntOption> = {
  '1/2': 'SO_REUSEADDR',
  '1/5': 'SO_DONTROUTE',
  '1/4': 'SO_ERROR',
  '1/6': 'SO_BROADCAST',
  '1/7': 'SO_SNDBUF',
  '1/8': 'SO_RCVBUF',
  '1/9': 'SO_KEEPALIVE',
  '1/10': 'SO_OOBINLINE',
  '1/12': 'SO_PRIORITY',
  '1/15': 'SO_REUSEPORT',
  '1/18': 'SO_RCVLOWAT',
  '1/30': 'SO_ACCEPTCONN',
  '1/62': 'SO_BINDTOIFINDEX',
  '0/1': 'IP_TOS',
  '0/2': 'IP_TTL',
  '0/10': 'IP_MTU_DISCOVER',
  '0/14': 'IP_MTU',
  '41/16': 'IPV6_UNICAST_HOPS',
  '41/23': 'IPV6_MTU_DISCOVER',
  '41/24': 'IPV6_MTU',
  '41/26': 'IPV6_V6ONLY',
  '41/67': 'IPV6_TCLASS',
  '6/1': 'TCP_NODELAY',
  '6/2': 'TCP_MAXSEG',
  '6/3': 'TCP_CORK',
  '6/4': 'TCP_KEEPIDLE',
  '6/5': 'TCP_KEEPINTVL',
  '6/6': 'TCP_KEEPCNT',
  '6/7': 'TCP_SYNCNT',
  '6/8': 'TCP_LINGER2',
  '6/9': 'TCP_DEFER_ACCEPT',
  '6/10': 'TCP_WINDOW_CLAMP',
  '6/12': 'TCP_QUICKACK',
  '6/18': 'TCP_USER_TIMEOUT',
};

/** Non-integer options handled by dedicated methods. */
export const SO_LINGER = 13;
export const SO_BINDTODEVICE = 25;
export const TCP_INFO = 11;
export const TCP_CONGESTION = 13;

/** linuxIntOption returns the option name for a Linux level/optname pair, if it is an integer option. */
export function linuxIntOption(level: number, optname: number): IntOption | undefined {
  return LINUX_INT_OPTIONS[`${level}/${optname}`];
}

/** Linger is struct linger. */
export interface Linger {
  onoff: boolean;
  /** seconds */
  linger: number;
}

/** Socket buffer limits (net.core.*mem_max / SOCK_MIN_*BUF). The maxima are
 *  4 MiB, as gVisor's netstack and many distributions set them (Linux's own
 *  default, 212992, makes e.g. `iperf3 -w 1M` fail its read-back check). */
export const RMEM_MAX = 4194304;
export const WMEM_MAX = 4194304;
export const SOCK_MIN_RCVBUF = 2304;
export const SOCK_MIN_SNDBUF = 4608;

/** IP_MTU_DISCOVER / IPV6_MTU_DISCOVER modes (the values are the same for both). */
export const IP_PMTUDISC_DONT = 0;
export const IP_PMTUDISC_WANT = 1;
export const IP_PMTUDISC_DO = 2;
export const IP_PMTUDISC_PROBE = 3;
export const IP_PMTUDISC_INTERFACE = 4;
export const IP_PMTUDISC_OMIT = 5;
