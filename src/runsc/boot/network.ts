// runsc's side of --network=sandbox for `runsc do`: a link between the host
// and the sandbox's netstack. gVisor's `do` makes a veth pair and takes over
// the sandbox end with an AF_PACKET socket; here the link is a TAP device made
// in the host's network namespace, which needs nothing but /dev/net/tun and an
// ioctl: the host end is the TAP interface itself (it gets the host address,
// e.g. 10.211.N.1/24), and the Sentry reads and writes the frames on the TAP
// fd, so its netstack is the only TCP/IP stack on the sandbox's side. The TAP
// device is not persistent: it disappears with the last fd (the Sentry's).
//
// Call order for the launcher (all in runsc, before the Sentry starts; the
// Sentry's own network namespace does not matter, the fd is bound already):
//   const net = setupDoNetwork({ ip: values.ip });          // host root only
//   launch({ ..., fds: [..., net.fd] });                      // fd k in the child
//   // Sentry, at boot before the first process:
//   configureNetwork(kernel, net.sentryConfig(k));
//   net.closeHostFd();                                         // runsc's copy, once the Sentry has it
// In-process (`do` today) the same fd is used directly: sentryConfig(net.fd).

import { closeSync, existsSync, openSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { native } from '../../platform/ptrace/native.js';
import type { Kernel } from '../../sentry/kernel/kernel.js';
import type { NetworkConfig } from '../../sentry/socket/netstack/stack.js';
import { configureNetwork } from '../../sentry/socket/netstack/stack.js';

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
 *  a TAP device tsvN with the host address, up. ip is the sandbox's address ('' picks one). */
export function setupDoNetwork(opts: { ip?: string } = {}): DoNetwork {
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
  const guestMac = randomMac();
  let open = true;
  return {
    fd, hostIf, hostIp, sandboxIp, prefixLen: 24,
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

/** attachDoNetwork is the in-process form (the Sentry inside runsc, as `do` runs today): the TAP
 *  link attached to k's stack. Without the privileges for it, the sandbox keeps loopback only
 *  and warn explains. Returns the link, or null. */
export function attachDoNetwork(k: Kernel, ip: string, warn: (msg: string) => void): DoNetwork | null {
  let net: DoNetwork;
  try {
    net = setupDoNetwork({ ip });
  } catch (e) {
    warn(`--network=sandbox: cannot make the host link (${(e as Error).message}); the sandbox has loopback only`);
    return null;
  }
  configureNetwork(k, net.sentryConfig(net.fd));
  return net;
}
