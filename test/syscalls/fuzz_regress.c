/* Regressions found by the syscall fuzzer (test/fuzz, bench/fuzz.mjs): each
 * case once crashed the Sentry or made it misbehave. */
#include "test.h"

#include <poll.h>
#include <sched.h>
#include <sys/select.h>
#include <sys/epoll.h>
#include <time.h>

/* clone(2)'s low byte is the exit signal, any value 0..255: an invalid one
 * (>64) is simply not sent (the Sentry used to crash on it). */
static int clone_bad_exit_signal(void *arg) {
  long sigbyte = (long)arg;
  long pid = syscall(SYS_clone, sigbyte, 0, 0, 0, 0);
  if (pid == 0) _exit(7);
  if (pid < 0) return 100;
  int st = 0;
  if (waitpid((pid_t)pid, &st, __WALL) != pid) return 101;
  return WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : 102;
}

/* A huge timeout must wait, not fire at once (Node clamps delays above
 * 2^31-1 ms to 1 ms). The child is still waiting when SIGALRM kills it. */
static int p[2];

static int ppoll_huge(void *arg) {
  (void)arg;
  struct pollfd fd = {.fd = p[0], .events = POLLIN};
  struct timespec ts = {1L << 40, 0};
  alarm(1);
  syscall(SYS_ppoll, &fd, 1, &ts, NULL, 8);
  return 0;
}

static int pselect_huge(void *arg) {
  (void)arg;
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  struct timespec ts = {1L << 40, 0};
  alarm(1);
  syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &ts, NULL);
  return 0;
}

static int select_huge(void *arg) {
  (void)arg;
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  struct timeval tv = {1L << 40, 0};
  alarm(1);
  select(p[0] + 1, &r, NULL, NULL, &tv);
  return 0;
}

static int epoll_pwait2_huge(void *arg) {
  (void)arg;
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN}, out;
  epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
  struct timespec ts = {1L << 40, 0};
  alarm(1);
  long r = syscall(SYS_epoll_pwait2, ep, &out, 1, &ts, NULL, 8);
  /* A kernel without epoll_pwait2 says so at once: not this regression. */
  if (r < 0 && errno == ENOSYS) pause();
  return 0;
}

int main(void) {
  EXPECT_EXIT("clone.exit_signal_200", t_in_child(clone_bad_exit_signal, (void *)200L), 0);
  EXPECT_EXIT("clone.exit_signal_65", t_in_child(clone_bad_exit_signal, (void *)65L), 0);
  EXPECT_EXIT("clone.exit_signal_0", t_in_child(clone_bad_exit_signal, (void *)0L), 0);
  EXPECT_OK("pipe", pipe(p));
  EXPECT_KILLED("ppoll.huge_timeout_waits", t_in_child(ppoll_huge, NULL), SIGALRM);
  EXPECT_KILLED("pselect6.huge_timeout_waits", t_in_child(pselect_huge, NULL), SIGALRM);
  EXPECT_KILLED("select.huge_timeout_waits", t_in_child(select_huge, NULL), SIGALRM);
  EXPECT_KILLED("epoll_pwait2.huge_timeout_waits", t_in_child(epoll_pwait2_huge, NULL), SIGALRM);
  TEST_DONE();
}
