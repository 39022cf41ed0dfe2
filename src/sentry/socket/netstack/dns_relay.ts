// Docker's embedded DNS server (127.0.0.11:53 in a container on a
// user-defined network) inside the sandbox. Docker serves that address with
// NAT rules in the container's network namespace, towards a socket dockerd
// listens on there; the netstack has its own loopback, where nothing would
// answer. So runsc opens a UDP socket in that namespace, connected to
// 127.0.0.11:53, before the Sentry is confined (src/runsc/boot/netns.ts),
// and the Sentry relays: a netstack UDP endpoint bound at boot to the same
// address takes the guests' queries, forwards each through the host socket
// under a relay id of its own (dns_relay_table.ts) and sends each answer
// back to the guest address and port that asked, with the guest's id.
// Names outside the network: dockerd forwards them from the container's
// namespace, whose addresses the netstack took, so the relay also asks the
// upstream servers Docker would (through the guest network) and answers
// with the better reply (chooseAnswer).
// DNS over TCP to that address is taken by a netstack listener and asked
// through the same relay (dns_relay_tcp.ts).

import { randomBytes } from 'node:crypto';
import { closeSync } from 'node:fs';
import type { Kernel } from '../../kernel/kernel.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, WaitQueue } from '../../vfs/waiter.js';
import { ErrWouldBlock, UDPEndpoint, ipv4 } from '../../../netstack/index.js';
import type { Stack } from '../../../netstack/index.js';
import { native } from '../../../platform/ptrace/native.js';
import { unwatch, watch } from '../hostinet/notifier.js';
import type { Answers } from './dns_relay_table.js';
import { DnsTcpServer } from './dns_relay_tcp.js';
import type { DnsAsker } from './dns_relay_tcp.js';
import { DNS_HEADER_LEN, RelayTable, UPSTREAM_GRACE_MS, chooseAnswer, isResponse, messageId, withId } from './dns_relay_table.js';

const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;
/** The largest UDP payload: a DNS answer never exceeds it. */
const MAX_DATAGRAM = 65535;
/** After this long the best answer so far is given (resolvers retry after 5 s). */
const ANSWER_WAIT_MS = 3000;

/** DnsRelayConfig is the relay runsc asked for: fd is a UDP socket connected to
 *  the host-side server; the guests reach it at address:port on loopback. */
export interface DnsRelayConfig {
  fd: number;
  address: string;
  port: number;
  /** fallback: upstream servers (IPv4) asked in parallel, through the guest network. */
  fallback?: string[];
}

/** HostQueue turns the notifier's readiness events into a callback (a
 *  WaitQueue, which is what the notifier reports to, that never forgets). */
class HostQueue extends WaitQueue {
  constructor(private readonly onEvents: (events: number) => void) {
    super();
  }

  override notify(events: number): void {
    this.onEvents(events);
  }
}

/** Random 16-bit numbers, drawn in batches (the relay ids). */
function randomIds(): () => number {
  let pool = new Uint16Array(0);
  let i = 0;
  return () => {
    if (i >= pool.length) {
      pool = new Uint16Array(randomBytes(512).buffer);
      i = 0;
    }
    return pool[i++];
  };
}

export class DnsRelay implements DnsAsker {
  private readonly ep: UDPEndpoint;
  /** up asks the upstream server, from an ephemeral port of the guest network. */
  private readonly up: UDPEndpoint | null = null;
  private readonly upstream: { addr: ReturnType<typeof ipv4>; port: number } | null = null;
  private readonly table = new RelayTable({ rng: randomIds() });
  /** Answers so far, by relay id, with when the query was sent. */
  private readonly answers = new Map<number, Answers & { sent: number }>();
  private readonly rx = new Uint8Array(MAX_DATAGRAM);
  private readonly info = new Int32Array(3);
  private closed = false;
  /** replyTo: where answers to queries that came over TCP go, by relay id. */
  private readonly replyTo = new Map<number, (answer: Uint8Array | null) => void>();
  private tcpSerial = 0;
  /** tcp takes DNS over TCP on the same address (null when it could not listen). */
  private readonly tcp: DnsTcpServer | null = null;
  /** Counters for diagnostics. */
  readonly stats = { queries: 0, answers: 0, dropped: 0, hostErrors: 0 };

  constructor(stack: Stack, private readonly cfg: DnsRelayConfig, private readonly log: (msg: string) => void) {
    this.ep = new UDPEndpoint(stack, 4);
    // Bound before any guest runs: no guest socket can take the address first.
    this.ep.bind({ addr: ipv4(cfg.address), port: cfg.port });
    this.ep.setNotify((ev) => {
      if (ev & EVENT_IN) this.fromGuests();
    });
    const fb = cfg.fallback?.[0];
    if (fb) {
      this.upstream = { addr: ipv4(fb), port: 53 };
      this.up = new UDPEndpoint(stack, 4);
      this.up.setNotify((ev) => {
        if (ev & EVENT_IN) this.fromUpstream();
      });
    }
    const r = watch(cfg.fd, new HostQueue((ev) => {
      if (ev & (EVENT_IN | EVENT_ERR | EVENT_HUP)) this.fromHost();
    }));
    if (r < 0) {
      this.ep.close();
      throw new Error(`DNS relay: cannot watch the host socket (errno ${-r})`);
    }
    try {
      this.tcp = new DnsTcpServer(stack, cfg.address, cfg.port, this);
    } catch (e) {
      log(`DNS relay: no DNS over TCP on ${cfg.address}:${cfg.port} (${(e as Error).message})`);
    }
    // Anything queued before the watch began would raise no edge.
    this.fromHost();
  }

  /** ask forwards one query that came over TCP; reply gets its answer (with
   *  the query's id), or null once none will come. */
  ask(query: Uint8Array, reply: (answer: Uint8Array | null) => void): void {
    if (this.closed) {
      reply(null);
      return;
    }
    // A key of its own per query: two queries on one connection may share an id.
    const relayId = this.forward(query, `tcp#${this.tcpSerial++}`, 0);
    if (relayId === null) {
      reply(null);
      return;
    }
    this.replyTo.set(relayId, reply);
    // Unanswered: the table forgets the query after its timeout; so does this.
    setTimeout(() => this.giveUp(relayId, reply), ANSWER_WAIT_MS + 1000).unref();
  }

  private giveUp(relayId: number, reply: (answer: Uint8Array | null) => void): void {
    if (this.replyTo.get(relayId) !== reply) return;
    this.replyTo.delete(relayId);
    reply(null);
  }

  /** fromGuests forwards every query waiting on the guest-side endpoint. */
  private fromGuests(): void {
    for (;;) {
      let d;
      try {
        d = this.ep.recv(MAX_DATAGRAM);
      } catch (e) {
        if (e instanceof ErrWouldBlock) return;
        this.stats.dropped++; // an ICMP error queued on the endpoint: nothing to do with it
        continue;
      }
      if (d.from === null) return; // closed
      const q = d.data;
      if (q.length < DNS_HEADER_LEN || isResponse(q)) {
        this.stats.dropped++;
        continue;
      }
      this.forward(q, d.from.addr, d.from.port);
    }
  }

  /** forward sends a guest's query (from addr:port, or a TCP query's key)
   *  to Docker's server and the upstream one; returns its relay id, or null
   *  when it could not be sent. */
  private forward(q: Uint8Array, addr: string, port: number): number | null {
    const now = Date.now();
    const relayId = this.table.add(addr, port, messageId(q), now);
    const fwd = withId(q, relayId);
    if (this.up && this.upstream) {
      if (!this.answers.has(relayId)) {
        this.answers.set(relayId, { sent: now });
        // Decide when the grace is over, and at the latest when waiting ends.
        setTimeout(() => this.decide(relayId, false), UPSTREAM_GRACE_MS + 5).unref();
        setTimeout(() => this.decide(relayId, true), ANSWER_WAIT_MS).unref();
      }
      try {
        this.up.send(fwd, this.upstream);
      } catch {
        this.stats.hostErrors++; // no route out: Docker's answer alone
      }
    }
    const r = native.netSendmsg(this.cfg.fd, fwd, null, null, MSG_DONTWAIT);
    if (r < 0) {
      // The query is lost, as on a congested link: the guest's resolver retries.
      this.stats.hostErrors++;
      this.log(`DNS relay: forwarding a query failed (errno ${-r})`);
      return this.up ? relayId : null;
    }
    this.stats.queries++;
    return relayId;
  }

  /** fromHost drains the host socket (edge-triggered: until EAGAIN) and answers the guests. */
  private fromHost(): void {
    if (this.closed) return;
    for (;;) {
      const n = native.netRecvmsg(this.cfg.fd, this.rx, null, null, MSG_DONTWAIT, this.info);
      if (n === -EINTR) continue;
      if (n === -EAGAIN) return;
      if (n < 0) {
        // ECONNREFUSED: nothing listens behind 127.0.0.11 (yet); the queries time out.
        this.stats.hostErrors++;
        continue;
      }
      const a = this.rx.subarray(0, n);
      if (n < DNS_HEADER_LEN || !isResponse(a)) {
        this.stats.dropped++;
        continue;
      }
      this.answered(messageId(a), 'docker', Uint8Array.from(a));
    }
  }

  /** fromUpstream takes the upstream server's answers. */
  private fromUpstream(): void {
    for (;;) {
      let d;
      try {
        d = this.up!.recv(MAX_DATAGRAM);
      } catch (e) {
        if (e instanceof ErrWouldBlock) return;
        continue; // an ICMP error (unreachable): Docker's answer alone
      }
      if (d.from === null) return;
      if (d.data.length < DNS_HEADER_LEN || !isResponse(d.data)) continue;
      this.answered(messageId(d.data), 'upstream', d.data);
    }
  }

  /** answered records one answer to relayId's query and decides. */
  private answered(relayId: number, from: 'docker' | 'upstream', a: Uint8Array): void {
    const got = this.answers.get(relayId);
    if (got === undefined) {
      // No upstream asked (or decided already): Docker's answer goes straight on.
      if (from === 'docker') this.deliver(relayId, a);
      return;
    }
    if (got[from] === undefined) got[from] = a;
    this.decide(relayId, false);
  }

  /** decide answers relayId's guest once chooseAnswer has an answer. */
  private decide(relayId: number, final: boolean): void {
    const got = this.answers.get(relayId);
    if (got === undefined) return;
    const a = chooseAnswer(got, Date.now() - got.sent, final);
    if (a === null && !final) return;
    this.answers.delete(relayId);
    if (a !== null) this.deliver(relayId, a);
  }

  /** deliver sends an answer to the guest that asked, with its id. */
  private deliver(relayId: number, a: Uint8Array): void {
    const p = this.table.take(relayId, Date.now());
    if (p === null) {
      this.stats.dropped++;
      return;
    }
    const reply = this.replyTo.get(relayId);
    if (reply !== undefined) {
      this.replyTo.delete(relayId);
      reply(withId(a, p.id));
      this.stats.answers++;
      return;
    }
    try {
      this.ep.send(withId(a, p.id), { addr: p.addr, port: p.port });
      this.stats.answers++;
    } catch {
      this.stats.dropped++;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    unwatch(this.cfg.fd);
    this.tcp?.close();
    this.ep.close();
    this.up?.close();
  }
}

/** startDnsRelay starts relaying guest DNS queries on cfg.address:cfg.port of
 *  k's stack to the host socket cfg.fd (which it then owns). Call at boot,
 *  before the first guest process runs. When it cannot (the address taken),
 *  it says why and returns null: the sandbox runs without it. */
export function startDnsRelay(k: Kernel, stack: Stack, cfg: DnsRelayConfig): DnsRelay | null {
  let relay: DnsRelay;
  try {
    relay = new DnsRelay(stack, cfg, (msg) => k.log.warnOnce(msg, msg));
  } catch (e) {
    k.log.warning(`DNS relay for ${cfg.address}:${cfg.port}: not started (${(e as Error).message})`);
    try {
      closeSync(cfg.fd);
    } catch {
      // not ours after all
    }
    return null;
  }
  k.log.debug(`DNS relay: ${cfg.address}:${cfg.port} (udp and tcp) forwarded through host fd ${cfg.fd}`);
  return relay;
}
