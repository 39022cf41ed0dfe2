// ptrace ABI (x86-64): requests, options, events, and the user_regs_struct layout.

export const PTRACE_TRACEME = 0;
export const PTRACE_PEEKUSER = 3;
export const PTRACE_POKEUSER = 6;
export const PTRACE_CONT = 7;
export const PTRACE_KILL = 8;
export const PTRACE_SINGLESTEP = 9;
export const PTRACE_GETREGS = 12;
export const PTRACE_SETREGS = 13;
export const PTRACE_GETFPREGS = 14;
export const PTRACE_SETFPREGS = 15;
export const PTRACE_ATTACH = 16;
export const PTRACE_DETACH = 17;
export const PTRACE_SYSCALL = 24;
export const PTRACE_SYSEMU = 31;
export const PTRACE_SYSEMU_SINGLESTEP = 32;
export const PTRACE_SETOPTIONS = 0x4200;
export const PTRACE_GETEVENTMSG = 0x4201;
export const PTRACE_GETSIGINFO = 0x4202;
export const PTRACE_GETREGSET = 0x4204;
export const PTRACE_SETREGSET = 0x4205;
export const PTRACE_SEIZE = 0x4206;
export const PTRACE_INTERRUPT = 0x4207;

export const PTRACE_O_TRACESYSGOOD = 1;
export const PTRACE_O_TRACEFORK = 1 << 1;
export const PTRACE_O_TRACEVFORK = 1 << 2;
export const PTRACE_O_TRACECLONE = 1 << 3;
export const PTRACE_O_TRACEEXEC = 1 << 4;
export const PTRACE_O_TRACEVFORKDONE = 1 << 5;
export const PTRACE_O_TRACEEXIT = 1 << 6;
export const PTRACE_O_EXITKILL = 1 << 20;

export const PTRACE_EVENT_FORK = 1;
export const PTRACE_EVENT_VFORK = 2;
export const PTRACE_EVENT_CLONE = 3;
export const PTRACE_EVENT_EXEC = 4;
export const PTRACE_EVENT_VFORK_DONE = 5;
export const PTRACE_EVENT_EXIT = 6;
export const PTRACE_EVENT_STOP = 128;

/** Indexes of 64-bit words in struct user_regs_struct (x86-64). */
export const REG = {
  r15: 0, r14: 1, r13: 2, r12: 3, rbp: 4, rbx: 5, r11: 6, r10: 7, r9: 8, r8: 9,
  rax: 10, rcx: 11, rdx: 12, rsi: 13, rdi: 14, orig_rax: 15, rip: 16, cs: 17, eflags: 18,
  rsp: 19, ss: 20, fs_base: 21, gs_base: 22, ds: 23, es: 24, fs: 25, gs: 26,
} as const;
export const NUM_REGS = 27;
