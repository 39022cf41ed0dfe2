// Classic BPF, as seccomp runs it: instruction encoding and a small
// assembler with symbolic labels. Conditional jumps only ever skip 0 or 1
// instruction here (their targets are reached through BPF_JA, whose 32-bit
// offset has no 255-instruction limit), so programs of any size assemble.

export const BPF_LD = 0x00;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_ALU = 0x04;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_K = 0x00;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_AND = 0x50;

/** MAX_INSNS is the kernel's limit on a filter's length (BPF_MAXINSNS). */
export const MAX_INSNS = 4096;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
  /** label, for a BPF_JA whose offset is resolved at assembly. */
  target?: string;
}

/** Program is built by appending instructions and labels, then assembled. */
export class Program {
  private readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();
  private nextLabel = 0;

  /** label returns a fresh label name. */
  newLabel(hint = 'L'): string {
    return `${hint}${this.nextLabel++}`;
  }

  /** bind places label at the next instruction. */
  bind(label: string): void {
    if (this.labels.has(label)) throw new Error(`bpf: label ${label} bound twice`);
    this.labels.set(label, this.insns.length);
  }

  /** loadAbs loads the 32-bit word at offset of struct seccomp_data into A. */
  loadAbs(offset: number): void {
    this.insns.push({ code: BPF_LD | BPF_W | BPF_ABS, jt: 0, jf: 0, k: offset });
  }

  /** and computes A &= k. */
  and(k: number): void {
    this.insns.push({ code: BPF_ALU | BPF_AND | BPF_K, jt: 0, jf: 0, k: k >>> 0 });
  }

  /** ret returns action. */
  ret(action: number): void {
    this.insns.push({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: action >>> 0 });
  }

  /** jump jumps unconditionally to label. */
  jump(label: string): void {
    this.insns.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: 0, target: label });
  }

  /** jumpIf jumps to label when (A op k) holds, and falls through otherwise. */
  jumpIf(op: number, k: number, label: string): void {
    // true: run the next instruction (the jump); false: skip it.
    this.insns.push({ code: BPF_JMP | op | BPF_K, jt: 0, jf: 1, k: k >>> 0 });
    this.jump(label);
  }

  /** jumpUnless jumps to label when (A op k) does not hold. */
  jumpUnless(op: number, k: number, label: string): void {
    this.insns.push({ code: BPF_JMP | op | BPF_K, jt: 1, jf: 0, k: k >>> 0 });
    this.jump(label);
  }

  get length(): number {
    return this.insns.length;
  }

  /** assemble resolves labels and returns the struct sock_filter array. */
  assemble(): Uint8Array {
    if (this.insns.length > MAX_INSNS) throw new Error(`bpf: ${this.insns.length} instructions (max ${MAX_INSNS})`);
    const out = new Uint8Array(this.insns.length * 8);
    const dv = new DataView(out.buffer);
    this.insns.forEach((ins, i) => {
      let k = ins.k;
      if (ins.target !== undefined) {
        const at = this.labels.get(ins.target);
        if (at === undefined) throw new Error(`bpf: label ${ins.target} never bound`);
        if (at <= i) throw new Error(`bpf: backward jump to ${ins.target}`);
        k = at - i - 1;
      }
      dv.setUint16(i * 8, ins.code, true);
      dv.setUint8(i * 8 + 2, ins.jt);
      dv.setUint8(i * 8 + 3, ins.jf);
      dv.setUint32(i * 8 + 4, k >>> 0, true);
    });
    const end = this.insns.length;
    for (const [name, at] of this.labels) if (at >= end) throw new Error(`bpf: label ${name} at the end of the program`);
    return out;
  }
}

/** run interprets an assembled program over a struct seccomp_data (for tests). */
export function run(prog: Uint8Array, data: Uint8Array): number {
  const dv = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  const dd = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let a = 0;
  let pc = 0;
  const n = prog.length / 8;
  for (let steps = 0; steps < 100000 && pc < n; steps++) {
    const code = dv.getUint16(pc * 8, true);
    const jt = dv.getUint8(pc * 8 + 2);
    const jf = dv.getUint8(pc * 8 + 3);
    const k = dv.getUint32(pc * 8 + 4, true);
    pc++;
    switch (code & 0x07) {
      case BPF_LD:
        a = dd.getUint32(k, true);
        break;
      case BPF_ALU:
        if ((code & 0xf0) !== BPF_AND) throw new Error(`bpf run: alu op ${code}`);
        a = (a & k) >>> 0;
        break;
      case BPF_RET:
        return k;
      case BPF_JMP: {
        const op = code & 0xf0;
        if (op === BPF_JA) {
          pc += k;
          break;
        }
        const c = op === BPF_JEQ ? a === k : op === BPF_JGT ? a > k : op === BPF_JGE ? a >= k : (a & k) !== 0;
        pc += c ? jt : jf;
        break;
      }
      default:
        throw new Error(`bpf run: code ${code}`);
    }
  }
  throw new Error('bpf run: fell off the end');
}
