/* tcp_loopback.c: AF_INET/AF_INET6 TCP over loopback: echo across fork,
 * non-blocking connect and accept with poll, ECONNREFUSED, EADDRINUSE,
 * SO_REUSEADDR, shutdown half-close, EPIPE and SIGPIPE, MSG_PEEK /
 * MSG_DONTWAIT / MSG_WAITALL, queue ioctls, options, IPv6 and v4-mapped
 * peers, interface ioctls for lo. Only ephemeral ports are used. */
#include "test.h"
#include "inet_test.h"
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* A listener on 127.0.0.1 and an ephemeral port. */
static int listener4(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = lo4(0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 8) < 0) return -1;
  *port = port_of(fd);
  return fd;
}

static int connect4(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = lo4(port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int revents(int fd, short ev, int ms) {
  struct pollfd p = {fd, ev, 0};
  return poll(&p, 1, ms) < 0 ? -1 : p.revents;
}

static ssize_t writeall(int fd, const char *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = write(fd, buf + done, n - done);
    if (r <= 0) return -1;
    done += r;
  }
  return done;
}

#define BIG (4 << 20)

static void test_echo_fork(void) {
  int port, l = listener4(&port);
  CHECK("listen on 127.0.0.1:0", l >= 0);
  CHECK("ephemeral port in 32768..60999", port >= 32768 && port <= 60999);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    /* The echo server: everything back until EOF. */
    int c = accept(l, NULL, NULL);
    if (c < 0) _exit(1);
    static char buf[65536];
    for (;;) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n < 0) _exit(2);
      if (n == 0) break;
      if (writeall(c, buf, n) != n) _exit(3);
    }
    close(c);
    _exit(0);
  }
  close(l);
  int fd = connect4(port);
  CHECK("connect to the listener", fd >= 0);
  char *out = malloc(BIG), *in = malloc(BIG);
  for (int i = 0; i < BIG; i++) out[i] = (char)(i * 7 + i / 4096);
  /* Interleave writes and reads so neither side's buffers fill up. */
  size_t sent = 0, got = 0;
  int ok = 1;
  while (got < BIG && ok) {
    if (sent < BIG) {
      size_t n = BIG - sent < 100000 ? BIG - sent : 100000;
      if (writeall(fd, out + sent, n) != (ssize_t)n) ok = 0;
      sent += n;
    }
    while (got < sent) {
      ssize_t r = read(fd, in + got, sent - got);
      if (r <= 0) {
        ok = 0;
        break;
      }
      got += r;
    }
  }
  CHECK("4 MiB echoed", ok && got == BIG);
  CHECK("echoed bytes intact", memcmp(in, out, BIG) == 0);
  EXPECT_OK("shutdown(SHUT_WR)", shutdown(fd, SHUT_WR));
  char b;
  EXPECT_EQ("EOF after the server closed", read(fd, &b, 1), 0);
  int st;
  waitpid(pid, &st, 0);
  EXPECT_EXIT("echo server exited cleanly", st, 0);
  close(fd);
  free(out);
  free(in);
}

static void test_nonblocking(void) {
  int port, l = listener4(&port);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  fcntl(l, F_SETFL, O_NONBLOCK);
  EXPECT_ERRNO("accept on an empty O_NONBLOCK listener", accept(l, NULL, NULL), EAGAIN);
  EXPECT_EQ("listener not readable yet", revents(l, POLLIN, 0), 0);
  struct sockaddr_in a = lo4(port);
  EXPECT_ERRNO("non-blocking connect: EINPROGRESS", connect(fd, (struct sockaddr *)&a, sizeof a), EINPROGRESS);
  EXPECT_EQ("connecting socket becomes writable", revents(fd, POLLOUT, 1000), POLLOUT);
  int err = -1;
  socklen_t el = sizeof err;
  EXPECT_OK("getsockopt(SO_ERROR)", getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el));
  EXPECT_EQ("SO_ERROR is 0", err, 0);
  EXPECT_OK("connect again reports the success", connect(fd, (struct sockaddr *)&a, sizeof a));
  EXPECT_ERRNO("a third connect: EISCONN", connect(fd, (struct sockaddr *)&a, sizeof a), EISCONN);
  EXPECT_EQ("listener readable", revents(l, POLLIN, 1000), POLLIN);
  struct sockaddr_in peer;
  socklen_t pl = sizeof peer;
  int c = accept4(l, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK);
  CHECK("accept4 returns the connection", c >= 0);
  EXPECT_EQ("accept's address length", pl, sizeof(struct sockaddr_in));
  EXPECT_EQ("peer port is the client's port", ntohs(peer.sin_port), port_of(fd));
  CHECK("peer address is 127.0.0.1", peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  char b[8];
  EXPECT_ERRNO("recv on an empty non-blocking socket", recv(c, b, sizeof b, 0), EAGAIN);
  EXPECT_EQ("accepted socket writable, not readable", revents(c, POLLIN | POLLOUT, 0), POLLOUT);
  EXPECT_EQ("send", send(fd, "abc", 3, 0), 3);
  EXPECT_EQ("accepted socket readable", revents(c, POLLIN, 1000), POLLIN);
  int q = -1;
  EXPECT_OK("FIONREAD", ioctl(c, FIONREAD, &q));
  EXPECT_EQ("FIONREAD counts 3 bytes", q, 3);
  EXPECT_EQ("MSG_PEEK sees the bytes", recv(c, b, sizeof b, MSG_PEEK), 3);
  EXPECT_EQ("recv then reads them", recv(c, b, 2, 0), 2);
  EXPECT_EQ("and the rest", recv(c, b, sizeof b, 0), 1);
  EXPECT_ERRNO("MSG_DONTWAIT on a blocking socket", recv(fd, b, sizeof b, MSG_DONTWAIT), EAGAIN);
  q = -1;
  EXPECT_OK("SIOCOUTQ", ioctl(fd, SIOCOUTQ, &q));
  EXPECT_EQ("SIOCOUTQ is 0 once acknowledged", q, 0);
  close(c);
  close(fd);
  close(l);
}

static void test_errors(void) {
  int port, l = listener4(&port);
  close(l);
  errno = 0;
  EXPECT_EQ("connect to a closed port fails", connect4(port), -1);
  EXPECT_EQ("with ECONNREFUSED", errno, ECONNREFUSED);
  {
    /* socat reads the error queue after a refused connect: an empty one never
     * waits, even on a blocking socket. */
    int b = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in ca = lo4(port);
    connect(b, (struct sockaddr *)&ca, sizeof ca);
    char buf[64], ctl[256];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof ctl;
    EXPECT_ERRNO("recvmsg(MSG_ERRQUEUE) of an empty error queue: EAGAIN at once", recvmsg(b, &m, MSG_ERRQUEUE), EAGAIN);
    close(b);
  }

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = lo4(port);
  int r = connect(fd, (struct sockaddr *)&a, sizeof a);
  CHECK("non-blocking connect to a closed port", r == -1 && (errno == EINPROGRESS || errno == ECONNREFUSED));
  if (r == -1 && errno == EINPROGRESS) {
    revents(fd, POLLOUT, 1000);
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    EXPECT_EQ("SO_ERROR is ECONNREFUSED", err, ECONNREFUSED);
  } else {
    t_report(1, "SO_ERROR is ECONNREFUSED", __FILE__, __LINE__, "");
  }
  close(fd);

  l = listener4(&port);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  a = lo4(port);
  EXPECT_ERRNO("bind to a listener's port: EADDRINUSE", bind(fd, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  EXPECT_ERRNO("SO_REUSEADDR does not share a listening port", bind(fd, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
  EXPECT_ERRNO("bind with a short length: EINVAL", bind(fd, (struct sockaddr *)&a, 8), EINVAL);
  struct sockaddr_in6 a6 = {0};
  a6.sin6_family = AF_INET6;
  EXPECT_ERRNO("bind a sockaddr_in6 to AF_INET: EAFNOSUPPORT", bind(fd, (struct sockaddr *)&a6, sizeof a6), EAFNOSUPPORT);
  struct sockaddr_in far = lo4(0);
  far.sin_addr.s_addr = inet_addr("192.0.2.1");
  EXPECT_ERRNO("bind to a non-local address: EADDRNOTAVAIL", bind(fd, (struct sockaddr *)&far, sizeof far), EADDRNOTAVAIL);
  char b = 'x';
  EXPECT_ERRNO("send on an unconnected socket: EPIPE", send(fd, &b, 1, MSG_NOSIGNAL), EPIPE);
  EXPECT_ERRNO("recv on an unconnected socket: ENOTCONN", recv(fd, &b, 1, 0), ENOTCONN);
  struct sockaddr_in n;
  socklen_t nl = sizeof n;
  EXPECT_ERRNO("getpeername unconnected: ENOTCONN", getpeername(fd, (struct sockaddr *)&n, &nl), ENOTCONN);
  EXPECT_ERRNO("shutdown unconnected: ENOTCONN", shutdown(fd, SHUT_RDWR), ENOTCONN);
  close(fd);

  close(l);
  /* SO_REUSEADDR (on both) lets a new listener take a port whose connection is in TIME-WAIT. */
  l = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  a = lo4(0);
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 4);
  port = port_of(l);
  a = lo4(port);
  int c = connect4(port);
  int s = accept(l, NULL, NULL);
  close(l);
  close(s); /* the server closes first: its side goes to TIME-WAIT */
  char buf[4];
  read(c, buf, sizeof buf);
  close(c);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  EXPECT_OK("SO_REUSEADDR rebinds a TIME-WAIT port", bind(fd, (struct sockaddr *)&a, sizeof a));
  EXPECT_OK("and listens", listen(fd, 1));
  EXPECT_ERRNO("connect on a listener: EISCONN", connect(fd, (struct sockaddr *)&a, sizeof a), EISCONN);
  close(fd);
}

static int sigpipe_child(void *arg) {
  int fd = *(int *)arg;
  signal(SIGPIPE, SIG_DFL);
  write(fd, "x", 1);
  return 0;
}

static void test_shutdown(void) {
  int port, l = listener4(&port);
  int c = connect4(port), s = accept(l, NULL, NULL);
  EXPECT_OK("client shutdown(SHUT_WR)", shutdown(c, SHUT_WR));
  char b[16];
  EXPECT_EQ("server reads EOF", read(s, b, sizeof b), 0);
  EXPECT_EQ("server sees POLLIN|POLLRDHUP", revents(s, POLLIN | POLLRDHUP | POLLOUT, 0), POLLIN | POLLRDHUP | POLLOUT);
  EXPECT_EQ("server can still write", write(s, "half", 4), 4);
  EXPECT_EQ("client still reads", read(c, b, sizeof b), 4);
  EXPECT_ERRNO("client write after SHUT_WR: EPIPE", send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
  signal(SIGPIPE, SIG_IGN);
  EXPECT_ERRNO("write(2) after SHUT_WR with SIGPIPE ignored: EPIPE", write(c, "x", 1), EPIPE);
  signal(SIGPIPE, SIG_DFL);
  EXPECT_KILLED("write(2) after SHUT_WR raises SIGPIPE", t_in_child(sigpipe_child, &c), SIGPIPE);
  close(s);
  EXPECT_EQ("client sees EOF after the server closed", read(c, b, sizeof b), 0);
  CHECK("client: POLLHUP once both directions are done", revents(c, POLLIN | POLLOUT, 1000) & POLLHUP);
  close(c);
  close(l);
}

static void test_waitall(void) {
  int port, l = listener4(&port);
  int c = connect4(port), s = accept(l, NULL, NULL);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 4; i++) {
      usleep(20000);
      write(c, "0123456789", 10);
    }
    _exit(0);
  }
  char b[40];
  EXPECT_EQ("MSG_WAITALL gathers 40 bytes from 4 writes", recv(s, b, sizeof b, MSG_WAITALL), 40);
  waitpid(pid, NULL, 0);
  close(c);
  close(s);
  close(l);
}

static void test_options(void) {
  int port, l = listener4(&port);
  int c = connect4(port), s = accept(l, NULL, NULL);
  int v = -1;
  socklen_t vl = sizeof v;
  getsockopt(c, SOL_SOCKET, SO_TYPE, &v, &vl);
  EXPECT_EQ("SO_TYPE", v, SOCK_STREAM);
  getsockopt(c, SOL_SOCKET, SO_PROTOCOL, &v, &vl);
  EXPECT_EQ("SO_PROTOCOL", v, IPPROTO_TCP);
  getsockopt(c, SOL_SOCKET, SO_DOMAIN, &v, &vl);
  EXPECT_EQ("SO_DOMAIN", v, AF_INET);
  getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl);
  EXPECT_EQ("SO_ACCEPTCONN on the listener", v, 1);
  int one = 1;
  EXPECT_OK("TCP_NODELAY", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
  v = 0;
  getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl);
  EXPECT_EQ("TCP_NODELAY reads back", v, 1);
  EXPECT_OK("SO_KEEPALIVE", setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
  getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, &vl);
  EXPECT_EQ("SO_KEEPALIVE reads back", v, 1);
  int idle = 77;
  EXPECT_OK("TCP_KEEPIDLE", setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle));
  getsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &v, &vl);
  EXPECT_EQ("TCP_KEEPIDLE reads back", v, 77);
  int rb = 10000;
  setsockopt(c, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
  getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, &vl);
  EXPECT_EQ("SO_RCVBUF is doubled", v, 20000);
  struct linger lg = {1, 5}, lg2;
  socklen_t ll = sizeof lg2;
  setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  getsockopt(c, SOL_SOCKET, SO_LINGER, &lg2, &ll);
  CHECK("SO_LINGER reads back", lg2.l_onoff == 1 && lg2.l_linger == 5);
  int ttl = 33;
  setsockopt(c, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
  getsockopt(c, IPPROTO_IP, IP_TTL, &v, &vl);
  EXPECT_EQ("IP_TTL reads back", v, 33);
  EXPECT_ERRNO("IPV6_V6ONLY on AF_INET: ENOPROTOOPT", setsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), ENOPROTOOPT);
  {
    int g = 0;
    socklen_t gl = sizeof g;
    EXPECT_ERRNO("getsockopt of IPV6_V6ONLY on AF_INET: EOPNOTSUPP", getsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &g, &gl), EOPNOTSUPP);
  }
  struct tcp_info ti;
  socklen_t tl = sizeof ti;
  EXPECT_OK("TCP_INFO", getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &tl));
  EXPECT_EQ("TCP_INFO state is ESTABLISHED", ti.tcpi_state, 1 /* TCP_ESTABLISHED */);
  getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &v, &vl);
  CHECK("TCP_MAXSEG is positive", v > 0);
  close(c);
  close(s);
  close(l);
}

static void test_ipv6(void) {
  int l = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a = {0};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  EXPECT_OK("bind [::1]:0", bind(l, (struct sockaddr *)&a, sizeof a));
  EXPECT_OK("listen on ::1", listen(l, 4));
  a.sin6_port = htons(port_of(l));
  int c = socket(AF_INET6, SOCK_STREAM, 0);
  EXPECT_OK("connect to [::1]", connect(c, (struct sockaddr *)&a, sizeof a));
  struct sockaddr_in6 p;
  socklen_t pl = sizeof p;
  int s = accept(l, (struct sockaddr *)&p, &pl);
  CHECK("accept on ::1", s >= 0);
  EXPECT_EQ("peer is AF_INET6", p.sin6_family, AF_INET6);
  CHECK("peer address is ::1", memcmp(&p.sin6_addr, &in6addr_loopback, 16) == 0);
  EXPECT_EQ("IPv6 data", write(c, "six", 3), 3);
  char b[8];
  EXPECT_EQ("IPv6 read", read(s, b, sizeof b), 3);
  close(c);
  close(s);
  close(l);

  /* A dual-stack listener on :: accepts IPv4 clients as v4-mapped peers. */
  l = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 any = {0};
  any.sin6_family = AF_INET6;
  any.sin6_addr = in6addr_any;
  EXPECT_OK("bind [::]:0", bind(l, (struct sockaddr *)&any, sizeof any));
  listen(l, 4);
  int v = -1;
  socklen_t vl = sizeof v;
  getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl);
  EXPECT_EQ("IPV6_V6ONLY defaults to 0", v, 0);
  c = connect4(port_of(l));
  CHECK("IPv4 client reaches the :: listener", c >= 0);
  pl = sizeof p;
  s = accept(l, (struct sockaddr *)&p, &pl);
  CHECK("v4-mapped peer ::ffff:127.0.0.1", s >= 0 && IN6_IS_ADDR_V4MAPPED(&p.sin6_addr) &&
                                               p.sin6_addr.s6_addr[12] == 127 && p.sin6_addr.s6_addr[15] == 1);
  close(c);
  close(s);
  close(l);

  /* Binding a specific IPv6 address (not v4-mapped) makes a socket v6-only. */
  l = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 one6 = {0};
  one6.sin6_family = AF_INET6;
  one6.sin6_addr = in6addr_loopback;
  EXPECT_OK("bind [::1]:0", bind(l, (struct sockaddr *)&one6, sizeof one6));
  v = -1;
  vl = sizeof v;
  getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl);
  EXPECT_EQ("IPV6_V6ONLY is 1 after binding ::1", v, 1);
  close(l);
}

static void test_ifreq(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq r = {0};
  strcpy(r.ifr_name, "lo");
  EXPECT_OK("SIOCGIFINDEX lo", ioctl(fd, SIOCGIFINDEX, &r));
  EXPECT_EQ("lo is interface 1", r.ifr_ifindex, 1);
  memset(&r, 0, sizeof r);
  r.ifr_ifindex = 1;
  EXPECT_OK("SIOCGIFNAME 1", ioctl(fd, SIOCGIFNAME, &r));
  EXPECT_STR("interface 1 is lo", r.ifr_name, "lo");
  EXPECT_OK("SIOCGIFFLAGS lo", ioctl(fd, SIOCGIFFLAGS, &r));
  CHECK("lo is up and loopback", (r.ifr_flags & (IFF_UP | IFF_LOOPBACK)) == (IFF_UP | IFF_LOOPBACK));
  EXPECT_OK("SIOCGIFADDR lo", ioctl(fd, SIOCGIFADDR, &r));
  CHECK("lo has 127.0.0.1", ((struct sockaddr_in *)&r.ifr_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  strcpy(r.ifr_name, "nosuch0");
  EXPECT_ERRNO("SIOCGIFINDEX of a missing interface: ENODEV", ioctl(fd, SIOCGIFINDEX, &r), ENODEV);
  close(fd);
}

/* read(2) and write(2) (not recv/send) on a socket with nothing to read and
 * then a full send buffer: EAGAIN when non-blocking; a blocking write of more
 * than the buffers hold waits for the reader and delivers every byte. */
static void test_would_block(void) {
  int port, l = listener4(&port);
  int fd = connect4(port);
  int c = accept(l, NULL, NULL);
  CHECK("connected", fd >= 0 && c >= 0);
  int fl = fcntl(c, F_GETFL);
  fcntl(c, F_SETFL, fl | O_NONBLOCK);
  char b[4096];
  EXPECT_ERRNO("read of an empty non-blocking socket", read(c, b, sizeof b), EAGAIN);
  fcntl(c, F_SETFL, fl);
  fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  static char big[1 << 16];
  memset(big, 'w', sizeof big);
  long total = 0;
  ssize_t n;
  int rounds = 0;
  while ((n = write(fd, big, sizeof big)) > 0 && rounds++ < 4096) total += n;
  EXPECT_EQ("write until the buffers are full: -1", n, -1);
  EXPECT_EQ("with EAGAIN", errno, EAGAIN);
  CHECK("something was written first", total > 0);
  fcntl(fd, F_SETFL, fl);
  long got = 0;
  while (got < total && (n = read(c, b, sizeof b)) > 0) got += n;
  EXPECT_EQ("the reader gets every byte written", got, total);
  /* A blocking write larger than the buffers, drained by a child. */
  pid_t pid = fork();
  if (pid == 0) {
    long want = 8L << 20, have = 0;
    while (have < want && (n = read(c, b, sizeof b)) > 0) have += n;
    _exit(have == want ? 0 : 1);
  }
  static char huge[8 << 20];
  memset(huge, 'h', sizeof huge);
  EXPECT_EQ("a blocking 8 MiB write completes", write(fd, huge, sizeof huge), (ssize_t)sizeof huge);
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK("the child read all 8 MiB", WIFEXITED(st) && WEXITSTATUS(st) == 0);
  close(c);
  close(fd);
  close(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  test_echo_fork();
  test_nonblocking();
  test_errors();
  test_shutdown();
  test_waitall();
  test_would_block();
  test_options();
  test_ipv6();
  test_ifreq();
  TEST_DONE();
}
