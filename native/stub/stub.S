/* The stub: the whole program of a guest address space's host process.
 * It runs no code of its own. The Sentry points a stopped thread at `gadget`
 * to perform one system call it chose (see src/platform/ptrace/stub.ts); the
 * int3 after it hands control back. The stub is linked high (Makefile) so it
 * stays out of the guest's way. */
  .text
  .globl _start
_start:
gadget:
  syscall
  int3
  jmp gadget
