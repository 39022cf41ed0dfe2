// Test helpers: deterministic stacks wired by channels or loopback, and
// loops that drive transfers with a fake clock. Used by the unit tests and
// the benchmark; not part of the stack proper.

import { ipv4, ipv6, mac, type Address } from '../addr.js';
import { FakeClock, type Clock } from '../clock.js';
import { ErrWouldBlock } from '../errors.js';
import { Channel, type ChannelFilter } from '../link/channel.js';
import { EthernetEndpoint } from '../link/ethernet.js';
import { LoopbackEndpoint } from '../link/loopback.js';
import type { NIC } from '../stack/nic.js';
import { Stack } from '../stack/stack.js';
import type { TCPConfig } from '../transport/tcp/protocol.js';
import type { TCPEndpoint } from '../transport/tcp/endpoint.js';

/** seededRandom is mulberry32: a small deterministic PRNG. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const A4 = ipv4('10.0.0.1');
export const B4 = ipv4('10.0.0.2');
export const A6 = ipv6('2001:db8::1');
export const B6 = ipv6('2001:db8::2');

export interface Pair {
  clock: FakeClock;
  channel: Channel;
  a: Stack;
  b: Stack;
  nicA: NIC;
  nicB: NIC;
}

export interface PairOptions {
  mtu?: number;
  filter?: ChannelFilter;
  tcp?: Partial<TCPConfig>;
  seed?: number;
}

/** stackPair returns two stacks on one Ethernet channel: A 10.0.0.1/24 + 2001:db8::1/64, B .2 / ::2. */
export function stackPair(opts: PairOptions = {}): Pair {
  const clock = new FakeClock();
  const channel = new Channel(clock, { mtu: opts.mtu ?? 1500, filter: opts.filter });
  const a = new Stack({ clock, random: seededRandom(opts.seed ?? 1), tcp: opts.tcp });
  const b = new Stack({ clock, random: seededRandom((opts.seed ?? 1) + 1000), tcp: opts.tcp });
  const nicA = a.createNIC(new EthernetEndpoint(channel.a, mac('02:00:00:00:00:01')));
  const nicB = b.createNIC(new EthernetEndpoint(channel.b, mac('02:00:00:00:00:02')));
  a.addAddress(nicA.id, A4, 24);
  b.addAddress(nicB.id, B4, 24);
  a.addAddress(nicA.id, A6, 64);
  b.addAddress(nicB.id, B6, 64);
  return { clock, channel, a, b, nicA, nicB };
}

/** loopbackStack returns a stack with lo (127.0.0.1/8, ::1/128). */
export function loopbackStack(clock: Clock = new FakeClock(), tcp?: Partial<TCPConfig>): Stack {
  const s = new Stack({ clock, random: seededRandom(7), tcp });
  const lo = s.createNIC(new LoopbackEndpoint());
  s.addAddress(lo.id, ipv4('127.0.0.1'), 8);
  s.addAddress(lo.id, ipv6('::1'), 128);
  return s;
}

/** pattern returns n bytes of a position-dependent pattern. */
export function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** tryOp runs op and returns undefined if it would block. */
export function tryOp<T>(op: () => T): T | undefined {
  try {
    return op();
  } catch (e) {
    if (e instanceof ErrWouldBlock) return undefined;
    throw e;
  }
}

export interface TransferOptions {
  /** readMax bounds each read (default 1 MiB). */
  readMax?: number;
  /** writeChunk is the size handed to each write (default 64 KiB). */
  writeChunk?: number;
  /** limitMs of simulated time before giving up. */
  limitMs?: number;
  /** paused: while it returns true the receiver does not read. */
  paused?: () => boolean;
  /** close the sender once everything was written. */
  closeAfter?: boolean;
  /** sent: how much of data was already written before the call. */
  sent?: number;
}

/**
 * transfer pushes data from tx to rx, advancing the fake clock only when
 * nothing else progresses, and returns what rx received (until data.length
 * bytes or EOF).
 */
export function transfer(clock: FakeClock, tx: TCPEndpoint, rx: TCPEndpoint, data: Uint8Array, opts: TransferOptions = {}): Uint8Array {
  const readMax = opts.readMax ?? 1 << 20;
  const chunk = opts.writeChunk ?? 65536;
  const deadline = clock.now() + (opts.limitMs ?? 600_000);
  const out = new Uint8Array(data.length);
  let off = opts.sent ?? 0;
  let got = 0;
  let closed = false;
  let eof = false;
  while (got < data.length && !eof) {
    let progress = false;
    while (off < data.length) {
      const n = tryOp(() => tx.write(data.subarray(off, Math.min(off + chunk, data.length))));
      if (n === undefined || n === 0) break;
      off += n;
      progress = true;
    }
    if (off === data.length && opts.closeAfter && !closed) {
      tx.shutdown(1);
      closed = true;
    }
    while (!(opts.paused?.() ?? false)) {
      const d = tryOp(() => rx.read(readMax));
      if (d === undefined) break;
      if (d.length === 0) {
        eof = true;
        break;
      }
      if (got + d.length > out.length) throw new Error('received more than was sent');
      out.set(d, got);
      got += d.length;
      progress = true;
    }
    if (!progress) {
      const next = clock.nextAt();
      if (next === undefined || next > deadline) throw new Error(`transfer stalled at ${got}/${data.length} bytes (sent ${off})`);
      clock.advance(next - clock.now());
    }
  }
  return out.subarray(0, got);
}

/** equalBytes compares two arrays. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** connectPair opens a TCP connection from stack a to a listener on b and returns both ends. */
export function connectPair(
  p: { clock: FakeClock; a: Stack; b: Stack },
  family: 4 | 6 = 4,
  addrB: Address = family === 4 ? B4 : B6,
  port = 8080,
): { client: TCPEndpoint; server: TCPEndpoint; listener: TCPEndpoint } {
  const listener = p.b.newTCPEndpoint(family);
  listener.bind({ addr: '', port });
  listener.listen(16);
  const client = p.a.newTCPEndpoint(family);
  tryConnect(client, { addr: addrB, port });
  p.clock.runUntil(() => client.state === 1 && listener.readiness(1) !== 0, 60_000);
  const server = listener.accept().ep;
  return { client, server, listener };
}

/** tryConnect starts a connection, swallowing ErrConnectStarted. */
export function tryConnect(ep: TCPEndpoint, to: { addr: Address; port: number }): void {
  try {
    ep.connect(to);
  } catch (e) {
    if ((e as { errno?: number }).errno !== 115) throw e;
  }
}
