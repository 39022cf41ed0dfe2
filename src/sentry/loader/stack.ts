// The initial process stack, laid out byte for byte as Linux's execve leaves
// it (fs/exec.c copy_strings, fs/binfmt_elf.c create_elf_tables), from the
// top down:
//
//   [top-8, top)    a zero word
//   execfn string   (AT_EXECFN points here)
//   envp strings, argv strings (argv[0] lowest: mm.argStart)
//   < random 0..8191 bytes, then down to 16-byte alignment >
//   "x86_64\0"      (AT_PLATFORM), then 16 random bytes (AT_RANDOM)
//   < padding to 16-byte alignment of sp >
//   auxv pairs ending with AT_NULL; envp pointers, NULL; argv pointers, NULL; argc  <- sp

import * as linuxerr from '../../abi/linux/errno.js';
import type { MemoryManager } from '../mm/mm.js';
import type { AuxEntry } from './auxv.js';
import { AT_EXECFN, AT_NULL, AT_PLATFORM, AT_RANDOM } from './auxv.js';

const encoder = new TextEncoder();

/** MAX_ARG_STRLEN bounds one argument or environment string (32 pages). */
export const MAX_ARG_STRLEN = 32 * 4096;
/** ARG_MAX is the least room Linux gives arguments whatever RLIMIT_STACK says. */
const ARG_MAX = 32 * 4096;
/** _STK_LIM: arguments never take more than 3/4 of 8 MiB. */
const STK_LIM = 8 * 1024 * 1024;

export interface StackSpec {
  /** top is the end (exclusive) of the stack mapping. */
  top: number;
  argv: readonly string[];
  envp: readonly string[];
  /** execfn is the path execve was given. */
  execfn: string;
  /** auxv entries in order; AT_RANDOM, AT_EXECFN and AT_PLATFORM values are filled in here. AT_NULL is added. */
  auxv: readonly AuxEntry[];
  /** random is the 16 bytes AT_RANDOM points to. */
  random: Uint8Array;
  /** jitter (0..8191) is subtracted below the strings before aligning (Linux's arch_align_stack). */
  jitter: number;
  platform: string;
}

export interface StackLayout {
  sp: number;
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
  execfnAddr: number;
  randomAddr: number;
  platformAddr: number;
  /** auxv is the vector as written (pairs of u64, AT_NULL included). */
  auxv: Uint8Array;
}

/** checkArgLimits throws E2BIG when the strings would not fit Linux's limits
 *  for a stack limited to stackLimit bytes (RLIMIT_STACK). */
export function checkArgLimits(argv: readonly string[], envp: readonly string[], execfn: string, stackLimit: number): void {
  let limit = Math.max(Math.min(STK_LIM / 4 * 3, stackLimit / 4), ARG_MAX);
  const ptrs = (Math.max(argv.length, 1) + envp.length) * 8;
  if (limit <= ptrs) throw linuxerr.E2BIG;
  limit -= ptrs;
  let total = 8;
  for (const s of [execfn, ...envp, ...argv]) {
    const n = encoder.encode(s).length + 1;
    if (n > MAX_ARG_STRLEN) throw linuxerr.E2BIG;
    total += n;
  }
  if (total > limit) throw linuxerr.E2BIG;
}

/** stackSize returns how many bytes buildStack needs below top. */
export function stackSize(spec: StackSpec): number {
  return spec.top - layout(spec).sp;
}

interface Plan extends StackLayout {
  strings: Uint8Array[];
}

function layout(spec: StackSpec): Plan {
  const strings = [...spec.argv, ...spec.envp].map((s) => encoder.encode(s + '\0'));
  const execfn = encoder.encode(spec.execfn + '\0');
  const execfnAddr = spec.top - 8 - execfn.length;
  let envLen = 0;
  for (let i = spec.argv.length; i < strings.length; i++) envLen += strings[i].length;
  let argLen = 0;
  for (let i = 0; i < spec.argv.length; i++) argLen += strings[i].length;
  const envStart = execfnAddr - envLen;
  const argStart = envStart - argLen;
  let p = argStart - spec.jitter;
  p -= p % 16;
  const platformLen = encoder.encode(spec.platform).length + 1;
  const platformAddr = p - platformLen;
  const randomAddr = platformAddr - 16;
  const items = spec.argv.length + 1 + spec.envp.length + 1 + 1;
  const auxvBytes = (spec.auxv.length + 1) * 16;
  let sp = randomAddr - auxvBytes - items * 8;
  sp -= sp % 16;
  return { sp, argStart, argEnd: envStart, envStart, envEnd: execfnAddr, execfnAddr, randomAddr, platformAddr,
    auxv: new Uint8Array(auxvBytes), strings: [...strings, execfn] };
}

/** buildStack writes the initial stack into mm below spec.top (which must be
 *  mapped and writable) and returns where everything went. */
export function buildStack(mm: MemoryManager, spec: StackSpec): StackLayout {
  const plan = layout(spec);
  const base = plan.sp;
  const buf = new Uint8Array(spec.top - base);
  const dv = new DataView(buf.buffer);
  const put64 = (addr: number, v: number): void => dv.setBigUint64(addr - base, BigInt(v), true);

  // Strings: argv then envp then execfn, ascending from argStart.
  let at = plan.argStart;
  const ptrs: number[] = [];
  for (const s of plan.strings) {
    ptrs.push(at);
    buf.set(s, at - base);
    at += s.length;
  }
  buf.set(encoder.encode(spec.platform + '\0'), plan.platformAddr - base);
  buf.set(spec.random.subarray(0, 16), plan.randomAddr - base);

  // argc, argv[], NULL, envp[], NULL, auxv.
  let w = plan.sp;
  put64(w, spec.argv.length);
  w += 8;
  for (let i = 0; i < spec.argv.length; i++, w += 8) put64(w, ptrs[i]);
  put64(w, 0);
  w += 8;
  for (let i = 0; i < spec.envp.length; i++, w += 8) put64(w, ptrs[spec.argv.length + i]);
  put64(w, 0);
  w += 8;
  const auxStart = w;
  for (const [type, value] of spec.auxv) {
    let v = value;
    if (type === AT_RANDOM) v = plan.randomAddr;
    else if (type === AT_EXECFN) v = plan.execfnAddr;
    else if (type === AT_PLATFORM) v = plan.platformAddr;
    put64(w, type);
    put64(w + 8, v);
    w += 16;
  }
  put64(w, AT_NULL);
  put64(w + 8, 0);
  w += 16;
  mm.copyOut(base, buf);
  const { strings: _s, ...out } = plan;
  void _s;
  out.auxv = buf.slice(auxStart - base, w - base);
  return out;
}
