/* udp_loopback.c: AF_INET/AF_INET6 UDP and ping sockets over loopback:
 * sendto/recvfrom, MSG_TRUNC, MSG_PEEK, FIONREAD, connect filtering and
 * ECONNREFUSED, shutdown, poll, errors. Only ephemeral ports are used. */
#include "test.h"
#include "inet_test.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static int bound4(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = lo4(0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) return -1;
  return fd;
}

static int revents(int fd, short ev, int ms) {
  struct pollfd p = {fd, ev, 0};
  return poll(&p, 1, ms) < 0 ? -1 : p.revents;
}

static void test_basic(void) {
  int a = bound4(), b = bound4();
  CHECK("two sockets bound on 127.0.0.1", a >= 0 && b >= 0);
  int pa = port_of(a), pb = port_of(b);
  CHECK("ephemeral ports in 32768..60999", pa >= 32768 && pa <= 60999 && pb >= 32768 && pb <= 60999);
  struct sockaddr_in to = lo4(pb);
  EXPECT_EQ("poll: writable, not readable", revents(b, POLLIN | POLLOUT, 0), POLLOUT);
  EXPECT_EQ("sendto", sendto(a, "hello", 5, 0, (struct sockaddr *)&to, sizeof to), 5);
  EXPECT_EQ("poll: readable", revents(b, POLLIN, 1000), POLLIN);
  int q = -1;
  EXPECT_OK("FIONREAD", ioctl(b, FIONREAD, &q));
  EXPECT_EQ("FIONREAD is the datagram size", q, 5);
  char buf[64];
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  EXPECT_EQ("MSG_PEEK", recvfrom(b, buf, sizeof buf, MSG_PEEK, (struct sockaddr *)&from, &fl), 5);
  fl = sizeof from;
  EXPECT_EQ("recvfrom", recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl), 5);
  CHECK("payload", memcmp(buf, "hello", 5) == 0);
  EXPECT_EQ("from length", fl, sizeof(struct sockaddr_in));
  CHECK("from is the sender", from.sin_family == AF_INET && ntohs(from.sin_port) == pa &&
                                  from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  EXPECT_ERRNO("MSG_DONTWAIT on an empty socket", recv(b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

  /* Truncation. */
  sendto(a, "0123456789", 10, 0, (struct sockaddr *)&to, sizeof to);
  EXPECT_EQ("short buffer truncates", recv(b, buf, 4, 0), 4);
  EXPECT_ERRNO("the rest is gone", recv(b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
  sendto(a, "0123456789", 10, 0, (struct sockaddr *)&to, sizeof to);
  EXPECT_EQ("MSG_TRUNC returns the real length", recv(b, buf, 4, MSG_TRUNC), 10);
  sendto(a, "0123456789", 10, 0, (struct sockaddr *)&to, sizeof to);
  struct iovec iov = {buf, 3};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  EXPECT_EQ("recvmsg short", recvmsg(b, &m, 0), 3);
  CHECK("msg_flags has MSG_TRUNC", m.msg_flags & MSG_TRUNC);
  EXPECT_EQ("empty datagram", sendto(a, "", 0, 0, (struct sockaddr *)&to, sizeof to), 0);
  EXPECT_EQ("received as 0 bytes", recv(b, buf, sizeof buf, 0), 0);

  /* Datagrams keep their boundaries. */
  sendto(a, "one", 3, 0, (struct sockaddr *)&to, sizeof to);
  sendto(a, "three", 5, 0, (struct sockaddr *)&to, sizeof to);
  EXPECT_EQ("first datagram", recv(b, buf, sizeof buf, 0), 3);
  EXPECT_EQ("second datagram", recv(b, buf, sizeof buf, 0), 5);
  close(a);
  close(b);
}

static void test_connected(void) {
  int a = bound4(), b = bound4(), c = bound4();
  struct sockaddr_in to = lo4(port_of(b));
  EXPECT_OK("connect", connect(a, (struct sockaddr *)&to, sizeof to));
  EXPECT_EQ("send on a connected socket", send(a, "x", 1, 0), 1);
  char buf[16];
  EXPECT_EQ("peer receives", recv(b, buf, sizeof buf, 0), 1);
  struct sockaddr_in p;
  socklen_t pl = sizeof p;
  EXPECT_OK("getpeername", getpeername(a, (struct sockaddr *)&p, &pl));
  EXPECT_EQ("peer port", ntohs(p.sin_port), port_of(b));
  /* A connected socket only hears its peer. */
  struct sockaddr_in toa = lo4(port_of(a));
  sendto(c, "nope", 4, 0, (struct sockaddr *)&toa, sizeof toa);
  sendto(b, "yes", 3, 0, (struct sockaddr *)&toa, sizeof toa);
  EXPECT_EQ("only the peer's datagram arrives", recv(a, buf, sizeof buf, 0), 3);
  EXPECT_ERRNO("nothing else", recv(a, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
  /* Disconnect with AF_UNSPEC. */
  struct sockaddr un = {0};
  un.sa_family = AF_UNSPEC;
  EXPECT_OK("connect(AF_UNSPEC) disconnects", connect(a, &un, sizeof un));
  pl = sizeof p;
  EXPECT_ERRNO("getpeername after disconnect: ENOTCONN", getpeername(a, (struct sockaddr *)&p, &pl), ENOTCONN);
  EXPECT_ERRNO("send without an address: EDESTADDRREQ", send(a, "x", 1, 0), EDESTADDRREQ);

  /* ECONNREFUSED: a connected socket learns of the port unreachable. */
  int port = port_of(c);
  close(c);
  struct sockaddr_in gone = lo4(port);
  connect(a, (struct sockaddr *)&gone, sizeof gone);
  EXPECT_EQ("send to a closed port succeeds", send(a, "x", 1, 0), 1);
  revents(a, POLLIN, 1000);
  EXPECT_ERRNO("the next recv is ECONNREFUSED", recv(a, buf, sizeof buf, MSG_DONTWAIT), ECONNREFUSED);
  EXPECT_OK("shutdown(SHUT_RD) on a connected socket", shutdown(a, SHUT_RD));
  EXPECT_EQ("recv after SHUT_RD: EOF", recv(a, buf, sizeof buf, 0), 0);
  EXPECT_ERRNO("shutdown unconnected: ENOTCONN", shutdown(b, SHUT_RDWR), ENOTCONN);
  close(a);
  close(b);
}

static void test_errors(void) {
  int a = bound4(), b = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in self = lo4(port_of(a));
  EXPECT_ERRNO("bind to a taken port: EADDRINUSE", bind(b, (struct sockaddr *)&self, sizeof self), EADDRINUSE);
  EXPECT_ERRNO("listen: EOPNOTSUPP", listen(a, 1), EOPNOTSUPP);
  EXPECT_ERRNO("accept: EOPNOTSUPP", accept(a, NULL, NULL), EOPNOTSUPP);
  EXPECT_ERRNO("sendto with a short address: EINVAL", sendto(a, "x", 1, 0, (struct sockaddr *)&self, 4), EINVAL);
  int v = 0;
  socklen_t vl = sizeof v;
  getsockopt(a, SOL_SOCKET, SO_TYPE, &v, &vl);
  EXPECT_EQ("SO_TYPE", v, SOCK_DGRAM);
  getsockopt(a, SOL_SOCKET, SO_PROTOCOL, &v, &vl);
  EXPECT_EQ("SO_PROTOCOL", v, IPPROTO_UDP);
  int one = 1;
  EXPECT_OK("SO_REUSEADDR on b", setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
  EXPECT_ERRNO("still EADDRINUSE when only b has it", bind(b, (struct sockaddr *)&self, sizeof self), EADDRINUSE);
  int c = socket(AF_INET, SOCK_DGRAM, 0), d = socket(AF_INET, SOCK_DGRAM, 0);
  setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(d, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in any = lo4(0);
  bind(c, (struct sockaddr *)&any, sizeof any);
  struct sockaddr_in cs = lo4(port_of(c));
  EXPECT_OK("SO_REUSEADDR on both shares a UDP port", bind(d, (struct sockaddr *)&cs, sizeof cs));
  close(a);
  close(b);
  close(c);
  close(d);
}

static void test_ipv6(void) {
  int a = socket(AF_INET6, SOCK_DGRAM, 0), b = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 s = {0};
  s.sin6_family = AF_INET6;
  s.sin6_addr = in6addr_loopback;
  EXPECT_OK("bind [::1]:0", bind(b, (struct sockaddr *)&s, sizeof s));
  int v6 = -1;
  socklen_t v6l = sizeof v6;
  EXPECT_OK("getsockopt(IPV6_V6ONLY)", getsockopt(b, IPPROTO_IPV6, IPV6_V6ONLY, &v6, &v6l));
  EXPECT_EQ("IPV6_V6ONLY is 1 after binding ::1", v6, 1);
  s.sin6_port = htons(port_of(b));
  EXPECT_EQ("sendto [::1]", sendto(a, "v6", 2, 0, (struct sockaddr *)&s, sizeof s), 2);
  char buf[8];
  struct sockaddr_in6 from;
  socklen_t fl = sizeof from;
  EXPECT_EQ("recvfrom on ::1", recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl), 2);
  EXPECT_EQ("from length", fl, sizeof(struct sockaddr_in6));
  CHECK("from ::1 and the sender's port", memcmp(&from.sin6_addr, &in6addr_loopback, 16) == 0 &&
                                            ntohs(from.sin6_port) == port_of(a));
  EXPECT_ERRNO("bind a sockaddr_in on AF_INET6: EINVAL (too short)", ({
                 struct sockaddr_in x = lo4(0);
                 bind(a, (struct sockaddr *)&x, sizeof x);
               }), EINVAL);
  close(a);
  close(b);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  test_basic();
  test_connected();
  test_errors();
  test_ipv6();
  TEST_DONE();
}
