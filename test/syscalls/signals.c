/* signals.c: handlers, masks, pending signals, SIG_IGN, alarm, EINTR,
 * SA_RESTART, sigsuspend, SIGCHLD, siginfo contents. */
#include "test.h"
#include <sys/time.h>

static volatile sig_atomic_t got_usr1, got_alrm, got_chld, info_pid, info_code;

static void on_usr1(int s) { (void)s; got_usr1++; }
static void on_alrm(int s) { (void)s; got_alrm++; }
static void on_chld(int s) { (void)s; got_chld++; }
static void on_info(int s, siginfo_t *si, void *uc) {
  (void)s; (void)uc;
  info_pid = si->si_pid;
  info_code = si->si_code;
}

static void set_handler(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

static int ignored_sigterm(void *arg) {
  (void)arg;
  signal(SIGTERM, SIG_IGN);
  kill(getpid(), SIGTERM);
  return 7;
}

static int exec_keeps_ignore(void *arg) {
  (void)arg;
  signal(SIGTERM, SIG_IGN);
  /* Ignored dispositions survive execve; caught ones reset to default. */
  execl("/bin/sh", "sh", "-c", "kill -TERM $$; exit 8", (char *)NULL);
  return 99;
}

int main(void) {
  /* A handler runs for a signal sent to ourselves. */
  set_handler(SIGUSR1, on_usr1, 0);
  EXPECT_OK("kill.self", kill(getpid(), SIGUSR1));
  EXPECT_EQ("handler.ran", got_usr1, 1);
  EXPECT_OK("raise", raise(SIGUSR1));
  EXPECT_EQ("handler.ran_again", got_usr1, 2);

  /* Old action is reported back. */
  struct sigaction old;
  sigaction(SIGUSR1, NULL, &old);
  CHECK("sigaction.query", old.sa_handler == on_usr1);

  /* Blocked signals stay pending until unblocked. */
  sigset_t set, oldset, pend;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  EXPECT_OK("sigprocmask.block", sigprocmask(SIG_BLOCK, &set, &oldset));
  kill(getpid(), SIGUSR1);
  EXPECT_EQ("blocked.not_delivered", got_usr1, 2);
  sigpending(&pend);
  CHECK("sigpending", sigismember(&pend, SIGUSR1));
  kill(getpid(), SIGUSR1);
  EXPECT_OK("sigprocmask.unblock", sigprocmask(SIG_SETMASK, &oldset, NULL));
  EXPECT_EQ("unblocked.delivered_once", got_usr1, 3);
  sigprocmask(SIG_SETMASK, NULL, &set);
  CHECK("sigprocmask.query", !sigismember(&set, SIGUSR1));
  sigemptyset(&set);
  sigaddset(&set, SIGKILL);
  sigaddset(&set, SIGSTOP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  sigprocmask(SIG_SETMASK, NULL, &set);
  CHECK("sigprocmask.cannot_block_kill_stop", !sigismember(&set, SIGKILL) && !sigismember(&set, SIGSTOP));
  EXPECT_ERRNO("sigprocmask.bad_how", sigprocmask(42, &set, NULL), EINVAL);

  /* SIG_IGN */
  EXPECT_EXIT("sig_ign.sigterm", t_in_child(ignored_sigterm, NULL), 7);
  EXPECT_EXIT("sig_ign.survives_exec", t_in_child(exec_keeps_ignore, NULL), 8);

  /* siginfo for kill() */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_info;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR2, &sa, NULL);
  kill(getpid(), SIGUSR2);
  EXPECT_EQ("siginfo.pid", info_pid, getpid());
  EXPECT_EQ("siginfo.code", info_code, SI_USER);
  union sigval sv = {.sival_int = 5};
  sigqueue(getpid(), SIGUSR2, sv);
  EXPECT_EQ("sigqueue.code", info_code, SI_QUEUE);

  /* alarm interrupts a blocking read with EINTR when SA_RESTART is off. */
  int p[2];
  pipe(p);
  set_handler(SIGALRM, on_alrm, 0);
  struct itimerval it = {{0, 0}, {0, 100000}};
  setitimer(ITIMER_REAL, &it, NULL);
  char c;
  EXPECT_ERRNO("read.eintr", read(p[0], &c, 1), EINTR);
  EXPECT_EQ("alarm.handler", got_alrm, 1);
  /* With SA_RESTART the read resumes and gets the data written later. */
  set_handler(SIGALRM, on_alrm, SA_RESTART);
  fflush(stdout);
  pid_t w = fork();
  if (w == 0) {
    usleep(300000);
    write(p[1], "r", 1);
    _exit(0);
  }
  setitimer(ITIMER_REAL, &it, NULL);
  EXPECT_EQ("read.sa_restart", read(p[0], &c, 1), 1);
  EXPECT_EQ("alarm.handler_restart", got_alrm, 2);
  waitpid(w, NULL, 0);
  EXPECT_EQ("alarm.cancel_returns_0", alarm(0), 0);
  alarm(100);
  EXPECT_EQ("alarm.remaining", alarm(0), 100);

  /* sigsuspend waits for a blocked signal. */
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, &oldset);
  pid_t parent = getpid();
  fflush(stdout);
  pid_t k = fork();
  if (k == 0) {
    usleep(100000);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  int before = got_usr1;
  sigset_t waitmask;
  sigemptyset(&waitmask);
  EXPECT_ERRNO("sigsuspend", sigsuspend(&waitmask), EINTR);
  EXPECT_EQ("sigsuspend.handler", got_usr1, before + 1);
  sigprocmask(SIG_SETMASK, &oldset, NULL);
  waitpid(k, NULL, 0);

  /* SIGCHLD arrives when a child exits. */
  set_handler(SIGCHLD, on_chld, SA_RESTART);
  fflush(stdout);
  k = fork();
  if (k == 0) _exit(0);
  int st;
  waitpid(k, &st, 0);
  EXPECT_EQ("sigchld.delivered", got_chld, 1);

  /* sigtimedwait takes a pending blocked signal synchronously. */
  sigprocmask(SIG_BLOCK, &set, &oldset);
  kill(getpid(), SIGUSR1);
  siginfo_t si;
  struct timespec ts = {1, 0};
  EXPECT_EQ("sigtimedwait", sigtimedwait(&set, &si, &ts), SIGUSR1);
  ts.tv_sec = 0;
  ts.tv_nsec = 10000000;
  EXPECT_ERRNO("sigtimedwait.timeout", sigtimedwait(&set, &si, &ts), EAGAIN);
  sigprocmask(SIG_SETMASK, &oldset, NULL);

  /* Default action of SIGCONT/SIGWINCH is to ignore. */
  signal(SIGWINCH, SIG_DFL);
  EXPECT_OK("sigwinch.default_ignored", kill(getpid(), SIGWINCH));

  TEST_DONE();
}
