import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopbackEndpoint, Stack, ipv4, ipv6 } from '../../../netstack/index.js';
import type { Message } from './message.js';
import {
  MessageBuilder, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, errorMessage, parseAttrs, parseMessages, strOf, u32Of,
} from './message.js';
import { RTM_DELADDR, RTM_GETADDR, RTM_GETLINK, RTM_GETROUTE, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE, RouteError, processRoute } from './route.js';

function stack(): Stack {
  const s = new Stack();
  const lo = s.createNIC(new LoopbackEndpoint());
  s.addAddress(lo.id, ipv4('127.0.0.1'), 8);
  s.addAddress(lo.id, ipv6('::1'), 128);
  return s;
}

function req(type: number, flags: number, fixed: Uint8Array, attrs: [number, Uint8Array][] = []): Message {
  const b = new MessageBuilder(type, flags | NLM_F_REQUEST, 7, 0).bytes(fixed);
  for (const [t, v] of attrs) b.attr(t, v);
  const [m] = parseMessages(b.finish());
  return m;
}

const ctx = (s: Stack, admin = true) => ({ stack: s, admin, strict: false, warn: () => {} });

test('parseMessages stops at a truncated header, keeps alignment', () => {
  const a = new MessageBuilder(RTM_GETLINK, NLM_F_REQUEST, 1, 0).bytes(Uint8Array.of(0)).finish();
  const b = new MessageBuilder(RTM_GETADDR, NLM_F_REQUEST, 2, 0).bytes(Uint8Array.of(2)).finish();
  assert.equal(a.length, 20);
  const both = new Uint8Array(a.length + b.length + 8);
  both.set(a);
  both.set(b, a.length);
  const ms = parseMessages(both);
  assert.deepEqual(ms.map((m) => m.hdr.seq), [1, 2]);
  assert.equal(ms[1].payload[0], 2);
});

test('errorMessage quotes the header on an ack and the whole request on an error', () => {
  const m = req(RTM_NEWADDR, NLM_F_ACK, new Uint8Array(8));
  const ack = parseMessages(errorMessage(m, 0, 99, false))[0];
  assert.equal(ack.hdr.type, NLMSG_ERROR);
  assert.equal(ack.hdr.pid, 99);
  assert.equal(ack.payload.length, 4 + 16);
  const err = parseMessages(errorMessage(m, 17, 99, false))[0];
  assert.equal(new DataView(err.payload.buffer, err.payload.byteOffset).getInt32(0, true), -17);
  assert.equal(err.payload.length, 4 + m.raw.length);
});

test('GETLINK dump lists lo with its name and MTU', () => {
  const r = processRoute(ctx(stack()), req(RTM_GETLINK, NLM_F_DUMP, Uint8Array.of(0)), 5);
  assert.equal(r.dump, true);
  assert.equal(r.msgs.length, 1);
  const m = parseMessages(r.msgs[0])[0];
  assert.equal(m.hdr.type, RTM_NEWLINK);
  assert.equal(m.hdr.seq, 7);
  const attrs = parseAttrs(m.payload.subarray(16));
  assert.equal(strOf(attrs.get(3)), 'lo');
  assert.equal(u32Of(attrs.get(4)), 65536);
});

test('GETADDR dump honours the family', () => {
  const s = stack();
  const v4 = processRoute(ctx(s), req(RTM_GETADDR, NLM_F_DUMP, Uint8Array.of(2)), 5).msgs;
  assert.equal(v4.length, 1);
  const all = processRoute(ctx(s), req(RTM_GETADDR, NLM_F_DUMP, Uint8Array.of(0)), 5).msgs;
  assert.equal(all.length, 2);
  const m = parseMessages(all[1])[0];
  assert.equal(m.payload[0], 10);
  assert.equal(m.payload[1], 128);
  assert.equal(m.payload[3], 254); // scope host
});

function addrReq(type: number, addr: number[], prefix: number, index: number): Message {
  const h = new Uint8Array(8);
  h[0] = 2;
  h[1] = prefix;
  new DataView(h.buffer).setUint32(4, index, true);
  return req(type, NLM_F_ACK, h, [[2, Uint8Array.from(addr)], [1, Uint8Array.from(addr)]]);
}

test('NEWADDR/DELADDR change the stack; duplicates and strangers fail', () => {
  const s = stack();
  processRoute(ctx(s), addrReq(RTM_NEWADDR, [10, 0, 0, 2], 24, 1), 5);
  assert.ok(s.isLocalAddress(ipv4('10.0.0.2')));
  assert.ok(s.routeTable.some((r) => r.destination === ipv4('10.0.0.0') && r.prefixLen === 24));
  assert.throws(() => processRoute(ctx(s), addrReq(RTM_NEWADDR, [10, 0, 0, 2], 24, 1), 5), (e) => e instanceof RouteError && e.errno === 17);
  assert.throws(() => processRoute(ctx(s, false), addrReq(RTM_NEWADDR, [10, 0, 0, 3], 24, 1), 5), (e) => e instanceof RouteError && e.errno === 1);
  assert.throws(() => processRoute(ctx(s), addrReq(RTM_NEWADDR, [10, 0, 0, 3], 24, 9), 5), (e) => e instanceof RouteError && e.errno === 19);
  processRoute(ctx(s), addrReq(RTM_DELADDR, [10, 0, 0, 2], 24, 1), 5);
  assert.ok(!s.isLocalAddress(ipv4('10.0.0.2')));
  assert.throws(() => processRoute(ctx(s), addrReq(RTM_DELADDR, [10, 0, 0, 2], 24, 1), 5), (e) => e instanceof RouteError && e.errno === 99);
});

test('NEWROUTE adds a default route through an on-link gateway; GETROUTE lists it in main', () => {
  const s = stack();
  processRoute(ctx(s), addrReq(RTM_NEWADDR, [10, 0, 0, 2], 24, 1), 5);
  const h = new Uint8Array(12);
  h[0] = 2;
  h[4] = 254;
  processRoute(ctx(s), req(RTM_NEWROUTE, NLM_F_ACK, h, [[5, Uint8Array.of(10, 0, 0, 1)]]), 5);
  assert.ok(s.routeTable.some((r) => r.prefixLen === 0 && r.gateway === ipv4('10.0.0.1')));
  // A gateway off every link is unreachable.
  assert.throws(() => processRoute(ctx(s), req(RTM_NEWROUTE, 0, h, [[1, Uint8Array.of(1, 2, 3, 0)], [5, Uint8Array.of(9, 9, 9, 9)]]), 5),
    (e) => e instanceof RouteError && e.errno === 101);
  const dump = processRoute(ctx(s), req(RTM_GETROUTE, NLM_F_DUMP, Uint8Array.of(2)), 5).msgs.map((b) => parseMessages(b)[0]);
  const tables = dump.map((m) => m.payload[4]);
  assert.deepEqual(tables, [254, 254, 255]); // default, 10.0.0.0/24, then 127/8 in local
  assert.equal(dump[0].payload[1], 0);
});
