import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../abi/linux/errno.js';
import * as sig from '../../abi/linux/signal.js';
import { SYSNO } from '../../abi/linux/sysno.js';
import * as sysSignal from '../syscalls/linux/sys_signal.js';
import type { SyscallArgs } from '../syscalls/syscalls.js';
import { Credentials } from './creds.js';
import * as signals from './signals.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import { alloc, args, fakeKernel, newProcess, newThread, u64At } from './testutil.js';

function call(name: keyof typeof SYSNO, t: Task, a: SyscallArgs): unknown {
  const e = sysSignal.syscalls[SYSNO[name]];
  return e.handler!(t, a);
}

function setup() {
  const fk = fakeKernel();
  const k = fk.kernel;
  signals.installSignals(k);
  const init = newProcess(k, 1, null);
  const child = newProcess(k, 2, init.tg);
  return { fk, k, init, child };
}

function sigset(t: Task, set: bigint): number {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, set, true);
  return alloc(t, 8, b);
}

function sigaction(t: Task, handler: bigint, flags = 0): number {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, handler, true);
  v.setBigUint64(8, BigInt(flags), true);
  return alloc(t, 32, b);
}

test('default actions', () => {
  assert.equal(signals.defaultAction(sig.SIGTERM), signals.DefaultAction.Term);
  assert.equal(signals.defaultAction(sig.SIGSEGV), signals.DefaultAction.Core);
  assert.equal(signals.defaultAction(sig.SIGCHLD), signals.DefaultAction.Ignore);
  assert.equal(signals.defaultAction(sig.SIGTSTP), signals.DefaultAction.Stop);
  assert.equal(signals.defaultAction(40), signals.DefaultAction.Term);
});

test('kill with a terminating default kills the target process', () => {
  const { init, child } = setup();
  assert.equal(call('kill', init, args(2, sig.SIGTERM)), 0);
  assert.equal(child.state, TaskState.Dead);
  assert.equal(child.tg.exitStatus, sig.SIGTERM);
  assert.ok(child.tg.zombie);
});

test('SIGQUIT kills with the core bit; ignored SIGCHLD is dropped', () => {
  const { init, child } = setup();
  call('kill', init, args(2, sig.SIGCHLD));
  assert.equal(child.state, TaskState.Running);
  assert.equal(child.tg.pendingSignals, 0n);
  call('kill', init, args(2, sig.SIGQUIT));
  assert.equal(child.tg.exitStatus, sig.SIGQUIT | 0x80);
});

test('signal 0 checks existence only; unknown pid is ESRCH; bad signal EINVAL', () => {
  const { init, child } = setup();
  assert.equal(call('kill', init, args(2, 0)), 0);
  assert.equal(child.state, TaskState.Running);
  assert.throws(() => call('kill', init, args(99, sig.SIGTERM)), linuxerr.ESRCH);
  assert.throws(() => call('kill', init, args(2, 65)), linuxerr.EINVAL);
  assert.throws(() => call('kill', init, args(99, 65)), linuxerr.ESRCH);
});

test('init ignores default-action signals from inside, SIGKILL included; the host still kills it', () => {
  const { child, init, fk } = setup();
  assert.equal(call('kill', child, args(1, sig.SIGTERM)), 0);
  assert.equal(call('kill', child, args(1, sig.SIGKILL)), 0);
  assert.equal(call('kill', init, args(1, sig.SIGKILL)), 0);
  assert.equal(init.state, TaskState.Running);
  assert.equal(init.tg.pendingSignals, 0n);
  // With a handler, the signal is queued as for any process.
  assert.equal(call('rt_sigaction', init, args(sig.SIGUSR1, sigaction(init, 0x401000n), 0, 8)), 0);
  call('kill', child, args(1, sig.SIGUSR1));
  assert.equal(init.tg.pendingSignals, sig.sigbit(sig.SIGUSR1));
  // runsc kill (SI_USER with no sender pid) gets through, as in gVisor.
  signals.sendToGroup(init.tg, sig.SIGTERM, signals.userInfo(sig.SIGTERM, 0, 0));
  assert.equal(init.state, TaskState.Dead);
  assert.equal(fk.initStatus, sig.SIGTERM);
});

test('a child of init is killed as usual', () => {
  const { child, init } = setup();
  call('kill', init, args(2, sig.SIGKILL));
  assert.equal(child.state, TaskState.Dead);
  assert.equal(child.tg.exitStatus, sig.SIGKILL);
});

test('a caught signal stays pending; SIG_IGN drops it', () => {
  const { init, child } = setup();
  assert.equal(call('rt_sigaction', child, args(sig.SIGUSR1, sigaction(child, 0x401000n), 0, 8)), 0);
  call('kill', init, args(2, sig.SIGUSR1));
  assert.equal(child.state, TaskState.Running);
  assert.equal(child.tg.pendingSignals, sig.sigbit(sig.SIGUSR1));
  call('rt_sigaction', child, args(sig.SIGUSR1, sigaction(child, 1n), 0, 8));
  assert.equal(child.tg.pendingSignals, 0n);
});

test('a blocked fatal signal is pending until unblocked, then kills', () => {
  const { k, init, child } = setup();
  call('rt_sigprocmask', child, args(sig.SIG_BLOCK, sigset(child, sig.sigbit(sig.SIGTERM)), 0, 8));
  call('kill', init, args(2, sig.SIGTERM));
  assert.equal(child.state, TaskState.Running);
  const pend = alloc(child, 8);
  call('rt_sigpending', child, args(pend, 8));
  assert.equal(u64At(child, pend), sig.sigbit(sig.SIGTERM));
  const old = alloc(child, 8);
  call('rt_sigprocmask', child, args(sig.SIG_UNBLOCK, sigset(child, sig.sigbit(sig.SIGTERM)), old, 8));
  // Delivered on the way back to guest code.
  assert.equal(k.beforeResume!(child), false);
  assert.equal(child.state, TaskState.Dead);
  assert.equal(child.tg.exitStatus, sig.SIGTERM);
});

test('rt_sigprocmask never blocks SIGKILL and checks sigsetsize and how', () => {
  const { child } = setup();
  call('rt_sigprocmask', child, args(sig.SIG_SETMASK, sigset(child, ~0n), 0, 8));
  assert.equal(child.sigmask, ~sig.UNBLOCKABLE & 0xffff_ffff_ffff_ffffn);
  assert.throws(() => call('rt_sigprocmask', child, args(sig.SIG_SETMASK, 0, 0, 4)), linuxerr.EINVAL);
  assert.throws(() => call('rt_sigprocmask', child, args(7, sigset(child, 0n), 0, 8)), linuxerr.EINVAL);
});

test('rt_sigaction refuses SIGKILL and returns the old action', () => {
  const { child } = setup();
  assert.throws(() => call('rt_sigaction', child, args(sig.SIGKILL, sigaction(child, 1n), 0, 8)), linuxerr.EINVAL);
  assert.throws(() => call('rt_sigaction', child, args(0, 0, 0, 8)), linuxerr.EINVAL);
  call('rt_sigaction', child, args(sig.SIGINT, sigaction(child, 0x1234n, sig.SA_RESTART | 0x400 | sig.SA_RESTORER), 0, 8));
  const old = alloc(child, 32);
  call('rt_sigaction', child, args(sig.SIGINT, 0, old, 8));
  assert.equal(u64At(child, old), 0x1234n);
  // Unknown flag bits (0x400, SA_UNSUPPORTED) read back as 0.
  assert.equal(u64At(child, old + 8), BigInt(sig.SA_RESTART | sig.SA_RESTORER));
});

test('tgkill targets one thread; wrong tgid is ESRCH', () => {
  const { k, init, child } = setup();
  const th = newThread(k, 3, child.tg);
  th.sigmask = sig.sigbit(sig.SIGUSR2);
  call('tgkill', init, args(2, 3, sig.SIGUSR2));
  assert.equal(th.pendingSignals, sig.sigbit(sig.SIGUSR2));
  assert.equal(child.tg.pendingSignals, 0n);
  assert.throws(() => call('tgkill', init, args(1, 3, sig.SIGUSR2)), linuxerr.ESRCH);
  assert.throws(() => call('tgkill', init, args(0, 3, sig.SIGUSR2)), linuxerr.EINVAL);
});

test('an unprivileged sender may not signal another user', () => {
  const { k, init } = setup();
  const c = new Credentials();
  c.uid = c.euid = c.suid = 1000;
  c.capEffective = c.capPermitted = 0n;
  const other = newProcess(k, 5, init.tg, c);
  assert.throws(() => call('kill', other, args(2, sig.SIGTERM)), linuxerr.EPERM);
  // kill(-1) skips targets it may not signal without failing.
  assert.equal(call('kill', other, args(-1, 0)), 0);
});

test('kill(0) signals the caller process group', () => {
  const { k, init } = setup();
  const a = newProcess(k, 6, init.tg);
  const b = newProcess(k, 7, init.tg);
  a.tg.pgid = b.tg.pgid = 6;
  call('kill', a, args(0, sig.SIGTERM));
  assert.equal(a.state, TaskState.Dead);
  assert.equal(b.state, TaskState.Dead);
  assert.throws(() => call('kill', init, args(-42, sig.SIGTERM)), linuxerr.ESRCH);
});

test('rt_sigtimedwait takes a pending signal at once, or times out with EAGAIN', async () => {
  const { init, child } = setup();
  child.sigmask = sig.sigbit(sig.SIGUSR1);
  call('kill', init, args(2, sig.SIGUSR1));
  const info = alloc(child, 128);
  assert.equal(call('rt_sigtimedwait', child, args(sigset(child, sig.sigbit(sig.SIGUSR1)), info, 0, 8)), sig.SIGUSR1);
  assert.equal(child.mm.readI32(info), sig.SIGUSR1);
  assert.equal(child.mm.readI32(info + 16), 1); // si_pid
  const zero = alloc(child, 16);
  assert.throws(() => call('rt_sigtimedwait', child, args(sigset(child, sig.sigbit(sig.SIGUSR1)), 0, zero, 8)),
    linuxerr.EAGAIN);
});

test('rt_sigtimedwait wakes when a blocked signal arrives', async () => {
  const { init, child } = setup();
  child.sigmask = sig.sigbit(sig.SIGUSR2);
  const p = call('rt_sigtimedwait', child, args(sigset(child, sig.sigbit(sig.SIGUSR2)), 0, 0, 8));
  assert.ok(p instanceof Promise);
  call('kill', init, args(2, sig.SIGUSR2));
  assert.equal(await p, sig.SIGUSR2);
  assert.equal(child.state, TaskState.Running);
});

test('rt_sigtimedwait does not save the process from an unblocked fatal signal (as Linux)', async () => {
  const { init, child } = setup();
  const p = call('rt_sigtimedwait', child, args(sigset(child, sig.sigbit(sig.SIGUSR2)), 0, 0, 8)) as Promise<number>;
  p.catch(() => {});
  call('kill', init, args(2, sig.SIGUSR2));
  assert.equal(child.state, TaskState.Dead);
  assert.equal(child.tg.exitStatus, sig.SIGUSR2);
});

test('real-time signals queue with their info; standard ones coalesce', () => {
  const { init, child } = setup();
  child.sigmask = sig.sigbit(40) | sig.sigbit(sig.SIGUSR1);
  for (let i = 0; i < 3; i++) {
    signals.sendToGroup(child.tg, 40, { signo: 40, code: signals.SI_QUEUE, pid: 1, uid: 0, status: i });
    call('kill', init, args(2, sig.SIGUSR1));
  }
  const got: number[] = [];
  for (let i = signals.dequeue(child, sig.sigbit(40)); i; i = signals.dequeue(child, sig.sigbit(40))) got.push(i.status);
  assert.deepEqual(got, [0, 1, 2]);
  assert.ok(signals.dequeue(child, sig.sigbit(sig.SIGUSR1)));
  assert.equal(signals.dequeue(child, sig.sigbit(sig.SIGUSR1)), null);
});

test('synchronous signals are dequeued first, then the lowest', () => {
  const { child } = setup();
  child.sigmask = ~0n & 0xffff_ffff_ffff_ffffn;
  for (const s of [sig.SIGUSR2, sig.SIGSEGV, sig.SIGHUP, 64]) signals.sendToThread(child, s, signals.userInfo(s, 0, 0));
  const order: number[] = [];
  for (let i = signals.dequeue(child, ~0n); i; i = signals.dequeue(child, ~0n)) order.push(i.signo);
  assert.deepEqual(order, [sig.SIGSEGV, sig.SIGHUP, sig.SIGUSR2, 64]);
});

test('sigaltstack records and reports, ENOMEM for a small stack', () => {
  const { child } = setup();
  const ss = alloc(child, 24);
  const v = new DataView(new ArrayBuffer(24));
  v.setBigUint64(0, 0x7000_0000n, true);
  v.setUint32(8, 0, true);
  v.setBigUint64(16, 1024n, true);
  child.mm.copyOut(ss, new Uint8Array(v.buffer));
  assert.throws(() => call('sigaltstack', child, args(ss, 0)), linuxerr.ENOMEM);
  v.setBigUint64(16, 65536n, true);
  child.mm.copyOut(ss, new Uint8Array(v.buffer));
  const old = alloc(child, 24);
  call('sigaltstack', child, args(ss, old));
  assert.equal(child.mm.readI32(old + 8), 2); // the previous one: SS_DISABLE
  call('sigaltstack', child, args(0, old));
  assert.equal(u64At(child, old), 0x7000_0000n);
  assert.equal(u64At(child, old + 16), 65536n);
  assert.equal(child.mm.readI32(old + 8), 0);
});

test('signalProcess from a dying child carries CLD_EXITED info', () => {
  const { k, init, child } = setup();
  init.sigmask = sig.sigbit(sig.SIGCHLD);
  child.tg.exiting = true;
  child.tg.exitStatus = 3 << 8;
  k.signalProcess!(init.tg, sig.SIGCHLD, child.tg);
  const i = signals.dequeue(init, sig.sigbit(sig.SIGCHLD));
  assert.ok(i);
  assert.equal(i.code, signals.CLD_EXITED);
  assert.equal(i.status, 3);
  assert.equal(i.pid, 2);
});
