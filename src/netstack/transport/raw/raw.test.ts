import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4, ipv6 } from '../../addr.js';
import { ErrDestinationRequired, ErrInvalidArgument, ErrWouldBlock } from '../../errors.js';
import { checksum, finish, pseudoHeaderChecksum } from '../../header/checksum.js';
import { A4, B4, A6, B6, loopbackStack, stackPair } from '../../testing/harness.js';
import { EVENT_IN } from '../../waiter.js';
import { PROTO_RAW } from './endpoint.js';

const LO4 = ipv4('127.0.0.1');
const LO6 = ipv6('::1');

/** echo4 is an ICMPv4 echo request with its checksum. */
function echo4(id: number, seq: number, body = 'ping'): Uint8Array {
  const b = new Uint8Array(8 + body.length);
  b[0] = 8;
  b[4] = id >> 8;
  b[5] = id & 0xff;
  b[6] = seq >> 8;
  b[7] = seq & 0xff;
  b.set(new TextEncoder().encode(body), 8);
  const c = finish(checksum(b));
  b[2] = c >> 8;
  b[3] = c & 0xff;
  return b;
}

test('raw IPv4 ICMP on loopback: sees its own request and the reply, with IP headers', () => {
  const s = loopbackStack();
  const ep = s.newRawEndpoint(4, 1);
  let ev = 0;
  ep.setNotify((e) => (ev |= e));
  assert.equal(ep.send(echo4(0x1234, 1), { addr: LO4, port: 0 }), 12);
  assert.ok(ev & EVENT_IN);
  const req = ep.recv(1000);
  assert.equal(req.size, 32);
  assert.equal(req.data[0], 0x45);
  assert.equal(req.data[9], 1, 'protocol');
  assert.equal(req.data[20], 8, 'the looped echo request');
  assert.equal(req.from.addr, LO4);
  assert.equal(req.from.port, 0);
  assert.equal(checksum(req.data, 0, 0, 20), 0xffff, 'header checksum');
  const rep = ep.recv(1000);
  assert.equal(rep.data[20], 0, 'echo reply from the stack');
  assert.equal((rep.data[24] << 8) | rep.data[25], 0x1234);
  assert.throws(() => ep.recv(10), ErrWouldBlock);
  // getsockname's port is the protocol.
  assert.equal(ep.getsockname().port, 1);
  ep.close();
  assert.equal(s.raw.count, 0);
});

test('raw IPv4: peek, truncation, ICMP_FILTER drops types', () => {
  const s = loopbackStack();
  const ep = s.newRawEndpoint(4, 1);
  // Block echo requests (type 8): only the reply remains.
  ep.setICMPFilter(Uint8Array.of(1, 1, 0, 0)); // types 0 and 8
  ep.send(echo4(1, 1), { addr: LO4, port: 0 });
  assert.throws(() => ep.recv(10), ErrWouldBlock, 'both blocked');
  ep.setICMPFilter(Uint8Array.of(0, 1)); // partial write: type 8 only
  assert.deepEqual([...ep.icmpFilter()], [0, 1, 0, 0]);
  ep.send(echo4(1, 2), { addr: LO4, port: 0 });
  const p = ep.recv(4, true);
  assert.equal(p.data.length, 4);
  assert.equal(p.size, 32);
  assert.equal(ep.nextSize(), 32);
  const r = ep.recv(100);
  assert.equal(r.data[20], 0, 'reply passed the filter');
  assert.throws(() => ep.recv(10), ErrWouldBlock);
  assert.throws(() => ep.send(echo4(1, 3)), ErrDestinationRequired);
});

test('raw IPv4 IP_HDRINCL and IPPROTO_RAW: the stack completes length, checksum, id, source', () => {
  const s = loopbackStack();
  const rx = s.newRawEndpoint(4, 1);
  const tx = s.newRawEndpoint(4, PROTO_RAW);
  assert.equal(tx.hdrincl, true);
  const icmp = echo4(7, 7);
  const pkt = new Uint8Array(20 + icmp.length);
  pkt[0] = 0x45;
  pkt[8] = 33; // ttl
  pkt[9] = 1; // ICMP
  pkt.set([127, 0, 0, 1], 16);
  pkt.set(icmp, 20);
  tx.send(pkt, { addr: LO4, port: 0 });
  const got = rx.recv(1000);
  assert.equal((got.data[2] << 8) | got.data[3], pkt.length, 'total length');
  assert.notEqual((got.data[4] << 8) | got.data[5], 0, 'id');
  assert.equal(got.data[8], 33);
  assert.deepEqual([...got.data.subarray(12, 16)], [127, 0, 0, 1], 'source');
  assert.equal(checksum(got.data, 0, 0, 20), 0xffff);
  assert.equal(rx.recv(1000).data[20], 0, 'and the reply');
  // IPPROTO_RAW receives nothing of ICMP; short headers are EINVAL.
  assert.throws(() => tx.recv(10), ErrWouldBlock);
  assert.throws(() => tx.send(new Uint8Array(10), { addr: LO4, port: 0 }), ErrInvalidArgument);
  // IP_HDRINCL on an ICMP socket.
  rx.hdrincl = true;
  rx.send(pkt, { addr: LO4, port: 0 });
  assert.equal(rx.recv(1000).data[20], 8);
});

test('raw IPv4: bind and connect select packets; unknown protocols draw no error when taken', () => {
  const p = stackPair();
  const b = p.b.newRawEndpoint(4, 1);
  b.bind({ addr: B4, port: 0 });
  const other = p.b.newRawEndpoint(4, 1);
  p.b.addAddress(p.nicB.id, ipv4('10.0.0.3'), 24);
  other.bind({ addr: ipv4('10.0.0.3'), port: 0 });
  const a = p.a.newRawEndpoint(4, 1);
  a.connect({ addr: B4, port: 0 });
  a.send(echo4(9, 1));
  p.clock.advance(10);
  assert.equal(b.recv(1000).data[20], 8, 'B sees the request');
  assert.throws(() => other.recv(10), ErrWouldBlock, 'bound elsewhere');
  assert.equal(a.recv(1000).data[20], 0, 'A sees the reply');
  // Protocol 253 with a raw listener on B: delivered, no ICMP protocol unreachable back.
  const exp = p.b.newRawEndpoint(4, 253);
  const sender = p.a.newRawEndpoint(4, 253);
  const errs = p.b.stats.icmp.errorsSent;
  sender.send(new TextEncoder().encode('hello'), { addr: B4, port: 0 });
  p.clock.advance(10);
  const got = exp.recv(1000);
  assert.equal(new TextDecoder().decode(got.data.subarray(20)), 'hello');
  assert.equal(got.from.addr, A4);
  assert.equal(p.b.stats.icmp.errorsSent, errs);
  exp.close();
  sender.send(new TextEncoder().encode('again'), { addr: B4, port: 0 });
  p.clock.advance(10);
  assert.equal(p.b.stats.icmp.errorsSent, errs + 1, 'protocol unreachable once nobody listens');
});

test('raw IPv6 ICMPv6: payload only, the stack computes the checksum, ICMP6_FILTER blocks', () => {
  const s = loopbackStack();
  const ep = s.newRawEndpoint(6, 58);
  assert.equal(ep.checksumOffset, 2);
  const req = Uint8Array.of(128, 0, 0, 0, 0, 5, 0, 1, 0x61, 0x62);
  ep.send(req, { addr: LO6, port: 0 });
  const mine = ep.recv(100);
  assert.equal(mine.size, 10);
  assert.equal(mine.data[0], 128);
  assert.equal(checksum(mine.data, pseudoHeaderChecksum(58, LO6, LO6, 10)), 0xffff, 'checksum filled in');
  assert.equal(mine.from.addr, LO6);
  const rep = ep.recv(100);
  assert.equal(rep.data[0], 129);
  // Block type 128 (bit 128 = byte 16 bit 0).
  const f = new Uint8Array(32);
  f[16] = 1;
  ep.setICMPFilter(f);
  ep.send(req, { addr: LO6, port: 0 });
  assert.equal(ep.recv(100).data[0], 129);
  assert.throws(() => ep.recv(100), ErrWouldBlock);
  assert.throws(() => ep.setChecksumOffset(3), ErrInvalidArgument);
  assert.throws(() => ep.send(Uint8Array.of(128, 0), { addr: LO6, port: 0 }), ErrInvalidArgument, 'no room for the checksum');
});

test('raw IPv6 between stacks: IPV6_CHECKSUM off leaves the payload alone', () => {
  const p = stackPair();
  const rx = p.b.newRawEndpoint(6, 253);
  const tx = p.a.newRawEndpoint(6, 253);
  assert.equal(tx.checksumOffset, -1);
  tx.send(Uint8Array.of(1, 2, 3, 4), { addr: B6, port: 0 });
  p.clock.advance(10);
  const got = rx.recv(100);
  assert.deepEqual([...got.data], [1, 2, 3, 4]);
  assert.equal(got.from.addr, A6);
  tx.setChecksumOffset(0);
  tx.send(Uint8Array.of(0, 0, 3, 4), { addr: B6, port: 0 });
  p.clock.advance(10);
  const c = rx.recv(100).data;
  assert.equal(checksum(c, pseudoHeaderChecksum(253, A6, B6, 4)), 0xffff);
  // The port names the protocol on IPv6: another one is EINVAL.
  assert.throws(() => tx.send(Uint8Array.of(0, 0, 3, 4), { addr: B6, port: 254 }), ErrInvalidArgument);
  tx.send(Uint8Array.of(0, 0, 3, 4), { addr: B6, port: 253 });
  p.clock.advance(10);
  assert.equal(rx.recv(100).size, 4);
});
