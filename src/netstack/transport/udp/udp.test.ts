import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4, ipv6, v4Mapped } from '../../addr.js';
import { FakeClock } from '../../clock.js';
import { ErrBroadcastDisabled, ErrConnectionRefused, ErrDestinationRequired, ErrMessageTooLong, ErrWouldBlock, ErrAddressInUse, ErrInvalidArgument, ErrUnknownOption } from '../../errors.js';
import { A4, B4, B6, A6, loopbackStack, stackPair, tryOp } from '../../testing/harness.js';
import { EVENT_ERR, EVENT_IN, EVENT_OUT } from '../../waiter.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

test('UDP: exchange between two stacks, recvfrom reports the source', () => {
  const p = stackPair();
  const srv = p.b.newUDPEndpoint(4);
  srv.bind({ addr: '', port: 5353 });
  const cli = p.a.newUDPEndpoint(4);
  let notified = 0;
  srv.setNotify((ev) => {
    if (ev & EVENT_IN) notified++;
  });
  cli.send(enc('question'), { addr: B4, port: 5353 });
  assert.equal(notified, 1);
  const q = srv.recv(100);
  assert.equal(dec(q.data), 'question');
  assert.equal(q.from?.addr, A4);
  assert.equal(q.from?.port, cli.getsockname().port);
  srv.send(enc('answer'), q.from!);
  assert.equal(dec(cli.recv(100).data), 'answer');
  assert.throws(() => cli.recv(100), ErrWouldBlock);
  assert.throws(() => cli.send(enc('x')), ErrDestinationRequired);
  assert.throws(() => cli.send(new Uint8Array(65508), { addr: B4, port: 1 }), ErrMessageTooLong);
});

test('UDP: truncation, peek, connect filtering', () => {
  const p = stackPair();
  const srv = p.b.newUDPEndpoint(4);
  srv.bind({ addr: B4, port: 7 });
  const c1 = p.a.newUDPEndpoint(4);
  c1.send(enc('0123456789'), { addr: B4, port: 7 });
  const peeked = srv.recv(4, true);
  assert.equal(dec(peeked.data), '0123');
  assert.equal(peeked.size, 10, 'MSG_TRUNC length');
  assert.equal(srv.nextSize(), 10);
  assert.equal(dec(srv.recv(100).data), '0123456789');
  // A connected socket only hears its peer.
  const c2 = p.a.newUDPEndpoint(4);
  c2.bind({ addr: '', port: 4000 });
  srv.connect({ addr: A4, port: 4000 });
  c1.send(enc('stranger'), { addr: B4, port: 7 });
  c2.send(enc('peer'), { addr: B4, port: 7 });
  assert.equal(dec(srv.recv(100).data), 'peer');
  assert.throws(() => srv.recv(100), ErrWouldBlock);
  assert.deepEqual(srv.getpeername(), { addr: A4, port: 4000 });
});

test('UDP: port unreachable -> ECONNREFUSED on a connected socket only', () => {
  const p = stackPair();
  const c = p.a.newUDPEndpoint(4);
  c.connect({ addr: B4, port: 9999 });
  c.send(enc('x'));
  assert.ok(c.readiness(EVENT_IN) & EVENT_ERR);
  assert.throws(() => c.recv(10), ErrConnectionRefused);
  assert.throws(() => c.recv(10), ErrWouldBlock, 'reported once');
  const u = p.a.newUDPEndpoint(4);
  u.send(enc('x'), { addr: B4, port: 9999 });
  assert.equal(u.readiness(EVENT_ERR), 0, 'unconnected sockets ignore ICMP errors (no IP_RECVERR)');
  assert.equal(p.b.stats.udp.unknownPortErrors, 2);
  assert.equal(p.b.stats.icmp.errorsSent, 2);
});

test('UDP: broadcast needs SO_BROADCAST', () => {
  const p = stackPair();
  const rx = p.b.newUDPEndpoint(4);
  rx.bind({ addr: '', port: 67 });
  const tx = p.a.newUDPEndpoint(4);
  assert.throws(() => tx.send(enc('dhcp'), { addr: ipv4('255.255.255.255'), port: 67 }), ErrBroadcastDisabled);
  tx.setOption('SO_BROADCAST', 1);
  tx.send(enc('all'), { addr: ipv4('255.255.255.255'), port: 67 });
  tx.send(enc('subnet'), { addr: ipv4('10.0.0.255'), port: 67 });
  assert.equal(dec(rx.recv(100).data), 'all');
  const r = rx.recv(100);
  assert.equal(dec(r.data), 'subnet');
  assert.equal(r.dst, ipv4('10.0.0.255'));
});

test('UDP: receive buffer limit drops datagrams', () => {
  const p = stackPair();
  const rx = p.b.newUDPEndpoint(4);
  rx.setOption('SO_RCVBUF', 4096); // 4 KiB of data
  rx.bind({ addr: '', port: 1 });
  const tx = p.a.newUDPEndpoint(4);
  for (let i = 0; i < 10; i++) tx.send(new Uint8Array(1000), { addr: B4, port: 1 });
  let n = 0;
  while (tryOp(() => rx.recv(2000)) !== undefined) n++;
  assert.equal(n, 5);
  assert.equal(p.b.stats.udp.receiveBufferErrors, 5);
});

test('UDP: SO_REUSEADDR, dual-stack IPv6 socket, shutdown wakes readers', () => {
  const s = loopbackStack(new FakeClock());
  const a = s.newUDPEndpoint(6);
  a.bind({ addr: '', port: 5000 });
  const b = s.newUDPEndpoint(4);
  assert.throws(() => b.bind({ addr: '', port: 5000 }), ErrAddressInUse, 'the dual-stack socket holds the IPv4 port too');
  const v4 = s.newUDPEndpoint(4);
  v4.send(enc('from v4'), { addr: ipv4('127.0.0.1'), port: 5000 });
  const r = a.recv(100);
  assert.equal(dec(r.data), 'from v4');
  assert.equal(r.from?.addr, v4Mapped(ipv4('127.0.0.1')));
  a.send(enc('back'), r.from!);
  assert.equal(dec(v4.recv(100).data), 'back');
  const x = s.newUDPEndpoint(4);
  const y = s.newUDPEndpoint(4);
  x.setOption('SO_REUSEADDR', 1);
  y.setOption('SO_REUSEADDR', 1);
  x.bind({ addr: '', port: 6000 });
  y.bind({ addr: '', port: 6000 });
  assert.ok(x.readiness(EVENT_OUT) & EVENT_OUT);
  assert.throws(() => x.shutdown(0));
  assert.equal(x.recv(10).from, null, 'EOF after SHUT_RD');
  void B6;
  void A6;
  void ipv6;
});

test('UDP over IPv6: exchange and ICMPv6 port unreachable', () => {
  const p = stackPair();
  const srv = p.b.newUDPEndpoint(6);
  srv.bind({ addr: B6, port: 53 });
  const c = p.a.newUDPEndpoint(6);
  c.connect({ addr: B6, port: 53 });
  c.send(enc('v6'));
  const r = srv.recv(100);
  assert.equal(dec(r.data), 'v6');
  assert.equal(r.from?.addr, A6);
  srv.close();
  c.send(enc('again'));
  assert.throws(() => c.recv(100), ErrConnectionRefused);
});

test('UDP: IP_MTU_DISCOVER DO refuses datagrams over the MTU and sets DF; WANT and OMIT fragment', () => {
  const ipv4Frames: { len: number; flags: number }[] = [];
  const p = stackPair({
    mtu: 1500,
    filter: (frame) => {
      // Ethernet (14 bytes) then IPv4: the flags and fragment offset are at 6..7.
      if (frame[12] === 0x08 && frame[13] === 0x00) ipv4Frames.push({ len: frame.length - 14, flags: (frame[20] << 8) | frame[21] });
      return 'pass';
    },
  });
  const srv = p.b.newUDPEndpoint(4);
  srv.bind({ addr: '', port: 9000 });
  const cli = p.a.newUDPEndpoint(4);
  assert.equal(cli.getOption('IP_MTU_DISCOVER'), 1, 'IP_PMTUDISC_WANT by default, as Linux');
  assert.throws(() => cli.setOption('IP_MTU_DISCOVER', 6), ErrInvalidArgument);
  assert.throws(() => cli.setOption('IP_MTU_DISCOVER', -1), ErrInvalidArgument);
  assert.throws(() => cli.setOption('IPV6_MTU_DISCOVER', 2), ErrUnknownOption);
  cli.setOption('IP_MTU_DISCOVER', 2);
  assert.equal(cli.getOption('IP_MTU_DISCOVER'), 2);
  assert.throws(() => cli.send(new Uint8Array(1473), { addr: B4, port: 9000 }), ErrMessageTooLong);
  ipv4Frames.length = 0;
  assert.equal(cli.send(new Uint8Array(1472), { addr: B4, port: 9000 }), 1472);
  assert.equal(srv.recv(4000).size, 1472);
  assert.deepEqual(ipv4Frames, [{ len: 1500, flags: 0x4000 }], 'one whole packet with DF');
  for (const mode of [1, 5]) {
    cli.setOption('IP_MTU_DISCOVER', mode);
    ipv4Frames.length = 0;
    assert.equal(cli.send(new Uint8Array(3000), { addr: B4, port: 9000 }), 3000);
    assert.equal(srv.recv(4000).size, 3000);
    assert.equal(ipv4Frames.length, 3, `mode ${mode} fragments`);
    assert.ok(ipv4Frames.every((f) => (f.flags & 0x4000) === 0), 'fragments carry no DF');
  }
});

test('UDP: IPV6_MTU_DISCOVER DO refuses datagrams over the MTU', () => {
  const p = stackPair({ mtu: 1500 });
  const srv = p.b.newUDPEndpoint(6);
  srv.bind({ addr: '', port: 9000 });
  const cli = p.a.newUDPEndpoint(6);
  assert.equal(cli.getOption('IPV6_MTU_DISCOVER'), 1);
  cli.setOption('IPV6_MTU_DISCOVER', 2);
  assert.throws(() => cli.send(new Uint8Array(1453), { addr: B6, port: 9000 }), ErrMessageTooLong);
  assert.equal(cli.send(new Uint8Array(1452), { addr: B6, port: 9000 }), 1452);
  assert.equal(srv.recv(4000).size, 1452);
  // IP_MTU_DISCOVER governs the socket's IPv4 traffic only.
  cli.setOption('IPV6_MTU_DISCOVER', 0);
  cli.setOption('IP_MTU_DISCOVER', 2);
  assert.equal(cli.send(new Uint8Array(3000), { addr: B6, port: 9000 }), 3000);
  assert.equal(srv.recv(4000).size, 3000);
});
