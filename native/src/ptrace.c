/* ptrace and wait primitives. All requests must come from the thread that
 * spawned the stub (the tracer thread): the Sentry calls these from its main
 * JS thread only. Waits name a tid or a process group, never -1, so they cannot
 * steal libuv's child exits. */
#define _GNU_SOURCE
#include "util.h"
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <elf.h>

#ifndef __WALL
#define __WALL 0x40000000
#endif

/* spawnStub(path, sockFd, unshareFlags) -> pid | -errno.
 * vfork; the child asks to be traced, moves to its own process group, keeps
 * only sockFd (as fd 3), and execs the stub with an empty environment. All
 * signals stay blocked across the exec (the Sentry unblocks them by injection),
 * so no Node handler can run in the vfork child. The parent reaps the exec
 * SIGTRAP stop and returns with the stub stopped. */
static napi_value SpawnStub(napi_env env, napi_callback_info info) {
  ARGS(3);
  char path[4096];
  size_t plen = 0;
  napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &plen);
  int sock = arg_i32(env, argv[1]);
  int ufl = arg_i32(env, argv[2]);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  char *const cargv[] = {path, NULL};
  char *const cenv[] = {NULL};
  pid_t pid = vfork();
  if (pid == 0) {
    /* SAFETY: only raw syscalls between vfork and execve; signals blocked. */
    syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
    syscall(SYS_setpgid, 0, 0);
    /* Namespaces of the stub's own (the caller chose which); failure is fatal. */
    if (ufl && syscall(SYS_unshare, ufl) < 0) syscall(SYS_exit_group, 126);
    if (sock >= 0 && sock != 3) syscall(SYS_dup3, sock, 3, 0);
    syscall(SYS_close_range, sock >= 0 ? 4 : 3, ~0U, 0);
    syscall(SYS_execve, path, cargv, cenv);
    syscall(SYS_exit_group, 127);
  }
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) return num(env, -saved);
  int status;
  int w;
  do w = waitpid(pid, &status, __WALL);
  while (w < 0 && errno == EINTR);
  if (w < 0) return num(env, -errno);
  if (!WIFSTOPPED(status)) return num(env, -ECHILD);
  return num(env, pid);
}

/* ptrace(req, tid, addr, data) -> result | -errno, for requests whose
 * arguments are plain numbers (CONT, SYSEMU, KILL, SETOPTIONS, POKEUSER...). */
static napi_value Ptrace(napi_env env, napi_callback_info info) {
  ARGS(4);
  long r = ptrace((enum __ptrace_request)arg_i32(env, argv[0]), arg_i32(env, argv[1]),
                  (void *)(intptr_t)arg_i64(env, argv[2]), (void *)(intptr_t)arg_i64(env, argv[3]));
  return RET_ERRNO(r);
}

/* getRegs(tid, BigUint64Array(27)) and setRegs(tid, regs) -> 0 | -errno. */
static napi_value GetRegs(napi_env env, napi_callback_info info) {
  ARGS(2);
  size_t n;
  void *b = arg_buf(env, argv[1], &n);
  if (n < sizeof(struct user_regs_struct)) return num(env, -EINVAL);
  return RET_ERRNO(ptrace(PTRACE_GETREGS, arg_i32(env, argv[0]), 0, b));
}
static napi_value SetRegs(napi_env env, napi_callback_info info) {
  ARGS(2);
  size_t n;
  void *b = arg_buf(env, argv[1], &n);
  if (n < sizeof(struct user_regs_struct)) return num(env, -EINVAL);
  return RET_ERRNO(ptrace(PTRACE_SETREGS, arg_i32(env, argv[0]), 0, b));
}

/* getRegset(tid, nt, buf) / setRegset(tid, nt, buf) -> bytes | -errno, for the
 * FP/XSAVE state (NT_PRFPREG, NT_X86_XSTATE) that signal frames carry. */
static napi_value GetRegset(napi_env env, napi_callback_info info) {
  ARGS(3);
  size_t n;
  void *b = arg_buf(env, argv[2], &n);
  struct iovec iov = {b, n};
  long r = ptrace(PTRACE_GETREGSET, arg_i32(env, argv[0]), (void *)(intptr_t)arg_i32(env, argv[1]), &iov);
  return r < 0 ? num(env, -errno) : num(env, (double)iov.iov_len);
}
static napi_value SetRegset(napi_env env, napi_callback_info info) {
  ARGS(3);
  size_t n;
  void *b = arg_buf(env, argv[2], &n);
  struct iovec iov = {b, n};
  return RET_ERRNO(ptrace(PTRACE_SETREGSET, arg_i32(env, argv[0]), (void *)(intptr_t)arg_i32(env, argv[1]), &iov));
}

/* getEventMsg(tid) -> msg | -errno (a pid or exit status fits a double). */
static napi_value GetEventMsg(napi_env env, napi_callback_info info) {
  ARGS(1);
  unsigned long msg = 0;
  if (ptrace(PTRACE_GETEVENTMSG, arg_i32(env, argv[0]), 0, &msg) < 0) return num(env, -errno);
  return num(env, (double)msg);
}

/* getSiginfo(tid, Uint8Array(128)) -> 0 | -errno. */
static napi_value GetSiginfo(napi_env env, napi_callback_info info) {
  ARGS(2);
  size_t n;
  void *b = arg_buf(env, argv[1], &n);
  if (n < 128) return num(env, -EINVAL);
  return RET_ERRNO(ptrace(PTRACE_GETSIGINFO, arg_i32(env, argv[0]), 0, b));
}

/* The wait timeout: a per-thread POSIX timer that sends wake_sig to the tracer
 * thread, whose handler does nothing and has no SA_RESTART, so a blocking
 * wait4 returns EINTR. */
static int wake_sig = 0;
static timer_t wake_timer;
/* Set by a delivery of the wake signal: timer_fired by any, wake_external
 * by one not from the timer (a tgkill from another thread of the Sentry that
 * wants the event loop to run, see native/src/net.c). */
static volatile sig_atomic_t timer_fired, wake_external;
static void noop_handler(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  timer_fired = 1;
  if (si->si_code != SI_TIMER) wake_external = 1;
}

/* initWaitTimeout(signo) -> 0 | -errno. Call once, from the tracer thread. */
static napi_value InitWaitTimeout(napi_env env, napi_callback_info info) {
  ARGS(1);
  int sig = arg_i32(env, argv[0]);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = noop_handler;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) < 0) return num(env, -errno);
  struct sigevent sev;
  memset(&sev, 0, sizeof(sev));
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = sig;
  sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  if (timer_create(CLOCK_MONOTONIC, &sev, &wake_timer) < 0) return num(env, -errno);
  wake_sig = sig;
  return num(env, 0);
}

/* When the armed timer fires (CLOCK_MONOTONIC ns), 0 when disarmed. */
static int64_t armed_until = 0;

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no system call */
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void arm(int timeout_us) {
  struct itimerspec its;
  memset(&its, 0, sizeof(its));
  its.it_value.tv_sec = timeout_us / 1000000;
  its.it_value.tv_nsec = (long)(timeout_us % 1000000) * 1000;
  timer_settime(wake_timer, 0, &its, NULL);
}

/* do_wait waits for target (a tid, or -pgid) with __WALL. timeout_us < 0 blocks;
 * 0 polls (WNOHANG); > 0 gives up after at most that long. Returns the tid, 0
 * on timeout, or -errno. On a stop, regs (if given) receives the stopped
 * thread's registers.
 * The timer stays armed across waits that end with a stop: a busy loop of
 * bounded waits arms it once per period instead of twice per wait (two
 * system calls per guest syscall). It may so fire outside a wait: callers
 * retry EINTR (the Gofer client does), and the next wait then times out at
 * once, which is the purpose of the bound anyway (an event loop turn). */
static int do_wait(int target, int timeout_us, int *status, void *regs) {
  int flags = __WALL | (timeout_us == 0 ? WNOHANG : 0);
  if (timeout_us > 0 && wake_sig != 0) {
    int64_t now = mono_ns();
    if (timer_fired || (armed_until != 0 && armed_until <= now)) {
      /* Fired since the last wait, outside it: the bound has passed (or
       * another thread asked for an event loop turn). */
      timer_fired = 0;
      wake_external = 0;
      armed_until = 0;
      int r = waitpid(target, status, flags | WNOHANG);
      if (r > 0 && regs && WIFSTOPPED(*status)) ptrace(PTRACE_GETREGS, r, 0, regs);
      return r < 0 ? (errno == EINTR ? 0 : -errno) : r;
    }
    int64_t until = now + (int64_t)timeout_us * 1000;
    if (armed_until == 0 || armed_until > until) {
      arm(timeout_us);
      armed_until = until;
    }
  }
  int r, err;
  for (;;) {
    r = waitpid(target, status, flags);
    err = errno;
    if (r >= 0 || err != EINTR) break;
    int stale = timer_fired && !wake_external;
    timer_fired = 0;
    wake_external = 0;
    armed_until = 0;
    /* An unbounded wait outlives a bound left armed by an earlier one. */
    if (!(stale && timeout_us < 0)) return 0;
  }
  if (r < 0) return -err;
  if (r > 0 && regs && WIFSTOPPED(*status)) ptrace(PTRACE_GETREGS, r, 0, regs);
  return r;
}

/* wait(target, timeoutUs, regs|null, info Int32Array) -> tid | 0 | -errno;
 * info[0] = wait status. */
static napi_value Wait(napi_env env, napi_callback_info info) {
  ARGS(4);
  size_t n, in;
  void *regs = arg_buf(env, argv[2], &n);
  int32_t *out = arg_buf(env, argv[3], &in);
  if (n < sizeof(struct user_regs_struct)) regs = NULL;
  int status = 0;
  int r = do_wait(arg_i32(env, argv[0]), arg_i32(env, argv[1]), &status, regs);
  if (out && in >= 4) out[0] = status;
  return num(env, r);
}

/* resumeAndWait(tid, request, sig, setMode, regsIn, target, timeoutUs, regsOut, info)
 * is the hot path, one crossing per guest syscall: optionally write rax
 * (setMode 1, POKEUSER) or all registers (setMode 2, SETREGS) from regsIn,
 * resume tid with request (PTRACE_SYSEMU...) and sig, then wait as wait() does. */
static napi_value ResumeAndWait(napi_env env, napi_callback_info info) {
  ARGS(9);
  int tid = arg_i32(env, argv[0]);
  int req = arg_i32(env, argv[1]);
  int sig = arg_i32(env, argv[2]);
  int mode = arg_i32(env, argv[3]);
  size_t n, on, in;
  uint64_t *rin = arg_buf(env, argv[4], &n);
  void *rout = arg_buf(env, argv[7], &on);
  int32_t *out = arg_buf(env, argv[8], &in);
  if (mode && n < sizeof(struct user_regs_struct)) return num(env, -EINVAL);
  if (on < sizeof(struct user_regs_struct)) rout = NULL;
  if (mode == 1 && ptrace(PTRACE_POKEUSER, tid, (void *)offsetof(struct user_regs_struct, rax),
                          (void *)rin[offsetof(struct user_regs_struct, rax) / 8]) < 0)
    return num(env, -errno);
  if (mode == 2 && ptrace(PTRACE_SETREGS, tid, 0, rin) < 0) return num(env, -errno);
  if (ptrace((enum __ptrace_request)req, tid, 0, (void *)(intptr_t)sig) < 0) return num(env, -errno);
  int status = 0;
  int r = do_wait(arg_i32(env, argv[5]), arg_i32(env, argv[6]), &status, rout);
  if (out && in >= 4) out[0] = status;
  return num(env, r);
}

/* inject(tid, gadget, nr, args Float64Array(6), info Int32Array) -> result.
 * Runs one system call in the stopped thread tid on the Sentry's behalf: saves
 * the registers, points rip at the stub's "syscall; int3" gadget, continues
 * until the int3, reads rax and restores the registers. Fork/clone events met
 * on the way are continued; info[1] receives their event message (the new
 * host pid), which then waits in its initial stop. The result is rax, or
 * -ESRCH (in info[0] = 1) if the thread died. */
static napi_value Inject(napi_env env, napi_callback_info info) {
  ARGS(5);
  int tid = arg_i32(env, argv[0]);
  uint64_t gadget = (uint64_t)arg_i64(env, argv[1]);
  size_t an, in;
  double *a = arg_buf(env, argv[3], &an);
  int32_t *out = arg_buf(env, argv[4], &in);
  if (an < 48 || in < 8) return num(env, -EINVAL);
  out[0] = 0;
  out[1] = 0;
  struct user_regs_struct saved, r;
  if (ptrace(PTRACE_GETREGS, tid, 0, &saved) < 0) { out[0] = 1; return num(env, -errno); }
  r = saved;
  r.rip = gadget;
  r.rax = (uint64_t)arg_i64(env, argv[2]);
  r.orig_rax = (uint64_t)-1;
  r.rdi = (uint64_t)(int64_t)a[0];
  r.rsi = (uint64_t)(int64_t)a[1];
  r.rdx = (uint64_t)(int64_t)a[2];
  r.r10 = (uint64_t)(int64_t)a[3];
  r.r8 = (uint64_t)(int64_t)a[4];
  r.r9 = (uint64_t)(int64_t)a[5];
  if (ptrace(PTRACE_SETREGS, tid, 0, &r) < 0) { out[0] = 1; return num(env, -errno); }
  for (;;) {
    if (ptrace(PTRACE_CONT, tid, 0, 0) < 0) { out[0] = 1; return num(env, -errno); }
    int status;
    int w;
    do w = waitpid(tid, &status, __WALL);
    while (w < 0 && errno == EINTR); /* the wait timer may be left armed (do_wait) */
    if (w < 0) { out[0] = 1; return num(env, -errno); }
    if (!WIFSTOPPED(status)) { out[0] = 1; return num(env, -ESRCH); }
    int event = status >> 16;
    if (event != 0) {
      unsigned long msg = 0;
      ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
      out[1] = (int32_t)msg;
      continue;
    }
    if (WSTOPSIG(status) != SIGTRAP) continue; /* a stray host signal: suppress */
    if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0) { out[0] = 1; return num(env, -errno); }
    if (r.rip != gadget + 3) continue;
    break;
  }
  if (ptrace(PTRACE_SETREGS, tid, 0, &saved) < 0) { out[0] = 1; return num(env, -errno); }
  return num(env, (double)(int64_t)r.rax);
}

/* pokeData(pid, addr, buf, off, len) -> bytes | -errno: writes through
 * PTRACE_PEEKDATA/POKEDATA, which ignore page protections (the loader writes
 * into read-only segments) without opening /proc/pid/mem. pid is stopped. */
static napi_value PokeData(napi_env env, napi_callback_info info) {
  ARGS(5);
  size_t n;
  uint8_t *b = arg_buf(env, argv[2], &n);
  int pid = arg_i32(env, argv[0]);
  uint64_t addr = (uint64_t)arg_i64(env, argv[1]);
  int64_t off = arg_i64(env, argv[3]), len = arg_i64(env, argv[4]);
  if (off < 0 || len < 0 || (size_t)(off + len) > n) return num(env, -EINVAL);
  int64_t done = 0;
  while (done < len) {
    uint64_t a = addr + (uint64_t)done, base = a & ~7ULL;
    unsigned skip = (unsigned)(a - base);
    unsigned take = 8 - skip;
    if ((int64_t)take > len - done) take = (unsigned)(len - done);
    long word = 0;
    if (skip || take < 8) {
      errno = 0;
      word = ptrace(PTRACE_PEEKDATA, pid, (void *)base, 0);
      if (errno) break;
    }
    memcpy((uint8_t *)&word + skip, b + off + done, take);
    if (ptrace(PTRACE_POKEDATA, pid, (void *)base, (void *)word) < 0) break;
    done += take;
  }
  if (done == 0 && len > 0) return num(env, -(errno ? errno : EFAULT));
  return num(env, (double)done);
}

/* tgkill(tgid, tid, sig) -> 0 | -errno. */
static napi_value Tgkill(napi_env env, napi_callback_info info) {
  ARGS(3);
  return RET_ERRNO(syscall(SYS_tgkill, arg_i32(env, argv[0]), arg_i32(env, argv[1]), arg_i32(env, argv[2])));
}

/* setAffinity(tid, cpu) -> 0 | -errno: lets a stub thread run on cpu only,
 * or (cpu < 0) on every CPU the Sentry itself was allowed at its first call. */
static cpu_set_t all_cpus;
static int all_cpus_known;
static napi_value SetAffinity(napi_env env, napi_callback_info info) {
  ARGS(2);
  if (!all_cpus_known) {
    if (sched_getaffinity(0, sizeof all_cpus, &all_cpus) < 0) return num(env, -errno);
    all_cpus_known = 1;
  }
  int cpu = arg_i32(env, argv[1]);
  cpu_set_t set;
  if (cpu >= 0) {
    if (cpu >= CPU_SETSIZE) return num(env, -EINVAL);
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
  } else {
    set = all_cpus;
  }
  return RET_ERRNO(sched_setaffinity(arg_i32(env, argv[0]), sizeof set, &set));
}

/* getCpu() -> the CPU the calling thread runs on | -errno. */
static napi_value GetCpu(napi_env env, napi_callback_info info) {
  (void)info;
  return RET_ERRNO(sched_getcpu());
}

void register_ptrace(napi_env env, napi_value exports) {
  export_fn(env, exports, "spawnStub", SpawnStub);
  export_fn(env, exports, "setAffinity", SetAffinity);
  export_fn(env, exports, "getCpu", GetCpu);
  export_fn(env, exports, "ptrace", Ptrace);
  export_fn(env, exports, "getRegs", GetRegs);
  export_fn(env, exports, "setRegs", SetRegs);
  export_fn(env, exports, "getRegset", GetRegset);
  export_fn(env, exports, "setRegset", SetRegset);
  export_fn(env, exports, "getEventMsg", GetEventMsg);
  export_fn(env, exports, "getSiginfo", GetSiginfo);
  export_fn(env, exports, "initWaitTimeout", InitWaitTimeout);
  export_fn(env, exports, "wait", Wait);
  export_fn(env, exports, "resumeAndWait", ResumeAndWait);
  export_fn(env, exports, "inject", Inject);
  export_fn(env, exports, "tgkill", Tgkill);
  export_fn(env, exports, "pokeData", PokeData);
}
