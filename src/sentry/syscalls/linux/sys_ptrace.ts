// ptrace(2) and process_vm_readv/writev(2): the requests. Tracing state and
// the tracee's stops live in kernel/ptrace.ts; here are argument decoding,
// permission and the register and memory accessors. A tracee in a ptrace
// stop is stopped in the Sentry, so its registers are the platform's copy in
// t.regs (changes are written back on resume: dirty = All).

import * as linuxerr from '../../../abi/linux/errno.js';
import * as P from '../../../abi/linux/ptrace.js';
import { NUM_REGS, REG } from '../../../abi/linux/ptrace.js';
import * as sig from '../../../abi/linux/signal.js';
import { SYSNO } from '../../../abi/linux/sysno.js';
import { RegsDirty } from '../../../platform/platform.js';
import * as kp from '../../kernel/ptrace.js';
import type { SigInfo } from '../../kernel/signals.js';
import { encodeSigInfo, jobState, sendToThread, taskSignals, userInfo } from '../../kernel/signals.js';
import type { Task } from '../../kernel/task.js';
import { TaskState } from '../../kernel/task.js';
import { MAX_USER_ADDR } from '../../mm/mm.js';
import type { SyscallArgs, SyscallEntries } from '../syscalls.js';
import { partial } from '../syscalls.js';

const PTRACE_PEEKTEXT = 1;
const PTRACE_PEEKDATA = 2;
const PTRACE_POKETEXT = 4;
const PTRACE_POKEDATA = 5;
const PTRACE_SETSIGINFO = 0x4203;
const PTRACE_LISTEN = 0x4208;
const PTRACE_GETSIGMASK = 0x420a;
const PTRACE_SETSIGMASK = 0x420b;
const PTRACE_GET_SYSCALL_INFO = 0x420e;
const NT_PRSTATUS = 1;
const NT_PRFPREG = 2;
const NT_X86_XSTATE = 0x202;
const AUDIT_ARCH_X86_64 = 0xc000003e;
/** struct user: user_regs_struct first; u_debugreg[8] at 848; 912 bytes in all. */
const USER_REGS_SIZE = NUM_REGS * 8;
const USER_DEBUGREG = 848;
const USER_SIZE = 912;
const FXSAVE_SIZE = 512;
/** Linux's TASK_SIZE_MAX on x86-64 (4-level paging). */
const TASK_SIZE_MAX = 2 ** 47 - 4096;
/** The eflags bits a tracer may change (FLAG_MASK in arch/x86/kernel/ptrace.c). */
const FLAG_MASK = 0x54dd5n;
const SEGMENT_REGS: ReadonlySet<number> = new Set([REG.cs, REG.ss, REG.ds, REG.es, REG.fs, REG.gs]);
const IOV_MAX = 1024;

/** ptrace implements Linux syscall ptrace(2). */
export function ptrace(t: Task, a: SyscallArgs): number {
  const req = a.int64(0);
  const pid = a.int(1);
  const addr = a.ptr(2);
  const data = a.ptr(3);
  if (req === P.PTRACE_TRACEME) return traceMe(t);
  if (req === P.PTRACE_ATTACH || req === P.PTRACE_SEIZE) return attachTo(t, pid, req === P.PTRACE_SEIZE, addr, data);
  if (req === P.PTRACE_KILL) {
    const o = kp.checkTracee(t, pid, false);
    sendToThread(o, sig.SIGKILL, userInfo(sig.SIGKILL, t.tg.pid, t.creds.uid));
    return 0;
  }
  if (req === P.PTRACE_INTERRUPT) {
    const o = kp.checkTracee(t, pid, false);
    if (!o.ptrace!.seized || addr !== 0 || data !== 0) throw linuxerr.EIO;
    const ts = taskSignals(o);
    const groupStopped = ts.stopped && o.state !== TaskState.Dead;
    if (groupStopped) ts.stopped = false;
    kp.interrupt(o, groupStopped);
    if (!groupStopped && !o.ptrace!.stop) wake(o);
    return 0;
  }
  const o = kp.checkTracee(t, pid, true);
  const tr = o.ptrace!;
  switch (req) {
    case PTRACE_PEEKTEXT:
    case PTRACE_PEEKDATA: {
      const b = new Uint8Array(8);
      if (o.mm.copyInPartial(addr, b) !== 8) throw linuxerr.EIO;
      t.mm.copyOut(data, b);
      return 0;
    }
    case PTRACE_POKETEXT:
    case PTRACE_POKEDATA:
      poke(o, addr, a.u64(3));
      return 0;
    case P.PTRACE_PEEKUSER:
      t.mm.writeU64(data, peekUser(o, addr));
      return 0;
    case P.PTRACE_POKEUSER:
      pokeUser(o, addr, a.u64(3));
      return 0;
    case P.PTRACE_GETREGS:
      t.mm.copyOut(data, regBytes(o));
      return 0;
    case P.PTRACE_SETREGS:
      setRegs(o, t.mm.copyIn(data, USER_REGS_SIZE));
      return 0;
    case P.PTRACE_GETFPREGS:
      t.mm.copyOut(data, t.kernel.platform.getFPState(o.thread).subarray(0, FXSAVE_SIZE));
      return 0;
    case P.PTRACE_SETFPREGS:
      setFP(o, t.mm.copyIn(data, FXSAVE_SIZE));
      return 0;
    case P.PTRACE_GETREGSET:
      return getRegset(t, o, addr, data);
    case P.PTRACE_SETREGSET:
      return setRegset(t, o, addr, data);
    case P.PTRACE_GETSIGINFO: {
      const st = tr.stop!;
      if (!st.info) throw linuxerr.EINVAL;
      t.mm.copyOut(data, encodeSigInfo(st.info));
      return 0;
    }
    case PTRACE_SETSIGINFO: {
      const st = tr.stop!;
      if (!st.info) throw linuxerr.EINVAL;
      const raw = t.mm.copyIn(data, 128);
      const v = new DataView(raw.buffer);
      st.info = { signo: v.getInt32(0, true), code: v.getInt32(8, true), pid: v.getInt32(16, true),
        uid: v.getUint32(20, true), status: v.getInt32(24, true), raw } satisfies SigInfo;
      return 0;
    }
    case PTRACE_GETSIGMASK:
      if (addr !== 8) throw linuxerr.EINVAL;
      t.mm.writeU64(data, o.sigmask);
      return 0;
    case PTRACE_SETSIGMASK: {
      if (addr !== 8) throw linuxerr.EINVAL;
      const m = BigInt.asUintN(64, t.mm.copyIn(data, 8).reduce((acc, b, i) => acc | (BigInt(b) << BigInt(8 * i)), 0n));
      o.sigmask = m & ~sig.UNBLOCKABLE;
      return 0;
    }
    case P.PTRACE_SETOPTIONS:
      if (data & ~kp.VALID_OPTIONS) throw linuxerr.EINVAL;
      tr.options = data;
      return 0;
    case P.PTRACE_GETEVENTMSG:
      t.mm.writeU64(data, tr.eventMsg);
      return 0;
    case PTRACE_GET_SYSCALL_INFO:
      return syscallInfo(t, o, addr, data);
    case P.PTRACE_CONT:
    case P.PTRACE_SYSCALL:
      checkSignal(data);
      kp.resumeStop(o, req === P.PTRACE_SYSCALL ? kp.ResumeMode.Syscall : kp.ResumeMode.Cont, data);
      return 0;
    case P.PTRACE_DETACH:
      checkSignal(data);
      kp.detach(o, data);
      return 0;
    case PTRACE_LISTEN:
      if (!tr.seized || tr.stop!.kind !== kp.PtraceStopKind.Group) throw linuxerr.EIO;
      kp.listen(o);
      return 0;
    case P.PTRACE_SINGLESTEP:
      checkSignal(data);
      kp.resumeStop(o, kp.ResumeMode.Cont, data, true);
      return 0;
    case P.PTRACE_SYSEMU:
    case P.PTRACE_SYSEMU_SINGLESTEP:
      t.kernel.log.warnOnce(`ptrace:${req}`, `ptrace: request ${req} (PTRACE_SYSEMU) is not supported`);
      throw linuxerr.EIO;
    default:
      t.kernel.log.warnOnce(`ptrace:${req}`, `ptrace: request 0x${req.toString(16)} is not supported`);
      throw linuxerr.EIO;
  }
}

/** wake makes a tracee notice a pending trap (PTRACE_INTERRUPT). */
function wake(o: Task): void {
  if (o.state === TaskState.Blocked) o.interrupt?.(linuxerr.ERESTARTSYS);
  else if (o.state === TaskState.Running) o.kernel.platform.interrupt(o.thread);
}

function checkSignal(s: number): void {
  if (s < 0 || s > sig.SIGRTMAX) throw linuxerr.EIO;
}

/** traceMe implements PTRACE_TRACEME: the parent becomes the tracer. */
function traceMe(t: Task): number {
  const parent = t.tg.parent;
  if (t.ptrace || !parent || parent.exiting) throw linuxerr.EPERM;
  let tracer: Task | null = parent.leader.state !== TaskState.Dead ? parent.leader : null;
  if (!tracer) for (const o of parent.tasks) if (o.state !== TaskState.Dead) { tracer = o; break; }
  if (!tracer) throw linuxerr.EPERM;
  kp.attach(t, tracer, false, 0);
  return 0;
}

/** attachTo implements PTRACE_ATTACH and PTRACE_SEIZE. */
function attachTo(t: Task, pid: number, seize: boolean, addr: number, data: number): number {
  if (seize) {
    if (addr !== 0) throw linuxerr.EIO;
    if (data & ~kp.VALID_OPTIONS) throw linuxerr.EINVAL;
  }
  const o = t.kernel.tasks.get(pid);
  if (!o || o.state === TaskState.Dead) throw linuxerr.ESRCH;
  if (o.tg === t.tg || o.ptrace || o.tg.exiting) throw linuxerr.EPERM;
  if (!kp.ptraceMayAccess(t, o)) throw linuxerr.EPERM;
  kp.attach(o, t, seize, seize ? data : 0);
  if (seize) return 0;
  const ts = taskSignals(o);
  if (ts.stopped) {
    // Already stopped for job control: it reports that stop to its new tracer.
    ts.stopped = false;
    kp.groupStop(o, jobState(o.tg).stopSig || sig.SIGSTOP);
  } else {
    sendToThread(o, sig.SIGSTOP, userInfo(sig.SIGSTOP, t.tg.pid, t.creds.uid));
  }
  return 0;
}

/** poke writes one word into the tracee's memory, read-only pages included (breakpoints). */
function poke(o: Task, addr: number, v: bigint): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  if (o.mm.copyOutPartial(addr, b) === 8) return;
  // Only into memory the tracee has mapped (FOLL_FORCE ignores protection, not holes).
  if (addr <= 0 || addr + 8 > MAX_USER_ADDR || !o.mm.vmas.find(addr) || !o.mm.vmas.find(addr + 7)) throw linuxerr.EIO;
  try {
    o.mm.as.writeForce(addr, b);
  } catch {
    throw linuxerr.EIO;
  }
}

function regBytes(o: Task): Uint8Array {
  return new Uint8Array(o.regs.u64.buffer.slice(o.regs.u64.byteOffset, o.regs.u64.byteOffset + USER_REGS_SIZE));
}

/** putReg is Linux's putreg: checks, then stores one register. Segment
 *  selectors are checked but kept: the host's stay in force. */
function putReg(o: Task, i: number, v: bigint): void {
  const r = o.regs.u64;
  if (SEGMENT_REGS.has(i)) {
    if (v > 0xffffn || (v !== 0n && (v & 3n) !== 3n)) throw linuxerr.EIO;
    if ((i === REG.cs || i === REG.ss) && (v & 3n) !== 3n) throw linuxerr.EIO;
    return;
  }
  if (i === REG.fs_base || i === REG.gs_base) {
    if (v >= BigInt(TASK_SIZE_MAX)) throw linuxerr.EIO;
  } else if (i === REG.eflags) {
    v = (r[i] & ~FLAG_MASK) | (v & FLAG_MASK);
  }
  r[i] = v;
  o.dirty = RegsDirty.All;
}

function setRegs(o: Task, b: Uint8Array): void {
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const n = Math.floor(b.length / 8);
  // Validate everything before changing anything (Linux stops at the first bad one; keep it whole).
  const saved = o.regs.clone();
  try {
    for (let i = 0; i < n && i < NUM_REGS; i++) putReg(o, i, v.getBigUint64(i * 8, true));
  } catch (e) {
    o.regs.copyFrom(saved);
    throw e;
  }
}

function peekUser(o: Task, off: number): bigint {
  if (off % 8 !== 0 || off >= USER_SIZE) throw linuxerr.EIO;
  if (off < USER_REGS_SIZE) return o.regs.u64[off / 8];
  return 0n; // debug registers (no hardware breakpoints) and the rest of struct user
}

function pokeUser(o: Task, off: number, v: bigint): void {
  if (off % 8 !== 0 || off >= USER_SIZE) throw linuxerr.EIO;
  if (off < USER_REGS_SIZE) {
    putReg(o, off / 8, v);
    return;
  }
  if (off >= USER_DEBUGREG && off < USER_DEBUGREG + 64 && v !== 0n) {
    o.kernel.log.warnOnce('ptrace:debugreg', 'ptrace: hardware debug registers are not supported');
    throw linuxerr.EIO;
  }
}

function setFP(o: Task, b: Uint8Array): void {
  const p = o.kernel.platform;
  const cur = p.getFPState(o.thread).slice();
  cur.set(b.subarray(0, Math.min(b.length, cur.length)));
  p.setFPState(o.thread, cur);
}

/** regset returns the bytes of regset `type` (EINVAL for others). */
function regset(o: Task, type: number): Uint8Array {
  switch (type) {
    case NT_PRSTATUS: return regBytes(o);
    case NT_PRFPREG: return o.kernel.platform.getFPState(o.thread).slice(0, FXSAVE_SIZE);
    case NT_X86_XSTATE: return o.kernel.platform.getFPState(o.thread).slice();
    default: throw linuxerr.EINVAL;
  }
}

function readIov(t: Task, at: number): { base: number; len: number } {
  const b = t.mm.copyIn(at, 16);
  const v = new DataView(b.buffer);
  return { base: Number(v.getBigUint64(0, true)), len: Number(v.getBigUint64(8, true)) };
}

function getRegset(t: Task, o: Task, type: number, iovAddr: number): number {
  const iov = readIov(t, iovAddr);
  const bytes = regset(o, type);
  if (iov.len % 8 !== 0) throw linuxerr.EINVAL;
  const n = Math.min(iov.len, bytes.length);
  t.mm.copyOut(iov.base, bytes.subarray(0, n));
  t.mm.writeU64(iovAddr + 8, n);
  return 0;
}

function setRegset(t: Task, o: Task, type: number, iovAddr: number): number {
  const iov = readIov(t, iovAddr);
  const cur = regset(o, type);
  if (iov.len % 8 !== 0) throw linuxerr.EINVAL;
  const n = Math.min(iov.len, cur.length);
  const b = t.mm.copyIn(iov.base, n);
  if (type === NT_PRSTATUS) setRegs(o, b);
  else setFP(o, b);
  t.mm.writeU64(iovAddr + 8, n);
  return 0;
}

/** syscallInfo implements PTRACE_GET_SYSCALL_INFO: returns the size of the
 *  whole record, of which the first `size` bytes are copied out. */
function syscallInfo(t: Task, o: Task, size: number, data: number): number {
  const b = new Uint8Array(88);
  const v = new DataView(b.buffer);
  const r = o.regs;
  const op = o.ptrace!.syscallOp;
  v.setUint8(0, op);
  v.setUint32(4, AUDIT_ARCH_X86_64, true);
  v.setBigUint64(8, r.u64[REG.rip], true);
  v.setBigUint64(16, r.u64[REG.rsp], true);
  let len = 24;
  if (op === 1) {
    v.setBigUint64(24, r.u64[REG.orig_rax], true);
    const args = [REG.rdi, REG.rsi, REG.rdx, REG.r10, REG.r8, REG.r9];
    args.forEach((reg, i) => v.setBigUint64(32 + 8 * i, r.u64[reg], true));
    len = 80;
  } else if (op === 2) {
    const rv = r.getSigned(REG.rax);
    v.setBigInt64(24, BigInt.asIntN(64, r.u64[REG.rax]), true);
    v.setUint8(32, rv < 0 && rv >= -4095 ? 1 : 0);
    len = 33;
  }
  const n = Math.min(size, len);
  if (n > 0) t.mm.copyOut(data, b.subarray(0, n));
  return len;
}

// ---- process_vm_readv / process_vm_writev ----

interface Iov {
  base: number;
  len: number;
}

function readIovecs(t: Task, addr: number, n: number): Iov[] {
  if (n > IOV_MAX) throw linuxerr.EINVAL;
  if (n === 0) return [];
  const b = t.mm.copyIn(addr, 16 * n);
  const v = new DataView(b.buffer);
  const out: Iov[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const base = Number(v.getBigUint64(16 * i, true));
    const lenBig = v.getBigUint64(16 * i + 8, true);
    if (lenBig > 0x7fff_ffff_ffff_f000n) throw linuxerr.EINVAL;
    const len = Number(lenBig);
    total += len;
    if (total > Number.MAX_SAFE_INTEGER) throw linuxerr.EINVAL;
    out.push({ base, len });
  }
  return out;
}

const CHUNK = 64 * 1024;

/** vmCopy moves bytes between the caller's iovecs and the target's, in
 *  order; it stops at the first fault in the target (a partial count) and
 *  fails with EFAULT on a fault in the caller's memory or at the very start. */
function vmCopy(t: Task, a: SyscallArgs, write: boolean): number {
  const pid = a.int(0);
  const lvec = a.ptr(1);
  const liovcnt = a.sizeT(2);
  const rvec = a.ptr(3);
  const riovcnt = a.sizeT(4);
  const flags = a.uint(5);
  if (flags !== 0) throw linuxerr.EINVAL;
  const local = readIovecs(t, lvec, liovcnt);
  const remote = readIovecs(t, rvec, riovcnt);
  const o = t.kernel.tasks.get(pid);
  if (!o || o.state === TaskState.Dead) throw linuxerr.ESRCH;
  if (!kp.ptraceMayAccess(t, o)) throw linuxerr.EPERM;
  let done = 0;
  let li = 0;
  let loff = 0;
  for (const r of remote) {
    let roff = 0;
    while (roff < r.len) {
      while (li < local.length && loff >= local[li].len) {
        li++;
        loff = 0;
      }
      if (li >= local.length) return done;
      const n = Math.min(CHUNK, r.len - roff, local[li].len - loff);
      const buf = new Uint8Array(n);
      let got: number;
      if (write) {
        if (t.mm.copyInPartial(local[li].base + loff, buf) !== n) {
          if (done === 0) throw linuxerr.EFAULT;
          return done;
        }
        got = o.mm.copyOutPartial(r.base + roff, buf);
      } else {
        got = o.mm.copyInPartial(r.base + roff, buf);
        if (got > 0 && t.mm.copyOutPartial(local[li].base + loff, buf.subarray(0, got)) !== got) {
          if (done === 0) throw linuxerr.EFAULT;
          return done;
        }
      }
      done += got;
      loff += got;
      roff += got;
      if (got < n) {
        // A fault in the target ends the copy (Linux moves on to the next remote iovec only for whole ones).
        if (done === 0) throw linuxerr.EFAULT;
        return done;
      }
    }
  }
  return done;
}

/** process_vm_readv implements Linux syscall process_vm_readv(2). */
export function processVmReadv(t: Task, a: SyscallArgs): number {
  return vmCopy(t, a, false);
}

/** process_vm_writev implements Linux syscall process_vm_writev(2). */
export function processVmWritev(t: Task, a: SyscallArgs): number {
  return vmCopy(t, a, true);
}

export const syscalls: SyscallEntries = {
  [SYSNO.ptrace]: partial('ptrace', ptrace,
    'No PTRACE_SYSEMU, hardware debug registers, seccomp events or PEEKSIGINFO; ' +
    'PTRACE_EVENT_EXIT only for exit(2)/exit_group(2).'),
  [SYSNO.process_vm_readv]: partial('process_vm_readv', processVmReadv, 'A fault in the target ends the transfer.'),
  [SYSNO.process_vm_writev]: partial('process_vm_writev', processVmWritev, 'A fault in the target ends the transfer.'),
};
