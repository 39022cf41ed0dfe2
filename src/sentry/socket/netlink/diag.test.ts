import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Stack } from '../../../netstack/index.js';
import { FakeClock, ipv4 } from '../../../netstack/index.js';
import { loopbackStack } from '../../../netstack/testing/harness.js';
import type { DiagContext } from './diag.js';
import { DCCPDIAG_GETSOCK, SOCK_DESTROY, SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK, processDiag } from './diag.js';
import { INET_DIAG_CONG, INET_DIAG_INFO, INET_DIAG_SHUTDOWN, INET_DIAG_SKV6ONLY, inetSockInfos } from './diag_inet.js';
import type { UnixSockInfo } from './diag_unix.js';
import { UDIAG_SHOW_NAME, UDIAG_SHOW_PEER, UDIAG_SHOW_RQLEN, UNIX_DIAG_NAME, UNIX_DIAG_PEER, UNIX_DIAG_RQLEN } from './diag_unix.js';
import type { Message } from './message.js';
import { MessageBuilder, NLMSG_DONE, NLM_F_DUMP, NLM_F_MULTI, NLM_F_REQUEST, parseAttrs, parseMessages, strOf } from './message.js';
import { RouteError } from './route.js';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const ALL = 0xfff;

function world(): { s: Stack; port: number; cport: number } {
  const clock = new FakeClock();
  const s = loopbackStack(clock);
  const l = s.newTCPEndpoint(4);
  l.bind({ addr: ipv4('127.0.0.1'), port: 8080 });
  l.listen(9);
  const c = s.newTCPEndpoint(4);
  try {
    c.connect({ addr: ipv4('127.0.0.1'), port: 8080 });
  } catch {
    // EINPROGRESS: the handshake finishes as the clock runs.
  }
  clock.advance(10);
  const l6 = s.newTCPEndpoint(6);
  l6.bind({ addr: '', port: 9090 });
  l6.listen(3);
  const u = s.newUDPEndpoint(4);
  u.bind({ addr: '', port: 5353 });
  return { s, port: 8080, cport: c.getsockname().port };
}

function ctx(s: Stack | null, unix: UnixSockInfo[] = [], admin = true): DiagContext {
  return {
    inet: (p) => (s && (p === 6 || p === 17) ? inetSockInfos(s, p) : null),
    unix: () => unix,
    admin,
    warn: () => {},
  };
}

function inetReq(family: number, protocol: number, states: number, o: { ext?: number; sport?: number; dport?: number; type?: number; flags?: number; attrs?: [number, Uint8Array][] } = {}): Message {
  const r = new Uint8Array(56);
  const dv = new DataView(r.buffer);
  r[0] = family;
  r[1] = protocol;
  r[2] = o.ext ?? 0;
  dv.setUint32(4, states, true);
  dv.setUint16(8, o.sport ?? 0, false);
  dv.setUint16(10, o.dport ?? 0, false);
  const b = new MessageBuilder(o.type ?? SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | (o.flags ?? NLM_F_DUMP), 42, 0).bytes(r);
  for (const [t, v] of o.attrs ?? []) b.attr(t, v);
  return parseMessages(b.finish())[0];
}

interface Rec { family: number; state: number; sport: number; dport: number; attrs: Map<number, Uint8Array>; type: number; flags: number }

function decode(msgs: Uint8Array[]): Rec[] {
  return msgs.map((raw) => {
    const m = parseMessages(raw)[0];
    const p = m.payload;
    const dv = new DataView(p.buffer, p.byteOffset);
    return {
      family: p[0], state: p[1], sport: dv.getUint16(4, false), dport: dv.getUint16(6, false),
      attrs: parseAttrs(p.subarray(72)), type: m.hdr.type, flags: m.hdr.flags,
    };
  });
}

function doneErrno(d: Uint8Array | null): number {
  assert.ok(d);
  const m = parseMessages(d)[0];
  assert.equal(m.hdr.type, NLMSG_DONE);
  assert.equal(m.hdr.flags, NLM_F_MULTI);
  return -new DataView(m.payload.buffer, m.payload.byteOffset).getInt32(0, true) | 0;
}

function errnoOf(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    if (e instanceof RouteError) return e.errno;
    throw e;
  }
  return 0;
}

test('TCP dump lists listeners first, with states and ports', () => {
  const { s, port, cport } = world();
  const r = processDiag(ctx(s), inetReq(AF_INET, 6, ALL), 77);
  assert.equal(r.dump, true);
  assert.equal(doneErrno(r.done), 0);
  const recs = decode(r.msgs);
  assert.deepEqual(recs.map((x) => [x.state, x.sport, x.dport]), [[10, port, 0], [1, cport, port], [1, port, cport]]);
  for (const x of recs) {
    assert.equal(x.family, AF_INET);
    assert.equal(x.flags, NLM_F_MULTI);
    assert.equal(x.type, SOCK_DIAG_BY_FAMILY);
    assert.deepEqual([...(x.attrs.get(INET_DIAG_SHUTDOWN) ?? [])], [0]);
    assert.equal(x.attrs.has(INET_DIAG_INFO), false, 'INFO only when asked');
  }
  assert.equal(parseMessages(r.msgs[0])[0].hdr.pid, 77);
});

test('state, port and family filters', () => {
  const { s, port, cport } = world();
  const listen = decode(processDiag(ctx(s), inetReq(AF_INET, 6, 1 << 10), 1).msgs);
  assert.deepEqual(listen.map((x) => x.state), [10]);
  const estab = decode(processDiag(ctx(s), inetReq(AF_INET, 6, 1 << 1), 1).msgs);
  assert.deepEqual(estab.map((x) => x.state), [1, 1]);
  // A destination port hides listeners; a source port keeps the matching ones.
  assert.deepEqual(decode(processDiag(ctx(s), inetReq(AF_INET, 6, ALL, { dport: port }), 1).msgs).map((x) => x.sport), [cport]);
  assert.deepEqual(decode(processDiag(ctx(s), inetReq(AF_INET, 6, ALL, { sport: port }), 1).msgs).map((x) => x.state), [10, 1]);
  const v6 = decode(processDiag(ctx(s), inetReq(AF_INET6, 6, ALL), 1).msgs);
  assert.deepEqual(v6.map((x) => [x.family, x.sport]), [[AF_INET6, 9090]]);
  assert.deepEqual([...(v6[0].attrs.get(INET_DIAG_SKV6ONLY) ?? [])], [0]);
  const udp = decode(processDiag(ctx(s), inetReq(AF_INET, 17, ALL), 1).msgs);
  assert.deepEqual(udp.map((x) => [x.state, x.sport]), [[7, 5353]]);
  assert.equal(decode(processDiag(ctx(s), inetReq(AF_INET, 17, 1 << 1), 1).msgs).length, 0);
});

test('INFO and CONG come from the TCP endpoint', () => {
  const { s } = world();
  const ext = (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_CONG - 1));
  const recs = decode(processDiag(ctx(s), inetReq(AF_INET, 6, 1 << 1, { ext }), 1).msgs);
  assert.equal(recs.length, 2);
  for (const x of recs) {
    const info = x.attrs.get(INET_DIAG_INFO);
    assert.equal(info?.length, 248);
    assert.equal(info?.[0], 1, 'tcpi_state');
    assert.equal(strOf(x.attrs.get(INET_DIAG_CONG)), 'reno');
  }
  // UDP has no tcp_info.
  const udp = decode(processDiag(ctx(s), inetReq(AF_INET, 17, ALL, { ext }), 1).msgs);
  assert.equal(udp[0].attrs.has(INET_DIAG_INFO), false);
});

test('bytecode filters a dump and a bad one is refused', () => {
  const { s, port } = world();
  const eq = Uint8Array.of(11 /* S_EQ */, 8, 12, 0, 0, 0, port & 0xff, port >> 8);
  const recs = decode(processDiag(ctx(s), inetReq(AF_INET, 6, ALL, { attrs: [[1, eq]] }), 1).msgs);
  assert.deepEqual(recs.map((x) => x.sport), [port, port]);
  assert.equal(errnoOf(() => processDiag(ctx(s), inetReq(AF_INET, 6, ALL, { attrs: [[1, Uint8Array.of(99, 4, 8, 0)]] }), 1)), 22);
  const mark = Uint8Array.of(10, 12, 16, 0, 1, 0, 0, 0, 255, 255, 255, 255);
  assert.equal(errnoOf(() => processDiag(ctx(s, [], false), inetReq(AF_INET, 6, ALL, { attrs: [[1, mark]] }), 1)), 1);
});

test('errors: lengths, families, types, protocols, destroy, host sockets', () => {
  const { s } = world();
  const short = parseMessages(new MessageBuilder(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0).bytes(Uint8Array.of(2, 6, 0, 0)).finish())[0];
  assert.equal(errnoOf(() => processDiag(ctx(s), short, 1)), 22);
  assert.equal(errnoOf(() => processDiag(ctx(s), inetReq(200, 6, ALL), 1)), 22);
  assert.equal(errnoOf(() => processDiag(ctx(s), inetReq(16, 6, ALL), 1)), 2, 'no netlink_diag');
  assert.equal(errnoOf(() => processDiag(ctx(s), inetReq(AF_INET, 6, ALL, { type: 30 }), 1)), 22);
  assert.equal(errnoOf(() => processDiag(ctx(s), inetReq(AF_INET, 6, ALL, { type: SOCK_DESTROY, flags: 0 }), 1)), 95);
  // No handler for a protocol: the dump ends with the error in NLMSG_DONE.
  const sctp = processDiag(ctx(s), inetReq(AF_INET, 132, ALL), 1);
  assert.equal(sctp.msgs.length, 0);
  assert.equal(doneErrno(sctp.done), 2);
  assert.equal(doneErrno(processDiag(ctx(null), inetReq(AF_INET, 6, ALL), 1).done), 2, 'host network: not listed');
});

test('exact lookups by address and cookie', () => {
  const { s, port, cport } = world();
  const r = new Uint8Array(56);
  const dv = new DataView(r.buffer);
  r[0] = AF_INET;
  r[1] = 6;
  dv.setUint16(8, cport, false);
  dv.setUint16(10, port, false);
  r.set([127, 0, 0, 1], 12);
  r.set([127, 0, 0, 1], 28);
  dv.setUint32(48, 0xffffffff, true);
  dv.setUint32(52, 0xffffffff, true);
  const m = parseMessages(new MessageBuilder(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 5, 0).bytes(r).finish())[0];
  const out = processDiag(ctx(s), m, 1);
  assert.equal(out.dump, false);
  const recs = decode(out.msgs);
  assert.deepEqual(recs.map((x) => [x.sport, x.dport, x.flags]), [[cport, port, 0]]);
  dv.setUint32(48, 1234, true);
  const stale = parseMessages(new MessageBuilder(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 5, 0).bytes(r).finish())[0];
  assert.equal(errnoOf(() => processDiag(ctx(s), stale, 1)), 2, 'TCP: a wrong cookie is ENOENT');
});

test('TCPDIAG_GETSOCK dumps both IP versions and echoes its type', () => {
  const { s } = world();
  const req = new Uint8Array(60);
  req[0] = AF_INET;
  new DataView(req.buffer).setUint32(52, 1 << 10, true);
  const m = parseMessages(new MessageBuilder(TCPDIAG_GETSOCK, NLM_F_REQUEST | NLM_F_DUMP, 3, 0).bytes(req).finish())[0];
  const recs = decode(processDiag(ctx(s), m, 1).msgs);
  assert.deepEqual(recs.map((x) => [x.type, x.family]), [[TCPDIAG_GETSOCK, AF_INET], [TCPDIAG_GETSOCK, AF_INET6]]);
  // Any attribute means a filter must be among them.
  const withAttr = parseMessages(new MessageBuilder(TCPDIAG_GETSOCK, NLM_F_REQUEST | NLM_F_DUMP, 3, 0).bytes(req)
    .attr(2, new Uint8Array(4)).finish())[0];
  assert.equal(errnoOf(() => processDiag(ctx(s), withAttr, 1)), 22);
  const dccp = parseMessages(new MessageBuilder(DCCPDIAG_GETSOCK, NLM_F_REQUEST | NLM_F_DUMP, 3, 0).bytes(req).finish())[0];
  assert.equal(doneErrno(processDiag(ctx(s), dccp, 1).done), 2);
});

function unixSock(over: Partial<UnixSockInfo>): UnixSockInfo {
  return {
    type: 1, state: 1, ino: 100, cookie: 5, name: null, vfs: null, peer: null, icons: null, rqueue: 0, wqueue: 0,
    meminfo: new Array(9).fill(0), shutdown: 0, uid: 0, ...over,
  };
}

function unixReq(states: number, show: number, ino = 0, flags = NLM_F_DUMP): Message {
  const r = new Uint8Array(24);
  const dv = new DataView(r.buffer);
  r[0] = AF_UNIX;
  dv.setUint32(4, states, true);
  dv.setUint32(8, ino, true);
  dv.setUint32(12, show, true);
  dv.setUint32(16, 0xffffffff, true);
  dv.setUint32(20, 0xffffffff, true);
  return parseMessages(new MessageBuilder(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | flags, 9, 0).bytes(r).finish())[0];
}

test('unix_diag: states, names, peers and queue lengths', () => {
  const name = Uint8Array.of(0, 120, 121);
  const socks = [
    unixSock({ ino: 100, state: 10, name, rqueue: 2, wqueue: 128 }),
    unixSock({ ino: 101, peer: 102, rqueue: 7, wqueue: 3 }),
    unixSock({ ino: 103, state: 7 }),
  ];
  const r = processDiag(ctx(null, socks), unixReq(1 << 1 | 1 << 10, UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN), 1);
  assert.equal(doneErrno(r.done), 0);
  const ms = r.msgs.map((x) => parseMessages(x)[0]);
  assert.deepEqual(ms.map((m) => new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(4, true)), [100, 101]);
  const a0 = parseAttrs(ms[0].payload.subarray(16));
  assert.deepEqual([...(a0.get(UNIX_DIAG_NAME) ?? [])], [...name]);
  assert.equal(a0.has(UNIX_DIAG_PEER), false);
  assert.deepEqual([...(a0.get(UNIX_DIAG_RQLEN) ?? [])], [2, 0, 0, 0, 128, 0, 0, 0]);
  const a1 = parseAttrs(ms[1].payload.subarray(16));
  assert.deepEqual([...(a1.get(UNIX_DIAG_PEER) ?? [])], [102, 0, 0, 0]);
  assert.equal(a1.has(UNIX_DIAG_NAME), false);
  // Exact lookups.
  const one = processDiag(ctx(null, socks), unixReq(0, 0, 103, 0), 1);
  assert.equal(one.dump, false);
  assert.equal(one.msgs.length, 1);
  assert.equal(errnoOf(() => processDiag(ctx(null, socks), unixReq(0, 0, 0, 0), 1)), 22);
  assert.equal(errnoOf(() => processDiag(ctx(null, socks), unixReq(0, 0, 999, 0), 1)), 2);
  assert.equal(errnoOf(() => processDiag(ctx(null, socks), unixReq(0, 0, 103, 0), 1)), 0);
});
