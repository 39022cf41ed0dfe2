// The x86-64 signal frame (struct rt_sigframe, arch/x86/kernel/signal_64.c):
// where it goes on the stack, its bytes, and reading it back in rt_sigreturn.
// Pure functions over registers and byte arrays; signal_delivery.ts does the
// guest memory and platform work.
//
//   frame+0    pretcode (sa_restorer)
//   frame+8    struct ucontext: uc_flags, uc_link, uc_stack (24 bytes),
//              uc_mcontext = struct sigcontext (256 bytes), uc_sigmask (8)
//   frame+312  siginfo_t (128 bytes)
//   above      the XSAVE area, 64-byte aligned, then FP_XSTATE_MAGIC2

import { REG } from '../../abi/linux/ptrace.js';
import type { Regs } from '../../abi/linux/regs.js';

export const UC_FP_XSTATE = 0x1;
export const UC_SIGCONTEXT_SS = 0x2;
export const UC_STRICT_RESTORE_SS = 0x4;
export const FP_XSTATE_MAGIC1 = 0x46505853;
export const FP_XSTATE_MAGIC2 = 0x46505845;
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
export const SS_AUTODISARM = 0x8000_0000;

export const FRAME_SIZE = 440;
export const UC_OFFSET = 8;
const UC_STACK = UC_OFFSET + 16;
export const MCONTEXT_OFFSET = UC_OFFSET + 40;
export const SIGMASK_OFFSET = UC_OFFSET + 296;
export const INFO_OFFSET = 312;
const REDZONE = 128;
/** Offsets in the fxsave area: FCW, MXCSR, MXCSR_MASK, sw_reserved; the XSAVE header. */
const FX_CWD = 0;
const FX_MXCSR = 24;
const FX_MXCSR_MASK = 28;
const FX_SW = 464;
const FX_SIZE = 512;
const XSTATE_BV = 512;
const XFEATURE_MASK_FPSSE = 3n;
/** An XSAVE area can be no smaller than the legacy area plus the header. */
const MIN_XSTATE = 576;

/** struct sigcontext's registers, in order, as user_regs_struct indexes. */
const SC_REGS = [REG.r8, REG.r9, REG.r10, REG.r11, REG.r12, REG.r13, REG.r14, REG.r15, REG.rdi, REG.rsi,
  REG.rbp, REG.rbx, REG.rdx, REG.rax, REG.rcx, REG.rsp, REG.rip, REG.eflags] as const;
const SC_CS = 144;
const SC_SS = 150;
const SC_ERR = 152;
const SC_TRAPNO = 160;
const SC_OLDMASK = 168;
const SC_CR2 = 176;
const SC_FPSTATE = 184;

const X86_EFLAGS_CF = 0x1n;
const X86_EFLAGS_PF = 0x4n;
const X86_EFLAGS_AF = 0x10n;
const X86_EFLAGS_ZF = 0x40n;
const X86_EFLAGS_SF = 0x80n;
const X86_EFLAGS_TF = 0x100n;
const X86_EFLAGS_DF = 0x400n;
const X86_EFLAGS_OF = 0x800n;
const X86_EFLAGS_RF = 0x10000n;
const X86_EFLAGS_AC = 0x40000n;
/** The flags rt_sigreturn takes from the frame (Linux's FIX_EFLAGS). */
const FIX_EFLAGS = X86_EFLAGS_AC | X86_EFLAGS_OF | X86_EFLAGS_DF | X86_EFLAGS_TF | X86_EFLAGS_SF |
  X86_EFLAGS_ZF | X86_EFLAGS_AF | X86_EFLAGS_PF | X86_EFLAGS_CF | X86_EFLAGS_RF;
/** The flags cleared on handler entry. */
export const HANDLER_CLEAR_EFLAGS = X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF;

/** AltStack is a task's sigaltstack setting (flags as stored: SS_DISABLE, or 0/SS_ONSTACK | SS_AUTODISARM). */
export interface AltStack {
  sp: number;
  size: number;
  flags: number;
}

/** onAltStack is Linux's __on_sig_stack: sp lies on the alternate stack. */
export function onAltStack(alt: AltStack, sp: number): boolean {
  return sp > alt.sp && sp - alt.sp <= alt.size;
}

/** altStackFlags is Linux's sas_ss_flags: SS_DISABLE, SS_ONSTACK (sp is on it), or 0.
 *  With SS_AUTODISARM, being on the stack is not reported (nor enforced). */
export function altStackFlags(alt: AltStack, sp: number): number {
  if (alt.size === 0) return SS_DISABLE;
  if (alt.flags & SS_AUTODISARM) return 0;
  return onAltStack(alt, sp) ? SS_ONSTACK : 0;
}

/** FramePlace is where a frame goes: the frame, its XSAVE area, whether it is on the alternate stack. */
export interface FramePlace {
  frame: number;
  fpstate: number;
}

/** placeFrame is Linux's get_sigframe: below the red zone (or at the top of
 *  the alternate stack for SA_ONSTACK), the XSAVE area of xsize bytes plus
 *  magic2 64-byte aligned, then the frame at round_down(sp, 16) - 8. Null
 *  when the frame would overflow the alternate stack. */
export function placeFrame(sp: number, xsize: number, onstack: boolean, alt: AltStack): FramePlace | null {
  const nested = altStackFlags(alt, sp) === SS_ONSTACK;
  let p = sp - REDZONE;
  let entering = false;
  if (onstack && altStackFlags(alt, p) === 0) {
    p = alt.sp + alt.size;
    entering = true;
  }
  const fpstate = Math.floor((p - (xsize + 4)) / 64) * 64;
  const frame = Math.floor((fpstate - FRAME_SIZE) / 16) * 16 - 8;
  if ((nested || entering) && !onAltStack(alt, frame)) return null;
  if (frame <= 0) return null;
  return { frame, fpstate };
}

/** FrameInput is what a frame records. */
export interface FrameInput {
  regs: Regs;
  restorer: bigint;
  /** The 128-byte siginfo, written only for SA_SIGINFO handlers (null otherwise). */
  info: Uint8Array | null;
  /** The mask rt_sigreturn restores. */
  mask: bigint;
  /** The alternate stack setting at delivery (restored by rt_sigreturn). */
  alt: AltStack;
  trapno: number;
  err: number;
  cr2: number;
  /** The XSAVE area as the platform gave it (empty: no FP state to save). */
  fp: Uint8Array;
}

/** buildFrame lays out the rt_sigframe for place (FRAME_SIZE bytes). */
export function buildFrame(place: FramePlace, f: FrameInput): Uint8Array {
  const b = new Uint8Array(FRAME_SIZE);
  const v = new DataView(b.buffer);
  const r = f.regs.u64;
  v.setBigUint64(0, f.restorer, true);
  const xstate = f.fp.length > FX_SIZE;
  v.setBigUint64(UC_OFFSET, BigInt((xstate ? UC_FP_XSTATE : 0) | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS), true);
  v.setBigUint64(UC_STACK, BigInt(f.alt.sp), true);
  v.setInt32(UC_STACK + 8, f.alt.flags | 0, true);
  v.setBigUint64(UC_STACK + 16, BigInt(f.alt.size), true);
  const m = MCONTEXT_OFFSET;
  SC_REGS.forEach((reg, i) => v.setBigUint64(m + 8 * i, r[reg], true));
  v.setUint16(m + SC_CS, Number(r[REG.cs] & 0xffffn), true);
  // fs and gs are saved as 0 on x86-64, as Linux does.
  v.setUint16(m + SC_SS, Number(r[REG.ss] & 0xffffn), true);
  v.setBigUint64(m + SC_ERR, BigInt(f.err), true);
  v.setBigUint64(m + SC_TRAPNO, BigInt(f.trapno), true);
  v.setBigUint64(m + SC_OLDMASK, f.mask, true);
  v.setBigUint64(m + SC_CR2, BigInt(f.cr2), true);
  v.setBigUint64(m + SC_FPSTATE, f.fp.length ? BigInt(place.fpstate) : 0n, true);
  v.setBigUint64(SIGMASK_OFFSET, f.mask, true);
  if (f.info) b.set(f.info.subarray(0, 128), INFO_OFFSET);
  return b;
}

/** sigframeFP returns the XSAVE area as a signal frame holds it: the software
 *  bytes (magic1, sizes, features) in the fxsave area's reserved part, FP and
 *  SSE marked present, and magic2 after the area. */
export function sigframeFP(fp: Uint8Array): Uint8Array {
  const n = fp.length;
  const out = new Uint8Array(n + 4);
  out.set(fp);
  if (n <= FX_SIZE) return out.subarray(0, n);
  const v = new DataView(out.buffer);
  const xbv = v.getBigUint64(XSTATE_BV, true) | XFEATURE_MASK_FPSSE;
  v.setBigUint64(XSTATE_BV, xbv, true);
  // The platform's copy may already carry the kernel's software bytes; keep its feature set.
  const features = v.getUint32(FX_SW, true) === FP_XSTATE_MAGIC1 ? v.getBigUint64(FX_SW + 8, true) : xbv;
  out.fill(0, FX_SW, FX_SIZE);
  v.setUint32(FX_SW, FP_XSTATE_MAGIC1, true);
  v.setUint32(FX_SW + 4, n + 4, true);
  v.setBigUint64(FX_SW + 8, features, true);
  v.setUint32(FX_SW + 16, n, true);
  v.setUint32(n, FP_XSTATE_MAGIC2, true);
  return out;
}

/** initFP returns the XSAVE area of a fresh FPU (what a handler starts with):
 *  x87 control word 0x37f, MXCSR 0x1f80, everything else in its initial state. */
export function initFP(like: Uint8Array): Uint8Array {
  const out = new Uint8Array(like.length);
  if (like.length < FX_SIZE) return out;
  const v = new DataView(out.buffer);
  const lv = new DataView(like.buffer, like.byteOffset, like.length);
  v.setUint16(FX_CWD, 0x37f, true);
  v.setUint32(FX_MXCSR, 0x1f80, true);
  v.setUint32(FX_MXCSR_MASK, lv.getUint32(FX_MXCSR_MASK, true), true);
  if (like.length >= MIN_XSTATE) v.setBigUint64(XSTATE_BV, XFEATURE_MASK_FPSSE, true);
  return out;
}

/** restoredFP returns the XSAVE area to load from a frame's FP state `user`
 *  (read as xsize+4 bytes): the whole area when the software bytes and
 *  magic2 check out, else only the legacy FP/SSE part (Linux's fx_only). */
export function restoredFP(user: Uint8Array, xsize: number): Uint8Array {
  const v = new DataView(user.buffer, user.byteOffset, user.length);
  const ok = xsize >= MIN_XSTATE && user.length >= xsize + 4 &&
    v.getUint32(FX_SW, true) === FP_XSTATE_MAGIC1 &&
    v.getUint32(FX_SW + 16, true) === xsize &&
    v.getUint32(FX_SW + 4, true) >= xsize + 4 &&
    v.getUint32(xsize, true) === FP_XSTATE_MAGIC2;
  if (ok) return user.slice(0, xsize);
  const out = initFP(new Uint8Array(xsize));
  out.set(user.subarray(0, Math.min(FX_SW, user.length)));
  if (xsize >= MIN_XSTATE) new DataView(out.buffer).setBigUint64(XSTATE_BV, XFEATURE_MASK_FPSSE, true);
  return out;
}

/** SavedContext is what rt_sigreturn reads from a frame. */
export interface SavedContext {
  ucFlags: bigint;
  mask: bigint;
  fpstate: number;
  alt: AltStack;
}

/** restoreRegs reads the frame's ucontext (FRAME_SIZE bytes from the frame
 *  start) into regs: all general registers, rip, and the flags rt_sigreturn
 *  may change. cs and ss stay (the guest cannot leave 64-bit mode here);
 *  orig_rax becomes -1 so no syscall restart applies. */
export function restoreRegs(b: Uint8Array, regs: Regs): SavedContext {
  const v = new DataView(b.buffer, b.byteOffset, FRAME_SIZE);
  const r = regs.u64;
  const m = MCONTEXT_OFFSET;
  const flags = r[REG.eflags];
  SC_REGS.forEach((reg, i) => {
    if (reg !== REG.eflags) r[reg] = v.getBigUint64(m + 8 * i, true);
  });
  const scFlags = v.getBigUint64(m + 8 * 17, true);
  r[REG.eflags] = (flags & ~FIX_EFLAGS) | (scFlags & FIX_EFLAGS);
  r[REG.orig_rax] = 0xffff_ffff_ffff_ffffn;
  return {
    ucFlags: v.getBigUint64(UC_OFFSET, true),
    mask: v.getBigUint64(SIGMASK_OFFSET, true),
    fpstate: Number(v.getBigUint64(m + SC_FPSTATE, true)),
    alt: {
      sp: Number(v.getBigUint64(UC_STACK, true)),
      flags: v.getUint32(UC_STACK + 8, true),
      size: Number(v.getBigUint64(UC_STACK + 16, true)),
    },
  };
}
