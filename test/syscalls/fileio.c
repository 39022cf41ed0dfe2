/* fileio.c: open/read/write/lseek/pread/pwrite, open flags, dup*, fcntl,
 * close-on-exec across execve. */
#include "test.h"
#include <sys/uio.h>

/* Re-executed image: argv = [self, "cloexec-child", fdA, fdB]. fdA was
 * O_CLOEXEC and must be gone; fdB must survive with its shared offset. */
static int cloexec_child(int argc, char **argv) {
  if (argc < 4) return 10;
  int a = atoi(argv[2]), b = atoi(argv[3]);
  if (fcntl(a, F_GETFD) != -1 || errno != EBADF) return 11;
  if (fcntl(b, F_GETFD) != 0) return 12;
  if (lseek(b, 0, SEEK_CUR) != 3) return 13;
  char c;
  if (read(b, &c, 1) != 1 || c != 'd') return 14;
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "cloexec-child") == 0)
    return cloexec_child(argc, argv);

  char *dir = t_tmpdir("fileio");
  char path[300], path2[300];
  snprintf(path, sizeof path, "%s/f", dir);
  snprintf(path2, sizeof path2, "%s/g", dir);
  char buf[512];
  struct stat st;

  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  CHECK("open.creat", fd >= 0);
  EXPECT_EQ("write.count", write(fd, "hello world", 11), 11);
  EXPECT_EQ("write.advances_offset", lseek(fd, 0, SEEK_CUR), 11);
  EXPECT_ERRNO("read.on_wronly", read(fd, buf, 1), EBADF);
  EXPECT_OK("close", close(fd));
  EXPECT_ERRNO("close.twice", close(fd), EBADF);
  EXPECT_ERRNO("close.minus1", close(-1), EBADF);

  fd = open(path, O_RDONLY);
  CHECK("open.rdonly", fd >= 0);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("read.partial", read(fd, buf, 5), 5);
  EXPECT_STR("read.partial.data", buf, "hello");
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("read.rest", read(fd, buf, sizeof buf), 6);
  EXPECT_STR("read.rest.data", buf, " world");
  EXPECT_EQ("read.eof", read(fd, buf, sizeof buf), 0);
  EXPECT_ERRNO("write.on_rdonly", write(fd, "x", 1), EBADF);
  EXPECT_EQ("lseek.set", lseek(fd, 6, SEEK_SET), 6);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("read.after_seek", read(fd, buf, 5), 5);
  EXPECT_STR("read.after_seek.data", buf, "world");
  EXPECT_EQ("lseek.end_minus5", lseek(fd, -5, SEEK_END), 6);
  EXPECT_EQ("lseek.cur_plus2", lseek(fd, 2, SEEK_CUR), 8);
  EXPECT_EQ("lseek.end", lseek(fd, 0, SEEK_END), 11);
  EXPECT_EQ("lseek.past_end", lseek(fd, 100, SEEK_SET), 100);
  EXPECT_EQ("read.past_end", read(fd, buf, 10), 0);
  EXPECT_ERRNO("lseek.negative", lseek(fd, -1, SEEK_SET), EINVAL);
  EXPECT_ERRNO("lseek.bad_whence", lseek(fd, 0, 99), EINVAL);
  lseek(fd, 1, SEEK_SET);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("pread.count", pread(fd, buf, 5, 6), 5);
  EXPECT_STR("pread.data", buf, "world");
  EXPECT_EQ("pread.keeps_offset", lseek(fd, 0, SEEK_CUR), 1);
  EXPECT_EQ("pread.at_eof", pread(fd, buf, 5, 11), 0);
  EXPECT_ERRNO("pread.negative_offset", pread(fd, buf, 5, -1), EINVAL);
  close(fd);

  fd = open(path, O_RDWR);
  CHECK("open.rdwr", fd >= 0);
  EXPECT_EQ("pwrite.count", pwrite(fd, "HELLO", 5, 0), 5);
  EXPECT_EQ("pwrite.keeps_offset", lseek(fd, 0, SEEK_CUR), 0);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("read.after_pwrite", read(fd, buf, sizeof buf), 11);
  EXPECT_STR("read.after_pwrite.data", buf, "HELLO world");
  /* Writing past EOF leaves a hole that reads back as zeros. */
  EXPECT_EQ("pwrite.hole", pwrite(fd, "Z", 1, 20), 1);
  memset(buf, 'x', sizeof buf);
  EXPECT_EQ("read.hole", pread(fd, buf, 21, 0), 21);
  CHECK("read.hole.zeros", buf[11] == 0 && buf[19] == 0 && buf[20] == 'Z');
  EXPECT_OK("ftruncate.shrink", ftruncate(fd, 11));
  fstat(fd, &st);
  EXPECT_EQ("ftruncate.shrink.size", st.st_size, 11);
  EXPECT_OK("ftruncate.grow", ftruncate(fd, 4096));
  fstat(fd, &st);
  EXPECT_EQ("ftruncate.grow.size", st.st_size, 4096);
  memset(buf, 'x', sizeof buf);
  EXPECT_EQ("read.grown", pread(fd, buf, 10, 100), 10);
  CHECK("read.grown.zeros", buf[0] == 0 && buf[9] == 0);
  EXPECT_ERRNO("ftruncate.negative", ftruncate(fd, -1), EINVAL);
  ftruncate(fd, 11);

  /* readv / writev */
  struct iovec iov[2];
  char a[3], b[8];
  iov[0].iov_base = a; iov[0].iov_len = sizeof a;
  iov[1].iov_base = b; iov[1].iov_len = sizeof b;
  EXPECT_EQ("readv.count", preadv(fd, iov, 2, 0), 11);
  CHECK("readv.data", memcmp(a, "HEL", 3) == 0 && memcmp(b, "LO world", 8) == 0);
  iov[0].iov_base = "ab"; iov[0].iov_len = 2;
  iov[1].iov_base = "cd"; iov[1].iov_len = 2;
  lseek(fd, 0, SEEK_END);
  EXPECT_EQ("writev.count", writev(fd, iov, 2), 4);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("writev.readback", pread(fd, buf, sizeof buf, 0), 15);
  EXPECT_STR("writev.readback.data", buf, "HELLO worldabcd");
  close(fd);

  /* O_APPEND: every write goes to the end, whatever the offset. */
  fd = open(path, O_WRONLY | O_APPEND);
  CHECK("open.append", fd >= 0);
  lseek(fd, 0, SEEK_SET);
  EXPECT_EQ("append.write", write(fd, "!", 1), 1);
  EXPECT_EQ("append.offset_at_end", lseek(fd, 0, SEEK_CUR), 16);
  /* Linux quirk (see pwrite(2) BUGS): pwrite on O_APPEND appends too. */
  EXPECT_EQ("append.pwrite", pwrite(fd, "?", 1, 0), 1);
  close(fd);
  fd = open(path, O_RDONLY);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("append.size", read(fd, buf, sizeof buf), 17);
  EXPECT_STR("append.data", buf, "HELLO worldabcd!?");
  close(fd);

  /* O_TRUNC */
  fd = open(path, O_WRONLY | O_TRUNC);
  CHECK("open.trunc", fd >= 0);
  fstat(fd, &st);
  EXPECT_EQ("trunc.size", st.st_size, 0);
  write(fd, "abcdefgh", 8);
  close(fd);

  /* O_EXCL and friends */
  EXPECT_ERRNO("excl.exists", open(path, O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
  fd = open(path2, O_CREAT | O_EXCL | O_WRONLY, 0600);
  CHECK("excl.new", fd >= 0);
  close(fd);
  EXPECT_OK("excl.new.exists", stat(path2, &st));
  EXPECT_EQ("excl.new.mode", st.st_mode & 07777, 0600);
  snprintf(buf, sizeof buf, "%s/nope", dir);
  EXPECT_ERRNO("open.enoent", open(buf, O_RDONLY), ENOENT);
  snprintf(buf, sizeof buf, "%s/nope/x", dir);
  EXPECT_ERRNO("open.creat.missing_parent", open(buf, O_CREAT | O_WRONLY, 0644), ENOENT);
  snprintf(buf, sizeof buf, "%s/x", path);
  EXPECT_ERRNO("open.enotdir", open(buf, O_RDONLY), ENOTDIR);
  EXPECT_ERRNO("open.dir.wronly", open(dir, O_WRONLY), EISDIR);
  EXPECT_ERRNO("open.o_directory.file", open(path, O_RDONLY | O_DIRECTORY), ENOTDIR);
  fd = open(dir, O_RDONLY | O_DIRECTORY);
  CHECK("open.o_directory.dir", fd >= 0);
  EXPECT_ERRNO("read.dir", read(fd, buf, 10), EISDIR);
  /* openat relative to a directory fd */
  int fd2 = openat(fd, "f", O_RDONLY);
  CHECK("openat.dirfd", fd2 >= 0);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("openat.read", read(fd2, buf, 3), 3);
  EXPECT_STR("openat.read.data", buf, "abc");
  close(fd2);
  EXPECT_ERRNO("openat.notdir_fd", openat(STDIN_FILENO + 100, "f", O_RDONLY), EBADF);
  close(fd);

  /* dup / dup2 / dup3 / F_DUPFD share the open file description. */
  fd = open(path, O_RDONLY);
  int d = dup(fd);
  CHECK("dup", d >= 0 && d != fd);
  lseek(d, 3, SEEK_SET);
  EXPECT_EQ("dup.shared_offset", lseek(fd, 0, SEEK_CUR), 3);
  close(d);
  EXPECT_EQ("dup.lowest_free", dup(fd), d);
  close(d);
  EXPECT_EQ("dup2", dup2(fd, 100), 100);
  EXPECT_EQ("dup2.shared_offset", lseek(100, 0, SEEK_CUR), 3);
  EXPECT_EQ("dup2.same_fd", dup2(fd, fd), fd);
  EXPECT_EQ("dup2.replaces", dup2(fd, 100), 100);
  EXPECT_ERRNO("dup2.badfd", dup2(999, 101), EBADF);
  EXPECT_ERRNO("dup3.same_fd", dup3(fd, fd, 0), EINVAL);
  EXPECT_ERRNO("dup3.bad_flags", dup3(fd, 102, O_APPEND), EINVAL);
  EXPECT_EQ("dup3.cloexec", dup3(fd, 102, O_CLOEXEC), 102);
  EXPECT_EQ("dup3.cloexec.flag", fcntl(102, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ("dup2.clears_cloexec", fcntl(100, F_GETFD), 0);
  CHECK("f_dupfd.min", fcntl(fd, F_DUPFD, 50) >= 50);
  int dc = fcntl(fd, F_DUPFD_CLOEXEC, 60);
  CHECK("f_dupfd_cloexec.min", dc >= 60);
  EXPECT_EQ("f_dupfd_cloexec.flag", fcntl(dc, F_GETFD), FD_CLOEXEC);
  EXPECT_ERRNO("dup.badfd", dup(12345), EBADF);
  close(100); close(102);
  close(fd);

  /* fcntl file status flags */
  fd = open(path, O_RDWR);
  int fl = fcntl(fd, F_GETFL);
  EXPECT_EQ("getfl.accmode", fl & O_ACCMODE, O_RDWR);
  CHECK("getfl.no_append", !(fl & O_APPEND));
  EXPECT_OK("setfl.append_nonblock", fcntl(fd, F_SETFL, fl | O_APPEND | O_NONBLOCK));
  fl = fcntl(fd, F_GETFL);
  CHECK("getfl.append", (fl & O_APPEND) != 0);
  CHECK("getfl.nonblock", (fl & O_NONBLOCK) != 0);
  /* F_SETFL cannot change the access mode. */
  fcntl(fd, F_SETFL, O_RDONLY);
  EXPECT_EQ("setfl.keeps_accmode", fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
  EXPECT_EQ("getfd.default", fcntl(fd, F_GETFD), 0);
  EXPECT_OK("setfd.cloexec", fcntl(fd, F_SETFD, FD_CLOEXEC));
  EXPECT_EQ("getfd.cloexec", fcntl(fd, F_GETFD), FD_CLOEXEC);
  EXPECT_ERRNO("fcntl.badfd", fcntl(777, F_GETFD), EBADF);
  EXPECT_ERRNO("fcntl.badcmd", fcntl(fd, 99999), EINVAL);
  close(fd);

  /* Unlinked files stay readable through open descriptors. */
  fd = open(path2, O_RDWR);
  write(fd, "keep", 4);
  EXPECT_OK("unlink.open_file", unlink(path2));
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("unlink.still_readable", pread(fd, buf, 10, 0), 4);
  fstat(fd, &st);
  EXPECT_EQ("unlink.nlink0", st.st_nlink, 0);
  close(fd);

  /* A 1 MiB round trip exercises multi-page copies. */
  size_t big = 1 << 20;
  char *p = malloc(big), *q = malloc(big);
  for (size_t i = 0; i < big; i++) p[i] = (char)(i * 7 + i / 4096);
  fd = open(path2, O_CREAT | O_RDWR | O_TRUNC, 0644);
  EXPECT_EQ("big.write", write(fd, p, big), big);
  EXPECT_EQ("big.pread", pread(fd, q, big, 0), big);
  CHECK("big.data", memcmp(p, q, big) == 0);
  close(fd);
  free(p); free(q);

  /* /dev/null and /dev/zero */
  fd = open("/dev/null", O_RDWR);
  CHECK("devnull.open", fd >= 0);
  EXPECT_EQ("devnull.write", write(fd, "abc", 3), 3);
  EXPECT_EQ("devnull.read", read(fd, buf, sizeof buf), 0);
  close(fd);
  fd = open("/dev/zero", O_RDONLY);
  memset(buf, 'x', sizeof buf);
  EXPECT_EQ("devzero.read", read(fd, buf, 100), 100);
  CHECK("devzero.zeros", buf[0] == 0 && buf[99] == 0 && buf[100] == 'x');
  close(fd);

  /* Close-on-exec, seen from the new image. */
  int A = open(path, O_RDONLY | O_CLOEXEC);
  int B = open(path, O_RDONLY);
  lseek(B, 3, SEEK_SET);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char as[16], bs[16];
    snprintf(as, sizeof as, "%d", A);
    snprintf(bs, sizeof bs, "%d", B);
    execl(argv[0], argv[0], "cloexec-child", as, bs, (char *)NULL);
    _exit(99);
  }
  int ws = 0;
  waitpid(pid, &ws, 0);
  EXPECT_EXIT("cloexec.across_exec", ws, 0);
  EXPECT_EQ("cloexec.shared_offset_after_child", lseek(B, 0, SEEK_CUR), 4);
  close(A); close(B);

  t_rmtree(dir);
  EXPECT_ERRNO("cleanup", access(dir, F_OK), ENOENT);
  TEST_DONE();
}
