/* sysinfo.c: identity and process attributes: pids, sessions, uname,
 * getrandom, rlimits, umask, credentials, prctl names. */
#include "test.h"
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/utsname.h>

static int new_session(void *arg) {
  (void)arg;
  pid_t s = setsid();
  if (s != getpid()) return 1;
  if (getsid(0) != getpid() || getpgid(0) != getpid()) return 2;
  /* A session leader cannot start another session. */
  if (setsid() != -1 || errno != EPERM) return 3;
  return 0;
}

static int nofile_limit(void *arg) {
  (void)arg;
  struct rlimit rl = {8, 8};
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return 1;
  int last = -1;
  for (int i = 0; i < 20; i++) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) {
      if (errno != EMFILE) return 2;
      break;
    }
    last = fd;
  }
  if (last != 7) return 3;
  if (dup2(0, 8) != -1 || errno != EBADF) return 4;
  if (fcntl(0, F_DUPFD, 8) != -1 || errno != EINVAL) return 5;
  return 0;
}

static int fsize_limit(void *arg) {
  (void)arg;
  const char *path = (const char *)arg;
  struct rlimit rl = {10, 10};
  signal(SIGXFSZ, SIG_IGN);
  if (setrlimit(RLIMIT_FSIZE, &rl) != 0) return 1;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return 2;
  if (write(fd, "0123456789abcdef", 16) != 10) return 3;
  if (write(fd, "x", 1) != -1 || errno != EFBIG) return 4;
  return 0;
}

int main(void) {
  pid_t pid = getpid();
  CHECK("getpid", pid > 0);
  CHECK("getppid", getppid() >= 0);
  EXPECT_EQ("getpgid.self", getpgid(0), getpgrp());
  EXPECT_EQ("getpgid.by_pid", getpgid(pid), getpgrp());
  CHECK("getsid", getsid(0) > 0);
  EXPECT_ERRNO("getpgid.esrch", getpgid(4000000), ESRCH);
  EXPECT_EQ("gettid.main_thread", syscall(SYS_gettid), pid);
  EXPECT_EXIT("setsid.in_child", t_in_child(new_session, NULL), 0);

  struct utsname u;
  EXPECT_OK("uname", uname(&u));
  EXPECT_STR("uname.sysname", u.sysname, "Linux");
  EXPECT_STR("uname.machine", u.machine, "x86_64");
  CHECK("uname.release", u.release[0] >= '1' && u.release[0] <= '9' && strchr(u.release, '.'));
  CHECK("uname.nodename", u.nodename[0] != 0);
  CHECK("uname.version", u.version[0] != 0);
  char hn[256];
  EXPECT_OK("gethostname", gethostname(hn, sizeof hn));
  EXPECT_STR("gethostname.matches_uname", hn, u.nodename);

  unsigned char r1[32], r2[32];
  EXPECT_EQ("getrandom", getrandom(r1, sizeof r1, 0), 32);
  EXPECT_EQ("getrandom.nonblock", getrandom(r2, sizeof r2, GRND_NONBLOCK), 32);
  CHECK("getrandom.differs", memcmp(r1, r2, sizeof r1) != 0);
  int nonzero = 0;
  for (int i = 0; i < 32; i++) nonzero |= r1[i];
  CHECK("getrandom.not_all_zero", nonzero != 0);
  EXPECT_EQ("getrandom.zero_len", getrandom(r1, 0, 0), 0);
  EXPECT_ERRNO("getrandom.bad_flags", getrandom(r1, 8, 0x100), EINVAL);
  int ur = open("/dev/urandom", O_RDONLY);
  CHECK("dev_urandom.open", ur >= 0);
  EXPECT_EQ("dev_urandom.read", read(ur, r1, 16), 16);
  close(ur);

  struct rlimit rl, rl2;
  EXPECT_OK("getrlimit.nofile", getrlimit(RLIMIT_NOFILE, &rl));
  CHECK("getrlimit.nofile.sane", rl.rlim_cur > 0 && rl.rlim_cur <= rl.rlim_max);
  EXPECT_OK("getrlimit.stack", getrlimit(RLIMIT_STACK, &rl2));
  CHECK("getrlimit.stack.sane", rl2.rlim_cur >= 65536);
  rl2.rlim_cur = rl.rlim_cur > 64 ? 64 : rl.rlim_cur;
  rl2.rlim_max = rl.rlim_max;
  EXPECT_OK("setrlimit.lower_soft", setrlimit(RLIMIT_NOFILE, &rl2));
  getrlimit(RLIMIT_NOFILE, &rl2);
  EXPECT_EQ("setrlimit.lower_soft.readback", rl2.rlim_cur, rl.rlim_cur > 64 ? 64 : rl.rlim_cur);
  rl2.rlim_cur = rl.rlim_max == RLIM_INFINITY ? RLIM_INFINITY : rl.rlim_max + 1;
  rl2.rlim_max = rl.rlim_max;
  if (rl.rlim_max != RLIM_INFINITY)
    EXPECT_ERRNO("setrlimit.soft_above_hard", setrlimit(RLIMIT_NOFILE, &rl2), EINVAL);
  setrlimit(RLIMIT_NOFILE, &rl);
  struct rlimit old;
  EXPECT_OK("prlimit.read", prlimit(0, RLIMIT_NOFILE, NULL, &old));
  EXPECT_EQ("prlimit.matches", old.rlim_cur, rl.rlim_cur);
  EXPECT_ERRNO("getrlimit.bad_resource", getrlimit((__rlimit_resource_t)999, &rl2), EINVAL);
  EXPECT_EXIT("rlimit_nofile.enforced", t_in_child(nofile_limit, NULL), 0);
  char *dir = t_tmpdir("sysinfo");
  char fpath[300];
  snprintf(fpath, sizeof fpath, "%s/f", dir);
  EXPECT_EXIT("rlimit_fsize.enforced", t_in_child(fsize_limit, fpath), 0);

  mode_t prev = umask(027);
  umask(027);
  EXPECT_EQ("umask.returns_previous", umask(022), 027);
  (void)prev;
  umask(027);
  char f2[300];
  snprintf(f2, sizeof f2, "%s/g", dir);
  int fd = open(f2, O_CREAT | O_WRONLY, 0666);
  struct stat st;
  fstat(fd, &st);
  close(fd);
  EXPECT_EQ("umask.applies_to_open", st.st_mode & 0777, 0640);
  snprintf(f2, sizeof f2, "%s/d", dir);
  mkdir(f2, 0777);
  stat(f2, &st);
  EXPECT_EQ("umask.applies_to_mkdir", st.st_mode & 0777, 0750);
  umask(022);
  t_rmtree(dir);

  EXPECT_EQ("uid.real_is_effective", getuid(), geteuid());
  EXPECT_EQ("gid.real_is_effective", getgid(), getegid());
  uid_t ru, eu, su;
  EXPECT_OK("getresuid", getresuid(&ru, &eu, &su));
  EXPECT_EQ("getresuid.matches", eu, geteuid());
  gid_t groups[256];
  CHECK("getgroups", getgroups(256, groups) >= 0);

  char name[17] = {0};
  EXPECT_OK("prctl.set_name", prctl(PR_SET_NAME, "tsv-test-name"));
  EXPECT_OK("prctl.get_name", prctl(PR_GET_NAME, name));
  EXPECT_STR("prctl.name", name, "tsv-test-name");

  struct rusage ru_;
  EXPECT_OK("getrusage", getrusage(RUSAGE_SELF, &ru_));
  char cwd[512];
  CHECK("getcwd", getcwd(cwd, sizeof cwd) != NULL && cwd[0] == '/');
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  CHECK("nprocs", ncpu >= 1);
  TEST_DONE();
}
