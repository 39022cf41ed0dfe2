// PtracePlatform runs guest threads as traced host threads of stub processes,
// stopping at every system call with PTRACE_SYSEMU. All ptrace requests come
// from the thread that created the stubs (Node's main thread). Waits name a
// tid or the sandbox's process group, never -1.

import { closeSync, readFileSync } from 'node:fs';
import * as ptrace from '../../abi/linux/ptrace.js';
import { SYSNO } from '../../abi/linux/sysno.js';
import type { Platform, Stop, Thread } from '../platform.js';
import { RegsDirty, StopKind } from '../platform.js';
import { check, HostError, native, STUB_PATH } from './native.js';
import { MemoryFile } from './memfile.js';
import { PtraceAddressSpace, PtraceThread } from './subprocess.js';
import { stubFilter } from './stub_filter.js';
import { readHostProcText } from '../hostproc.js';

const OPTIONS =
  ptrace.PTRACE_O_EXITKILL | ptrace.PTRACE_O_TRACESYSGOOD | ptrace.PTRACE_O_TRACECLONE |
  ptrace.PTRACE_O_TRACEFORK | ptrace.PTRACE_O_TRACEVFORK;
const SYSCALL_STOP = 0x80 | 5; // SIGTRAP | 0x80 with TRACESYSGOOD
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const NT_X86_XSTATE = 0x202;
/** The real-time signal that interrupts a blocking wait (see native/src/ptrace.c). */
export const WAKE_SIGNAL = 61;
/** A thread whose runs between stops average less than this (µs) is bound
 *  to the tracer's CPU: a stop and resume then need no wake-up of another
 *  CPU, which measured 5× dearer on a 2-vCPU VM (getppid 53 → 10 µs). */
const BIND_BELOW_US = 150;
/** Above this it may run on any CPU again (guest computation in parallel);
 *  in between a thread keeps its binding. */
const UNBIND_ABOVE_US = 1000;
/** While a bound thread runs, waits last at most this long (µs), so one that
 *  turned to computing is let go to other CPUs within about this time. */
const CHECK_US = 4000;
/** The host signal that interrupts a running guest thread (stubs have no children of their own). */
const INTERRUPT_SIGNAL = 17; // SIGCHLD

function stubEntry(): number {
  const elf = readFileSync(STUB_PATH);
  return Number(elf.readBigUInt64LE(24));
}

export class PtracePlatform implements Platform {
  readonly gadget: number;
  /** The Sentry's end of the socket that passes host fds into stubs. */
  readonly sentrySock: number;
  private readonly stubSock: number;
  /** The file backing guests' private anonymous memory (null: host memory, copied the slow way). */
  readonly memfile: MemoryFile | null = MemoryFile.create();
  /** A scratch page mapped in every stub, above the guest's address space. */
  scratch = 0;
  private master!: PtraceThread;
  private pgid = 0;
  private readonly threads = new Map<number, PtraceThread>();
  private running = 0;
  private readonly info = new Int32Array(2);
  private readonly stopRegs = new BigUint64Array(ptrace.NUM_REGS);
  private readonly siginfoBuf = new Uint8Array(128);
  private readonly stubNamespaces: number;

  /** stubNamespaces: CLONE_NEW* flags the master stub (and so every stub)
   *  gets beyond its creator's, e.g. a network namespace of its own. */
  constructor(opts: { stubNamespaces?: number } = {}) {
    this.stubNamespaces = opts.stubNamespaces ?? 0;
    this.gadget = stubEntry();
    const sp = new Int32Array(2);
    check('socketpair', native.socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, sp));
    this.sentrySock = sp[0];
    this.stubSock = sp[1];
    check('initWaitTimeout', native.initWaitTimeout(WAKE_SIGNAL));
    this.startMaster();
  }

  /** startMaster spawns the clean stub every new address space is forked from. */
  private startMaster(): void {
    const pid = check('spawnStub', native.spawnStub(STUB_PATH, this.stubSock, this.stubNamespaces));
    this.pgid = pid;
    check('PTRACE_SETOPTIONS', native.ptrace(ptrace.PTRACE_SETOPTIONS, pid, 0, OPTIONS));
    const maps = readHostProcText(`${pid}/maps`);
    const reserved: { start: number; end: number; name: string }[] = [];
    let vdso = 0;
    let stack: { start: number; end: number } | null = null;
    for (const line of maps.split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (!m) continue;
      const start = parseInt(m[1], 16);
      const end = parseInt(m[2], 16);
      const name = m[3];
      if (name === '[stack]') stack = { start, end };
      else reserved.push({ start, end, name: name.startsWith('[') ? name : '[stub]' });
      if (name === '[vdso]') vdso = start;
    }
    const as = new PtraceAddressSpace(this, reserved, vdso);
    this.master = this.adopt(pid, pid, as, true);
    // The stub needs no stack; its signals were blocked for the vfork window.
    if (stack) as.syscall(SYSNO.munmap, stack.start, stack.end - stack.start);
    const PROT_RW = 3;
    const MAP_PRIVATE_ANON_FIXED = 0x32;
    const top = Math.max(...reserved.filter((r) => r.name === '[stub]').map((r) => r.end));
    this.scratch = as.syscall(SYSNO.mmap, top, 4096, PROT_RW, MAP_PRIVATE_ANON_FIXED, -1, 0);
    if (this.scratch !== top) throw new HostError('stub scratch mmap', -this.scratch);
    reserved.push({ start: top, end: top + 4096, name: '[stub]' });
    // The fresh scratch page is zero: use it as the empty signal set.
    as.syscall(SYSNO.rt_sigprocmask, 2 /* SIG_SETMASK */, this.scratch, 0, 8);
    this.confineMaster(as);
    closeSync(this.stubSock);
  }

  /** confineMaster makes the master stub non-dumpable with no core limit and
   *  installs the stub filter in it, all inherited by
   *  every address space forked from it: a system call made anywhere but the
   *  gadget (that is, one the Sentry did not inject: guest calls never reach
   *  seccomp under PTRACE_SYSEMU) kills the stub. no_new_privs comes first. */
  private confineMaster(as: PtraceAddressSpace): void {
    const prog = stubFilter(this.gadget);
    const FPROG = this.scratch + 1024;
    const INSNS = this.scratch + 1536;
    if (INSNS + prog.length > this.scratch + 4096) throw new Error('stub filter does not fit the scratch page');
    const fprog = new Uint8Array(16);
    const dv = new DataView(fprog.buffer);
    dv.setUint16(0, prog.length / 8, true);
    dv.setBigUint64(8, BigInt(INSNS), true);
    if (as.write(INSNS, prog, 0, prog.length) !== prog.length || as.write(FPROG, fprog, 0, 16) !== 16) {
      throw new HostError('stub filter copy', 14);
    }
    const PR_SET_NO_NEW_PRIVS = 38;
    const PR_SET_DUMPABLE = 4;
    const RLIMIT_CORE = 4;
    const SECCOMP_SET_MODE_FILTER = 1;
    // Not dumpable: no other host process may read the guest's memory through
    // /proc or ptrace, and no core file of it is ever written on the host.
    const ZERO_RLIMIT = this.scratch + 2048;
    if (as.write(ZERO_RLIMIT, new Uint8Array(16), 0, 16) !== 16) throw new HostError('stub rlimit copy', 14);
    check('stub prlimit(RLIMIT_CORE)', as.syscall(SYSNO.prlimit64, 0, RLIMIT_CORE, ZERO_RLIMIT, 0));
    check('stub prctl(PR_SET_DUMPABLE)', as.syscall(SYSNO.prctl, PR_SET_DUMPABLE, 0, 0, 0, 0));
    check('stub prctl(PR_SET_NO_NEW_PRIVS)', as.syscall(SYSNO.prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    check('stub seccomp', as.syscall(SYSNO.seccomp, SECCOMP_SET_MODE_FILTER, 0, FPROG));
  }

  /** adopt registers a new host thread that is in (or about to report) its initial stop. */
  adopt(tid: number, tgid: number, as: PtraceAddressSpace, alreadyStopped = false): PtraceThread {
    if (!alreadyStopped) {
      let r: number;
      // 0: a wake signal interrupted the wait (it is for the run loop, not us).
      do r = native.wait(tid, -1, null, this.info);
      while (r === 0);
      if (r !== tid) throw new HostError(`wait for new thread ${tid}`, r < 0 ? -r : 0);
    }
    const t = new PtraceThread(tid, tgid, as);
    check('getRegs', native.getRegs(tid, t.regs.u64));
    as.threads.add(t);
    this.threads.set(tid, t);
    return t;
  }

  newAddressSpace(): Thread {
    return this.master.as.fork(this.master);
  }

  memoryUsage(): number {
    return this.memfile?.resident() ?? 0;
  }

  get runningCount(): number {
    // A held stop counts: the run loop must wait for it, not sleep.
    return this.running + (this.held !== null ? 1 : 0);
  }

  /** The CPU the tracer thread is pinned to (-1: not pinned; threads are then not bound). */
  private readonly tracerCpu: number = pinTracer();
  /** How many running threads are bound to the tracer's CPU. */
  private boundRunning = 0;

  /** bind puts a thread that stops often on the tracer's CPU and lets one
   *  that computes run anywhere, before it is resumed. */
  private bind(pt: PtraceThread): void {
    if (this.tracerCpu >= 0) {
      const want = pt.runAvg < BIND_BELOW_US ? this.tracerCpu : pt.runAvg > UNBIND_ABOVE_US ? -1 : pt.cpu;
      if (want !== pt.cpu && want !== -2) {
        native.setAffinity(pt.tid, want);
        pt.cpu = want;
      }
    }
    pt.resumedAt = performance.now();
  }

  /** Running threads in the order they were resumed (a Set keeps insertion order). */
  private readonly runOrder = new Set<PtraceThread>();

  /** A stop taken from the host but not yet reported (see reorder). */
  private held: Stop | null = null;
  private readonly heldRegs = new BigUint64Array(ptrace.NUM_REGS);
  private readonly heldInfo = new Int32Array(2);

  /** See Platform.waitsFirst (set by the kernel). */
  waitsFirst: ((nr: number) => boolean) | null = null;

  /**
   * reorder picks which of two stopped threads to report first. wait4 on the
   * process group reports the stopped thread attached first, whatever its
   * syscall: in a loopback TCP stream the reader was attached first, so its
   * read was always handled before the write that would feed it, and it
   * blocked (and was woken a moment later) on every read. When s stopped at
   * a syscall that may wait (waitsFirst) and another thread that stops often
   * is running, a WNOHANG wait on that one's tid asks whether it stopped too;
   * if its syscall may not wait, it is reported first. The other stop is held
   * for the next wait. head: that other thread, chosen before the wait.
   */
  private reorder(s: Stop | null | undefined, head: PtraceThread | null): Stop | null | undefined {
    const mayWait = this.waitsFirst;
    if (!s || mayWait === null || head === null || s.thread === head || !head.running || head.runAvg >= BIND_BELOW_US) return s;
    if (s.kind !== StopKind.Syscall || !mayWait((s.thread as PtraceThread).regs.orig_rax)) return s;
    const r = native.wait(head.tid, 0, this.heldRegs, this.heldInfo);
    if (r !== head.tid) return s;
    const other = this.decode(r, this.heldRegs, this.heldInfo);
    if (!other) return s;
    if (other.kind === StopKind.Syscall && mayWait((other.thread as PtraceThread).regs.orig_rax)) {
      this.held = other;
      return s;
    }
    this.held = s;
    return other;
  }

  /** headOf is the earliest-resumed running thread other than except, if any. */
  private headOf(except: PtraceThread | null): PtraceThread | null {
    for (const t of this.runOrder) if (t !== except) return t;
    return null;
  }

  /** markRunning records that a resume of pt succeeded. */
  private markRunning(pt: PtraceThread): void {
    pt.running = true;
    this.runOrder.add(pt);
    this.running++;
    if (this.tracerCpu >= 0 && pt.cpu === this.tracerCpu) this.boundRunning++;
  }

  /** stopped updates a thread's run statistics when it stops or is lost. */
  private stopped(t: PtraceThread): void {
    if (!t.running) return;
    this.runOrder.delete(t);
    if (t.cpu === this.tracerCpu && this.tracerCpu >= 0) this.boundRunning--;
    t.runAvg = t.runAvg * 0.75 + (performance.now() - t.resumedAt) * 250;
  }

  /** capped bounds a wait while a bound thread runs (see CHECK_US). */
  private capped(timeoutUs: number): number {
    if (this.boundRunning <= 0) return timeoutUs;
    return timeoutUs < 0 || timeoutUs > CHECK_US ? CHECK_US : timeoutUs;
  }

  /** unbindLongRunners lets bound threads that have run long go to any CPU. */
  private unbindLongRunners(): void {
    const now = performance.now();
    for (const t of this.threads.values()) {
      if (!t.running || t.cpu !== this.tracerCpu || (now - t.resumedAt) * 1000 < UNBIND_ABOVE_US) continue;
      native.setAffinity(t.tid, -1);
      t.cpu = -1;
      this.boundRunning--;
    }
  }

  resume(t: Thread, dirty: RegsDirty, sig: number, step = false): void {
    const pt = t as PtraceThread;
    this.bind(pt);
    if (dirty === RegsDirty.Rax) {
      check('POKEUSER', native.ptrace(ptrace.PTRACE_POKEUSER, pt.tid, ptrace.REG.rax * 8, pt.regs.rax));
    } else if (dirty === RegsDirty.All) {
      check('SETREGS', native.setRegs(pt.tid, pt.regs.u64));
    }
    // step: a guest tracer single-steps this thread (a SIGTRAP stop after one instruction).
    const r = native.ptrace(step ? ptrace.PTRACE_SYSEMU_SINGLESTEP : ptrace.PTRACE_SYSEMU, pt.tid, 0, sig);
    if (r < 0) {
      this.lost(pt);
      return;
    }
    this.markRunning(pt);
  }

  wait(timeoutUs: number): Stop | null {
    if (this.held !== null) {
      const h = this.held;
      this.held = null;
      return h;
    }
    const deadline = timeoutUs > 0 ? performance.now() + timeoutUs / 1000 : 0;
    for (;;) {
      const cap = this.capped(timeoutUs);
      const head = this.runOrder.size > 1 ? this.headOf(null) : null;
      const r = native.wait(-this.pgid, cap, this.stopRegs, this.info);
      const s = this.reorder(this.decode(r, this.stopRegs, this.info), head);
      if (s === undefined) continue;
      if (s !== null || cap === timeoutUs) return s;
      this.unbindLongRunners();
      if (timeoutUs > 0) {
        const left = deadline - performance.now();
        if (left <= 0) return null;
        timeoutUs = Math.ceil(left * 1000);
      }
    }
  }

  resumeAndWait(t: Thread, dirty: RegsDirty, sig: number, timeoutUs: number): Stop | null {
    const pt = t as PtraceThread;
    if (this.held !== null) {
      // A stop is already waiting to be reported: resume without waiting.
      this.resume(pt, dirty, sig);
      if (!pt.alive) return { thread: pt, kind: StopKind.Gone, sig: 0 };
      return this.wait(timeoutUs);
    }
    this.bind(pt);
    const start = performance.now();
    const cap = this.capped(timeoutUs);
    // pt is resumed last: the head is a thread resumed before it.
    const head = this.headOf(pt);
    const r = native.resumeAndWait(
      pt.tid, ptrace.PTRACE_SYSEMU, sig, dirty, pt.regs.u64, -this.pgid, cap, this.stopRegs, this.info);
    if (r === -3 /* ESRCH: died before resuming */) {
      this.lost(pt);
      return { thread: pt, kind: StopKind.Gone, sig: 0 };
    }
    this.markRunning(pt);
    const s = this.reorder(this.decode(r, this.stopRegs, this.info), head);
    if (s === undefined) return this.wait(timeoutUs);
    if (s !== null || cap === timeoutUs) return s;
    this.unbindLongRunners();
    if (timeoutUs < 0) return this.wait(-1);
    const left = timeoutUs - (performance.now() - start) * 1000;
    return left > 0 ? this.wait(Math.ceil(left)) : null;
  }

  private lost(t: PtraceThread): void {
    this.stopped(t);
    if (t.running) this.running--;
    t.running = false;
    t.alive = false;
  }

  /** decode turns a wait result into a Stop: null on timeout, undefined for an
   *  event to ignore (the exit of a thread the Sentry already let go). */
  private decode(r: number, regs: BigUint64Array, info: Int32Array): Stop | null | undefined {
    if (r === 0) return null;
    if (r < 0) {
      if (r === -10 /* ECHILD */) return null;
      throw new HostError('wait', -r);
    }
    const t = this.threads.get(r);
    const status = info[0];
    if (!t) return undefined;
    this.stopped(t);
    if (t.running) this.running--;
    t.running = false;
    const stopped = (status & 0xff) === 0x7f;
    if (!stopped) {
      t.alive = false;
      this.threads.delete(t.tid);
      t.as.threads.delete(t);
      return { thread: t, kind: StopKind.Gone, sig: status & 0x7f };
    }
    t.regs.u64.set(regs);
    const sig = (status >> 8) & 0xff;
    if (sig === SYSCALL_STOP) return { thread: t, kind: StopKind.Syscall, sig: 0 };
    return { thread: t, kind: StopKind.Signal, sig };
  }

  interrupt(t: Thread): void {
    const pt = t as PtraceThread;
    if (pt.alive && pt.running) native.tgkill(pt.tgid, pt.tid, INTERRUPT_SIGNAL);
  }

  /** killThread ends one host thread. The last thread of a host process is
   *  killed with SIGKILL; another is sent through the gadget into exit(2), as
   *  SIGKILL would take its whole process. Its exit is reaped later, by wait. */
  killThread(t: Thread): void {
    const pt = t as PtraceThread;
    if (!pt.alive) return;
    let siblings = false;
    for (const o of pt.as.threads) if (o !== pt && o.alive && o.tgid === pt.tgid) siblings = true;
    if (siblings && !pt.running) {
      pt.regs.rip = this.gadget;
      pt.regs.rax = SYSNO.exit;
      pt.regs.set(ptrace.REG.rdi, 0);
      native.setRegs(pt.tid, pt.regs.u64);
      native.ptrace(ptrace.PTRACE_CONT, pt.tid, 0, 0);
    } else {
      native.tgkill(pt.tgid, pt.tid, 9);
    }
    this.forget(pt);
  }

  /** killProcess ends a whole host process (every thread sharing its tgid). */
  killProcess(t: Thread): void {
    const pt = t as PtraceThread;
    native.tgkill(pt.tgid, pt.tid, 9);
    for (const o of [...pt.as.threads]) if (o.tgid === pt.tgid) this.forget(o);
  }

  private forget(t: PtraceThread): void {
    if (this.held?.thread === t) this.held = null;
    this.lost(t);
    this.threads.delete(t.tid);
    t.as.threads.delete(t);
  }

  siginfo(t: Thread): Uint8Array {
    check('GETSIGINFO', native.getSiginfo(t.tid, this.siginfoBuf));
    return this.siginfoBuf.slice();
  }

  getFPState(t: Thread): Uint8Array {
    const buf = new Uint8Array(4096);
    const n = check('GETREGSET', native.getRegset(t.tid, NT_X86_XSTATE, buf));
    return buf.subarray(0, n);
  }

  setFPState(t: Thread, state: Uint8Array): void {
    check('SETREGSET', native.setRegset(t.tid, NT_X86_XSTATE, state));
  }

  shutdown(): void {
    try {
      process.kill(-this.pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** pinTracer pins the calling (tracer) thread to the CPU it is on, so the
 *  threads bound there meet it without cross-CPU wake-ups. -1 when the host
 *  refuses (threads are then never bound). */
function pinTracer(): number {
  if (process.env.TSVISOR_NO_CPU_BIND === '1') return -1;
  const cpu = native.getCpu();
  if (cpu < 0) return -1;
  if (native.setAffinity(0, cpu) < 0) return -1;
  return cpu;
}
