/* /proc/[pid]/ns links, their nsfs inodes and setns on them; /proc/self/fd
 * link modes and the directory's own descriptor. */
#include "test.h"
#include <dirent.h>
#include <sched.h>

static const char *names[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
                              "time", "time_for_children", "user", "uts"};

/* link_ok: target is "TYPE:[N]" with TYPE the name up to "_for_children". */
static int link_ok(const char *name, const char *target, unsigned long *ino) {
  char type[32];
  snprintf(type, sizeof type, "%s", name);
  char *p = strstr(type, "_for_children");
  if (p) *p = 0;
  size_t n = strlen(type);
  if (strncmp(target, type, n) != 0 || target[n] != ':' || target[n + 1] != '[') return 0;
  char *end;
  *ino = strtoul(target + n + 2, &end, 10);
  return *ino > 0 && strcmp(end, "]") == 0;
}

static void test_ns(void) {
  DIR *d = opendir("/proc/self/ns");
  CHECK("ns.opendir", d != NULL);
  int count = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) if (e->d_name[0] != '.') count++;
  if (d) closedir(d);
  EXPECT_EQ("ns.entries", count, 10);
  for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
    char path[64], target[64], cpath[64], ctarget[64], label[64];
    snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    unsigned long ino = 0;
    snprintf(label, sizeof label, "ns.%s.link", names[i]);
    CHECK(label, link_ok(names[i], target, &ino));
    struct stat st, lst;
    snprintf(label, sizeof label, "ns.%s.stat_ino", names[i]);
    CHECK(label, stat(path, &st) == 0 && st.st_ino == ino && S_ISREG(st.st_mode));
    snprintf(label, sizeof label, "ns.%s.lstat", names[i]);
    CHECK(label, lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && (lst.st_mode & 0777) == 0777);
    /* A child shares every namespace. */
    int pfd[2];
    if (pipe(pfd) != 0) continue;
    pid_t p = fork();
    if (p == 0) {
      snprintf(cpath, sizeof cpath, "/proc/%d/ns/%s", getppid(), names[i]);
      ssize_t k = readlink(path, ctarget, sizeof ctarget - 1);
      ctarget[k > 0 ? k : 0] = 0;
      char other[64];
      k = readlink(cpath, other, sizeof other - 1);
      other[k > 0 ? k : 0] = 0;
      _exit(strcmp(ctarget, target) == 0 && strcmp(other, target) == 0 ? 0 : 1);
    }
    int wst;
    waitpid(p, &wst, 0);
    close(pfd[0]);
    close(pfd[1]);
    snprintf(label, sizeof label, "ns.%s.shared_with_child", names[i]);
    EXPECT_EXIT(label, wst, 0);
  }
  char a[64], b[64];
  ssize_t n1 = readlink("/proc/self/ns/pid", a, sizeof a - 1), n2 = readlink("/proc/self/ns/pid_for_children", b, sizeof b - 1);
  a[n1 > 0 ? n1 : 0] = 0;
  b[n2 > 0 ? n2 : 0] = 0;
  EXPECT_STR("ns.pid_for_children_same", b, a);

  int fd = open("/proc/self/ns/uts", O_RDONLY);
  CHECK("ns.open", fd >= 0);
  char c;
  EXPECT_ERRNO("ns.read", read(fd, &c, 1), EINVAL);
  struct stat st;
  fstat(fd, &st);
  CHECK("ns.fstat_regular", S_ISREG(st.st_mode) && st.st_size == 0);
  if (geteuid() == 0) {
    EXPECT_OK("setns.uts_same", setns(fd, 0));
    EXPECT_OK("setns.uts_typed", setns(fd, CLONE_NEWUTS));
  } else {
    printf("ok   setns.uts_same\nok   setns.uts_typed\n");
    t_passed += 2;
  }
  EXPECT_ERRNO("setns.wrong_type", setns(fd, CLONE_NEWIPC), EINVAL);
  close(fd);
  fd = open("/proc/self/ns/user", O_RDONLY);
  EXPECT_ERRNO("setns.own_user", setns(fd, 0), EINVAL);
  close(fd);
  fd = open("/proc/self/ns/mnt", O_RDONLY);
  if (geteuid() == 0) {
    EXPECT_OK("setns.mnt_same", setns(fd, CLONE_NEWNS));
    char cwd[256];
    EXPECT_STR("setns.mnt_cwd_root", getcwd(cwd, sizeof cwd), "/");
  } else {
    printf("ok   setns.mnt_same\nok   setns.mnt_cwd_root\n");
    t_passed += 2;
  }
  close(fd);
  EXPECT_ERRNO("setns.ebadf", setns(-1, 0), EBADF);
  fd = open("/dev/null", O_RDONLY);
  EXPECT_ERRNO("setns.not_ns", setns(fd, 0), EINVAL);
  close(fd);
}

static void test_fd_dir(void) {
  int w = open("/dev/null", O_WRONLY);
  int rw = open("/dev/null", O_RDWR);
  char path[64];
  struct stat st;
  snprintf(path, sizeof path, "/proc/self/fd/%d", w);
  CHECK("fd.lstat_write_only", lstat(path, &st) == 0 && (st.st_mode & 07777) == 0300 && st.st_size == 64);
  snprintf(path, sizeof path, "/proc/self/fd/%d", rw);
  CHECK("fd.lstat_read_write", lstat(path, &st) == 0 && (st.st_mode & 07777) == 0700);
  /* The listing's own descriptor resolves while the directory is open. */
  DIR *d = opendir("/proc/self/fd");
  int dfd = dirfd(d);
  int seen = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (atoi(e->d_name) == dfd && e->d_name[0] != '.') {
      char target[256];
      ssize_t n = readlinkat(dfd, e->d_name, target, sizeof target - 1);
      target[n > 0 ? n : 0] = 0;
      seen = n > 0 && strncmp(target, "/proc/", 6) == 0 && strstr(target, "/fd") != NULL;
    }
  }
  closedir(d);
  CHECK("fd.own_dir_fd", seen);
  /* Once closed, it is gone (as busybox ls -l shows after its listing). */
  snprintf(path, sizeof path, "/proc/self/fd/%d", dfd);
  char t2[64];
  EXPECT_ERRNO("fd.closed_dir_fd", readlink(path, t2, sizeof t2), ENOENT);
  close(w);
  close(rw);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  test_fd_dir();
  test_ns();
  TEST_DONE();
}
