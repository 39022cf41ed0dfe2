// --network=sandbox for OCI containers: the netstack takes over the network
// namespace the container was given (made by CNI, containerd, Docker or a
// test, with a veth inside), as gVisor's runsc does, so the guest sees the
// addresses, routes and MACs a runc container would.
//
// runsc does the host-side part, as host root, before the Sentry exists (the
// Sentry lives in a user namespace of its own and could not open sockets in
// a namespace the host's user namespace owns):
//   1. read the namespace's interfaces, addresses and routes (iproute2's JSON
//      output, run inside it with nsenter);
//   2. for each interface that is up, Ethernet, not loopback, with an
//      address: open an AF_PACKET socket in that namespace (native
//      netSocketIn), bound to its index, with PACKET_VNET_HDR (offloaded
//      checksums and GSO super-packets come with a virtio_net_hdr, see
//      netstack/link/vnet.ts) and PACKET_IGNORE_OUTGOING (frames the
//      namespace's own kernel sends are not the Sentry's input; its own
//      frames never come back to the socket that sent them);
//   3. remove the addresses from those interfaces (and with them the routes),
//      so that the host kernel stops answering ARP, TCP and ICMP for them,
//      and turn IPv6 off on them (net.ipv6.conf.IF.disable_ipv6): a router
//      advertisement would otherwise give the host kernel a SLAAC address
//      there again, and it answers NDP for its link-local one. The packet
//      socket sees the frames before any protocol does, so the netstack's
//      own IPv6 (done on the raw frames) is not affected;
//   4. hand the sockets to the Sentry with a NetworkConfig naming them by
//      their fd numbers there (configureNetwork); when the container's
//      resolv.conf names Docker's embedded DNS (127.0.0.11), also a UDP
//      socket connected to it in the namespace, for the Sentry's DNS relay
//      (dns_relay_host.ts, sentry/socket/netstack/dns_relay.ts).
// The Sentry's own network namespace stays private and empty. Without a
// network namespace path in the spec there is nothing to take over: the
// sandbox has loopback only (gVisor gives its sandbox a new, empty namespace
// then, and copies that: loopback only too).

import * as fs from 'node:fs';
import { native } from '../../platform/ptrace/native.js';
import type { NetworkConfig, RouteConfig } from '../../sentry/socket/netstack/stack.js';
import type { Config } from '../config/config.js';
import type { Spec } from '../specutils/spec.js';
import { dockerDnsTarget, openDnsRelaySocket } from './dns_relay_host.js';
import type { DnsTarget } from './dns_relay_host.js';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const ETH_P_ALL = 0x0003;
const SOL_SOCKET = 1;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SOL_PACKET = 263;
const PACKET_VNET_HDR = 15;
const PACKET_IGNORE_OUTGOING = 23;
/** Socket buffers of the packet sockets: the 208 KiB default drops frames at speed (gVisor uses 4 MiB too). */
const SOCKET_BUFFER = 4 << 20;

/** IpAddrInfo / IpLink / IpRoute are the parts of `ip -j addr` / `ip -j route` used. */
export interface IpAddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  scope?: string;
}

export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  link_type?: string;
  address?: string;
  addr_info?: IpAddrInfo[];
}

export interface IpRoute {
  dst: string;
  gateway?: string;
  via?: unknown;
  dev?: string;
  protocol?: string;
  type?: string;
  nexthops?: unknown;
  metric?: number;
  /** family is which query listed it (added by readNetns: a default route names none). */
  family?: 4 | 6;
}

/** TakenLink is one interface the sandbox takes over. */
export interface TakenLink {
  ifindex: number;
  name: string;
  mac: string;
  mtu: number;
  /** addresses the netstack gets ("a/len"; IPv6 link-local ones it derives itself). */
  addresses: string[];
  /** removed: every address removed from the host interface ("a/len"). */
  removed: string[];
}

/** NetnsPlan is what to take from a namespace. */
export interface NetnsPlan {
  links: TakenLink[];
  routes: RouteConfig[];
  /** notes say what was left out and why. */
  notes: string[];
}

function isLinkLocal6(a: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(a);
}

/** planTakeover decides, from `ip -j addr` and `ip -j [-6] route` of the main
 *  table, which interfaces, addresses and routes the sandbox takes. */
export function planTakeover(links: IpLink[], routes: IpRoute[]): NetnsPlan {
  const notes: string[] = [];
  const taken: TakenLink[] = [];
  for (const l of links) {
    const addrs = (l.addr_info ?? []).filter((a) => (a.family === 'inet' || a.family === 'inet6') && a.local);
    if (l.flags.includes('LOOPBACK')) continue; // the netstack has its own loopback
    if (!l.flags.includes('UP')) {
      notes.push(`${l.ifname}: down, left alone`);
      continue;
    }
    if (l.link_type !== 'ether' || !l.address) {
      notes.push(`${l.ifname}: link type ${l.link_type ?? 'unknown'} is not Ethernet, left alone`);
      continue;
    }
    if (addrs.length === 0) {
      notes.push(`${l.ifname}: no address, left alone`);
      continue;
    }
    taken.push({
      ifindex: l.ifindex, name: l.ifname, mac: l.address.toLowerCase(), mtu: l.mtu,
      addresses: addrs.filter((a) => !(a.family === 'inet6' && isLinkLocal6(a.local))).map((a) => `${a.local}/${a.prefixlen}`),
      removed: addrs.map((a) => `${a.local}/${a.prefixlen}`),
    });
  }
  const byName = new Set(taken.map((l) => l.name));
  const out: RouteConfig[] = [];
  const haveDefault = new Set<string>();
  for (const r of routes) {
    if (!r.dev || !byName.has(r.dev)) continue;
    // Connected routes come back with the addresses (Stack.addAddress).
    if (r.protocol === 'kernel') continue;
    if (r.type !== undefined && r.type !== 'unicast') {
      notes.push(`route ${r.dst} (${r.type}): not supported, left out`);
      continue;
    }
    if (r.nexthops !== undefined || r.via !== undefined) {
      notes.push(`route ${r.dst}: multipath or cross-family gateway not supported, left out`);
      continue;
    }
    const v6 = r.family === 6 || (r.family === undefined && (r.gateway ?? r.dst).includes(':'));
    let dst = r.dst;
    if (dst === 'default') {
      dst = v6 ? '::/0' : '0.0.0.0/0';
      // Several defaults (metrics): the first listed is the one in use.
      if (haveDefault.has(dst)) {
        notes.push(`route default via ${r.gateway ?? '(on-link)'} dev ${r.dev}: a second default route, left out`);
        continue;
      }
      haveDefault.add(dst);
    }
    out.push(r.gateway ? { dst, gateway: r.gateway, dev: r.dev } : { dst, dev: r.dev });
  }
  return { links: taken, routes: out, notes };
}

/** specNetnsPath is the path of the spec's network namespace: null when the
 *  spec asks for none, '' when it asks for a new one (nothing to take over). */
export function specNetnsPath(spec: Spec): string | null {
  const ns = spec.linux?.namespaces?.find((n) => n.type === 'network');
  if (!ns) return null;
  return ns.path ?? '';
}

/** nsIdentity names a namespace file by device and inode (two paths to one
 *  namespace, /proc/PID/ns/net and a bind mount of it, share them); null
 *  when it cannot be read. */
function nsIdentity(p: string): string | null {
  try {
    const st = fs.statSync(p);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/** isHostNetns reports whether nsPath is runsc's own network namespace or
 *  init's: the host's, which Docker's `--network host` names
 *  (/var/run/docker/netns/default). Taking that over would strip the host's
 *  own interfaces of their addresses. identity is for tests. */
export function isHostNetns(nsPath: string, identity: (p: string) => string | null = nsIdentity): boolean {
  const id = identity(nsPath);
  if (id === null) return false;
  return ['/proc/self/ns/net', '/proc/1/ns/net'].some((h) => identity(h) === id);
}

/** containerNetworkMode is the network mode a container runs with under
 *  --network=mode: 'host' when the spec joins the host's network namespace
 *  (Docker's `--network host`: runc's container shares the host's network,
 *  so the sandbox uses host sockets, as runsc --network=host does), else
 *  mode. `runsc create` launches the sandbox with it. */
export function containerNetworkMode(spec: Spec, mode: string, identity?: (p: string) => string | null): string {
  if (mode !== 'sandbox') return mode;
  const p = specNetnsPath(spec);
  return p && isHostNetns(p, identity) ? 'host' : mode;
}

/** sockaddrLl encodes a struct sockaddr_ll for bind: ETH_P_ALL on ifindex. */
export function sockaddrLl(ifindex: number): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_PACKET, true);
  v.setUint16(2, ETH_P_ALL, false); // network byte order
  v.setInt32(4, ifindex, true);
  return b;
}

/** debugLogger returns where runsc's own --debug lines go: the --debug-log
 *  file, else stderr; nothing without --debug. */
export function debugLogger(conf: Pick<Config, 'debug' | 'debugLog'>): (msg: string) => void {
  if (!conf.debug) return () => {};
  return (msg) => {
    const line = `D${new Date().toISOString().slice(11, 23)} ${msg}\n`;
    try {
      if (!conf.debugLog) {
        fs.writeSync(2, line);
        return;
      }
      const fd = fs.openSync(conf.debugLog, 'a');
      try {
        fs.writeSync(fd, line);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // a log line is never worth failing for
    }
  };
}

/** findTool returns the first of names found in the system's binary directories. */
export function findTool(names: string[]): string {
  for (const n of names) {
    for (const d of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (fs.existsSync(`${d}/${n}`)) return `${d}/${n}`;
  }
  throw new Error(`--network=sandbox needs ${names[0]} on the host`);
}

/** run runs argv without a shell (input, if any, as its stdin); returns its
 *  stdout, failing with its stderr. */
export function run(argv: string[], input?: string): string {
  const stdin = input === undefined ? -1 : memfdWith(input);
  try {
    return runWith(argv, stdin);
  } finally {
    if (stdin >= 0) fs.closeSync(stdin);
  }
}

/** memfdWith returns a memfd holding text, at offset 0. */
function memfdWith(text: string): number {
  const MFD_CLOEXEC = 1;
  const fd = native.memfdCreate('tsvisor-input', MFD_CLOEXEC);
  if (fd < 0) throw new Error(`memfd_create: errno ${-fd}`);
  fs.writeSync(fd, text, 0, 'utf8'); // pwrite: the offset stays 0 for the child
  return fd;
}

function runWith(argv: string[], stdin: number): string {
  const out = new Int32Array(2);
  const err = new Int32Array(2);
  const AF_UNIX = 1;
  const SOCK_STREAM_CLOEXEC = 1 | 0o2000000;
  if (native.socketpair(AF_UNIX, SOCK_STREAM_CLOEXEC, out) < 0) throw new Error('socketpair failed');
  if (native.socketpair(AF_UNIX, SOCK_STREAM_CLOEXEC, err) < 0) {
    fs.closeSync(out[0]);
    fs.closeSync(out[1]);
    throw new Error('socketpair failed');
  }
  const pid = native.spawn(argv[0], argv, ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'LC_ALL=C'], Int32Array.of(stdin, out[1], err[1]), 0);
  fs.closeSync(out[1]);
  fs.closeSync(err[1]);
  const read = (fd: number): string => {
    const chunks: Buffer[] = [];
    const buf = Buffer.allocUnsafe(65536);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EINTR' || (e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        break;
      }
      if (n <= 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    fs.closeSync(fd);
    return Buffer.concat(chunks).toString('utf8');
  };
  // Small outputs: stderr is read after stdout's EOF without deadlock (the
  // socket buffers hold far more than ip prints on error).
  const stdout = read(out[0]);
  const stderr = read(err[0]);
  if (pid < 0) throw new Error(`${argv.join(' ')}: errno ${-pid}`);
  const st = new Int32Array(1);
  let r: number;
  do r = native.waitpid(pid, 0, st); while (r === -4 /* EINTR */);
  if (r < 0 || st[0] !== 0) throw new Error(`${argv.join(' ')} failed: ${stderr.trim() || `status ${st[0]}`}`);
  return stdout;
}

/** sysctlIn reads (value undefined) or sets a sysctl inside the namespace at nsPath. Names use '/' (interface names may hold dots). */
function sysctlIn(nsPath: string, name: string, value?: string): string {
  const tool = findTool(['sysctl']);
  const args = value === undefined ? ['-n', name] : ['-q', '-w', `${name}=${value}`];
  return run([findTool(['nsenter']), `--net=${nsPath}`, '--', tool, ...args]).trim();
}

/** ipIn runs iproute2 inside the namespace at nsPath. */
function ipIn(nsPath: string, args: string[]): string {
  return run([findTool(['nsenter']), `--net=${nsPath}`, '--', findTool(['ip']), ...args]);
}

function parseJson<T>(text: string, what: string): T[] {
  const t = text.trim();
  if (!t) return [];
  const v = JSON.parse(t) as unknown;
  if (!Array.isArray(v)) throw new Error(`${what}: unexpected output`);
  return v as T[];
}

/** readNetns reads a namespace's interfaces and main-table routes (v4 and v6). */
export function readNetns(nsPath: string): { links: IpLink[]; routes: IpRoute[] } {
  const links = parseJson<IpLink>(ipIn(nsPath, ['-j', 'addr', 'show']), 'ip addr');
  const routes = [
    ...parseJson<IpRoute>(ipIn(nsPath, ['-j', '-4', 'route', 'show', 'table', 'main']), 'ip route').map((r) => ({ ...r, family: 4 as const })),
    ...parseJson<IpRoute>(ipIn(nsPath, ['-j', '-6', 'route', 'show', 'table', 'main']), 'ip -6 route').map((r) => ({ ...r, family: 6 as const })),
  ];
  return { links, routes };
}

function setIntOpt(fd: number, level: number, name: number, v: number): number {
  return native.netSetsockopt(fd, level, name, new Uint8Array(Int32Array.of(v).buffer));
}

/** openPacketSocket opens the frame socket of interface ifindex inside the namespace nsFd. */
export function openPacketSocket(nsFd: number, ifindex: number): number {
  // Protocol 0 until bind: no frame of any other interface is queued meanwhile.
  const fd = native.netSocketIn(nsFd, AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) throw new Error(`AF_PACKET socket in the container's network namespace: errno ${-fd}`);
  try {
    let r = setIntOpt(fd, SOL_PACKET, PACKET_VNET_HDR, 1);
    if (r < 0) throw new Error(`PACKET_VNET_HDR: errno ${-r}`);
    // Linux >= 4.20. Without it the socket would also read what the namespace's own kernel sends.
    setIntOpt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
    if (setIntOpt(fd, SOL_SOCKET, SO_RCVBUFFORCE, SOCKET_BUFFER) < 0) setIntOpt(fd, SOL_SOCKET, SO_RCVBUF, SOCKET_BUFFER);
    if (setIntOpt(fd, SOL_SOCKET, SO_SNDBUFFORCE, SOCKET_BUFFER) < 0) setIntOpt(fd, SOL_SOCKET, SO_SNDBUF, SOCKET_BUFFER);
    r = native.netBind(fd, sockaddrLl(ifindex));
    if (r < 0) throw new Error(`binding to interface ${ifindex}: errno ${-r}`);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

/** TakenNetwork is a namespace's network, taken over for one sandbox. */
export interface TakenNetwork {
  plan: NetnsPlan;
  /** fds are the packet sockets, one per plan.links entry (in runsc's fd table),
   *  then the DNS relay's socket when there is one (dns_relay_host.ts). */
  fds: number[];
  /** sentryConfig names the sockets as the Sentry will see them: fds[i] as firstFd + i. */
  sentryConfig(firstFd: number): NetworkConfig;
  /** closeHostFds closes runsc's copies once the sandbox has its own. */
  closeHostFds(): void;
  /** restore gives the namespace its addresses and routes back (the sandbox failed to start). */
  restore(): void;
}

/** takeOverNetns takes over the interfaces of the namespace at nsPath (needs
 *  host root). debug gets what was left out (plan.notes) and why. With dns,
 *  a socket connected to that server in the namespace goes last in fds, for
 *  the Sentry's DNS relay. */
export function takeOverNetns(nsPath: string, debug: (msg: string) => void = () => {}, dns: DnsTarget | null = null): TakenNetwork {
  // Never the host's own interfaces (containerNetworkMode gives such a container host networking).
  if (isHostNetns(nsPath)) throw new Error('is the host\'s own network namespace: not taken over (the container needs --network=host)');
  const nsFd = fs.openSync(nsPath, fs.constants.O_RDONLY);
  const fds: number[] = [];
  let plan: NetnsPlan;
  let dnsFd = -1;
  try {
    const { links, routes } = readNetns(nsPath);
    plan = planTakeover(links, routes);
    for (const n of plan.notes) debug(`network namespace ${nsPath}: ${n}`);
    for (const l of plan.links) debug(`network namespace ${nsPath}: taking over ${l.name} (${l.addresses.join(', ') || 'no address'})`);
    for (const l of plan.links) fds.push(openPacketSocket(nsFd, l.ifindex));
    if (dns && plan.links.length > 0) {
      // Without it the container runs, as before, with a nameserver nothing answers.
      try {
        dnsFd = openDnsRelaySocket(nsFd, dns);
        fds.push(dnsFd);
        debug(`network namespace ${nsPath}: relaying DNS to ${dns.address}:${dns.port} (udp)`);
      } catch (e) {
        debug(`network namespace ${nsPath}: no DNS relay (${(e as Error).message})`);
      }
    }
  } catch (e) {
    for (const f of fds) fs.closeSync(f);
    throw e;
  } finally {
    fs.closeSync(nsFd);
  }
  // The disable_ipv6 values the takeover changed, by interface, for restore.
  const ipv6Was = new Map<string, string>();
  const restore = (): void => {
    for (const [name, was] of ipv6Was) {
      try {
        sysctlIn(nsPath, `net/ipv6/conf/${name}/disable_ipv6`, was);
      } catch {
        // the namespace is gone
      }
    }
    for (const l of plan.links) {
      for (const a of l.removed) {
        try {
          ipIn(nsPath, ['addr', 'add', a, 'dev', l.name]);
        } catch {
          // already there, or the namespace is gone
        }
      }
    }
    for (const r of plan.routes) {
      try {
        ipIn(nsPath, ['route', 'add', r.dst, ...(r.gateway ? ['via', r.gateway] : []), 'dev', r.dev]);
      } catch {
        // as above
      }
    }
  };
  try {
    // Scraped first: removing the addresses removes the routes through them.
    for (const l of plan.links) ipIn(nsPath, ['addr', 'flush', 'dev', l.name]);
    for (const l of plan.links) disableIpv6(nsPath, l.name, ipv6Was, debug);
  } catch (e) {
    restore();
    for (const f of fds) fs.closeSync(f);
    throw e;
  }
  let open = true;
  return {
    plan, fds,
    sentryConfig: (firstFd) => ({
      interfaces: plan.links.map((l, i) => ({ fd: firstFd + i, name: l.name, mac: l.mac, mtu: l.mtu, addresses: l.addresses, vnetHdr: true })),
      routes: plan.routes,
      ...(dns && dnsFd >= 0 ? { dnsRelay: { fd: firstFd + plan.links.length, address: dns.address, port: dns.port, fallback: dns.fallback } } : {}),
    }),
    closeHostFds: () => {
      if (open) for (const f of fds) fs.closeSync(f);
      open = false;
    },
    restore,
  };
}

/** disableIpv6 turns IPv6 off on the host side of a taken interface,
 *  remembering the old setting in was. When it cannot (a kernel without
 *  IPv6, no sysctl tool, a read-only /proc/sys) the takeover goes on. */
function disableIpv6(nsPath: string, ifname: string, was: Map<string, string>, debug: (msg: string) => void): void {
  const name = `net/ipv6/conf/${ifname}/disable_ipv6`;
  let old: string;
  try {
    old = sysctlIn(nsPath, name);
  } catch (e) {
    debug(`network namespace ${nsPath}: ${ifname}: IPv6 left as it is (${(e as Error).message})`);
    return;
  }
  if (old === '1') return;
  try {
    sysctlIn(nsPath, name, '1');
  } catch (e) {
    // A read-only /proc/sys (runsc itself in a container): the sandbox works, exposed to RAs as before.
    debug(`network namespace ${nsPath}: ${ifname}: IPv6 left on (${(e as Error).message})`);
    return;
  }
  was.set(ifname, old);
}

/** takeContainerNetwork is what `runsc create` calls before launching the
 *  sandbox: with --network=sandbox and a spec naming a network namespace
 *  path, that namespace's network, taken over; otherwise null (loopback only;
 *  --network=host and none need nothing). Throws when the namespace cannot
 *  be taken over: the container would not have the network it asked for. */
export function takeContainerNetwork(spec: Spec, network: string, debug?: (msg: string) => void): TakenNetwork | null {
  if (network !== 'sandbox') return null;
  const p = specNetnsPath(spec);
  if (!p) return null;
  try {
    return takeOverNetns(p, debug, dockerDnsTarget(spec));
  } catch (e) {
    throw new Error(`network namespace ${p}: ${(e as Error).message}`);
  }
}

/** takeHookedNetwork is for specs that ask for a new network namespace and
 *  have hooks that fill it: Docker 20.10's prestart hook (libnetwork-setkey)
 *  moves the container's veth into the sandbox process's own namespace
 *  (/proc/PID/ns/net). `runsc create` calls it once those hooks ran and sends
 *  the sockets to the sandbox (control op 'network', fds named 0..n-1).
 *  Null when there is nothing to take. */
export function takeHookedNetwork(spec: Spec, network: string, sandboxPid: number, debug?: (msg: string) => void): TakenNetwork | null {
  if (network !== 'sandbox' || specNetnsPath(spec) !== '') return null;
  if (!spec.hooks?.prestart?.length && !spec.hooks?.createRuntime?.length) return null;
  // The hooks have written the container's resolv.conf by now (Docker's names 127.0.0.11).
  const t = takeOverNetns(`/proc/${sandboxPid}/ns/net`, debug, dockerDnsTarget(spec));
  if (t.plan.links.length === 0) {
    t.closeHostFds();
    return null;
  }
  return t;
}
