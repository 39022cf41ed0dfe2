// The sandbox's network stack: one netstack Stack per Kernel, with a loopback
// NIC carrying 127.0.0.1/8 and ::1/128. In --network=sandbox the boot code
// calls configureNetwork before the first process starts, to add interfaces
// whose frames go through host fds (a TAP device, an AF_PACKET socket) with
// the addresses and routes runsc chose or took over from the container's
// network namespace. --network=none keeps loopback only.

import type { Kernel } from '../../kernel/kernel.js';
import {
  EthernetEndpoint, FdFrameLink, LoopbackEndpoint, Stack, ipv4, ipv6, linkLocalFromMac, mac, maskAddress, realClock,
} from '../../../netstack/index.js';
import type { Address } from '../../../netstack/index.js';
import { native } from '../../../platform/ptrace/native.js';
import { startDnsRelay } from './dns_relay.js';
import type { DnsRelayConfig } from './dns_relay.js';

const stacks = new WeakMap<Kernel, Stack>();
const FIONBIO = 0x5421;
const nbOn = new Uint8Array(Int32Array.of(1).buffer);
const nbOff = new Uint8Array(4);

/** setNonblock flips O_NONBLOCK on a host fd (a link's frame fd). */
function setNonblock(fd: number, on: boolean): boolean {
  return native.ioctl(fd, FIONBIO, on ? nbOn : nbOff, 0) >= 0;
}

/** newLoopbackStack builds a stack with only the loopback interface. */
export function newLoopbackStack(): Stack {
  const s = new Stack({ clock: realClock });
  const lo = s.createNIC(new LoopbackEndpoint());
  s.addAddress(lo.id, ipv4('127.0.0.1'), 8);
  s.addAddress(lo.id, ipv6('::1'), 128);
  return s;
}

/** stackFor returns k's network stack, creating it on first use. */
export function stackFor(k: Kernel): Stack {
  let s = stacks.get(k);
  if (!s) {
    s = newLoopbackStack();
    stacks.set(k, s);
  }
  return s;
}

/** existingStack returns k's stack if one was made (procfs need not create it). */
export function existingStack(k: Kernel): Stack | null {
  return stacks.get(k) ?? null;
}

/** InterfaceConfig describes one Ethernet interface of the sandbox. */
export interface InterfaceConfig {
  /** fd is a host fd carrying one frame per read/write (TAP with IFF_NO_PI, or bound AF_PACKET). */
  fd: number;
  /** name is the guest's name for it (eth0). */
  name: string;
  /** mac is "aa:bb:cc:dd:ee:ff". */
  mac: string;
  mtu: number;
  /** addresses are "a.b.c.d/len" or "v6/len". */
  addresses: string[];
  /** vnetHdr: fd is an AF_PACKET socket with PACKET_VNET_HDR (a virtio_net_hdr before each frame). */
  vnetHdr?: boolean;
}

/** RouteConfig is one route: dst "0.0.0.0/0" (default), via a gateway or on-link. */
export interface RouteConfig {
  dst: string;
  gateway?: string;
  dev: string;
}

/** NetworkConfig is what runsc hands the Sentry for --network=sandbox. */
export interface NetworkConfig {
  interfaces: InterfaceConfig[];
  routes: RouteConfig[];
  /** dnsRelay: Docker's embedded DNS address served through a host socket (dns_relay.ts). */
  dnsRelay?: DnsRelayConfig;
}

function parseAddr(s: string): Address {
  return s.includes(':') ? ipv6(s) : ipv4(s);
}

function parseCidr(s: string): { addr: Address; prefixLen: number } {
  const [a, len] = s.split('/');
  const addr = parseAddr(a);
  const prefixLen = len === undefined ? addr.length * 8 : Number(len);
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > addr.length * 8) throw new Error(`bad prefix in ${s}`);
  return { addr, prefixLen };
}

/** configureNetwork gives k's stack the interfaces and routes of cfg. Call it once at
 *  boot, before any guest socket exists; the links start reading their fds at once. */
export function configureNetwork(k: Kernel, cfg: NetworkConfig): Stack {
  const s = stackFor(k);
  for (const ifc of cfg.interfaces) {
    const hw = mac(ifc.mac);
    const link = new EthernetEndpoint(new FdFrameLink(ifc.fd, ifc.mtu, setNonblock, { vnetHdr: ifc.vnetHdr === true }), hw);
    const nic = s.createNIC(link, { name: ifc.name });
    for (const a of ifc.addresses) {
      const p = parseCidr(a);
      s.addAddress(nic.id, p.addr, p.prefixLen);
    }
    // Linux gives every Ethernet interface its EUI-64 link-local address.
    s.addAddress(nic.id, linkLocalFromMac(hw), 64);
  }
  for (const r of cfg.routes) {
    const nic = s.nicByName(r.dev);
    if (!nic) throw new Error(`route ${r.dst}: no interface ${r.dev}`);
    const d = parseCidr(r.dst);
    s.addRoute({ destination: maskAddress(d.addr, d.prefixLen), prefixLen: d.prefixLen, gateway: r.gateway ? parseAddr(r.gateway) : '', nic: nic.id });
  }
  if (cfg.dnsRelay) startDnsRelay(k, s, cfg.dnsRelay);
  return s;
}

/** encodeNetworkConfig / decodeNetworkConfig carry a NetworkConfig across exec (argv or env). */
export function encodeNetworkConfig(cfg: NetworkConfig): string {
  return JSON.stringify(cfg);
}

export function decodeNetworkConfig(s: string): NetworkConfig {
  const v = JSON.parse(s) as NetworkConfig;
  if (!Array.isArray(v.interfaces) || !Array.isArray(v.routes)) throw new Error('bad network config');
  return v;
}
