import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from './bpf.js';
import {
  compile, compileIPOnly, retErrno, seccompData, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS,
} from './seccomp.js';
import type { Rule } from './seccomp.js';

const EPERM = 1;
const EACCES = 13;

function rules(): Rule[] {
  const r: Rule[] = [];
  // Many plain rules, so that the binary search has depth.
  for (let nr = 0; nr < 300; nr += 3) r.push({ name: `s${nr}`, nr, reason: 'test' });
  r.push({ name: 'openat', nr: 257, when: [[{ arg: 0, eq32: 7 }, { arg: 2, mask: 3, value: 0 }]], otherwise: retErrno(EACCES), reason: 'test' });
  r.push({ name: 'clone', nr: 56, when: [[{ arg: 0, anyOf: 0x10000 }]], reason: 'test' });
  r.push({ name: 'x', nr: 400, when: [[{ arg: 1, eq: 0x1_0000_0002n }], [{ arg: 1, eq: 5n }]], reason: 'test' });
  return r;
}

const prog = compile({ rules: rules(), defaultAction: retErrno(EPERM), badArch: SECCOMP_RET_KILL_PROCESS });

test('plain rules allow their numbers and nothing else', () => {
  for (let nr = 0; nr < 300; nr++) {
    if (nr === 257 || nr === 56) continue;
    const want = nr % 3 === 0 ? SECCOMP_RET_ALLOW : retErrno(EPERM);
    assert.equal(run(prog, seccompData(nr)), want, `nr ${nr}`);
  }
  assert.equal(run(prog, seccompData(1000)), retErrno(EPERM));
  assert.equal(run(prog, seccompData(-1)), SECCOMP_RET_KILL_PROCESS); // 0xffffffff >= x32 bit
});

test('argument tests: int equality, masks, any-bit, 64-bit equality, alternatives', () => {
  assert.equal(run(prog, seccompData(257, [7, 0, 0])), SECCOMP_RET_ALLOW);
  assert.equal(run(prog, seccompData(257, [0xffffffff00000007n, 0, 0o2000000])), SECCOMP_RET_ALLOW);
  assert.equal(run(prog, seccompData(257, [7, 0, 2])), retErrno(EACCES));
  assert.equal(run(prog, seccompData(257, [-100, 0, 0])), retErrno(EACCES));
  assert.equal(run(prog, seccompData(56, [0x10f00])), SECCOMP_RET_ALLOW);
  assert.equal(run(prog, seccompData(56, [0x11])), retErrno(EPERM));
  assert.equal(run(prog, seccompData(400, [0, 0x1_0000_0002n])), SECCOMP_RET_ALLOW);
  assert.equal(run(prog, seccompData(400, [0, 2])), retErrno(EPERM));
  assert.equal(run(prog, seccompData(400, [0, 5])), SECCOMP_RET_ALLOW);
});

test('other architectures and x32 numbers get the bad-arch action', () => {
  assert.equal(run(prog, seccompData(0, [], 0, 0x40000003 /* i386 */)), SECCOMP_RET_KILL_PROCESS);
  assert.equal(run(prog, seccompData(0x40000000)), SECCOMP_RET_KILL_PROCESS);
});

test('duplicate rules are refused', () => {
  assert.throws(() => compile({ rules: [{ name: 'a', nr: 1, reason: '' }, { name: 'b', nr: 1, reason: '' }], defaultAction: 0, badArch: 0 }));
});

test('the IP filter allows exactly one call site', () => {
  const ip = 0x7fe000000002;
  const p = compileIPOnly(ip, SECCOMP_RET_KILL_PROCESS);
  assert.equal(run(p, seccompData(9, [], ip)), SECCOMP_RET_ALLOW);
  assert.equal(run(p, seccompData(9, [], ip + 1)), SECCOMP_RET_KILL_PROCESS);
  assert.equal(run(p, seccompData(9, [], 0x7fe100000002)), SECCOMP_RET_KILL_PROCESS);
  assert.equal(run(p, seccompData(9, [], ip, 0x40000003)), SECCOMP_RET_KILL_PROCESS);
});
