// Seccomp filters as data: a list of rules (system call, optional argument
// tests, the reason it is allowed) compiled to one BPF program. The compiled
// program checks the architecture first (anything but x86-64, and x32
// numbers, get the bad-arch action), then finds the system call number by
// binary search, then tests its arguments. Filters for the Sentry, the Gofer
// and the stubs are written with this (see docs/SECCOMP.md).

import { BPF_JEQ, BPF_JGE, BPF_JSET, Program } from './bpf.js';

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
/** retErrno is the action that fails the call with errno e. */
export const retErrno = (e: number): number => (0x00050000 | (e & 0xffff)) >>> 0;

export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;

/** Offsets in struct seccomp_data. */
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_IP = 8;
const argLo = (i: number): number => 16 + 8 * i;
const argHi = (i: number): number => 20 + 8 * i;

/** ArgTest is one condition on an argument register. */
export type ArgTest =
  /** the whole 64-bit register equals value */
  | { arg: number; eq: bigint }
  /** the low 32 bits equal value (an int argument: the kernel ignores the high half) */
  | { arg: number; eq32: number }
  /** (low 32 bits & mask) === value */
  | { arg: number; mask: number; value: number }
  /** some bit of bits is set in the low 32 bits */
  | { arg: number; anyOf: number };

export interface Rule {
  /** name and nr of the system call (x86-64 numbering). */
  name: string;
  nr: number;
  /** when lists alternatives (OR), each a list of tests (AND); absent: always. */
  when?: ArgTest[][];
  /** action when a test list matches (default ALLOW). */
  action?: number;
  /** otherwise is the action when no alternative matches (default: the filter's). */
  otherwise?: number;
  /** reason says why the process needs it. */
  reason: string;
}

export interface FilterSpec {
  rules: Rule[];
  /** defaultAction is taken for system calls no rule names. */
  defaultAction: number;
  /** badArch is taken for a non-x86-64 architecture or an x32 number. */
  badArch: number;
}

function emitTest(p: Program, t: ArgTest, fail: string): void {
  if ('eq' in t) {
    const lo = Number(t.eq & 0xffffffffn);
    const hi = Number((t.eq >> 32n) & 0xffffffffn);
    p.loadAbs(argHi(t.arg));
    p.jumpUnless(BPF_JEQ, hi, fail);
    p.loadAbs(argLo(t.arg));
    p.jumpUnless(BPF_JEQ, lo, fail);
  } else if ('eq32' in t) {
    p.loadAbs(argLo(t.arg));
    p.jumpUnless(BPF_JEQ, t.eq32 >>> 0, fail);
  } else if ('mask' in t) {
    p.loadAbs(argLo(t.arg));
    p.and(t.mask);
    p.jumpUnless(BPF_JEQ, (t.value & t.mask) >>> 0, fail);
  } else {
    p.loadAbs(argLo(t.arg));
    p.jumpUnless(BPF_JSET, t.anyOf >>> 0, fail);
  }
}

/** compile turns a filter spec into a BPF program (struct sock_filter[]). */
export function compile(spec: FilterSpec): Uint8Array {
  const byNr = new Map<number, Rule>();
  for (const r of spec.rules) {
    if (byNr.has(r.nr)) throw new Error(`seccomp: two rules for ${r.name} (${r.nr})`);
    byNr.set(r.nr, r);
  }
  const p = new Program();
  const badArch = p.newLabel('badarch');
  const deflt = p.newLabel('default');
  p.loadAbs(OFF_ARCH);
  p.jumpUnless(BPF_JEQ, AUDIT_ARCH_X86_64, badArch);
  p.loadAbs(OFF_NR);
  p.jumpIf(BPF_JGE, X32_SYSCALL_BIT, badArch);
  const nrs = [...byNr.keys()].sort((a, b) => a - b);
  const body = new Map<number, string>(nrs.map((n) => [n, p.newLabel(`nr${n}_`)]));
  // Binary search over the numbers: A holds nr throughout.
  const tree = (lo: number, hi: number): void => {
    if (hi - lo <= 4) {
      for (let i = lo; i < hi; i++) p.jumpIf(BPF_JEQ, nrs[i], body.get(nrs[i])!);
      p.jump(deflt);
      return;
    }
    const mid = (lo + hi) >> 1;
    const right = p.newLabel('ge');
    p.jumpIf(BPF_JGE, nrs[mid], right);
    tree(lo, mid);
    p.bind(right);
    tree(mid, hi);
  };
  tree(0, nrs.length);
  for (const n of nrs) {
    const r = byNr.get(n)!;
    p.bind(body.get(n)!);
    const action = r.action ?? SECCOMP_RET_ALLOW;
    if (!r.when) {
      p.ret(action);
      continue;
    }
    for (const alt of r.when) {
      const next = p.newLabel('alt');
      for (const t of alt) emitTest(p, t, next);
      p.ret(action);
      p.bind(next);
    }
    p.ret(r.otherwise ?? spec.defaultAction);
  }
  p.bind(deflt);
  p.ret(spec.defaultAction);
  p.bind(badArch);
  p.ret(spec.badArch);
  return p.assemble();
}

/** compileIPOnly is a filter that allows any system call made from the
 *  instruction address ip (the rip after the syscall instruction) and
 *  takes action for every other call and architecture. */
export function compileIPOnly(ip: number, action: number): Uint8Array {
  const p = new Program();
  const deny = p.newLabel('deny');
  p.loadAbs(OFF_ARCH);
  p.jumpUnless(BPF_JEQ, AUDIT_ARCH_X86_64, deny);
  p.loadAbs(OFF_NR);
  p.jumpIf(BPF_JGE, X32_SYSCALL_BIT, deny);
  p.loadAbs(OFF_IP + 4);
  p.jumpUnless(BPF_JEQ, Math.floor(ip / 2 ** 32) >>> 0, deny);
  p.loadAbs(OFF_IP);
  p.jumpUnless(BPF_JEQ, ip >>> 0, deny);
  p.ret(SECCOMP_RET_ALLOW);
  p.bind(deny);
  p.ret(action);
  return p.assemble();
}

/** seccompData builds a struct seccomp_data (for tests). */
export function seccompData(nr: number, args: (number | bigint)[] = [], ip = 0, arch = AUDIT_ARCH_X86_64): Uint8Array {
  const b = new Uint8Array(64);
  const dv = new DataView(b.buffer);
  dv.setInt32(OFF_NR, nr, true);
  dv.setUint32(OFF_ARCH, arch, true);
  dv.setBigUint64(OFF_IP, BigInt(ip), true);
  args.forEach((a, i) => dv.setBigUint64(16 + 8 * i, BigInt.asUintN(64, BigInt(a)), true));
  return b;
}
