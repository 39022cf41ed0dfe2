// Test helpers: a kernel and tasks without a platform. Guest memory is a flat
// buffer at a fixed address; the host thread behind each task is the test
// process itself (so /proc readers see a real process). For unit tests only.

import { openSync } from 'node:fs';
import { REG } from '../../abi/linux/ptrace.js';
import { Regs } from '../../abi/linux/regs.js';
import { SIGCHLD } from '../../abi/linux/signal.js';
import type { AddressSpace, Thread } from '../../platform/platform.js';
import { MemoryManager } from '../mm/mm.js';
import { SyscallArgs } from '../syscalls/syscalls.js';
import type { FSContext } from '../vfs/fs_context.js';
import { Credentials } from './creds.js';
import type { FDTable } from './fd_table.js';
import type { Kernel } from './kernel.js';
import { Log } from './log.js';
import { Task } from './task.js';
import { defaultRlimits, newSigactions, ThreadGroup } from './thread_group.js';

export const MEM_BASE = 0x10_0000;
export const MEM_SIZE = 0x4_0000;

/** FlatMemory is an AddressSpace of one readable, writable range. */
class FlatMemory {
  readonly bytes = new Uint8Array(MEM_SIZE);
  next = MEM_BASE;
  released = false;

  private span(addr: number, len: number): number {
    if (addr < MEM_BASE || addr >= MEM_BASE + MEM_SIZE) return 0;
    return Math.min(len, MEM_BASE + MEM_SIZE - addr);
  }

  read(addr: number, buf: Uint8Array, off: number, len: number): number {
    const n = this.span(addr, len);
    if (n === 0) return 0;
    buf.set(this.bytes.subarray(addr - MEM_BASE, addr - MEM_BASE + n), off);
    return n;
  }

  write(addr: number, buf: Uint8Array, off: number, len: number): number {
    const n = this.span(addr, len);
    if (n === 0) return 0;
    this.bytes.set(buf.subarray(off, off + n), addr - MEM_BASE);
    return n;
  }

  release(): void {
    this.released = true;
  }
}

/** FakeKernel is the part of Kernel that syscall handlers and kernel/ helpers touch. */
export interface FakeKernel {
  kernel: Kernel;
  /** Set when init exits (the sandbox would end). */
  initStatus: number | null;
}

export function fakeKernel(): FakeKernel {
  const fk: FakeKernel = { kernel: null as unknown as Kernel, initStatus: null };
  const k = {
    log: new Log(openSync('/dev/null', 'w'), false, false),
    hostname: 'sandbox',
    domainname: '(none)',
    tasks: new Map<number, Task>(),
    threadGroups: new Map<number, ThreadGroup>(),
    init: null as ThreadGroup | null,
    platform: { killThread() {}, killProcess() {} },
    bootTime: process.hrtime.bigint(),
    initExited(status: number) {
      fk.initStatus = status;
    },
    makeReady() {},
    poke() {},
    noteWake() {},
  };
  fk.kernel = k as unknown as Kernel;
  return fk;
}

/** newProcess adds a process of one thread (tid = pid) under parent (null: init). */
export function newProcess(k: Kernel, pid: number, parent: ThreadGroup | null, creds = new Credentials()): Task {
  const tg = new ThreadGroup(pid, parent, newSigactions(), defaultRlimits(), SIGCHLD);
  const t = newTask(k, pid, tg, creds);
  tg.leader = t;
  parent?.children.add(tg);
  k.threadGroups.set(pid, tg);
  if (!parent) k.init = tg;
  return t;
}

/** newThread adds a thread to tg. */
export function newThread(k: Kernel, tid: number, tg: ThreadGroup): Task {
  return newTask(k, tid, tg, tg.leader.creds.clone());
}

function newTask(k: Kernel, tid: number, tg: ThreadGroup, creds: Credentials): Task {
  const mem = new FlatMemory();
  const thread = { tid: process.pid, as: mem as unknown as AddressSpace, regs: new Regs(), owner: null } as Thread;
  const mm = new MemoryManager(thread.as);
  const fdTable = { closeAll() {}, onExec() {} } as unknown as FDTable;
  const t = new Task(k, tid, tg, thread, mm, fdTable, {} as FSContext, creds);
  tg.tasks.add(t);
  k.tasks.set(tid, t);
  return t;
}

/** alloc reserves n bytes of t's guest memory (zeroed) and returns their address. */
export function alloc(t: Task, n: number, init?: Uint8Array | string): number {
  const mem = t.mm.as as unknown as FlatMemory;
  const addr = mem.next;
  mem.next += (n + 15) & ~15;
  if (mem.next > MEM_BASE + MEM_SIZE) throw new Error('testutil: guest memory exhausted');
  const b = typeof init === 'string' ? new TextEncoder().encode(init + '\0') : init;
  if (b) t.mm.copyOut(addr, b);
  return addr;
}

/** cstr puts a NUL-terminated string in t's memory. */
export function cstr(t: Task, s: string): number {
  return alloc(t, Buffer.byteLength(s) + 1, s);
}

const ARG_REGS = [REG.rdi, REG.rsi, REG.rdx, REG.r10, REG.r8, REG.r9];

/** args builds SyscallArgs from up to six values (negative numbers as two's complement). */
export function args(...vals: (number | bigint)[]): SyscallArgs {
  const a = new SyscallArgs();
  a.regs = new Regs();
  vals.forEach((v, i) => {
    a.regs.u64[ARG_REGS[i]] = BigInt.asUintN(64, BigInt(v));
  });
  return a;
}

/** u64At reads a little-endian u64 of t's memory. */
export function u64At(t: Task, addr: number): bigint {
  return new DataView(t.mm.copyIn(addr, 8).buffer).getBigUint64(0, true);
}

/** i32At reads a little-endian i32 of t's memory. */
export function i32At(t: Task, addr: number): number {
  return t.mm.readI32(addr);
}
