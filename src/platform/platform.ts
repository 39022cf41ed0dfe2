// The Platform interface: how guest code runs and traps. The Sentry sees only
// these types; src/platform/ptrace implements them with PTRACE_SYSEMU, and a
// faster platform (seccomp trap with shared memory) can replace it.

import type { Regs } from '../abi/linux/regs.js';

/** HostFile is a host file descriptor the Sentry may map into guest memory. */
export interface HostFile {
  /** hostFd returns the Sentry's host fd for this file. */
  hostFd(): number;
  /** stable says the file's size and bytes do not change while it is open (a
   *  read-only tree whose metadata the Sentry caches): reads may then go
   *  through a mapping of it made once. */
  readonly stable?: boolean;
}

/** StopKind says why a thread stopped. */
export const enum StopKind {
  /** The thread made a system call; regs hold its number and arguments. */
  Syscall = 0,
  /** A signal (a fault such as SIGSEGV, or one sent by the host) stopped it. */
  Signal = 1,
  /** The thread no longer exists (killed or exited on the host). */
  Gone = 2,
}

/** Stop reports one stopped thread. */
export interface Stop {
  thread: Thread;
  kind: StopKind;
  /** For Signal: the signal number; siginfo holds the host siginfo_t. */
  sig: number;
}

/** Thread is one host thread executing guest code (gVisor's platform.Context). */
export interface Thread {
  readonly tid: number;
  readonly as: AddressSpace;
  /** regs is valid while the thread is stopped. */
  readonly regs: Regs;
  /** Opaque slot for the Sentry's task. */
  owner: unknown;
}

/** How much of a thread's register block must be written back on resume. */
export const enum RegsDirty {
  None = 0,
  Rax = 1,
  All = 2,
}

/** AddressSpace is one guest address space (a host stub process). Every
 *  operation runs synchronously through one of its stopped threads. */
export interface AddressSpace {
  /** mmap maps [addr, addr+len) exactly (MAP_FIXED semantics); file null means anonymous. */
  mmap(addr: number, len: number, prot: number, flags: number, file: HostFile | null, offset: number): void;
  munmap(addr: number, len: number): void;
  mprotect(addr: number, len: number, prot: number): void;
  /** mremap moves/resizes a host mapping; returns the new address. */
  mremap(oldAddr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number;
  madvise(addr: number, len: number, advice: number): void;
  msync(addr: number, len: number, flags: number): void;
  /** mincore fills vec with one byte per page; returns 0 or -errno. */
  mincore(addr: number, len: number, vec: Uint8Array): number;
  /** read copies guest memory into buf[off, off+len); returns bytes copied (short on a fault). */
  read(addr: number, buf: Uint8Array, off: number, len: number): number;
  /** write copies buf[off, off+len) to guest memory; returns bytes copied (short on a fault). */
  write(addr: number, buf: Uint8Array, off: number, len: number): number;
  /** writeForce writes even into read-only pages (for the loader); prot, when
   *  known, is the pages' protection (a hint that makes large writes cheaper). */
  writeForce(addr: number, buf: Uint8Array, prot?: number): void;
  /** atomicOp32 applies a futex(2) FUTEX_WAKE_OP operation (op, oparg and
   *  the OPARG_SHIFT flag as encoded there; the comparison is ignored) to the
   *  u32 at addr, atomically with respect to the guest's threads. Returns 0,
   *  or -EFAULT. Optional: without it futex words are updated non-atomically. */
  atomicOp32?(addr: number, op: number): number;
  /** preadInto reads up to len bytes of file at pos into guest memory at
   *  addr in one native step (no JS buffer, one crossing). Returns the count
   *  (short at end of file or at a bad guest page) or -errno. Optional. */
  preadInto?(file: HostFile, addr: number, len: number, pos: number): number;
  /** fork makes a copy-on-write copy of this address space (one thread, a copy of `from`). */
  fork(from: Thread): Thread;
  /** shareVM makes a new host process sharing this address space (CLONE_VM without a thread group). */
  shareVM(from: Thread): Thread;
  /** newThread adds a host thread to this address space. */
  newThread(from: Thread): Thread;
  /** reserved lists ranges the guest may not use (the stub, the host's vDSO/vvar). */
  readonly reserved: ReadonlyArray<{ start: number; end: number; name: string }>;
  /** vdsoBase is the address of the host vDSO image in this address space (0 if none). */
  readonly vdsoBase: number;
  /** release ends every host thread of this address space. */
  release(): void;
}

/** Platform creates address spaces and runs their threads. */
export interface Platform {
  /** newAddressSpace returns a fresh, empty address space and its one stopped thread. */
  newAddressSpace(): Thread;
  /** resume lets a stopped thread run until its next syscall or signal. */
  /** step (optional): stop again after one instruction (a tracee's PTRACE_SINGLESTEP). */
  resume(t: Thread, dirty: RegsDirty, sig: number, step?: boolean): void;
  /** wait blocks until some thread stops, for at most timeoutUs (-1: forever, 0: poll). */
  wait(timeoutUs: number): Stop | null;
  /** resumeAndWait is resume(t) followed by wait(), in one host crossing. */
  resumeAndWait(t: Thread, dirty: RegsDirty, sig: number, timeoutUs: number): Stop | null;
  /** interrupt makes a thread running guest code stop soon (a Signal stop the
   *  Sentry treats as "re-check pending signals"); no-op if it is stopped. */
  interrupt(t: Thread): void;
  /** killThread ends one thread now; killProcess ends its whole host process. */
  killThread(t: Thread): void;
  killProcess(t: Thread): void;
  /** siginfo returns the host siginfo_t (128 bytes) of a thread stopped by a signal. */
  siginfo(t: Thread): Uint8Array;
  /** getFPState/setFPState read and write the XSAVE area of a stopped thread. */
  getFPState(t: Thread): Uint8Array;
  setFPState(t: Thread, state: Uint8Array): void;
  /** memoryUsage returns the bytes of guest memory the platform holds for
   *  the sandbox (resident anonymous memory), when it can tell. Optional. */
  memoryUsage?(): number;
  /** runningCount is how many threads are running on the host right now. */
  readonly runningCount: number;
  /** waitsFirst, when the kernel sets it, says whether a syscall number is
   *  one that may have to wait for another thread (a read). Of two threads
   *  stopped at once, the platform then reports one whose syscall is not
   *  first (a write that may satisfy the read). Optional. */
  waitsFirst?: ((nr: number) => boolean) | null;
  /** shutdown kills every guest thread. */
  shutdown(): void;
}
