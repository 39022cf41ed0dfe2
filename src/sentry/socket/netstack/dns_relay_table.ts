// The bookkeeping of the DNS relay (dns_relay.ts), kept pure so it can be
// tested without a stack or host socket.
//
// Every guest query goes to the host resolver through ONE connected socket,
// so two guest clients may well use the same transaction id: each query
// forwarded gets a relay id of its own (random, unused), and the answer
// carrying it is matched back to the guest address, port and id that asked.
// A retransmission (same guest address, port and id) keeps its relay id, so
// an answer to either copy satisfies it. Entries expire; when the table is
// full the oldest is forgotten.

/** DNS_HEADER_LEN is the fixed header every DNS message starts with. */
export const DNS_HEADER_LEN = 12;

/** Pending is one query waiting for its answer. */
export interface Pending {
  /** addr, port: where the guest asked from (netstack address string, port). */
  addr: string;
  port: number;
  /** id is the guest's transaction id. */
  id: number;
  /** relayId is the id the query carries to the host resolver. */
  relayId: number;
  /** expires: a time in ms (the table's clock) after which no answer is expected. */
  expires: number;
}

export interface RelayTableOptions {
  /** timeoutMs: how long an answer is waited for (resolvers retry after a few seconds). */
  timeoutMs?: number;
  /** max: how many queries may be outstanding. */
  max?: number;
  /** rng returns a random integer in [0, 65536). */
  rng: () => number;
}

export class RelayTable {
  /** byRelay holds the entries in expiry order (re-inserted when refreshed). */
  private readonly byRelay = new Map<number, Pending>();
  private readonly byGuest = new Map<string, number>();
  private readonly timeoutMs: number;
  private readonly max: number;
  private readonly rng: () => number;

  constructor(o: RelayTableOptions) {
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.max = Math.min(o.max ?? 1024, 32768);
    this.rng = o.rng;
  }

  get size(): number {
    return this.byRelay.size;
  }

  /** add records a query from addr:port with id and returns the relay id to send it with. */
  add(addr: string, port: number, id: number, now: number): number {
    this.sweep(now);
    const key = guestKey(addr, port, id);
    const had = this.byGuest.get(key);
    if (had !== undefined) {
      const p = this.byRelay.get(had)!;
      this.byRelay.delete(had);
      p.expires = now + this.timeoutMs;
      this.byRelay.set(had, p);
      return had;
    }
    if (this.byRelay.size >= this.max) this.remove(this.byRelay.keys().next().value as number);
    let relayId = this.rng() & 0xffff;
    // At most half the id space is ever in use, so a free id turns up quickly.
    while (this.byRelay.has(relayId)) relayId = this.rng() & 0xffff;
    this.byRelay.set(relayId, { addr, port, id, relayId, expires: now + this.timeoutMs });
    this.byGuest.set(key, relayId);
    return relayId;
  }

  /** peek returns the query relayId belongs to, keeping it; null if none. */
  peek(relayId: number, now: number): Pending | null {
    this.sweep(now);
    return this.byRelay.get(relayId) ?? null;
  }

  /** take returns and forgets the query an answer with relayId belongs to; null if none (late, unknown). */
  take(relayId: number, now: number): Pending | null {
    this.sweep(now);
    const p = this.byRelay.get(relayId);
    if (p === undefined) return null;
    this.remove(relayId);
    return p;
  }

  /** sweep forgets expired queries. */
  sweep(now: number): void {
    for (const [relayId, p] of this.byRelay) {
      if (p.expires > now) return;
      this.remove(relayId);
    }
  }

  private remove(relayId: number): void {
    const p = this.byRelay.get(relayId);
    if (p === undefined) return;
    this.byRelay.delete(relayId);
    this.byGuest.delete(guestKey(p.addr, p.port, p.id));
  }
}

function guestKey(addr: string, port: number, id: number): string {
  return `${addr}\0${port}\0${id}`;
}

/** messageId returns a DNS message's transaction id. */
export function messageId(msg: Uint8Array): number {
  return (msg[0] << 8) | msg[1];
}

/** isResponse reports the QR bit: set in answers, clear in queries. */
export function isResponse(msg: Uint8Array): boolean {
  return (msg[2] & 0x80) !== 0;
}

/** RCODE_NOERROR and RCODE_NXDOMAIN are the answers that settle a name. */
export const RCODE_NOERROR = 0;
export const RCODE_NXDOMAIN = 3;

/** rcode returns a DNS message's response code. */
export function rcode(msg: Uint8Array): number {
  return msg[3] & 0x0f;
}

/** Answer is what came back for one query: from Docker's server, from an upstream one. */
export interface Answers {
  docker?: Uint8Array;
  upstream?: Uint8Array;
}

/** UPSTREAM_GRACE_MS: how long a settling upstream answer waits for Docker's,
 *  which knows the network's names (it answers those at once). */
export const UPSTREAM_GRACE_MS = 250;

/** chooseAnswer decides which answer a guest gets, or null to wait. Docker's
 *  server knows the containers' names; for other names it forwards from the
 *  container's network namespace, which does not work once tsvisor has taken
 *  the namespace's addresses, so the relay asks an upstream server too.
 *  Docker's settling answer (NOERROR, NXDOMAIN) wins; the upstream's counts
 *  once Docker has failed or a grace has passed (a container's name must not
 *  lose to a public one); final says nothing more will come. */
export function chooseAnswer(a: Answers, elapsedMs: number, final: boolean): Uint8Array | null {
  const settles = (m: Uint8Array | undefined): m is Uint8Array =>
    m !== undefined && (rcode(m) === RCODE_NOERROR || rcode(m) === RCODE_NXDOMAIN);
  if (settles(a.docker)) return a.docker;
  if (settles(a.upstream) && (a.docker !== undefined || elapsedMs >= UPSTREAM_GRACE_MS)) return a.upstream;
  if (final || (a.docker !== undefined && a.upstream !== undefined)) return a.docker ?? a.upstream ?? null;
  return null;
}

/** withId returns a copy of msg carrying transaction id id. */
export function withId(msg: Uint8Array, id: number): Uint8Array {
  const out = Uint8Array.from(msg);
  out[0] = (id >> 8) & 0xff;
  out[1] = id & 0xff;
  return out;
}
