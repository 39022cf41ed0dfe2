// The sandbox's inet sockets as the diagnostic interfaces list them:
// /proc/net/{tcp,tcp6,udp,udp6} and NETLINK_SOCK_DIAG both enumerate from
// here, so they show the same sockets with the same inode numbers (those of
// /proc/PID/fd's socket:[N] links). Unix sockets have their own list
// (unix/unix.ts unixSockets).

import type { FullAddress, Stack } from '../../netstack/index.js';
import { TCPEndpoint, UDPEndpoint } from '../../netstack/index.js';
import { endpointOwner } from './netstack/inet.js';

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
const TCP_ESTABLISHED = 1;
const TCP_CLOSE = 7;

/** InetEntry is one TCP or UDP endpoint of the stack and what every listing shows of it. */
export interface InetEntry {
  ep: TCPEndpoint | UDPEndpoint;
  local: FullAddress;
  /** peer is { addr: '', port: 0 } when unconnected. */
  peer: FullAddress;
  /** state is the Linux TCP state; a UDP socket is ESTABLISHED when connected, else CLOSE. */
  state: number;
  /** The socket file using the endpoint: none for connections not yet accepted. */
  owner: { ino: number; uid: number; cookie: number } | undefined;
  /** orphaned: the socket was closed and the connection ends in the background
   *  (Linux reports inode 0 for it: it has no file any more). */
  orphaned: boolean;
}

function peerOf(ep: TCPEndpoint | UDPEndpoint): FullAddress {
  try {
    return ep.getpeername();
  } catch {
    return { addr: '', port: 0 };
  }
}

/** inetEntries lists s's endpoints of protocol proto (PROTO_TCP or PROTO_UDP) of one IP version. */
export function inetEntries(s: Stack, proto: number, v6: boolean): InetEntry[] {
  const out: InetEntry[] = [];
  for (const ep of s.demux.endpoints(proto)) {
    if (!(ep instanceof TCPEndpoint) && !(ep instanceof UDPEndpoint)) continue;
    if ((ep.family === 6) !== v6) continue;
    const peer = peerOf(ep);
    const tcp = ep instanceof TCPEndpoint;
    out.push({
      ep,
      local: ep.getsockname(),
      peer,
      state: tcp ? ep.state : peer.port !== 0 ? TCP_ESTABLISHED : TCP_CLOSE,
      owner: endpointOwner(ep),
      orphaned: tcp && ep.orphaned,
    });
  }
  return out;
}
