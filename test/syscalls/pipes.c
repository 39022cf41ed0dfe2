/* pipes.c: pipe capacity, EOF, EPIPE/SIGPIPE, O_NONBLOCK, blocking transfer
 * between processes, poll readiness, FIFOs. */
#include "test.h"
#include <poll.h>
#include <sys/ioctl.h>

static int write_to_broken_pipe(void *arg) {
  int fd = *(int *)arg;
  signal(SIGPIPE, SIG_DFL);
  write(fd, "x", 1);
  return 0; /* only reached if SIGPIPE did not kill us */
}

int main(void) {
  int p[2];
  char buf[4096];
  struct stat st;

  EXPECT_OK("pipe", pipe(p));
  EXPECT_OK("fstat.pipe", fstat(p[0], &st));
  CHECK("fstat.isfifo", S_ISFIFO(st.st_mode));
  EXPECT_EQ("getpipe_sz.default", fcntl(p[0], F_GETPIPE_SZ), 65536);
  EXPECT_EQ("getfl.read_end", fcntl(p[0], F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ("getfl.write_end", fcntl(p[1], F_GETFL) & O_ACCMODE, O_WRONLY);
  EXPECT_EQ("write", write(p[1], "abc", 3), 3);
  int avail = -1;
  EXPECT_OK("fionread", ioctl(p[0], FIONREAD, &avail));
  EXPECT_EQ("fionread.value", avail, 3);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("read", read(p[0], buf, sizeof buf), 3);
  EXPECT_STR("read.data", buf, "abc");
  EXPECT_ERRNO("read.write_end", read(p[1], buf, 1), EBADF);
  EXPECT_ERRNO("write.read_end", write(p[0], "x", 1), EBADF);
  EXPECT_ERRNO("lseek.espipe", lseek(p[0], 0, SEEK_SET), ESPIPE);
  EXPECT_ERRNO("pread.espipe", pread(p[0], buf, 1, 0), ESPIPE);
  write(p[1], "xy", 2);
  close(p[1]);
  EXPECT_EQ("read.drain_after_close", read(p[0], buf, sizeof buf), 2);
  EXPECT_EQ("read.eof", read(p[0], buf, sizeof buf), 0);
  close(p[0]);

  /* EPIPE with SIGPIPE ignored; death by SIGPIPE by default. */
  pipe(p);
  close(p[0]);
  signal(SIGPIPE, SIG_IGN);
  EXPECT_ERRNO("write.epipe", write(p[1], "x", 1), EPIPE);
  signal(SIGPIPE, SIG_DFL);
  EXPECT_KILLED("write.sigpipe", t_in_child(write_to_broken_pipe, &p[1]), SIGPIPE);
  close(p[1]);

  /* O_NONBLOCK: EAGAIN when empty, capacity is exactly 64 KiB. */
  EXPECT_OK("pipe2.nonblock", pipe2(p, O_NONBLOCK | O_CLOEXEC));
  CHECK("pipe2.flags", (fcntl(p[0], F_GETFL) & O_NONBLOCK) && fcntl(p[1], F_GETFD) == FD_CLOEXEC);
  EXPECT_ERRNO("read.eagain", read(p[0], buf, 1), EAGAIN);
  long total = 0, n;
  memset(buf, 'z', sizeof buf);
  /* Page-sized writes: Linux packs small writes per page, so 1000-byte
   * chunks would stop at 64000. */
  while ((n = write(p[1], buf, 4096)) > 0) total += n;
  EXPECT_EQ("write.fill.errno", errno, EAGAIN);
  EXPECT_EQ("write.fill.capacity", total, 65536);
  EXPECT_ERRNO("write.full.eagain", write(p[1], "x", 1), EAGAIN);
  struct pollfd pf[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
  EXPECT_EQ("poll.full", poll(pf, 2, 0), 1);
  CHECK("poll.full.revents", (pf[0].revents & POLLIN) && !(pf[1].revents & POLLOUT));
  long drained = 0;
  while ((n = read(p[0], buf, sizeof buf)) > 0) drained += n;
  EXPECT_EQ("read.drain", drained, 65536);
  pf[0].revents = pf[1].revents = 0;
  EXPECT_EQ("poll.empty", poll(pf, 2, 0), 1);
  CHECK("poll.empty.revents", !(pf[0].revents & POLLIN) && (pf[1].revents & POLLOUT));
  close(p[1]);
  pf[0].revents = 0;
  EXPECT_EQ("poll.hup", poll(pf, 1, 0), 1);
  CHECK("poll.hup.revents", (pf[0].revents & POLLHUP) != 0);
  close(p[0]);
  EXPECT_ERRNO("pipe2.bad_flags", pipe2(p, O_APPEND), EINVAL);

  /* Resizing */
  pipe(p);
  EXPECT_EQ("setpipe_sz", fcntl(p[0], F_SETPIPE_SZ, 131072), 131072);
  EXPECT_EQ("getpipe_sz.after_set", fcntl(p[1], F_GETPIPE_SZ), 131072);
  close(p[0]);
  close(p[1]);

  /* Writes of at most PIPE_BUF bytes are atomic; a blocking 1 MiB
   * transfer between processes arrives intact. */
  pipe(p);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    unsigned char chunk[1000];
    for (int i = 0; i < 1048; i++) {
      for (int j = 0; j < 1000; j++) chunk[j] = (unsigned char)(i + j);
      if (write(p[1], chunk, sizeof chunk) != (ssize_t)sizeof chunk) _exit(1);
    }
    _exit(0);
  }
  close(p[1]);
  long got = 0;
  unsigned long sum = 0, want = 0;
  int ok = 1;
  while ((n = read(p[0], buf, sizeof buf)) > 0) {
    for (long j = 0; j < n; j++) sum += (unsigned char)buf[j] * (unsigned long)((got + j) % 7 + 1);
    got += n;
  }
  for (long k = 0; k < 1048000; k++) want += (unsigned char)(k / 1000 + k % 1000) * (unsigned long)(k % 7 + 1);
  if (n < 0) ok = 0;
  int ws = 0;
  waitpid(pid, &ws, 0);
  EXPECT_EXIT("transfer.child", ws, 0);
  EXPECT_EQ("transfer.bytes", got, 1048000);
  CHECK("transfer.checksum", ok && sum == want);
  close(p[0]);

  /* A reader blocked on an empty pipe wakes when a child writes later. */
  pipe(p);
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    usleep(100000);
    write(p[1], "late", 4);
    _exit(0);
  }
  close(p[1]);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("read.blocks_until_data", read(p[0], buf, sizeof buf), 4);
  EXPECT_STR("read.blocks_until_data.data", buf, "late");
  EXPECT_EQ("read.eof_after_child_exit", read(p[0], buf, sizeof buf), 0);
  waitpid(pid, NULL, 0);
  close(p[0]);

  /* Named pipe */
  char *dir = t_tmpdir("pipes");
  char fifo[300];
  snprintf(fifo, sizeof fifo, "%s/fifo", dir);
  EXPECT_OK("mkfifo", mkfifo(fifo, 0600));
  stat(fifo, &st);
  CHECK("mkfifo.isfifo", S_ISFIFO(st.st_mode));
  int r = open(fifo, O_RDONLY | O_NONBLOCK);
  CHECK("fifo.open_reader_nonblock", r >= 0);
  int w = open(fifo, O_WRONLY | O_NONBLOCK);
  CHECK("fifo.open_writer", w >= 0);
  EXPECT_EQ("fifo.write", write(w, "ff", 2), 2);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("fifo.read", read(r, buf, sizeof buf), 2);
  EXPECT_STR("fifo.read.data", buf, "ff");
  close(w);
  close(r);
  EXPECT_ERRNO("fifo.writer_without_reader", open(fifo, O_WRONLY | O_NONBLOCK), ENXIO);
  t_rmtree(dir);
  TEST_DONE();
}
