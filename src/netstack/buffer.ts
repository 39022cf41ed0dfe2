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
    const at = this.pullUpAt(n);
    return at < 0 ? null : this.head.subarray(at, at + n);
  }

  /**
   * pullUpAt is pullUp without the view: the first n remaining bytes are
   * made contiguous in head, from the returned offset on (-1 if the packet
   * is shorter). Parsers read head there: a subarray per header costs more
   * than the parsing (V8 looks up the species constructor).
   */
  pullUpAt(n: number): number {
    const avail = this.head.length - this.headStart;
    if (avail >= n) return this.headStart;
    if (this.size < n) return -1;
    if (this.extra === null) {
      const take = n - avail;
      const merged = new Uint8Array(n);
      merged.set(this.head.subarray(this.headStart));
      merged.set(this.payload.subarray(0, take), avail);
      this.head = merged;
      this.headStart = 0;
      this.payload = this.payload.subarray(take);
      return 0;
    }
    const all = this.data();
    this.head = all;
    this.headStart = 0;
    this.payload = EMPTY;
    this.extra = null;
    return 0;
  }

  /** consume drops n bytes from the front (they must have been pulled up). */
  consume(n: number): void {
    this.headStart += n;
  }

  /** trim caps the remaining size at n bytes (drops link-layer padding). */
  trim(n: number): void {
    const avail = this.head.length - this.headStart;
    // The usual case, nothing to drop: no views rebuilt.
    if (this.extra === null && n === avail + this.payload.length) return;
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
 * BlockPool recycles the blocks byte queues copy data into: 64 KiB blocks
 * for large writes, 16 KiB ones for the tails that coalesce small pieces.
 * Bulk transfers then neither allocate nor zero a buffer per write (nor grow
 * the external memory that drives V8's full collections). A block is
 * reference counted by the ByteQueue entries viewing it (the sender's until
 * the bytes are acknowledged, the receiver's on loopback until they are
 * read) and by the queue whose tail it is; every other holder copies pooled
 * bytes (isPooled). A reference never dropped only costs the pool that block
 * (the GC takes it); a block is reused only once nothing counted views it.
 */
export class BlockPool {
  static readonly BLOCK = 64 * 1024;
  static readonly TAIL = 16 * 1024;
  private readonly freeBlocks: ArrayBuffer[] = [];
  private readonly freeTails: ArrayBuffer[] = [];
  // Reference counts of the pool's blocks (permanent membership: 0 when free).
  private readonly refs = new WeakMap<ArrayBuffer, number>();
  /** allocated counts the blocks ever created (tests, benchmarks). */
  allocated = 0;
  /** underflows counts references dropped that were never taken (a bug; tests). */
  underflows = 0;

  constructor(private readonly maxFree = 32) {}

  /** acquire returns a whole block of size BLOCK or TAIL holding one reference. */
  acquire(size: number = BlockPool.BLOCK): Uint8Array {
    const free = size === BlockPool.BLOCK ? this.freeBlocks : this.freeTails;
    let ab = free.pop();
    if (ab === undefined) {
      ab = new ArrayBuffer(size);
      this.allocated++;
    }
    this.refs.set(ab, 1);
    return new Uint8Array(ab);
  }

  /** owns reports whether ab is one of the pool's blocks. */
  owns(ab: ArrayBufferLike): boolean {
    return this.refs.has(ab as ArrayBuffer);
  }

  /** ref adds a reference to ab if it is a pooled block; reports whether it was. */
  ref(ab: ArrayBufferLike): boolean {
    const n = this.refs.get(ab as ArrayBuffer);
    if (n === undefined) return false;
    this.refs.set(ab as ArrayBuffer, n + 1);
    return true;
  }

  /** unref drops a reference to ab if pooled; the last one returns the block to its free list. */
  unref(ab: ArrayBufferLike): void {
    const n = this.refs.get(ab as ArrayBuffer);
    if (n === undefined) return;
    if (n <= 0) {
      // A bookkeeping bug: never hand this block out again (tests check underflows).
      this.refs.delete(ab as ArrayBuffer);
      this.underflows++;
      return;
    }
    this.refs.set(ab as ArrayBuffer, n - 1);
    if (n > 1) return;
    const free = ab.byteLength === BlockPool.BLOCK ? this.freeBlocks : this.freeTails;
    if (free.length < this.maxFree) free.push(ab as ArrayBuffer);
  }

  /** refCount returns ab's reference count, or -1 if it is not pooled (tests). */
  refCount(ab: ArrayBufferLike): number {
    return this.refs.get(ab as ArrayBuffer) ?? -1;
  }

  /** freeCount is the number of blocks of either size ready for reuse (tests). */
  get freeCount(): number {
    return this.freeBlocks.length + this.freeTails.length;
  }
}

/** blockPool is shared by every stack in the process: views may cross stacks. */
export const blockPool = new BlockPool();

/** isPooled reports whether v views a pooled block (holders that do not count references must copy it). */
export function isPooled(v: Uint8Array): boolean {
  return blockPool.owns(v.buffer);
}

/** POOLED_MIN is the smallest piece of a write copied into a pooled block (smaller ones get their own array). */
export const POOLED_MIN = 32 * 1024;

/** Fill copies source bytes [off, off + dst.length) into dst; returns the count copied (short on a fault). */
export type Fill = (dst: Uint8Array, off: number) => number;

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

  /** push appends b, keeping a reference (the caller must not modify it
   *  afterwards). A view of a pooled block counts as one of its references. */
  push(b: Uint8Array): void {
    if (b.length === 0) return;
    const last = this.chunks.length - 1;
    if (this.tail === null && last >= this.first) {
      // The bytes that follow the last chunk in its own memory (the next
      // segment of the same send block) extend it: one view per block, so a
      // reader copies the whole block at once.
      const c = this.chunks[last];
      if (c.byteOffset + c.length === b.byteOffset && c.buffer === b.buffer) {
        this.chunks[last] = new Uint8Array(c.buffer, c.byteOffset, c.length + b.length);
        this.total += b.length;
        return;
      }
    }
    if (b.length <= 2048) {
      this.pushSmall(b);
      return;
    }
    blockPool.ref(b.buffer);
    this.pushChunk(b);
  }

  private pushChunk(b: Uint8Array): void {
    this.dropTail();
    this.starts.push(this.base + this.total);
    this.chunks.push(b);
    this.total += b.length;
  }

  /**
   * append copies n bytes from a source through fill, piece by piece (large
   * pieces into pooled blocks, the rest into arrays of their own), and
   * returns the count queued. A piece fill copies short (a fault) is dropped
   * whole and ends the append, as Linux's tcp_sendmsg drops a chunk whose
   * copy faults.
   */
  append(n: number, fill: Fill): number {
    let done = 0;
    while (done < n) {
      const want = Math.min(n - done, BlockPool.BLOCK);
      if (want >= POOLED_MIN) {
        const block = blockPool.acquire();
        if (fill(want === BlockPool.BLOCK ? block : block.subarray(0, want), done) < want) {
          blockPool.unref(block.buffer);
          break;
        }
        this.pushChunk(block.subarray(0, want)); // the entry keeps acquire's reference
        done += want;
        continue;
      }
      const b = new Uint8Array(want);
      if (fill(b, done) === want) {
        this.push(b);
        done += want;
      }
      break;
    }
    return done;
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
    this.dropTail();
    // The tail is a pooled block: the queue holds one reference, its entry another.
    const tail = blockPool.acquire(BlockPool.TAIL);
    blockPool.ref(tail.buffer);
    this.tail = tail;
    tail.set(b);
    this.tailFrom = 0;
    this.tailLen = b.length;
    this.starts.push(this.base + this.total);
    this.chunks.push(tail.subarray(0, b.length));
    this.total += b.length;
  }

  /** dropTail stops coalescing into the current tail block. */
  private dropTail(): void {
    if (this.tail === null) return;
    blockPool.unref(this.tail.buffer);
    this.tail = null;
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
      const c = this.chunks[i];
      const end = this.starts[i] + c.length;
      if (end > this.base) break;
      if (c.buffer === this.tail?.buffer && i === this.chunks.length - 1) this.dropTail();
      blockPool.unref(c.buffer); // entries viewing a pooled block hold one reference each
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
      this.dropTail();
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
