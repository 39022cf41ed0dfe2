import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as linuxerr from '../../abi/linux/errno.js';
import * as m from '../../abi/linux/mm.js';
import { MemoryManager } from '../mm/mm.js';
import { FakeAddressSpace } from '../mm/testutil/fake_as.js';
import * as auxv from './auxv.js';
import { buildStack, checkArgLimits, MAX_ARG_STRLEN, stackSize } from './stack.js';

const TOP = 0x7fd0_0000_0000;

function setup(): { mm: MemoryManager; as: FakeAddressSpace } {
  const as = new FakeAddressSpace();
  const mm = new MemoryManager(as);
  mm.mmap({ addr: TOP - 64 * 4096, length: 64 * 4096, prot: m.PROT_READ | m.PROT_WRITE,
    flags: m.MAP_PRIVATE | m.MAP_ANONYMOUS | m.MAP_FIXED });
  return { mm, as };
}

function cstr(mm: MemoryManager, addr: number): string {
  return mm.copyInString(addr);
}

test('initial stack layout matches Linux', () => {
  const { mm } = setup();
  const random = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const spec = {
    top: TOP, argv: ['prog', 'a b', ''], envp: ['HOME=/', 'X=ü'], execfn: './prog',
    auxv: [[auxv.AT_PAGESZ, 4096], [auxv.AT_RANDOM, 0], [auxv.AT_EXECFN, 0], [auxv.AT_PLATFORM, 0]] as auxv.AuxEntry[],
    random, jitter: 100, platform: 'x86_64',
  };
  const st = buildStack(mm, spec);
  assert.equal(st.sp % 16, 0);
  assert.equal(stackSize(spec), TOP - st.sp);
  assert.equal(mm.readU64(st.sp), 3, 'argc');
  const argv = [0, 1, 2].map((i) => cstr(mm, mm.readU64(st.sp + 8 + 8 * i)));
  assert.deepEqual(argv, ['prog', 'a b', '']);
  assert.equal(mm.readU64(st.sp + 32), 0, 'argv NULL');
  const envp = [0, 1].map((i) => cstr(mm, mm.readU64(st.sp + 40 + 8 * i)));
  assert.deepEqual(envp, ['HOME=/', 'X=ü']);
  assert.equal(mm.readU64(st.sp + 56), 0, 'envp NULL');
  // auxv follows envp's NULL directly.
  const a = st.sp + 64;
  const pairs: [number, number][] = [];
  for (let o = a; ; o += 16) {
    pairs.push([mm.readU64(o), mm.readU64(o + 8)]);
    if (pairs[pairs.length - 1][0] === auxv.AT_NULL) break;
  }
  assert.deepEqual(pairs.map((p) => p[0]), [auxv.AT_PAGESZ, auxv.AT_RANDOM, auxv.AT_EXECFN, auxv.AT_PLATFORM, auxv.AT_NULL]);
  assert.equal(pairs[1][1], st.randomAddr);
  assert.deepEqual(mm.copyIn(st.randomAddr, 16), random);
  assert.equal(cstr(mm, pairs[2][1]), './prog');
  assert.equal(cstr(mm, pairs[3][1]), 'x86_64');
  assert.equal(st.platformAddr, st.randomAddr + 16);
  // Strings: argv, then envp, then execfn, then a zero word at the very top.
  assert.equal(st.argStart, mm.readU64(st.sp + 8));
  assert.equal(st.envStart, st.argEnd);
  assert.equal(st.envStart, mm.readU64(st.sp + 40));
  assert.equal(st.envEnd, st.execfnAddr);
  assert.equal(st.execfnAddr + './prog'.length + 1 + 8, TOP);
  assert.equal(mm.readU64(TOP - 8), 0);
  const args = new TextDecoder().decode(mm.copyIn(st.argStart, st.argEnd - st.argStart));
  assert.equal(args, 'prog\0a b\0\0');
  // The platform string sits below the jittered, 16-byte aligned strings start.
  const p = st.argStart - 100;
  assert.equal(st.platformAddr + 7, p - (p % 16));
  // The recorded auxv is exactly what the guest sees.
  assert.deepEqual(st.auxv, mm.copyIn(a, pairs.length * 16));
  assert.deepEqual([...auxv.parseAuxv(st.auxv).keys()], [auxv.AT_PAGESZ, auxv.AT_RANDOM, auxv.AT_EXECFN, auxv.AT_PLATFORM]);
});

test('an odd number of words still yields an aligned sp', () => {
  for (const n of [0, 1, 2, 3]) {
    const { mm } = setup();
    const st = buildStack(mm, { top: TOP, argv: Array(n + 1).fill('x'), envp: [], execfn: 'x',
      auxv: [[auxv.AT_PAGESZ, 4096]], random: new Uint8Array(16), jitter: 0, platform: 'x86_64' });
    assert.equal(st.sp % 16, 0, `argc ${n + 1}`);
    assert.equal(mm.readU64(st.sp), n + 1);
  }
});

test('argument limits: E2BIG as Linux computes it', () => {
  checkArgLimits(['a'], ['b'], 'a', 8 * 1024 * 1024);
  assert.throws(() => checkArgLimits(['x'.repeat(MAX_ARG_STRLEN)], [], 'a', 8 * 1024 * 1024), linuxerr.E2BIG);
  checkArgLimits(['x'.repeat(MAX_ARG_STRLEN - 1)], [], 'a', 8 * 1024 * 1024);
  // A quarter of an 8 MiB stack: 2 MiB of strings and pointers.
  const many = Array(20).fill('y'.repeat(120_000));
  assert.throws(() => checkArgLimits(many, [], 'a', 8 * 1024 * 1024), linuxerr.E2BIG);
  checkArgLimits(many.slice(0, 15), [], 'a', 8 * 1024 * 1024);
  // Never less than 128 KiB, whatever RLIMIT_STACK says.
  checkArgLimits(['z'.repeat(100_000)], [], 'a', 4096);
  checkArgLimits(many, [], 'a', Infinity);
});
