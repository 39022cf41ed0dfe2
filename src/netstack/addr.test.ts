import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from './addr.js';

test('IPv4/IPv6 text round trips', () => {
  assert.equal(A.formatAddress(A.ipv4('10.1.2.3')), '10.1.2.3');
  assert.throws(() => A.ipv4('10.1.2.256'));
  assert.equal(A.ipv6('::').length, 16);
  assert.equal(A.formatAddress(A.ipv6('fe80::1')), 'fe80::1');
  assert.equal(A.formatAddress(A.ipv6('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(A.formatAddress(A.ipv6('::ffff:1.2.3.4')), '::ffff:1.2.3.4');
  assert.equal(A.ipv6('::ffff:1.2.3.4'), A.v4Mapped(A.ipv4('1.2.3.4')));
  assert.equal(A.formatAddress(A.ipv6('1:2:3:4:5:6:7:8')), '1:2:3:4:5:6:7:8');
  assert.throws(() => A.ipv6('1::2::3'));
  assert.throws(() => A.ipv6('1:2:3:4:5:6:7:8:9'));
});

test('prefixes, broadcast and multicast mappings', () => {
  assert.ok(A.prefixMatch(A.ipv4('10.0.1.7'), A.ipv4('10.0.0.0'), 23));
  assert.ok(!A.prefixMatch(A.ipv4('10.0.2.7'), A.ipv4('10.0.0.0'), 23));
  assert.ok(A.prefixMatch(A.ipv4('1.2.3.4'), A.ipv4('0.0.0.0'), 0));
  assert.equal(A.formatAddress(A.subnetBroadcastV4(A.ipv4('10.0.1.7'), 23)), '10.0.1.255');
  assert.equal(A.formatAddress(A.maskAddress(A.ipv4('10.0.1.7'), 23)), '10.0.0.0');
  assert.equal(A.formatAddress(A.solicitedNode(A.ipv6('fe80::aabb:ccdd'))), 'ff02::1:ffbb:ccdd');
  assert.equal(A.formatMac(A.multicastMac(A.ipv6('ff02::1:ffbb:ccdd'))), '33:33:ff:bb:cc:dd');
  assert.equal(A.formatMac(A.multicastMac(A.ipv4('224.129.2.3'))), '01:00:5e:01:02:03');
  assert.equal(A.formatAddress(A.linkLocalFromMac(A.mac('02:00:00:00:00:01'))), 'fe80::ff:fe00:1');
});
