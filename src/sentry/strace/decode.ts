// Building blocks for strace argument decoding: quoted strings, symbolic
// flags and enumerations. Pure functions of values and bytes; the readers of
// guest memory live in formats.ts.

/** MAX_STRING: strings and buffers show at most this many bytes, then "...". */
export const MAX_STRING = 64;

/** quote renders bytes as a C-like quoted string; truncated adds "..." after the quote. */
export function quote(b: Uint8Array, truncated: boolean): string {
  let s = '"';
  for (const c of b) {
    switch (c) {
      case 0x22: s += '\\"'; break;
      case 0x5c: s += '\\\\'; break;
      case 0x0a: s += '\\n'; break;
      case 0x09: s += '\\t'; break;
      case 0x0d: s += '\\r'; break;
      default:
        s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0');
    }
  }
  return s + '"' + (truncated ? '...' : '');
}

/** A flag table: [mask, name]; a composite mask matches only when all its bits are set. */
export type FlagTable = ReadonlyArray<readonly [number, string]>;

/** flags renders v as NAME|NAME|0x..., leftover bits in hex; zero is `zero`. */
export function flags(v: number, table: FlagTable, zero = '0'): string {
  if (v === 0) return zero;
  const out: string[] = [];
  let rest = v;
  for (const [m, name] of table) {
    if (m !== 0 && ((rest & m) >>> 0) === m >>> 0) {
      out.push(name);
      rest &= ~m;
    }
  }
  if (rest !== 0) out.push('0x' + (rest >>> 0).toString(16));
  return out.join('|');
}

/** enumName renders v by name, or as a number when unknown. */
export function enumName(v: number, names: Readonly<Record<number, string>>): string {
  return names[v] ?? String(v);
}

// Tables (Linux x86-64 values).

const O_ACCMODE = 3;
const ACCESS_MODES = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'];
const OPEN_FLAGS: FlagTable = [
  [0o20200000, 'O_TMPFILE'], [0o4010000, 'O_SYNC'], [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'], [0o4000, 'O_NONBLOCK'], [0o10000, 'O_DSYNC'], [0o20000, 'O_ASYNC'],
  [0o40000, 'O_DIRECT'], [0o100000, 'O_LARGEFILE'], [0o200000, 'O_DIRECTORY'], [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'], [0o2000000, 'O_CLOEXEC'], [0o10000000, 'O_PATH'],
];

/** openFlags renders open(2) flags: the access mode, then the other bits. */
export function openFlags(v: number): string {
  const rest = v & ~O_ACCMODE;
  const mode = ACCESS_MODES[v & O_ACCMODE];
  return rest === 0 ? mode : `${mode}|${flags(rest, OPEN_FLAGS)}`;
}

export const PROT: FlagTable = [[1, 'PROT_READ'], [2, 'PROT_WRITE'], [4, 'PROT_EXEC'],
  [0x01000000, 'PROT_GROWSDOWN'], [0x02000000, 'PROT_GROWSUP']];

const MAP_TYPES: Record<number, string> = { 1: 'MAP_SHARED', 2: 'MAP_PRIVATE', 3: 'MAP_SHARED_VALIDATE' };
const MAP_FLAGS: FlagTable = [[0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x40, 'MAP_32BIT'],
  [0x100, 'MAP_GROWSDOWN'], [0x800, 'MAP_DENYWRITE'], [0x1000, 'MAP_EXECUTABLE'], [0x2000, 'MAP_LOCKED'],
  [0x4000, 'MAP_NORESERVE'], [0x8000, 'MAP_POPULATE'], [0x10000, 'MAP_NONBLOCK'], [0x20000, 'MAP_STACK'],
  [0x40000, 'MAP_HUGETLB'], [0x80000, 'MAP_SYNC'], [0x100000, 'MAP_FIXED_NOREPLACE']];

/** mmapFlags renders mmap(2) flags: the mapping type, then the other bits. */
export function mmapFlags(v: number): string {
  const type = MAP_TYPES[v & 0xf] ?? '0x' + (v & 0xf).toString(16);
  const rest = v & ~0xf;
  return rest === 0 ? type : `${type}|${flags(rest, MAP_FLAGS)}`;
}

export const MREMAP_FLAGS: FlagTable = [[1, 'MREMAP_MAYMOVE'], [2, 'MREMAP_FIXED'], [4, 'MREMAP_DONTUNMAP']];

const CLONE_FLAGS: FlagTable = [[0x100, 'CLONE_VM'], [0x200, 'CLONE_FS'], [0x400, 'CLONE_FILES'],
  [0x800, 'CLONE_SIGHAND'], [0x1000, 'CLONE_PIDFD'], [0x2000, 'CLONE_PTRACE'], [0x4000, 'CLONE_VFORK'],
  [0x8000, 'CLONE_PARENT'], [0x10000, 'CLONE_THREAD'], [0x20000, 'CLONE_NEWNS'], [0x40000, 'CLONE_SYSVSEM'],
  [0x80000, 'CLONE_SETTLS'], [0x100000, 'CLONE_PARENT_SETTID'], [0x200000, 'CLONE_CHILD_CLEARTID'],
  [0x400000, 'CLONE_DETACHED'], [0x800000, 'CLONE_UNTRACED'], [0x1000000, 'CLONE_CHILD_SETTID'],
  [0x2000000, 'CLONE_NEWCGROUP'], [0x4000000, 'CLONE_NEWUTS'], [0x8000000, 'CLONE_NEWIPC'],
  [0x10000000, 'CLONE_NEWUSER'], [0x20000000, 'CLONE_NEWPID'], [0x40000000, 'CLONE_NEWNET'],
  [0x80000000, 'CLONE_IO']];

/** cloneFlags renders clone(2) flags; the low byte is the exit signal. */
export function cloneFlags(v: number): string {
  const s = v & 0xff;
  const rest = v & ~0xff;
  const parts: string[] = [];
  if (rest) parts.push(flags(rest, CLONE_FLAGS));
  if (s) parts.push(signalName(s));
  return parts.length ? parts.join('|') : '0';
}

const SIGNALS = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL',
  'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP',
  'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO',
  'SIGPWR', 'SIGSYS'];

/** signalName renders a signal number (SIGRTMIN+n for real-time ones). */
export function signalName(s: number): string {
  if (s > 0 && s < 32) return SIGNALS[s];
  if (s >= 32 && s <= 64) return s === 32 ? 'SIGRTMIN' : `SIGRTMIN+${s - 32}`;
  return String(s);
}

/** sigsetString renders a signal mask as [SIGINT SIGTERM]. */
export function sigsetString(set: bigint): string {
  const names: string[] = [];
  for (let s = 1; s <= 64; s++) if (set & (1n << BigInt(s - 1))) names.push(signalName(s));
  return `[${names.join(' ')}]`;
}

export const SA_FLAGS: FlagTable = [[0x1, 'SA_NOCLDSTOP'], [0x2, 'SA_NOCLDWAIT'], [0x4, 'SA_SIGINFO'],
  [0x04000000, 'SA_RESTORER'], [0x08000000, 'SA_ONSTACK'], [0x10000000, 'SA_RESTART'],
  [0x40000000, 'SA_NODEFER'], [0x80000000, 'SA_RESETHAND']];

export const SIG_HOW: Record<number, string> = { 0: 'SIG_BLOCK', 1: 'SIG_UNBLOCK', 2: 'SIG_SETMASK' };

export const CLOCKS: Record<number, string> = {
  0: 'CLOCK_REALTIME', 1: 'CLOCK_MONOTONIC', 2: 'CLOCK_PROCESS_CPUTIME_ID', 3: 'CLOCK_THREAD_CPUTIME_ID',
  4: 'CLOCK_MONOTONIC_RAW', 5: 'CLOCK_REALTIME_COARSE', 6: 'CLOCK_MONOTONIC_COARSE', 7: 'CLOCK_BOOTTIME',
  8: 'CLOCK_REALTIME_ALARM', 9: 'CLOCK_BOOTTIME_ALARM', 11: 'CLOCK_TAI',
};

export const AT_FLAGS: FlagTable = [[0x100, 'AT_SYMLINK_NOFOLLOW'], [0x200, 'AT_EACCESS'],
  [0x400, 'AT_SYMLINK_FOLLOW'], [0x800, 'AT_NO_AUTOMOUNT'], [0x1000, 'AT_EMPTY_PATH'],
  [0x2000, 'AT_STATX_FORCE_SYNC'], [0x4000, 'AT_STATX_DONT_SYNC'], [0x8000, 'AT_RECURSIVE']];
export const UNLINK_FLAGS: FlagTable = [[0x200, 'AT_REMOVEDIR']];

const FUTEX_OPS: Record<number, string> = {
  0: 'FUTEX_WAIT', 1: 'FUTEX_WAKE', 2: 'FUTEX_FD', 3: 'FUTEX_REQUEUE', 4: 'FUTEX_CMP_REQUEUE', 5: 'FUTEX_WAKE_OP',
  6: 'FUTEX_LOCK_PI', 7: 'FUTEX_UNLOCK_PI', 8: 'FUTEX_TRYLOCK_PI', 9: 'FUTEX_WAIT_BITSET', 10: 'FUTEX_WAKE_BITSET',
  11: 'FUTEX_WAIT_REQUEUE_PI', 12: 'FUTEX_CMP_REQUEUE_PI', 13: 'FUTEX_LOCK_PI2',
};

/** futexOp renders a futex operation with its PRIVATE/CLOCK_REALTIME modifiers. */
export function futexOp(v: number): string {
  let s = enumName(v & 0x7f, FUTEX_OPS);
  if (v & 128) s += '|FUTEX_PRIVATE_FLAG';
  if (v & 256) s += '|FUTEX_CLOCK_REALTIME';
  const rest = v & ~(0x7f | 128 | 256);
  return rest ? `${s}|0x${(rest >>> 0).toString(16)}` : s;
}

export const FCNTL_CMDS: Record<number, string> = {
  0: 'F_DUPFD', 1: 'F_GETFD', 2: 'F_SETFD', 3: 'F_GETFL', 4: 'F_SETFL', 5: 'F_GETLK', 6: 'F_SETLK', 7: 'F_SETLKW',
  8: 'F_SETOWN', 9: 'F_GETOWN', 10: 'F_SETSIG', 11: 'F_GETSIG', 15: 'F_SETOWN_EX', 16: 'F_GETOWN_EX',
  36: 'F_OFD_GETLK', 37: 'F_OFD_SETLK', 38: 'F_OFD_SETLKW', 1024: 'F_SETLEASE', 1025: 'F_GETLEASE',
  1030: 'F_DUPFD_CLOEXEC', 1031: 'F_SETPIPE_SZ', 1032: 'F_GETPIPE_SZ', 1033: 'F_ADD_SEALS', 1034: 'F_GET_SEALS',
};

export const WHENCE: Record<number, string> = { 0: 'SEEK_SET', 1: 'SEEK_CUR', 2: 'SEEK_END', 3: 'SEEK_DATA', 4: 'SEEK_HOLE' };
export const ACCESS: FlagTable = [[4, 'R_OK'], [2, 'W_OK'], [1, 'X_OK']];
export const WAIT_OPTIONS: FlagTable = [[1, 'WNOHANG'], [2, 'WUNTRACED'], [4, 'WEXITED'], [8, 'WCONTINUED'],
  [0x01000000, 'WNOWAIT'], [0x20000000, '__WNOTHREAD'], [0x40000000, '__WALL'], [0x80000000, '__WCLONE']];

export const ARCH_PRCTL: Record<number, string> = {
  0x1001: 'ARCH_SET_GS', 0x1002: 'ARCH_SET_FS', 0x1003: 'ARCH_GET_FS', 0x1004: 'ARCH_GET_GS',
  0x1011: 'ARCH_GET_CPUID', 0x1012: 'ARCH_SET_CPUID', 0x1021: 'ARCH_GET_XCOMP_SUPP',
  0x1022: 'ARCH_GET_XCOMP_PERM', 0x1023: 'ARCH_REQ_XCOMP_PERM', 0x3001: 'ARCH_CET_STATUS',
};

export const PRCTL: Record<number, string> = {
  1: 'PR_SET_PDEATHSIG', 2: 'PR_GET_PDEATHSIG', 3: 'PR_GET_DUMPABLE', 4: 'PR_SET_DUMPABLE', 7: 'PR_GET_KEEPCAPS',
  8: 'PR_SET_KEEPCAPS', 15: 'PR_SET_NAME', 16: 'PR_GET_NAME', 21: 'PR_GET_SECCOMP', 22: 'PR_SET_SECCOMP',
  23: 'PR_CAPBSET_READ', 24: 'PR_CAPBSET_DROP', 27: 'PR_GET_SECUREBITS', 28: 'PR_SET_SECUREBITS',
  29: 'PR_SET_TIMERSLACK', 30: 'PR_GET_TIMERSLACK', 35: 'PR_SET_MM', 36: 'PR_SET_CHILD_SUBREAPER',
  37: 'PR_GET_CHILD_SUBREAPER', 38: 'PR_SET_NO_NEW_PRIVS', 39: 'PR_GET_NO_NEW_PRIVS', 40: 'PR_GET_TID_ADDRESS',
  41: 'PR_SET_THP_DISABLE', 42: 'PR_GET_THP_DISABLE', 47: 'PR_CAP_AMBIENT', 0x53564d41: 'PR_SET_VMA',
};

export const MADVICE: Record<number, string> = {
  0: 'MADV_NORMAL', 1: 'MADV_RANDOM', 2: 'MADV_SEQUENTIAL', 3: 'MADV_WILLNEED', 4: 'MADV_DONTNEED', 8: 'MADV_FREE',
  9: 'MADV_REMOVE', 10: 'MADV_DONTFORK', 11: 'MADV_DOFORK', 12: 'MADV_MERGEABLE', 13: 'MADV_UNMERGEABLE',
  14: 'MADV_HUGEPAGE', 15: 'MADV_NOHUGEPAGE', 16: 'MADV_DONTDUMP', 17: 'MADV_DODUMP', 18: 'MADV_WIPEONFORK',
  19: 'MADV_KEEPONFORK', 20: 'MADV_COLD', 21: 'MADV_PAGEOUT',
};

export const RLIMITS: Record<number, string> = {
  0: 'RLIMIT_CPU', 1: 'RLIMIT_FSIZE', 2: 'RLIMIT_DATA', 3: 'RLIMIT_STACK', 4: 'RLIMIT_CORE', 5: 'RLIMIT_RSS',
  6: 'RLIMIT_NPROC', 7: 'RLIMIT_NOFILE', 8: 'RLIMIT_MEMLOCK', 9: 'RLIMIT_AS', 10: 'RLIMIT_LOCKS',
  11: 'RLIMIT_SIGPENDING', 12: 'RLIMIT_MSGQUEUE', 13: 'RLIMIT_NICE', 14: 'RLIMIT_RTPRIO', 15: 'RLIMIT_RTTIME',
};

export const SOCK_DOMAINS: Record<number, string> = { 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK', 17: 'AF_PACKET' };
const SOCK_TYPES: Record<number, string> = { 1: 'SOCK_STREAM', 2: 'SOCK_DGRAM', 3: 'SOCK_RAW', 5: 'SOCK_SEQPACKET' };

/** sockType renders a socket type with SOCK_NONBLOCK/SOCK_CLOEXEC. */
export function sockType(v: number): string {
  let s = enumName(v & 0xf, SOCK_TYPES);
  if (v & 0o4000) s += '|SOCK_NONBLOCK';
  if (v & 0o2000000) s += '|SOCK_CLOEXEC';
  return s;
}

export const IOCTLS: Record<number, string> = {
  0x5401: 'TCGETS', 0x5402: 'TCSETS', 0x5403: 'TCSETSW', 0x5404: 'TCSETSF', 0x540f: 'TIOCGPGRP',
  0x5410: 'TIOCSPGRP', 0x5413: 'TIOCGWINSZ', 0x5414: 'TIOCSWINSZ', 0x541b: 'FIONREAD', 0x5421: 'FIONBIO',
  0x5450: 'FIONCLEX', 0x5451: 'FIOCLEX', 0x5429: 'TIOCGSID', 0x540e: 'TIOCSCTTY', 0x80045430: 'TIOCGPTN',
  0x40045431: 'TIOCSPTLCK',
};
