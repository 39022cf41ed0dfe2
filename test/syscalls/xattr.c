/* xattr.c: extended attributes on files the program makes: set flags, sizes, lists, errors. */
#include "test.h"
#include <sys/xattr.h>

/* sorted_list returns listxattr's names, sorted and comma-separated. */
static const char *sorted_list(const char *path) {
  static char out[1024];
  char buf[1024];
  ssize_t n = listxattr(path, buf, sizeof buf);
  out[0] = 0;
  if (n < 0) return "ERR";
  const char *names[64];
  int k = 0;
  for (char *p = buf; p < buf + n && k < 64; p += strlen(p) + 1) names[k++] = p;
  for (int i = 0; i < k; i++)
    for (int j = i + 1; j < k; j++)
      if (strcmp(names[i], names[j]) > 0) {
        const char *x = names[i];
        names[i] = names[j];
        names[j] = x;
      }
  for (int i = 0; i < k; i++) {
    if (i) strcat(out, ",");
    strncat(out, names[i], sizeof out - strlen(out) - 2);
  }
  return out;
}

int main(void) {
  char *dir = t_tmpdir("xattr");
  char f[512], l[512], fifo[512];
  snprintf(f, sizeof f, "%s/f", dir);
  snprintf(l, sizeof l, "%s/l", dir);
  snprintf(fifo, sizeof fifo, "%s/p", dir);
  t_write_file(f, "data", 4, 0644);
  chmod(dir, 0755);
  symlink("f", l);
  mkfifo(fifo, 0644);

  char buf[256];
  EXPECT_ERRNO("get.missing", getxattr(f, "user.a", buf, sizeof buf), ENODATA);
  EXPECT_OK("set", setxattr(f, "user.a", "hello", 5, 0));
  EXPECT_EQ("get.size0", getxattr(f, "user.a", NULL, 0), 5);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("get", getxattr(f, "user.a", buf, sizeof buf), 5);
  EXPECT_STR("get.value", buf, "hello");
  EXPECT_ERRNO("get.small", getxattr(f, "user.a", buf, 2), ERANGE);
  EXPECT_ERRNO("create.exists", setxattr(f, "user.a", "x", 1, XATTR_CREATE), EEXIST);
  EXPECT_ERRNO("replace.missing", setxattr(f, "user.b", "x", 1, XATTR_REPLACE), ENODATA);
  EXPECT_OK("replace", setxattr(f, "user.a", "bye", 3, XATTR_REPLACE));
  EXPECT_EQ("get.replaced", getxattr(f, "user.a", buf, sizeof buf), 3);
  EXPECT_OK("create", setxattr(f, "user.b", "", 0, XATTR_CREATE));
  EXPECT_EQ("get.empty", getxattr(f, "user.b", buf, sizeof buf), 0);
  EXPECT_ERRNO("flags.bad", setxattr(f, "user.c", "x", 1, 4), EINVAL);
  EXPECT_ERRNO("ns.unknown", setxattr(f, "foo.bar", "x", 1, 0), EOPNOTSUPP);
  EXPECT_ERRNO("ns.bare", setxattr(f, "user.", "x", 1, 0), EINVAL);
  EXPECT_ERRNO("name.empty", setxattr(f, "", "x", 1, 0), ERANGE);
  char longname[300];
  memset(longname, 'a', sizeof longname);
  memcpy(longname, "user.", 5);
  longname[299] = 0;
  EXPECT_ERRNO("name.long", setxattr(f, longname, "x", 1, 0), ERANGE);
  static char big[65537];
  EXPECT_ERRNO("value.big", setxattr(f, "user.big", big, sizeof big, 0), E2BIG);
  EXPECT_ERRNO("get.enoent", getxattr("/nonexistent/x", "user.a", buf, sizeof buf), ENOENT);

  /* Lists: size query, ERANGE, names. */
  EXPECT_STR("list", sorted_list(f), "user.a,user.b");
  EXPECT_EQ("list.size0", listxattr(f, NULL, 0), 14);
  EXPECT_ERRNO("list.small", listxattr(f, buf, 5), ERANGE);

  /* By fd, and through a symlink (l* variants act on the link itself). */
  int fd = open(f, O_RDONLY);
  EXPECT_EQ("fget", fgetxattr(fd, "user.a", buf, sizeof buf), 3);
  EXPECT_OK("fset", fsetxattr(fd, "user.c", "1", 1, 0));
  EXPECT_EQ("get.vialink", getxattr(l, "user.c", buf, sizeof buf), 1);
  EXPECT_ERRNO("lget.link", lgetxattr(l, "user.c", buf, sizeof buf), ENODATA);
  EXPECT_ERRNO("lset.link.user", lsetxattr(l, "user.c", "1", 1, 0), EPERM);
  EXPECT_ERRNO("set.fifo.user", setxattr(fifo, "user.c", "1", 1, 0), EPERM);
  EXPECT_OK("fremove", fremovexattr(fd, "user.c"));
  close(fd);
  EXPECT_OK("remove", removexattr(f, "user.b"));
  EXPECT_ERRNO("remove.missing", removexattr(f, "user.b"), ENODATA);
  EXPECT_STR("list.after", sorted_list(f), "user.a");

  /* trusted.* needs CAP_SYS_ADMIN: with it, set and list work. */
  EXPECT_OK("trusted.set", setxattr(f, "trusted.t", "v", 1, 0));
  EXPECT_STR("trusted.list", sorted_list(f), "trusted.t,user.a");

  /* Directories take user.* too; a copied file does not keep them. */
  EXPECT_OK("dir.set", setxattr(dir, "user.d", "dd", 2, 0));
  EXPECT_EQ("dir.get", getxattr(dir, "user.d", buf, sizeof buf), 2);
  removexattr(dir, "user.d");

  /* An unprivileged user may not set user.* on a file it cannot write. */
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setuid(65534) != 0) _exit(2);
    if (setxattr(f, "user.z", "1", 1, 0) != -1 || errno != EACCES) _exit(3);
    if (getxattr(f, "trusted.t", buf, sizeof buf) != -1 || errno != ENODATA) _exit(4);
    if (setxattr(f, "trusted.t", "1", 1, 0) != -1 || errno != EPERM) _exit(5);
    if (strcmp(sorted_list(f), "user.a") != 0) _exit(6);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  EXPECT_EXIT("unprivileged", st, 0);
  t_rmtree(dir);
  TEST_DONE();
}
