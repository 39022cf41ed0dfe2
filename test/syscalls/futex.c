/* futex(2) and futex_waitv(2): raw operations, contention, condition
 * variables, shared futexes across fork, PI and robust mutexes. */
#include "test.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02
#endif
struct waitv {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

static long fx(void *uaddr, int op, uint32_t val, const void *ts, void *uaddr2, uint32_t val3) {
  return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static double mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* --- a futex mutex (Drepper's "mutex2") hammered by 64 threads ------------- */
#define NT 64
#define ITERS 2000
static _Atomic uint32_t fmutex;
static long fcounter;

static void flock_(void) {
  uint32_t c = 0;
  if (atomic_compare_exchange_strong(&fmutex, &c, 1)) return;
  if (c != 2) c = atomic_exchange(&fmutex, 2);
  while (c != 0) {
    fx(&fmutex, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
    c = atomic_exchange(&fmutex, 2);
  }
}
static void funlock_(void) {
  if (atomic_fetch_sub(&fmutex, 1) != 1) {
    atomic_store(&fmutex, 0);
    fx(&fmutex, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  }
}
static void *fworker(void *arg) {
  (void)arg;
  for (int i = 0; i < ITERS; i++) {
    flock_();
    fcounter++;
    funlock_();
  }
  return NULL;
}

static pthread_mutex_t pmu = PTHREAD_MUTEX_INITIALIZER;
static long pcounter;
static void *pworker(void *arg) {
  pthread_mutex_t *m = arg;
  for (int i = 0; i < ITERS; i++) {
    pthread_mutex_lock(m);
    pcounter++;
    pthread_mutex_unlock(m);
  }
  return NULL;
}

static int run_threads(void *(*fn)(void *), void *arg, int n) {
  pthread_t th[NT];
  int ok = 1;
  for (int i = 0; i < n; i++)
    if (pthread_create(&th[i], NULL, fn, arg)) ok = 0;
  for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
  return ok;
}

/* --- condition variables: a bounded queue ------------------------------------ */
static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qnotempty = PTHREAD_COND_INITIALIZER, qnotfull = PTHREAD_COND_INITIALIZER;
static int queue[8], qhead, qlen;
static long consumed_sum;
#define PRODUCED 4000

static void *producer(void *arg) {
  (void)arg;
  for (int i = 1; i <= PRODUCED; i++) {
    pthread_mutex_lock(&qmu);
    while (qlen == 8) pthread_cond_wait(&qnotfull, &qmu);
    queue[(qhead + qlen++) % 8] = i;
    pthread_cond_signal(&qnotempty);
    pthread_mutex_unlock(&qmu);
  }
  return NULL;
}
static void *consumer(void *arg) {
  long n = (long)arg, sum = 0;
  for (long i = 0; i < n; i++) {
    pthread_mutex_lock(&qmu);
    while (qlen == 0) pthread_cond_wait(&qnotempty, &qmu);
    sum += queue[qhead];
    qhead = (qhead + 1) % 8;
    qlen--;
    pthread_cond_signal(&qnotfull);
    pthread_mutex_unlock(&qmu);
  }
  pthread_mutex_lock(&qmu);
  consumed_sum += sum;
  pthread_mutex_unlock(&qmu);
  return NULL;
}

static pthread_cond_t bcast = PTHREAD_COND_INITIALIZER;
static int go, waiting;
static void *bwaiter(void *arg) {
  (void)arg;
  pthread_mutex_lock(&qmu);
  waiting++;
  while (!go) pthread_cond_wait(&bcast, &qmu);
  waiting--;
  pthread_mutex_unlock(&qmu);
  return NULL;
}

/* --- helpers for waiting on a raw futex in a thread ---------------------------- */
static _Atomic uint32_t word, word2;
static _Atomic int started, woke;
static void *raw_waiter(void *arg) {
  _Atomic uint32_t *w = arg;
  atomic_fetch_add(&started, 1);
  long r = fx((void *)w, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  if (r == 0) atomic_fetch_add(&woke, 1);
  return NULL;
}
static void wait_blocked(int n) {
  /* Give n waiters time to block in the kernel after they said they started. */
  while (atomic_load(&started) < n) usleep(1000);
  usleep(50000);
}

static void *waitv_thread(void *arg) {
  struct waitv *v = arg;
  atomic_fetch_add(&started, 1);
  return (void *)syscall(SYS_futex_waitv, v, 2, 0, NULL, 0);
}

/* --- PI ------------------------------------------------------------------------ */
static _Atomic uint32_t piword;
static long pi_trylock_other(void) {
  return fx(&piword, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
}
static void *pi_try_thread(void *arg) {
  (void)arg;
  long r = pi_trylock_other();
  return (void *)(r == -1 ? (long)errno : 0L);
}
static void *pi_unlock_thread(void *arg) {
  (void)arg;
  long r = fx(&piword, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  return (void *)(r == -1 ? (long)errno : 0L);
}
static void *pi_lock_and_die(void *arg) {
  (void)arg;
  fx(&piword, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  return NULL; /* exits holding it; no robust list entry */
}
static _Atomic int pi_got;
static void *pi_blocking_locker(void *arg) {
  (void)arg;
  atomic_fetch_add(&started, 1);
  long r = fx(&piword, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  if (r == 0 && (atomic_load(&piword) & FUTEX_TID_MASK) == (uint32_t)syscall(SYS_gettid)) atomic_store(&pi_got, 1);
  fx(&piword, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  return NULL;
}

static pthread_mutex_t pimu;
static long picounter;
static void *piworker(void *arg) {
  (void)arg;
  for (int i = 0; i < ITERS; i++) {
    pthread_mutex_lock(&pimu);
    picounter++;
    pthread_mutex_unlock(&pimu);
  }
  return NULL;
}

/* --- robust ---------------------------------------------------------------------- */
static pthread_mutex_t rmu;
static void *robust_die(void *arg) {
  pthread_mutex_t *m = arg;
  pthread_mutex_lock(m);
  return NULL; /* dies holding it */
}
static int robust_child(void *arg) {
  pthread_mutex_lock(arg);
  _exit(0); /* the whole process dies holding it */
}
static _Atomic int robust_cleanup_ok;
static void *robust_waiter(void *arg) {
  atomic_fetch_add(&started, 1);
  int r = pthread_mutex_lock(arg);
  if (r == EOWNERDEAD) {
    robust_cleanup_ok = pthread_mutex_consistent(arg) == 0 && pthread_mutex_unlock(arg) == 0;
  }
  return (void *)(long)r;
}

static void on_usr1(int s) { (void)s; }
static void *kicker(void *arg) {
  usleep(50000);
  pthread_kill(*(pthread_t *)arg, SIGUSR1);
  usleep(50000);
  fx(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  return NULL;
}

int main(void) {
  struct timespec ts;
  double t0;

  /* Argument checks. */
  word = 1;
  EXPECT_ERRNO("wait.value_mismatch", fx(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EAGAIN);
  EXPECT_ERRNO("wait.misaligned", fx((char *)&word + 1, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0), EINVAL);
  EXPECT_ERRNO("wait.bad_address", fx((void *)16, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT);
  EXPECT_ERRNO("wait_bitset.zero_bitset", fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL);
  EXPECT_ERRNO("wake_bitset.zero_bitset", fx(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL);
  EXPECT_ERRNO("wait.clock_realtime_enosys", fx(&word, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS);
  EXPECT_ERRNO("unknown_op", fx(&word, 99, 0, NULL, NULL, 0), ENOSYS);
  ts.tv_sec = 0;
  ts.tv_nsec = 1000000000;
  EXPECT_ERRNO("wait.bad_timeout", fx(&word, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0), EINVAL);
  EXPECT_EQ("wake.nobody", fx(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);

  /* Timeouts: relative for WAIT, absolute (either clock) for WAIT_BITSET. */
  ts.tv_sec = 0;
  ts.tv_nsec = 50000000;
  t0 = mono();
  EXPECT_ERRNO("wait.timeout", fx(&word, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0), ETIMEDOUT);
  CHECK("wait.timeout.duration", mono() - t0 >= 0.049 && mono() - t0 < 2);
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_nsec += 50000000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  t0 = mono();
  EXPECT_ERRNO("wait_bitset.abs_monotonic", fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &ts, NULL, ~0u), ETIMEDOUT);
  CHECK("wait_bitset.abs_monotonic.duration", mono() - t0 >= 0.049 && mono() - t0 < 2);
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 50000000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  t0 = mono();
  EXPECT_ERRNO("wait_bitset.abs_realtime",
               fx(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &ts, NULL, ~0u), ETIMEDOUT);
  CHECK("wait_bitset.abs_realtime.duration", mono() - t0 >= 0.045 && mono() - t0 < 2);
  ts.tv_sec = 1;
  ts.tv_nsec = 0;
  EXPECT_ERRNO("wait_bitset.past_deadline", fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &ts, NULL, ~0u), ETIMEDOUT);

  /* Wake counts, bitsets, and FUTEX_WAKE's "0 wakes one". */
  pthread_t th[8];
  word = 0;
  started = woke = 0;
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, raw_waiter, (void *)&word);
  wait_blocked(4);
  EXPECT_EQ("wake.two_of_four", fx(&word, FUTEX_WAKE_PRIVATE, 2, NULL, NULL, 0), 2);
  EXPECT_EQ("wake.zero_wakes_one", fx(&word, FUTEX_WAKE_PRIVATE, 0, NULL, NULL, 0), 1);
  EXPECT_EQ("wake.rest", fx(&word, FUTEX_WAKE_PRIVATE, 100, NULL, NULL, 0), 1);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  EXPECT_EQ("wake.all_returned_0", woke, 4);
  /* A shared wake does not find private waiters, even in private memory. */
  started = 0;
  pthread_create(&th[0], NULL, raw_waiter, (void *)&word);
  wait_blocked(1);
  EXPECT_EQ("wake.shared_misses_private_waiter", fx(&word, FUTEX_WAKE, 1, NULL, NULL, 0), 0);
  EXPECT_EQ("wake.private_finds_it", fx(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 1);
  pthread_join(th[0], NULL);

  /* Requeue: wake one, move the others, then wake them on the second word. */
  started = woke = 0;
  word = 0;
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, raw_waiter, (void *)&word);
  wait_blocked(4);
  EXPECT_ERRNO("cmp_requeue.mismatch", fx(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(long)10, &word2, 5), EAGAIN);
  EXPECT_EQ("cmp_requeue.count", fx(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(long)10, &word2, 0), 4);
  EXPECT_EQ("requeue.old_word_empty", fx(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0), 0);
  EXPECT_EQ("requeue.moved_woken", fx(&word2, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0), 3);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  EXPECT_EQ("requeue.all_woken", woke, 4);
  EXPECT_ERRNO("requeue.negative", fx(&word, FUTEX_REQUEUE_PRIVATE, -1, (void *)(long)1, &word2, 0), EINVAL);

  /* Wake-op: *word2 += 5; wake on word2 too if its old value was 0. */
  word2 = 0;
  int op = FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 0);
  EXPECT_EQ("wake_op.nobody", fx(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(long)1, &word2, op), 0);
  EXPECT_EQ("wake_op.added", word2, 5);
  op = FUTEX_OP(FUTEX_OP_OR, 4, FUTEX_OP_CMP_GT, 100) | (FUTEX_OP_OPARG_SHIFT << 28);
  fx(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(long)1, &word2, op);
  EXPECT_EQ("wake_op.or_shift", word2, 5 | 16);
  EXPECT_ERRNO("wake_op.bad_op", fx(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(long)1, &word2, 7 << 28), ENOSYS);
  EXPECT_EQ("wake_op.bad_op_untouched", word2, 21);
  started = woke = 0;
  word2 = 0;
  pthread_create(&th[0], NULL, raw_waiter, (void *)&word2);
  wait_blocked(1);
  op = FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0);
  EXPECT_EQ("wake_op.wakes_second", fx(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(long)1, &word2, op), 1);
  pthread_join(th[0], NULL);

  /* futex_waitv: woken on the second futex of two. */
  struct waitv v[2];
  word = 0;
  word2 = 0;
  memset(v, 0, sizeof v);
  v[0].uaddr = (uintptr_t)&word;
  v[0].flags = FUTEX2_SIZE_U32 | FUTEX_PRIVATE_FLAG;
  v[1].uaddr = (uintptr_t)&word2;
  v[1].flags = FUTEX2_SIZE_U32 | FUTEX_PRIVATE_FLAG;
  started = 0;
  void *wret;
  pthread_create(&th[0], NULL, waitv_thread, v);
  wait_blocked(1);
  EXPECT_EQ("waitv.wake_second", fx(&word2, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 1);
  pthread_join(th[0], &wret);
  EXPECT_EQ("waitv.returns_index", (long)wret, 1);
  v[1].val = 7;
  EXPECT_ERRNO("waitv.mismatch", syscall(SYS_futex_waitv, v, 2, 0, NULL, 0), EAGAIN);
  EXPECT_ERRNO("waitv.flags", syscall(SYS_futex_waitv, v, 2, 1, NULL, 0), EINVAL);
  EXPECT_ERRNO("waitv.count0", syscall(SYS_futex_waitv, v, 0, 0, NULL, 0), EINVAL);
  v[1].val = 0;
  v[1].flags = 0;
  EXPECT_ERRNO("waitv.no_size", syscall(SYS_futex_waitv, v, 2, 0, NULL, 0), EINVAL);
  v[1].flags = FUTEX2_SIZE_U32 | FUTEX_PRIVATE_FLAG;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_nsec += 30000000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  EXPECT_ERRNO("waitv.timeout", syscall(SYS_futex_waitv, v, 2, 0, &ts, CLOCK_MONOTONIC), ETIMEDOUT);
  EXPECT_ERRNO("waitv.bad_clock", syscall(SYS_futex_waitv, v, 2, 0, &ts, CLOCK_BOOTTIME), EINVAL);

  /* 64 threads on a raw futex mutex, and on a pthread mutex. */
  CHECK("futex_mutex.threads", run_threads(fworker, NULL, NT));
  EXPECT_EQ("futex_mutex.counter", fcounter, (long)NT * ITERS);
  CHECK("pthread_mutex.threads", run_threads(pworker, &pmu, NT));
  EXPECT_EQ("pthread_mutex.counter", pcounter, (long)NT * ITERS);

  /* Condition variables: 2 producers, 4 consumers; then a broadcast. */
  pthread_create(&th[0], NULL, producer, NULL);
  pthread_create(&th[1], NULL, producer, NULL);
  for (int i = 2; i < 6; i++) pthread_create(&th[i], NULL, consumer, (void *)(long)(PRODUCED / 2));
  for (int i = 0; i < 6; i++) pthread_join(th[i], NULL);
  EXPECT_EQ("condvar.sum", consumed_sum, 2L * PRODUCED * (PRODUCED + 1) / 2);
  for (int i = 0; i < 6; i++) pthread_create(&th[i], NULL, bwaiter, NULL);
  for (;;) {
    pthread_mutex_lock(&qmu);
    int w = waiting;
    pthread_mutex_unlock(&qmu);
    if (w == 6) break;
    usleep(1000);
  }
  pthread_mutex_lock(&qmu);
  go = 1;
  pthread_cond_broadcast(&bcast);
  pthread_mutex_unlock(&qmu);
  for (int i = 0; i < 6; i++) pthread_join(th[i], NULL);
  EXPECT_EQ("condvar.broadcast_all_left", waiting, 0);

  /* Shared futexes: a MAP_SHARED word links parent and child after fork. */
  _Atomic uint32_t *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  sh[0] = 0;
  sh[1] = 0;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    atomic_store(&sh[1], 1);
    long r = fx((void *)&sh[0], FUTEX_WAIT, 0, NULL, NULL, 0);
    _exit(r == 0 && atomic_load(&sh[0]) == 1 ? 0 : 1);
  }
  while (atomic_load(&sh[1]) == 0) usleep(1000);
  usleep(50000);
  atomic_store(&sh[0], 1);
  EXPECT_EQ("shared.wake_child", fx((void *)&sh[0], FUTEX_WAKE, 1, NULL, NULL, 0), 1);
  int st = 0;
  waitpid(pid, &st, 0);
  EXPECT_EXIT("shared.child_woken", st, 0);
  /* Private memory stays private across fork: the child's copy is another futex. */
  word = 0;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    struct timespec t2 = {0, 100000000};
    long r = fx(&word, FUTEX_WAIT, 0, &t2, NULL, 0);
    _exit(r == -1 && errno == ETIMEDOUT ? 0 : 1);
  }
  usleep(30000);
  fx(&word, FUTEX_WAKE, 1, NULL, NULL, 0);
  waitpid(pid, &st, 0);
  EXPECT_EXIT("private_after_fork.not_shared", st, 0);

  /* PI futexes, raw. */
  uint32_t me = syscall(SYS_gettid);
  piword = 0;
  EXPECT_EQ("lock_pi.free", fx(&piword, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
  EXPECT_EQ("lock_pi.word_is_tid", piword, me);
  EXPECT_ERRNO("lock_pi.self_deadlock", fx(&piword, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), EDEADLK);
  EXPECT_ERRNO("trylock_pi.self", fx(&piword, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EDEADLK);
  pthread_create(&th[0], NULL, pi_try_thread, NULL);
  pthread_join(th[0], &wret);
  EXPECT_EQ("trylock_pi.other_owner", (long)wret, EAGAIN);
  pthread_create(&th[0], NULL, pi_unlock_thread, NULL);
  pthread_join(th[0], &wret);
  EXPECT_EQ("unlock_pi.not_owner", (long)wret, EPERM);
  /* A contender blocks; unlock hands the futex over with FUTEX_WAITERS. */
  started = 0;
  pi_got = 0;
  pthread_create(&th[0], NULL, pi_blocking_locker, NULL);
  wait_blocked(1);
  CHECK("lock_pi.waiters_bit", (piword & FUTEX_WAITERS) != 0);
  EXPECT_EQ("unlock_pi.hand_over", fx(&piword, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
  pthread_join(th[0], NULL);
  CHECK("lock_pi.new_owner_ran", pi_got == 1);
  EXPECT_EQ("unlock_pi.released", piword, 0);
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 30000000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  pid = fork();
  if (pid == 0) {
    piword = getppid(); /* owned by the parent's main thread, alive */
    long r = fx(&piword, FUTEX_LOCK_PI, 0, &ts, NULL, 0);
    _exit(r == -1 && errno == ETIMEDOUT ? 0 : (r == -1 ? errno : 100));
  }
  waitpid(pid, &st, 0);
  EXPECT_EXIT("lock_pi.timeout_realtime", st, 0);
  /* The owner exits holding it, without a robust list: ESRCH. */
  piword = 0;
  pthread_create(&th[0], NULL, pi_lock_and_die, NULL);
  pthread_join(th[0], NULL);
  EXPECT_ERRNO("lock_pi.dead_owner", fx(&piword, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), ESRCH);
  piword = 0;
  EXPECT_EQ("lock_pi2.free", fx(&piword, FUTEX_LOCK_PI2 | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0), 0);
  EXPECT_EQ("unlock_pi.after_pi2", fx(&piword, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);

  /* PTHREAD_PRIO_INHERIT mutex under contention. */
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
  pthread_mutex_init(&pimu, &ma);
  CHECK("pi_mutex.threads", run_threads(piworker, NULL, 16));
  EXPECT_EQ("pi_mutex.counter", picounter, 16L * ITERS);
  EXPECT_EQ("pi_mutex.trylock", pthread_mutex_trylock(&pimu), 0);
  EXPECT_EQ("pi_mutex.relock_errorcheck_free", pthread_mutex_unlock(&pimu), 0);

  /* Robust mutexes: a thread dies holding one; so does another process. */
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&rmu, &ma);
  pthread_create(&th[0], NULL, robust_die, &rmu);
  pthread_join(th[0], NULL);
  EXPECT_EQ("robust.thread_death", pthread_mutex_lock(&rmu), EOWNERDEAD);
  EXPECT_EQ("robust.consistent", pthread_mutex_consistent(&rmu), 0);
  EXPECT_EQ("robust.unlock", pthread_mutex_unlock(&rmu), 0);
  EXPECT_EQ("robust.relock", pthread_mutex_lock(&rmu), 0);
  pthread_mutex_unlock(&rmu);

  pthread_mutex_t *smu = (pthread_mutex_t *)(sh + 16);
  pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(smu, &ma);
  EXPECT_EXIT("robust.shared_child", t_in_child(robust_child, smu), 0);
  EXPECT_EQ("robust.process_death", pthread_mutex_lock(smu), EOWNERDEAD);
  pthread_mutex_consistent(smu);
  pthread_mutex_unlock(smu);
  /* A waiter blocked on the lock is woken when the owner dies. */
  pthread_mutex_init(smu, &ma);
  sh[1] = 0;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    pthread_mutex_lock(smu);
    atomic_store(&sh[1], 1);
    usleep(100000);
    _exit(0);
  }
  while (atomic_load(&sh[1]) == 0) usleep(1000);
  started = 0;
  pthread_create(&th[0], NULL, robust_waiter, smu);
  pthread_join(th[0], &wret);
  EXPECT_EQ("robust.waiter_gets_ownerdead", (long)wret, EOWNERDEAD);
  CHECK("robust.waiter_recovers", robust_cleanup_ok);
  waitpid(pid, &st, 0);
  EXPECT_EQ("robust.lock_after_recovery", pthread_mutex_lock(smu), 0);
  pthread_mutex_unlock(smu);
  /* The same with a robust PI mutex: the kernel hands it over. */
  pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
  pthread_mutex_init(smu, &ma);
  sh[1] = 0;
  robust_cleanup_ok = 0;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    pthread_mutex_lock(smu);
    atomic_store(&sh[1], 1);
    usleep(100000);
    _exit(0);
  }
  while (atomic_load(&sh[1]) == 0) usleep(1000);
  pthread_create(&th[0], NULL, robust_waiter, smu);
  pthread_join(th[0], &wret);
  EXPECT_EQ("robust_pi.waiter_gets_ownerdead", (long)wret, EOWNERDEAD);
  CHECK("robust_pi.waiter_recovers", robust_cleanup_ok);
  waitpid(pid, &st, 0);
  EXPECT_EQ("robust_pi.lock_after_recovery", pthread_mutex_lock(smu), 0);
  EXPECT_EQ("robust_pi.unlock", pthread_mutex_unlock(smu), 0);

  /* A signal handler interrupts a wait: EINTR, or a transparent restart
   * with SA_RESTART (then the later wake ends it). */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_t self = pthread_self();
  word = 0;
  pthread_create(&th[0], NULL, kicker, &self);
  EXPECT_ERRNO("wait.signal_eintr", fx(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EINTR);
  pthread_join(th[0], NULL);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_create(&th[0], NULL, kicker, &self);
  EXPECT_EQ("wait.signal_sa_restart", fx(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), 0);
  pthread_join(th[0], NULL);
  pthread_create(&th[0], NULL, kicker, &self);
  ts.tv_sec = 5;
  ts.tv_nsec = 0;
  EXPECT_ERRNO("wait.timed_signal_eintr", fx(&word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0), EINTR);
  pthread_join(th[0], NULL);

  TEST_DONE();
}
