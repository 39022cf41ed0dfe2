/* epoll: interest lists, level/edge-triggered and one-shot reports, nesting. */
#include "test.h"
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

static double mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int add(int ep, int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev = {.events = events, .data.u64 = data};
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int wfd;
static void *late_write(void *arg) {
  (void)arg;
  usleep(50000);
  write(wfd, "x", 1);
  return NULL;
}

static volatile int got_usr1;
static void on_usr1(int s) { (void)s; got_usr1 = 1; }
static void *late_kill(void *arg) {
  usleep(50000);
  pthread_kill(*(pthread_t *)arg, SIGUSR1); /* at the waiting thread */
  return NULL;
}

int main(void) {
  struct epoll_event evs[8];
  int p[2], q[2], sv[2];
  char c;

  EXPECT_EQ("struct.packed", sizeof(struct epoll_event), 12);
  EXPECT_ERRNO("create.size0", epoll_create(0), EINVAL);
  EXPECT_ERRNO("create1.badflags", epoll_create1(1), EINVAL);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  CHECK("create1", ep >= 0);
  EXPECT_EQ("create1.cloexec", fcntl(ep, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ("getfl", fcntl(ep, F_GETFL) & O_ACCMODE, O_RDWR);
  EXPECT_ERRNO("read.epollfd", read(ep, &c, 1), EINVAL);
  EXPECT_OK("pipe", pipe(p));

  /* epoll_ctl errors. */
  EXPECT_ERRNO("ctl.badepfd", add(-1, p[0], EPOLLIN, 0), EBADF);
  EXPECT_ERRNO("ctl.badfd", add(ep, 999, EPOLLIN, 0), EBADF);
  EXPECT_ERRNO("ctl.notepoll", add(p[0], p[1], EPOLLIN, 0), EINVAL);
  EXPECT_ERRNO("ctl.self", add(ep, ep, EPOLLIN, 0), EINVAL);
  int reg = open("/proc/self/exe", O_RDONLY);
  int dir = open("/", O_RDONLY | O_DIRECTORY);
  EXPECT_ERRNO("ctl.regular_file", add(ep, reg, EPOLLIN, 0), EPERM);
  EXPECT_ERRNO("ctl.directory", add(ep, dir, EPOLLIN, 0), EPERM);
  EXPECT_ERRNO("ctl.efault", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], (void *)8), EFAULT);
  EXPECT_OK("ctl.del_null_event_ok_after_add", add(ep, p[0], EPOLLIN, 1));
  EXPECT_ERRNO("ctl.eexist", add(ep, p[0], EPOLLIN, 1), EEXIST);
  EXPECT_ERRNO("ctl.badop", epoll_ctl(ep, 99, p[0], &evs[0]), EINVAL);
  EXPECT_OK("ctl.del", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
  EXPECT_ERRNO("ctl.del.enoent", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
  EXPECT_ERRNO("ctl.mod.enoent", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &evs[0]), ENOENT);

  /* epoll_wait argument errors and timeouts. */
  EXPECT_ERRNO("wait.maxevents0", epoll_wait(ep, evs, 0, 0), EINVAL);
  EXPECT_ERRNO("wait.notepoll", epoll_wait(p[0], evs, 1, 0), EINVAL);
  EXPECT_ERRNO("wait.badfd", epoll_wait(-1, evs, 1, 0), EBADF);
  EXPECT_EQ("wait.empty_poll", epoll_wait(ep, evs, 8, 0), 0);
  double t0 = mono();
  EXPECT_EQ("wait.timeout", epoll_wait(ep, evs, 8, 60), 0);
  CHECK("wait.timeout_elapsed", mono() - t0 >= 0.05);

  /* Level-triggered: reported while readable. */
  EXPECT_OK("lt.add", add(ep, p[0], EPOLLIN, 0x1122334455667788ULL));
  EXPECT_EQ("lt.write", write(p[1], "ab", 2), 2);
  memset(evs, 0, sizeof evs);
  EXPECT_EQ("lt.wait1", epoll_wait(ep, evs, 8, 0), 1);
  EXPECT_EQ("lt.events", evs[0].events, EPOLLIN);
  CHECK("lt.data", evs[0].data.u64 == 0x1122334455667788ULL);
  EXPECT_EQ("lt.wait2", epoll_wait(ep, evs, 8, 0), 1);
  EXPECT_EQ("lt.read", read(p[0], evs, 2), 2);
  EXPECT_EQ("lt.drained", epoll_wait(ep, evs, 8, 0), 0);

  /* Edge-triggered: once per change. */
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 2};
  EXPECT_OK("et.mod", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
  EXPECT_EQ("et.write", write(p[1], "a", 1), 1);
  EXPECT_EQ("et.wait1", epoll_wait(ep, evs, 8, 0), 1);
  EXPECT_EQ("et.wait2", epoll_wait(ep, evs, 8, 0), 0);
  EXPECT_EQ("et.write2", write(p[1], "b", 1), 1);
  EXPECT_EQ("et.wait3", epoll_wait(ep, evs, 8, 0), 1);
  EXPECT_EQ("et.read", read(p[0], evs, 8), 2);

  /* One-shot: disabled after one report until MOD. */
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.u64 = 3;
  EXPECT_OK("oneshot.mod", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
  EXPECT_EQ("oneshot.write", write(p[1], "a", 1), 1);
  EXPECT_EQ("oneshot.wait1", epoll_wait(ep, evs, 8, 0), 1);
  EXPECT_EQ("oneshot.wait2", epoll_wait(ep, evs, 8, 0), 0);
  EXPECT_OK("oneshot.rearm", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
  EXPECT_EQ("oneshot.wait3", epoll_wait(ep, evs, 8, 0), 1);
  EXPECT_EQ("oneshot.read", read(p[0], &c, 1), 1);

  /* Exclusive: only with ADD, never with MOD. */
  EXPECT_OK("excl.del", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
  EXPECT_ERRNO("excl.with_oneshot", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 0), EINVAL);
  EXPECT_OK("excl.add", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 4));
  ev.events = EPOLLIN;
  EXPECT_ERRNO("excl.mod", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  EXPECT_ERRNO("excl.mod2", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
  EXPECT_OK("excl.del2", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));

  /* Writable end and hangup. */
  EXPECT_OK("pipe2", pipe(q));
  EXPECT_OK("out.add", add(ep, q[1], EPOLLOUT, 5));
  EXPECT_EQ("out.wait", epoll_wait(ep, evs, 8, 0), 1);
  EXPECT_EQ("out.events", evs[0].events, EPOLLOUT);
  EXPECT_OK("out.del", epoll_ctl(ep, EPOLL_CTL_DEL, q[1], NULL));
  EXPECT_OK("hup.add", add(ep, q[0], EPOLLIN, 6));
  close(q[1]);
  EXPECT_EQ("hup.wait", epoll_wait(ep, evs, 8, 0), 1);
  EXPECT_EQ("hup.events", evs[0].events, EPOLLHUP);

  /* Closing the last reference removes the entry; a dup keeps it. */
  int q0dup = dup(q[0]);
  close(q[0]);
  EXPECT_EQ("close.dup_keeps", epoll_wait(ep, evs, 8, 0), 1);
  close(q0dup);
  EXPECT_EQ("close.last_removes", epoll_wait(ep, evs, 8, 0), 0);
  EXPECT_ERRNO("close.fd_gone", epoll_ctl(ep, EPOLL_CTL_DEL, q0dup, NULL), EBADF);

  /* Socket pair: EPOLLRDHUP when the peer shuts down writing. */
  EXPECT_OK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  EXPECT_OK("rdhup.add", add(ep, sv[0], EPOLLIN | EPOLLRDHUP, 7));
  EXPECT_EQ("rdhup.none", epoll_wait(ep, evs, 8, 0), 0);
  EXPECT_OK("rdhup.shutdown", shutdown(sv[1], SHUT_WR));
  EXPECT_EQ("rdhup.wait", epoll_wait(ep, evs, 8, 0), 1);
  EXPECT_EQ("rdhup.events", evs[0].events, EPOLLIN | EPOLLRDHUP);
  EXPECT_OK("rdhup.del", epoll_ctl(ep, EPOLL_CTL_DEL, sv[0], NULL));

  /* Nesting: an epoll is readable while it has ready entries; no cycles. */
  int inner = epoll_create1(0);
  EXPECT_OK("nest.add_inner", add(ep, inner, EPOLLIN, 8));
  EXPECT_ERRNO("nest.loop", add(inner, ep, EPOLLIN, 0), ELOOP);
  EXPECT_ERRNO("nest.exclusive_epoll", add(inner, ep, EPOLLIN | EPOLLEXCLUSIVE, 0), EINVAL);
  EXPECT_OK("nest.add_pipe", add(inner, p[0], EPOLLIN, 9));
  EXPECT_EQ("nest.idle", epoll_wait(ep, evs, 8, 0), 0);
  EXPECT_EQ("nest.write", write(p[1], "z", 1), 1);
  EXPECT_EQ("nest.outer", epoll_wait(ep, evs, 8, 0), 1);
  CHECK("nest.outer_data", evs[0].data.u64 == 8 && evs[0].events == EPOLLIN);
  EXPECT_EQ("nest.inner", epoll_wait(inner, evs, 8, 0), 1);
  CHECK("nest.inner_data", evs[0].data.u64 == 9);
  EXPECT_EQ("nest.read", read(p[0], &c, 1), 1);
  EXPECT_OK("nest.del", epoll_ctl(ep, EPOLL_CTL_DEL, inner, NULL));

  /* maxevents limits one call; the rest stay ready. */
  int e1 = eventfd(1, 0), e2 = eventfd(1, 0);
  int ep2 = epoll_create(1);
  EXPECT_OK("max.add1", add(ep2, e1, EPOLLIN, 1));
  EXPECT_OK("max.add2", add(ep2, e2, EPOLLIN, 2));
  EXPECT_EQ("max.one", epoll_wait(ep2, evs, 1, 0), 1);
  EXPECT_EQ("max.all", epoll_wait(ep2, evs, 8, 0), 2);
  /* Same file under two fd numbers: two entries. */
  int e1dup = dup(e1);
  EXPECT_OK("key.dup_add", add(ep2, e1dup, EPOLLIN, 3));
  EXPECT_EQ("key.three", epoll_wait(ep2, evs, 8, 0), 3);
  EXPECT_ERRNO("wait.efault", syscall(SYS_epoll_wait, ep2, (void *)8, 8, 0), EFAULT);

  /* Blocking: woken by another thread's write. */
  wfd = p[1];
  pthread_t th;
  pthread_create(&th, NULL, late_write, NULL);
  EXPECT_EQ("block.woken", epoll_wait(inner, evs, 8, 5000), 1);
  pthread_join(th, NULL);
  EXPECT_EQ("block.read", read(p[0], &c, 1), 1);

  /* A signal handler interrupts the wait with EINTR (even with SA_RESTART). */
  struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
  sigaction(SIGUSR1, &sa, NULL);
  pthread_t self = pthread_self();
  pthread_create(&th, NULL, late_kill, &self);
  EXPECT_ERRNO("sig.eintr", epoll_wait(inner, evs, 8, 5000), EINTR);
  pthread_join(th, NULL);
  CHECK("sig.handled", got_usr1);

  /* epoll_pwait: the mask blocks the signal during the wait. */
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  got_usr1 = 0;
  sigprocmask(SIG_BLOCK, &block, NULL);
  kill(getpid(), SIGUSR1);
  sigset_t none;
  sigemptyset(&none);
  EXPECT_ERRNO("pwait.unblocks", epoll_pwait(inner, evs, 8, 1000, &none), EINTR);
  CHECK("pwait.handled", got_usr1);
  got_usr1 = 0;
  kill(getpid(), SIGUSR1);
  EXPECT_EQ("pwait.blocked", epoll_pwait(inner, evs, 8, 30, &block), 0);
  CHECK("pwait.not_handled", !got_usr1);
  EXPECT_ERRNO("pwait.badsize", syscall(SYS_epoll_pwait, inner, evs, 8, 0, &none, 4), EINVAL);
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  CHECK("pwait.handled_after", got_usr1);

  /* epoll_pwait2: timespec timeouts. */
  struct timespec ts = {0, 20000000};
  t0 = mono();
  EXPECT_EQ("pwait2.timeout", syscall(SYS_epoll_pwait2, inner, evs, 8, &ts, NULL, 8), 0);
  CHECK("pwait2.elapsed", mono() - t0 >= 0.015);
  ts.tv_nsec = 1000000000;
  EXPECT_ERRNO("pwait2.badts", syscall(SYS_epoll_pwait2, inner, evs, 8, &ts, NULL, 8), EINVAL);
  EXPECT_EQ("pwait2.ready", syscall(SYS_epoll_pwait2, ep2, evs, 8, NULL, NULL, 8), 3);

  TEST_DONE();
}
