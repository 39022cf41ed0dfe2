// The Sentry's seccomp allowlist, installed on all its threads once it has
// started (after the stubs exist and the root is empty). Every entry says
// why the Sentry needs it. What is absent matters as much: no open of a path
// (only read-only opens below its own /proc directory fd), no execve, no
// mount or namespace changes, no new processes, no ptrace attach (only its
// own stubs, which are its children and the only other processes in its PID
// namespace), no sockets but AF_UNIX (and AF_INET/AF_INET6 and
// NETLINK_ROUTE with --network=host). Calls outside the list fail with EPERM.

import { argIn, allowAll, learning, merge, nodeRuntime, rule } from '../../seccomp/node_runtime.js';
import { compile, retErrno, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_LOG } from '../../seccomp/seccomp.js';
import type { Rule } from '../../seccomp/seccomp.js';
import { TIOCLINUX, TIOCSETD, TIOCSTI } from '../../abi/linux/tty.js';

const EPERM = 1;
const EACCES = 13;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const NETLINK_ROUTE = 0;
const O_ACCMODE = 3;
const O_RDONLY = 0;
const PTRACE_TRACEME = 0;
const PTRACE_ATTACH = 16;
const PTRACE_SEIZE = 0x4206;
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;
const PR_SET_PDEATHSIG = 1;

export interface SentryFilterOptions {
  /** procFd is the directory fd of the Sentry's own /proc. */
  procFd: number;
  /** hostNetwork allows AF_INET/AF_INET6 sockets (--network=host). */
  hostNetwork: boolean;
  /** stateDirFd, for a container's sandbox, is its state directory, where it records the exit status. */
  stateDirFd?: number;
}

/** sentryRules returns the Sentry's allowlist. */
export function sentryRules(o: SentryFilterOptions): Rule[] {
  const domains = o.hostNetwork ? [AF_UNIX, AF_INET, AF_INET6] : [AF_UNIX];
  const own: Rule[] = [
    // Guest execution (src/platform/ptrace).
    rule('ptrace', 'drives the stubs; attach requests are refused: every tracee is a child traced from birth',
      argIn(0, [PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_SEIZE]), { action: retErrno(EPERM), otherwise: SECCOMP_RET_ALLOW }),
    ...allowAll(['wait4', 'waitid'], 'ptrace stops and exits of stub threads'),
    ...allowAll(['process_vm_readv', 'process_vm_writev'], 'copying guest memory (only stubs are visible in its PID namespace)'),
    ...allowAll(['kill', 'tgkill', 'tkill'], 'interrupting and killing stub threads (only stubs are visible)'),
    ...allowAll(['timer_create', 'timer_settime', 'timer_delete'], 'bounds blocking waits with a signal (native/src/ptrace.c)'),
    ...allowAll(['sched_setaffinity'], 'binds stub threads that stop often to the tracer\'s CPU (only stubs are visible)'),
    // Memory and files the Sentry owns.
    ...allowAll(['memfd_create', 'ftruncate', 'fallocate', 'fstatfs', 'fsync', 'fdatasync', 'getdents64', 'fchmod', 'fchown', 'flock'],
      'memory files for guest memory; operations on host files the Gofer handed over'),
    rule('openat', 'read-only opens below its own /proc directory fd (CPU times, shared memory maps); a container\'s sandbox also writes its exit record in its state directory; every other open is refused',
      [[{ arg: 0, eq32: o.procFd }, { arg: 2, mask: O_ACCMODE, value: O_RDONLY }],
        ...(o.stateDirFd !== undefined ? [[{ arg: 0, eq32: o.stateDirFd }]] : [])], { otherwise: retErrno(EACCES) }),
    ...(o.stateDirFd !== undefined ? [rule('renameat', 'replacing the exit record atomically, within the state directory only',
      [[{ arg: 0, eq32: o.stateDirFd }, { arg: 2, eq32: o.stateDirFd }]], { otherwise: retErrno(EPERM) })] : []),
    rule('open', 'never: the Sentry opens no path', undefined, { action: retErrno(EACCES) }),
    // Sockets.
    rule('socket', 'AF_UNIX (and inet, and NETLINK_ROUTE to read the host\'s interfaces and routes, with --network=host)',
      [...argIn(0, domains), ...(o.hostNetwork ? [[{ arg: 0, eq32: AF_NETLINK }, { arg: 2, eq32: NETLINK_ROUTE }]] : [])]),
    rule('socketpair', 'AF_UNIX pairs for guest sockets and fd passing', argIn(0, [AF_UNIX])),
    ...allowAll(['bind', 'listen', 'accept4', 'accept', 'connect'], 'the control socket; host-network sockets'),
    // Terminal passthrough: the guest's ioctls on a host tty are forwarded,
    // except the ones that reach beyond it.
    rule('ioctl', 'host tty and socket ioctls forwarded for the guest; TIOCSTI (typing into the terminal), TIOCLINUX and TIOCSETD refused',
      argIn(1, [TIOCSTI, TIOCLINUX, TIOCSETD]), { action: retErrno(EPERM), otherwise: SECCOMP_RET_ALLOW }),
    rule('prctl', 'thread names; PR_SET_PDEATHSIG', argIn(0, [PR_SET_NAME, PR_GET_NAME, PR_SET_PDEATHSIG])),
    ...allowAll(['splice', 'tee', 'sendfile', 'copy_file_range'], 'moving data between host fds without a copy through JS'),
    ...allowAll(['capget'], 'reading its own capabilities'),
    ...allowAll(['setpgid', 'getpgid', 'getsid', 'getpgrp'], 'process groups of the stubs and itself (job control on the host tty)'),
  ];
  return merge(nodeRuntime(), own);
}

/** sentryFilter compiles the Sentry's filter. */
export function sentryFilter(o: SentryFilterOptions): Uint8Array {
  const rules = learning ? sentryRules(o).map((r) => ({ ...r, otherwise: r.otherwise === undefined || r.otherwise === SECCOMP_RET_ALLOW ? r.otherwise : SECCOMP_RET_LOG })) : sentryRules(o);
  return compile({ rules, defaultAction: learning ? SECCOMP_RET_LOG : retErrno(EPERM), badArch: SECCOMP_RET_KILL_PROCESS });
}
