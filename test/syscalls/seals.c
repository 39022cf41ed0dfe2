/* File seals: memfd_create(2) flags and fcntl(2) F_ADD_SEALS/F_GET_SEALS,
 * with each seal enforced on write, ftruncate, fallocate, mmap and chmod. */
#include "test.h"
#include <sys/mman.h>
#include <sys/uio.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x10
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x20
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x8
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x10
#endif

static char buf[16384];

static int mfd(unsigned flags) {
  return (int)syscall(SYS_memfd_create, "seals", flags);
}

static int fmode(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  return st.st_mode & 07777;
}

static int reopen(int fd, int flags) {
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  return open(p, flags | O_CLOEXEC);
}

static void test_create_flags(void) {
  int fd = mfd(MFD_CLOEXEC);
  EXPECT_EQ("create.default.seals", fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
  EXPECT_ERRNO("create.default.add", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), EPERM);
  EXPECT_EQ("create.default.mode", fmode(fd), 0777);
  close(fd);
  fd = mfd(MFD_CLOEXEC | MFD_ALLOW_SEALING);
  EXPECT_EQ("create.allow.seals", fcntl(fd, F_GET_SEALS), 0);
  close(fd);
  fd = mfd(MFD_CLOEXEC | MFD_EXEC);
  EXPECT_EQ("create.exec.seals", fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
  EXPECT_EQ("create.exec.mode", fmode(fd), 0777);
  close(fd);
  fd = mfd(MFD_CLOEXEC | MFD_EXEC | MFD_ALLOW_SEALING);
  EXPECT_EQ("create.exec_allow.seals", fcntl(fd, F_GET_SEALS), 0);
  close(fd);
  fd = mfd(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
  EXPECT_EQ("create.noexec.seals", fcntl(fd, F_GET_SEALS), F_SEAL_EXEC);
  EXPECT_EQ("create.noexec.mode", fmode(fd), 0666);
  EXPECT_OK("create.noexec.add_more", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
  EXPECT_EQ("create.noexec.after", fcntl(fd, F_GET_SEALS), F_SEAL_EXEC | F_SEAL_SEAL);
  close(fd);
  EXPECT_ERRNO("create.exec_and_noexec", mfd(MFD_EXEC | MFD_NOEXEC_SEAL), EINVAL);
  EXPECT_ERRNO("create.unknown_flag", mfd(0x80000000u), EINVAL);
}

static void test_add_errors(void) {
  int fd = mfd(MFD_CLOEXEC | MFD_ALLOW_SEALING);
  EXPECT_ERRNO("add.unknown_bit", fcntl(fd, F_ADD_SEALS, 0x40), EINVAL);
  EXPECT_OK("add.zero", fcntl(fd, F_ADD_SEALS, 0));
  /* The argument is an unsigned int: the upper half is dropped. */
  EXPECT_OK("add.upper_bits_ignored", fcntl(fd, F_ADD_SEALS, 0x100000004L));
  EXPECT_EQ("add.upper_bits.seals", fcntl(fd, F_GET_SEALS), F_SEAL_GROW);
  EXPECT_OK("add.twice", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));

  int ro = reopen(fd, O_RDONLY);
  CHECK("add.reopen_ro", ro >= 0);
  EXPECT_ERRNO("add.readonly_fd", fcntl(ro, F_ADD_SEALS, F_SEAL_SHRINK), EPERM);
  EXPECT_EQ("get.readonly_fd", fcntl(ro, F_GET_SEALS), F_SEAL_GROW);
  int wo = reopen(fd, O_WRONLY);
  EXPECT_OK("add.writeonly_fd", fcntl(wo, F_ADD_SEALS, F_SEAL_SHRINK));
  EXPECT_EQ("add.shared_by_inode", fcntl(fd, F_GET_SEALS), F_SEAL_GROW | F_SEAL_SHRINK);
  close(ro);
  close(wo);

  EXPECT_OK("add.seal", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
  EXPECT_ERRNO("add.after_seal", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
  EXPECT_ERRNO("add.after_seal.zero", fcntl(fd, F_ADD_SEALS, 0), EPERM);
  EXPECT_ERRNO("add.after_seal.unknown", fcntl(fd, F_ADD_SEALS, 0x40), EINVAL);
  close(fd);

  int p[2];
  CHECK("pipe", pipe2(p, O_CLOEXEC) == 0);
  EXPECT_ERRNO("pipe.get", fcntl(p[1], F_GET_SEALS), EINVAL);
  EXPECT_ERRNO("pipe.add_write_end", fcntl(p[1], F_ADD_SEALS, F_SEAL_GROW), EINVAL);
  EXPECT_ERRNO("pipe.add_read_end", fcntl(p[0], F_ADD_SEALS, F_SEAL_GROW), EPERM);
  close(p[0]);
  close(p[1]);

  int e = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  EXPECT_ERRNO("file.get", fcntl(e, F_GET_SEALS), EINVAL);
  EXPECT_ERRNO("file.add_readonly", fcntl(e, F_ADD_SEALS, F_SEAL_GROW), EPERM);
  close(e);
  char *dir = t_tmpdir("seals");
  char path[300];
  snprintf(path, sizeof path, "%s/f", dir);
  e = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  EXPECT_ERRNO("file.add_rdwr", fcntl(e, F_ADD_SEALS, F_SEAL_GROW), EINVAL);
  close(e);
  t_rmtree(dir);
}

static void test_shrink_grow(void) {
  int fd = mfd(MFD_CLOEXEC | MFD_ALLOW_SEALING);
  EXPECT_OK("shrink.setup", ftruncate(fd, 100));
  EXPECT_OK("shrink.add", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
  EXPECT_ERRNO("shrink.ftruncate_smaller", ftruncate(fd, 50), EPERM);
  EXPECT_OK("shrink.ftruncate_same", ftruncate(fd, 100));
  EXPECT_OK("shrink.ftruncate_larger", ftruncate(fd, 200));
  EXPECT_EQ("shrink.write_past_end", pwrite(fd, buf, 300, 150), 300);
  close(fd);

  fd = mfd(MFD_CLOEXEC | MFD_ALLOW_SEALING);
  EXPECT_OK("grow.setup", ftruncate(fd, 100));
  EXPECT_OK("grow.add", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
  EXPECT_ERRNO("grow.ftruncate_larger", ftruncate(fd, 200), EPERM);
  EXPECT_EQ("grow.write_inside", pwrite(fd, buf, 10, 90), 10);
  EXPECT_ERRNO("grow.write_crossing_end", pwrite(fd, buf, 10, 95), EPERM);
  EXPECT_ERRNO("grow.write_at_end", pwrite(fd, buf, 1, 100), EPERM);
  EXPECT_ERRNO("grow.write_beyond", pwrite(fd, buf, 1, 5000), EPERM);
  EXPECT_EQ("grow.write_empty", pwrite(fd, buf, 0, 5000), 0);
  struct iovec iv[2] = {{buf, 60}, {buf, 60}};
  EXPECT_ERRNO("grow.pwritev_crossing", pwritev(fd, iv, 2, 0), EPERM);
  int ap = reopen(fd, O_RDWR | O_APPEND);
  EXPECT_ERRNO("grow.append", write(ap, buf, 1), EPERM);
  close(ap);
  EXPECT_ERRNO("grow.fallocate_beyond", fallocate(fd, 0, 0, 400), EPERM);
  EXPECT_OK("grow.fallocate_inside", fallocate(fd, 0, 0, 40));
  EXPECT_OK("grow.ftruncate_smaller", ftruncate(fd, 50));
  struct stat st;
  fstat(fd, &st);
  EXPECT_EQ("grow.size", st.st_size, 50);
  close(fd);

  /* Linux stores a write page by page: the whole pages inside the file go. */
  fd = mfd(MFD_CLOEXEC | MFD_ALLOW_SEALING);
  EXPECT_OK("grow.pages.setup", ftruncate(fd, 8192));
  EXPECT_OK("grow.pages.add", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
  EXPECT_EQ("grow.pages.short_write", pwrite(fd, buf, 8192, 4096), 4096);
  EXPECT_EQ("grow.pages.unaligned", pwrite(fd, buf, 8192, 4000), 4192);
  EXPECT_EQ("grow.pages.tail", pwrite(fd, buf, 100, 8190), 2);
  fstat(fd, &st);
  EXPECT_EQ("grow.pages.size", st.st_size, 8192);
  close(fd);
}

static void test_write(void) {
  int fd = mfd(MFD_CLOEXEC | MFD_ALLOW_SEALING);
  EXPECT_OK("write.setup", ftruncate(fd, 4096));
  void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  CHECK("write.map_shared_ro", p != MAP_FAILED);
  /* A shared mapping of a writable fd may become writable: it blocks the seal. */
  EXPECT_ERRNO("write.busy_shared_readonly", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
  EXPECT_ERRNO("write.busy_with_others", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW), EBUSY);
  EXPECT_EQ("write.busy_adds_nothing", fcntl(fd, F_GET_SEALS), 0);
  munmap(p, 4096);

  p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK("write.map_shared_rw", p != MAP_FAILED);
  munmap(p, 4096);
  EXPECT_ERRNO("write.busy_after_partial_unmap", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
  munmap((char *)p + 4096, 4096);

  int ro = reopen(fd, O_RDONLY);
  void *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
  CHECK("write.map_readonly_fd", r != MAP_FAILED);
  void *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK("write.map_private", priv != MAP_FAILED);
  EXPECT_OK("write.add", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  EXPECT_EQ("write.seals", fcntl(fd, F_GET_SEALS), F_SEAL_WRITE);
  EXPECT_OK("write.private_still_writable", mprotect(priv, 4096, PROT_READ | PROT_WRITE));
  ((char *)priv)[0] = 'p';
  munmap(priv, 4096);
  munmap(r, 4096);
  close(ro);

  EXPECT_ERRNO("write.write", write(fd, buf, 1), EPERM);
  EXPECT_EQ("write.write_empty", write(fd, buf, 0), 0);
  EXPECT_ERRNO("write.pwrite", pwrite(fd, buf, 1, 0), EPERM);
  struct iovec iv[1] = {{buf, 10}};
  EXPECT_ERRNO("write.writev", writev(fd, iv, 1), EPERM);
  EXPECT_OK("write.ftruncate_larger", ftruncate(fd, 8192));
  EXPECT_OK("write.ftruncate_smaller", ftruncate(fd, 4096));
  EXPECT_OK("write.fallocate", fallocate(fd, 0, 0, 8192));
  errno = 0;
  p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK("write.mmap_shared_rw_eperm", p == MAP_FAILED && errno == EPERM);
  p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  CHECK("write.mmap_shared_ro", p != MAP_FAILED);
  EXPECT_ERRNO("write.mprotect_upgrade", mprotect(p, 4096, PROT_READ | PROT_WRITE), EACCES);
  munmap(p, 4096);
  p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK("write.mmap_private_rw", p != MAP_FAILED);
  munmap(p, 4096);
  close(fd);
}

static int child_sleep(void *arg) {
  (void)arg;
  usleep(200 * 1000);
  return 0;
}

static void test_write_fork(void) {
  int fd = mfd(MFD_CLOEXEC | MFD_ALLOW_SEALING);
  ftruncate(fd, 4096);
  void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) _exit(child_sleep(NULL));
  munmap(p, 4096);
  EXPECT_ERRNO("fork.child_mapping_busy", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
  int st = 0;
  waitpid(c, &st, 0);
  EXPECT_EXIT("fork.child", st, 0);
  EXPECT_OK("fork.after_child", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  close(fd);
}

static void test_future_write(void) {
  int fd = mfd(MFD_CLOEXEC | MFD_ALLOW_SEALING);
  EXPECT_OK("future.setup", ftruncate(fd, 4096));
  char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  CHECK("future.maps", w != MAP_FAILED && r != MAP_FAILED);
  EXPECT_OK("future.add", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
  EXPECT_EQ("future.seals", fcntl(fd, F_GET_SEALS), F_SEAL_FUTURE_WRITE);
  w[0] = 'z';
  char c = 0;
  EXPECT_EQ("future.pread", pread(fd, &c, 1, 0), 1);
  EXPECT_EQ("future.old_mapping_writes", c, 'z');
  EXPECT_OK("future.old_mapping_mprotect", mprotect(r, 4096, PROT_READ | PROT_WRITE));
  EXPECT_ERRNO("future.write", write(fd, buf, 1), EPERM);
  EXPECT_ERRNO("future.pwrite", pwrite(fd, buf, 1, 0), EPERM);
  errno = 0;
  void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK("future.mmap_shared_rw_eperm", p == MAP_FAILED && errno == EPERM);
  p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  CHECK("future.mmap_shared_ro", p != MAP_FAILED);
  EXPECT_ERRNO("future.mprotect_new_mapping", mprotect(p, 4096, PROT_READ | PROT_WRITE), EACCES);
  munmap(p, 4096);
  EXPECT_ERRNO("future.add_write_busy", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
  EXPECT_OK("future.ftruncate", ftruncate(fd, 8192));
  munmap(w, 4096);
  munmap(r, 4096);
  EXPECT_OK("future.add_write_unmapped", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  close(fd);
}

static void test_exec(void) {
  int fd = mfd(MFD_CLOEXEC | MFD_ALLOW_SEALING);
  EXPECT_OK("exec.chmod_before", fchmod(fd, 0644));
  EXPECT_OK("exec.add_nonexec", fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC));
  EXPECT_EQ("exec.seals_nonexec", fcntl(fd, F_GET_SEALS), F_SEAL_EXEC);
  EXPECT_ERRNO("exec.chmod_add_x", fchmod(fd, 0755), EPERM);
  EXPECT_OK("exec.chmod_same_x", fchmod(fd, 0600));
  EXPECT_EQ("exec.mode", fmode(fd), 0600);
  EXPECT_EQ("exec.write_allowed", write(fd, "a", 1), 1);
  close(fd);

  /* On an executable file F_SEAL_EXEC brings the write seals (W^X). */
  fd = mfd(MFD_CLOEXEC | MFD_ALLOW_SEALING);
  EXPECT_OK("exec.add_exec", fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC));
  EXPECT_EQ("exec.seals_exec", fcntl(fd, F_GET_SEALS),
            F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
  EXPECT_ERRNO("exec.chmod_drop_x", fchmod(fd, 0644), EPERM);
  EXPECT_OK("exec.chmod_keep_x", fchmod(fd, 0711));
  EXPECT_ERRNO("exec.write", write(fd, "a", 1), EPERM);
  close(fd);

  fd = mfd(MFD_CLOEXEC | MFD_ALLOW_SEALING);
  ftruncate(fd, 4096);
  void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  EXPECT_ERRNO("exec.busy_mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC), EBUSY);
  EXPECT_EQ("exec.busy_adds_nothing", fcntl(fd, F_GET_SEALS), 0);
  munmap(p, 4096);
  close(fd);

  fd = mfd(MFD_CLOEXEC | MFD_NOEXEC_SEAL);
  EXPECT_ERRNO("noexec.chmod_x", fchmod(fd, 0755), EPERM);
  EXPECT_OK("noexec.chmod_rw", fchmod(fd, 0600));
  EXPECT_EQ("noexec.write", write(fd, "a", 1), 1);
  close(fd);
}

int main(void) {
  memset(buf, 'x', sizeof buf);
  test_create_flags();
  test_add_errors();
  test_shrink_grow();
  test_write();
  test_write_fork();
  test_future_write();
  test_exec();
  TEST_DONE();
}
