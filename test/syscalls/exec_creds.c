/* execve's credential change: set-user/group-id bits, capabilities
 * recomputed for the new image (root gets them back, others keep none),
 * nosuid-like no_new_privs, and AT_SECURE. */
#include "test.h"
#include <linux/capability.h>
#include <sys/auxv.h>
#include <sys/prctl.h>

static char self[PATH_MAX];
static char suid_bin[PATH_MAX];

/* In "report" mode the program prints what the new image runs with. */
static int report(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) return 2;
  uid_t r, e, s;
  gid_t rg, eg, sg;
  getresuid(&r, &e, &s);
  getresgid(&rg, &eg, &sg);
  printf("uid=%u,%u,%u gid=%u,%u,%u eff=%s prm=%s secure=%lu\n", r, e, s, rg, eg, sg,
         d[0].effective || d[1].effective ? "some" : "none",
         d[0].permitted || d[1].permitted ? "some" : "none", getauxval(AT_SECURE));
  return 0;
}

struct run {
  const char *bin;
  int uid, gid, keepcaps, nnp;
};

static int child(void *arg) {
  struct run *r = arg;
  if (r->gid >= 0 && setresgid(r->gid, r->gid, r->gid) != 0) return 3;
  if (r->keepcaps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return 4;
  if (r->uid >= 0 && setresuid(r->uid, r->uid, r->uid) != 0) return 5;
  if (r->keepcaps) {
    /* Like setpriv: keep the permitted set across the uid change and raise it again. */
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    syscall(SYS_capget, &h, d);
    d[0].effective = d[0].permitted;
    d[1].effective = d[1].permitted;
    if (syscall(SYS_capset, &h, d) != 0) return 6;
  }
  if (r->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 7;
  char *argv[] = {(char *)r->bin, "report", NULL};
  execv(r->bin, argv);
  return 8;
}

/* run returns what the image printed (or "exit N"). */
static const char *run(struct run *r) {
  static char out[256];
  int p[2];
  if (pipe(p) != 0) return "pipe";
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    _exit(child(r));
  }
  close(p[1]);
  ssize_t n = read(p[0], out, sizeof out - 1);
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  if (n <= 0) {
    snprintf(out, sizeof out, "exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return out;
  }
  out[n] = 0;
  if (out[n - 1] == '\n') out[n - 1] = 0;
  return out;
}

static int copy(const char *from, const char *to, mode_t mode, gid_t gid) {
  int in = open(from, O_RDONLY), o = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0700);
  if (in < 0 || o < 0) return -1;
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(o, buf, n) != n) return -1;
  close(in);
  close(o);
  /* chown clears set-id bits: chmod last. */
  if (chown(to, 0, gid) != 0) return -1;
  return chmod(to, mode);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "report") == 0) return report();
  if (getuid() != 0) {
    printf("needs root\n0 passed, 0 failed\n");
    return 0;
  }
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return 2;
  self[n] = 0;
  /* A directory anyone can reach (TSV_TMP may not be), holding set-id copies. */
  char dir[] = "/tmp/tsv-execcreds-XXXXXX";
  if (!mkdtemp(dir) || chmod(dir, 0755) != 0) return 2;
  char plain[PATH_MAX], sgid_noexec[PATH_MAX], sgid[PATH_MAX];
  snprintf(plain, sizeof plain, "%s/plain", dir);
  snprintf(suid_bin, sizeof suid_bin, "%s/suid", dir);
  snprintf(sgid, sizeof sgid, "%s/sgid", dir);
  snprintf(sgid_noexec, sizeof sgid_noexec, "%s/sgid-nox", dir);
  EXPECT_OK("copy.plain", copy(self, plain, 0755, 0));
  EXPECT_OK("copy.suid", copy(self, suid_bin, 04755, 0));
  EXPECT_OK("copy.sgid", copy(self, sgid, 02755, 42));
  EXPECT_OK("copy.sgid_noexec", copy(self, sgid_noexec, 02745, 42));

  struct run root = {plain, -1, -1, 0, 0};
  EXPECT_STR("root.keeps_caps", run(&root), "uid=0,0,0 gid=0,0,0 eff=some prm=some secure=0");
  struct run user = {plain, 1000, 1000, 0, 0};
  EXPECT_STR("user.no_caps", run(&user), "uid=1000,1000,1000 gid=1000,1000,1000 eff=none prm=none secure=0");
  /* Capabilities kept across setresuid (PR_SET_KEEPCAPS) do not survive execve. */
  struct run keep = {plain, 1000, 1000, 1, 0};
  EXPECT_STR("keepcaps.dropped_at_exec", run(&keep), "uid=1000,1000,1000 gid=1000,1000,1000 eff=none prm=none secure=0");
  struct run su = {suid_bin, 1000, 1000, 0, 0};
  EXPECT_STR("setuid_root.gets_root", run(&su), "uid=1000,0,0 gid=1000,1000,1000 eff=some prm=some secure=1");
  struct run nnp = {suid_bin, 1000, 1000, 0, 1};
  EXPECT_STR("setuid_root.no_new_privs", run(&nnp), "uid=1000,1000,1000 gid=1000,1000,1000 eff=none prm=none secure=0");
  struct run sg = {sgid, 1000, 1000, 0, 0};
  EXPECT_STR("setgid.egid", run(&sg), "uid=1000,1000,1000 gid=1000,42,42 eff=none prm=none secure=1");
  struct run sgx = {sgid_noexec, 1000, 1000, 0, 0};
  EXPECT_STR("setgid_without_group_x.ignored", run(&sgx), "uid=1000,1000,1000 gid=1000,1000,1000 eff=none prm=none secure=0");
  /* Root running a setuid-root binary is not a privilege change. */
  struct run rsu = {suid_bin, -1, -1, 0, 0};
  EXPECT_STR("root.setuid_root", run(&rsu), "uid=0,0,0 gid=0,0,0 eff=some prm=some secure=0");
  t_rmtree(dir);
  TEST_DONE();
}
