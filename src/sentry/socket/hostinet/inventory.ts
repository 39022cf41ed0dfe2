// The sandbox's inet sockets in host mode, as /proc/net and NETLINK_SOCK_DIAG
// list them: the host's /proc/net/{tcp,udp}[6] (read through the Sentry's
// /proc fd: its network namespace is the host's) cut down to the rows of the
// host sockets the guest holds (procnet.ts).

import * as linuxerr from '../../../abi/linux/errno.js';
import { readHostProcText } from '../../../platform/hostproc.js';
import type { Kernel } from '../../kernel/kernel.js';
import { EVENT_HUP, EVENT_RDHUP } from '../../vfs/waiter.js';
import type { InetSockInfo } from '../netlink/diag_inet.js';
import { hostSockets } from './hostinet.js';
import type { Owned } from './procnet.js';
import { TCP_LISTEN, TCP_SYN_RECV, TCP_TIME_WAIT, formatTable, parseTable, selectOwn } from './procnet.js';
import type { HostSocket } from './socket.js';

export type InetFile = 'tcp' | 'tcp6' | 'udp' | 'udp6';

const PROTO_TCP = 6;
const AF_INET = 2;
const AF_INET6 = 10;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SOL_IPV6 = 41;
const IPV6_V6ONLY = 26;
const SOL_TCP = 6;
const TCP_INFO = 11;
const TCP_CONGESTION = 13;
const RCV_SHUTDOWN = 1;
const SEND_SHUTDOWN = 2;
/** Clock ticks a second in the host's /proc/net timers (USER_HZ). */
const USER_HZ = 100;

/** readHostNet reads /proc/net/<name> of the Sentry's network namespace (the
 *  host's in host mode); a host error becomes the guest's errno. */
export function readHostNet(name: string): string {
  try {
    return readHostProcText(`self/net/${name}`);
  } catch (e) {
    const errno = (e as { errno?: number }).errno;
    throw typeof errno === 'number' && errno > 0 ? linuxerr.fromErrno(errno) : linuxerr.EIO;
  }
}

function ownRows(k: Kernel, file: InetFile): { header: string; kept: Owned<HostSocket>[] } {
  const owners = new Map<number, HostSocket>();
  for (const s of hostSockets(k)) {
    const ino = s.hostIno;
    if (ino !== 0) owners.set(ino, s);
  }
  const text = readHostNet(file);
  // Without sockets of ours the file is only its header: nothing to parse.
  if (owners.size === 0) return { header: text.slice(0, text.indexOf('\n') >>> 0), kept: [] };
  const { header, rows } = parseTable(text);
  return { header, kept: selectOwn(rows, owners, (s) => s.ino) };
}

/** hostInetText is the guest's /proc/net/<file> in host mode. */
export function hostInetText(k: Kernel, file: InetFile): string {
  const { header, kept } = ownRows(k, file);
  return formatTable(header, kept, (s) => s.stat().uid);
}

function int32(b: Uint8Array | null): number {
  return b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true) : 0;
}

/** infoOf is what sock_diag shows of one kept row. */
function infoOf(e: Owned<HostSocket>, protocol: number, v6: boolean): InetSockInfo {
  const r = e.row;
  const s = e.owner;
  const kind = r.state === TCP_TIME_WAIT ? 'timewait' : r.state === TCP_SYN_RECV ? 'request' : 'full';
  // A connection not accepted yet is a socket of its own on the host, not the listener.
  const own = e.inode !== 0;
  const listening = protocol === PROTO_TCP && r.state === TCP_LISTEN;
  let shutdown = 0;
  if (own) {
    const ev = s.readiness(EVENT_RDHUP);
    if (ev & EVENT_RDHUP) shutdown |= RCV_SHUTDOWN;
    if (ev & EVENT_HUP) shutdown |= RCV_SHUTDOWN | SEND_SHUTDOWN;
  }
  return {
    family: v6 ? AF_INET6 : AF_INET,
    protocol,
    kind,
    state: r.state,
    sport: r.lport,
    dport: r.rport,
    src: r.local,
    dst: r.remote,
    ifindex: 0,
    cookie: own ? s.cookie : 0,
    timer: r.timer,
    retrans: r.timer === 4 || r.timer === 2 ? r.probes : r.retrans,
    expires: (r.when * 1000) / USER_HZ,
    // A listener's rx_queue is its accept queue; inet_diag's wqueue is then its backlog.
    rqueue: r.rxq,
    wqueue: listening && own ? listenBacklog(s) : r.txq,
    uid: s.stat().uid,
    inode: e.inode,
    shutdown,
    tos: 0,
    v6only: own && v6 && int32(s.hostOption(SOL_IPV6, IPV6_V6ONLY, 4)) !== 0,
    priority: s.opts.priority,
    autobound: false,
    mem: {
      rmem: listening ? 0 : r.rxq,
      rcvbuf: own ? int32(s.hostOption(SOL_SOCKET, SO_RCVBUF, 4)) : 0,
      wmemQueued: listening ? 0 : r.txq,
      sndbuf: own ? int32(s.hostOption(SOL_SOCKET, SO_SNDBUF, 4)) : 0,
    },
    tcpInfo: own && protocol === PROTO_TCP ? () => s.hostOption(SOL_TCP, TCP_INFO, 256) ?? new Uint8Array(0) : null,
    cong: own && protocol === PROTO_TCP ? congestion(s) : null,
  };
}

/** listenBacklog is a listener's sk_max_ack_backlog, which tcp_info's
 *  tcpi_sacked holds for a listening socket. */
function listenBacklog(s: HostSocket): number {
  const b = s.hostOption(SOL_TCP, TCP_INFO, 256);
  return b && b.length >= 32 ? new DataView(b.buffer, b.byteOffset).getUint32(28, true) : 0;
}

function congestion(s: HostSocket): string | null {
  const b = s.hostOption(SOL_TCP, TCP_CONGESTION, 16);
  if (!b) return null;
  const end = b.indexOf(0);
  return Buffer.from(b.subarray(0, end < 0 ? b.length : end)).toString('latin1');
}

/** hostInetSockInfos lists the sandbox's host sockets of one protocol for
 *  sock_diag, both IP versions, listeners first (the host's files list them first). */
export function hostInetSockInfos(k: Kernel, protocol: number): InetSockInfo[] {
  const name = protocol === PROTO_TCP ? 'tcp' : 'udp';
  const all: InetSockInfo[] = [];
  for (const v6 of [false, true]) {
    let kept: Owned<HostSocket>[];
    try {
      kept = ownRows(k, (v6 ? `${name}6` : name) as InetFile).kept;
    } catch {
      continue; // no IPv6 on the host: no tcp6 file
    }
    for (const e of kept) all.push(infoOf(e, protocol, v6));
  }
  const listen = (i: InetSockInfo) => i.protocol === PROTO_TCP && i.state === TCP_LISTEN;
  return [...all.filter(listen), ...all.filter((i) => !listen(i))];
}
