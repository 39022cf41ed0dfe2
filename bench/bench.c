/*
 * bench.c: micro-benchmarks timed from inside the guest, so that sandbox
 * start-up is not counted.
 *
 *   bench TEST SECONDS MAX_ITERS [FILE]
 *
 * Runs TEST in batches of doubling size until SECONDS have passed or
 * MAX_ITERS operations were done, then prints "TEST NS_PER_OP ITERATIONS".
 * FILE is the host file used by pread, stat and seqread.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *file = "/etc/passwd";
static int fd = -1;
static long file_pages = 1;
static char *buf;
static int to_child[2], to_parent[2];
static pid_t partner;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

/* Each op_* does one operation; it is called in a tight loop. */
static void op_getppid(long i) {
  (void)i;
  /* Raw syscall: glibc does not cache getppid, but be explicit. */
  syscall(SYS_getppid);
}

static void op_pread(long i) {
  if (pread(fd, buf, 4096, (i % file_pages) * 4096) < 0) die("pread");
}

static void op_openclose(long i) {
  (void)i;
  int f = open(file, O_RDONLY);
  if (f < 0) die("open");
  close(f);
}

static void op_stat(long i) {
  (void)i;
  struct stat st;
  if (stat(file, &st) != 0) die("stat");
}

static void op_pipe(long i) {
  (void)i;
  char c = 'p';
  if (write(to_child[1], &c, 1) != 1) die("write");
  if (read(to_parent[0], &c, 1) != 1) die("read");
}

/* Futex ping-pong between two threads: each round trip is a FUTEX_WAKE and
 * a FUTEX_WAIT on each side, the pattern of a contended mutex/condvar. */
static _Atomic int ftx_turn;
static volatile int ftx_stop;
static pthread_t ftx_partner;

static void ftx_wait(int want) {
  int v;
  while ((v = atomic_load(&ftx_turn)) != want) syscall(SYS_futex, &ftx_turn, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void *ftx_loop(void *arg) {
  (void)arg;
  for (;;) {
    ftx_wait(1);
    if (ftx_stop) return NULL;
    atomic_store(&ftx_turn, 0);
    syscall(SYS_futex, &ftx_turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  }
}

static void op_futex(long i) {
  (void)i;
  atomic_store(&ftx_turn, 1);
  syscall(SYS_futex, &ftx_turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  ftx_wait(0);
}

static void op_forkexec(long i) {
  (void)i;
  pid_t p = fork();
  if (p < 0) die("fork");
  if (p == 0) {
    execl("/bin/true", "true", (char *)NULL);
    _exit(127);
  }
  int st;
  if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) die("waitpid");
}

static void op_seqread(long i) {
  (void)i;
  if (lseek(fd, 0, SEEK_SET) != 0) die("lseek");
  ssize_t n;
  while ((n = read(fd, buf, 1 << 20)) > 0) {
  }
  if (n < 0) die("read");
}

static void setup(const char *test) {
  buf = malloc(1 << 20);
  if (!strcmp(test, "pread") || !strcmp(test, "seqread")) {
    fd = open(file, O_RDONLY);
    if (fd < 0) die(file);
    struct stat st;
    fstat(fd, &st);
    file_pages = st.st_size / 4096;
    if (file_pages < 1) file_pages = 1;
  }
  if (!strcmp(test, "futex") && pthread_create(&ftx_partner, NULL, ftx_loop, NULL)) die("pthread_create");
  if (!strcmp(test, "pipe")) {
    if (pipe(to_child) || pipe(to_parent)) die("pipe");
    partner = fork();
    if (partner < 0) die("fork");
    if (partner == 0) {
      close(to_child[1]);
      close(to_parent[0]);
      char c;
      while (read(to_child[0], &c, 1) == 1)
        if (write(to_parent[1], &c, 1) != 1) break;
      _exit(0);
    }
    close(to_child[0]);
    close(to_parent[1]);
  }
}

static void teardown(void) {
  if (ftx_partner) {
    ftx_stop = 1;
    atomic_store(&ftx_turn, 1);
    syscall(SYS_futex, &ftx_turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    pthread_join(ftx_partner, NULL);
  }
  if (partner > 0) {
    close(to_child[1]);
    waitpid(partner, NULL, 0);
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s TEST SECONDS MAX_ITERS [FILE]\n", argv[0]);
    return 2;
  }
  const char *test = argv[1];
  double seconds = atof(argv[2]);
  long max_iters = atol(argv[3]);
  if (argc > 4) file = argv[4];
  static const struct {
    const char *name;
    void (*fn)(long);
  } tests[] = {
      {"getppid", op_getppid}, {"pread", op_pread},   {"openclose", op_openclose},
      {"stat", op_stat},       {"pipe", op_pipe},     {"forkexec", op_forkexec},
      {"futex", op_futex},
      {"seqread", op_seqread},
  };
  void (*fn)(long) = NULL;
  for (size_t k = 0; k < sizeof tests / sizeof tests[0]; k++)
    if (!strcmp(tests[k].name, test)) fn = tests[k].fn;
  if (!fn) {
    fprintf(stderr, "unknown test %s\n", test);
    return 2;
  }
  setup(test);
  fn(0); /* warm-up, not timed */
  long done = 0, batch = 1;
  double t0 = now(), el = 0;
  while (done < max_iters) {
    if (batch > max_iters - done) batch = max_iters - done;
    for (long k = 0; k < batch; k++) fn(done + k);
    done += batch;
    el = now() - t0;
    if (el >= seconds) break;
    batch *= 2;
  }
  teardown();
  printf("%s %.1f %ld\n", test, el * 1e9 / done, done);
  return 0;
}
