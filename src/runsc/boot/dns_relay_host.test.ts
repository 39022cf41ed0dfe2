import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dockerDnsTarget, nameservers, resolvConfRefresh, resolvConfSource, sockaddrIn, upstreamServers } from './dns_relay_host.js';
import type { Spec } from '../specutils/spec.js';

test('nameservers reads every nameserver line', () => {
  assert.deepEqual(nameservers('# comment\nnameserver 127.0.0.11\noptions ndots:0\n  nameserver ::1\nsearch x\n'), ['127.0.0.11', '::1']);
  assert.deepEqual(nameservers('options ndots:0\n'), []);
});

test('sockaddrIn is a struct sockaddr_in in network byte order', () => {
  assert.deepEqual([...sockaddrIn('127.0.0.11', 53)], [2, 0, 0, 53, 127, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.throws(() => sockaddrIn('127.0.0', 53));
});

test('the relay is asked for only when the bound resolv.conf names 127.0.0.11', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-dns-'));
  try {
    const f = path.join(dir, 'resolv.conf');
    const spec = { ociVersion: '1.0.2', mounts: [
      { destination: '/etc/resolv.conf', type: 'bind', source: '/nonexistent', options: ['rbind'] },
      { destination: '/etc//resolv.conf', type: 'bind', source: f, options: ['rbind'] },
    ] } as unknown as Spec;
    assert.equal(resolvConfSource(spec), f, 'the last mount there wins');
    fs.writeFileSync(f, 'nameserver 10.0.0.1\n');
    assert.equal(dockerDnsTarget(spec), null);
    fs.writeFileSync(f, 'nameserver 127.0.0.11\noptions ndots:0\n');
    assert.deepEqual(dockerDnsTarget(spec), { address: '127.0.0.11', port: 53, fallback: upstreamServers() });
    assert.deepEqual(resolvConfRefresh(spec), { path: '/etc/resolv.conf', data: 'nameserver 127.0.0.11\noptions ndots:0\n' });
    assert.equal(dockerDnsTarget({ ociVersion: '1.0.2' } as unknown as Spec), null, 'no mount: nothing to relay');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('upstreamServers: the host IPv4 servers, those of systemd-resolved behind a loopback one, else the Docker defaults', () => {
  const files: Record<string, string> = {
    '/etc/resolv.conf': 'nameserver 127.0.0.53\noptions edns0\n',
    '/run/systemd/resolve/resolv.conf': 'nameserver 192.0.2.1\nnameserver 2001:db8::1\nnameserver 192.0.2.2\n',
  };
  assert.deepEqual(upstreamServers((f) => files[f] ?? null), ['192.0.2.1', '192.0.2.2']);
  assert.deepEqual(upstreamServers((f) => (f === '/etc/resolv.conf' ? 'nameserver 10.0.0.2\n' : null)), ['10.0.0.2']);
  assert.deepEqual(upstreamServers(() => null), ['8.8.8.8', '8.8.4.4']);
});
