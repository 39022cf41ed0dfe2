/* sigthreads.c: signals and threads: which thread takes a process-directed
 * signal, per-thread masks and tgkill, sigwait in one thread, a group stop
 * of a multi-threaded child, and a fatal signal ending every thread. */
#include "test.h"
#include <pthread.h>
#include <stdatomic.h>

static atomic_int handler_tid, worker_tid, worker_ready, stop_worker, hits;
static void on_usr1(int s) {
  (void)s;
  handler_tid = gettid();
  atomic_fetch_add(&hits, 1);
}

static void *worker(void *arg) {
  (void)arg;
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, NULL);
  worker_tid = gettid();
  worker_ready = 1;
  while (!stop_worker) usleep(1000);
  return NULL;
}

static void *spinner(void *arg) {
  (void)arg;
  worker_ready = 1;
  while (!stop_worker) {
  }
  return NULL;
}

static void *waiter(void *arg) {
  sigset_t *set = arg;
  int s = 0;
  sigwait(set, &s);
  return (void *)(long)s;
}

static int threaded_child(void *arg) {
  (void)arg;
  pthread_t th;
  stop_worker = 0;
  worker_ready = 0;
  pthread_create(&th, NULL, spinner, NULL);
  while (!worker_ready) usleep(1000);
  for (;;) pause();
  return 0;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);

  /* The main thread blocks SIGUSR1: the worker takes the process signal. */
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL);
  pthread_t th;
  pthread_create(&th, NULL, worker, NULL);
  while (!worker_ready) usleep(1000);
  kill(getpid(), SIGUSR1);
  for (int i = 0; i < 2000 && !hits; i++) usleep(1000);
  EXPECT_EQ("process_signal.hits", hits, 1);
  EXPECT_EQ("process_signal.in_worker", handler_tid == worker_tid, 1);
  /* tgkill to the main thread waits for it to unblock. */
  hits = 0;
  syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
  usleep(20000);
  EXPECT_EQ("tgkill.blocked_main_waits", hits, 0);
  sigset_t pend;
  sigpending(&pend);
  CHECK("tgkill.pending_in_main", sigismember(&pend, SIGUSR1));
  pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
  EXPECT_EQ("tgkill.delivered_on_unblock", hits, 1);
  EXPECT_EQ("tgkill.in_main", handler_tid == gettid(), 1);
  /* pthread_kill targets the worker. */
  hits = 0;
  pthread_kill(th, SIGUSR1);
  for (int i = 0; i < 2000 && !hits; i++) usleep(1000);
  EXPECT_EQ("pthread_kill.in_worker", handler_tid == worker_tid, 1);
  stop_worker = 1;
  pthread_join(th, NULL);

  /* sigwait in a thread while every thread blocks the signal. */
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr2, NULL);
  pthread_create(&th, NULL, waiter, &usr2);
  usleep(20000);
  kill(getpid(), SIGUSR2);
  void *res;
  pthread_join(th, &res);
  EXPECT_EQ("sigwait.thread_got_it", (long)res, SIGUSR2);

  /* A multi-threaded child (one thread spinning) stops and continues as a whole. */
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) _exit(threaded_child(NULL));
  usleep(50000);
  int st;
  kill(c, SIGSTOP);
  EXPECT_EQ("mt.stop_waitpid", waitpid(c, &st, WUNTRACED), c);
  CHECK("mt.stopped", WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
  kill(c, SIGCONT);
  EXPECT_EQ("mt.cont_waitpid", waitpid(c, &st, WCONTINUED), c);
  CHECK("mt.continued", WIFCONTINUED(st));
  /* A fatal signal ends every thread, the spinning one included. */
  kill(c, SIGTERM);
  EXPECT_EQ("mt.term_waitpid", waitpid(c, &st, 0), c);
  EXPECT_KILLED("mt.killed", st, SIGTERM);

  TEST_DONE();
}
