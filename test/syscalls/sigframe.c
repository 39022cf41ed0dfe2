/* sigframe.c: signal handler invocation: siginfo and ucontext contents,
 * the mask during a handler, SA_RESETHAND, SA_NODEFER, sigaltstack with
 * SA_ONSTACK (and SS_AUTODISARM), FP state across a handler, changes a
 * handler makes to its ucontext, real-time queueing, busy threads. */
#include "test.h"
#include <sched.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <ucontext.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static volatile sig_atomic_t hits, depth, max_depth, nested_seen;
static volatile int si_signo_seen, si_code_seen, si_pid_seen, si_uid_seen, si_int_seen;
static volatile long rip_seen, rsp_seen, uc_mask_usr2;
static volatile int mask_in_handler_has_self, mask_in_handler_has_extra;

static void set_action(int sig, void (*fn)(int, siginfo_t *, void *), int flags, int extra) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = flags | SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (extra) sigaddset(&sa.sa_mask, extra);
  sigaction(sig, &sa, NULL);
}

static void on_info(int s, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  sigset_t cur;
  hits++;
  si_signo_seen = si->si_signo;
  si_code_seen = si->si_code;
  si_pid_seen = si->si_pid;
  si_uid_seen = si->si_uid;
  si_int_seen = si->si_value.sival_int;
  rip_seen = uc->uc_mcontext.gregs[REG_RIP];
  rsp_seen = uc->uc_mcontext.gregs[REG_RSP];
  uc_mask_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2);
  sigprocmask(SIG_SETMASK, NULL, &cur);
  mask_in_handler_has_self = sigismember(&cur, s);
  mask_in_handler_has_extra = sigismember(&cur, SIGUSR2);
}

static void on_nest(int s, siginfo_t *si, void *uc) {
  (void)si; (void)uc;
  hits++;
  depth++;
  if (depth > max_depth) max_depth = depth;
  if (hits == 1) raise(s); /* NODEFER: runs nested at once; else after we return */
  if (depth == 2) nested_seen = 1;
  depth--;
}

static void on_plain(int s, siginfo_t *si, void *uc) {
  (void)s; (void)si; (void)uc;
  hits++;
}

/* The handler blocks SIGUSR2 for after it returns, through uc_sigmask. */
static void on_edit_mask(int s, siginfo_t *si, void *ucv) {
  (void)s; (void)si;
  ucontext_t *uc = ucv;
  sigaddset(&uc->uc_sigmask, SIGUSR2);
  hits++;
}

static char *alt_base;
static size_t alt_size;
static volatile int on_alt, ss_flags_in_handler;
static void on_alt_handler(int s, siginfo_t *si, void *uc) {
  (void)s; (void)si; (void)uc;
  char here;
  on_alt = &here >= alt_base && &here < alt_base + alt_size;
  stack_t cur;
  sigaltstack(NULL, &cur);
  ss_flags_in_handler = cur.ss_flags;
  hits++;
}

static volatile double fp_in_handler;
static void on_fp(int s, siginfo_t *si, void *uc) {
  (void)s; (void)si; (void)uc;
  volatile double a = 1.25, b = 3.5;
  double acc = 0;
  for (int i = 0; i < 100; i++) acc = acc * 0.5 + a * b;
  fp_in_handler = acc;
  hits++;
}

static volatile unsigned mxcsr_in_handler, mxcsr_after;
/* Clobbers xmm7 and MXCSR (round down), recording the MXCSR it started with. */
static void on_clobber(int s, siginfo_t *si, void *uc) {
  (void)s; (void)si; (void)uc;
  unsigned m, down = 0x1f80 | 0x2000;
  __asm__ volatile("stmxcsr %0" : "=m"(m));
  mxcsr_in_handler = m;
  __asm__ volatile("xorpd %%xmm7, %%xmm7\n\tldmxcsr %0" : : "m"(down) : "xmm7");
}

/* Puts v in xmm7 and MXCSR in round-up mode, signals itself with SIGUSR1
 * (a raw tgkill, so nothing between touches the registers), reads xmm7 back. */
static double xmm_roundtrip(double v) {
  double out;
  unsigned up = 0x1f80 | 0x4000, saved, after;
  long pid = getpid(), tid = gettid();
  __asm__ volatile("stmxcsr %0" : "=m"(saved));
  __asm__ volatile(
      "ldmxcsr %[up]\n\t"
      "movsd %[v], %%xmm7\n\t"
      "mov $234, %%eax\n\t"
      "syscall\n\t"
      "movsd %%xmm7, %[out]\n\t"
      "stmxcsr %[after]\n\t"
      : [out] "=m"(out), [after] "=m"(after)
      : [v] "m"(v), [up] "m"(up), "D"(pid), "S"(tid), "d"((long)SIGUSR1)
      : "rax", "rcx", "r11", "xmm7", "memory");
  __asm__ volatile("ldmxcsr %0" : : "m"(saved));
  mxcsr_after = after;
  return out;
}

static volatile int rt_order[8], rt_n;
static void on_rt(int s, siginfo_t *si, void *uc) {
  (void)uc;
  if (rt_n < 8) rt_order[rt_n++] = (s - SIGRTMIN) * 100 + si->si_value.sival_int;
}

static int busy_child(void *arg) {
  (void)arg;
  /* Spin in user code until the handler sets the flag: the signal must
   * reach a thread that makes no system call. */
  set_action(SIGUSR1, on_plain, 0, 0);
  kill(getppid(), SIGUSR2);
  while (!hits) {
  }
  return 5;
}

static volatile sig_atomic_t parent_ready;
static void on_ready(int s) { (void)s; parent_ready = 1; }

int main(void) {
  /* SA_SIGINFO: siginfo of kill(), and a plausible ucontext. */
  set_action(SIGUSR1, on_info, 0, SIGUSR2);
  EXPECT_OK("kill.self", kill(getpid(), SIGUSR1));
  EXPECT_EQ("info.hits", hits, 1);
  EXPECT_EQ("info.signo", si_signo_seen, SIGUSR1);
  EXPECT_EQ("info.code", si_code_seen, SI_USER);
  EXPECT_EQ("info.pid", si_pid_seen, getpid());
  EXPECT_EQ("info.uid", si_uid_seen, getuid());
  CHECK("uc.rip_in_libc_or_text", rip_seen > 0x1000);
  char probe;
  CHECK("uc.rsp_near_stack", (char *)rsp_seen < &probe + 65536 && (char *)rsp_seen > &probe - 65536);
  EXPECT_EQ("uc.sigmask_is_old_mask", uc_mask_usr2, 0);
  EXPECT_EQ("handler.mask_has_self", mask_in_handler_has_self, 1);
  EXPECT_EQ("handler.mask_has_sa_mask", mask_in_handler_has_extra, 1);
  sigset_t cur;
  sigprocmask(SIG_SETMASK, NULL, &cur);
  CHECK("mask.restored_after", !sigismember(&cur, SIGUSR1) && !sigismember(&cur, SIGUSR2));

  /* tgkill reports SI_TKILL; sigqueue SI_QUEUE with the value. */
  syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
  EXPECT_EQ("tgkill.code", si_code_seen, SI_TKILL);
  union sigval sv = {.sival_int = 42};
  sigqueue(getpid(), SIGUSR1, sv);
  EXPECT_EQ("sigqueue.code", si_code_seen, SI_QUEUE);
  EXPECT_EQ("sigqueue.value", si_int_seen, 42);

  /* rt_sigqueueinfo may not forge SI_USER for another process. */
  siginfo_t forged;
  memset(&forged, 0, sizeof forged);
  forged.si_code = SI_USER;
  EXPECT_OK("sigqueueinfo.self_si_user", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &forged));
  EXPECT_ERRNO("sigqueueinfo.other_si_user", syscall(SYS_rt_sigqueueinfo, getppid(), SIGUSR1, &forged), EPERM);

  /* Without SA_NODEFER a signal raised in its own handler waits; with it, nests. */
  hits = 0;
  max_depth = 0;
  nested_seen = 0;
  set_action(SIGUSR2, on_nest, 0, 0);
  raise(SIGUSR2);
  EXPECT_EQ("defer.hits", hits, 2);
  EXPECT_EQ("defer.max_depth", max_depth, 1);
  hits = 0;
  max_depth = 0;
  set_action(SIGUSR2, on_nest, SA_NODEFER, 0);
  raise(SIGUSR2);
  EXPECT_EQ("nodefer.hits", hits, 2);
  EXPECT_EQ("nodefer.max_depth", max_depth, 2);
  EXPECT_EQ("nodefer.nested", nested_seen, 1);

  /* SA_RESETHAND: the handler runs once, then the default action applies. */
  hits = 0;
  set_action(SIGWINCH, on_plain, SA_RESETHAND, 0);
  raise(SIGWINCH);
  struct sigaction now;
  sigaction(SIGWINCH, NULL, &now);
  EXPECT_EQ("resethand.ran", hits, 1);
  CHECK("resethand.reset_to_default", now.sa_handler == SIG_DFL);
  raise(SIGWINCH); /* default: ignored */
  EXPECT_EQ("resethand.second_ignored", hits, 1);

  /* A handler's change to uc_sigmask takes effect at sigreturn. */
  hits = 0;
  set_action(SIGUSR1, on_edit_mask, 0, 0);
  raise(SIGUSR1);
  sigprocmask(SIG_SETMASK, NULL, &cur);
  CHECK("uc_sigmask.edit_applies", hits == 1 && sigismember(&cur, SIGUSR2));
  sigdelset(&cur, SIGUSR2);
  sigprocmask(SIG_SETMASK, &cur, NULL);

  /* sigaltstack + SA_ONSTACK: the handler runs on the alternate stack. */
  alt_size = 64 * 1024;
  alt_base = malloc(alt_size);
  stack_t ss = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0};
  EXPECT_OK("sigaltstack.set", sigaltstack(&ss, NULL));
  hits = 0;
  set_action(SIGUSR1, on_alt_handler, SA_ONSTACK, 0);
  raise(SIGUSR1);
  EXPECT_EQ("altstack.ran", hits, 1);
  EXPECT_EQ("altstack.on_alt", on_alt, 1);
  EXPECT_EQ("altstack.reports_onstack", ss_flags_in_handler, SS_ONSTACK);
  set_action(SIGUSR1, on_alt_handler, 0, 0);
  raise(SIGUSR1);
  EXPECT_EQ("altstack.not_without_flag", on_alt, 0);
  /* SS_AUTODISARM: disabled while the handler runs, back afterwards. */
  ss.ss_flags = SS_AUTODISARM;
  EXPECT_OK("sigaltstack.autodisarm", sigaltstack(&ss, NULL));
  set_action(SIGUSR1, on_alt_handler, SA_ONSTACK, 0);
  raise(SIGUSR1);
  EXPECT_EQ("autodisarm.on_alt", on_alt, 1);
  EXPECT_EQ("autodisarm.disabled_inside", ss_flags_in_handler, SS_DISABLE);
  stack_t after;
  sigaltstack(NULL, &after);
  EXPECT_EQ("autodisarm.restored", (unsigned)after.ss_flags, SS_AUTODISARM);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);

  /* A timer's signals interrupt a computation that makes no system call. */
  set_action(SIGALRM, on_fp, 0, 0);
  struct itimerval it = {{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &it, NULL);
  hits = 0;
  volatile double y = 1.0;
  for (long i = 0; i < 2000000000L && hits < 3; i++) y = y * 1.0000001 + 0.5;
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  signal(SIGALRM, SIG_IGN);
  EXPECT_EQ("timer.interrupts_busy_loop", hits, 3);
  CHECK("fp.handler_result", fp_in_handler > 8.74 && fp_in_handler < 8.76);

  /* FP/SSE registers and MXCSR survive a handler that changes them, and the
   * handler starts with a fresh FPU (default rounding). */
  set_action(SIGUSR1, on_clobber, 0, 0);
  double back = xmm_roundtrip(2.5);
  EXPECT_EQ("fp.xmm7_preserved", back == 2.5, 1);
  EXPECT_EQ("fp.mxcsr_preserved", mxcsr_after, 0x1f80 | 0x4000);
  EXPECT_EQ("fp.handler_fresh_mxcsr", mxcsr_in_handler, 0x1f80);

  /* Real-time signals queue, in order, with their values; lowest first. */
  sigset_t rt;
  sigemptyset(&rt);
  sigaddset(&rt, SIGRTMIN);
  sigaddset(&rt, SIGRTMIN + 1);
  sigprocmask(SIG_BLOCK, &rt, NULL);
  /* Each handler blocks the other: they run one after the other. */
  set_action(SIGRTMIN, on_rt, 0, SIGRTMIN + 1);
  set_action(SIGRTMIN + 1, on_rt, 0, SIGRTMIN);
  for (int i = 1; i <= 3; i++) {
    sv.sival_int = i;
    sigqueue(getpid(), SIGRTMIN + 1, sv);
    sigqueue(getpid(), SIGRTMIN, sv);
  }
  sigprocmask(SIG_UNBLOCK, &rt, NULL);
  EXPECT_EQ("rt.count", rt_n, 6);
  EXPECT_EQ("rt.order0", rt_order[0], 1);
  EXPECT_EQ("rt.order2", rt_order[2], 3);
  EXPECT_EQ("rt.order3", rt_order[3], 101);
  EXPECT_EQ("rt.order5", rt_order[5], 103);

  /* A signal reaches a child spinning in user code. */
  signal(SIGUSR2, on_ready);
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) _exit(busy_child(NULL));
  while (!parent_ready) usleep(1000);
  usleep(20000);
  kill(c, SIGUSR1);
  int st;
  waitpid(c, &st, 0);
  EXPECT_EXIT("busy.handler_ran", st, 5);

  /* And a default-fatal one kills it. */
  parent_ready = 0;
  c = fork();
  if (c == 0) {
    kill(getppid(), SIGUSR2);
    for (;;) {
    }
  }
  while (!parent_ready) usleep(1000);
  kill(c, SIGTERM);
  waitpid(c, &st, 0);
  EXPECT_KILLED("busy.killed", st, SIGTERM);

  TEST_DONE();
}
