/*
 * test.h: tiny check framework shared by the syscall test programs.
 *
 * Each program prints one line per check ("ok   NAME" or "FAIL NAME ...")
 * and ends with exactly "N passed, N failed"; it exits 0 iff nothing failed.
 * Output must be deterministic (no pids, times or addresses on passing
 * lines) because the harness also diffs native against sandboxed output.
 */
#ifndef TSV_TEST_H
#define TSV_TEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int t_passed, t_failed;

__attribute__((unused)) static const char *t_errname(int e) {
  const char *n = e ? strerrorname_np(e) : "0";
  return n ? n : "E?";
}

__attribute__((unused)) static void t_report(int ok, const char *name, const char *file, int line,
                     const char *detail) {
  if (ok) {
    t_passed++;
    printf("ok   %s\n", name);
  } else {
    t_failed++;
    printf("FAIL %s (%s:%d: %s)\n", name, file, line, detail);
  }
  fflush(stdout);
}

/* CHECK(name, cond): cond must be true. errno is shown on failure. */
#define CHECK(name, cond)                                                    \
  do {                                                                       \
    int t_e_ = errno;                                                        \
    int t_ok_ = !!(cond);                                                    \
    char t_d_[512];                                                          \
    snprintf(t_d_, sizeof t_d_, "%s; errno=%s", #cond, t_errname(t_e_));     \
    t_report(t_ok_, (name), __FILE__, __LINE__, t_d_);                       \
  } while (0)

/* EXPECT_EQ(name, got, want): integer equality. */
#define EXPECT_EQ(name, got, want)                                           \
  do {                                                                       \
    long long t_g_ = (long long)(got), t_w_ = (long long)(want);             \
    int t_e_ = errno;                                                        \
    char t_d_[512];                                                          \
    snprintf(t_d_, sizeof t_d_, "%s = %lld, want %lld; errno=%s", #got,      \
             t_g_, t_w_, t_errname(t_e_));                                   \
    t_report(t_g_ == t_w_, (name), __FILE__, __LINE__, t_d_);                \
  } while (0)

/* EXPECT_OK(name, expr): expr (a syscall result) must not be -1. */
#define EXPECT_OK(name, expr)                                                \
  do {                                                                       \
    errno = 0;                                                               \
    long long t_r_ = (long long)(expr);                                      \
    int t_e_ = errno;                                                        \
    char t_d_[512];                                                          \
    snprintf(t_d_, sizeof t_d_, "%s = %lld; errno=%s", #expr, t_r_,          \
             t_errname(t_e_));                                               \
    t_report(t_r_ != -1, (name), __FILE__, __LINE__, t_d_);                  \
  } while (0)

/* EXPECT_ERRNO(name, expr, err): expr must return -1 with errno == err. */
#define EXPECT_ERRNO(name, expr, err)                                        \
  do {                                                                       \
    errno = 0;                                                               \
    long long t_r_ = (long long)(expr);                                      \
    int t_e_ = errno;                                                        \
    char t_d_[512];                                                          \
    snprintf(t_d_, sizeof t_d_, "%s = %lld errno=%s, want -1 errno=%s",      \
             #expr, t_r_, t_errname(t_e_), t_errname(err));                  \
    t_report(t_r_ == -1 && t_e_ == (err), (name), __FILE__, __LINE__, t_d_); \
  } while (0)

/* EXPECT_STR(name, got, want): C string equality. */
#define EXPECT_STR(name, got, want)                                          \
  do {                                                                       \
    const char *t_g_ = (got), *t_w_ = (want);                                \
    char t_d_[512];                                                          \
    snprintf(t_d_, sizeof t_d_, "%s = \"%.200s\", want \"%.200s\"", #got,    \
             t_g_ ? t_g_ : "(null)", t_w_);                                  \
    t_report(t_g_ && strcmp(t_g_, t_w_) == 0, (name), __FILE__, __LINE__,    \
             t_d_);                                                          \
  } while (0)

/* Describe a wait status for failure messages. */
__attribute__((unused)) static const char *t_wstatus(int st) {
  static char b[64];
  if (WIFEXITED(st))
    snprintf(b, sizeof b, "exited %d", WEXITSTATUS(st));
  else if (WIFSIGNALED(st))
    snprintf(b, sizeof b, "killed by %s", sigabbrev_np(WTERMSIG(st)));
  else
    snprintf(b, sizeof b, "status 0x%x", st);
  return b;
}

/* EXPECT_EXIT(name, status, code): wait status is a normal exit with code. */
#define EXPECT_EXIT(name, status, code)                                      \
  do {                                                                       \
    int t_s_ = (status);                                                     \
    char t_d_[256];                                                          \
    snprintf(t_d_, sizeof t_d_, "%s, want exited %d", t_wstatus(t_s_),       \
             (code));                                                        \
    t_report(WIFEXITED(t_s_) && WEXITSTATUS(t_s_) == (code), (name),         \
             __FILE__, __LINE__, t_d_);                                      \
  } while (0)

/* EXPECT_KILLED(name, status, sig): wait status is death by signal sig. */
#define EXPECT_KILLED(name, status, sig)                                     \
  do {                                                                       \
    int t_s_ = (status);                                                     \
    char t_d_[256];                                                          \
    snprintf(t_d_, sizeof t_d_, "%s, want killed by %s", t_wstatus(t_s_),    \
             sigabbrev_np(sig));                                             \
    t_report(WIFSIGNALED(t_s_) && WTERMSIG(t_s_) == (sig), (name), __FILE__, \
             __LINE__, t_d_);                                                \
  } while (0)

/*
 * Run fn(arg) in a forked child and return its wait status (-1 on error).
 * The child leaves through _exit(fn(arg)) so stdio buffers are not flushed
 * twice; fn may also die by a signal, which is the point of most callers.
 */
__attribute__((unused)) static int t_in_child(int (*fn)(void *), void *arg) {
  fflush(stdout);
  pid_t p = fork();
  if (p < 0) return -1;
  if (p == 0) _exit(fn(arg));
  int st = 0;
  if (waitpid(p, &st, 0) != p) return -1;
  return st;
}

/* A fresh private directory, removed by t_rmtree at the end. It is made
 * under $TSV_TMP when the harness provides one (so that the harness can
 * see whether a sandboxed run leaked writes to the host), else in /tmp. */
__attribute__((unused)) static char *t_tmpdir(const char *tag) {
  static char path[256];
  const char *base = getenv("TSV_TMP");
  struct stat st;
  if (!base || stat(base, &st) != 0 || !S_ISDIR(st.st_mode)) base = "/tmp";
  snprintf(path, sizeof path, "%s/tsv-%s-XXXXXX", base, tag);
  if (!mkdtemp(path)) {
    perror("mkdtemp");
    exit(2);
  }
  return path;
}

__attribute__((unused)) static int t_rm_one(const char *p, const struct stat *sb, int flag,
                    struct FTW *ftw) {
  (void)sb; (void)flag; (void)ftw;
  remove(p);
  return 0;
}

/* rm -rf without running a program, so cleanup does not depend on exec. */
__attribute__((unused)) static void t_rmtree(const char *path) {
  nftw(path, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a whole small file; returns 0 on success. */
__attribute__((unused)) static int t_write_file(const char *path, const void *data, size_t len,
                        mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  ssize_t n = write(fd, data, len);
  close(fd);
  return n == (ssize_t)len ? 0 : -1;
}

#define TEST_DONE()                                                          \
  do {                                                                       \
    printf("%d passed, %d failed\n", t_passed, t_failed);                    \
    fflush(stdout);                                                          \
    return t_failed ? 1 : 0;                                                 \
  } while (0)

#endif
