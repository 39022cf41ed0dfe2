// The stubs' seccomp filter. A stub runs no code of its own: every host
// system call it makes is one the Sentry injected at the stub's gadget
// (native/stub/stub.S). Guest system calls stop in PTRACE_SYSEMU before
// seccomp is consulted, and are never executed by the host. So the filter
// allows exactly the calls whose instruction pointer is just past the
// gadget's `syscall`, and kills the whole stub for anything else: a guest
// thread that ever ran unemulated (a platform bug) dies instead of
// reaching the host kernel.

import { compileIPOnly, SECCOMP_RET_KILL_PROCESS } from '../../seccomp/seccomp.js';

/** SYSCALL_INSN_LEN is the length of the x86-64 syscall instruction (0f 05). */
const SYSCALL_INSN_LEN = 2;

/** stubFilter returns the filter for stubs whose gadget is at gadget. */
export function stubFilter(gadget: number): Uint8Array {
  return compileIPOnly(gadget + SYSCALL_INSN_LEN, SECCOMP_RET_KILL_PROCESS);
}
