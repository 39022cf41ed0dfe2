/* exit_group of a multi-threaded process while a thread it just woke is
 * still finishing its system call. Run as the sandbox's PID 1 (the harness
 * runs C programs directly), this is the sandbox's exit: it must not hang. */
#include "test.h"
#include <pthread.h>

static int p[2];

static void *reader(void *arg) {
  char c;
  (void)arg;
  if (read(p[0], &c, 1) != 1) abort();
  /* Stay busy in guest code so the exit comes first. */
  for (volatile unsigned long i = 0;; i++) {
  }
  return NULL;
}

int main(void) {
  pthread_t th;
  EXPECT_OK("pipe", pipe(p));
  CHECK("pthread_create", pthread_create(&th, NULL, reader, NULL) == 0);
  usleep(50000);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  fflush(stdout);
  /* Wake the reader, then leave at once. */
  if (write(p[1], "x", 1) != 1) abort();
  syscall(SYS_exit_group, t_failed ? 1 : 0);
  return 1;
}
