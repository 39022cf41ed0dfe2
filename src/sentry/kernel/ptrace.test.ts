import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as linuxerr from '../../abi/linux/errno.js';
import * as P from '../../abi/linux/ptrace.js';
import * as sig from '../../abi/linux/signal.js';
import * as sysPtrace from '../syscalls/linux/sys_ptrace.js';
import * as sysThread from '../syscalls/linux/sys_thread.js';
import * as signals from './signals.js';
import type { Task } from './task.js';
import { TaskState } from './task.js';
import { exitGroup, exitStatusCode } from './task_exit.js';
import { alloc, args, fakeKernel, i32At, newProcess } from './testutil.js';

const WNOHANG = 1;

function setup() {
  const k = fakeKernel().kernel;
  signals.installSignals(k);
  const ready: Task[] = [];
  (k as unknown as { makeReady: (t: Task) => void }).makeReady = (t) => {
    t.state = TaskState.Ready;
    ready.push(t);
  };
  (k.platform as unknown as Record<string, unknown>).interrupt = () => {};
  const init = newProcess(k, 1, null);
  return { k, init, ready };
}

function call(t: Task, fn: (t: Task, a: ReturnType<typeof args>) => unknown, ...v: number[]): number {
  try {
    return fn(t, args(...v)) as number;
  } catch (e) {
    if (e instanceof linuxerr.SyscallError) return -e.errno;
    throw e;
  }
}

test('signal-delivery-stop: the tracer waits for it and suppresses the signal', () => {
  const { k, init, ready } = setup();
  const child = newProcess(k, 2, init.tg);
  assert.equal(call(child, sysPtrace.ptrace, P.PTRACE_TRACEME, 0, 0, 0), 0);
  assert.equal(call(child, sysPtrace.ptrace, P.PTRACE_TRACEME, 0, 0, 0), -linuxerr.EPERM.errno);
  signals.sendToThread(child, sig.SIGUSR1, signals.userInfo(sig.SIGUSR1, 1, 0));
  assert.equal(child.state, TaskState.Running, 'SIGUSR1 would kill, but a tracee is not killed at send time');
  assert.equal(k.beforeResume!(child), false, 'stopped for the tracer');
  const st = alloc(init, 4);
  assert.equal(call(init, sysThread.wait4, -1, st, WNOHANG, 0), 2);
  assert.equal(i32At(init, st), (sig.SIGUSR1 << 8) | 0x7f);
  assert.equal(call(init, sysThread.wait4, -1, st, WNOHANG, 0), 0, 'a stop is reported once');
  assert.equal(call(init, sysPtrace.ptrace, P.PTRACE_CONT, 2, 0, 0), 0);
  assert.deepEqual(ready, [child]);
  assert.equal(k.beforeResume!(child), true, 'suppressed: the task runs on');
  assert.equal(call(init, sysPtrace.ptrace, P.PTRACE_CONT, 2, 0, 0), -linuxerr.ESRCH.errno, 'not stopped');
});

test('a tracee that is not the tracer\'s child: its exit goes to the tracer too', () => {
  const { k, init } = setup();
  const tracer = newProcess(k, 2, init.tg);
  const tracee = newProcess(k, 3, init.tg);
  assert.equal(call(tracer, sysPtrace.ptrace, P.PTRACE_SEIZE, 3, 0, 0), 0);
  assert.equal(call(tracer, sysPtrace.ptrace, P.PTRACE_SEIZE, 3, 0, 0), -linuxerr.EPERM.errno);
  const st = alloc(tracer, 4);
  assert.equal(call(tracer, sysThread.wait4, -1, st, WNOHANG, 0), 0, 'a tracee is waitable');
  exitGroup(tracee, exitStatusCode(4));
  assert.equal(call(tracer, sysThread.wait4, -1, st, WNOHANG, 0), 3);
  assert.equal(i32At(tracer, st), 4 << 8);
  assert.equal(call(tracer, sysThread.wait4, -1, st, WNOHANG, 0), -linuxerr.ECHILD.errno);
  assert.ok(tracee.tg.zombie, 'the parent still reaps it');
});

test('PTRACE_O_EXITKILL: the tracer\'s exit kills its tracees; without it they are let go', () => {
  const { k, init, ready } = setup();
  const tracer = newProcess(k, 2, init.tg);
  const a = newProcess(k, 3, init.tg);
  const b = newProcess(k, 4, init.tg);
  assert.equal(call(tracer, sysPtrace.ptrace, P.PTRACE_SEIZE, 3, 0, P.PTRACE_O_EXITKILL), 0);
  assert.equal(call(tracer, sysPtrace.ptrace, P.PTRACE_SEIZE, 4, 0, 0), 0);
  assert.equal(call(tracer, sysPtrace.ptrace, P.PTRACE_SEIZE, 4, 0, 1 << 30), -linuxerr.EINVAL.errno, 'bad options first');
  assert.equal(call(tracer, sysPtrace.ptrace, P.PTRACE_INTERRUPT, 4, 0, 0), 0);
  assert.equal(k.beforeResume!(b), false, 'PTRACE_EVENT_STOP');
  exitGroup(tracer, 0);
  assert.equal(a.state, TaskState.Dead);
  assert.equal(a.tg.exitStatus, sig.SIGKILL);
  assert.notEqual(b.state, TaskState.Dead);
  assert.equal(b.ptrace, null);
  assert.deepEqual(ready, [b], 'detached and running again');
});
