// A Unix socket's receive queue: messages (Linux's skbs) in arrival order,
// each charged to its sender's send buffer until it is consumed. Stream
// sockets read across messages; datagram and seqpacket sockets read one at a
// time. Pure data structure: waking anyone is the socket's business.

import { sandboxLimits } from '../../kernel/limits.js';
import type { FileDescription } from '../../vfs/file_description.js';
import type { UCred } from '../abi.js';

/** Sender is what a message remembers of the socket that sent it. */
export interface Sender {
  /** wmem counts the truesize of its messages still queued somewhere. */
  wmem: number;
  /** uncharged is called after wmem dropped (the sender may wake writers). */
  uncharged(): void;
  /** sourceAddress is the sender's name as a receiver reports it (null: unnamed). */
  sourceAddress(): Uint8Array | null;
}

export interface UnixMessage {
  data: Uint8Array;
  /** off: bytes of data already read (stream sockets read messages piecemeal). */
  off: number;
  /** The sending socket (null for data put back by unread); its name is looked up when read. */
  sender: Sender | null;
  /** What the message costs the sender's send buffer. */
  cost: number;
  /** Passed descriptors: references the message owns. */
  rights: FileDescription[] | null;
  creds: UCred | null;
}

/** truesize approximates what Linux charges for a message of len bytes (an
 *  skb: a power-of-two data block with its shared info, plus the sk_buff). */
export function truesize(len: number): number {
  const head = ((len + 63) & ~63) + 320;
  if (head <= 4096) return 2 ** Math.ceil(Math.log2(Math.max(head, 512))) + 256;
  return ((len + 63) & ~63) + 1152;
}

export class MessageQueue {
  private items: UnixMessage[] = [];
  private head = 0;
  /** bytes is the unread data in the queue. */
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** at returns the i-th message from the front, or undefined. */
  at(i: number): UnixMessage | undefined {
    return this.items[this.head + i];
  }

  push(m: UnixMessage): void {
    this.items.push(m);
    this.bytes += m.data.length - m.off;
    if (m.sender) charge(m);
  }

  /** unshift puts a message back at the front. */
  unshift(m: UnixMessage): void {
    if (this.head > 0) this.items[--this.head] = m;
    else this.items.unshift(m);
    this.bytes += m.data.length - m.off;
    if (m.sender) charge(m);
  }

  /** consume marks n bytes of the front message read (stream sockets). */
  consume(n: number): void {
    this.items[this.head].off += n;
    this.bytes -= n;
  }

  /** shift removes the front message and uncharges its sender; its rights pass to the caller. */
  shift(): UnixMessage | undefined {
    if (this.head >= this.items.length) return undefined;
    const m = this.items[this.head];
    this.items[this.head++] = undefined as unknown as UnixMessage;
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.bytes -= m.data.length - m.off;
    uncharge(m);
    return m;
  }

  /** drain empties the queue, uncharging senders; the messages' rights pass to the caller. */
  drain(): UnixMessage[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    for (const m of out) uncharge(m);
    return out;
  }
}

/** charge counts a queued message against its sender's send buffer and the
 *  sandbox's memory budget (the sender checked the budget had room). */
function charge(m: UnixMessage): void {
  m.sender!.wmem += m.cost;
  sandboxLimits().forceCharge(m.cost);
}

function uncharge(m: UnixMessage): void {
  const s = m.sender;
  if (!s) return;
  s.wmem -= m.cost;
  sandboxLimits().uncharge(m.cost);
  s.uncharged();
}

/** dropRights releases the descriptors a message carried. */
export function dropRights(m: UnixMessage): void {
  const r = m.rights;
  m.rights = null;
  if (r) for (const f of r) f.decRef();
}
