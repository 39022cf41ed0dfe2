import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerNetworkMode, isHostNetns, planTakeover, sockaddrLl, specNetnsPath } from './netns.js';
import type { IpLink, IpRoute } from './netns.js';
import type { Spec } from '../specutils/spec.js';

// `ip -j addr show` and `ip -j -4/-6 route show table main` of a namespace
// with a veth (iproute2 6.x), trimmed of fields planTakeover ignores.
const LINKS: IpLink[] = [
  { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, link_type: 'loopback', address: '00:00:00:00:00:00',
    addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }, { family: 'inet6', local: '::1', prefixlen: 128, scope: 'host' }] },
  { ifindex: 2, ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, link_type: 'ether', address: 'C2:CE:CD:F1:A9:D0',
    addr_info: [
      { family: 'inet', local: '10.77.0.2', prefixlen: 24, scope: 'global' },
      { family: 'inet6', local: 'fd00:77::2', prefixlen: 64, scope: 'global' },
      { family: 'inet6', local: 'fe80::c0ce:cdff:fef1:a9d0', prefixlen: 64, scope: 'link' },
    ] },
  { ifindex: 3, ifname: 'eth1', flags: ['BROADCAST', 'MULTICAST'], mtu: 1500, link_type: 'ether', address: '02:00:00:00:00:01',
    addr_info: [{ family: 'inet', local: '10.9.0.2', prefixlen: 24 }] },
  { ifindex: 4, ifname: 'eth2', flags: ['BROADCAST', 'MULTICAST', 'UP'], mtu: 9000, link_type: 'ether', address: '02:00:00:00:00:02', addr_info: [] },
  { ifindex: 5, ifname: 'wg0', flags: ['POINTOPOINT', 'NOARP', 'UP'], mtu: 1420, link_type: 'none',
    addr_info: [{ family: 'inet', local: '10.8.0.2', prefixlen: 32 }] },
];
const ROUTES: IpRoute[] = [
  { dst: 'default', gateway: '10.77.0.1', dev: 'eth0', family: 4 },
  { dst: 'default', gateway: '10.77.0.254', dev: 'eth0', metric: 100, family: 4 },
  { dst: '10.77.0.0/24', dev: 'eth0', protocol: 'kernel', family: 4 },
  { dst: '192.168.5.0/24', gateway: '10.77.0.3', dev: 'eth0', protocol: 'static', family: 4 },
  { dst: '10.200.0.7', dev: 'eth0', family: 4 },
  { dst: '10.8.0.0/24', dev: 'wg0', family: 4 },
  { dst: 'fd00:77::/64', dev: 'eth0', protocol: 'kernel', metric: 256, family: 6 },
  { dst: 'fe80::/64', dev: 'eth0', protocol: 'kernel', metric: 256, family: 6 },
  { dst: 'default', dev: 'eth0', metric: 1024, family: 6 },
  { dst: '10.50.0.0/16', dev: 'eth0', nexthops: [{}], family: 4 },
  { dst: '10.60.0.0/16', dev: 'eth0', type: 'blackhole', family: 4 },
];

test('planTakeover takes up Ethernet interfaces with addresses, not loopback, down or other links', () => {
  const p = planTakeover(LINKS, ROUTES);
  assert.deepEqual(p.links, [{
    ifindex: 2, name: 'eth0', mac: 'c2:ce:cd:f1:a9:d0', mtu: 1500,
    // The netstack derives the same EUI-64 link-local address itself.
    addresses: ['10.77.0.2/24', 'fd00:77::2/64'],
    removed: ['10.77.0.2/24', 'fd00:77::2/64', 'fe80::c0ce:cdff:fef1:a9d0/64'],
  }]);
  assert.ok(p.notes.some((n) => n.startsWith('eth1: down')));
  assert.ok(p.notes.some((n) => n.startsWith('eth2: no address')));
  assert.ok(p.notes.some((n) => n.startsWith('wg0: link type none')));
});

test('planTakeover keeps static and default routes of taken interfaces, not connected or unsupported ones', () => {
  const p = planTakeover(LINKS, ROUTES);
  assert.deepEqual(p.routes, [
    { dst: '0.0.0.0/0', gateway: '10.77.0.1', dev: 'eth0' },
    { dst: '192.168.5.0/24', gateway: '10.77.0.3', dev: 'eth0' },
    { dst: '10.200.0.7', dev: 'eth0' },
    { dst: '::/0', dev: 'eth0' },
  ]);
  assert.ok(p.notes.some((n) => n.includes('10.77.0.254') && n.includes('second default')));
  assert.ok(p.notes.some((n) => n.includes('10.50.0.0/16')));
  assert.ok(p.notes.some((n) => n.includes('10.60.0.0/16') && n.includes('blackhole')));
});

test('planTakeover of an empty namespace takes nothing', () => {
  const p = planTakeover([LINKS[0]], []);
  assert.deepEqual(p.links, []);
  assert.deepEqual(p.routes, []);
});

test('specNetnsPath: none, new, or a path', () => {
  const spec = (ns?: { type: string; path?: string }[]): Spec => ({ ociVersion: '1.0.2', linux: { namespaces: ns } }) as Spec;
  assert.equal(specNetnsPath(spec(undefined)), null);
  assert.equal(specNetnsPath(spec([{ type: 'pid' }])), null);
  assert.equal(specNetnsPath(spec([{ type: 'network' }])), '');
  assert.equal(specNetnsPath(spec([{ type: 'network', path: '/var/run/netns/x' }])), '/var/run/netns/x');
});

test('sockaddrLl encodes AF_PACKET, ETH_P_ALL in network order and the interface index', () => {
  assert.deepEqual([...sockaddrLl(0x0102)], [17, 0, 0, 3, 2, 1, 0, 0, ...new Array<number>(12).fill(0)]);
});

test('a spec naming the host\'s network namespace (docker --network host) gets host networking, never a takeover', () => {
  const ids: Record<string, string> = { '/proc/self/ns/net': '4:1', '/proc/1/ns/net': '4:1', '/var/run/docker/netns/default': '4:1', '/run/netns/c1': '4:2' };
  const identity = (p: string): string | null => ids[p] ?? null;
  const withNs = (path?: string): Spec => ({ ociVersion: '1.0.2', linux: { namespaces: [{ type: 'network', ...(path ? { path } : {}) }] } }) as Spec;
  assert.equal(isHostNetns('/var/run/docker/netns/default', identity), true);
  assert.equal(isHostNetns('/run/netns/c1', identity), false);
  assert.equal(isHostNetns('/gone', identity), false);
  assert.equal(containerNetworkMode(withNs('/var/run/docker/netns/default'), 'sandbox', identity), 'host');
  assert.equal(containerNetworkMode(withNs('/run/netns/c1'), 'sandbox', identity), 'sandbox');
  assert.equal(containerNetworkMode(withNs(), 'sandbox', identity), 'sandbox');
  assert.equal(containerNetworkMode(withNs('/var/run/docker/netns/default'), 'none', identity), 'none');
  // The real identities: this process's own namespace is the host's to it.
  assert.equal(isHostNetns('/proc/self/ns/net'), true);
});
