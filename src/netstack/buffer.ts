// Packet and byte-stream buffers. A PacketBuffer is headers (written back to
// front into reserved headroom on send, consumed front to back on receive)
// plus one payload view, so a TCP segment can carry a view of the send
// queue's bytes without copying. Buffers handed to the stack are never
// modified afterwards by anyone: views are shared freely.

export const EMPTY = new Uint8Array(0);

/** PacketBuffer is one network packet in flight. */
export class PacketBuffer {
  /** head holds the header bytes at [headStart, head.length). */
  head: Uint8Array;
  headStart: number;
  /** payload follows the headers. */
  payload: Uint8Array;
  /** extra holds further payload views after payload (a segment spanning send-queue chunks), or null. */
  extra: Uint8Array[] | null = null;
  /** checksumVerified is set by links that guarantee integrity (loopback). */
  checksumVerified = false;

  constructor(head: Uint8Array, headStart: number, payload: Uint8Array) {
    this.head = head;
    this.headStart = headStart;
    this.payload = payload;
  }

  /** outbound returns a packet with headroom bytes reserved for headers in front of payload. */
  static outbound(headroom: number, payload: Uint8Array = EMPTY, extra: Uint8Array[] | null = null): PacketBuffer {
    const p = new PacketBuffer(new Uint8Array(headroom), headroom, payload);
    p.extra = extra;
    return p;
  }

  /** inbound wraps a received frame. */
  static inbound(bytes: Uint8Array): PacketBuffer {
    return new PacketBuffer(bytes, 0, EMPTY);
  }

  /** clone returns a new wrapper sharing the bytes (for delivery to several consumers). */
  clone(): PacketBuffer {
    const p = new PacketBuffer(this.head, this.headStart, this.payload);
    p.extra = this.extra;
    p.checksumVerified = this.checksumVerified;
    return p;
  }

  private get extraLength(): number {
    let n = 0;
    if (this.extra !== null) for (const v of this.extra) n += v.length;
    return n;
  }

  /** size is the number of bytes left (headers + payload). */
  get size(): number {
    return this.head.length - this.headStart + this.payload.length + (this.extra === null ? 0 : this.extraLength);
  }

  /** prepend reserves n header bytes in front and returns their offset in head. */
  prepend(n: number): number {
    if (this.headStart < n) {
      // Out of headroom: grow (rare; callers reserve the route's max header length).
      const extra = n - this.headStart + 64;
      const grown = new Uint8Array(this.head.length + extra);
      grown.set(this.head.subarray(this.headStart), this.headStart + extra);
      this.head = grown;
      this.headStart += extra;
    }
    this.headStart -= n;
    return this.headStart;
  }

  /**
   * pullUp makes the first n remaining bytes contiguous in head and returns
   * them as a view (null if the packet is shorter).
   */
  pullUp(n: number): Uint8Array | null {
    const avail = this.head.length - this.headStart;
    if (avail >= n) return this.head.subarray(this.headStart, this.headStart + n);
    if (this.size < n) return null;
    if (this.extra === null) {
      const take = n - avail;
      const merged = new Uint8Array(n);
      merged.set(this.head.subarray(this.headStart));
      merged.set(this.payload.subarray(0, take), avail);
      this.head = merged;
      this.headStart = 0;
      this.payload = this.payload.subarray(take);
      return merged;
    }
    const all = this.data();
    this.head = all;
    this.headStart = 0;
    this.payload = EMPTY;
    this.extra = null;
    return all.subarray(0, n);
  }

  /** consume drops n bytes from the front (they must have been pulled up). */
  consume(n: number): void {
    this.headStart += n;
  }

  /** trim caps the remaining size at n bytes (drops link-layer padding). */
  trim(n: number): void {
    const avail = this.head.length - this.headStart;
    if (n <= avail) {
      this.head = this.head.subarray(0, this.headStart + n);
      this.payload = EMPTY;
      this.extra = null;
      return;
    }
    let rest = n - avail;
    if (rest <= this.payload.length) {
      this.payload = this.payload.subarray(0, rest);
      this.extra = null;
      return;
    }
    if (this.extra === null) return;
    rest -= this.payload.length;
    const kept: Uint8Array[] = [];
    for (const v of this.extra) {
      if (rest <= 0) break;
      kept.push(v.length <= rest ? v : v.subarray(0, rest));
      rest -= v.length;
    }
    this.extra = kept;
  }

  /** views returns the remaining bytes as views, without copying (empty parts left out). */
  views(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.headStart < this.head.length) out.push(this.head.subarray(this.headStart));
    if (this.payload.length > 0) out.push(this.payload);
    if (this.extra !== null) for (const v of this.extra) if (v.length > 0) out.push(v);
    return out;
  }

  /** data returns the remaining bytes, contiguous (a view when possible). */
  data(): Uint8Array {
    const avail = this.head.length - this.headStart;
    if (this.extra === null || this.extraLength === 0) {
      if (avail === 0) return this.payload;
      if (this.payload.length === 0) return this.head.subarray(this.headStart);
    }
    const parts = this.views();
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const v of parts) {
      out.set(v, o);
      o += v.length;
    }
    return out;
  }

  /** toBytes returns the whole packet contiguous (for links that need one frame). */
  toBytes(): Uint8Array {
    return this.data();
  }

  /** headerBytes returns the header part (from headStart). */
  headerBytes(): Uint8Array {
    return this.head.subarray(this.headStart);
  }
}

/**
 * ByteQueue is a FIFO of bytes made of chunks. push keeps a reference to the
 * caller's array (no copy); small pushes are coalesced into a shared tail
 * chunk. peek/read return views when the range lies in one chunk.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  // starts[i] is the absolute stream offset of chunks[i][0].
  private starts: number[] = [];
  private first = 0;
  // Absolute offset of the queue's first byte (bytes ever discarded).
  private base = 0;
  private total = 0;
  // Coalescing tail for small pushes: chunks[last] is tail.subarray(tailFrom, tailLen).
  private tail: Uint8Array | null = null;
  private tailFrom = 0;
  private tailLen = 0;

  /** length is the number of queued bytes. */
  get length(): number {
    return this.total;
  }

  /** push appends b, keeping a reference (the caller must not modify it afterwards). */
  push(b: Uint8Array): void {
    if (b.length === 0) return;
    if (b.length <= 2048) {
      this.pushSmall(b);
      return;
    }
    this.tail = null;
    this.starts.push(this.base + this.total);
    this.chunks.push(b);
    this.total += b.length;
  }

  private pushSmall(b: Uint8Array): void {
    const last = this.chunks.length - 1;
    if (this.tail !== null && last >= this.first && this.tailLen + b.length <= this.tail.length) {
      this.tail.set(b, this.tailLen);
      this.tailLen += b.length;
      this.chunks[last] = this.tail.subarray(this.tailFrom, this.tailLen);
      this.total += b.length;
      return;
    }
    this.tail = new Uint8Array(16384);
    this.tail.set(b);
    this.tailFrom = 0;
    this.tailLen = b.length;
    this.starts.push(this.base + this.total);
    this.chunks.push(this.tail.subarray(0, b.length));
    this.total += b.length;
  }

  /** find returns the index of the chunk holding absolute offset abs. */
  private find(abs: number): number {
    let lo = this.first;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= abs) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** peek returns len bytes at offset without consuming (clamped to what is queued). */
  peek(offset: number, len: number): Uint8Array {
    len = Math.min(len, this.total - offset);
    if (len <= 0) return EMPTY;
    const abs = this.base + offset;
    let i = this.find(abs);
    let off = abs - this.starts[i];
    const c = this.chunks[i];
    if (off + len <= c.length) return c.subarray(off, off + len);
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const src = this.chunks[i++];
      const n = Math.min(src.length - off, len - done);
      out.set(src.subarray(off, off + n), done);
      done += n;
      off = 0;
    }
    return out;
  }

  /** peekViews returns len bytes at offset as views of the queued chunks (no copy). */
  peekViews(offset: number, len: number): Uint8Array[] {
    len = Math.min(len, this.total - offset);
    const out: Uint8Array[] = [];
    if (len <= 0) return out;
    const abs = this.base + offset;
    let i = this.find(abs);
    let off = abs - this.starts[i];
    let done = 0;
    while (done < len) {
      const src = this.chunks[i++];
      const n = Math.min(src.length - off, len - done);
      out.push(off === 0 && n === src.length ? src : src.subarray(off, off + n));
      done += n;
      off = 0;
    }
    return out;
  }

  /** peekInto copies up to dst.length bytes at offset into dst; returns the count. */
  peekInto(offset: number, dst: Uint8Array): number {
    const len = Math.min(dst.length, this.total - offset);
    if (len <= 0) return 0;
    const abs = this.base + offset;
    let i = this.find(abs);
    let off = abs - this.starts[i];
    let done = 0;
    while (done < len) {
      const src = this.chunks[i++];
      const n = Math.min(src.length - off, len - done);
      dst.set(src.subarray(off, off + n), done);
      done += n;
      off = 0;
    }
    return len;
  }

  /** discard drops n bytes from the front. */
  discard(n: number): void {
    n = Math.min(n, this.total);
    this.total -= n;
    this.base += n;
    while (this.first < this.chunks.length) {
      const i = this.first;
      const end = this.starts[i] + this.chunks[i].length;
      if (end > this.base) break;
      if (this.chunks[i].buffer === this.tail?.buffer && i === this.chunks.length - 1) this.tail = null;
      this.first++;
    }
    if (this.first < this.chunks.length) {
      const i = this.first;
      const skip = this.base - this.starts[i];
      if (skip > 0) {
        this.chunks[i] = this.chunks[i].subarray(skip);
        this.starts[i] = this.base;
        if (i === this.chunks.length - 1 && this.tail !== null) this.tailFrom += skip;
      }
    }
    if (this.first === this.chunks.length) {
      this.chunks.length = 0;
      this.starts.length = 0;
      this.first = 0;
      this.tail = null;
    } else if (this.first > 32 && this.first * 2 > this.chunks.length) {
      this.chunks.splice(0, this.first);
      this.starts.splice(0, this.first);
      this.first = 0;
    }
  }

  /** read consumes and returns up to max bytes (a view when they lie in one chunk). */
  read(max: number): Uint8Array {
    const out = this.peek(0, max);
    this.discard(out.length);
    return out;
  }

  /** readViews consumes up to max bytes and returns them as views (no copy). */
  readViews(max: number): Uint8Array[] {
    const out = this.peekViews(0, max);
    let n = 0;
    for (const v of out) n += v.length;
    this.discard(n);
    return out;
  }

  /** clear drops everything. */
  clear(): void {
    this.discard(this.total);
  }
}
