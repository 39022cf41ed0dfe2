import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../abi/linux/errno.js';
import { REG } from '../../abi/linux/ptrace.js';
import * as sig from '../../abi/linux/signal.js';
import { SYSNO } from '../../abi/linux/sysno.js';
import * as sysSignal from '../syscalls/linux/sys_signal.js';
import * as sysThread from '../syscalls/linux/sys_thread.js';
import type { Kernel } from './kernel.js';
import * as frame from './signal_frame.js';
import { sigreturn } from './signal_delivery.js';
import * as signals from './signals.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import { MEM_BASE, MEM_SIZE, alloc, args, fakeKernel, newProcess } from './testutil.js';

const HANDLER = 0x40_1000n;
const RESTORER = 0x40_2000n;
const STACK_TOP = MEM_BASE + MEM_SIZE - 0x100;

interface FakePlatform {
  fp: Uint8Array;
  fpSets: Uint8Array[];
  interrupted: number;
}

function setup() {
  const fk = fakeKernel();
  const k = fk.kernel;
  signals.installSignals(k);
  const fp = new Uint8Array(832);
  new DataView(fp.buffer).setUint32(24, 0x1f80 | 0x4000, true); // MXCSR: round up
  const plat: FakePlatform = { fp, fpSets: [], interrupted: 0 };
  const p = k.platform as unknown as Record<string, unknown>;
  p.getFPState = () => plat.fp.slice();
  p.setFPState = (_t: unknown, b: Uint8Array) => plat.fpSets.push(b.slice());
  p.interrupt = () => plat.interrupted++;
  const ready: Task[] = [];
  (k as unknown as { makeReady: (t: Task) => void }).makeReady = (t) => ready.push(t);
  const init = newProcess(k, 1, null);
  const child = newProcess(k, 2, init.tg);
  for (const t of [init, child]) {
    t.regs.rsp = STACK_TOP;
    t.regs.rip = 0x40_5002;
    t.regs.set(REG.orig_rax, -1);
  }
  return { fk, k, init, child, plat, ready };
}

function handle(t: Task, s: number, flags: number, mask = 0n): void {
  t.tg.sigactions[s] = { handler: HANDLER, flags: flags | sig.SA_RESTORER, restorer: RESTORER, mask };
}

/** returnFromSyscall sets t's registers as after syscall nr returned r. */
function returnFromSyscall(t: Task, nr: number, r: number): void {
  t.regs.set(REG.orig_rax, nr);
  t.regs.rax = r;
}

function resume(k: Kernel, t: Task): boolean {
  return k.beforeResume!(t);
}

test('a caught signal gets a frame: registers, mask, restorer, siginfo', () => {
  const { k, init, child, plat } = setup();
  handle(child, sig.SIGUSR1, sig.SA_SIGINFO, sig.sigbit(sig.SIGUSR2));
  child.regs.set(REG.rbx, 0x1234);
  signals.sendToGroup(child.tg, sig.SIGUSR1, signals.userInfo(sig.SIGUSR1, init.tg.pid, 0));
  assert.equal(resume(k, child), true);
  const r = child.regs;
  const f = r.rsp;
  assert.equal(r.rip, Number(HANDLER));
  assert.equal(r.get(REG.rdi), sig.SIGUSR1);
  assert.equal(r.get(REG.rsi), f + frame.INFO_OFFSET);
  assert.equal(r.get(REG.rdx), f + frame.UC_OFFSET);
  assert.equal((f + 8) % 16, 0);
  assert.ok(f < STACK_TOP - 128 - 832);
  assert.equal(child.sigmask, sig.sigbit(sig.SIGUSR1) | sig.sigbit(sig.SIGUSR2));
  assert.equal(child.mm.readU64(f), Number(RESTORER));
  assert.equal(child.mm.readI32(f + frame.INFO_OFFSET), sig.SIGUSR1);
  assert.equal(child.mm.readI32(f + frame.INFO_OFFSET + 16), 1); // si_pid
  // The handler starts with a fresh FPU.
  assert.equal(new DataView(plat.fpSets[0].buffer).getUint32(24, true), 0x1f80);
  // rt_sigreturn (after the handler's ret into the restorer, rsp = frame + 8).
  r.rsp = f + 8;
  r.set(REG.rbx, 0);
  sigreturn(child);
  assert.equal(r.rip, 0x40_5002);
  assert.equal(r.rsp, STACK_TOP);
  assert.equal(r.get(REG.rbx), 0x1234);
  assert.equal(child.sigmask, 0n);
  assert.equal(new DataView(plat.fpSets[1].buffer).getUint32(24, true), 0x1f80 | 0x4000);
});

test('ERESTARTSYS: SA_RESTART restarts the syscall, otherwise EINTR', () => {
  const { k, child } = setup();
  handle(child, sig.SIGUSR1, sig.SA_RESTART);
  returnFromSyscall(child, SYSNO.read, -linuxerr.ERESTARTSYS.errno);
  signals.sendToThread(child, sig.SIGUSR1, signals.userInfo(sig.SIGUSR1, 1, 0));
  resume(k, child);
  const m = child.regs.rsp + frame.MCONTEXT_OFFSET;
  assert.equal(child.mm.readU64(m + 16 * 8), 0x40_5000); // rip rewound over the syscall instruction
  assert.equal(child.mm.readU64(m + 13 * 8), SYSNO.read); // rax = the syscall number again

  const b = setup();
  handle(b.child, sig.SIGUSR1, 0);
  returnFromSyscall(b.child, SYSNO.read, -linuxerr.ERESTARTSYS.errno);
  signals.sendToThread(b.child, sig.SIGUSR1, signals.userInfo(sig.SIGUSR1, 1, 0));
  resume(b.k, b.child);
  const m2 = b.child.regs.rsp + frame.MCONTEXT_OFFSET;
  assert.equal(b.child.mm.readU64(m2 + 16 * 8), 0x40_5002);
  assert.equal(b.child.mm.readU64(m2 + 13 * 8), 2 ** 64 - linuxerr.EINTR.errno);
});

test('without a handler every restart code restarts; ERESTART_RESTARTBLOCK via restart_syscall', () => {
  const { k, child } = setup();
  returnFromSyscall(child, SYSNO.poll, -linuxerr.ERESTARTNOHAND.errno);
  assert.equal(resume(k, child), true);
  assert.equal(child.regs.rip, 0x40_5000);
  assert.equal(child.regs.rax, SYSNO.poll);
  const b = setup();
  returnFromSyscall(b.child, SYSNO.nanosleep, -linuxerr.ERESTART_RESTARTBLOCK.errno);
  resume(b.k, b.child);
  assert.equal(b.child.regs.rax, SYSNO.restart_syscall);
  // A handler turns ERESTARTNOHAND into EINTR even with SA_RESTART.
  const c = setup();
  handle(c.child, sig.SIGUSR1, sig.SA_RESTART);
  returnFromSyscall(c.child, SYSNO.pause, -linuxerr.ERESTARTNOHAND.errno);
  signals.sendToThread(c.child, sig.SIGUSR1, signals.userInfo(sig.SIGUSR1, 1, 0));
  resume(c.k, c.child);
  const m = c.child.regs.rsp + frame.MCONTEXT_OFFSET;
  assert.equal(c.child.mm.readU64(m + 13 * 8), 2 ** 64 - linuxerr.EINTR.errno);
});

test('sigsuspend: the handler runs under the temporary mask, the frame restores the old one', () => {
  const { k, child } = setup();
  handle(child, sig.SIGUSR1, 0);
  child.sigmask = sig.sigbit(sig.SIGUSR1);
  signals.sendToThread(child, sig.SIGUSR1, signals.userInfo(sig.SIGUSR1, 1, 0));
  const set = alloc(child, 8, new Uint8Array(8));
  assert.throws(() => sysSignal.rtSigsuspend(child, args(set, 8)), linuxerr.ERESTARTNOHAND);
  returnFromSyscall(child, SYSNO.rt_sigsuspend, -linuxerr.ERESTARTNOHAND.errno);
  resume(k, child);
  assert.equal(child.regs.rip, Number(HANDLER));
  assert.equal(child.mm.readU64(child.regs.rsp + frame.SIGMASK_OFFSET), Number(sig.sigbit(sig.SIGUSR1)));
  assert.equal(signals.savedMasks.has(child), false);
});

test('a fatal default kills on delivery; ignored and SIG_IGN signals are dropped', () => {
  const { k, child } = setup();
  child.sigmask = sig.sigbit(sig.SIGTERM);
  signals.sendToGroup(child.tg, sig.SIGTERM, signals.userInfo(sig.SIGTERM, 1, 0));
  assert.equal(child.state, TaskState.Running);
  child.sigmask = 0n;
  assert.equal(resume(k, child), false);
  assert.equal(child.tg.exitStatus, sig.SIGTERM);
});

test('job control: SIGSTOP stops the group and tells the parent; SIGCONT resumes', () => {
  const { k, init, child, ready } = setup();
  init.sigmask = sig.sigbit(sig.SIGCHLD);
  signals.sendToGroup(child.tg, sig.SIGSTOP, signals.userInfo(sig.SIGSTOP, 1, 0));
  assert.equal(resume(k, child), false);
  assert.equal(signals.isStopped(child.tg), true);
  const info = signals.dequeue(init, sig.sigbit(sig.SIGCHLD))!;
  assert.equal(info.code, signals.CLD_STOPPED);
  assert.equal(info.status, sig.SIGSTOP);
  const st = alloc(init, 4);
  assert.equal(sysThread.wait4(init, args(2, st, 2 /* WUNTRACED */, 0)), 2);
  assert.equal(init.mm.readI32(st), (sig.SIGSTOP << 8) | 0x7f);
  assert.equal(sysThread.wait4(init, args(2, st, 2 | 1 /* WNOHANG */, 0)), 0);
  signals.sendToGroup(child.tg, sig.SIGCONT, signals.userInfo(sig.SIGCONT, 1, 0));
  assert.deepEqual(ready, [child]);
  assert.equal(signals.isStopped(child.tg), false);
  assert.equal(sysThread.wait4(init, args(2, st, 8 /* WCONTINUED */, 0)), 2);
  assert.equal(init.mm.readI32(st), 0xffff);
  assert.equal(resume(k, child), true);
});

test('a signal for a thread running guest code interrupts it on the host', () => {
  const { plat, child } = setup();
  handle(child, sig.SIGUSR1, 0);
  signals.sendToGroup(child.tg, sig.SIGUSR1, signals.userInfo(sig.SIGUSR1, 1, 0));
  assert.equal(plat.interrupted, 1);
});

test('a blocked wait is interrupted with ERESTARTSYS, and none starts while a signal is pending', async () => {
  const { child } = setup();
  handle(child, sig.SIGUSR1, 0);
  child.state = TaskState.Blocked;
  const p = child.sleep(10_000);
  signals.sendToGroup(child.tg, sig.SIGUSR1, signals.userInfo(sig.SIGUSR1, 1, 0));
  await assert.rejects(p, linuxerr.ERESTARTSYS);
  await assert.rejects(child.sleep(10_000), linuxerr.ERESTARTSYS);
});

test('a fault with the signal blocked reverts it to the default and kills', () => {
  const { k, child } = setup();
  handle(child, sig.SIGSEGV, sig.SA_SIGINFO);
  child.sigmask = sig.sigbit(sig.SIGSEGV);
  const raw = new Uint8Array(128);
  new DataView(raw.buffer).setInt32(8, 1, true);
  (k.platform as unknown as Record<string, unknown>).siginfo = () => raw;
  k.deliverFault!(child, sig.SIGSEGV);
  assert.equal(resume(k, child), false);
  assert.equal(child.tg.exitStatus, sig.SIGSEGV | 0x80);
});
