// Regs is a view of one thread's struct user_regs_struct (x86-64), shared with
// the native layer as a BigUint64Array. Accessors use the Uint32 halves so the
// hot path never converts BigInts; values above 2^53 lose precision, which no
// address or syscall argument on x86-64 reaches.

import { NUM_REGS, REG } from './ptrace.js';

const TWO32 = 0x1_0000_0000;

export class Regs {
  readonly u64: BigUint64Array;
  readonly u32: Uint32Array;

  constructor(buf?: BigUint64Array) {
    this.u64 = buf ?? new BigUint64Array(NUM_REGS);
    this.u32 = new Uint32Array(this.u64.buffer, this.u64.byteOffset, NUM_REGS * 2);
  }

  /** get returns register i as an unsigned number (exact below 2^53). */
  get(i: number): number {
    return this.u32[2 * i + 1] * TWO32 + this.u32[2 * i];
  }

  /** getSigned returns register i as a signed 64-bit number (exact within +-2^53). */
  getSigned(i: number): number {
    const hi = this.u32[2 * i + 1] | 0;
    return hi * TWO32 + this.u32[2 * i];
  }

  /** set stores v (an integer, negative values as two's complement). */
  set(i: number, v: number): void {
    if (v >= 0) {
      this.u32[2 * i] = v % TWO32;
      this.u32[2 * i + 1] = Math.floor(v / TWO32);
    } else {
      const hi = Math.floor(v / TWO32);
      this.u32[2 * i] = v - hi * TWO32;
      this.u32[2 * i + 1] = hi;
    }
  }

  copyFrom(o: Regs): void {
    this.u64.set(o.u64);
  }

  clone(): Regs {
    const r = new Regs();
    r.copyFrom(this);
    return r;
  }

  get rip(): number { return this.get(REG.rip); }
  set rip(v: number) { this.set(REG.rip, v); }
  get rsp(): number { return this.get(REG.rsp); }
  set rsp(v: number) { this.set(REG.rsp, v); }
  get rax(): number { return this.getSigned(REG.rax); }
  set rax(v: number) { this.set(REG.rax, v); }
  get orig_rax(): number { return this.getSigned(REG.orig_rax); }
}
