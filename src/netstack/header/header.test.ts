import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4, ipv6, mac } from '../addr.js';
import { checksum } from './checksum.js';
import { decodeIPv4, encodeIPv4, PROTO_UDP } from './ipv4.js';
import { decodeUDP, encodeUDP, udpChecksumOK } from './udp.js';
import {
  TCP_SYN,
  TCP_ACK,
  decodeTCP,
  encodeDataOptions,
  encodeSynOptions,
  encodeTCP,
  parseTCPOptions,
  setTCPChecksum,
  synOptionsLength,
  tcpChecksumOK,
} from './tcp.js';
import { decodeICMPv4, encodeICMPv4, ICMPV4_ECHO } from './icmpv4.js';
import { decodeICMPv6, decodeNDP, encodeNDP, ICMPV6_NEIGHBOR_SOLICIT } from './icmpv6.js';
import { ARP_REQUEST, decodeARP, encodeARP } from './arp.js';
import { decodeEthernet, encodeEthernet, ETHERTYPE_ARP } from './ethernet.js';
import { EXT_DEST_OPTS, EXT_FRAGMENT, EXT_HOP_BY_HOP, walkExtensionHeaders, encodeFragmentHeader } from './ipv6.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Expected checksums below were computed independently (Python, RFC 1071 sum).

test('IPv4 header: known packet decodes and re-encodes byte for byte', () => {
  const known = hex('450000730000400040110000c0a80001c0a800c7');
  known[10] = 0xb8;
  known[11] = 0x61;
  const f = decodeIPv4(known, 0x73);
  assert.ok(f);
  assert.equal(f.protocol, PROTO_UDP);
  assert.equal(f.ttl, 64);
  assert.equal(f.flags, 0x4000);
  assert.equal(f.src, ipv4('192.168.0.1'));
  const out = new Uint8Array(20);
  encodeIPv4(out, 0, { totalLength: 0x73, id: 0, flags: 0x4000, ttl: 64, protocol: 17, src: f.src, dst: f.dst });
  assert.equal(toHex(out), toHex(known));
  known[11] ^= 1;
  assert.equal(decodeIPv4(known, 0x73), null, 'bad checksum rejected');
});

test('IPv4 header: options are skipped, bad lengths rejected', () => {
  const b = new Uint8Array(24 + 4);
  encodeIPv4(b, 0, { totalLength: 28, id: 7, ttl: 1, protocol: 6, src: ipv4('1.2.3.4'), dst: ipv4('5.6.7.8') });
  // Rewrite as IHL=6 with a NOP option word and fix the checksum by hand.
  const h = new Uint8Array(28);
  h.set(b.subarray(0, 20));
  h[0] = 0x46;
  h.set([1, 1, 1, 0], 20);
  h[10] = h[11] = 0;
  const c = ~checksum(h, 0, 0, 24) & 0xffff;
  h[10] = c >> 8;
  h[11] = c & 0xff;
  assert.equal(decodeIPv4(h, 28)?.headerLength, 24);
  assert.equal(decodeIPv4(h, 27), null, 'total length beyond the frame');
});

test('UDP: checksum of a known datagram', () => {
  const payload = new TextEncoder().encode('hello');
  const b = new Uint8Array(8 + payload.length);
  const src = ipv4('192.168.0.1');
  const dst = ipv4('192.168.0.199');
  encodeUDP(b, 0, 1234, 53, payload, src, dst, false);
  b.set(payload, 8);
  assert.equal(decodeUDP(b).checksum, 0x34e2);
  assert.equal(decodeUDP(b).length, 13);
  assert.ok(udpChecksumOK(b, src, dst, false));
  b[9] ^= 0xff;
  assert.ok(!udpChecksumOK(b, src, dst, false));
});

test('TCP: SYN with Linux option layout, known checksum, options parse back', () => {
  const opts = { mss: 1460, wscale: 7, sackPermitted: true, ts: true, tsVal: 0x11223344, tsEcr: 0 };
  const olen = synOptionsLength(opts);
  assert.equal(olen, 20);
  const b = new Uint8Array(20 + olen);
  encodeTCP(b, 0, { srcPort: 40000, dstPort: 80, seq: 0x01020304, ack: 0, dataOffset: 20 + olen, flags: TCP_SYN, window: 64240, urgent: 0 });
  assert.equal(encodeSynOptions(b, 20, opts), 20);
  const src = ipv4('10.0.0.1');
  const dst = ipv4('10.0.0.2');
  setTCPChecksum(b, 0, b.length, new Uint8Array(0), src, dst);
  assert.equal(toHex(b), '9c4000500102030400000000a002faf054100000020405b40402080a112233440000000001030307');
  assert.ok(tcpChecksumOK(b, src, dst));
  const f = decodeTCP(b);
  assert.equal(f.seq, 0x01020304);
  assert.equal(f.dataOffset, 40);
  const o = parseTCPOptions(b, 20, f.dataOffset, true);
  assert.deepEqual(
    { mss: o.mss, ws: o.wscale, sp: o.sackPermitted, ts: o.ts, v: o.tsVal },
    { mss: 1460, ws: 7, sp: true, ts: true, v: 0x11223344 },
  );
  // MSS/WS are ignored outside SYN segments.
  assert.equal(parseTCPOptions(b, 20, 40, false).mss, 0);
});

test('TCP: data options carry timestamps and SACK blocks', () => {
  const b = new Uint8Array(40);
  const n = encodeDataOptions(b, 0, true, 5, 6, [{ start: 100, end: 200 }, { start: 0xfffffff0, end: 16 }], 2);
  assert.equal(n, 12 + 4 + 16);
  const o = parseTCPOptions(b, 0, n, false);
  assert.equal(o.tsVal, 5);
  assert.equal(o.tsEcr, 6);
  assert.deepEqual(o.sackBlocks, [{ start: 100, end: 200 }, { start: 0xfffffff0, end: 16 }]);
  // A truncated option stops the parse without throwing.
  b[3] = 40;
  assert.equal(parseTCPOptions(b, 0, n, false).ts, false);
  const ack = new Uint8Array(20);
  encodeTCP(ack, 0, { srcPort: 1, dstPort: 2, seq: 0xffffffff, ack: 1, dataOffset: 20, flags: TCP_ACK, window: 0, urgent: 0 });
  assert.equal(decodeTCP(ack).seq, 0xffffffff);
});

test('ICMPv4 echo: known checksum', () => {
  const body = new TextEncoder().encode('abcdefgh');
  const b = new Uint8Array(8);
  encodeICMPv4(b, 0, { type: ICMPV4_ECHO, code: 0, rest: (0x1234 << 16) | 1 }, body);
  assert.equal((b[2] << 8) | b[3], 0x5435);
  const whole = new Uint8Array(16);
  whole.set(b);
  whole.set(body, 8);
  assert.equal(decodeICMPv4(whole)?.rest, 0x12340001);
  whole[15] ^= 1;
  assert.equal(decodeICMPv4(whole), null);
});

test('ICMPv6 neighbor solicitation: known checksum, parses back', () => {
  const src = ipv6('fe80::1');
  const dst = ipv6('ff02::1:ff00:2');
  const b = new Uint8Array(32);
  const n = encodeNDP(b, 0, ICMPV6_NEIGHBOR_SOLICIT, { target: ipv6('fe80::2'), linkAddr: mac('02:00:00:00:00:01'), flags: 0 }, src, dst);
  assert.equal(n, 32);
  assert.equal((b[2] << 8) | b[3], 0x7a97);
  assert.ok(decodeICMPv6(b, src, dst));
  assert.equal(decodeICMPv6(b, src, ipv6('ff02::1')), null, 'pseudo-header covers the destination');
  const m = decodeNDP(b);
  assert.equal(m?.target, ipv6('fe80::2'));
  assert.equal(m?.linkAddr, mac('02:00:00:00:00:01'));
});

test('ARP and Ethernet round trip', () => {
  const f = new Uint8Array(14 + 28);
  encodeEthernet(f, 0, { dst: mac('ff:ff:ff:ff:ff:ff'), src: mac('02:00:00:00:00:01'), type: ETHERTYPE_ARP });
  encodeARP(f, 14, { op: ARP_REQUEST, senderMac: mac('02:00:00:00:00:01'), senderIp: ipv4('10.0.0.1'), targetMac: '\0'.repeat(6), targetIp: ipv4('10.0.0.2') });
  assert.equal(toHex(f.subarray(0, 23)), 'ffffffffffff0200000000010806000108000604000102');
  assert.equal(decodeEthernet(f).type, ETHERTYPE_ARP);
  assert.equal(decodeARP(f, 14)?.targetIp, ipv4('10.0.0.2'));
  f[15] = 6; // hardware type 6 is not Ethernet
  assert.equal(decodeARP(f, 14), null);
});

test('IPv6 extension headers are walked to the upper layer or a fragment header', () => {
  // hop-by-hop (8 bytes) -> destination options (16 bytes) -> fragment -> UDP
  const b = new Uint8Array(8 + 16 + 8);
  b[0] = EXT_DEST_OPTS;
  b[1] = 0;
  b[8] = EXT_FRAGMENT;
  b[9] = 1;
  encodeFragmentHeader(b, 24, 17, 1448, true, 0xdeadbeef);
  const w = walkExtensionHeaders(b, 0, EXT_HOP_BY_HOP);
  assert.deepEqual(w, { proto: 17, offset: 32, fragment: { offset: 1448, more: true, id: 0xdeadbeef }, fragmentHeaderOffset: 24 });
  assert.deepEqual(walkExtensionHeaders(b, 8, 6), { proto: 6, offset: 8 });
  assert.equal(walkExtensionHeaders(b.subarray(0, 20), 0, EXT_HOP_BY_HOP), null, 'truncated');
});

test('checksum over several arrays equals the checksum of their concatenation', async () => {
  const { checksumViews } = await import('./checksum.js');
  const all = Uint8Array.from({ length: 101 }, (_, i) => (i * 37 + 11) & 0xff);
  for (const cuts of [[0], [1], [3, 50], [1, 2, 3], [33, 66, 99], [100]]) {
    const parts: Uint8Array[] = [];
    let prev = 0;
    for (const c of cuts) {
      parts.push(all.subarray(prev, c));
      prev = c;
    }
    parts.push(all.subarray(prev));
    assert.equal(checksumViews(parts, 7), checksum(all, 7), `cuts ${cuts}`);
  }
});
