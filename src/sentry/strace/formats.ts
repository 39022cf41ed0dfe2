// Per-syscall argument formats for strace: a table from syscall name to a
// spec string of argument kinds (see KINDS), decoded from registers and guest
// memory. Some kinds are outputs, decoded on exit once the result is known
// (read's data, pipe's fds); on entry they show as pointers. Decoding never
// throws: a failed read of guest memory shows the pointer.

import { errnoName, fromErrno } from '../../abi/linux/errno.js';
import { SYSNO } from '../../abi/linux/sysno.js';
import type { Task } from '../kernel/task.js';
import * as d from './decode.js';

/** ArgCtx holds one call's raw arguments, and its result on exit (null on entry). */
export interface ArgCtx {
  t: Task;
  v: readonly bigint[];
  result: number | null;
}

type Fmt = ((c: ArgCtx, i: number) => string) & { exit?: boolean };

const int = (c: ArgCtx, i: number) => Number(BigInt.asIntN(32, c.v[i]));
const num = (c: ArgCtx, i: number) => Number(c.v[i]);
const hexOf = (v: bigint | number) => '0x' + v.toString(16);

/** readBytes reads up to n bytes of guest memory at addr; null if none is readable. */
function readBytes(t: Task, addr: number, n: number): Uint8Array | null {
  if (addr === 0 || n <= 0) return null;
  try {
    const b = new Uint8Array(n);
    const got = t.mm.copyInPartial(addr, b);
    return got > 0 ? b.subarray(0, got) : null;
  } catch {
    return null;
  }
}

function cstring(t: Task, addr: number): string {
  if (addr === 0) return 'NULL';
  const b = readBytes(t, addr, d.MAX_STRING + 1);
  if (!b) return hexOf(addr);
  const z = b.indexOf(0);
  if (z >= 0 && z <= d.MAX_STRING) return d.quote(b.subarray(0, z), false);
  return d.quote(b.subarray(0, Math.min(b.length, d.MAX_STRING)), true);
}

/** buffer shows len bytes at addr as a quoted prefix. */
function buffer(t: Task, addr: number, len: number): string {
  if (len <= 0) return addr === 0 ? 'NULL' : '""';
  const b = readBytes(t, addr, Math.min(len, d.MAX_STRING));
  return b ? d.quote(b, len > b.length) : hexOf(addr);
}

function u64s(t: Task, addr: number, n: number): bigint[] | null {
  const b = readBytes(t, addr, 8 * n);
  if (!b || b.length < 8 * n) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  return Array.from({ length: n }, (_, i) => v.getBigUint64(8 * i, true));
}

/** iovecData shows the first bytes of an iovec array's data (total bytes: limit). */
function iovecData(t: Task, addr: number, cnt: number, limit: number): string {
  const n = Math.max(0, Math.min(cnt, 16));
  const iov = u64s(t, addr, 2 * n);
  if (!iov || limit < 0) return hexOf(addr);
  const parts: Uint8Array[] = [];
  let want = Math.min(limit, d.MAX_STRING);
  let total = 0;
  for (let i = 0; i < n; i++) total += Number(iov[2 * i + 1]);
  for (let i = 0; i < n && want > 0; i++) {
    const b = readBytes(t, Number(iov[2 * i]), Math.min(Number(iov[2 * i + 1]), want));
    if (!b) break;
    parts.push(b);
    want -= b.length;
  }
  const data = Buffer.concat(parts);
  return `[${d.quote(data, Math.min(total, limit) > data.length)}]`;
}

function strvec(t: Task, addr: number, showStrings: boolean): string {
  if (addr === 0) return 'NULL';
  const out: string[] = [];
  for (let i = 0; i < 256; i++) {
    const p = u64s(t, addr + 8 * i, 1);
    if (!p) return hexOf(addr);
    if (p[0] === 0n) break;
    if (showStrings && i < 8) out.push(cstring(t, Number(p[0])));
    else if (showStrings && i === 8) out.push('...');
    else if (!showStrings) out.push('');
  }
  return showStrings ? `[${out.join(', ')}]` : `${hexOf(addr)} /* ${out.length} vars */`;
}

function timespec(t: Task, addr: number): string {
  if (addr === 0) return 'NULL';
  const v = u64s(t, addr, 2);
  return v ? `{tv_sec=${BigInt.asIntN(64, v[0])}, tv_nsec=${BigInt.asIntN(64, v[1])}}` : hexOf(addr);
}

function sigaction(t: Task, addr: number): string {
  if (addr === 0) return 'NULL';
  const v = u64s(t, addr, 4);
  if (!v) return hexOf(addr);
  const h = v[0] === 0n ? 'SIG_DFL' : v[0] === 1n ? 'SIG_IGN' : hexOf(v[0]);
  return `{handler=${h}, flags=${d.flags(Number(v[1] & 0xffff_ffffn), d.SA_FLAGS)}, ` +
    `restorer=${hexOf(v[2])}, mask=${d.sigsetString(v[3])}}`;
}

function sigset(t: Task, addr: number): string {
  if (addr === 0) return 'NULL';
  const v = u64s(t, addr, 1);
  return v ? d.sigsetString(v[0]) : hexOf(addr);
}

/** out marks a kind decoded on exit (after a successful call); it shows a pointer before. */
function out(f: (c: ArgCtx, i: number) => string): Fmt {
  const g: Fmt = (c, i) => (c.result === null || c.result < 0 ? hexOf(c.v[i]) : f(c, i));
  g.exit = true;
  return g;
}

const KINDS: Record<string, Fmt> = {
  hex: (c, i) => hexOf(c.v[i]),
  int: (c, i) => String(int(c, i)),
  uint: (c, i) => String(Number(c.v[i] & 0xffff_ffffn)),
  long: (c, i) => String(BigInt.asIntN(64, c.v[i])),
  usize: (c, i) => String(c.v[i]),
  fd: (c, i) => String(int(c, i)),
  dirfd: (c, i) => (int(c, i) === -100 ? 'AT_FDCWD' : String(int(c, i))),
  path: (c, i) => cstring(c.t, num(c, i)),
  str: (c, i) => cstring(c.t, num(c, i)),
  mode: (c, i) => {
    const m = Number(c.v[i] & 0o7777n);
    return m === 0 ? '0' : '0' + m.toString(8);
  },
  oflags: (c, i) => d.openFlags(int(c, i)),
  prot: (c, i) => d.flags(int(c, i), d.PROT, 'PROT_NONE'),
  mflags: (c, i) => d.mmapFlags(int(c, i)),
  mremap: (c, i) => d.flags(int(c, i), d.MREMAP_FLAGS),
  madv: (c, i) => d.enumName(int(c, i), d.MADVICE),
  clone: (c, i) => d.cloneFlags(Number(c.v[i] & 0xffff_ffffn)),
  sig: (c, i) => d.signalName(int(c, i)),
  how: (c, i) => d.enumName(int(c, i), d.SIG_HOW),
  clock: (c, i) => d.enumName(int(c, i), d.CLOCKS),
  atflags: (c, i) => d.flags(int(c, i), d.AT_FLAGS),
  unlinkflags: (c, i) => d.flags(int(c, i), d.UNLINK_FLAGS),
  amode: (c, i) => d.flags(int(c, i), d.ACCESS, 'F_OK'),
  whence: (c, i) => d.enumName(int(c, i), d.WHENCE),
  fcntl: (c, i) => d.enumName(int(c, i), d.FCNTL_CMDS),
  futex: (c, i) => d.futexOp(int(c, i)),
  wopts: (c, i) => d.flags(int(c, i), d.WAIT_OPTIONS),
  archprctl: (c, i) => d.enumName(int(c, i), d.ARCH_PRCTL),
  prctl: (c, i) => d.enumName(int(c, i), d.PRCTL),
  rlim: (c, i) => d.enumName(int(c, i), d.RLIMITS),
  sockdom: (c, i) => d.enumName(int(c, i), d.SOCK_DOMAINS),
  socktype: (c, i) => d.sockType(int(c, i)),
  ioctl: (c, i) => d.IOCTLS[Number(c.v[i] & 0xffff_ffffn)] ?? hexOf(c.v[i] & 0xffff_ffffn),
  argv: (c, i) => strvec(c.t, num(c, i), true),
  envp: (c, i) => strvec(c.t, num(c, i), false),
  ts: (c, i) => timespec(c.t, num(c, i)),
  sigset: (c, i) => sigset(c.t, num(c, i)),
  sigact: (c, i) => sigaction(c.t, num(c, i)),
  ts_out: out((c, i) => timespec(c.t, num(c, i))),
  sigset_out: out((c, i) => sigset(c.t, num(c, i))),
  sigact_out: out((c, i) => sigaction(c.t, num(c, i))),
  str_out: out((c, i) => cstring(c.t, num(c, i))),
  fds2: out((c, i) => {
    const b = readBytes(c.t, num(c, i), 8);
    if (!b || b.length < 8) return hexOf(c.v[i]);
    const v = new DataView(b.buffer, b.byteOffset, 8);
    return `[${v.getInt32(0, true)}, ${v.getInt32(4, true)}]`;
  }),
};

/** Buffer kinds take the index of their length argument: wbuf:2 (input), rbuf:2 (output,
 *  shown with the result's length), wiov:2/riov:2 for iovec arrays with a count. */
function bufferKind(kind: string, lenArg: number): Fmt {
  switch (kind) {
    case 'wbuf': return (c, i) => buffer(c.t, num(c, i), num(c, lenArg));
    case 'rbuf': return out((c, i) => buffer(c.t, num(c, i), c.result!));
    case 'wiov': return (c, i) => iovecData(c.t, num(c, i), int(c, lenArg), d.MAX_STRING);
    case 'riov': return out((c, i) => iovecData(c.t, num(c, i), int(c, lenArg), c.result!));
    default: throw new Error(`strace: unknown buffer kind ${kind}`);
  }
}

const SPECS: Record<string, string> = {
  read: 'fd rbuf:2 usize', write: 'fd wbuf:2 usize', open: 'path oflags mode', close: 'fd',
  stat: 'path hex', fstat: 'fd hex', lstat: 'path hex', poll: 'hex uint int', lseek: 'fd long whence',
  mmap: 'hex usize prot mflags fd hex', mprotect: 'hex usize prot', munmap: 'hex usize', brk: 'hex',
  rt_sigaction: 'sig sigact sigact_out usize', rt_sigprocmask: 'how sigset sigset_out usize',
  ioctl: 'fd ioctl hex', pread64: 'fd rbuf:2 usize long', pwrite64: 'fd wbuf:2 usize long',
  readv: 'fd riov:2 int', writev: 'fd wiov:2 int', access: 'path amode', pipe: 'fds2',
  select: 'int hex hex hex hex', mremap: 'hex usize usize mremap hex', msync: 'hex usize hex',
  mincore: 'hex usize hex', madvise: 'hex usize madv', dup: 'fd', dup2: 'fd fd', nanosleep: 'ts hex',
  getitimer: 'int hex', alarm: 'uint', setitimer: 'int hex hex', sendfile: 'fd fd hex usize',
  socket: 'sockdom socktype int', connect: 'fd hex int', accept: 'fd hex hex',
  sendto: 'fd wbuf:2 usize hex hex int', recvfrom: 'fd rbuf:2 usize hex hex hex', sendmsg: 'fd hex hex',
  recvmsg: 'fd hex hex', shutdown: 'fd int', bind: 'fd hex int', listen: 'fd int', getsockname: 'fd hex hex',
  getpeername: 'fd hex hex', socketpair: 'sockdom socktype int fds2', setsockopt: 'fd int int hex int',
  getsockopt: 'fd int int hex hex', clone: 'clone hex hex hex hex', execve: 'path argv envp', exit: 'int',
  wait4: 'int hex wopts hex', kill: 'int sig', uname: 'hex', fcntl: 'fd fcntl hex', flock: 'fd int',
  fsync: 'fd', fdatasync: 'fd', truncate: 'path long', ftruncate: 'fd long', getdents: 'fd hex usize',
  getcwd: 'str_out usize', chdir: 'path', fchdir: 'fd', rename: 'path path', mkdir: 'path mode', rmdir: 'path',
  creat: 'path mode', link: 'path path', unlink: 'path', symlink: 'path path', readlink: 'path rbuf:2 usize',
  chmod: 'path mode', fchmod: 'fd mode', chown: 'path int int', fchown: 'fd int int', lchown: 'path int int',
  umask: 'mode', gettimeofday: 'hex hex', getrlimit: 'rlim hex', getrusage: 'int hex', sysinfo: 'hex',
  times: 'hex', setuid: 'int', setgid: 'int', setpgid: 'int int', setreuid: 'int int', setregid: 'int int',
  getgroups: 'int hex', setgroups: 'int hex', setresuid: 'int int int', getresuid: 'hex hex hex',
  setresgid: 'int int int', getresgid: 'hex hex hex', getpgid: 'int', setfsuid: 'int', setfsgid: 'int',
  getsid: 'int', capget: 'hex hex', capset: 'hex hex', rt_sigpending: 'hex usize',
  rt_sigtimedwait: 'sigset hex ts usize', rt_sigqueueinfo: 'int sig hex', rt_sigsuspend: 'sigset usize',
  sigaltstack: 'hex hex', mknod: 'path mode hex', personality: 'hex', statfs: 'path hex', fstatfs: 'fd hex',
  getpriority: 'int int', setpriority: 'int int int', sched_setparam: 'int hex', sched_getparam: 'int hex',
  sched_setscheduler: 'int int hex', sched_getscheduler: 'int', sched_get_priority_max: 'int',
  sched_get_priority_min: 'int', sched_rr_get_interval: 'int hex', prctl: 'prctl hex hex hex hex',
  arch_prctl: 'archprctl hex', setrlimit: 'rlim hex', chroot: 'path', mount: 'str path str hex hex',
  umount2: 'path hex', sethostname: 'wbuf:1 int', setdomainname: 'wbuf:1 int', time: 'hex',
  futex: 'hex futex int hex hex int', sched_setaffinity: 'int usize hex', sched_getaffinity: 'int usize hex',
  epoll_create: 'int', getdents64: 'fd hex usize', set_tid_address: 'hex', fadvise64: 'fd long long int',
  clock_settime: 'clock ts', clock_gettime: 'clock ts_out', clock_getres: 'clock ts_out',
  clock_nanosleep: 'clock int ts hex', exit_group: 'int', epoll_wait: 'fd hex int int', epoll_ctl: 'fd int fd hex',
  tgkill: 'int int sig', tkill: 'int sig', utimes: 'path hex', waitid: 'int int hex wopts hex',
  openat: 'dirfd path oflags mode', mkdirat: 'dirfd path mode', mknodat: 'dirfd path mode hex',
  fchownat: 'dirfd path int int atflags', futimesat: 'dirfd path hex', newfstatat: 'dirfd path hex atflags',
  unlinkat: 'dirfd path unlinkflags', renameat: 'dirfd path dirfd path', linkat: 'dirfd path dirfd path atflags',
  symlinkat: 'path dirfd path', readlinkat: 'dirfd path rbuf:3 usize', fchmodat: 'dirfd path mode',
  faccessat: 'dirfd path amode', pselect6: 'int hex hex hex hex hex', ppoll: 'hex uint ts hex usize',
  set_robust_list: 'hex usize', get_robust_list: 'int hex hex', utimensat: 'dirfd path hex atflags',
  epoll_pwait: 'fd hex int int hex usize', signalfd4: 'fd sigset usize oflags', eventfd2: 'uint oflags',
  epoll_create1: 'oflags', dup3: 'fd fd oflags', pipe2: 'fds2 oflags', prlimit64: 'int rlim hex hex',
  renameat2: 'dirfd path dirfd path hex', getrandom: 'hex usize hex', memfd_create: 'str hex',
  statx: 'dirfd path atflags hex hex', rseq: 'hex int int hex', clone3: 'hex usize', close_range: 'fd fd hex',
  faccessat2: 'dirfd path amode atflags', getcpu: 'hex hex hex', membarrier: 'int hex int',
  accept4: 'fd hex hex socktype', execveat: 'dirfd path argv envp atflags', syncfs: 'fd',
  copy_file_range: 'fd hex fd hex usize hex', fallocate: 'fd int long long', pidfd_open: 'int hex',
  rt_tgsigqueueinfo: 'int int sig hex', ioprio_get: 'int int', ioprio_set: 'int int hex', kcmp: 'int int int hex hex',
};

interface Spec {
  args: Fmt[];
  /** Some argument is decoded on exit. */
  exit: boolean;
}

function parseSpec(spec: string): Spec {
  const args = spec.split(' ').filter((s) => s).map((k): Fmt => {
    const [kind, len] = k.split(':');
    if (len !== undefined) return bufferKind(kind, Number(len));
    const f = KINDS[kind];
    if (!f) throw new Error(`strace: unknown argument kind ${kind}`);
    return f;
  });
  return { args, exit: args.some((f) => f.exit === true) };
}

/** FORMATS is indexed by syscall number; unknown syscalls print six hex arguments. */
export const FORMATS: ReadonlyArray<Spec | undefined> = (() => {
  const a: Spec[] = [];
  for (const [name, spec] of Object.entries(SPECS)) {
    const nr = (SYSNO as Record<string, number>)[name];
    if (nr === undefined) throw new Error(`strace: unknown syscall ${name}`);
    a[nr] = parseSpec(spec);
  }
  return a;
})();

const RAW: Spec = parseSpec('hex hex hex hex hex hex');

/** hasExitArgs reports whether syscall nr decodes some argument on exit. */
export function hasExitArgs(nr: number): boolean {
  return FORMATS[nr]?.exit ?? false;
}

/** formatArgsOf renders the arguments in c for syscall nr. Never throws. */
export function formatArgsOf(nr: number, c: ArgCtx): string {
  const spec = FORMATS[nr] ?? RAW;
  return spec.args.map((f, i) => {
    try {
      return f(c, i);
    } catch {
      return hexOf(c.v[i]);
    }
  }).join(', ');
}

/** Syscalls whose result is an address, shown in hex. */
const ADDRESS_RESULTS = new Set<number>([SYSNO.mmap, SYSNO.brk, SYSNO.mremap, SYSNO.shmat]);

/** formatResult renders a syscall's result: -1 ENAME (message) for errors. */
export function formatResult(nr: number, r: number): string {
  if (r < 0 && r > -4096) return `-1 ${errnoName(-r)} (${fromErrno(-r).message})`;
  return ADDRESS_RESULTS.has(nr) ? '0x' + r.toString(16) : String(r);
}

/** formatArgs renders the arguments of syscall nr as it enters (outputs as pointers). */
export function formatArgs(t: Task, nr: number, a: { u64(i: number): bigint }): string {
  const v = [0, 1, 2, 3, 4, 5].map((i) => a.u64(i));
  return formatArgsOf(nr, { t, v, result: null });
}
