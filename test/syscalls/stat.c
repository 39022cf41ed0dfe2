/* stat.c: stat/fstat/lstat/newfstatat/statx fields, chmod, utimensat,
 * link counts, access. */
#include "test.h"
#include <sys/sysmacros.h>
#include <time.h>

int main(void) {
  char *dir = t_tmpdir("stat");
  char f[300], l[300], h[300], sub[300], buf[600];
  snprintf(f, sizeof f, "%s/file", dir);
  snprintf(l, sizeof l, "%s/link", dir);
  snprintf(h, sizeof h, "%s/hard", dir);
  snprintf(sub, sizeof sub, "%s/sub", dir);
  struct stat st, st2;

  umask(022);
  char data[1234];
  memset(data, 'a', sizeof data);
  time_t before = time(NULL);
  CHECK("setup.file", t_write_file(f, data, sizeof data, 0640) == 0);

  EXPECT_OK("stat", stat(f, &st));
  CHECK("stat.isreg", S_ISREG(st.st_mode));
  EXPECT_EQ("stat.size", st.st_size, 1234);
  EXPECT_EQ("stat.mode", st.st_mode & 07777, 0640);
  EXPECT_EQ("stat.nlink", st.st_nlink, 1);
  EXPECT_EQ("stat.uid", st.st_uid, geteuid());
  EXPECT_EQ("stat.gid", st.st_gid, getegid());
  CHECK("stat.blksize", st.st_blksize > 0);
  CHECK("stat.blocks", st.st_blocks * 512 >= 1234);
  CHECK("stat.ino", st.st_ino != 0);
  CHECK("stat.mtime_recent", st.st_mtime >= before - 2 && st.st_mtime <= time(NULL) + 2);
  CHECK("stat.ctime_recent", st.st_ctime >= before - 2 && st.st_ctime <= time(NULL) + 2);

  int fd = open(f, O_RDONLY);
  EXPECT_OK("fstat", fstat(fd, &st2));
  CHECK("fstat.same_file", st2.st_ino == st.st_ino && st2.st_dev == st.st_dev);
  EXPECT_EQ("fstat.size", st2.st_size, 1234);
  EXPECT_ERRNO("fstat.badfd", fstat(4242, &st2), EBADF);

  /* Symlinks: lstat sees the link, stat follows it. */
  EXPECT_OK("symlink", symlink("file", l));
  EXPECT_OK("lstat", lstat(l, &st2));
  CHECK("lstat.islnk", S_ISLNK(st2.st_mode));
  EXPECT_EQ("lstat.size_is_target_len", st2.st_size, 4);
  EXPECT_OK("stat.follows", stat(l, &st2));
  CHECK("stat.follows.isreg", S_ISREG(st2.st_mode) && st2.st_ino == st.st_ino);

  /* newfstatat: dirfd-relative, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. */
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  EXPECT_OK("fstatat.relative", fstatat(dfd, "file", &st2, 0));
  EXPECT_EQ("fstatat.relative.ino", st2.st_ino, st.st_ino);
  EXPECT_OK("fstatat.nofollow", fstatat(dfd, "link", &st2, AT_SYMLINK_NOFOLLOW));
  CHECK("fstatat.nofollow.islnk", S_ISLNK(st2.st_mode));
  EXPECT_OK("fstatat.empty_path", fstatat(fd, "", &st2, AT_EMPTY_PATH));
  EXPECT_EQ("fstatat.empty_path.ino", st2.st_ino, st.st_ino);
  EXPECT_ERRNO("fstatat.empty_no_flag", fstatat(fd, "", &st2, 0), ENOENT);
  EXPECT_ERRNO("fstatat.bad_flags", fstatat(dfd, "file", &st2, 0x40000000), EINVAL);
  EXPECT_ERRNO("fstatat.file_as_dirfd", fstatat(fd, "x", &st2, 0), ENOTDIR);
  close(fd);

  /* statx */
  struct statx sx;
  memset(&sx, 0, sizeof sx);
  EXPECT_OK("statx", statx(AT_FDCWD, f, 0, STATX_BASIC_STATS, &sx));
  CHECK("statx.mask", (sx.stx_mask & (STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_NLINK)) ==
                          (STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_NLINK));
  EXPECT_EQ("statx.size", sx.stx_size, 1234);
  EXPECT_EQ("statx.mode", sx.stx_mode, S_IFREG | 0640);
  EXPECT_EQ("statx.nlink", sx.stx_nlink, 1);
  EXPECT_EQ("statx.ino", sx.stx_ino, st.st_ino);
  EXPECT_EQ("statx.mtime", sx.stx_mtime.tv_sec, st.st_mtime);
  EXPECT_EQ("statx.dev", makedev(sx.stx_dev_major, sx.stx_dev_minor), st.st_dev);
  EXPECT_OK("statx.nofollow", statx(dfd, "link", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
  CHECK("statx.nofollow.islnk", S_ISLNK(sx.stx_mode));
  EXPECT_ERRNO("statx.enoent", statx(AT_FDCWD, "/nonexistent/x", 0, STATX_BASIC_STATS, &sx), ENOENT);
  EXPECT_ERRNO("statx.bad_mask", statx(AT_FDCWD, f, 0, 0x80000000U, &sx), EINVAL);

  /* Directories and special files */
  EXPECT_OK("mkdir", mkdir(sub, 0755));
  EXPECT_OK("stat.dir", stat(sub, &st2));
  CHECK("stat.dir.isdir", S_ISDIR(st2.st_mode));
  EXPECT_EQ("stat.dir.nlink", st2.st_nlink, 2);
  EXPECT_OK("stat.parent", stat(dir, &st2));
  EXPECT_EQ("stat.parent.nlink_counts_subdir", st2.st_nlink, 3);
  EXPECT_OK("stat.root", stat("/", &st2));
  CHECK("stat.root.isdir", S_ISDIR(st2.st_mode));
  EXPECT_OK("stat.devnull", stat("/dev/null", &st2));
  CHECK("stat.devnull.ischr", S_ISCHR(st2.st_mode));
  CHECK("stat.devnull.rdev", major(st2.st_rdev) == 1 && minor(st2.st_rdev) == 3);
  EXPECT_OK("fstat.stdin", fstat(0, &st2));

  /* A host file: size agrees with what read() returns. */
  EXPECT_OK("stat.host_file", stat("/etc/passwd", &st2));
  CHECK("stat.host_file.isreg", S_ISREG(st2.st_mode));
  fd = open("/etc/passwd", O_RDONLY);
  long total = 0, n;
  while ((n = read(fd, buf, sizeof buf)) > 0) total += n;
  close(fd);
  EXPECT_EQ("stat.host_file.size_matches_read", total, st2.st_size);

  /* Errors */
  EXPECT_ERRNO("stat.enoent", stat("/nonexistent-tsv", &st2), ENOENT);
  EXPECT_ERRNO("stat.empty", stat("", &st2), ENOENT);
  snprintf(buf, sizeof buf, "%s/x", f);
  EXPECT_ERRNO("stat.enotdir", stat(buf, &st2), ENOTDIR);
  snprintf(buf, sizeof buf, "%s/", f);
  EXPECT_ERRNO("stat.trailing_slash_on_file", stat(buf, &st2), ENOTDIR);
  char longname[400];
  memset(longname, 'n', sizeof longname);
  longname[sizeof longname - 1] = 0;
  EXPECT_ERRNO("stat.enametoolong", stat(longname, &st2), ENAMETOOLONG);

  /* Hard links */
  EXPECT_OK("link", link(f, h));
  stat(f, &st2);
  EXPECT_EQ("link.nlink2", st2.st_nlink, 2);
  lstat(h, &st2);
  EXPECT_EQ("link.same_ino", st2.st_ino, st.st_ino);
  unlink(h);
  stat(f, &st2);
  EXPECT_EQ("unlink.nlink1", st2.st_nlink, 1);

  /* chmod / fchmod */
  EXPECT_OK("chmod", chmod(f, 0600));
  stat(f, &st2);
  EXPECT_EQ("chmod.mode", st2.st_mode & 07777, 0600);
  fd = open(f, O_RDWR);
  EXPECT_OK("fchmod", fchmod(fd, 04755));
  fstat(fd, &st2);
  EXPECT_EQ("fchmod.mode", st2.st_mode & 07777, 04755);
  fchmod(fd, 0644);

  /* utimensat sets times; a write then bumps mtime. */
  struct timespec ts[2] = {{1000000000, 111}, {1200000000, 222}};
  EXPECT_OK("utimensat", utimensat(AT_FDCWD, f, ts, 0));
  stat(f, &st2);
  EXPECT_EQ("utimensat.atime", st2.st_atim.tv_sec, 1000000000);
  EXPECT_EQ("utimensat.mtime", st2.st_mtim.tv_sec, 1200000000);
  EXPECT_EQ("utimensat.mtime_nsec", st2.st_mtim.tv_nsec, 222);
  struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  EXPECT_OK("utimensat.omit_now", utimensat(AT_FDCWD, f, omit, 0));
  stat(f, &st2);
  EXPECT_EQ("utimensat.omit.atime", st2.st_atim.tv_sec, 1000000000);
  CHECK("utimensat.now.mtime", st2.st_mtime >= before - 2);
  utimensat(AT_FDCWD, f, ts, 0);
  write(fd, "x", 1);
  fstat(fd, &st2);
  CHECK("write.bumps_mtime", st2.st_mtime > 1200000000);
  ftruncate(fd, 10);
  fstat(fd, &st2);
  EXPECT_EQ("ftruncate.size", st2.st_size, 10);
  EXPECT_OK("truncate", truncate(f, 3));
  stat(f, &st2);
  EXPECT_EQ("truncate.size", st2.st_size, 3);
  close(fd);

  /* access */
  EXPECT_OK("access.f_ok", access(f, F_OK));
  EXPECT_OK("access.r_ok", access(f, R_OK | W_OK));
  EXPECT_ERRNO("access.enoent", access("/nonexistent-tsv", F_OK), ENOENT);
  EXPECT_OK("access.x_ok.bin_sh", access("/bin/sh", X_OK));
  EXPECT_ERRNO("access.bad_mode", access(f, 0x100), EINVAL);

  close(dfd);
  t_rmtree(dir);
  TEST_DONE();
}
