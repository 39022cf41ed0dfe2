/* robustness.c: unknown syscalls, garbage pointers, huge lengths, bad fds
 * and faulting instructions. Every call must fail cleanly and the program
 * must carry on to the end. */
#include "test.h"
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>

/* Pointers the compiler cannot reason about. */
static void *volatile BAD1 = (void *)1;
static void *volatile BADHI = (void *)0xdeadbeef000UL;
static void *volatile KERNEL = (void *)0xffffffff81000000UL;
static char bss_buf[64];

static int null_deref(void *arg) {
  (void)arg;
  return *(volatile int *)BAD1 == 0 ? 60 : 61;
}
static int ud2(void *arg) {
  (void)arg;
  __asm__ volatile("ud2");
  return 62;
}
static int int3(void *arg) {
  (void)arg;
  __asm__ volatile("int3");
  return 63;
}
static volatile int zero = 0;
static int divide(void *arg) {
  (void)arg;
  return 100 / zero;
}
static int jump_to_garbage(void *arg) {
  (void)arg;
  ((void (*)(void))BADHI)();
  return 64;
}
static int (*volatile recurse)(int);
static int stack_overflow_depth(int n) {
  volatile char pad[4096];
  pad[0] = (char)n;
  return recurse(n + 1) + pad[0];
}
static int smash_stack(void *arg) {
  (void)arg;
  recurse = stack_overflow_depth;
  return stack_overflow_depth(0);
}

int main(void) {
  char buf[64];
  struct stat st;
  int p[2];

  /* Syscall numbers the kernel does not have. */
  EXPECT_ERRNO("unknown.1000", syscall(1000), ENOSYS);
  /* (Not 335: recent kernels use it for uretprobe, which raises SIGILL.) */
  EXPECT_ERRNO("unknown.999999", syscall(999999), ENOSYS);
  EXPECT_ERRNO("unknown.100000", syscall(100000, 1, 2, 3, 4, 5, 6), ENOSYS);
  EXPECT_ERRNO("unknown.negative", syscall(-1), ENOSYS);
  CHECK("unknown.continues", getpid() > 0);

  /* Garbage pointers return EFAULT. */
  int fd = open("/etc/passwd", O_RDONLY);
  EXPECT_ERRNO("read.ptr1", read(fd, BAD1, 10), EFAULT);
  EXPECT_ERRNO("read.kernel_ptr", read(fd, KERNEL, 10), EFAULT);
  EXPECT_EQ("read.offset_unchanged", lseek(fd, 0, SEEK_CUR), 0);
  EXPECT_ERRNO("pread.ptr1", pread(fd, BAD1, 10, 0), EFAULT);
  EXPECT_ERRNO("write.stdout_bad_ptr", write(1, BADHI, 5), EFAULT);
  EXPECT_ERRNO("stat.bad_path", stat((const char *)BAD1, &st), EFAULT);
  EXPECT_ERRNO("stat.bad_buf", stat("/etc/passwd", (struct stat *)BAD1), EFAULT);
  EXPECT_ERRNO("fstat.bad_buf", fstat(fd, (struct stat *)BADHI), EFAULT);
  EXPECT_ERRNO("open.bad_path", open((const char *)BAD1, O_RDONLY), EFAULT);
  EXPECT_ERRNO("open.kernel_path", open((const char *)KERNEL, O_RDONLY), EFAULT);
  EXPECT_ERRNO("pipe.bad_ptr", pipe((int *)BAD1), EFAULT);
  EXPECT_ERRNO("uname.bad_ptr", uname((struct utsname *)BAD1), EFAULT);
  EXPECT_ERRNO("clock_gettime.bad_ptr", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD1), EFAULT);
  EXPECT_ERRNO("getdents64.bad_ptr", syscall(SYS_getdents64, open("/", O_RDONLY | O_DIRECTORY), BAD1, 4096), EFAULT);
  char *dir = t_tmpdir("robust");
  char lnk[300];
  snprintf(lnk, sizeof lnk, "%s/link", dir);
  symlink("/etc/passwd", lnk);
  EXPECT_ERRNO("readlink.bad_buf", readlink(lnk, (char *)BAD1, 10), EFAULT);
  t_rmtree(dir);
  EXPECT_ERRNO("execve.bad_argv", syscall(SYS_execve, "/bin/true", BAD1, NULL), EFAULT);
  EXPECT_ERRNO("poll.bad_ptr", poll((struct pollfd *)BAD1, 1, 0), EFAULT);
  EXPECT_ERRNO("getrandom.bad_ptr", syscall(SYS_getrandom, BAD1, 16, 0), EFAULT);
  EXPECT_ERRNO("nanosleep.bad_ptr", syscall(SYS_nanosleep, BAD1, NULL), EFAULT);
  struct iovec iov = {BAD1, 10};
  EXPECT_ERRNO("readv.bad_iov_base", readv(fd, &iov, 1), EFAULT);
  EXPECT_ERRNO("readv.bad_iov", readv(fd, (struct iovec *)BAD1, 1), EFAULT);
  /* A buffer that runs off the end of a mapping: the kernel copies what it
   * can, or fails with EFAULT when it cannot copy anything. */
  char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(m + 4096, 4096);
  EXPECT_ERRNO("read.into_unmapped_page", read(fd, m + 4096, 100), EFAULT);
  long part = read(fd, m + 4096 - 10, 100);
  CHECK("read.straddling_unmapped", part == 10 || (part == -1 && errno == EFAULT));
  munmap(m, 4096);

  /* Huge lengths */
  lseek(fd, 0, SEEK_SET);
  EXPECT_ERRNO("read.size_max", syscall(SYS_read, fd, buf, SIZE_MAX), EFAULT);
  pipe(p);
  write(p[1], "0123456789", 10);
  EXPECT_EQ("read.huge_count_short_data", syscall(SYS_read, p[0], bss_buf, (size_t)1 << 30), 10);
  EXPECT_ERRNO("write.huge_from_small_buffer", write(p[1], BADHI, (size_t)1 << 40), EFAULT);
  close(p[0]);
  close(p[1]);
  errno = 0;
  CHECK("malloc.huge", malloc((size_t)1 << 62) == NULL && errno == ENOMEM);
  EXPECT_ERRNO("readv.too_many_iovs", syscall(SYS_readv, fd, &iov, 100000), EINVAL);
  EXPECT_ERRNO("getrandom.bad_flags", syscall(SYS_getrandom, buf, 16, 0xff00), EINVAL);

  /* Bad descriptors */
  EXPECT_ERRNO("read.fd_minus1", read(-1, buf, 1), EBADF);
  EXPECT_ERRNO("read.fd_intmax", read(INT_MAX, buf, 1), EBADF);
  EXPECT_ERRNO("write.fd_9999", write(9999, buf, 1), EBADF);
  EXPECT_ERRNO("close.fd_9999", close(9999), EBADF);
  EXPECT_ERRNO("ioctl.enotty", ioctl(fd, 0x5401 /* TCGETS */, buf), ENOTTY);
  EXPECT_ERRNO("lseek.pipe_or_bad", lseek(12345, 0, SEEK_SET), EBADF);

  /* Bad arguments */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  EXPECT_ERRNO("sigaction.sigkill", sigaction(SIGKILL, &sa, NULL), EINVAL);
  EXPECT_ERRNO("sigaction.signal_0", syscall(SYS_rt_sigaction, 0, &sa, NULL, 8), EINVAL);
  EXPECT_ERRNO("sigaction.signal_65", syscall(SYS_rt_sigaction, 65, &sa, NULL, 8), EINVAL);
  EXPECT_ERRNO("kill.bad_signal", kill(getpid(), 999), EINVAL);
  EXPECT_ERRNO("kill.no_such_pid", kill(4000000, 0), ESRCH);
  EXPECT_ERRNO("clock_gettime.bad_clock", syscall(SYS_clock_gettime, 12345, buf), EINVAL);
  EXPECT_ERRNO("open.bad_path_empty", open("", O_RDONLY), ENOENT);
  EXPECT_ERRNO("mmap.bad_prot_fd", syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
  close(fd);

  /* Faulting instructions kill a child with the matching signal. */
  EXPECT_KILLED("fault.null_deref", t_in_child(null_deref, NULL), SIGSEGV);
  EXPECT_KILLED("fault.ud2", t_in_child(ud2, NULL), SIGILL);
  EXPECT_KILLED("fault.int3", t_in_child(int3, NULL), SIGTRAP);
  EXPECT_KILLED("fault.divide_by_zero", t_in_child(divide, NULL), SIGFPE);
  EXPECT_KILLED("fault.jump_to_garbage", t_in_child(jump_to_garbage, NULL), SIGSEGV);
  EXPECT_KILLED("fault.stack_overflow", t_in_child(smash_stack, NULL), SIGSEGV);

  CHECK("still_alive", getpid() > 0);
  TEST_DONE();
}
