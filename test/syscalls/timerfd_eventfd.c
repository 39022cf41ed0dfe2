/* timerfd and eventfd: counters behind file descriptors. */
#include "test.h"
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>

static double mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
static int readable(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}
static int writable(int fd) {
  struct pollfd p = {fd, POLLOUT, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

static int efd_shared;
static void *late_writer(void *arg) {
  (void)arg;
  usleep(50000);
  uint64_t v = 5;
  write(efd_shared, &v, 8);
  return NULL;
}
static void *late_reader(void *arg) {
  (void)arg;
  usleep(50000);
  uint64_t v;
  read(efd_shared, &v, 8);
  return NULL;
}

int main(void) {
  uint64_t v;
  struct stat st;

  /* eventfd: counter semantics. */
  int e = eventfd(3, 0);
  EXPECT_OK("eventfd.create", e);
  EXPECT_OK("eventfd.fstat", fstat(e, &st));
  EXPECT_EQ("eventfd.mode", st.st_mode, 0600);
  char link[64], path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", e);
  ssize_t n = readlink(path, link, sizeof link - 1);
  if (n > 0) link[n] = 0;
  EXPECT_STR("eventfd.proc_link", n > 0 ? link : "", "anon_inode:[eventfd]");
  EXPECT_EQ("eventfd.flags_rdwr", fcntl(e, F_GETFL) & O_ACCMODE, O_RDWR);
  CHECK("eventfd.readable", readable(e));
  EXPECT_EQ("eventfd.read_initval", read(e, &v, 8), 8);
  EXPECT_EQ("eventfd.initval", v, 3);
  CHECK("eventfd.not_readable_at_0", !readable(e));
  CHECK("eventfd.writable", writable(e));
  v = 2;
  EXPECT_EQ("eventfd.write", write(e, &v, 8), 8);
  v = 40;
  write(e, &v, 8);
  EXPECT_EQ("eventfd.read_sum", read(e, &v, 8), 8);
  EXPECT_EQ("eventfd.sum", v, 42);
  EXPECT_ERRNO("eventfd.short_read", read(e, &v, 4), EINVAL);
  EXPECT_ERRNO("eventfd.short_write", write(e, &v, 4), EINVAL);
  v = UINT64_MAX;
  EXPECT_ERRNO("eventfd.write_max", write(e, &v, 8), EINVAL);
  EXPECT_ERRNO("eventfd.pread", pread(e, &v, 8, 0), ESPIPE);
  EXPECT_ERRNO("eventfd.bad_flags", eventfd(0, 0x100), EINVAL);
  /* A blocking read waits for a writer. */
  efd_shared = e;
  pthread_t th;
  pthread_create(&th, NULL, late_writer, NULL);
  double t0 = mono();
  EXPECT_EQ("eventfd.blocking_read", read(e, &v, 8), 8);
  CHECK("eventfd.blocking_read.waited", mono() - t0 >= 0.04 && v == 5);
  pthread_join(th, NULL);
  close(e);

  /* Non-blocking, semaphore mode, overflow. */
  e = eventfd(2, EFD_NONBLOCK | EFD_SEMAPHORE | EFD_CLOEXEC);
  EXPECT_EQ("eventfd.cloexec", fcntl(e, F_GETFD), FD_CLOEXEC);
  CHECK("eventfd.nonblock_flag", fcntl(e, F_GETFL) & O_NONBLOCK);
  read(e, &v, 8);
  EXPECT_EQ("eventfd.semaphore_one", v, 1);
  read(e, &v, 8);
  EXPECT_EQ("eventfd.semaphore_two", v, 1);
  EXPECT_ERRNO("eventfd.empty_eagain", read(e, &v, 8), EAGAIN);
  v = UINT64_MAX - 1;
  EXPECT_EQ("eventfd.write_limit", write(e, &v, 8), 8);
  CHECK("eventfd.full_not_writable", !writable(e));
  v = 1;
  EXPECT_ERRNO("eventfd.overflow_eagain", write(e, &v, 8), EAGAIN);
  close(e);
  /* A blocking write waits for a reader to make room. */
  e = eventfd(0, 0);
  v = UINT64_MAX - 1;
  write(e, &v, 8);
  efd_shared = e;
  pthread_create(&th, NULL, late_reader, NULL);
  v = 7;
  t0 = mono();
  EXPECT_EQ("eventfd.blocking_write", write(e, &v, 8), 8);
  CHECK("eventfd.blocking_write.waited", mono() - t0 >= 0.04);
  pthread_join(th, NULL);
  read(e, &v, 8);
  EXPECT_EQ("eventfd.after_blocking_write", v, 7);
  close(e);

  /* timerfd: creation errors. */
  EXPECT_ERRNO("timerfd.bad_clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
  EXPECT_ERRNO("timerfd.bad_flags", timerfd_create(CLOCK_MONOTONIC, 0x1), EINVAL);
  int t = timerfd_create(CLOCK_MONOTONIC, 0);
  EXPECT_OK("timerfd.create", t);
  snprintf(path, sizeof path, "/proc/self/fd/%d", t);
  n = readlink(path, link, sizeof link - 1);
  if (n > 0) link[n] = 0;
  EXPECT_STR("timerfd.proc_link", n > 0 ? link : "", "anon_inode:[timerfd]");
  struct itimerspec its, cur;
  memset(&its, 0, sizeof its);
  EXPECT_OK("timerfd.gettime_disarmed", timerfd_gettime(t, &cur));
  CHECK("timerfd.disarmed_zero", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
  CHECK("timerfd.disarmed_not_readable", !readable(t));
  /* One shot, relative, blocking read. */
  its.it_value.tv_nsec = 50000000;
  EXPECT_OK("timerfd.settime", timerfd_settime(t, 0, &its, NULL));
  timerfd_gettime(t, &cur);
  CHECK("timerfd.gettime_remaining", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 50000000);
  t0 = mono();
  EXPECT_EQ("timerfd.read", read(t, &v, 8), 8);
  CHECK("timerfd.read.waited", mono() - t0 >= 0.045);
  EXPECT_EQ("timerfd.one_expiry", v, 1);
  timerfd_gettime(t, &cur);
  CHECK("timerfd.oneshot_disarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
  /* Periodic: expirations accumulate until read. */
  its.it_value.tv_nsec = 10000000;
  its.it_interval.tv_nsec = 10000000;
  struct itimerspec old;
  timerfd_settime(t, 0, &its, &old);
  CHECK("timerfd.old_value_disarmed", old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0);
  usleep(75000);
  CHECK("timerfd.periodic_readable", readable(t));
  read(t, &v, 8);
  CHECK("timerfd.periodic_count", v >= 5 && v <= 20);
  timerfd_gettime(t, &cur);
  CHECK("timerfd.periodic_interval", cur.it_interval.tv_nsec == 10000000 && cur.it_value.tv_nsec > 0);
  /* Setting again forgets unread expirations; 0 disarms. */
  usleep(25000);
  memset(&its, 0, sizeof its);
  timerfd_settime(t, 0, &its, &old);
  CHECK("timerfd.old_interval", old.it_interval.tv_nsec == 10000000);
  CHECK("timerfd.reset_not_readable", !readable(t));
  /* Absolute time in the past: expires at once. */
  its.it_value.tv_sec = 1;
  EXPECT_OK("timerfd.settime_abs_past", timerfd_settime(t, TFD_TIMER_ABSTIME, &its, NULL));
  CHECK("timerfd.abs_past_readable", readable(t));
  read(t, &v, 8);
  EXPECT_EQ("timerfd.abs_past_count", v, 1);
  /* Absolute on CLOCK_REALTIME. */
  int rt = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  EXPECT_ERRNO("timerfd.nonblock_eagain", read(rt, &v, 8), EAGAIN);
  clock_gettime(CLOCK_REALTIME, &its.it_value);
  its.it_value.tv_nsec += 30000000;
  if (its.it_value.tv_nsec >= 1000000000) { its.it_value.tv_sec++; its.it_value.tv_nsec -= 1000000000; }
  its.it_interval.tv_sec = its.it_interval.tv_nsec = 0;
  EXPECT_OK("timerfd.realtime_abs", timerfd_settime(rt, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL));
  struct pollfd p = {rt, POLLIN, 0};
  t0 = mono();
  EXPECT_EQ("timerfd.poll_wakes", poll(&p, 1, 2000), 1);
  CHECK("timerfd.poll_waited", mono() - t0 >= 0.02);
  EXPECT_EQ("timerfd.realtime_read", read(rt, &v, 8), 8);
  /* Errors. */
  EXPECT_ERRNO("timerfd.short_read", read(t, &v, 4), EINVAL);
  int e2 = eventfd(0, 0);
  EXPECT_ERRNO("timerfd.settime_not_timerfd", timerfd_settime(e2, 0, &its, NULL), EINVAL);
  EXPECT_ERRNO("timerfd.gettime_bad_fd", timerfd_gettime(999, &cur), EBADF);
  EXPECT_ERRNO("timerfd.settime_bad_flags", timerfd_settime(t, 4, &its, NULL), EINVAL);
  its.it_value.tv_nsec = 1000000000;
  EXPECT_ERRNO("timerfd.settime_bad_nsec", timerfd_settime(t, 0, &its, NULL), EINVAL);
  close(e2);
  close(rt);
  close(t);

  TEST_DONE();
}
