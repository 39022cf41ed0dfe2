/*
 * execveat: running a program found through a directory fd, through an fd
 * of its own (AT_EMPTY_PATH: fexecve, a memfd), AT_SYMLINK_NOFOLLOW, and a
 * script reached through a close-on-exec fd (its interpreter could not
 * open /dev/fd/N: ENOENT).
 */
#include "test.h"
#include <sys/mman.h>

static char *const child_argv[] = {"x", "child", NULL};
static char *const no_env[] = {NULL};

/* run_child runs f in a child and returns its exit status (or -signal). */
static int run_child(void (*f)(void *), void *arg) {
  pid_t p = fork();
  if (p == 0) {
    f(arg);
    _exit(99);
  }
  int st;
  waitpid(p, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

static int copy_self(int flags) {
  int src = open("/proc/self/exe", O_RDONLY);
  int mfd = memfd_create("self", flags);
  char buf[65536];
  ssize_t n;
  while ((n = read(src, buf, sizeof buf)) > 0) write(mfd, buf, n);
  close(src);
  return mfd;
}

static void exec_memfd(void *arg) {
  int mfd = copy_self(arg ? MFD_CLOEXEC : 0);
  if (arg) syscall(SYS_execveat, mfd, "", child_argv, no_env, AT_EMPTY_PATH);
  else fexecve(mfd, child_argv, no_env);
}

static void exec_rel(void *arg) {
  int d = open((const char *)arg, O_RDONLY | O_DIRECTORY);
  syscall(SYS_execveat, d, "script.sh", child_argv, no_env, 0);
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "child")) return 42;
  char dir[] = "/tmp/execveatXXXXXX";
  mkdtemp(dir);
  char script[64], link[64];
  snprintf(script, sizeof script, "%s/script.sh", dir);
  snprintf(link, sizeof link, "%s/link.sh", dir);
  int s = open(script, O_WRONLY | O_CREAT, 0755);
  write(s, "#!/bin/sh\nexit 43\n", 18);
  close(s);
  symlink(script, link);

  EXPECT_EQ("execveat AT_EMPTY_PATH of a memfd", run_child(exec_memfd, (void *)1), 42);
  EXPECT_EQ("fexecve of a memfd", run_child(exec_memfd, NULL), 42);
  EXPECT_EQ("execveat relative to a dirfd (script)", run_child(exec_rel, dir), 43);

  int d = open(dir, O_RDONLY | O_DIRECTORY);
  errno = 0;
  EXPECT_EQ("AT_SYMLINK_NOFOLLOW on a symlink", syscall(SYS_execveat, d, "link.sh", child_argv, no_env, AT_SYMLINK_NOFOLLOW), -1);
  EXPECT_EQ("  ELOOP", errno, ELOOP);
  errno = 0;
  EXPECT_EQ("unknown flag", syscall(SYS_execveat, d, "script.sh", child_argv, no_env, 0x4), -1);
  EXPECT_EQ("  EINVAL", errno, EINVAL);
  int sc = open(script, O_RDONLY | O_CLOEXEC);
  errno = 0;
  EXPECT_EQ("script through a close-on-exec fd", syscall(SYS_execveat, sc, "", child_argv, no_env, AT_EMPTY_PATH), -1);
  EXPECT_EQ("  ENOENT", errno, ENOENT);
  errno = 0;
  EXPECT_EQ("empty path without AT_EMPTY_PATH", syscall(SYS_execveat, sc, "", child_argv, no_env, 0), -1);
  EXPECT_EQ("  ENOENT", errno, ENOENT);
  int f = open(script, O_RDONLY);
  errno = 0;
  EXPECT_EQ("relative path from a non-directory fd", syscall(SYS_execveat, f, "x", child_argv, no_env, 0), -1);
  EXPECT_EQ("  ENOTDIR", errno, ENOTDIR);

  unlink(link);
  unlink(script);
  rmdir(dir);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
