import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doGuestFiles, pickSubnet, sandboxHosts, sandboxResolvConf } from './network.js';

const STUB = `# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).
nameserver 127.0.0.53
options edns0 trust-ad
search corp.example
`;
const UPSTREAM = `# This is /run/systemd/resolve/resolv.conf managed by man:systemd-resolved(8).
nameserver 192.168.1.1
nameserver fe80::1%eth0
search corp.example
`;

test('a resolv.conf whose resolvers the sandbox reaches is the host\'s, as it is', () => {
  assert.equal(sandboxResolvConf({ resolvConf: 'nameserver 10.255.255.53\n', upstream: null }), null);
  assert.equal(sandboxResolvConf({ resolvConf: 'search x\nnameserver 1.1.1.1\nnameserver 9.9.9.9\n', upstream: UPSTREAM }), null);
});

test('systemd-resolved\'s stub resolver is replaced by its upstream servers, keeping search and options', () => {
  assert.equal(sandboxResolvConf({ resolvConf: STUB, upstream: UPSTREAM }),
    '# runsc do: the host\'s resolvers are local: its upstream servers (systemd-resolved)\n' +
    'options edns0 trust-ad\nsearch corp.example\nnameserver 192.168.1.1\n');
});

test('loopback or IPv6 resolvers only, and no upstream list: public resolvers', () => {
  const out = sandboxResolvConf({ resolvConf: 'nameserver 127.0.0.1\nnameserver ::1\n', upstream: null });
  assert.equal(out, '# runsc do: the host\'s resolvers are not reachable from the sandbox: public ones\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  // No nameserver line at all means the local one to the resolver.
  assert.match(sandboxResolvConf({ resolvConf: 'search x\n', upstream: null }) ?? '', /^search x\nnameserver 8\.8\.8\.8$/m);
  assert.match(sandboxResolvConf({ resolvConf: null, upstream: null }) ?? '', /nameserver 8\.8\.8\.8\n/);
});

test('unreachable resolvers among reachable ones are left out', () => {
  assert.equal(sandboxResolvConf({ resolvConf: 'nameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver 2001:db8::1\n', upstream: null }),
    '# runsc do: unreachable resolvers of the host left out\nnameserver 10.0.0.1\n');
});

test('doGuestFiles: nothing when the host\'s files serve; resolv.conf when its resolvers are local', () => {
  const hosts = '127.0.0.1\tlocalhost\n127.0.1.1\tbox.example.org box\n';
  assert.deepEqual(doGuestFiles('10.211.3.2', 'box', { resolvConf: 'nameserver 10.1.1.1\n', upstream: null, hosts }), []);
  const withDns = doGuestFiles('10.211.3.2', 'box', { resolvConf: STUB, upstream: null, hosts });
  assert.deepEqual(withDns.map((f) => f.path), ['/etc/resolv.conf']);
  // Another root: its resolv.conf says nothing of this host's network; the host's is used. Its hosts is its own.
  const other = doGuestFiles('10.211.3.2', 'box', { resolvConf: 'nameserver 10.1.1.1\n', upstream: null, hosts: '10.0.0.9 box\n' }, true);
  assert.deepEqual(other, [{ path: '/etc/resolv.conf', data: 'nameserver 10.1.1.1\n', mode: 0o644 }]);
});

test('sandboxHosts gives the hostname the sandbox\'s address where the host\'s names another', () => {
  assert.equal(sandboxHosts('127.0.0.1 localhost\n127.0.0.1 vm\n::1 localhost\n', 'vm', '10.211.3.2'), null);
  assert.equal(sandboxHosts('127.0.0.1 localhost\n192.168.1.5 other\n', 'vm', '10.211.3.2'), null);
  assert.equal(sandboxHosts('127.0.0.1 localhost\n# host\n192.168.1.5  VM.lan vm # me\nfd00::5 vm\n10.0.0.1 gw\n', 'vm', '10.211.3.2'),
    '127.0.0.1 localhost\n# host\n10.211.3.2\tVM.lan\tvm\n10.0.0.1 gw\n');
  // A bare docker-like hosts file.
  assert.equal(sandboxHosts('172.17.0.2\tabc123\n', 'abc123', '10.211.3.2'), '10.211.3.2\tabc123\n');
});

test('pickSubnet skips the 10.211.N.0/24 subnets in use', () => {
  assert.equal(pickSubnet(new Set(['10.211.5.1', '192.168.0.1']), 4), 6);
  assert.equal(pickSubnet(new Set(), 253), 254);
  assert.equal(pickSubnet(new Set(), 254), 1);
});
