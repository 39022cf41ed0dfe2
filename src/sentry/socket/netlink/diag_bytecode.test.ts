import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BcEntry } from './diag_bytecode.js';
import {
  BC_AUTO, BC_D_COND, BC_D_GE, BC_D_LE, BC_JMP, BC_MARK_COND, BC_NOP, BC_S_COND, BC_S_EQ, BC_S_GE, BC_S_LE, audit, run,
} from './diag_bytecode.js';

/** op encodes struct inet_diag_bc_op. */
function op(code: number, yes: number, no: number): number[] {
  return [code, yes, no & 0xff, no >> 8];
}

function hostcond(family: number, prefix: number, port: number, addr: number[]): number[] {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  b[0] = family;
  b[1] = prefix;
  dv.setInt32(4, port, true);
  return [...b, ...addr];
}

function entry(over: Partial<BcEntry> = {}): BcEntry {
  return {
    family: 2, saddr: Uint8Array.of(127, 0, 0, 1), daddr: Uint8Array.of(10, 1, 2, 3), sport: 80, dport: 40000,
    ifindex: 0, autobound: false, mark: 0, cgroupId: 0n, ...over,
  };
}

const bytes = (a: number[]): Uint8Array => Uint8Array.from(a);

test('a port comparison passes or fails the socket', () => {
  const eq80 = bytes([...op(BC_S_EQ, 8, 12), ...op(0, 0, 80)]);
  assert.equal(audit(eq80, false), 0);
  assert.equal(run(eq80, entry()), true);
  assert.equal(run(eq80, entry({ sport: 81 })), false);
});

test('ss-style range: sport >= 1000 and sport <= 2000', () => {
  // Each failing test jumps past the end (len + 4), which rejects.
  const bc = bytes([...op(BC_S_GE, 8, 20), ...op(0, 0, 1000), ...op(BC_S_LE, 8, 12), ...op(0, 0, 2000)]);
  assert.equal(audit(bc, false), 0);
  assert.equal(run(bc, entry({ sport: 1500 })), true);
  assert.equal(run(bc, entry({ sport: 999 })), false);
  assert.equal(run(bc, entry({ sport: 2001 })), false);
});

test('an or: dport <= 10 or dport >= 40000', () => {
  // Linux's audit follows the `yes` chain, so an or is: test, JMP to the end, next test.
  const bc = bytes([...op(BC_D_LE, 8, 12), ...op(0, 0, 10), ...op(BC_JMP, 4, 12), ...op(BC_D_GE, 8, 12), ...op(0, 0, 40000)]);
  assert.equal(audit(bc, false), 0);
  assert.equal(run(bc, entry({ dport: 5 })), true);
  assert.equal(run(bc, entry({ dport: 40000 })), true);
  assert.equal(run(bc, entry({ dport: 300 })), false);
});

test('host conditions match prefixes, ports and v4-mapped addresses', () => {
  const c = bytes([...op(BC_S_COND, 16, 20), ...hostcond(2, 8, -1, [127, 0, 0, 0])]);
  assert.equal(audit(c, false), 0);
  assert.equal(run(c, entry()), true);
  assert.equal(run(c, entry({ saddr: Uint8Array.of(10, 0, 0, 1) })), false);
  const mapped = new Uint8Array(16);
  mapped.set([0xff, 0xff, 127, 0, 0, 9], 10);
  assert.equal(run(c, entry({ family: 10, saddr: mapped })), true);
  const d = bytes([...op(BC_D_COND, 16, 20), ...hostcond(2, 32, 40000, [10, 1, 2, 3])]);
  assert.equal(run(d, entry()), true);
  assert.equal(run(d, entry({ dport: 1 })), false);
  const any = bytes([...op(BC_S_COND, 12, 16), ...hostcond(0, 0, 80, [])]);
  assert.equal(audit(any, false), 0);
  assert.equal(run(any, entry()), true);
});

test('jmp, nop and auto', () => {
  assert.equal(run(bytes([...op(BC_NOP, 4, 0)]), entry()), true);
  // JMP always takes `no`.
  assert.equal(run(bytes(op(BC_JMP, 4, 8)), entry()), false);
  const auto = bytes(op(BC_AUTO, 4, 8));
  assert.equal(audit(auto, false), 0);
  assert.equal(run(auto, entry({ autobound: true })), true);
  assert.equal(run(auto, entry()), false);
});

test('audit refuses what Linux refuses', () => {
  assert.equal(audit(new Uint8Array(0), false), 22, 'empty');
  assert.equal(audit(bytes(op(99, 4, 8)), false), 22, 'unknown op');
  assert.equal(audit(bytes(op(BC_JMP, 6, 8)), false), 22, 'unaligned yes');
  assert.equal(audit(bytes(op(BC_JMP, 4, 16)), false), 22, 'no beyond len + 4');
  assert.equal(audit(bytes(op(BC_S_GE, 4, 8)), false), 22, 'comparison without its port');
  assert.equal(audit(bytes([...op(BC_S_COND, 16, 20), ...hostcond(2, 33, -1, [1, 2, 3, 4])]), false), 22, 'prefix too long');
  assert.equal(audit(bytes([...op(BC_S_COND, 16, 20), ...hostcond(7, 0, -1, [1, 2, 3, 4])]), false), 22, 'bad family');
  const mark = bytes([...op(BC_MARK_COND, 12, 16), 1, 0, 0, 0, 255, 255, 255, 255]);
  assert.equal(audit(mark, false), 1, 'mark needs CAP_NET_ADMIN');
  assert.equal(audit(mark, true), 0);
  // A jump must land on an instruction boundary.
  const mid = bytes([...op(BC_S_GE, 8, 12), ...op(0, 0, 1), ...op(BC_JMP, 4, 8)]);
  assert.equal(audit(mid, false), 0);
  const bad = bytes([...op(BC_S_GE, 8, 12), ...op(0, 0, 1), ...op(BC_S_GE, 8, 12), ...op(0, 0, 1)]);
  assert.equal(audit(bad, false), 22, 'a jump into the middle of an instruction');
  // The same shape with yes skipping the second test hides it from the chain.
  assert.equal(audit(bytes([...op(BC_D_LE, 16, 8), ...op(0, 0, 10), ...op(BC_D_GE, 8, 12), ...op(0, 0, 1)]), false), 22);
});
