/* A process-directed signal sent by one thread wakes the thread that waits
 * for it (pause) rather than being taken by the sender on its way back from
 * kill(2): Linux marks only the chosen thread as having a signal pending. */
#include "test.h"
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static volatile sig_atomic_t handled_on_main;
static pthread_t main_thread;

static void handler(int s) {
  (void)s;
  if (pthread_equal(pthread_self(), main_thread)) handled_on_main = 1;
}

static void *sender(void *arg) {
  (void)arg;
  usleep(100000);
  kill(getpid(), SIGUSR1);
  return NULL;
}

int main(void) {
  main_thread = pthread_self();
  signal(SIGUSR1, handler);
  pthread_t t;
  CHECK("pthread_create", pthread_create(&t, NULL, sender, NULL) == 0);
  alarm(5); /* a hang fails instead of blocking the suite */
  int r = pause();
  CHECK("pause.eintr", r == -1 && errno == EINTR);
  CHECK("handler.ran_on_waiter", handled_on_main == 1);
  pthread_join(t, NULL);
  TEST_DONE();
}
