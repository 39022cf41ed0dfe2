// What any Node.js process of ours needs from the host kernel once started:
// V8 (heap, JIT, GC threads), libuv (epoll loop, thread pool), glibc. Shared
// by the Sentry's and the Gofer's allowlists, which add their own work on top.

import { SYSNO } from '../abi/linux/sysno.js';
import { retErrno } from './seccomp.js';
import { FIOCLEX, FIONBIO, TCGETS, TIOCGPTN, TIOCGWINSZ } from '../abi/linux/tty.js';
import type { ArgTest, Rule } from './seccomp.js';

const ENOSYS = 38;
const CLONE_THREAD = 0x10000;
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;

type SysName = keyof typeof SYSNO;

/** rule builds a Rule for a system call by name. */
export function rule(name: SysName, reason: string, when?: ArgTest[][], extra: Partial<Rule> = {}): Rule {
  return { name, nr: SYSNO[name], reason, when, ...extra };
}

/** allowAll builds unconditional rules for several calls sharing a reason. */
export function allowAll(names: SysName[], reason: string): Rule[] {
  return names.map((n) => rule(n, reason));
}

/** argIn is a list of alternatives: argument arg equals one of values (as an int). */
export function argIn(arg: number, values: number[]): ArgTest[][] {
  return values.map((v) => [{ arg, eq32: v }]);
}

/** nodeRuntime returns the rules every Node.js process of ours needs. */
export function nodeRuntime(): Rule[] {
  return [
    ...allowAll(['read', 'write', 'readv', 'writev', 'pread64', 'pwrite64', 'close', 'lseek', 'dup', 'dup2', 'dup3', 'fcntl', 'close_range'],
      'I/O on fds the process holds'),
    ...allowAll(['fstat', 'newfstatat', 'statx'], 'libuv stats fds with statx(fd, "", AT_EMPTY_PATH); paths reach only the confined root'),
    ...allowAll(['mmap', 'munmap', 'mprotect', 'madvise', 'mremap', 'brk', 'msync', 'mincore'], 'V8 heap, code space and GC; glibc malloc'),
    ...allowAll(['futex', 'set_robust_list', 'get_robust_list', 'rseq', 'sched_yield', 'sched_getaffinity', 'getcpu', 'membarrier'],
      'threads: V8 platform workers, libuv pool, glibc'),
    rule('clone', 'new threads only (CLONE_THREAD): no new processes after start-up', [[{ arg: 0, anyOf: CLONE_THREAD }]]),
    rule('clone3', 'its arguments are in memory, out of the filter\'s sight: ENOSYS makes glibc fall back to clone', undefined,
      { action: retErrno(ENOSYS) }),
    ...allowAll(['exit', 'exit_group'], 'thread and process exit'),
    ...allowAll(['rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'sigaltstack', 'rt_sigtimedwait'], 'signal handling (libuv, V8)'),
    ...allowAll(['getpid', 'gettid', 'getppid', 'getuid', 'geteuid', 'getgid', 'getegid', 'getresuid', 'getresgid', 'getgroups', 'uname'],
      'identity queries (process.pid, os.hostname, ...)'),
    ...allowAll(['epoll_create1', 'epoll_ctl', 'epoll_wait', 'epoll_pwait', 'epoll_pwait2', 'eventfd2', 'pipe2', 'poll', 'ppoll'],
      'the libuv event loop and its wake-ups'),
    ...allowAll(['clock_gettime', 'clock_getres', 'gettimeofday', 'nanosleep', 'clock_nanosleep', 'getrusage', 'times', 'sysinfo'],
      'time and usage queries (the vDSO answers most without a call)'),
    rule('getrandom', 'V8 and OpenSSL entropy'),
    rule('prlimit64', 'reading its own limits (pid 0)', [[{ arg: 0, eq32: 0 }, { arg: 2, eq: 0n }]]),
    rule('getrlimit', 'reading its own limits'),
    rule('prctl', 'thread names only', argIn(0, [PR_SET_NAME, PR_GET_NAME])),
    rule('ioctl', 'non-blocking mode, close-on-exec and tty queries on its own fds (libuv tells a pty master by TIOCGPTN)', argIn(1, [FIONBIO, FIOCLEX, TCGETS, TIOCGWINSZ, TIOCGPTN])),
    ...allowAll(['sendmsg', 'recvmsg', 'sendto', 'recvfrom', 'shutdown', 'getsockopt', 'setsockopt', 'getsockname', 'getpeername'],
      'messages on the sockets it was given (Gofer protocol, fd passing, control socket)'),
    ...allowAll(['getcwd', 'readlink', 'readlinkat'], 'paths reach only the confined root'),
    rule('restart_syscall', 'resuming an interrupted sleep'),
  ];
}

/** merge returns base with the rules of over replacing those for the same call. */
export function merge(base: Rule[], over: Rule[]): Rule[] {
  const nrs = new Set(over.map((r) => r.nr));
  return [...base.filter((r) => !nrs.has(r.nr)), ...over];
}

/** learning is set by TSVISOR_SECCOMP_LEARN=1: every call outside the list
 *  is allowed and logged by the kernel (dmesg: audit type=1326), to find
 *  what a new code path needs. For diagnosis only. */
export const learning = process.env.TSVISOR_SECCOMP_LEARN === '1';
