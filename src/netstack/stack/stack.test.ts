import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4, ipv6, mac, type Address } from '../addr.js';
import { FakeClock } from '../clock.js';
import { ErrAddressInUse, ErrHostUnreachable, ErrNetworkUnreachable, ErrBadLocalAddress } from '../errors.js';
import { ICMPV4_ECHO } from '../header/icmpv4.js';
import { ICMPV6_ECHO_REQUEST } from '../header/icmpv6.js';
import { A4, B4, A6, B6, stackPair, pattern, equalBytes, tryOp, seededRandom } from '../testing/harness.js';
import { PortManager, type PortOwner } from './ports.js';
import { Reassembler } from './fragment.js';
import type { PingEndpoint } from '../transport/icmp/endpoint.js';

function echo(type: number, seq: number, data: string): Uint8Array {
  const body = new TextEncoder().encode(data);
  const m = new Uint8Array(8 + body.length);
  m[0] = type;
  m[7] = seq;
  m.set(body, 8);
  return m;
}

function recvAll(ep: PingEndpoint): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (;;) {
    const r = tryOp(() => ep.recv(65536));
    if (r === undefined) return out;
    out.push(r.data);
  }
}

test('ARP: resolution over a channel, the first packet waits in the queue', () => {
  const p = stackPair();
  const frames: number[] = [];
  p.channel.a.tap = (f) => frames.push((f[12] << 8) | f[13]);
  assert.equal(p.nicA.arp.lookup(B4), undefined);
  const rx = p.b.newUDPEndpoint(4);
  rx.bind({ addr: '', port: 53 });
  const tx = p.a.newUDPEndpoint(4);
  tx.send(new TextEncoder().encode('q'), { addr: B4, port: 53 });
  assert.deepEqual(frames, [0x0806, 0x0800], 'request, then the queued datagram after the reply');
  assert.equal(p.nicA.arp.lookup(B4), mac('02:00:00:00:00:02'));
  assert.equal(p.nicB.arp.lookup(A4), mac('02:00:00:00:00:01'), 'B learned A from the request');
  assert.equal(new TextDecoder().decode(rx.recv(10).data), 'q');
  assert.equal(p.a.stats.arp.sent, 1);
  tx.send(new Uint8Array(1), { addr: B4, port: 53 });
  assert.equal(p.a.stats.arp.sent, 1, 'cached');
});

test('ARP: unanswered requests are retried, then packets fail with EHOSTUNREACH', () => {
  const p = stackPair();
  const frames: number[] = [];
  p.channel.a.tap = () => frames.push(p.clock.now());
  const tx = p.a.newUDPEndpoint(4);
  tx.send(new Uint8Array(1), { addr: ipv4('10.0.0.77'), port: 1 });
  p.clock.advance(5000);
  assert.deepEqual(frames, [0, 1000, 2000]);
  assert.equal(p.nicA.arp.stats.failures, 1);
});

test('ping: ICMP echo between two stacks, IPv4 and IPv6 (NDP)', () => {
  const p = stackPair();
  const ping = p.a.newPingEndpoint(4);
  ping.send(echo(ICMPV4_ECHO, 1, 'hello'), { addr: B4, port: 0 });
  ping.send(echo(ICMPV4_ECHO, 2, 'world'), { addr: B4, port: 0 });
  const replies = recvAll(ping);
  assert.equal(replies.length, 2);
  assert.equal(replies[0][0], 0, 'echo reply');
  assert.equal(replies[1][7], 2, 'sequence echoed');
  assert.equal(new TextDecoder().decode(replies[1].subarray(8)), 'world');
  assert.equal((replies[0][4] << 8) | replies[0][5], ping.getsockname().port, 'identifier is the socket port');
  assert.equal(p.b.stats.icmp.echoRepliesSent, 2);

  const ping6 = p.a.newPingEndpoint(6);
  ping6.send(echo(ICMPV6_ECHO_REQUEST, 9, 'six'), { addr: B6, port: 0 });
  const r6 = recvAll(ping6);
  assert.equal(r6.length, 1);
  assert.equal(r6[0][0], 129);
  assert.equal(new TextDecoder().decode(r6[0].subarray(8)), 'six');
  assert.ok(p.nicA.ndp.lookup(B6) !== undefined && p.nicB.ndp.lookup(A6) !== undefined);
  assert.ok(p.a.stats.ndp.sent >= 1 && p.b.stats.ndp.sent >= 1);
});

test('IPv4: fragmentation on send and reassembly on receive, in and out of order', () => {
  for (const reorder of [false, true]) {
    const p = stackPair({
      filter: (f, _from, i) => {
        // Hold the first fragment back so the others arrive before it.
        const fragOff = ((f[14 + 6] << 8) | f[14 + 7]) & 0x3fff;
        return reorder && fragOff === 0x2000 && i > 0 ? 5 : 'pass';
      },
    });
    const frames: number[] = [];
    p.channel.a.tap = (f) => frames.push(f.length);
    const rx = p.b.newUDPEndpoint(4);
    rx.bind({ addr: '', port: 9 });
    const tx = p.a.newUDPEndpoint(4);
    tx.send(new Uint8Array(1), { addr: B4, port: 9 }); // resolve ARP first
    rx.recv(10);
    frames.length = 0;
    const data = pattern(4000, 3);
    tx.send(data, { addr: B4, port: 9 });
    p.clock.advance(10);
    assert.deepEqual(frames, [1514, 1514, 14 + 20 + 4008 - 2960], '3 fragments');
    const r = rx.recv(65536);
    assert.ok(equalBytes(r.data, data), `reassembled (reorder=${reorder})`);
    assert.equal(p.b.ipv4.reassembler.stats.reassembled, 1);
  }
});

test('Reassembler: overlap poisons the datagram, timeout frees it', () => {
  const clock = new FakeClock();
  const r = new Reassembler(clock, { timeoutMs: 30000, maxBytes: 1 << 20 });
  assert.equal(r.add('k', 0, true, new Uint8Array(16)), null);
  assert.equal(r.add('k', 8, true, new Uint8Array(16)), null, 'overlap');
  assert.equal(r.add('k', 16, false, new Uint8Array(4)), null, 'datagram was invalidated');
  clock.advance(30000);
  assert.equal(r.size, 0);
  assert.equal(r.stats.timeouts, 1);
  assert.equal(r.add('j', 8, false, new Uint8Array([1, 2])), null);
  assert.deepEqual(Array.from(r.add('j', 0, true, new Uint8Array(8)) ?? []), [0, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
  assert.equal(r.add('d', 0, true, new Uint8Array(8)), null);
  assert.equal(r.add('d', 0, true, new Uint8Array(8)), null, 'duplicate ignored');
  assert.equal(r.add('d', 8, false, new Uint8Array([7]))?.length, 9);
  assert.equal(r.add('e', 0, true, new Uint8Array(5)), null, 'non-final fragments are multiples of 8');
  assert.equal(r.size, 0);
});

test('IPv6: fragmentation and reassembly over a 1280 MTU link', () => {
  const p = stackPair({ mtu: 1280 });
  const rx = p.b.newUDPEndpoint(6);
  rx.bind({ addr: '', port: 9 });
  const tx = p.a.newUDPEndpoint(6);
  const data = pattern(3000, 4);
  tx.send(data, { addr: B6, port: 9 });
  p.clock.advance(10);
  assert.ok(equalBytes(rx.recv(65536).data, data));
  assert.equal(p.a.stats.ip.fragmentsSent, 3);
});

test('routing: longest prefix match, default route through a gateway, no route', () => {
  const p = stackPair();
  const dsts: string[] = [];
  p.channel.a.tap = (f) => dsts.push(Array.from(f.subarray(0, 6), (x) => x.toString(16)).join(':'));
  assert.throws(() => p.a.findRoute(0, '', ipv4('8.8.8.8'), 4), ErrNetworkUnreachable);
  assert.equal(p.a.findRoute(0, '', ipv4('10.0.0.255'), 4).broadcast, true, 'subnet broadcast');
  p.a.addRoute({ destination: ipv4('0.0.0.0'), prefixLen: 0, gateway: B4, nic: p.nicA.id });
  p.a.addRoute({ destination: ipv4('10.0.0.128'), prefixLen: 25, gateway: ipv4('10.0.0.254'), nic: p.nicA.id });
  const r = p.a.findRoute(0, '', ipv4('8.8.8.8'), 4);
  assert.equal(r.nextHop, B4);
  assert.equal(r.local, A4);
  assert.equal(p.a.findRoute(0, '', ipv4('10.0.0.200'), 4).nextHop, ipv4('10.0.0.254'));
  assert.equal(p.a.findRoute(0, '', ipv4('10.0.0.100'), 4).nextHop, ipv4('10.0.0.100'));
  assert.throws(() => p.a.findRoute(0, ipv4('1.1.1.1'), B4, 4), ErrBadLocalAddress);
  const tx = p.a.newUDPEndpoint(4);
  tx.send(new Uint8Array(1), { addr: ipv4('8.8.8.8'), port: 53 });
  assert.equal(dsts[dsts.length - 1], '2:0:0:0:0:2', 'sent to the gateway MAC');
  const local = p.a.findRoute(0, '', A4, 4);
  assert.ok(local.localDelivery, 'own address loops back without a loopback NIC');
  void ErrHostUnreachable;
});

test('ports: Linux bind conflict rules for TCP and UDP', () => {
  const pm = new PortManager(seededRandom(3));
  const owner = (reuseAddr: boolean, reusePort: boolean, listening = false): PortOwner => ({
    reuseAddr,
    reusePort,
    bindNic: 0,
    isListening: () => listening,
  });
  const any: { netProto: 4; addr: Address }[] = [{ netProto: 4, addr: '' }];
  const a1 = [{ netProto: 4 as const, addr: A4 }];
  const a2 = [{ netProto: 4 as const, addr: B4 }];
  pm.reserve(6, a1, 80, owner(false, false));
  pm.reserve(6, a2, 80, owner(false, false)); // different specific addresses: fine
  assert.throws(() => pm.reserve(6, any, 80, owner(false, false)), ErrAddressInUse, 'wildcard overlaps');
  const l = owner(true, false, true);
  pm.reserve(6, any, 81, l);
  assert.throws(() => pm.reserve(6, any, 81, owner(true, false)), ErrAddressInUse, 'REUSEADDR does not share with a TCP listener');
  pm.reserve(17, any, 81, owner(true, false));
  pm.reserve(17, any, 81, owner(true, false)); // UDP: both REUSEADDR is enough
  pm.reserve(6, any, 82, owner(false, true, true));
  pm.reserve(6, any, 82, owner(false, true, true)); // REUSEPORT groups share
  const e = pm.reserve(6, any, 0, owner(false, false));
  assert.ok(e >= 32768 && e <= 60999);
  void ipv6;
});
