import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REG } from '../../abi/linux/ptrace.js';
import { Regs } from '../../abi/linux/regs.js';
import * as frame from './signal_frame.js';

const NO_ALT: frame.AltStack = { sp: 0, size: 0, flags: frame.SS_DISABLE };

/** A plausible XSAVE area: FCW, MXCSR, a pattern in xmm0, FP|SSE|AVX present. */
function fakeFP(n = 832): Uint8Array {
  const b = new Uint8Array(n);
  const v = new DataView(b.buffer);
  v.setUint16(0, 0x37f, true);
  v.setUint32(24, 0x1f80, true);
  v.setUint32(28, 0xffff, true);
  for (let i = 0; i < 16; i++) b[160 + i] = i + 1;
  v.setBigUint64(512, 7n, true);
  return b;
}

test('placeFrame: below the red zone, XSAVE area 64-aligned, frame at 16n-8', () => {
  const sp = 0x7ffd_1234_5678;
  const p = frame.placeFrame(sp, 832, false, NO_ALT)!;
  assert.equal(p.fpstate % 64, 0);
  assert.ok(p.fpstate + 832 + 4 <= sp - 128);
  assert.ok(p.frame + frame.FRAME_SIZE <= p.fpstate);
  assert.equal((p.frame + 8) % 16, 0);
  assert.ok(p.fpstate - (p.frame + frame.FRAME_SIZE) < 16 + 16);
});

test('placeFrame: SA_ONSTACK switches to the alternate stack, unless already on it', () => {
  const alt = { sp: 0x10_0000, size: 0x8000, flags: 0 };
  const p = frame.placeFrame(0x7ffd_0000_0000, 832, true, alt)!;
  assert.ok(p.frame > alt.sp && p.fpstate + 836 <= alt.sp + alt.size);
  // Already on it: nested frames go below the current sp.
  const inner = frame.placeFrame(p.frame, 832, true, alt)!;
  assert.ok(inner.fpstate + 836 <= p.frame - 128);
  // Without SA_ONSTACK the normal stack is used.
  assert.ok(frame.placeFrame(0x7ffd_0000_0000, 832, false, alt)!.frame > alt.sp + alt.size);
  // Overflowing the alternate stack fails (SIGSEGV).
  assert.equal(frame.placeFrame(0x7ffd_0000_0000, 832, true, { sp: 0x10_0000, size: 1024, flags: 0 }), null);
  // SS_AUTODISARM: the stack is taken even when sp is on it.
  const dis = { ...alt, flags: frame.SS_AUTODISARM };
  const again = frame.placeFrame(p.frame, 832, true, dis)!;
  assert.ok(again.fpstate + 836 <= alt.sp + alt.size && again.fpstate > p.frame);
});

test('altStackFlags reports SS_DISABLE, SS_ONSTACK or 0', () => {
  const alt = { sp: 0x1000, size: 0x1000, flags: 0 };
  assert.equal(frame.altStackFlags(NO_ALT, 0x1800), frame.SS_DISABLE);
  assert.equal(frame.altStackFlags(alt, 0x1800), frame.SS_ONSTACK);
  assert.equal(frame.altStackFlags(alt, 0x1000), 0); // sp > ss_sp is required
  assert.equal(frame.altStackFlags(alt, 0x2000), frame.SS_ONSTACK);
  assert.equal(frame.altStackFlags({ ...alt, flags: frame.SS_AUTODISARM }, 0x1800), 0);
});

test('buildFrame records the registers in struct sigcontext order; restoreRegs reads them back', () => {
  const regs = new Regs();
  const names = ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax',
    'rcx', 'rsp', 'rip'] as const;
  names.forEach((n, i) => { regs.u64[REG[n]] = BigInt(0x1000 + i); });
  regs.u64[REG.eflags] = 0x246n;
  regs.u64[REG.cs] = 0x33n;
  regs.u64[REG.ss] = 0x2bn;
  const place = { frame: 0x7000_0008, fpstate: 0x7000_0400 };
  const b = frame.buildFrame(place, {
    regs, restorer: 0x4010n, info: new Uint8Array(128).fill(9), mask: 0x5n,
    alt: { sp: 0x9000, size: 0x4000, flags: frame.SS_AUTODISARM }, trapno: 14, err: 4, cr2: 0xdead, fp: fakeFP(),
  });
  const v = new DataView(b.buffer);
  assert.equal(v.getBigUint64(0, true), 0x4010n);
  assert.equal(v.getBigUint64(8, true), 7n); // UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
  assert.equal(v.getBigUint64(16, true), 0n); // uc_link
  assert.equal(v.getBigUint64(24, true), 0x9000n);
  assert.equal(v.getUint32(32, true), frame.SS_AUTODISARM);
  assert.equal(v.getBigUint64(40, true), 0x4000n);
  const m = frame.MCONTEXT_OFFSET;
  assert.equal(v.getBigUint64(m, true), 0x1000n); // r8 first
  assert.equal(v.getBigUint64(m + 13 * 8, true), 0x100dn); // rax
  assert.equal(v.getBigUint64(m + 16 * 8, true), 0x1010n); // rip
  assert.equal(v.getBigUint64(m + 17 * 8, true), 0x246n);
  assert.equal(v.getUint16(m + 144, true), 0x33);
  assert.equal(v.getUint16(m + 150, true), 0x2b);
  assert.equal(v.getBigUint64(m + 152, true), 4n);
  assert.equal(v.getBigUint64(m + 160, true), 14n);
  assert.equal(v.getBigUint64(m + 168, true), 5n);
  assert.equal(v.getBigUint64(m + 176, true), 0xdeadn);
  assert.equal(v.getBigUint64(m + 184, true), 0x7000_0400n);
  assert.equal(v.getBigUint64(frame.SIGMASK_OFFSET, true), 5n);
  assert.equal(b[frame.INFO_OFFSET], 9);

  const out = new Regs();
  out.u64[REG.eflags] = 0x202n | 0x200000n; // ID flag (not restorable) stays
  out.u64[REG.cs] = 0x33n;
  const ctx = frame.restoreRegs(b, out);
  names.forEach((n) => assert.equal(out.u64[REG[n]], regs.u64[REG[n]], n));
  assert.equal(out.u64[REG.eflags], 0x246n | 0x200000n);
  assert.equal(out.orig_rax, -1);
  assert.equal(ctx.mask, 5n);
  assert.equal(ctx.fpstate, 0x7000_0400);
  assert.deepEqual(ctx.alt, { sp: 0x9000, size: 0x4000, flags: frame.SS_AUTODISARM });
});

test('buildFrame writes no siginfo without SA_SIGINFO', () => {
  const b = frame.buildFrame({ frame: 0x1008, fpstate: 0x1400 }, {
    regs: new Regs(), restorer: 1n, info: null, mask: 0n, alt: NO_ALT, trapno: 0, err: 0, cr2: 0, fp: fakeFP(),
  });
  assert.ok(b.subarray(frame.INFO_OFFSET).every((x) => x === 0));
});

test('sigframeFP adds the software bytes and magic2; restoredFP accepts them, else keeps FP/SSE only', () => {
  const fp = fakeFP();
  const f = frame.sigframeFP(fp);
  const v = new DataView(f.buffer);
  assert.equal(f.length, 836);
  assert.equal(v.getUint32(464, true), frame.FP_XSTATE_MAGIC1);
  assert.equal(v.getUint32(468, true), 836);
  assert.equal(v.getUint32(480, true), 832);
  assert.equal(v.getUint32(832, true), frame.FP_XSTATE_MAGIC2);
  const back = frame.restoredFP(f, 832);
  assert.deepEqual(back.subarray(0, 464), fp.subarray(0, 464));
  assert.equal(new DataView(back.buffer).getBigUint64(512, true), 7n);
  // A frame whose magic2 was overwritten: only the legacy FP/SSE state is taken.
  f[832] ^= 0xff;
  const fx = frame.restoredFP(f, 832);
  assert.deepEqual(fx.subarray(0, 464), fp.subarray(0, 464));
  assert.equal(new DataView(fx.buffer).getBigUint64(512, true), 3n);
});

test('initFP is a fresh FPU: default control word and MXCSR, FP/SSE present and zero', () => {
  const fp = fakeFP();
  fp[200] = 0x55;
  const i = frame.initFP(fp);
  const v = new DataView(i.buffer);
  assert.equal(v.getUint16(0, true), 0x37f);
  assert.equal(v.getUint32(24, true), 0x1f80);
  assert.equal(i[200], 0);
  assert.equal(v.getBigUint64(512, true), 3n);
});
