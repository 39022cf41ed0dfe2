// runsc's side of --network=sandbox for `runsc do`: a link between the host
// and the sandbox's netstack. gVisor's `do` makes a veth pair and takes over
// the sandbox end with an AF_PACKET socket; here the link is a TAP device made
// in the host's network namespace, which needs nothing but /dev/net/tun and an
// ioctl: the host end is the TAP interface itself (it gets the host address,
// e.g. 10.211.N.1/24), and the Sentry reads and writes the frames on the TAP
// fd, so its netstack is the only TCP/IP stack on the sandbox's side. The TAP
// device is not persistent: it disappears with the last fd (the Sentry's).
//
// Past the host, the sandbox is NATed (nat.ts), and it gets its own
// /etc/resolv.conf and /etc/hosts where the host's would not serve it
// (guestFiles, written into the root's in-memory layer at boot: the host's
// files are not touched).
//
// Call order for the launcher (all in runsc, before the Sentry starts; the
// Sentry's own network namespace does not matter, the fd is bound already):
//   const net = setupDoNetwork({ ip: values.ip, debug });   // host root only
//   launch({ ..., fds: [..., net.fd] });                      // fd k in the child
//   // Sentry, at boot before the first process:
//   configureNetwork(kernel, net.sentryConfig(k));
//   installGuestFiles(vfs, net.guestFiles(hostname));         // carried in the boot spec (guest_network.ts)
//   net.closeHostFd();                                         // runsc's copy, once the Sentry has it
//   ... the sandbox exits ...
//   net.release();                                             // the NAT rules (also on runsc's exit)
// In-process the same fd is used directly: sentryConfig(net.fd).
// This file is runsc's side only (the CLI bundle includes it): what needs the
// Sentry's modules is in guest_network.ts.

import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { native } from '../../platform/ptrace/native.js';
import type { NetworkConfig } from '../../sentry/socket/netstack/stack.js';
import { enableNat } from './nat.js';
import type { Nat } from './nat.js';

export { debugLogger } from './netns.js';

const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFNAMSIZ = 16;
const MTU = 1500;

/** DoNetwork is a host TAP link made for one sandbox. */
export interface DoNetwork {
  /** fd is the TAP device (in runsc's fd table). */
  fd: number;
  /** hostIf is the host-side interface name. */
  hostIf: string;
  hostIp: string;
  sandboxIp: string;
  prefixLen: number;
  /** sentryConfig is the NetworkConfig for the Sentry, which sees the TAP as fd sentryFd. */
  sentryConfig(sentryFd: number): NetworkConfig;
  /** closeHostFd closes runsc's copy of the fd (the device lives while the Sentry's copy is open). */
  closeHostFd(): void;
  /** nat says whether the sandbox is NATed past the host (iptables rules in place). */
  nat: boolean;
  /** release removes the NAT rules once the sandbox is gone (idempotent; runsc's exit does it too). */
  release(): void;
  /** guestFiles are the /etc files the sandbox gets for this link (hostname:
   *  the sandbox's; hostRoot: the tree its root shows, '/' for the host's). */
  guestFiles(hostname: string, hostRoot?: string): GuestFile[];
}

/** GuestFile is a file written into the sandbox root's in-memory layer at boot. */
export interface GuestFile {
  path: string;
  data: string;
  mode: number;
}

/** peerIp is the host end's address for a sandbox address: .1 of its /24 (.2 if the sandbox is .1). */
export function peerIp(ip: string): string {
  const p = ip.split('.');
  p[3] = p[3] === '1' ? '2' : '1';
  return p.join('.');
}

/** hostAddresses lists the IPv4 addresses on the host's interfaces. */
function hostAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4') out.add(a.address);
  return out;
}

/** pickSubnet finds a 10.211.N.0/24 no host interface uses (N from the pid, then onwards). */
export function pickSubnet(used: Set<string>, seed: number): number {
  const taken = new Set([...used].filter((a) => a.startsWith('10.211.')).map((a) => Number(a.split('.')[2])));
  for (let i = 0; i < 254; i++) {
    const n = 1 + ((seed + i) % 254);
    if (!taken.has(n)) return n;
  }
  throw new Error('no free 10.211.N.0/24 subnet for the sandbox network');
}

function ipTool(): string {
  for (const p of ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip']) if (existsSync(p)) return p;
  throw new Error('--network=sandbox needs iproute2 (ip) on the host');
}

/** ip runs iproute2 with args (no shell), failing with its status. */
function ip(args: string[]): void {
  const tool = ipTool();
  const pid = native.spawn(tool, [tool, ...args], ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], new Int32Array([-1, -1, 2]), 0);
  if (pid < 0) throw new Error(`ip ${args.join(' ')}: errno ${-pid}`);
  const st = new Int32Array(1);
  let r: number;
  do r = native.waitpid(pid, 0, st); while (r === -4 /* EINTR */);
  if (r < 0 || st[0] !== 0) throw new Error(`ip ${args.join(' ')} failed (status ${st[0]})`);
}

/** openTap makes a non-persistent TAP device named name; returns its fd. */
export function openTap(name: string): number {
  const fd = openSync('/dev/net/tun', 'r+');
  const req = new Uint8Array(40);
  req.set(new TextEncoder().encode(name).subarray(0, IFNAMSIZ - 1));
  new DataView(req.buffer).setUint16(IFNAMSIZ, IFF_TAP | IFF_NO_PI, true);
  const r = native.ioctl(fd, TUNSETIFF, req, 0);
  if (r < 0) {
    closeSync(fd);
    throw new Error(`TUNSETIFF ${name}: errno ${-r}`);
  }
  return fd;
}

/** randomMac returns a locally administered unicast MAC. */
function randomMac(): string {
  const b = Array.from({ length: 6 }, () => Math.floor(Math.random() * 256));
  b[0] = (b[0] & 0xfc) | 0x02;
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** setupDoNetwork makes the host end of a sandbox network (needs CAP_NET_ADMIN on the host):
 *  a TAP device tsvN with the host address, up, and NAT past the host unless
 *  opts.nat is false. ip is the sandbox's address ('' picks one); debug gets
 *  the lines for --debug (why there is no NAT, for one). */
export function setupDoNetwork(opts: { ip?: string; nat?: boolean; debug?: (msg: string) => void } = {}): DoNetwork {
  const debug = opts.debug ?? ((): void => {});
  let sandboxIp = opts.ip ?? '';
  let hostIp: string;
  let tag: number;
  if (sandboxIp) {
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(sandboxIp)) throw new Error(`bad --ip ${sandboxIp}`);
    hostIp = peerIp(sandboxIp);
    tag = process.pid % 100000;
  } else {
    tag = pickSubnet(hostAddresses(), process.pid);
    hostIp = `10.211.${tag}.1`;
    sandboxIp = `10.211.${tag}.2`;
  }
  const hostIf = `tsv${process.pid}`.slice(0, IFNAMSIZ - 1);
  const fd = openTap(hostIf);
  try {
    ip(['addr', 'add', `${hostIp}/24`, 'dev', hostIf]);
    ip(['link', 'set', hostIf, 'up']);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let nat: Nat | null = null;
  if (opts.nat !== false) nat = enableNat(hostIf, sandboxIp, debug);
  const guestMac = randomMac();
  let open = true;
  return {
    fd, hostIf, hostIp, sandboxIp, prefixLen: 24, nat: nat !== null,
    release: () => nat?.release(),
    guestFiles: (hostname, hostRoot = '/') => doGuestFiles(sandboxIp, hostname, readHostEtc(), hostRoot !== '/'),
    sentryConfig: (sentryFd) => ({
      interfaces: [{ fd: sentryFd, name: 'eth0', mac: guestMac, mtu: MTU, addresses: [`${sandboxIp}/24`] }],
      routes: [{ dst: '0.0.0.0/0', gateway: hostIp, dev: 'eth0' }],
    }),
    closeHostFd: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** HostResolv is the host's resolver configuration: /etc/resolv.conf, and
 *  systemd-resolved's list of upstream servers when it runs. */
export interface HostResolv {
  resolvConf: string | null;
  upstream: string | null;
}

/** HostEtc is what of the host's /etc the sandbox's files are made from. */
export interface HostEtc extends HostResolv {
  hosts: string | null;
}

function readOr(p: string): string | null {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

function readHostEtc(): HostEtc {
  return { resolvConf: readOr('/etc/resolv.conf'), upstream: readOr('/run/systemd/resolve/resolv.conf'), hosts: readOr('/etc/hosts') };
}

/** FALLBACK_DNS is what gVisor's `do` always uses, and Docker when nothing else is left. */
const FALLBACK_DNS = ['8.8.8.8', '8.8.4.4'];

function nameservers(text: string): string[] {
  return text.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
}

/** reachable says whether the sandbox can reach a nameserver: IPv4 and not
 *  loopback (the sandbox's loopback is its own; the link has no IPv6 route). */
function reachable(ns: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(ns) && !ns.startsWith('127.') && ns !== '0.0.0.0';
}

/** sandboxResolvConf is the sandbox's /etc/resolv.conf, or null when the
 *  host's serves as it is. Resolvers the sandbox cannot reach (loopback, as
 *  systemd-resolved's 127.0.0.53; IPv6) are dropped; when none is left,
 *  systemd-resolved's upstream servers are used, else 8.8.8.8 and 8.8.4.4
 *  (as Docker does; gVisor's `do` always uses 8.8.8.8). search and options
 *  lines are kept. With otherRoot (the guest's root is another tree, whose
 *  resolv.conf says nothing of this host's network, through which the
 *  sandbox's DNS goes) there is always a file. */
export function sandboxResolvConf(h: HostResolv, otherRoot = false): string | null {
  const host = h.resolvConf ?? '';
  const all = nameservers(host);
  // No nameserver line means 127.0.0.1 to the resolver: unreachable too.
  if (all.length > 0 && all.every(reachable)) return otherRoot ? host : null;
  let servers = all.filter(reachable);
  let why = 'unreachable resolvers of the host left out';
  if (servers.length === 0) {
    servers = nameservers(h.upstream ?? '').filter(reachable);
    why = 'the host\'s resolvers are local: its upstream servers (systemd-resolved)';
  }
  if (servers.length === 0) {
    servers = FALLBACK_DNS;
    why = 'the host\'s resolvers are not reachable from the sandbox: public ones';
  }
  const kept = host.split('\n').filter((l) => l.trim() !== '' && !/^\s*(nameserver\s|[#;])/.test(l));
  return [`# runsc do: ${why}`, ...kept, ...servers.map((s) => `nameserver ${s}`)].join('\n') + '\n';
}

function isLoopback(addr: string): boolean {
  return addr.startsWith('127.') || addr === '::1';
}

/** sandboxHosts is the sandbox's /etc/hosts, or null when the host's serves
 *  as it is: the sandbox has the host's hostname, and the names the host
 *  gives itself on loopback (Debian's 127.0.1.1) are the sandbox's own too.
 *  Lines naming the hostname at another address (the host's LAN address)
 *  get the sandbox's address instead, IPv6 ones are left out (the link has
 *  IPv4 only), so that the guest's hostname is its own. */
export function sandboxHosts(hosts: string, hostname: string, sandboxIp: string): string | null {
  const name = hostname.toLowerCase();
  let changed = false;
  const out: string[] = [];
  for (const line of hosts.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    if (fields.length < 2 || isLoopback(fields[0]) || !fields.slice(1).some((f) => f.toLowerCase() === name)) {
      out.push(line);
      continue;
    }
    changed = true;
    if (!fields[0].includes(':')) out.push([sandboxIp, ...fields.slice(1)].join('\t'));
  }
  return changed ? out.join('\n') : null;
}

/** doGuestFiles are the /etc files a sandbox with a link needs: resolv.conf
 *  when the host's does not serve (or the root is another tree) and hosts
 *  when the host's names the hostname elsewhere than on loopback. Nothing
 *  more: each file written copies /etc up into the in-memory layer, which
 *  changes how it stats (its size, link count and mtime). */
export function doGuestFiles(sandboxIp: string, hostname: string, etc: HostEtc, otherRoot = false): GuestFile[] {
  const files: GuestFile[] = [];
  const rc = sandboxResolvConf(etc, otherRoot);
  if (rc !== null) files.push({ path: '/etc/resolv.conf', data: rc, mode: 0o644 });
  // Another tree's hosts file is its own business.
  const hosts = otherRoot || etc.hosts === null ? null : sandboxHosts(etc.hosts, hostname, sandboxIp);
  if (hosts !== null) files.push({ path: '/etc/hosts', data: hosts, mode: 0o644 });
  return files;
}
