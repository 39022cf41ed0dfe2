/* threads.c: pthreads on clone(CLONE_THREAD): create/join, shared memory,
 * mutex and condition variable (futex), thread ids, exit_group from a
 * thread. */
#include "test.h"
#include <pthread.h>

#define NTHREADS 4
#define NITER 20000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;
static int ready;
static pid_t tids[NTHREADS];

static void *worker(void *arg) {
  long i = (long)arg;
  tids[i] = (pid_t)syscall(SYS_gettid);
  for (int k = 0; k < NITER; k++) {
    pthread_mutex_lock(&mu);
    counter++;
    pthread_mutex_unlock(&mu);
  }
  return (void *)(i * 10);
}

static void *waiter(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  while (!ready) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return (void *)(long)getpid();
}

static void *exit_whole_process(void *arg) {
  (void)arg;
  exit(23);
}

static int exit_from_thread(void *arg) {
  (void)arg;
  pthread_t t;
  pthread_create(&t, NULL, exit_whole_process, NULL);
  for (;;) pause();
  return 0;
}

static __thread int tls_value = 1;
static void *tls_worker(void *arg) {
  (void)arg;
  tls_value = 2;
  return (void *)(long)tls_value;
}

int main(void) {
  pthread_t th[NTHREADS];
  int created = 0;
  for (long i = 0; i < NTHREADS; i++)
    if (pthread_create(&th[i], NULL, worker, (void *)i) == 0) created++;
  EXPECT_EQ("pthread_create", created, NTHREADS);
  int joined = 1;
  for (long i = 0; i < NTHREADS; i++) {
    void *ret = NULL;
    if (pthread_join(th[i], &ret) != 0 || (long)ret != i * 10) joined = 0;
  }
  CHECK("pthread_join.values", joined);
  EXPECT_EQ("mutex.counter", counter, (long)NTHREADS * NITER);
  int distinct = 1;
  for (int i = 0; i < NTHREADS; i++) {
    if (tids[i] == getpid() || tids[i] <= 0) distinct = 0;
    for (int j = 0; j < i; j++)
      if (tids[i] == tids[j]) distinct = 0;
  }
  CHECK("gettid.distinct", distinct);

  pthread_t w;
  pthread_create(&w, NULL, waiter, NULL);
  usleep(50000);
  pthread_mutex_lock(&mu);
  ready = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  void *wret = NULL;
  pthread_join(w, &wret);
  EXPECT_EQ("condvar.wakeup_and_shared_pid", (long)wret, getpid());

  pthread_t tt;
  void *tret = NULL;
  pthread_create(&tt, NULL, tls_worker, NULL);
  pthread_join(tt, &tret);
  EXPECT_EQ("tls.thread_value", (long)tret, 2);
  EXPECT_EQ("tls.main_value_untouched", tls_value, 1);

  EXPECT_EXIT("exit_group.from_thread", t_in_child(exit_from_thread, NULL), 23);
  TEST_DONE();
}
