/* /proc/PID/cmdline and environ read the process's memory: a process that
 * writes a title over its arguments (setproctitle, as nginx, postgres and
 * sshd do) is shown with it, also to other processes; a zombie shows none. */
#include "test.h"

extern char **environ;

static ssize_t slurp(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  size_t got = 0;
  ssize_t n;
  /* Small reads: the content must hold still between them. */
  while (got < cap && (n = read(fd, buf + got, cap - got < 7 ? cap - got : 7)) > 0) got += n;
  close(fd);
  return (ssize_t)got;
}

int main(int argc, char **argv) {
  static char buf[16384];
  char path[64];
  char *area = argv[0];
  char *end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
  size_t alen = end - area;
  int envc = 0;
  while (environ[envc]) envc++;
  CHECK("environ.follows_args", envc > 0 && environ[0] == end);
  char *envend = environ[envc - 1] + strlen(environ[envc - 1]) + 1;
  size_t elen = envend - end;

  ssize_t n = slurp("/proc/self/cmdline", buf, sizeof buf);
  EXPECT_EQ("cmdline.len", n, alen);
  CHECK("cmdline.bytes", n == (ssize_t)alen && memcmp(buf, area, alen) == 0);
  n = slurp("/proc/self/environ", buf, sizeof buf);
  EXPECT_EQ("environ.len", n, elen);
  CHECK("environ.bytes", n == (ssize_t)elen && memcmp(buf, end, elen) == 0);

  /* Keep copies of the environment strings, as setproctitle does before it
   * writes over them. */
  for (int i = 0; i < envc; i++) environ[i] = strdup(environ[i]);

  /* Changed in place with the final NUL kept: the whole area, NULs and all. */
  memset(area, 'y', alen - 1);
  memcpy(area, "abc", 4);
  n = slurp("/proc/self/cmdline", buf, sizeof buf);
  EXPECT_EQ("inplace.len", n, alen);
  CHECK("inplace.bytes", n == (ssize_t)alen && memcmp(buf, area, alen) == 0);

  /* An environment string changed in memory shows in environ. */
  end[0] = '#';
  n = slurp("/proc/self/environ", buf, sizeof buf);
  CHECK("environ.changed", n == (ssize_t)elen && buf[0] == '#');

  /* The final NUL overwritten: the title runs into the environment area and
   * ends at its first NUL, which is included. */
  size_t tlen = alen + 20;
  CHECK("env.room", elen > 21);
  if (elen > 21) {
    memset(area, 'T', tlen);
    area[tlen] = '\0';
    n = slurp("/proc/self/cmdline", buf, sizeof buf);
    EXPECT_EQ("title.len", n, tlen + 1);
    CHECK("title.bytes", n == (ssize_t)tlen + 1 && memcmp(buf, area, tlen + 1) == 0);
    snprintf(path, sizeof path, "/proc/self/task/%d/cmdline", (int)gettid());
    n = slurp(path, buf, sizeof buf);
    EXPECT_EQ("task.title.len", n, tlen + 1);
  }

  /* A short title: everything after its NUL is hidden. */
  memcpy(area, "nginx: master", 14);
  n = slurp("/proc/self/cmdline", buf, sizeof buf);
  EXPECT_EQ("short.len", n, 14);
  EXPECT_STR("short.title", buf, "nginx: master");

  /* Another process's title, read by its parent; the parent's own is its own. */
  int ready[2], go[2];
  EXPECT_OK("pipe", pipe(ready));
  EXPECT_OK("pipe2", pipe(go));
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    memcpy(area, "nginx: worker", 14);
    write(ready[1], "r", 1);
    read(go[0], &c, 1);
    _exit(0);
  }
  char c;
  EXPECT_EQ("child.ready", read(ready[0], &c, 1), 1);
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  n = slurp(path, buf, sizeof buf);
  EXPECT_EQ("child.len", n, 14);
  EXPECT_STR("child.title", buf, "nginx: worker");
  n = slurp("/proc/self/cmdline", buf, sizeof buf);
  EXPECT_STR("parent.title", buf, "nginx: master");
  /* A zombie has no memory: empty. */
  int fd = open(path, O_RDONLY);
  EXPECT_OK("zombie.open", fd);
  EXPECT_EQ("go", write(go[1], "g", 1), 1);
  siginfo_t si;
  EXPECT_OK("waitid.nowait", waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
  n = slurp(path, buf, sizeof buf);
  EXPECT_EQ("zombie.cmdline", n, 0);
  close(fd);
  int st;
  EXPECT_EQ("reap", waitpid(pid, &st, 0), pid);
  TEST_DONE();
}
