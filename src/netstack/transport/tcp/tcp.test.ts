import { test } from 'node:test';
import assert from 'node:assert/strict';
import { B4, connectPair, equalBytes, pattern, stackPair, transfer, tryOp } from '../../testing/harness.js';
import { TCP_ESTABLISHED } from './state.js';

test('TCP: handshake, data both ways, addresses', () => {
  const p = stackPair();
  const { client, server } = connectPair(p);
  assert.equal(client.state, TCP_ESTABLISHED);
  assert.equal(server.state, TCP_ESTABLISHED);
  assert.deepEqual(server.getsockname(), { addr: B4, port: 8080 });
  assert.deepEqual(server.getpeername(), client.getsockname());
  assert.ok(client.getsockname().port >= 32768 && client.getsockname().port <= 60999);
  assert.equal(client.write(new TextEncoder().encode('ping')), 4);
  assert.equal(new TextDecoder().decode(server.read(100)), 'ping');
  assert.equal(server.write(new TextEncoder().encode('pong!')), 5);
  assert.equal(new TextDecoder().decode(client.read(100)), 'pong!');
  assert.equal(tryOp(() => client.read(100)), undefined, 'nothing more: would block');
  assert.ok(client.sackOk && client.tsOk && client.wsOk, 'options negotiated');
  assert.equal(client.sndMss, 1460 - 12);
});

test('TCP: 1 MB transfer with integrity check', () => {
  const p = stackPair();
  const { client, server } = connectPair(p);
  const data = pattern(1 << 20, 1);
  const got = transfer(p.clock, client, server, data);
  assert.ok(equalBytes(got, data));
  assert.equal(client.stats.retransSegs, 0);
  const back = transfer(p.clock, server, client, pattern(300_000, 2));
  assert.ok(equalBytes(back, pattern(300_000, 2)));
});

import { ErrConnectionRefused, ErrAddressInUse, ErrTimeout, ErrClosedForSend, ErrConnectionReset, ErrHostUnreachable } from '../../errors.js';
import { ipv4, ipv6 } from '../../addr.js';
import { A4, A6, B6, tryConnect, loopbackStack } from '../../testing/harness.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT } from '../../waiter.js';
import { TCP_CLOSE, TCP_CLOSE_WAIT, TCP_FIN_WAIT2, TCP_TIME_WAIT, TCP_SYN_SENT } from './state.js';
import { FakeClock } from '../../clock.js';
import { ErrWouldBlock } from '../../errors.js';
import { READ_WOULD_BLOCK, SHUT_WR } from './endpoint.js';
import { buildTcpInfo, encodeTcpInfo } from './info.js';

/** tcpPayloadLen returns the TCP payload length of an Ethernet/IPv4 frame, or -1 for non-TCP. */
function tcpPayloadLen(frame: Uint8Array): number {
  if (frame[12] !== 0x08 || frame[13] !== 0x00 || frame[14 + 9] !== 6) return -1;
  const ihl = (frame[14] & 0xf) * 4;
  const total = (frame[16] << 8) | frame[17];
  const doff = (frame[14 + ihl + 12] >> 4) * 4;
  return total - ihl - doff;
}

test('TCP: loss (every 7th frame dropped) and reordering still deliver intact data, with retransmissions', () => {
  let held: (() => void) | null = null;
  const p = stackPair({
    filter: (frame, _from, i) => {
      if (tcpPayloadLen(frame) <= 0) return 'pass';
      if (i % 7 === 3) return 'drop';
      if (i % 11 === 5) return 3; // delayed 3 ms: overtaken by later frames
      return 'pass';
    },
  });
  void held;
  const { client, server } = connectPair(p);
  const data = pattern(600_000, 3);
  const got = transfer(p.clock, client, server, data);
  assert.ok(equalBytes(got, data));
  assert.ok(client.stats.retransSegs > 0, 'retransmissions counted');
  assert.ok(client.stats.fastRetransmits > 0, 'fast retransmit used');
  assert.ok(server.stats.outOfOrderSegs > 0, 'out-of-order segments queued');
  assert.ok(p.a.stats.tcp.retransmits > 0);
  // And the other direction, without SACK.
  const q = stackPair({ tcp: { sack: false }, filter: (frame, _f, i) => (tcpPayloadLen(frame) > 0 && i % 9 === 4 ? 'drop' : 'pass') });
  const c2 = connectPair(q);
  assert.equal(c2.client.sackOk, false);
  const d2 = pattern(300_000, 4);
  assert.ok(equalBytes(transfer(q.clock, c2.server, c2.client, d2), d2));
  assert.ok(c2.server.stats.retransSegs > 0);
});

test('TCP: retransmission timeout backs off exponentially from a 1 s initial RTO', () => {
  let drop = false;
  const sends: number[] = [];
  const p = stackPair({
    filter: (frame) => {
      if (tcpPayloadLen(frame) > 0) sends.push(p.clock.now());
      return drop && tcpPayloadLen(frame) > 0 ? 'drop' : 'pass';
    },
  });
  const { client } = connectPair(p);
  drop = true;
  const t0 = p.clock.now();
  client.write(pattern(100, 1));
  p.clock.advance(10_000);
  const gaps = sends.map((t) => Math.round(t - t0));
  // The handshake measured a ~0 ms RTT: RTO = max(200 ms) then doubles.
  assert.deepEqual(gaps.slice(0, 5), [0, 200, 600, 1400, 3000]);
  assert.ok(client.stats.timeouts >= 4);
});

/** smallWindowPair connects a client to a listener whose SO_RCVBUF is set before the handshake. */
function smallWindowPair(rcvbuf: number, filter?: Parameters<typeof stackPair>[0] extends infer O ? (O extends { filter?: infer F } ? F : never) : never) {
  const p = stackPair({ filter });
  const l = p.b.newTCPEndpoint(4);
  l.setOption('SO_RCVBUF', rcvbuf);
  l.bind({ addr: '', port: 80 });
  l.listen(1);
  const client = p.a.newTCPEndpoint(4);
  tryConnect(client, { addr: B4, port: 80 });
  p.clock.advance(10);
  return { p, client, server: l.accept().ep };
}

/** writeUntilFull writes data until the endpoint takes no more; returns the count taken. */
function writeUntilFull(ep: { write(d: Uint8Array): number }, data: Uint8Array): number {
  let off = 0;
  for (;;) {
    const n = tryOp(() => ep.write(data.subarray(off)));
    if (n === undefined || n === 0) return off;
    off += n;
  }
}

test('TCP: window full while the receiver does not read, then drained', () => {
  const { p, client, server } = smallWindowPair(16384); // 16 KiB of window
  client.setOption('SO_SNDBUF', 16384);
  const data = pattern(200_000, 5);
  const off = writeUntilFull(client, data);
  p.clock.advance(5000);
  assert.ok(off < data.length, 'writer blocked');
  assert.equal(client.readiness(EVENT_OUT), 0, 'not writable when full');
  // The buffer, give or take window-scale rounding (128-byte units, as Linux rounds up rather than shrink).
  assert.ok(server.queuedRead >= 16384 && server.queuedRead <= 16384 + 4 * 128, `receiver holds its buffer (${server.queuedRead})`);
  assert.equal(client.sndWnd, 0, 'peer advertised a zero window');
  assert.ok(client.stats.zeroWindowProbes > 0, 'zero-window probes while the window is closed');
  const got = transfer(p.clock, client, server, data, { sent: off });
  assert.ok(equalBytes(got, data), 'everything arrives once the reader drains');
  // End to end check of the full stream with a paused reader.
  const q = smallWindowPair(16384);
  let reading = false;
  const d2 = pattern(150_000, 6);
  const result = transfer(q.p.clock, q.client, q.server, d2, {
    paused: () => {
      if (!reading && q.p.clock.now() > 3000) reading = true;
      return !reading;
    },
  });
  assert.ok(equalBytes(result, d2));
  assert.ok(q.client.stats.zeroWindowProbes > 0, 'zero-window probes were sent while paused');
});

test('TCP: zero-window probe recovers a lost window update', () => {
  let dropUpdates = false;
  let dropped = 0;
  const { p, client, server } = smallWindowPair(8192, (frame, from) => {
    // Drop pure ACKs from B (window updates) while asked to.
    if (dropUpdates && from === 1 && tcpPayloadLen(frame) === 0) {
      dropped++;
      return 'drop';
    }
    return 'pass';
  });
  const data = pattern(40_000, 7);
  let off = 0;
  while (off < data.length) {
    const n = tryOp(() => client.write(data.subarray(off)));
    if (n === undefined) break;
    off += n;
  }
  p.clock.advance(1000);
  assert.equal(client.sndWnd, 0);
  // Drain the receiver while its window updates are lost.
  dropUpdates = true;
  const first = server.read(1 << 20);
  assert.ok(first.length >= 8192 && first.length < 8192 + 512, `read ${first.length}`);
  assert.ok(dropped > 0, 'window update dropped');
  dropUpdates = false;
  const probesBefore = client.stats.zeroWindowProbes;
  const rest = transfer(p.clock, client, server, data.subarray(first.length), { sent: off - first.length });
  assert.ok(equalBytes(rest, data.subarray(first.length)));
  assert.ok(client.stats.zeroWindowProbes > probesBefore, 'a probe elicited the window');
});

test('TCP: half-close and simultaneous close end in TIME-WAIT, then CLOSED after 2*MSL', () => {
  const p = stackPair({ tcp: { timeWaitMs: 1000 } });
  const { client, server } = connectPair(p);
  client.shutdown(1);
  p.clock.advance(1);
  assert.equal(server.state, TCP_CLOSE_WAIT);
  assert.equal(server.read(10).length, 0, 'EOF');
  assert.ok(server.readiness(EVENT_IN) & EVENT_IN);
  assert.throws(() => client.write(new Uint8Array(1)), ErrClosedForSend);
  server.write(new TextEncoder().encode('after'));
  assert.equal(new TextDecoder().decode(client.read(10)), 'after', 'half-closed side still receives');
  assert.equal(client.state, TCP_FIN_WAIT2);
  server.close();
  assert.equal(client.state, TCP_TIME_WAIT);
  p.clock.advance(999);
  assert.equal(client.state, TCP_TIME_WAIT);
  p.clock.advance(2);
  assert.equal(client.state, TCP_CLOSE);

  // Simultaneous close: both FINs cross on the wire (the channel delays every frame).
  const q = stackPair({ tcp: { timeWaitMs: 1000 } });
  const c = connectPair(q);
  q.channel.filter = () => 5;
  c.client.close();
  c.server.close();
  q.clock.advance(11);
  assert.equal(c.client.state, TCP_TIME_WAIT);
  assert.equal(c.server.state, TCP_TIME_WAIT);
  q.clock.advance(2000);
  assert.equal(c.client.state, TCP_CLOSE);
  assert.equal(c.server.state, TCP_CLOSE);
});

test('TCP: simultaneous open', () => {
  const p = stackPair();
  p.channel.filter = () => 5;
  const x = p.a.newTCPEndpoint(4);
  const y = p.b.newTCPEndpoint(4);
  x.bind({ addr: '', port: 1111 });
  y.bind({ addr: '', port: 2222 });
  tryConnect(x, { addr: B4, port: 2222 });
  tryConnect(y, { addr: A4, port: 1111 });
  p.clock.runUntil(() => x.state === TCP_ESTABLISHED && y.state === TCP_ESTABLISHED, 10_000);
  assert.equal(x.state, TCP_ESTABLISHED);
  assert.equal(y.state, TCP_ESTABLISHED);
  x.write(new TextEncoder().encode('hi'));
  p.clock.advance(10);
  assert.equal(new TextDecoder().decode(y.read(10)), 'hi');
});

test('TCP: connect to a closed port gets RST -> ECONNREFUSED', () => {
  const p = stackPair();
  const c = p.a.newTCPEndpoint(4);
  tryConnect(c, { addr: B4, port: 9 });
  p.clock.advance(10);
  assert.equal(c.state, TCP_CLOSE);
  assert.ok(c.readiness(EVENT_OUT) & EVENT_ERR);
  assert.throws(() => c.connect({ addr: B4, port: 9 }), ErrConnectionRefused);
  assert.equal(c.takeError(), 0, 'reported once');
  assert.equal(p.b.stats.tcp.resetsSent, 1);
  // Loopback: the refusal is known before connect returns.
  const s = loopbackStack();
  const l = s.newTCPEndpoint(4);
  tryConnect(l, { addr: ipv4('127.0.0.1'), port: 9 });
  assert.equal(l.takeError(), 111);
});

test('TCP: connect to an on-link host that never answers ARP -> EHOSTUNREACH', () => {
  const p = stackPair();
  const c = p.a.newTCPEndpoint(4);
  tryConnect(c, { addr: ipv4('10.0.0.99'), port: 80 });
  p.clock.advance(2999);
  assert.equal(c.state, TCP_SYN_SENT);
  p.clock.advance(2);
  assert.equal(c.state, TCP_CLOSE);
  assert.throws(() => c.connect({ addr: ipv4('10.0.0.99'), port: 80 }), ErrHostUnreachable);
});

test('TCP: listen backlog overflow drops SYNs until accept makes room', () => {
  const p = stackPair();
  const l = p.b.newTCPEndpoint(4);
  l.bind({ addr: '', port: 80 });
  l.listen(2);
  const clients = Array.from({ length: 5 }, () => p.a.newTCPEndpoint(4));
  for (const c of clients) tryConnect(c, { addr: B4, port: 80 });
  p.clock.advance(100);
  const established = (): number => clients.filter((c) => c.state === TCP_ESTABLISHED).length;
  assert.equal(established(), 3, 'backlog + 1 connections complete (Linux)');
  assert.ok(p.b.stats.tcp.listenOverflowSynDrop >= 2);
  l.accept();
  l.accept();
  // The dropped clients retransmit their SYN after 1 s.
  p.clock.advance(1100);
  assert.equal(established(), 5);
});

test('TCP: TIME-WAIT holds the port; SO_REUSEADDR allows rebinding', () => {
  const p = stackPair({ tcp: { timeWaitMs: 60_000 } });
  const l = p.b.newTCPEndpoint(4);
  l.setOption('SO_REUSEADDR', 1);
  l.bind({ addr: '', port: 80 });
  l.listen(4);
  const c = p.a.newTCPEndpoint(4);
  tryConnect(c, { addr: B4, port: 80 });
  p.clock.advance(10);
  const s = l.accept().ep;
  s.close(); // the server closes first: its side ends in TIME-WAIT
  p.clock.advance(10);
  c.close();
  p.clock.advance(10);
  assert.equal(s.state, TCP_TIME_WAIT);
  l.close();
  const without = p.b.newTCPEndpoint(4);
  assert.throws(() => without.bind({ addr: '', port: 80 }), ErrAddressInUse);
  const withReuse = p.b.newTCPEndpoint(4);
  withReuse.setOption('SO_REUSEADDR', 1);
  withReuse.bind({ addr: '', port: 80 });
  withReuse.listen(4);
  // A new connection from the same client port is accepted (the SYN ends the TIME-WAIT).
  const c2 = p.a.newTCPEndpoint(4);
  c2.setOption('SO_REUSEADDR', 1);
  c2.bind({ addr: '', port: c.getsockname().port || 40000 });
  tryConnect(c2, { addr: B4, port: 80 });
  p.clock.advance(10);
  assert.equal(c2.state, TCP_ESTABLISHED);
  p.clock.advance(60_000);
  assert.equal(s.state, TCP_CLOSE);
  const later = p.b.newTCPEndpoint(4);
  assert.throws(() => later.bind({ addr: '', port: 80 }), ErrAddressInUse, 'the reuse listener still holds it');
});

test('TCP: keepalive detects a dead peer', () => {
  let dead = false;
  const p = stackPair({ filter: () => (dead ? 'drop' : 'pass') });
  const { client } = connectPair(p);
  client.setOption('SO_KEEPALIVE', 1);
  client.setOption('TCP_KEEPIDLE', 10);
  client.setOption('TCP_KEEPINTVL', 2);
  client.setOption('TCP_KEEPCNT', 3);
  p.clock.advance(10_500);
  assert.equal(client.stats.keepaliveProbes, 1, 'probe answered');
  assert.equal(client.state, TCP_ESTABLISHED);
  dead = true;
  p.clock.advance(10_000 + 3 * 2000 + 100);
  assert.equal(client.state, TCP_CLOSE);
  assert.equal(client.takeError(), 110, 'ETIMEDOUT');
  assert.ok(client.readiness(EVENT_IN) & EVENT_HUP);
});

test('TCP over IPv6 with neighbor discovery', () => {
  const p = stackPair();
  const { client, server } = connectPair(p, 6, B6);
  assert.equal(server.getpeername().addr, A6);
  assert.equal(client.sndMss, 1500 - 60 - 12);
  assert.ok(p.nicA.ndp.lookup(B6) !== undefined, 'neighbor resolved');
  const data = pattern(200_000, 9);
  assert.ok(equalBytes(transfer(p.clock, client, server, data), data));
});

test('TCP: RST on close with unread data, and on data sent to a closed socket', () => {
  const p = stackPair();
  const { client, server } = connectPair(p);
  client.write(pattern(100, 1));
  p.clock.advance(10);
  server.close(); // unread data: reset instead of FIN
  p.clock.advance(10);
  assert.equal(client.state, TCP_CLOSE);
  assert.throws(() => client.read(10), ErrConnectionReset);
  assert.equal(client.read(10).length, 0, 'then EOF');
  assert.throws(() => client.write(new Uint8Array(1)), ErrClosedForSend);

  const q = stackPair();
  const c = connectPair(q);
  c.server.close(); // FIN; the client is half-open and keeps writing
  q.clock.advance(10);
  assert.equal(c.client.state, TCP_CLOSE_WAIT);
  c.client.write(pattern(10, 2));
  q.clock.advance(10);
  assert.equal(c.client.state, TCP_CLOSE, 'peer answered data with RST');
  assert.equal(c.client.takeError(), 32, 'EPIPE in CLOSE-WAIT (Linux)');
});

test('TCP: Nagle coalesces small writes; TCP_NODELAY sends each at once', () => {
  const count = (noDelay: boolean): number => {
    let segs = 0;
    const p = stackPair({ filter: (f, from) => ((from === 0 && tcpPayloadLen(f) > 0 && segs++) || true ? 'pass' : 'pass') });
    const { client, server } = connectPair(p);
    client.setOption('TCP_NODELAY', noDelay ? 1 : 0);
    p.channel.filter = () => 1; // 1 ms each way: ACKs take a while
    segs = 0;
    p.channel.filter = (f, from) => {
      if (from === 0 && tcpPayloadLen(f) > 0) segs++;
      return 1;
    };
    for (let i = 0; i < 10; i++) client.write(new Uint8Array([i]));
    p.clock.advance(100);
    assert.equal(server.read(100).length, 10);
    return segs;
  };
  assert.equal(count(true), 10);
  assert.equal(count(false), 2);
});

test('TCP: urgent data (MSG_OOB) out of band', () => {
  const p = stackPair();
  const { client, server } = connectPair(p);
  client.write(new TextEncoder().encode('abc'));
  client.write(new TextEncoder().encode('!'), { oob: true });
  client.write(new TextEncoder().encode('def'));
  p.clock.advance(50);
  assert.equal(server.readOOB(), '!'.charCodeAt(0));
  assert.equal(new TextDecoder().decode(server.read(100)), 'abc', 'a read stops at the mark');
  assert.ok(server.atMark);
  assert.equal(new TextDecoder().decode(server.read(100)), 'def');
});

test('TCP: getTcpInfo and socket options', () => {
  const p = stackPair();
  const { client } = connectPair(p);
  client.write(pattern(5000, 1));
  p.clock.advance(100);
  const info = client.getTcpInfo();
  assert.equal(info.state, TCP_ESTABLISHED);
  assert.equal(info.sndMss, 1448);
  assert.equal(info.options, 7);
  assert.ok(info.rto >= 200_000);
  assert.equal(info.bytesAcked, 5000);
  assert.equal(client.getOption('SO_RCVBUF'), 1 << 20);
  client.setOption('SO_RCVBUF', 4096);
  assert.equal(client.getOption('SO_RCVBUF'), 8192, 'doubled like Linux');
  client.setOption('TCP_KEEPIDLE', 30);
  assert.equal(client.getOption('TCP_KEEPIDLE'), 30);
  assert.equal(client.getOption('SO_ERROR'), 0);
  void EVENT_IN;
});

test('TCP over loopback: 64 KiB segments, dual-stack v6 socket accepts IPv4', () => {
  const s = loopbackStack(new FakeClock());
  const l = s.newTCPEndpoint(6);
  l.bind({ addr: '', port: 7 });
  l.listen(8);
  const c = s.newTCPEndpoint(4);
  c.connect({ addr: ipv4('127.0.0.1'), port: 7 }); // completes synchronously on loopback
  assert.equal(c.state, TCP_ESTABLISHED);
  const { ep, addr } = l.accept();
  assert.equal(addr.addr, ipv6('::ffff:127.0.0.1'));
  assert.equal(c.sndMss, 65483, 'as Linux reports on lo');
  const data = pattern(3 << 20, 11);
  let off = 0;
  const chunks: Uint8Array[] = [];
  let got = 0;
  while (got < data.length) {
    const n = tryOp(() => c.write(data.subarray(off, off + 300_000)));
    if (n !== undefined) off += n;
    for (;;) {
      const d = tryOp(() => ep.read(1 << 20));
      if (d === undefined) break;
      chunks.push(d.slice());
      got += d.length;
    }
  }
  const all = new Uint8Array(got);
  let o = 0;
  for (const ch of chunks) {
    all.set(ch, o);
    o += ch.length;
  }
  assert.ok(equalBytes(all, data));
  assert.ok(s.stats.tcp.segmentsSent < 200, `large segments (${s.stats.tcp.segmentsSent})`);
});

test('TCP: v6-only sockets refuse IPv4', () => {
  const s = loopbackStack(new FakeClock());
  const l = s.newTCPEndpoint(6);
  l.setOption('IPV6_V6ONLY', 1);
  l.bind({ addr: '', port: 7 });
  l.listen(8);
  const c = s.newTCPEndpoint(4);
  tryConnect(c, { addr: ipv4('127.0.0.1'), port: 7 });
  assert.equal(c.takeError(), 111);
  void ErrTimeout;
});

test('TCP: SO_REUSEPORT listeners share a port and split connections', () => {
  const p = stackPair();
  const ls = [0, 1].map(() => {
    const l = p.b.newTCPEndpoint(4);
    l.setOption('SO_REUSEPORT', 1);
    l.bind({ addr: '', port: 443 });
    l.listen(64);
    return l;
  });
  for (let i = 0; i < 20; i++) tryConnect(p.a.newTCPEndpoint(4), { addr: B4, port: 443 });
  p.clock.advance(100);
  const counts = ls.map((l) => l.acceptQueue.length);
  assert.equal(counts[0] + counts[1], 20);
  assert.ok(counts[0] > 0 && counts[1] > 0, `both got some (${counts})`);
});

test('TCP: closing a listener resets connections nobody accepted', () => {
  const p = stackPair();
  const l = p.b.newTCPEndpoint(4);
  l.bind({ addr: '', port: 80 });
  l.listen(4);
  const c = p.a.newTCPEndpoint(4);
  tryConnect(c, { addr: B4, port: 80 });
  p.clock.advance(10);
  assert.equal(c.state, TCP_ESTABLISHED);
  l.close();
  p.clock.advance(10);
  assert.equal(c.state, TCP_CLOSE);
  assert.equal(c.takeError(), 104, 'ECONNRESET');
  const again = p.b.newTCPEndpoint(4);
  again.bind({ addr: '', port: 80 }); // the port is free again
});

test('TCP: ICMP errors are soft once established, hard while connecting', () => {
  const p = stackPair();
  const { client } = connectPair(p);
  client.handleControl({ errno: 113, hard: false, local: false });
  assert.equal(client.state, TCP_ESTABLISHED);
  assert.equal(client.softError, 113);
  const c = p.a.newTCPEndpoint(4);
  p.channel.filter = () => 'drop';
  tryConnect(c, { addr: B4, port: 80 });
  c.handleControl({ errno: 113, hard: false, local: false });
  assert.equal(c.state, TCP_CLOSE);
  assert.equal(c.takeError(), 113);
  assert.equal(c.getCongestion(), 'reno');
});

test('TCP: segments spanning odd-sized writes are checksummed correctly on a real link', () => {
  const p = stackPair();
  const { client, server } = connectPair(p);
  const data = pattern(200_001, 12);
  const got = transfer(p.clock, client, server, data, { writeChunk: 3001 });
  assert.ok(equalBytes(got, data));
  assert.equal(p.b.stats.tcp.checksumErrors, 0);
  assert.equal(client.stats.retransSegs, 0);
});

test('TCP: notify callbacks may call back into endpoints (loopback, synchronous delivery)', () => {
  const s = loopbackStack(new FakeClock());
  const l = s.newTCPEndpoint(4);
  l.bind({ addr: '', port: 9000 });
  l.listen(4);
  let server: ReturnType<typeof l.accept>['ep'] | null = null;
  const echoed: number[] = [];
  l.setNotify((ev) => {
    if (!(ev & EVENT_IN)) return;
    server = l.accept().ep;
    const srv = server;
    // An echo server living entirely in notification callbacks.
    srv.setNotify(() => {
      for (;;) {
        const d = tryOp(() => srv.read(1 << 16));
        if (d === undefined || d.length === 0) return;
        srv.write(d.slice());
      }
    });
  });
  const c = s.newTCPEndpoint(4);
  c.setNotify(() => {
    for (;;) {
      const d = tryOp(() => c.read(1 << 16));
      if (d === undefined || d.length === 0) return;
      echoed.push(...d);
    }
  });
  c.connect({ addr: ipv4('127.0.0.1'), port: 9000 });
  assert.ok(server !== null);
  c.write(Uint8Array.of(1, 2, 3));
  c.write(Uint8Array.of(4));
  assert.deepEqual(echoed, [1, 2, 3, 4], 'echoed before write() returned');
});

test('TCP: tryReadTo and writeSpace say would-block as values, errors still throw', () => {
  const { p, client, server } = smallWindowPair(16384);
  const put = (v: Uint8Array): number => v.length;
  assert.equal(server.tryReadTo(100, put), READ_WOULD_BLOCK, 'nothing to read yet');
  assert.throws(() => server.readTo(100, put), ErrWouldBlock, 'readTo still throws');
  client.setOption('SO_SNDBUF', 16384);
  assert.ok(client.writeSpace() > 0, 'room before writing');
  const data = pattern(200_000, 7);
  writeUntilFull(client, data);
  p.clock.advance(5000);
  assert.equal(client.writeSpace(), 0, 'a full send buffer: 0, not a throw');
  assert.ok(server.tryReadTo(1 << 20, put) > 0, 'data once it arrived');
  client.shutdown(SHUT_WR);
  assert.throws(() => client.writeSpace(), ErrClosedForSend, 'after shutdown: the error write reports');
});

test('TCP_INFO: pacing from cwnd and RTT once measured; no max pacing rate (all ones)', () => {
  const p = stackPair();
  const { client, server } = connectPair(p);
  void server;
  // The paired stacks deliver at once: give the estimator a 1 ms RTT.
  client.rtt.sample(1);
  const i = buildTcpInfo(client);
  assert.ok(i.rtt > 0, `an RTT was measured (${i.rtt})`);
  const v = new DataView(encodeTcpInfo(i).buffer);
  const want = Math.floor(((i.sndMss * i.sndCwnd * 1e6) / i.rtt) * (i.sndCwnd < i.sndSsthresh / 2 ? 2 : 1.2));
  assert.equal(v.getBigUint64(104, true), BigInt(want), 'tcpi_pacing_rate');
  assert.equal(v.getBigUint64(112, true), 0xffffffffffffffffn, 'tcpi_max_pacing_rate');
  const fresh = p.a.newTCPEndpoint(4);
  const v0 = new DataView(encodeTcpInfo(buildTcpInfo(fresh)).buffer);
  assert.equal(v0.getBigUint64(104, true), 0xffffffffffffffffn, 'no RTT yet: all ones');
});

test('TCP: DF on every segment, unless IP_MTU_DISCOVER is IP_PMTUDISC_DONT', () => {
  const flags: number[] = [];
  const p = stackPair({
    filter: (frame) => {
      if (frame[12] === 0x08 && frame[13] === 0x00 && frame[14 + 9] === 6) flags.push((frame[20] << 8) | frame[21]);
      return 'pass';
    },
  });
  const { client, server } = connectPair(p);
  assert.ok(flags.length > 0 && flags.every((f) => f === 0x4000), 'handshake with DF');
  flags.length = 0;
  client.setOption('IP_MTU_DISCOVER', 0);
  client.write(pattern(100, 3));
  p.clock.advance(1);
  assert.equal(server.read(1000).length, 100);
  assert.ok(flags.length > 0 && (flags[0] & 0x4000) === 0, 'IP_PMTUDISC_DONT: no DF');
});
