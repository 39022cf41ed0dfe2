// DNS over TCP to Docker's embedded server (127.0.0.11:53) inside the
// sandbox. Resolvers switch to TCP when an answer comes back truncated
// (glibc, musl) or when asked to (`dig +tcp`, `options use-vc`). The Sentry
// cannot open a TCP connection in the container's network namespace (it
// only got one UDP socket there, see dns_relay.ts), so a netstack listener
// at the same address takes the guests' connections, splits each stream
// into messages (RFC 1035 4.2.2: a 2-byte length before each), and asks
// every query through the UDP relay (DnsRelay.ask): Docker's server and the
// upstream one, as for UDP. Each answer goes back on the connection that
// asked, in the order the answers come (RFC 7766 allows any order; clients
// match by id). An answer that was truncated over UDP stays truncated.

import type { Stack } from '../../../netstack/index.js';
import { ErrWouldBlock, TCPEndpoint, ipv4 } from '../../../netstack/index.js';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT } from '../../vfs/waiter.js';
import { DNS_HEADER_LEN, isResponse } from './dns_relay_table.js';

/** DnsAsker asks one query and calls reply once: with the answer (carrying
 *  the query's id), or null when none will come. */
export interface DnsAsker {
  ask(query: Uint8Array, reply: (answer: Uint8Array | null) => void): void;
}

/** DnsStreamFramer splits a DNS-over-TCP byte stream into messages. */
export class DnsStreamFramer {
  private buf: Uint8Array = new Uint8Array(0);

  /** push adds bytes read and returns the messages now complete. */
  push(data: Uint8Array): Uint8Array[] {
    if (this.buf.length === 0) this.buf = Uint8Array.from(data);
    else {
      const b = new Uint8Array(this.buf.length + data.length);
      b.set(this.buf);
      b.set(data, this.buf.length);
      this.buf = b;
    }
    const out: Uint8Array[] = [];
    let off = 0;
    while (this.buf.length - off >= 2) {
      const n = (this.buf[off] << 8) | this.buf[off + 1];
      if (this.buf.length - off - 2 < n) break;
      out.push(this.buf.slice(off + 2, off + 2 + n));
      off += 2 + n;
    }
    this.buf = this.buf.slice(off);
    return out;
  }

  /** pending is how many bytes of an incomplete message are held. */
  get pending(): number {
    return this.buf.length;
  }
}

/** frameMessage prefixes msg with its 2-byte length (msg is at most 65535 bytes). */
export function frameMessage(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + msg.length);
  out[0] = (msg.length >> 8) & 0xff;
  out[1] = msg.length & 0xff;
  out.set(msg, 2);
  return out;
}

/** How many connections are served at once; more are refused (closed at once). */
const MAX_CONNS = 64;
/** How many queries one connection may have outstanding. */
const MAX_OUTSTANDING = 64;
/** An idle connection is closed after this long (servers do: RFC 7766 6.2.3). */
const IDLE_MS = 10_000;

/** DnsTcpServer takes guests' DNS-over-TCP connections on address:port. */
export class DnsTcpServer {
  private readonly listener: TCPEndpoint;
  private readonly conns = new Set<DnsTcpConn>();
  private closed = false;

  constructor(stack: Stack, address: string, port: number, private readonly asker: DnsAsker) {
    this.listener = new TCPEndpoint(stack, 4);
    try {
      this.listener.bind({ addr: ipv4(address), port });
      this.listener.listen(MAX_CONNS);
    } catch (e) {
      this.listener.close();
      throw e;
    }
    this.listener.setNotify((ev) => {
      if (ev & EVENT_IN) this.acceptAll();
    });
  }

  private acceptAll(): void {
    for (;;) {
      let ep: TCPEndpoint;
      try {
        ep = this.listener.accept().ep;
      } catch (e) {
        if (e instanceof ErrWouldBlock) return;
        throw e;
      }
      if (this.closed || this.conns.size >= MAX_CONNS) {
        ep.close();
        continue;
      }
      const c = new DnsTcpConn(ep, this.asker, () => this.conns.delete(c));
      this.conns.add(c);
      c.onEvents(EVENT_IN);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.setNotify(null);
    this.listener.close();
    for (const c of [...this.conns]) c.close();
  }
}

/** DnsTcpConn is one guest connection. */
class DnsTcpConn {
  private readonly framer = new DnsStreamFramer();
  /** out holds framed answers not yet taken by the send buffer. */
  private out: Uint8Array[] = [];
  private outstanding = 0;
  private peerDone = false;
  private closed = false;
  private idle: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly ep: TCPEndpoint, private readonly asker: DnsAsker, private readonly onClose: () => void) {
    ep.setNotify((ev) => this.onEvents(ev));
    this.touch();
  }

  onEvents(ev: number): void {
    if (this.closed) return;
    if (ev & (EVENT_IN | EVENT_HUP | EVENT_ERR)) this.readAll();
    if (!this.closed && ev & (EVENT_OUT | EVENT_HUP | EVENT_ERR)) this.flush();
  }

  private readAll(): void {
    while (!this.closed && !this.peerDone) {
      let data: Uint8Array;
      try {
        data = this.ep.read(65536);
      } catch (e) {
        if (e instanceof ErrWouldBlock) return;
        this.close(); // reset, or an error queued on the connection
        return;
      }
      if (data.length === 0) {
        // The guest sent all it will: answer what is asked, then close.
        this.peerDone = true;
        this.maybeFinish();
        return;
      }
      this.touch();
      for (const q of this.framer.push(data)) {
        if (q.length < DNS_HEADER_LEN || isResponse(q) || this.outstanding >= MAX_OUTSTANDING) {
          this.close(); // not a DNS client, or one that never reads
          return;
        }
        this.outstanding++;
        this.asker.ask(q, (a) => this.answered(a));
      }
    }
  }

  private answered(a: Uint8Array | null): void {
    if (this.closed) return;
    this.outstanding--;
    if (a === null) {
      this.maybeFinish(); // no answer: the guest's resolver times out and retries
      return;
    }
    this.out.push(frameMessage(a));
    this.touch();
    this.flush();
  }

  private flush(): void {
    while (!this.closed && this.out.length > 0) {
      const b = this.out[0];
      let n: number;
      try {
        n = this.ep.write(b);
      } catch (e) {
        if (e instanceof ErrWouldBlock) return;
        this.close();
        return;
      }
      if (n === 0) return;
      if (n < b.length) {
        this.out[0] = b.subarray(n);
        return;
      }
      this.out.shift();
    }
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.peerDone && this.outstanding === 0 && this.out.length === 0) this.close();
  }

  /** touch restarts the idle timer (an unanswered query waits for its answer, not the timer). */
  private touch(): void {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.outstanding === 0) this.close();
      else this.touch(); // the relay answers (or gives up) within seconds
    }, IDLE_MS);
    this.idle.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idle !== null) clearTimeout(this.idle);
    this.ep.setNotify(null);
    this.ep.close();
    this.onClose();
  }
}
