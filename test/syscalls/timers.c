/* CPU-time clocks, sleeps, interval timers and POSIX timers. */
#include "test.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

static double ts2d(struct timespec t) { return t.tv_sec + t.tv_nsec / 1e9; }
static double now(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return ts2d(t);
}
/* burn uses about secs of CPU time in the calling thread. */
static void burn(double secs) {
  double end = now(CLOCK_THREAD_CPUTIME_ID) + secs;
  volatile unsigned long x = 0;
  while (now(CLOCK_THREAD_CPUTIME_ID) < end)
    for (int i = 0; i < 20000; i++) x += i;
}
static void *burner(void *arg) {
  burn(*(double *)arg);
  return NULL;
}

static volatile sig_atomic_t alarms, vtalarms, profs;
static void on_alarm(int s) { (void)s; alarms++; }
static void on_vtalrm(int s) { (void)s; vtalarms++; }
static void on_prof(int s) { (void)s; profs++; }

static _Atomic pid_t waiter_tid;
static _Atomic int waiter_ready;
static siginfo_t waiter_info;
static void *sig_waiter(void *arg) {
  sigset_t *set = arg;
  waiter_tid = syscall(SYS_gettid);
  waiter_ready = 1;
  struct timespec to = {5, 0};
  if (sigtimedwait(set, &waiter_info, &to) < 0) waiter_info.si_signo = -errno;
  return NULL;
}

int main(void) {
  struct timespec ts, rem;

  /* CPU clocks advance with work: the thread's own, and the process's,
   * which keeps the time of threads that have exited. */
  double p0 = now(CLOCK_PROCESS_CPUTIME_ID), t0 = now(CLOCK_THREAD_CPUTIME_ID);
  burn(0.2);
  double p1 = now(CLOCK_PROCESS_CPUTIME_ID), t1 = now(CLOCK_THREAD_CPUTIME_ID);
  CHECK("thread_cputime.advances", t1 - t0 >= 0.19 && t1 - t0 < 2);
  CHECK("process_cputime.advances", p1 - p0 >= 0.19 && p1 - p0 < 2);
  double secs = 0.2;
  pthread_t th;
  pthread_create(&th, NULL, burner, &secs);
  pthread_join(th, NULL);
  double p2 = now(CLOCK_PROCESS_CPUTIME_ID), t2 = now(CLOCK_THREAD_CPUTIME_ID);
  CHECK("process_cputime.counts_exited_thread", p2 - p1 >= 0.19);
  CHECK("thread_cputime.own_only", t2 - t1 < 0.1);
  clockid_t cid;
  EXPECT_EQ("getcpuclockid.self", clock_getcpuclockid(0, &cid), 0);
  EXPECT_OK("gettime.getcpuclockid", clock_gettime(cid, &ts));
  CHECK("getcpuclockid.matches", ts2d(ts) >= p2 - 0.001);
  pthread_getcpuclockid(pthread_self(), &cid);
  EXPECT_OK("gettime.pthread_clock", clock_gettime(cid, &ts));
  EXPECT_OK("getres.process_cputime", clock_getres(CLOCK_PROCESS_CPUTIME_ID, &ts));
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double ru_cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  CHECK("rusage.self_cpu", ru_cpu >= 0.38);
  getrusage(RUSAGE_THREAD, &ru);
  ru_cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  CHECK("rusage.thread_cpu", ru_cpu >= 0.18 && ru_cpu < p2 - 0.1);

  /* Sleeps: relative, absolute on both clocks, and the errors. */
  double w0 = now(CLOCK_MONOTONIC);
  ts.tv_sec = 0;
  ts.tv_nsec = 30000000;
  EXPECT_OK("nanosleep", nanosleep(&ts, &rem));
  CHECK("nanosleep.duration", now(CLOCK_MONOTONIC) - w0 >= 0.029);
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 30000000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  EXPECT_EQ("clock_nanosleep.abs_realtime", clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL), 0);
  CHECK("clock_nanosleep.abs_realtime.reached", now(CLOCK_REALTIME) >= ts2d(ts) - 0.001);
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_nsec += 30000000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  EXPECT_EQ("clock_nanosleep.abs_monotonic", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL), 0);
  CHECK("clock_nanosleep.abs_monotonic.reached", now(CLOCK_MONOTONIC) >= ts2d(ts));
  ts.tv_sec = 0;
  ts.tv_nsec = 1000;
  EXPECT_EQ("clock_nanosleep.abs_past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL), 0);
  EXPECT_EQ("clock_nanosleep.thread_cpu", clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL), EINVAL);
  EXPECT_EQ("clock_nanosleep.bad_clock", clock_nanosleep(99, 0, &ts, NULL), EINVAL);
  ts.tv_nsec = -1;
  EXPECT_EQ("clock_nanosleep.bad_nsec", clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL), EINVAL);
  /* Sleeping on the process's CPU clock needs another thread to burn it. */
  secs = 0.1;
  pthread_create(&th, NULL, burner, &secs);
  ts.tv_sec = 0;
  ts.tv_nsec = 20000000;
  EXPECT_EQ("clock_nanosleep.process_cpu", clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &ts, NULL), 0);
  pthread_join(th, NULL);

  /* alarm: the old value in seconds, rounded; 0 disarms. */
  EXPECT_EQ("alarm.first", alarm(100), 0);
  EXPECT_EQ("alarm.old_value", alarm(0), 100);
  EXPECT_EQ("alarm.disarmed", alarm(0), 0);

  /* ITIMER_REAL: a SIGALRM loop. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 20000}, {0, 20000}}, old;
  EXPECT_OK("setitimer.real", setitimer(ITIMER_REAL, &it, NULL));
  EXPECT_OK("getitimer.real", getitimer(ITIMER_REAL, &old));
  CHECK("getitimer.real.value", old.it_interval.tv_usec == 20000 && old.it_value.tv_usec <= 20000 &&
                                    (old.it_value.tv_usec > 0 || old.it_value.tv_sec > 0));
  double a0 = now(CLOCK_MONOTONIC);
  while (alarms < 5 && now(CLOCK_MONOTONIC) - a0 < 5) pause();
  CHECK("itimer_real.five_alarms", alarms >= 5);
  CHECK("itimer_real.pace", now(CLOCK_MONOTONIC) - a0 >= 0.09);
  memset(&it, 0, sizeof it);
  EXPECT_OK("setitimer.real.disarm", setitimer(ITIMER_REAL, &it, &old));
  CHECK("setitimer.real.old_interval", old.it_interval.tv_usec == 20000);
  EXPECT_ERRNO("setitimer.bad_which", setitimer(7, &it, NULL), EINVAL);
  it.it_value.tv_usec = 1000000;
  EXPECT_ERRNO("setitimer.bad_usec", setitimer(ITIMER_REAL, &it, NULL), EINVAL);

  /* ITIMER_VIRTUAL and ITIMER_PROF count CPU time. */
  sa.sa_handler = on_vtalrm;
  sigaction(SIGVTALRM, &sa, NULL);
  sa.sa_handler = on_prof;
  sigaction(SIGPROF, &sa, NULL);
  struct itimerval cpu = {{0, 20000}, {0, 20000}};
  EXPECT_OK("setitimer.virtual", setitimer(ITIMER_VIRTUAL, &cpu, NULL));
  EXPECT_OK("setitimer.prof", setitimer(ITIMER_PROF, &cpu, NULL));
  a0 = now(CLOCK_MONOTONIC);
  while ((vtalarms < 3 || profs < 3) && now(CLOCK_MONOTONIC) - a0 < 10) burn(0.01);
  CHECK("itimer_virtual.fires", vtalarms >= 3);
  CHECK("itimer_prof.fires", profs >= 3);
  EXPECT_OK("getitimer.prof", getitimer(ITIMER_PROF, &old));
  CHECK("getitimer.prof.armed", old.it_interval.tv_usec == 20000 && (old.it_value.tv_usec > 0 || old.it_value.tv_sec > 0));
  memset(&cpu, 0, sizeof cpu);
  setitimer(ITIMER_VIRTUAL, &cpu, NULL);
  setitimer(ITIMER_PROF, &cpu, NULL);
  EXPECT_OK("getitimer.virtual.disarmed", getitimer(ITIMER_VIRTUAL, &old));
  CHECK("getitimer.virtual.zero", old.it_value.tv_sec == 0 && old.it_value.tv_usec == 0);

  /* POSIX timers: SIGEV_SIGNAL to the process, taken with sigtimedwait. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN + 1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN + 1;
  sev.sigev_value.sival_int = 1234;
  timer_t tid;
  EXPECT_OK("timer_create.signal", timer_create(CLOCK_MONOTONIC, &sev, &tid));
  struct itimerspec its = {{0, 0}, {0, 30000000}}, cur;
  EXPECT_OK("timer_settime.relative", timer_settime(tid, 0, &its, NULL));
  EXPECT_OK("timer_gettime", timer_gettime(tid, &cur));
  CHECK("timer_gettime.remaining", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 30000000);
  siginfo_t si;
  struct timespec to = {5, 0};
  EXPECT_EQ("timer.signal_arrives", sigtimedwait(&set, &si, &to), SIGRTMIN + 1);
  EXPECT_EQ("timer.si_code", si.si_code, SI_TIMER);
  EXPECT_EQ("timer.si_value", si.si_value.sival_int, 1234);
  EXPECT_EQ("timer.si_overrun", si.si_overrun, 0);
  EXPECT_OK("timer_gettime.expired", timer_gettime(tid, &cur));
  CHECK("timer_gettime.disarmed_after_oneshot", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
  /* A periodic timer whose signal stays pending counts overruns. */
  its.it_interval.tv_nsec = 10000000;
  its.it_value.tv_nsec = 10000000;
  timer_settime(tid, 0, &its, NULL);
  usleep(120000);
  EXPECT_EQ("timer.periodic_signal", sigtimedwait(&set, &si, &to), SIGRTMIN + 1);
  CHECK("timer.si_overrun_counts", si.si_overrun >= 5);
  int ov = timer_getoverrun(tid);
  CHECK("timer_getoverrun", ov >= 5);
  /* Absolute expiry in the past fires at once. */
  memset(&its, 0, sizeof its);
  timer_settime(tid, 0, &its, NULL);
  while (sigtimedwait(&set, &si, &(struct timespec){0, 0}) > 0) {}
  its.it_value.tv_sec = 1;
  EXPECT_OK("timer_settime.abs_past", timer_settime(tid, TIMER_ABSTIME, &its, NULL));
  EXPECT_EQ("timer.abs_past_fires", sigtimedwait(&set, &si, &to), SIGRTMIN + 1);
  EXPECT_OK("timer_delete", timer_delete(tid));
  EXPECT_ERRNO("timer_delete.again", timer_delete(tid), EINVAL);
  EXPECT_ERRNO("timer_gettime.deleted", timer_gettime(tid, &cur), EINVAL);
  EXPECT_ERRNO("timer_create.bad_clock", timer_create(99, &sev, &tid), EINVAL);
  sev.sigev_signo = 0;
  EXPECT_ERRNO("timer_create.bad_signo", timer_create(CLOCK_MONOTONIC, &sev, &tid), EINVAL);
  sev.sigev_notify = 99;
  EXPECT_ERRNO("timer_create.bad_notify", timer_create(CLOCK_MONOTONIC, &sev, &tid), EINVAL);

  /* SIGEV_THREAD_ID: the signal goes to one thread, blocked everywhere. */
  sigaddset(&set, SIGRTMIN + 2);
  sigprocmask(SIG_BLOCK, &set, NULL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, SIGRTMIN + 2);
  pthread_create(&th, NULL, sig_waiter, &one);
  while (!waiter_ready) usleep(1000);
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGRTMIN + 2;
  sev.sigev_value.sival_int = 77;
  sev._sigev_un._tid = waiter_tid;
  EXPECT_OK("timer_create.thread_id", timer_create(CLOCK_REALTIME, &sev, &tid));
  its.it_value.tv_sec = 0;
  its.it_value.tv_nsec = 20000000;
  its.it_interval.tv_nsec = 0;
  timer_settime(tid, 0, &its, NULL);
  pthread_join(th, NULL);
  EXPECT_EQ("timer_thread_id.received", waiter_info.si_signo, SIGRTMIN + 2);
  EXPECT_EQ("timer_thread_id.si_code", waiter_info.si_code, SI_TIMER);
  EXPECT_EQ("timer_thread_id.si_value", waiter_info.si_value.sival_int, 77);
  timer_delete(tid);
  sev._sigev_un._tid = 999999;
  EXPECT_ERRNO("timer_create.thread_id_bad_tid", timer_create(CLOCK_REALTIME, &sev, &tid), EINVAL);

  /* SIGEV_NONE: no signal, but the timer runs. */
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_NONE;
  EXPECT_OK("timer_create.none", timer_create(CLOCK_MONOTONIC, &sev, &tid));
  its.it_value.tv_sec = 10;
  its.it_value.tv_nsec = 0;
  timer_settime(tid, 0, &its, NULL);
  timer_gettime(tid, &cur);
  CHECK("timer_none.counts_down", cur.it_value.tv_sec == 9 || (cur.it_value.tv_sec == 10 && cur.it_value.tv_nsec == 0));
  timer_delete(tid);

  /* A CPU-time timer on the process clock. */
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN + 1;
  EXPECT_OK("timer_create.cputime", timer_create(CLOCK_PROCESS_CPUTIME_ID, &sev, &tid));
  its.it_value.tv_sec = 0;
  its.it_value.tv_nsec = 50000000;
  timer_settime(tid, 0, &its, NULL);
  a0 = now(CLOCK_MONOTONIC);
  int got = 0;
  while (!got && now(CLOCK_MONOTONIC) - a0 < 10) {
    burn(0.01);
    got = sigtimedwait(&set, &si, &(struct timespec){0, 0}) == SIGRTMIN + 1;
  }
  CHECK("timer_cputime.fires", got);
  timer_delete(tid);

  TEST_DONE();
}
