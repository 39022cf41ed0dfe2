// runsc's side of the DNS relay (the Sentry's is
// src/sentry/socket/netstack/dns_relay.ts). Docker gives a container on a
// user-defined network `nameserver 127.0.0.11` and answers there through NAT
// rules inside the container's network namespace (DNAT of 127.0.0.11:53 to
// the port its resolver listens on in that namespace). Once the netstack has
// taken that namespace over, the guests' loopback is the netstack's, so runsc,
// which can still make sockets in the namespace, opens one UDP socket there,
// connected to 127.0.0.11:53, and hands it to the Sentry with the interfaces.
// The Sentry cannot make sockets in that namespace later, so guests' DNS over
// TCP is taken by the Sentry and asked over this UDP socket too
// (sentry/socket/netstack/dns_relay_tcp.ts).
// Docker 20.10 rewrites the resolv.conf file in its prestart hook, after the
// sandbox copied it in at boot (a single-file bind mount is a copy, see
// mounts.ts): resolvConfRefresh gives the file as the hook left it, for the
// Sentry to copy in again before the container starts.
// This file is in the CLI bundle: no Sentry module here.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../../platform/ptrace/native.js';
import type { Spec } from '../specutils/spec.js';

const AF_INET = 2;
const SOCK_DGRAM = 2;

/** DOCKER_DNS is the address of Docker's embedded DNS server. */
export const DOCKER_DNS = '127.0.0.11';
const DNS_PORT = 53;

/** DnsTarget is the server a relay forwards to (and the address guests use). */
export interface DnsTarget {
  address: string;
  port: number;
  /** fallback: the upstream servers Docker forwards other names to (IPv4),
   *  which the Sentry asks itself through the guest network: dockerd
   *  forwards from the container's namespace, whose addresses tsvisor took. */
  fallback?: string[];
}

/** Docker's upstream servers when the host names none it can use. */
const DOCKER_DEFAULT_DNS = ['8.8.8.8', '8.8.4.4'];

/** upstreamServers lists the IPv4 servers Docker forwards to: the host's
 *  (systemd-resolved's upstreams when the host names only a loopback one). */
export function upstreamServers(read: (file: string) => string | null = readOrNull): string[] {
  for (const f of ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf']) {
    const text = read(f);
    if (text === null) continue;
    const usable = nameservers(text).filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith('127.'));
    if (usable.length) return usable;
  }
  return DOCKER_DEFAULT_DNS;
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** nameservers lists a resolv.conf's nameserver addresses. */
export function nameservers(resolvConf: string): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}

/** resolvConfSource is the host file the spec binds at /etc/resolv.conf, or null. */
export function resolvConfSource(spec: Spec): string | null {
  // The last mount there is the one the container sees.
  const m = [...(spec.mounts ?? [])].reverse().find((x) => path.posix.normalize(x.destination) === '/etc/resolv.conf');
  if (!m?.source || !path.isAbsolute(m.source)) return null;
  return m.source;
}

/** dockerDnsTarget returns Docker's embedded server when the container's
 *  resolv.conf (as it is now) names it, else null. */
export function dockerDnsTarget(spec: Spec): DnsTarget | null {
  const src = resolvConfSource(spec);
  if (!src) return null;
  let text: string;
  try {
    text = fs.readFileSync(src, 'utf8');
  } catch {
    return null;
  }
  return nameservers(text).includes(DOCKER_DNS) ? { address: DOCKER_DNS, port: DNS_PORT, fallback: upstreamServers() } : null;
}

/** sockaddrIn encodes a struct sockaddr_in. */
export function sockaddrIn(address: string, port: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 address ${address}`);
  b.set(parts, 4);
  return b;
}

/** openDnsRelaySocket makes a UDP socket in the network namespace nsFd,
 *  connected to target (connect only records the peer: nothing is sent). */
export function openDnsRelaySocket(nsFd: number, target: DnsTarget): number {
  const fd = native.netSocketIn(nsFd, AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) throw new Error(`UDP socket in the container's network namespace: errno ${-fd}`);
  const r = native.netConnect(fd, sockaddrIn(target.address, target.port));
  if (r < 0) {
    fs.closeSync(fd);
    throw new Error(`connecting the DNS relay socket to ${target.address}:${target.port}: errno ${-r}`);
  }
  return fd;
}

/** RefreshedFile is a single-file bind mount's current contents, to copy in again. */
export interface RefreshedFile {
  path: string;
  data: string;
}

/** resolvConfRefresh returns /etc/resolv.conf as its host file is now, or null. */
export function resolvConfRefresh(spec: Spec): RefreshedFile | null {
  const src = resolvConfSource(spec);
  if (!src) return null;
  try {
    return { path: '/etc/resolv.conf', data: fs.readFileSync(src, 'utf8') };
  } catch {
    return null;
  }
}
