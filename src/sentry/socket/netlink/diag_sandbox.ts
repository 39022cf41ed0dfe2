// The sandbox's sockets as NETLINK_SOCK_DIAG lists them (diag.ts encodes):
// the netstack's TCP and UDP endpoints through the inventory /proc/net uses,
// and the live Unix sockets; with --network=host, the guest's host sockets
// (hostinet/inventory.ts).

import type { Kernel } from '../../kernel/kernel.js';
import { usesHostNetwork } from '../hostinet/hostinet.js';
import { hostInetSockInfos } from '../hostinet/inventory.js';
import { PROTO_TCP, PROTO_UDP } from '../inventory.js';
import { stackFor } from '../netstack/stack.js';
import type { UnixSocket } from '../unix/unix.js';
import { unixSockets } from '../unix/unix.js';
import type { DiagContext } from './diag.js';
import { inetSockInfos } from './diag_inet.js';
import type { UnixSockInfo } from './diag_unix.js';

const TCP_ESTABLISHED = 1;
const TCP_CLOSE = 7;
const TCP_LISTEN = 10;

/** inoOf is sock_i_ino: 0 for a socket without a file (closed, or a connection not yet accepted). */
function inoOf(u: UnixSocket): number {
  return u.dead || u.embryo ? 0 : u.ino;
}

/** unixInfo is the view of one Unix socket. */
function unixInfo(u: UnixSocket): UnixSockInfo {
  const d = u.diagInfo();
  const listening = u.isListening;
  const peer = u.peer;
  return {
    type: u.type,
    state: listening ? TCP_LISTEN : peer ? TCP_ESTABLISHED : TCP_CLOSE,
    ino: u.ino,
    cookie: u.cookie,
    name: u.addr ? u.addr.bytes.subarray(2) : null,
    vfs: d.node ? { ino: d.node.ino, dev: d.node.fs.dev } : null,
    peer: peer ? inoOf(peer) : null,
    icons: listening ? d.pending.map((s) => (s.peer ? inoOf(s.peer) : 0)) : null,
    rqueue: listening ? d.pending.length : u.inq(),
    wqueue: listening ? d.backlog : u.outq(),
    // Unix messages are charged to their sender (wmem); nothing to a receiver's rmem.
    meminfo: [0, u.opts.rcvbuf, u.wmem, u.opts.sndbuf, 0, 0, 0, 0, 0],
    shutdown: u.shut,
    uid: u.stat().uid,
  };
}

/** diagContext is the view of kernel k's sockets for a requester (admin: CAP_NET_ADMIN). */
export function diagContext(k: Kernel, admin: boolean): DiagContext {
  return {
    inet: (protocol) => {
      if (protocol !== PROTO_TCP && protocol !== PROTO_UDP) return null;
      // Host mode: the sandbox's own host sockets, from the host's /proc/net rows.
      if (usesHostNetwork(k)) return hostInetSockInfos(k, protocol);
      return inetSockInfos(stackFor(k), protocol);
    },
    // Connections not yet accepted have no socket file: Linux skips them.
    unix: () => unixSockets(k).filter((u) => !u.embryo && !u.dead).map(unixInfo),
    admin,
    warn: (key, msg) => k.log.warnOnce(key, msg),
  };
}
