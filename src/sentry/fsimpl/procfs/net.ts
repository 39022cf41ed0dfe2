// /proc/[pid]/net (and /proc/net, a link to self/net): the sandbox's network
// stack as Linux's seq files print it (net/ipv4/tcp_ipv4.c, udp.c, route.c,
// net/ipv6/addrconf.c, net/unix/af_unix.c, net/core/net-procfs.c), so
// netstat, ss -a (its fallback) and ifconfig read the sandbox, not the host.
// With --network=host they read the host's network (see hostFiles below).

import type { Address, NIC, Stack } from '../../../netstack/index.js';
import { TCPEndpoint, UDPEndpoint } from '../../../netstack/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { PROTO_TCP, PROTO_UDP, inetEntries } from '../../socket/inventory.js';
import { endpointOwner } from '../../socket/netstack/inet.js';
import { stackFor } from '../../socket/netstack/stack.js';
import { unixSockets } from '../../socket/unix/unix.js';
import * as linuxerr from '../../../abi/linux/errno.js';
import type { Task } from '../../kernel/task.js';
import type { Caller } from '../../vfs/inode.js';
import { isTask } from '../../vfs/special.js';
import { hostInetText, readHostNet } from '../../socket/hostinet/inventory.js';
import { usesHostNetwork } from '../../socket/hostinet/hostinet.js';
import type { DirOps, Spec } from './synthetic.js';
import { dynDir, file, tableOps } from './synthetic.js';

function callerTask(c: Caller): Task {
  if (!isTask(c)) throw linuxerr.ENOENT;
  return c;
}

function stackOf(c: Caller): Stack {
  return stackFor(callerTask(c).kernel);
}

function hex(n: number, w: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(w, '0');
}

/** word32 prints 4 address bytes as the host-order u32 Linux's %08X shows (little-endian). */
function word32(a: Address, off: number): string {
  const v = a.charCodeAt(off) | (a.charCodeAt(off + 1) << 8) | (a.charCodeAt(off + 2) << 16) | (a.charCodeAt(off + 3) << 24);
  return hex(v, 8);
}

/** inetAddr formats addr:port as /proc/net/tcp{,6} do. */
export function inetAddr(a: Address, port: number, v6: boolean): string {
  const n = v6 ? 16 : 4;
  const full = a.length === n ? a : '\0'.repeat(n);
  let s = '';
  for (let i = 0; i < n; i += 4) s += word32(full, i);
  return `${s}:${hex(port, 4)}`;
}

// ---- tcp, tcp6, udp, udp6 ----

function tcpText(s: Stack, v6: boolean): string {
  const head = v6
    ? '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
    : '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'.padEnd(149) + '\n';
  let out = head;
  let i = 0;
  for (const { ep, local, peer, owner: own, orphaned } of inetEntries(s, PROTO_TCP, v6)) {
    if (!(ep instanceof TCPEndpoint)) continue;
    const listening = ep.isListening();
    const tx = listening ? 0 : ep.queuedWrite;
    const rx = listening ? 0 : ep.queuedRead;
    const row = `${String(i++).padStart(4)}: ${inetAddr(local.addr, local.port, v6)} ${inetAddr(peer.addr, peer.port, v6)} ` +
      `${hex(ep.state, 2)} ${hex(tx, 8)}:${hex(rx, 8)} 00:00000000 00000000 ${String(own?.uid ?? 0).padStart(5)} ` +
      `${String(0).padStart(8)} ${orphaned ? 0 : own?.ino ?? 0} 1 0000000000000000 20 4 30 10 -1`;
    out += (v6 ? row : row.padEnd(149)) + '\n';
  }
  return out;
}

function udpText(s: Stack, v6: boolean): string {
  const head = v6
    ? '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n'
    : '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops'.padEnd(127) + '\n';
  let out = head;
  let i = 0;
  for (const { ep, local, peer, owner: own, state: st } of inetEntries(s, PROTO_UDP, v6)) {
    if (!(ep instanceof UDPEndpoint)) continue;
    const row = `${String(i++).padStart(v6 ? 4 : 5)}: ${inetAddr(local.addr, local.port, v6)} ${inetAddr(peer.addr, peer.port, v6)} ` +
      `${hex(st, 2)} ${hex(0, 8)}:${hex(ep.queuedBytes, 8)} 00:00000000 00000000 ${String(own?.uid ?? 0).padStart(5)} ` +
      `${String(0).padStart(8)} ${own?.ino ?? 0} 2 0000000000000000 0`;
    out += (v6 ? row : row.padEnd(127)) + '\n';
  }
  return out;
}

// ---- raw, raw6 (net/ipv4/raw.c, net/ipv6/raw.c) ----

function rawText(s: Stack, v6: boolean): string {
  let out = v6
    ? '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n'
    : '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
  let i = 0;
  for (const ep of s.raw.endpoints()) {
    if ((ep.family === 6) !== v6) continue;
    const local = ep.getsockname();
    const peer = ep.peerAddress;
    const own = endpointOwner(ep);
    // The local "port" is the protocol; the remote one is 0; 07 is TCP_CLOSE, 01 connected.
    out += `${String(i++).padStart(v6 ? 5 : 4)}: ${inetAddr(local.addr, ep.protocol, v6)} ${inetAddr(peer, 0, v6)} ` +
      `${hex(ep.connected ? 1 : 7, 2)} ${hex(0, 8)}:${hex(ep.queuedBytes, 8)} 00:00000000 00000000 ${String(own?.uid ?? 0).padStart(5)} ` +
      `${String(0).padStart(8)} ${own?.ino ?? 0} 2 0000000000000000 0\n`;
  }
  return out;
}

// ---- unix ----

const SO_ACCEPTCON = 1 << 16;

function unixText(k: Kernel): string {
  let out = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
  for (const u of unixSockets(k)) {
    // SS_UNCONNECTED 1, SS_CONNECTED 3; a listener is unconnected with __SO_ACCEPTCON.
    const st = u.peer ? 3 : 1;
    const flags = u.isListening ? SO_ACCEPTCON : 0;
    let path = '';
    if (u.addr?.kind === 'path') path = ' ' + u.addr.path;
    else if (u.addr?.kind === 'abstract') path = ' @' + u.addr.name.slice(1);
    out += `0000000000000000: ${hex(2, 8)} ${hex(0, 8)} ${hex(flags, 8)} ${hex(u.type, 4)} ${hex(st, 2)} ${String(u.ino).padStart(5)}${path}\n`;
  }
  return out;
}

// ---- sockstat, sockstat6 (what `ss -s` reads) ----

const TCP_TIME_WAIT = 6;

function sockstatText(k: Kernel, s: Stack): string {
  const tcp4 = inetEntries(s, PROTO_TCP, false);
  const tcp = [...tcp4, ...inetEntries(s, PROTO_TCP, true)];
  let mem = 0;
  for (const e of tcp) if (e.ep instanceof TCPEndpoint) mem += e.ep.queuedRead + e.ep.queuedWrite;
  const tw = tcp.filter((e) => e.state === TCP_TIME_WAIT).length;
  const files = tcp.filter((e) => e.owner && !e.orphaned).length + inetEntries(s, PROTO_UDP, false).length +
    inetEntries(s, PROTO_UDP, true).length + unixSockets(k).filter((u) => !u.embryo).length;
  // Sockets counted: those of the stack and Unix sockets (netlink and ping sockets are not enumerated).
  return `sockets: used ${files}\n` +
    `TCP: inuse ${tcp4.filter((e) => e.state !== TCP_TIME_WAIT).length} orphan ${tcp.filter((e) => e.orphaned).length} ` +
    `tw ${tw} alloc ${tcp.length - tw} mem ${Math.ceil(mem / 4096)}\n` +
    `UDP: inuse ${inetEntries(s, PROTO_UDP, false).length} mem 0\nUDPLITE: inuse 0\nRAW: inuse ${s.raw.endpoints().filter((e) => e.family === 4).length}\nFRAG: inuse 0 memory 0\n`;
}

function sockstat6Text(s: Stack): string {
  const tcp = inetEntries(s, PROTO_TCP, true).filter((e) => e.state !== TCP_TIME_WAIT).length;
  return `TCP6: inuse ${tcp}\nUDP6: inuse ${inetEntries(s, PROTO_UDP, true).length}\nUDPLITE6: inuse 0\nRAW6: inuse ${s.raw.endpoints().filter((e) => e.family === 6).length}\n` +
    'FRAG6: inuse 0 memory 0\n';
}

// ---- dev, if_inet6, route ----

function devText(s: Stack): string {
  let out = 'Inter-|   Receive                                                |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
  for (const nic of s.allNICs()) {
    const st = nic.stats;
    const n = (v: number, w: number) => String(v).padStart(w);
    out += `${nic.name.padStart(6)}:${n(st.rxBytes, 8)} ${n(st.rxPackets, 7)} ${n(0, 4)} ${n(st.rxDropped, 4)} ${n(0, 4)} ${n(0, 5)} ` +
      `${n(0, 10)} ${n(0, 9)} ${n(st.txBytes, 8)} ${n(st.txPackets, 7)} ${n(0, 4)} ${n(st.txDropped, 4)} ${n(0, 4)} ${n(0, 5)} ` +
      `${n(0, 7)} ${n(0, 10)}\n`;
  }
  return out;
}

function v6Scope(a: Address): number {
  if (a === '\0'.repeat(15) + '\x01') return 0x10; // IFA_HOST
  if (a.charCodeAt(0) === 0xfe && (a.charCodeAt(1) & 0xc0) === 0x80) return 0x20; // IFA_LINK
  return 0;
}

function ifInet6Text(s: Stack): string {
  let out = '';
  for (const nic of s.allNICs()) {
    for (const p of nic.v6) {
      let h = '';
      for (let i = 0; i < 16; i++) h += p.addr.charCodeAt(i).toString(16).padStart(2, '0');
      out += `${h} ${hex(nic.id, 2).toLowerCase()} ${hex(p.prefixLen, 2).toLowerCase()} ` +
        `${hex(v6Scope(p.addr), 2).toLowerCase()} 80 ${nic.name.padStart(8)}\n`;
    }
  }
  return out;
}

function maskOf(prefixLen: number): Address {
  let s = '';
  for (let i = 0; i < 4; i++) s += String.fromCharCode((0xff00 >> Math.max(0, Math.min(8, prefixLen - 8 * i))) & 0xff);
  return s;
}

function routeText(s: Stack): string {
  let out = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT'.padEnd(127) + '\n';
  const nics = new Map<number, NIC>(s.allNICs().map((n) => [n.id, n]));
  for (const r of s.routeTable) {
    if (r.destination.length !== 4) continue;
    const nic = nics.get(r.nic);
    // 127/8 on loopback is in the local table, which this file does not show.
    if (!nic || (nic.isLoopback && r.gateway === '' && r.destination.charCodeAt(0) === 127)) continue;
    const flags = 0x1 | (r.gateway !== '' ? 0x2 : 0);
    const gw = r.gateway || '\0\0\0\0';
    out += `${nic.name}\t${word32(r.destination, 0)}\t${word32(gw, 0)}\t${hex(flags, 4)}\t0\t0\t0\t${word32(maskOf(r.prefixLen), 0)}\t0\t0\t0`
      .padEnd(127) + '\n';
  }
  return out;
}

// ---- snmp ----

function snmpText(s: Stack): string {
  const ip = s.stats.ip;
  const tcp = s.stats.tcp;
  const udp = s.stats.udp;
  const row = (name: string, fields: [string, number][]) =>
    `${name}: ${fields.map((f) => f[0]).join(' ')}\n${name}: ${fields.map((f) => String(f[1])).join(' ')}\n`;
  return row('Ip', [
    ['Forwarding', 2], ['DefaultTTL', s.defaultTTL], ['InReceives', ip.packetsReceived], ['InHdrErrors', ip.malformedPacketsReceived],
    ['InAddrErrors', ip.invalidDestinationAddressesReceived], ['ForwDatagrams', 0], ['InUnknownProtos', ip.unknownProtocolReceived],
    ['InDiscards', 0], ['InDelivers', ip.packetsDelivered], ['OutRequests', ip.packetsSent], ['OutDiscards', ip.outgoingPacketErrors],
    ['OutNoRoutes', 0], ['ReasmTimeout', 0], ['ReasmReqds', 0], ['ReasmOKs', 0], ['ReasmFails', 0], ['FragOKs', 0],
    ['FragFails', 0], ['FragCreates', ip.fragmentsSent],
  ]) + row('Tcp', [
    ['RtoAlgorithm', 1], ['RtoMin', 200], ['RtoMax', 120000], ['MaxConn', -1], ['ActiveOpens', tcp.activeOpens],
    ['PassiveOpens', tcp.passiveOpens], ['AttemptFails', tcp.failedConnectionAttempts], ['EstabResets', tcp.establishedResets],
    ['CurrEstab', tcp.currentEstablished], ['InSegs', tcp.segmentsReceived], ['OutSegs', tcp.segmentsSent],
    ['RetransSegs', tcp.retransmits], ['InErrs', tcp.invalidSegmentsReceived], ['OutRsts', tcp.resetsSent], ['InCsumErrors', tcp.checksumErrors],
  ]) + row('Udp', [
    ['InDatagrams', udp.packetsReceived], ['NoPorts', udp.unknownPortErrors], ['InErrors', udp.malformedPacketsReceived],
    ['OutDatagrams', udp.packetsSent], ['RcvbufErrors', udp.receiveBufferErrors], ['SndbufErrors', 0],
    ['InCsumErrors', udp.checksumErrors], ['IgnoredMulti', 0], ['MemErrors', 0],
  ]);
}

/** ownFiles is /proc/[pid]/net of the sandbox's own stack (every process shares it). */
const ownFiles: Record<string, Spec> = {
  dev: file((c) => devText(stackOf(c))),
  if_inet6: file((c) => ifInet6Text(stackOf(c))),
  route: file((c) => routeText(stackOf(c))),
  snmp: file((c) => snmpText(stackOf(c))),
  sockstat: file((c) => sockstatText(callerTask(c).kernel, stackOf(c))),
  sockstat6: file((c) => sockstat6Text(stackOf(c))),
  tcp: file((c) => tcpText(stackOf(c), false)),
  tcp6: file((c) => tcpText(stackOf(c), true)),
  udp: file((c) => udpText(stackOf(c), false)),
  udp6: file((c) => udpText(stackOf(c), true)),
  unix: file((c) => unixText(callerTask(c).kernel)),
  raw: file((c) => rawText(stackOf(c), false)),
  raw6: file((c) => rawText(stackOf(c), true)),
  arp: file(() => 'IP address       HW type     Flags       HW address            Mask     Device\n'),
};

/** HOST_FILES describe the network namespace as a whole: with --network=host
 *  (the Sentry's namespace is the host's) they are the host's, as gVisor's
 *  hostinet serves its interfaces, routes and counters from the host. */
const HOST_FILES = ['dev', 'if_inet6', 'route', 'ipv6_route', 'snmp', 'snmp6', 'netstat', 'sockstat', 'sockstat6'];

/** hostFiles is /proc/[pid]/net with --network=host: the host's tables, and
 *  the host's socket lists cut down to the sandbox's own sockets. */
const hostFiles: Record<string, Spec> = {
  ...ownFiles,
  ...Object.fromEntries(HOST_FILES.map((n) => [n, file(() => readHostNet(n))])),
  tcp: file((c) => hostInetText(callerTask(c).kernel, 'tcp')),
  tcp6: file((c) => hostInetText(callerTask(c).kernel, 'tcp6')),
  udp: file((c) => hostInetText(callerTask(c).kernel, 'udp')),
  udp6: file((c) => hostInetText(callerTask(c).kernel, 'udp6')),
};

const ownOps = tableOps(ownFiles);
const hostOps = tableOps(hostFiles);

function opsFor(c: Caller): DirOps {
  return isTask(c) && usesHostNetwork(c.kernel) ? hostOps : ownOps;
}

/** netDir is the Spec of /proc/[pid]/net. */
export const netDir: Spec = dynDir({
  lookup: (c, name, d) => opsFor(c).lookup(c, name, d),
  names: (c, d) => opsFor(c).names(c, d),
});
