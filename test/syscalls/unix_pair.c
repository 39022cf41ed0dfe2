/* unix_pair.c: AF_UNIX socketpair semantics: stream, datagram and seqpacket
 * boundaries, MSG_PEEK/MSG_TRUNC/MSG_WAITALL/MSG_DONTWAIT, shutdown, EPIPE
 * and SIGPIPE, full buffers, poll readiness, ioctls, fstat and socket
 * options. */
#include "test.h"
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

static int pair(int type, int sv[2]) { return socketpair(AF_UNIX, type, 0, sv); }

static int revents(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static int send_to_closed_default(void *arg) {
  int fd = *(int *)arg;
  signal(SIGPIPE, SIG_DFL);
  send(fd, "x", 1, 0);
  return 0; /* reached only if SIGPIPE did not kill us */
}

static int write_to_closed_default(void *arg) {
  int fd = *(int *)arg;
  signal(SIGPIPE, SIG_DFL);
  write(fd, "x", 1);
  return 0;
}

static int seqpacket_to_closed_default(void *arg) {
  int fd = *(int *)arg;
  signal(SIGPIPE, SIG_DFL);
  return send(fd, "x", 1, 0) == -1 && errno == EPIPE ? 7 : 1;
}

/* Child: wait a little, then write n bytes in two pieces. */
static void writer_child(int fd, const char *a, const char *b) {
  fflush(stdout);
  if (fork() == 0) {
    usleep(100 * 1000);
    write(fd, a, strlen(a));
    usleep(100 * 1000);
    write(fd, b, strlen(b));
    _exit(0);
  }
}

static void test_stream(void) {
  int sv[2];
  char buf[256];
  EXPECT_OK("stream.socketpair", pair(SOCK_STREAM, sv));
  EXPECT_EQ("stream.write", write(sv[0], "hello", 5), 5);
  EXPECT_EQ("stream.write2", send(sv[0], " world", 6, 0), 6);
  /* A stream has no boundaries: both writes come back in one read. */
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("stream.peek", recv(sv[1], buf, 3, MSG_PEEK), 3);
  EXPECT_STR("stream.peek.data", buf, "hel");
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("stream.read_all", read(sv[1], buf, sizeof buf), 11);
  EXPECT_STR("stream.read_all.data", buf, "hello world");
  EXPECT_ERRNO("stream.dontwait.empty", recv(sv[1], buf, 1, MSG_DONTWAIT), EAGAIN);
  /* MSG_TRUNC means nothing special to a Unix stream: bytes are copied. */
  send(sv[0], "abcdef", 6, 0);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("stream.msg_trunc.ignored", recv(sv[1], buf, 2, MSG_TRUNC), 2);
  EXPECT_STR("stream.msg_trunc.data", buf, "ab");
  EXPECT_EQ("stream.rest", recv(sv[1], buf, sizeof buf, 0), 4);
  /* readv/writev work through the generic paths. */
  struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
  EXPECT_EQ("stream.writev", writev(sv[0], iov, 2), 5);
  char x[2], y[8];
  struct iovec riov[2] = {{x, 2}, {y, 8}};
  EXPECT_EQ("stream.readv", readv(sv[1], riov, 2), 5);
  CHECK("stream.readv.data", memcmp(x, "ab", 2) == 0 && memcmp(y, "cde", 3) == 0);
  /* MSG_WAITALL waits for the whole request across writes. */
  writer_child(sv[0], "1234", "5678");
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("stream.waitall", recv(sv[1], buf, 8, MSG_WAITALL), 8);
  EXPECT_STR("stream.waitall.data", buf, "12345678");
  wait(NULL);
  /* Without it a read returns what is there. */
  writer_child(sv[0], "1234", "5678");
  EXPECT_EQ("stream.nowaitall", recv(sv[1], buf, 8, 0), 4);
  EXPECT_EQ("stream.nowaitall.rest", recv(sv[1], buf, 8, 0), 4);
  wait(NULL);
  /* Unconnected stream sockets. */
  int u = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_ERRNO("stream.unconnected.read", read(u, buf, 1), EINVAL);
  EXPECT_ERRNO("stream.unconnected.write", write(u, "x", 1), ENOTCONN);
  EXPECT_EQ("stream.unconnected.poll", revents(u, POLLIN | POLLOUT), POLLOUT | POLLHUP);
  EXPECT_ERRNO("stream.sendto.addr", sendto(sv[0], "x", 1, 0, (struct sockaddr *)&(struct sockaddr_un){AF_UNIX, "x"}, 4), EISCONN);
  close(u);
  close(sv[0]);
  close(sv[1]);
}

static void test_dgram(void) {
  int sv[2];
  char buf[256];
  EXPECT_OK("dgram.socketpair", pair(SOCK_DGRAM, sv));
  send(sv[0], "one", 3, 0);
  send(sv[0], "second", 6, 0);
  send(sv[0], "", 0, 0);
  EXPECT_EQ("dgram.fionread.first", ({ int v = -1; ioctl(sv[1], FIONREAD, &v); v; }), 3);
  /* Boundaries are kept; a short read truncates and drops the rest. */
  EXPECT_EQ("dgram.read.one", read(sv[1], buf, sizeof buf), 3);
  struct iovec iov = {buf, 2};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  EXPECT_EQ("dgram.recvmsg.trunc", recvmsg(sv[1], &m, 0), 2);
  CHECK("dgram.recvmsg.msg_trunc_flag", m.msg_flags & MSG_TRUNC);
  EXPECT_EQ("dgram.zero_length", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), 0);
  EXPECT_ERRNO("dgram.empty", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
  /* MSG_TRUNC returns the real length; MSG_PEEK leaves the message. */
  send(sv[0], "abcdefgh", 8, 0);
  EXPECT_EQ("dgram.peek_trunc", recv(sv[1], buf, 3, MSG_PEEK | MSG_TRUNC), 8);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("dgram.after_peek", recv(sv[1], buf, sizeof buf, 0), 8);
  EXPECT_STR("dgram.after_peek.data", buf, "abcdefgh");
  /* Too big for the send buffer. */
  int sndbuf = 0;
  socklen_t l = sizeof sndbuf;
  getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, &l);
  char *big = calloc(1, sndbuf + 1);
  EXPECT_ERRNO("dgram.emsgsize", send(sv[0], big, sndbuf, 0), EMSGSIZE);
  free(big);
  /* The peer closing: first send ECONNREFUSED, then not connected. */
  close(sv[1]);
  EXPECT_ERRNO("dgram.peer_closed", send(sv[0], "x", 1, 0), ECONNREFUSED);
  EXPECT_ERRNO("dgram.peer_closed.again", send(sv[0], "x", 1, 0), ENOTCONN);
  close(sv[0]);
  /* shutdown on a datagram socket. */
  pair(SOCK_DGRAM, sv);
  shutdown(sv[1], SHUT_RD);
  EXPECT_ERRNO("dgram.shut_rd.nonblock", recv(sv[1], buf, 1, MSG_DONTWAIT), EAGAIN);
  EXPECT_EQ("dgram.shut_rd.blocking", recv(sv[1], buf, 1, 0), 0);
  EXPECT_ERRNO("dgram.send_to_shut_rd", send(sv[0], "x", 1, 0), EPIPE);
  shutdown(sv[0], SHUT_WR);
  EXPECT_ERRNO("dgram.send_after_shut_wr", send(sv[0], "x", 1, 0), EPIPE);
  close(sv[0]);
  close(sv[1]);
}

static void test_seqpacket(void) {
  int sv[2];
  char buf[64];
  EXPECT_OK("seqpacket.socketpair", pair(SOCK_SEQPACKET, sv));
  send(sv[0], "hello", 5, 0);
  send(sv[0], "x", 1, 0);
  struct iovec iov = {buf, 2};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  EXPECT_EQ("seqpacket.trunc", recvmsg(sv[1], &m, MSG_TRUNC), 5);
  CHECK("seqpacket.trunc.flag", m.msg_flags & MSG_TRUNC);
  EXPECT_EQ("seqpacket.boundary", recv(sv[1], buf, sizeof buf, 0), 1);
  /* The peer closing: EOF for the reader, EPIPE without SIGPIPE for the writer. */
  send(sv[1], "last", 4, 0);
  close(sv[1]);
  EXPECT_EQ("seqpacket.closed.poll", revents(sv[0], POLLIN | POLLOUT | POLLRDHUP),
            POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
  EXPECT_EQ("seqpacket.closed.drain", recv(sv[0], buf, sizeof buf, 0), 4);
  EXPECT_EQ("seqpacket.closed.eof", recv(sv[0], buf, sizeof buf, 0), 0);
  EXPECT_EQ("seqpacket.closed.eof_nonblock", recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), 0);
  EXPECT_EXIT("seqpacket.closed.send_no_sigpipe", t_in_child(seqpacket_to_closed_default, &sv[0]), 7);
  close(sv[0]);
  int u = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  EXPECT_ERRNO("seqpacket.unconnected.send", send(u, "x", 1, 0), ENOTCONN);
  EXPECT_ERRNO("seqpacket.unconnected.recv", recv(u, buf, 1, MSG_DONTWAIT), ENOTCONN);
  close(u);
}

static void test_shutdown(void) {
  int sv[2];
  char buf[16];
  pair(SOCK_STREAM, sv);
  send(sv[0], "data", 4, 0);
  EXPECT_OK("shutdown.wr", shutdown(sv[0], SHUT_WR));
  EXPECT_EQ("shutdown.wr.reader_poll", revents(sv[1], POLLIN | POLLRDHUP), POLLIN | POLLRDHUP);
  EXPECT_EQ("shutdown.wr.reader_drains", read(sv[1], buf, sizeof buf), 4);
  EXPECT_EQ("shutdown.wr.reader_eof", read(sv[1], buf, sizeof buf), 0);
  signal(SIGPIPE, SIG_IGN);
  EXPECT_ERRNO("shutdown.wr.write_epipe", write(sv[0], "x", 1), EPIPE);
  EXPECT_EQ("shutdown.wr.other_way", write(sv[1], "y", 1), 1);
  EXPECT_EQ("shutdown.wr.other_way.read", read(sv[0], buf, sizeof buf), 1);
  EXPECT_OK("shutdown.rd", shutdown(sv[0], SHUT_RD));
  EXPECT_ERRNO("shutdown.rd.peer_write_epipe", send(sv[1], "z", 1, MSG_NOSIGNAL), EPIPE);
  EXPECT_EQ("shutdown.rdwr.poll", revents(sv[0], POLLIN | POLLOUT | POLLRDHUP),
            POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
  EXPECT_ERRNO("shutdown.bad_how", shutdown(sv[0], 3), EINVAL);
  EXPECT_ERRNO("shutdown.notsock", shutdown(0, SHUT_RD), ENOTSOCK);
  close(sv[0]);
  close(sv[1]);

  /* The peer closing: EOF, EPIPE, and SIGPIPE unless ignored or MSG_NOSIGNAL. */
  pair(SOCK_STREAM, sv);
  close(sv[1]);
  EXPECT_EQ("closed.read_eof", read(sv[0], buf, sizeof buf), 0);
  EXPECT_ERRNO("closed.send_nosignal", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
  EXPECT_ERRNO("closed.write_ignored", write(sv[0], "x", 1), EPIPE);
  signal(SIGPIPE, SIG_DFL);
  EXPECT_KILLED("closed.send_sigpipe", t_in_child(send_to_closed_default, &sv[0]), SIGPIPE);
  EXPECT_KILLED("closed.write_sigpipe", t_in_child(write_to_closed_default, &sv[0]), SIGPIPE);
  close(sv[0]);

  /* Closing with unread data resets the peer: ECONNRESET once, then EOF. */
  pair(SOCK_STREAM, sv);
  send(sv[0], "unread", 6, 0);
  close(sv[1]);
  EXPECT_EQ("reset.poll", revents(sv[0], POLLIN), POLLIN | POLLHUP | POLLERR);
  EXPECT_ERRNO("reset.read", read(sv[0], buf, sizeof buf), ECONNRESET);
  EXPECT_EQ("reset.read_then_eof", read(sv[0], buf, sizeof buf), 0);
  close(sv[0]);
}

static void test_buffers(void) {
  int sv[2];
  char buf[65536];
  memset(buf, 'b', sizeof buf);
  pair(SOCK_STREAM, sv);
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  long total = 0, n;
  while ((n = write(sv[0], buf, sizeof buf)) > 0) total += n;
  EXPECT_EQ("full.eagain", errno, EAGAIN);
  CHECK("full.took_about_sndbuf", total >= 100000 && total <= 500000);
  EXPECT_EQ("full.not_writable", revents(sv[0], POLLOUT), 0);
  int inq = -1, outq = -1;
  EXPECT_OK("full.siocinq", ioctl(sv[1], SIOCINQ, &inq));
  EXPECT_EQ("full.siocinq.value", inq, total);
  EXPECT_OK("full.siocoutq", ioctl(sv[0], SIOCOUTQ, &outq));
  CHECK("full.siocoutq.value", outq >= total);
  /* A blocking writer waits for the reader. */
  fcntl(sv[0], F_SETFL, 0);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    long got = 0, r;
    usleep(100 * 1000);
    while (got < total + 3 * (long)sizeof buf && (r = read(sv[1], buf, sizeof buf)) > 0) got += r;
    _exit(got == total + 3 * (long)sizeof buf ? 0 : 1);
  }
  long w = 0;
  for (int i = 0; i < 3; i++) w += write(sv[0], buf, sizeof buf);
  EXPECT_EQ("full.blocking_write", w, 3 * (long)sizeof buf);
  int st;
  waitpid(p, &st, 0);
  EXPECT_EXIT("full.reader_got_all", st, 0);
  EXPECT_EQ("drained.writable", revents(sv[0], POLLOUT), POLLOUT);
  close(sv[0]);
  close(sv[1]);

  /* Datagram pairs: a full buffer is EAGAIN too. */
  pair(SOCK_DGRAM | SOCK_NONBLOCK, sv);
  int k = 0;
  while (send(sv[0], buf, 1000, 0) == 1000) k++;
  EXPECT_EQ("dgram.full.eagain", errno, EAGAIN);
  CHECK("dgram.full.count", k > 10 && k < 1000);
  EXPECT_EQ("dgram.full.poll", revents(sv[0], POLLOUT), 0);
  recv(sv[1], buf, sizeof buf, 0);
  close(sv[0]);
  close(sv[1]);
}

static void test_poll(void) {
  int sv[2];
  char c;
  pair(SOCK_STREAM, sv);
  EXPECT_EQ("poll.idle", revents(sv[1], POLLIN | POLLOUT), POLLOUT);
  write(sv[0], "x", 1);
  EXPECT_EQ("poll.readable", revents(sv[1], POLLIN | POLLOUT), POLLIN | POLLOUT);
  read(sv[1], &c, 1);
  /* poll wakes when data arrives from another process. */
  fflush(stdout);
  if (fork() == 0) {
    usleep(100 * 1000);
    write(sv[0], "y", 1);
    _exit(0);
  }
  struct pollfd p = {sv[1], POLLIN, 0};
  EXPECT_EQ("poll.wakes", poll(&p, 1, 5000), 1);
  EXPECT_EQ("poll.wakes.revents", p.revents, POLLIN);
  wait(NULL);
  /* select sees the same. */
  fd_set r;
  FD_ZERO(&r);
  FD_SET(sv[1], &r);
  struct timeval tv = {0, 0};
  EXPECT_EQ("select.readable", select(sv[1] + 1, &r, NULL, NULL, &tv), 1);
  close(sv[0]);
  close(sv[1]);
  int d[2];
  pair(SOCK_DGRAM, d);
  EXPECT_EQ("poll.dgram.idle", revents(d[0], POLLIN | POLLOUT), POLLOUT);
  close(d[0]);
  close(d[1]);
}

static void test_file_and_options(void) {
  int sv[2];
  struct stat st;
  pair(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, sv);
  EXPECT_OK("fstat", fstat(sv[0], &st));
  CHECK("fstat.is_sock", S_ISSOCK(st.st_mode));
  EXPECT_EQ("fstat.mode", st.st_mode & 07777, 0777);
  EXPECT_EQ("getfl", fcntl(sv[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDWR | O_NONBLOCK);
  EXPECT_EQ("getfd.cloexec", fcntl(sv[0], F_GETFD), FD_CLOEXEC);
  char path[64], link[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", sv[0]);
  ssize_t n = readlink(path, link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  char want[64];
  snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st.st_ino);
  EXPECT_STR("proc_fd.link", link, want);
  EXPECT_ERRNO("lseek.espipe", lseek(sv[0], 0, SEEK_SET), ESPIPE);
  EXPECT_ERRNO("pread.espipe", pread(sv[0], path, 1, 0), ESPIPE);

  int v = -1;
  socklen_t l = sizeof v;
  EXPECT_OK("so_type", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l));
  EXPECT_EQ("so_type.value", v, SOCK_STREAM);
  EXPECT_EQ("so_type.len", l, sizeof(int));
  getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &l);
  EXPECT_EQ("so_domain", v, AF_UNIX);
  getsockopt(sv[0], SOL_SOCKET, SO_PROTOCOL, &v, &l);
  EXPECT_EQ("so_protocol", v, 0);
  getsockopt(sv[0], SOL_SOCKET, SO_ACCEPTCONN, &v, &l);
  EXPECT_EQ("so_acceptconn", v, 0);
  getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &l);
  EXPECT_EQ("so_error", v, 0);
  getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &l);
  EXPECT_EQ("so_sndbuf.default", v, 212992);
  v = 10000;
  EXPECT_OK("so_sndbuf.set", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
  getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &l);
  EXPECT_EQ("so_sndbuf.doubled", v, 20000);
  v = 1;
  setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
  getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, &l);
  EXPECT_EQ("so_rcvbuf.minimum", v, 2304);
  v = 1;
  EXPECT_OK("so_reuseaddr", setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
  EXPECT_OK("so_keepalive", setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v));
  v = 0;
  getsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, &l);
  EXPECT_EQ("so_keepalive.get", v, 1);
  struct linger lg = {1, 5};
  EXPECT_OK("so_linger", setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
  EXPECT_ERRNO("setsockopt.short", setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, 2), EINVAL);
  EXPECT_ERRNO("setsockopt.readonly", setsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, sizeof v), ENOPROTOOPT);
  EXPECT_ERRNO("setsockopt.level", setsockopt(sv[0], 6 /* SOL_TCP */, 1, &v, sizeof v), EOPNOTSUPP);
  char small[2];
  l = sizeof small;
  EXPECT_OK("getsockopt.short", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, small, &l));
  EXPECT_EQ("getsockopt.short.len", l, 2);
  EXPECT_ERRNO("getsockopt.notsock", getsockopt(0, SOL_SOCKET, SO_TYPE, &v, &l), ENOTSOCK);

  /* SO_RCVTIMEO: a blocking read gives up with EAGAIN. */
  fcntl(sv[1], F_SETFL, 0);
  struct timeval tv = {0, 100 * 1000};
  EXPECT_OK("so_rcvtimeo", setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
  struct timeval got = {0, 0};
  l = sizeof got;
  getsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &got, &l);
  CHECK("so_rcvtimeo.get", got.tv_sec == 0 && got.tv_usec == 100000);
  char c;
  EXPECT_ERRNO("so_rcvtimeo.expires", recv(sv[1], &c, 1, 0), EAGAIN);
  tv.tv_usec = 2000000;
  EXPECT_ERRNO("so_rcvtimeo.edom", setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
  close(sv[0]);
  close(sv[1]);

  EXPECT_ERRNO("socket.bad_type", socket(AF_UNIX, 9, 0), ESOCKTNOSUPPORT);
  EXPECT_ERRNO("socket.bad_protocol", socket(AF_UNIX, SOCK_STREAM, 2), EPROTONOSUPPORT);
  EXPECT_ERRNO("socket.bad_flags", socket(AF_UNIX, SOCK_STREAM | 0x100, 0), EINVAL);
  EXPECT_ERRNO("socket.bad_family", socket(99, SOCK_STREAM, 0), EAFNOSUPPORT);
  int raw = socket(AF_UNIX, SOCK_RAW, 0);
  l = sizeof v;
  getsockopt(raw, SOL_SOCKET, SO_TYPE, &v, &l);
  EXPECT_EQ("socket.raw_is_dgram", v, SOCK_DGRAM);
  close(raw);
}

int main(void) {
  test_stream();
  test_dgram();
  test_seqpacket();
  test_shutdown();
  test_buffers();
  test_poll();
  test_file_and_options();
  TEST_DONE();
}
