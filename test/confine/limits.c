// Hits the sandbox's limits from inside (run by limits.test.mjs under small
// test-only limits): each mode prints one line with the outcome.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

// fill writes up to mb MiB to path; prints how far it got and the errno.
static int fill(const char *path, int mb) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) { printf("open: %s\n", strerror(errno)); return 1; }
  static char buf[1 << 20];
  memset(buf, 'x', sizeof buf);
  long total = 0;
  for (int i = 0; i < mb; i++) {
    ssize_t n = write(fd, buf, sizeof buf);
    if (n < 0) {
      printf("fill: %ld MiB then %s\n", total >> 20, strerror(errno));
      close(fd);
      unlink(path);
      // The space is back once the file is gone.
      fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      printf("after unlink: %s\n", write(fd, buf, sizeof buf) == (ssize_t)sizeof buf ? "write ok" : strerror(errno));
      unlink(path);
      return 3;  // the test checks the sandbox exits with the guest's status
    }
    total += n;
  }
  printf("fill: %ld MiB, no error\n", total >> 20);
  return 0;
}

// forks forks children that wait on a pipe until fork fails or max is reached.
static int forks(int max) {
  int p[2];
  if (pipe(p)) return 1;
  int n = 0, err = 0;
  for (; n < max; n++) {
    pid_t pid = fork();
    if (pid < 0) { err = errno; break; }
    if (pid == 0) {
      char c;
      close(p[1]);
      read(p[0], &c, 1);
      _exit(0);
    }
  }
  close(p[1]);
  while (wait(NULL) > 0) {}
  printf("forks: %d then %s\n", n, err ? strerror(err) : "none");
  // Once the children are reaped, fork works again.
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(pid, NULL, 0);
  printf("fork after reap: %s\n", pid > 0 ? "ok" : strerror(errno));
  return 0;
}

// pipes grows a pipe past the budget with F_SETPIPE_SZ, then fills pipes with
// data until the budget refuses storage.
static int pipes(void) {
  int p[2];
  if (pipe(p)) return 1;
  int r = fcntl(p[1], F_SETPIPE_SZ, 256 << 20);
  printf("setpipe 256M: %s\n", r < 0 ? strerror(errno) : "ok");
  r = fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  printf("setpipe 1M: %s\n", r < 0 ? strerror(errno) : "ok");
  close(p[0]);
  close(p[1]);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (!strcmp(argv[1], "fill")) return fill(argv[2], atoi(argv[3]));
  if (!strcmp(argv[1], "forks")) return forks(atoi(argv[2]));
  if (!strcmp(argv[1], "pipes")) return pipes();
  return 2;
}
