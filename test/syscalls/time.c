/* time.c: clocks, sleeps and their argument errors. Bounds are generous:
 * a sandbox adds overhead, but time must still move forward sensibly. */
#include "test.h"
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>

static double now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
  struct timespec a, b;
  EXPECT_OK("monotonic", clock_gettime(CLOCK_MONOTONIC, &a));
  EXPECT_OK("monotonic.again", clock_gettime(CLOCK_MONOTONIC, &b));
  CHECK("monotonic.nondecreasing", b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
  CHECK("monotonic.nsec_range", a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
  int increasing = 1;
  double prev = now(CLOCK_MONOTONIC);
  for (int i = 0; i < 1000; i++) {
    double t = now(CLOCK_MONOTONIC);
    if (t < prev) increasing = 0;
    prev = t;
  }
  CHECK("monotonic.loop_nondecreasing", increasing);
  /* The raw syscall (not the vDSO) must agree too. */
  struct timespec r;
  EXPECT_OK("monotonic.syscall", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &r));
  CHECK("monotonic.syscall_after_vdso", r.tv_sec > b.tv_sec || (r.tv_sec == b.tv_sec && r.tv_nsec >= b.tv_nsec));

  struct timespec rt;
  EXPECT_OK("realtime", clock_gettime(CLOCK_REALTIME, &rt));
  time_t t0 = time(NULL);
  CHECK("realtime.matches_time", rt.tv_sec - t0 <= 1 && t0 - rt.tv_sec <= 1);
  CHECK("realtime.after_2024", rt.tv_sec > 1704067200);
  struct timeval tv;
  EXPECT_OK("gettimeofday", gettimeofday(&tv, NULL));
  CHECK("gettimeofday.matches", tv.tv_sec - rt.tv_sec <= 1 && rt.tv_sec - tv.tv_sec <= 1);
  CHECK("gettimeofday.usec_range", tv.tv_usec >= 0 && tv.tv_usec < 1000000);
  EXPECT_OK("boottime", clock_gettime(CLOCK_BOOTTIME, &a));
  EXPECT_OK("monotonic_coarse", clock_gettime(CLOCK_MONOTONIC_COARSE, &a));
  EXPECT_OK("realtime_coarse", clock_gettime(CLOCK_REALTIME_COARSE, &a));

  struct timespec res;
  EXPECT_OK("getres.monotonic", clock_getres(CLOCK_MONOTONIC, &res));
  CHECK("getres.monotonic.value", res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10000000);
  EXPECT_ERRNO("getres.bad_clock", clock_getres((clockid_t)1234, &res), EINVAL);
  EXPECT_ERRNO("gettime.bad_clock", syscall(SYS_clock_gettime, 1234, &a), EINVAL);

  /* nanosleep lasts at least the request and not absurdly longer. */
  double s0 = now(CLOCK_MONOTONIC);
  struct timespec req = {0, 100000000};
  EXPECT_OK("nanosleep", nanosleep(&req, NULL));
  double el = now(CLOCK_MONOTONIC) - s0;
  CHECK("nanosleep.at_least", el >= 0.099);
  CHECK("nanosleep.not_too_long", el < 2.0);
  s0 = now(CLOCK_MONOTONIC);
  req.tv_nsec = 50000000;
  EXPECT_EQ("clock_nanosleep.relative", clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), 0);
  el = now(CLOCK_MONOTONIC) - s0;
  CHECK("clock_nanosleep.relative.duration", el >= 0.049 && el < 2.0);
  struct timespec abs;
  clock_gettime(CLOCK_MONOTONIC, &abs);
  abs.tv_nsec += 50000000;
  if (abs.tv_nsec >= 1000000000) { abs.tv_sec++; abs.tv_nsec -= 1000000000; }
  EXPECT_EQ("clock_nanosleep.absolute", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL), 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  CHECK("clock_nanosleep.absolute.reached", b.tv_sec > abs.tv_sec || (b.tv_sec == abs.tv_sec && b.tv_nsec >= abs.tv_nsec));
  s0 = now(CLOCK_MONOTONIC);
  EXPECT_OK("usleep", usleep(20000));
  CHECK("usleep.duration", now(CLOCK_MONOTONIC) - s0 >= 0.019);
  req.tv_sec = 0;
  req.tv_nsec = 0;
  EXPECT_OK("nanosleep.zero", nanosleep(&req, NULL));
  req.tv_nsec = 1000000000;
  EXPECT_ERRNO("nanosleep.bad_nsec", nanosleep(&req, NULL), EINVAL);
  req.tv_sec = -1;
  req.tv_nsec = 0;
  EXPECT_ERRNO("nanosleep.negative", nanosleep(&req, NULL), EINVAL);

  /* CPU-time clocks advance when we burn CPU. */
  double c0 = now(CLOCK_PROCESS_CPUTIME_ID), th0 = now(CLOCK_THREAD_CPUTIME_ID);
  volatile unsigned long x = 0;
  double w0 = now(CLOCK_MONOTONIC);
  while (now(CLOCK_MONOTONIC) - w0 < 0.05)
    for (int i = 0; i < 10000; i++) x += i;
  double c1 = now(CLOCK_PROCESS_CPUTIME_ID), th1 = now(CLOCK_THREAD_CPUTIME_ID);
  CHECK("process_cputime.advances", c1 > c0);
  CHECK("thread_cputime.advances", th1 > th0);
  struct tms tm;
  CHECK("times", times(&tm) != (clock_t)-1);

  EXPECT_OK("time.syscall", syscall(SYS_time, NULL));
  TEST_DONE();
}
