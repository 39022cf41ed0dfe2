/* sigjobctl.c: job control and child signals: SIGSTOP/SIGCONT observed by
 * waitpid(WUNTRACED|WCONTINUED) and waitid, SIGCHLD with CLD_* codes and
 * SA_NOCLDSTOP, kill(0) to the process group, a blocked read that restarts
 * after stop/continue, sigsuspend, sigtimedwait, pause, signalfd, pidfds. */
#include "test.h"
#include <poll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <time.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static volatile sig_atomic_t chld_count, last_chld_code, last_chld_status, usr1_count;
static void on_chld(int s, siginfo_t *si, void *uc) {
  (void)s; (void)uc;
  chld_count++;
  last_chld_code = si->si_code;
  last_chld_status = si->si_status;
}
static void on_usr1(int s) { (void)s; usr1_count++; }

static void set_chld(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_chld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | flags;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCHLD, &sa, NULL);
}

/* Waits (up to ~2 s) until cond holds; for states reached asynchronously. */
#define WAIT_UNTIL(cond)                                  \
  do {                                                    \
    for (int w_ = 0; w_ < 2000 && !(cond); w_++) usleep(1000); \
  } while (0)

/* A child in a process group of its own: its parent (us) is in another group
 * of the same session, so terminal stop signals stop it whatever our own
 * group is (an orphaned group ignores them). */
static pid_t spawn_sleeper(void) {
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    setpgid(0, 0);
    for (;;) pause();
  }
  setpgid(c, c);
  return c;
}

int main(void) {
  int st;
  set_chld(0);

  /* SIGSTOP / SIGCONT seen by waitpid. */
  pid_t c = spawn_sleeper();
  EXPECT_OK("stop.kill", kill(c, SIGSTOP));
  EXPECT_EQ("stop.waitpid", waitpid(c, &st, WUNTRACED), c);
  CHECK("stop.wifstopped", WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
  EXPECT_EQ("stop.status_raw", st, (SIGSTOP << 8) | 0x7f);
  WAIT_UNTIL(chld_count >= 1);
  EXPECT_EQ("stop.sigchld_code", last_chld_code, CLD_STOPPED);
  EXPECT_EQ("stop.sigchld_status", last_chld_status, SIGSTOP);
  /* Reported once. */
  EXPECT_EQ("stop.reported_once", waitpid(c, &st, WUNTRACED | WNOHANG), 0);
  EXPECT_OK("cont.kill", kill(c, SIGCONT));
  EXPECT_EQ("cont.waitpid", waitpid(c, &st, WCONTINUED), c);
  CHECK("cont.wifcontinued", WIFCONTINUED(st));
  EXPECT_EQ("cont.status_raw", st, 0xffff);
  WAIT_UNTIL(chld_count >= 2);
  EXPECT_EQ("cont.sigchld_code", last_chld_code, CLD_CONTINUED);
  EXPECT_EQ("cont.sigchld_status", last_chld_status, SIGCONT);

  /* SIGTSTP stops too (the child's group is not orphaned). */
  kill(c, SIGTSTP);
  EXPECT_EQ("tstp.waitpid", waitpid(c, &st, WUNTRACED), c);
  CHECK("tstp.wifstopped", WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP);
  /* waitid with WNOWAIT leaves the report; without, consumes it. */
  kill(c, SIGCONT);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  EXPECT_OK("waitid.continued", waitid(P_PID, c, &si, WCONTINUED | WNOWAIT));
  EXPECT_EQ("waitid.cont_code", si.si_code, CLD_CONTINUED);
  EXPECT_EQ("waitid.cont_status", si.si_status, SIGCONT);
  EXPECT_EQ("waitid.cont_pid_ok", si.si_pid == c, 1);
  memset(&si, 0, sizeof si);
  EXPECT_OK("waitid.continued_again", waitid(P_PID, c, &si, WCONTINUED | WNOHANG));
  EXPECT_EQ("waitid.nowait_kept_it", si.si_code, CLD_CONTINUED);
  memset(&si, 0x55, sizeof si);
  EXPECT_OK("waitid.nohang_nothing", waitid(P_PID, c, &si, WCONTINUED | WNOHANG));
  EXPECT_EQ("waitid.nohang_zero_pid", si.si_pid, 0);
  EXPECT_EQ("waitid.nohang_zero_signo", si.si_signo, 0);
  kill(c, SIGSTOP);
  memset(&si, 0, sizeof si);
  EXPECT_OK("waitid.stopped", waitid(P_PID, c, &si, WSTOPPED));
  EXPECT_EQ("waitid.stop_code", si.si_code, CLD_STOPPED);
  EXPECT_EQ("waitid.stop_status", si.si_status, SIGSTOP);

  /* In an orphaned process group (a new session) SIGTSTP is discarded. */
  fflush(stdout);
  pid_t o = fork();
  if (o == 0) {
    setsid();
    kill(getpid(), SIGTSTP);
    kill(getpid(), SIGTTIN);
    _exit(4);
  }
  EXPECT_EQ("orphaned.tstp_ignored", waitpid(o, &st, WUNTRACED), o);
  EXPECT_EXIT("orphaned.exited", st, 4);

  /* SIGKILL ends a stopped process. */
  kill(c, SIGKILL);
  EXPECT_EQ("stopped.kill9", waitpid(c, &st, 0), c);
  EXPECT_KILLED("stopped.killed", st, SIGKILL);

  /* SA_NOCLDSTOP: no SIGCHLD for stops, but still for exits. */
  set_chld(SA_NOCLDSTOP);
  chld_count = 0;
  c = spawn_sleeper();
  kill(c, SIGSTOP);
  waitpid(c, &st, WUNTRACED);
  kill(c, SIGCONT);
  waitpid(c, &st, WCONTINUED);
  usleep(50000);
  EXPECT_EQ("nocldstop.no_sigchld", chld_count, 0);
  kill(c, SIGTERM);
  waitpid(c, &st, 0);
  EXPECT_KILLED("nocldstop.term", st, SIGTERM);
  WAIT_UNTIL(chld_count >= 1);
  EXPECT_EQ("nocldstop.exit_sigchld", last_chld_code, CLD_KILLED);
  set_chld(0);

  /* A read blocked when the process is stopped restarts after SIGCONT
   * (no handler ran), and gets the data written later. */
  int p[2];
  pipe(p);
  fflush(stdout);
  c = fork();
  if (c == 0) {
    char ch;
    ssize_t n = read(p[0], &ch, 1);
    _exit(n == 1 && ch == 'x' ? 0 : n < 0 ? 10 + errno : 3);
  }
  usleep(50000);
  kill(c, SIGSTOP);
  waitpid(c, &st, WUNTRACED);
  kill(c, SIGCONT);
  usleep(50000);
  write(p[1], "x", 1);
  waitpid(c, &st, 0);
  EXPECT_EXIT("restart.read_after_cont", st, 0);
  close(p[0]);
  close(p[1]);

  /* nanosleep: a handler makes it fail with EINTR and the time left, even
   * with SA_RESTART; a stop without a handler continues to the same deadline. */
  struct sigaction ua;
  memset(&ua, 0, sizeof ua);
  ua.sa_handler = on_usr1;
  ua.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &ua, NULL);
  fflush(stdout);
  pid_t me = getpid();
  c = fork();
  if (c == 0) {
    usleep(50000);
    kill(me, SIGUSR1);
    _exit(0);
  }
  struct timespec req = {5, 0}, left = {0, 0};
  EXPECT_ERRNO("nanosleep.eintr_despite_sa_restart", nanosleep(&req, &left), EINTR);
  CHECK("nanosleep.rem", left.tv_sec >= 3 && left.tv_sec < 5);
  waitpid(c, &st, 0);
  signal(SIGUSR1, SIG_DFL);
  fflush(stdout);
  c = fork();
  if (c == 0) {
    struct timespec a, b, r = {0, 600000000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rv = nanosleep(&r, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    _exit(rv != 0 ? 1 : ms < 590 ? 2 : ms > 780 ? 3 : 0);
  }
  usleep(100000);
  kill(c, SIGSTOP);
  waitpid(c, &st, WUNTRACED);
  usleep(100000);
  kill(c, SIGCONT);
  waitpid(c, &st, 0);
  EXPECT_EXIT("nanosleep.stop_keeps_deadline", st, 0);

  /* poll: EINTR after a handler even with SA_RESTART; restarted after a stop. */
  pipe(p);
  sigaction(SIGUSR1, &ua, NULL);
  fflush(stdout);
  c = fork();
  if (c == 0) {
    usleep(50000);
    kill(me, SIGUSR1);
    _exit(0);
  }
  struct pollfd pin = {.fd = p[0], .events = POLLIN};
  EXPECT_ERRNO("poll.eintr_despite_sa_restart", poll(&pin, 1, 5000), EINTR);
  waitpid(c, &st, 0);
  signal(SIGUSR1, SIG_DFL);
  fflush(stdout);
  c = fork();
  if (c == 0) {
    int n = poll(&pin, 1, -1);
    _exit(n == 1 ? 0 : n < 0 ? 10 + errno : 3);
  }
  usleep(50000);
  kill(c, SIGSTOP);
  waitpid(c, &st, WUNTRACED);
  kill(c, SIGCONT);
  usleep(50000);
  write(p[1], "y", 1);
  waitpid(c, &st, 0);
  EXPECT_EXIT("poll.restart_after_cont", st, 0);
  close(p[0]);
  close(p[1]);

  /* ppoll's mask: a pending signal it unblocks interrupts it (the handler
   * runs, the old mask comes back); if a file is ready, the signal waits. */
  pipe(p);
  signal(SIGUSR1, on_usr1);
  sigset_t b1, empty, after;
  sigemptyset(&b1);
  sigaddset(&b1, SIGUSR1);
  sigemptyset(&empty);
  sigprocmask(SIG_BLOCK, &b1, NULL);
  kill(getpid(), SIGUSR1);
  usr1_count = 0;
  struct timespec five = {5, 0};
  struct pollfd pr = {.fd = p[0], .events = POLLIN};
  EXPECT_ERRNO("ppoll.mask_eintr", ppoll(&pr, 1, &five, &empty), EINTR);
  EXPECT_EQ("ppoll.handler_ran", usr1_count, 1);
  sigprocmask(SIG_SETMASK, NULL, &after);
  CHECK("ppoll.mask_restored", sigismember(&after, SIGUSR1));
  write(p[1], "z", 1);
  kill(getpid(), SIGUSR1);
  EXPECT_EQ("ppoll.ready_wins", ppoll(&pr, 1, &five, &empty), 1);
  EXPECT_EQ("ppoll.signal_still_pending", usr1_count, 1);
  sigpending(&after);
  CHECK("ppoll.pending_after", sigismember(&after, SIGUSR1));
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(p[0], &rs);
  char drain;
  read(p[0], &drain, 1);
  EXPECT_ERRNO("pselect.mask_eintr", pselect(p[0] + 1, &rs, NULL, NULL, &five, &empty), EINTR);
  EXPECT_EQ("pselect.handler_ran", usr1_count, 2);
  sigprocmask(SIG_UNBLOCK, &b1, NULL);
  close(p[0]);
  close(p[1]);

  /* SIGCHLD counts children; wait reports their exit codes. */
  chld_count = 0;
  for (int i = 0; i < 3; i++) {
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) _exit(20 + i);
    waitpid(k, &st, 0);
    EXPECT_EXIT("children.exit_code", st, 20 + i);
  }
  WAIT_UNTIL(chld_count >= 3);
  EXPECT_EQ("children.sigchld_count", chld_count, 3);
  EXPECT_EQ("children.last_code", last_chld_code, CLD_EXITED);
  EXPECT_EQ("children.last_status", last_chld_status, 22);

  /* kill(0, sig) reaches every process of the group, the caller included. */
  signal(SIGUSR1, on_usr1);
  usr1_count = 0;
  pipe(p);
  fflush(stdout);
  pid_t g1 = fork();
  if (g1 == 0) {
    /* Leads its own group with a child of its own; signals the group. */
    setpgid(0, 0);
    signal(SIGUSR1, on_usr1);
    usr1_count = 0;
    pid_t g2 = fork();
    if (g2 == 0) {
      signal(SIGUSR1, on_usr1);
      while (!usr1_count) pause();
      _exit(usr1_count == 1 ? 0 : 1);
    }
    usleep(50000);
    kill(0, SIGUSR1);
    int s2;
    waitpid(g2, &s2, 0);
    _exit(WIFEXITED(s2) && WEXITSTATUS(s2) == 0 && usr1_count == 1 ? 0 : 1);
  }
  waitpid(g1, &st, 0);
  EXPECT_EXIT("killpg.zero_reaches_group", st, 0);
  EXPECT_EQ("killpg.not_us", usr1_count, 0);
  close(p[0]);
  close(p[1]);

  /* sigsuspend returns EINTR after the handler; the old mask comes back. */
  sigset_t blk, old, none;
  sigemptyset(&blk);
  sigaddset(&blk, SIGUSR1);
  sigprocmask(SIG_BLOCK, &blk, &old);
  kill(getpid(), SIGUSR1);
  sigemptyset(&none);
  usr1_count = 0;
  EXPECT_ERRNO("sigsuspend.eintr", sigsuspend(&none), EINTR);
  EXPECT_EQ("sigsuspend.handler_ran", usr1_count, 1);
  sigset_t now;
  sigprocmask(SIG_SETMASK, NULL, &now);
  CHECK("sigsuspend.mask_restored", sigismember(&now, SIGUSR1));

  /* sigtimedwait: a queued value, and waiting for a signal sent later. */
  union sigval sv = {.sival_int = 9};
  sigqueue(getpid(), SIGUSR1, sv);
  memset(&si, 0, sizeof si);
  EXPECT_EQ("sigwaitinfo.sig", sigwaitinfo(&blk, &si), SIGUSR1);
  EXPECT_EQ("sigwaitinfo.value", si.si_value.sival_int, 9);
  EXPECT_EQ("sigwaitinfo.code", si.si_code, SI_QUEUE);
  fflush(stdout);
  pid_t parent = getpid();
  c = fork();
  if (c == 0) {
    usleep(50000);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  struct timespec ts = {5, 0};
  EXPECT_EQ("sigtimedwait.later", sigtimedwait(&blk, &si, &ts), SIGUSR1);
  EXPECT_EQ("sigtimedwait.pid_ok", si.si_pid == c, 1);
  waitpid(c, &st, 0);

  /* signalfd: read pending signals as records; poll readiness. */
  int sfd = signalfd(-1, &blk, SFD_CLOEXEC | SFD_NONBLOCK);
  EXPECT_OK("signalfd.create", sfd);
  struct signalfd_siginfo ssi;
  EXPECT_ERRNO("signalfd.empty", read(sfd, &ssi, sizeof ssi), EAGAIN);
  struct pollfd pfd = {.fd = sfd, .events = POLLIN};
  EXPECT_EQ("signalfd.poll_empty", poll(&pfd, 1, 0), 0);
  kill(getpid(), SIGUSR1);
  EXPECT_EQ("signalfd.poll_ready", poll(&pfd, 1, 0), 1);
  EXPECT_ERRNO("signalfd.small_buffer", read(sfd, &ssi, 8), EINVAL);
  EXPECT_EQ("signalfd.read", read(sfd, &ssi, sizeof ssi), (long)sizeof ssi);
  EXPECT_EQ("signalfd.signo", ssi.ssi_signo, SIGUSR1);
  EXPECT_EQ("signalfd.code", ssi.ssi_code, SI_USER);
  EXPECT_EQ("signalfd.pid", ssi.ssi_pid, (unsigned)getpid());
  sigprocmask(SIG_BLOCK, NULL, &now);
  sigpending(&now);
  CHECK("signalfd.consumed", !sigismember(&now, SIGUSR1));
  /* A blocking signalfd waits for the signal. */
  int bfd = signalfd(-1, &blk, 0);
  fflush(stdout);
  c = fork();
  if (c == 0) {
    usleep(50000);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  EXPECT_EQ("signalfd.blocking_read", read(bfd, &ssi, sizeof ssi), (long)sizeof ssi);
  EXPECT_EQ("signalfd.blocking_signo", ssi.ssi_signo, SIGUSR1);
  waitpid(c, &st, 0);
  /* signalfd on a non-signalfd is EINVAL; changing the mask works. */
  EXPECT_ERRNO("signalfd.not_signalfd", signalfd(0, &blk, 0), EINVAL);
  EXPECT_EQ("signalfd.update_mask", signalfd(sfd, &none, 0), sfd);
  close(sfd);
  close(bfd);
  sigprocmask(SIG_SETMASK, &old, NULL);

  /* pidfd: signal through it; it polls readable once the process exits. */
  c = spawn_sleeper();
  int pfdn = syscall(SYS_pidfd_open, c, 0);
  EXPECT_OK("pidfd.open", pfdn);
  struct pollfd pp = {.fd = pfdn, .events = POLLIN};
  EXPECT_EQ("pidfd.not_ready", poll(&pp, 1, 0), 0);
  EXPECT_OK("pidfd.send_signal", syscall(SYS_pidfd_send_signal, pfdn, SIGTERM, NULL, 0));
  EXPECT_EQ("pidfd.ready_on_exit", poll(&pp, 1, 2000), 1);
  memset(&si, 0, sizeof si);
  EXPECT_OK("pidfd.waitid", waitid(P_PIDFD, pfdn, &si, WEXITED));
  EXPECT_EQ("pidfd.waitid_code", si.si_code, CLD_KILLED);
  EXPECT_EQ("pidfd.waitid_status", si.si_status, SIGTERM);
  EXPECT_ERRNO("pidfd.send_after_reap", syscall(SYS_pidfd_send_signal, pfdn, SIGTERM, NULL, 0), ESRCH);
  EXPECT_ERRNO("pidfd.bad_flags", syscall(SYS_pidfd_open, getpid(), 1), EINVAL);
  int nul = open("/dev/null", O_RDONLY);
  EXPECT_ERRNO("pidfd.not_pidfd", syscall(SYS_pidfd_send_signal, nul, SIGTERM, NULL, 0), EBADF);
  close(nul);
  close(pfdn);

  /* pause returns EINTR once a handler ran. */
  fflush(stdout);
  c = fork();
  if (c == 0) {
    usleep(50000);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  usr1_count = 0;
  EXPECT_ERRNO("pause.eintr", pause(), EINTR);
  EXPECT_EQ("pause.handler", usr1_count, 1);
  waitpid(c, &st, 0);

  TEST_DONE();
}
