/* sigfault.c: hardware faults as signals: SIGSEGV (si_addr, si_code,
 * sigcontext trapno/cr2), recovery with siglongjmp, a handler that fixes
 * the fault and returns, SIGFPE, SIGILL, SIGTRAP, and faults that kill
 * because the signal is blocked or ignored, or the handler cannot run. */
#include "test.h"
#include <setjmp.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static volatile long got_addr, got_trapno, got_cr2, got_err, got_rip;

static void record(int s, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  got_sig = s;
  got_code = si->si_code;
  got_addr = (long)si->si_addr;
  got_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
  got_cr2 = uc->uc_mcontext.gregs[REG_CR2];
  got_err = uc->uc_mcontext.gregs[REG_ERR];
  got_rip = uc->uc_mcontext.gregs[REG_RIP];
}

static void on_fault_jump(int s, siginfo_t *si, void *uc) {
  record(s, si, uc);
  siglongjmp(jb, 1);
}

static char *fix_page;
static void on_fault_fix(int s, siginfo_t *si, void *uc) {
  record(s, si, uc);
  mprotect(fix_page, 4096, PROT_READ | PROT_WRITE);
}

static void set_action(int sig, void (*fn)(int, siginfo_t *, void *), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = flags | SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

static int segv_blocked(void *arg) {
  (void)arg;
  set_action(SIGSEGV, on_fault_jump, 0);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGSEGV);
  sigprocmask(SIG_BLOCK, &s, NULL);
  *(volatile int *)16 = 1;
  return 0;
}

static int segv_ignored(void *arg) {
  (void)arg;
  signal(SIGSEGV, SIG_IGN);
  *(volatile int *)16 = 1;
  return 0;
}

static int segv_default(void *arg) {
  (void)arg;
  signal(SIGSEGV, SIG_DFL);
  *(volatile int *)16 = 1;
  return 0;
}

/* The SIGSEGV handler's frame cannot be written (the stack is unmapped). */
static int segv_no_stack(void *arg) {
  (void)arg;
  set_action(SIGSEGV, on_fault_jump, 0);
  __asm__ volatile("xor %%esp, %%esp\n\tpush %%rax" ::: "memory");
  return 0;
}

static void fault_again(int s, siginfo_t *si, void *uc) {
  (void)s; (void)si; (void)uc;
  *(volatile int *)16 = 1;
}

static int segv_in_handler(void *arg) {
  (void)arg;
  /* The fault recurs in its own handler, where SIGSEGV is blocked: fatal. */
  set_action(SIGSEGV, fault_again, 0);
  *(volatile int *)16 = 1;
  return 0;
}

static int abort_child(void *arg) {
  (void)arg;
  abort();
}

int main(void) {
  /* SIGSEGV on an unmapped address: si_addr, SEGV_MAPERR, page-fault trap. */
  set_action(SIGSEGV, on_fault_jump, 0);
  volatile int *bad = (volatile int *)0x1008;
  if (sigsetjmp(jb, 1) == 0) {
    (void)*bad;
    CHECK("segv.not_reached", 0);
  }
  EXPECT_EQ("segv.sig", got_sig, SIGSEGV);
  EXPECT_EQ("segv.code_maperr", got_code, SEGV_MAPERR);
  EXPECT_EQ("segv.addr", got_addr, 0x1008);
  EXPECT_EQ("segv.trapno", got_trapno, 14);
  EXPECT_EQ("segv.cr2", got_cr2, 0x1008);
  EXPECT_EQ("segv.err_user_read_notpresent", got_err, 4);
  /* siglongjmp restored the mask: SIGSEGV is not blocked any more. */
  sigset_t cur;
  sigprocmask(SIG_SETMASK, NULL, &cur);
  CHECK("siglongjmp.mask_restored", !sigismember(&cur, SIGSEGV));

  /* Writing a read-only page: SEGV_ACCERR. */
  char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  got_sig = 0;
  if (sigsetjmp(jb, 1) == 0) {
    ro[5] = 1;
    CHECK("accerr.not_reached", 0);
  }
  EXPECT_EQ("accerr.sig", got_sig, SIGSEGV);
  EXPECT_EQ("accerr.code", got_code, SEGV_ACCERR);
  CHECK("accerr.addr", got_addr == (long)(ro + 5));

  /* A handler that fixes the cause and returns: the access is retried. */
  fix_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  set_action(SIGSEGV, on_fault_fix, 0);
  got_sig = 0;
  fix_page[100] = 7;
  EXPECT_EQ("fix.handler_ran", got_sig, SIGSEGV);
  EXPECT_EQ("fix.write_retried", fix_page[100], 7);

  /* Integer division by zero: SIGFPE, FPE_INTDIV, trap 0; si_addr is the instruction. */
  set_action(SIGFPE, on_fault_jump, 0);
  volatile int zero = 0, num = 10;
  got_sig = 0;
  if (sigsetjmp(jb, 1) == 0) {
    num = num / zero;
    CHECK("fpe.not_reached", 0);
  }
  EXPECT_EQ("fpe.sig", got_sig, SIGFPE);
  EXPECT_EQ("fpe.code", got_code, FPE_INTDIV);
  EXPECT_EQ("fpe.trapno", got_trapno, 0);
  CHECK("fpe.addr_is_rip", got_addr == got_rip);

  /* ud2: SIGILL, ILL_ILLOPN, trap 6. */
  set_action(SIGILL, on_fault_jump, 0);
  got_sig = 0;
  if (sigsetjmp(jb, 1) == 0) {
    __asm__ volatile("ud2");
    CHECK("ill.not_reached", 0);
  }
  EXPECT_EQ("ill.sig", got_sig, SIGILL);
  EXPECT_EQ("ill.code", got_code, ILL_ILLOPN);
  EXPECT_EQ("ill.trapno", got_trapno, 6);
  CHECK("ill.addr_is_rip", got_addr == got_rip);

  /* int3: SIGTRAP (SI_KERNEL), trap 3; the handler may return past it. */
  set_action(SIGTRAP, record, 0);
  got_sig = 0;
  __asm__ volatile("int3");
  EXPECT_EQ("trap.sig", got_sig, SIGTRAP);
  EXPECT_EQ("trap.code", got_code, SI_KERNEL);
  EXPECT_EQ("trap.trapno", got_trapno, 3);

  /* Faults that cannot be handled kill the process. */
  EXPECT_KILLED("fatal.segv_default", t_in_child(segv_default, NULL), SIGSEGV);
  EXPECT_KILLED("fatal.segv_blocked", t_in_child(segv_blocked, NULL), SIGSEGV);
  EXPECT_KILLED("fatal.segv_ignored", t_in_child(segv_ignored, NULL), SIGSEGV);
  EXPECT_KILLED("fatal.segv_no_stack", t_in_child(segv_no_stack, NULL), SIGSEGV);
  EXPECT_KILLED("fatal.segv_in_handler", t_in_child(segv_in_handler, NULL), SIGSEGV);
  EXPECT_KILLED("fatal.abort", t_in_child(abort_child, NULL), SIGABRT);

  TEST_DONE();
}
