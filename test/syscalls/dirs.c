/* dirs.c: mkdir/rmdir/getdents64/rename/unlink/symlink/readlink/link,
 * chdir/getcwd and their errnos, in a fresh directory under /tmp. */
#include "test.h"
#include <dirent.h>

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static int cmpstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List a directory with raw getdents64 and a small buffer (forcing several
 * calls); returns "name:type,..." sorted, or NULL on error. */
static char *list_dir(const char *path, size_t bufsz) {
  static char out[4096];
  char *names[64];
  int n = 0;
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return NULL;
  char *buf = malloc(bufsz);
  for (;;) {
    long r = syscall(SYS_getdents64, fd, buf, bufsz);
    if (r < 0) { close(fd); free(buf); return NULL; }
    if (r == 0) break;
    for (long off = 0; off < r;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
      if (n < 64) {
        names[n] = malloc(300);
        snprintf(names[n], 300, "%s:%c", d->d_name,
                 d->d_type == DT_DIR ? 'd' : d->d_type == DT_REG ? 'f'
                 : d->d_type == DT_LNK ? 'l' : '?');
        n++;
      }
      off += d->d_reclen;
    }
  }
  close(fd);
  free(buf);
  qsort(names, n, sizeof names[0], cmpstr);
  out[0] = 0;
  for (int i = 0; i < n; i++) {
    if (i) strcat(out, ",");
    strcat(out, names[i]);
    free(names[i]);
  }
  return out;
}

int main(void) {
  char *dir = t_tmpdir("dirs");
  if (chdir(dir) != 0) { perror("chdir"); return 2; }
  char buf[600];
  struct stat st;
  umask(022);

  /* mkdir */
  EXPECT_OK("mkdir", mkdir("a", 0777));
  stat("a", &st);
  EXPECT_EQ("mkdir.mode_umask", st.st_mode & 07777, 0755);
  EXPECT_ERRNO("mkdir.eexist", mkdir("a", 0755), EEXIST);
  EXPECT_ERRNO("mkdir.enoent", mkdir("nope/b", 0755), ENOENT);
  t_write_file("file", "data", 4, 0644);
  EXPECT_ERRNO("mkdir.enotdir", mkdir("file/x", 0755), ENOTDIR);
  EXPECT_ERRNO("mkdir.file_exists", mkdir("file", 0755), EEXIST);
  EXPECT_OK("mkdir.nested", mkdir("a/b", 0755));
  EXPECT_OK("mkdir.trailing_slash", mkdir("c/", 0755));

  /* getdents64 */
  for (int i = 0; i < 5; i++) {
    snprintf(buf, sizeof buf, "a/f%d", i);
    t_write_file(buf, "x", 1, 0644);
  }
  symlink("f0", "a/l");
  EXPECT_STR("getdents64.small_buffer", list_dir("a", 64),
             "..:d,.:d,b:d,f0:f,f1:f,f2:f,f3:f,f4:f,l:l");
  EXPECT_STR("getdents64.big_buffer", list_dir("a", 65536),
             "..:d,.:d,b:d,f0:f,f1:f,f2:f,f3:f,f4:f,l:l");
  EXPECT_STR("getdents64.empty_dir", list_dir("a/b", 4096), "..:d,.:d");
  int fd = open("a", O_RDONLY | O_DIRECTORY);
  char tiny[8];
  EXPECT_ERRNO("getdents64.tiny_buffer", syscall(SYS_getdents64, fd, tiny, 1), EINVAL);
  char dbuf[4096];
  long first = syscall(SYS_getdents64, fd, dbuf, sizeof dbuf);
  CHECK("getdents64.read", first > 0);
  EXPECT_EQ("getdents64.at_end", syscall(SYS_getdents64, fd, dbuf, sizeof dbuf), 0);
  EXPECT_EQ("getdents64.rewind", lseek(fd, 0, SEEK_SET), 0);
  EXPECT_EQ("getdents64.reread", syscall(SYS_getdents64, fd, dbuf, sizeof dbuf), first);
  close(fd);
  fd = open("file", O_RDONLY);
  EXPECT_ERRNO("getdents64.enotdir", syscall(SYS_getdents64, fd, dbuf, sizeof dbuf), ENOTDIR);
  close(fd);

  /* readdir(3) over a host directory agrees with stat. */
  DIR *d = opendir("/etc");
  int entries = 0, dirs_ok = 1;
  struct dirent *de;
  while (d && (de = readdir(d))) {
    entries++;
    if (de->d_type == DT_DIR) {
      snprintf(buf, sizeof buf, "/etc/%s", de->d_name);
      if (lstat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) dirs_ok = 0;
    }
  }
  if (d) closedir(d);
  CHECK("readdir.host_etc", entries > 3);
  CHECK("readdir.host_etc.dtype_matches_stat", dirs_ok);

  /* rmdir / unlink errors */
  EXPECT_ERRNO("rmdir.enotempty", rmdir("a"), ENOTEMPTY);
  EXPECT_ERRNO("rmdir.enotdir", rmdir("file"), ENOTDIR);
  EXPECT_ERRNO("rmdir.enoent", rmdir("nope"), ENOENT);
  EXPECT_ERRNO("rmdir.dot", rmdir("a/b/."), EINVAL);
  EXPECT_ERRNO("unlink.eisdir", unlink("a"), EISDIR);
  EXPECT_ERRNO("unlink.enoent", unlink("nope"), ENOENT);
  EXPECT_ERRNO("unlink.enotdir", unlink("file/x"), ENOTDIR);
  EXPECT_OK("rmdir", rmdir("c"));
  EXPECT_ERRNO("rmdir.gone", access("c", F_OK), ENOENT);

  /* rename */
  EXPECT_OK("rename.file", rename("a/f1", "a/g1"));
  EXPECT_ERRNO("rename.old_gone", access("a/f1", F_OK), ENOENT);
  EXPECT_OK("rename.new_there", access("a/g1", F_OK));
  EXPECT_OK("rename.replace_file", rename("a/f2", "a/g1"));
  EXPECT_ERRNO("rename.replaced_gone", access("a/f2", F_OK), ENOENT);
  EXPECT_OK("rename.same", rename("a/g1", "a/g1"));
  EXPECT_ERRNO("rename.enoent", rename("a/nope", "a/x"), ENOENT);
  mkdir("e", 0755);
  EXPECT_ERRNO("rename.dir_over_nonempty_dir", rename("e", "a"), ENOTEMPTY);
  EXPECT_ERRNO("rename.dir_over_file", rename("e", "file"), ENOTDIR);
  EXPECT_ERRNO("rename.file_over_dir", rename("file", "e"), EISDIR);
  EXPECT_ERRNO("rename.into_own_subdir", rename("a", "a/b/a"), EINVAL);
  EXPECT_OK("rename.dir_over_empty_dir", rename("e", "a/b"));
  EXPECT_OK("rename.dir", rename("a/b", "moved"));
  EXPECT_OK("rename.dir.there", stat("moved", &st));
  CHECK("rename.dir.isdir", S_ISDIR(st.st_mode));
  t_write_file("r1", "1", 1, 0644);
  t_write_file("r2", "2", 1, 0644);
  EXPECT_ERRNO("renameat2.noreplace", renameat2(AT_FDCWD, "r1", AT_FDCWD, "r2", RENAME_NOREPLACE), EEXIST);
  EXPECT_OK("renameat2.exchange", renameat2(AT_FDCWD, "r1", AT_FDCWD, "r2", RENAME_EXCHANGE));
  fd = open("r1", O_RDONLY);
  char c = 0;
  read(fd, &c, 1);
  close(fd);
  EXPECT_EQ("renameat2.exchange.data", c, '2');

  /* symlink / readlink */
  EXPECT_OK("symlink", symlink("file", "sl"));
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("readlink.len", readlink("sl", buf, sizeof buf), 4);
  EXPECT_STR("readlink.target", buf, "file");
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("readlink.truncates", readlink("sl", buf, 2), 2);
  EXPECT_STR("readlink.truncated", buf, "fi");
  EXPECT_ERRNO("readlink.not_link", readlink("file", buf, sizeof buf), EINVAL);
  EXPECT_ERRNO("readlink.enoent", readlink("nope", buf, sizeof buf), ENOENT);
  EXPECT_ERRNO("symlink.eexist", symlink("x", "sl"), EEXIST);
  EXPECT_OK("symlink.dangling", symlink("does-not-exist", "dang"));
  EXPECT_ERRNO("stat.dangling", stat("dang", &st), ENOENT);
  EXPECT_OK("lstat.dangling", lstat("dang", &st));
  EXPECT_ERRNO("open.nofollow", open("sl", O_RDONLY | O_NOFOLLOW), ELOOP);
  symlink("loop2", "loop1");
  symlink("loop1", "loop2");
  EXPECT_ERRNO("stat.loop", stat("loop1", &st), ELOOP);
  EXPECT_OK("symlink.to_dir", symlink("moved", "dl"));
  EXPECT_OK("symlink.dir_traverse", stat("dl/.", &st));
  EXPECT_OK("symlink.absolute", symlink("/etc/passwd", "abs"));
  EXPECT_OK("symlink.absolute.stat", stat("abs", &st));
  EXPECT_OK("unlink.symlink_only", unlink("sl"));
  EXPECT_OK("unlink.symlink_target_kept", access("file", F_OK));

  /* hard links */
  EXPECT_OK("link", link("file", "hl"));
  stat("file", &st);
  EXPECT_EQ("link.nlink", st.st_nlink, 2);
  EXPECT_ERRNO("link.eexist", link("file", "hl"), EEXIST);
  EXPECT_ERRNO("link.dir", link("moved", "hd"), EPERM);
  EXPECT_ERRNO("link.enoent", link("nope", "x"), ENOENT);

  /* chdir / getcwd / fchdir */
  char cwd[600];
  EXPECT_OK("chdir", chdir("moved"));
  CHECK("getcwd", getcwd(cwd, sizeof cwd) != NULL);
  snprintf(buf, sizeof buf, "%s/moved", dir);
  EXPECT_STR("getcwd.value", cwd, buf);
  EXPECT_OK("chdir.dotdot", chdir(".."));
  getcwd(cwd, sizeof cwd);
  EXPECT_STR("getcwd.after_dotdot", cwd, dir);
  EXPECT_ERRNO("chdir.enotdir", chdir("file"), ENOTDIR);
  EXPECT_ERRNO("chdir.enoent", chdir("nope"), ENOENT);
  fd = open("moved", O_RDONLY | O_DIRECTORY);
  EXPECT_OK("fchdir", fchdir(fd));
  getcwd(cwd, sizeof cwd);
  EXPECT_STR("fchdir.getcwd", cwd, buf);
  close(fd);
  errno = 0;
  CHECK("getcwd.erange", getcwd(cwd, 2) == NULL && errno == ERANGE);
  chdir("/");

  /* Long names */
  char longname[300];
  memset(longname, 'n', 256);
  longname[256] = 0;
  snprintf(buf, sizeof buf, "%s/%s", dir, longname);
  EXPECT_ERRNO("mkdir.enametoolong", mkdir(buf, 0755), ENAMETOOLONG);
  longname[255] = 0;
  snprintf(buf, sizeof buf, "%s/%s", dir, longname);
  EXPECT_OK("mkdir.name255", mkdir(buf, 0755));

  /* unlinkat with AT_REMOVEDIR */
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  EXPECT_OK("mkdirat", mkdirat(dfd, "z", 0700));
  EXPECT_ERRNO("unlinkat.dir_without_flag", unlinkat(dfd, "z", 0), EISDIR);
  EXPECT_OK("unlinkat.removedir", unlinkat(dfd, "z", AT_REMOVEDIR));
  EXPECT_ERRNO("unlinkat.removedir_file", unlinkat(dfd, "file", AT_REMOVEDIR), ENOTDIR);
  close(dfd);

  t_rmtree(dir);
  EXPECT_ERRNO("cleanup", access(dir, F_OK), ENOENT);
  TEST_DONE();
}
