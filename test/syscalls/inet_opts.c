/* inet_opts.c: socket options network tools set and check, as iperf3 does:
 * IP_MTU_DISCOVER / IPV6_MTU_DISCOVER (--dont-fragment), SO_RCVBUF and
 * SO_SNDBUF up to net.core.{r,w}mem_max and read back (-w 1M), a TCP
 * transfer between sockets with such buffers, and raw sockets, which need
 * CAP_NET_RAW (busybox ping). Only ephemeral ports on loopback are used. */
#include "test.h"
#include "inet_test.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

static int getint(int fd, int level, int name) {
  int v = -12345;
  socklen_t l = sizeof v;
  if (getsockopt(fd, level, name, &v, &l) < 0) return -errno;
  return v;
}

static long sysctl_long(const char *path) {
  FILE *f = fopen(path, "r");
  long v = -1;
  if (!f) return -1;
  if (fscanf(f, "%ld", &v) != 1) v = -1;
  fclose(f);
  return v;
}

static void test_mtu_discover(void) {
  int u4 = socket(AF_INET, SOCK_DGRAM, 0), t4 = socket(AF_INET, SOCK_STREAM, 0);
  int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
  EXPECT_EQ("IP_MTU_DISCOVER udp default is WANT", getint(u4, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_WANT);
  EXPECT_EQ("IP_MTU_DISCOVER tcp default is WANT", getint(t4, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_WANT);
  EXPECT_EQ("IPV6_MTU_DISCOVER default is WANT", getint(u6, IPPROTO_IPV6, IPV6_MTU_DISCOVER), IPV6_PMTUDISC_WANT);
  int ok = 1;
  for (int v = IP_PMTUDISC_DONT; v <= IP_PMTUDISC_OMIT; v++)
    ok &= setsockopt(u4, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v) == 0 && getint(u4, IPPROTO_IP, IP_MTU_DISCOVER) == v;
  CHECK("IP_MTU_DISCOVER takes DONT..OMIT and reads them back", ok);
  int bad = IP_PMTUDISC_OMIT + 1;
  EXPECT_ERRNO("IP_MTU_DISCOVER past OMIT: EINVAL", setsockopt(u4, IPPROTO_IP, IP_MTU_DISCOVER, &bad, sizeof bad), EINVAL);
  int v = IPV6_PMTUDISC_DO;
  EXPECT_OK("IPV6_MTU_DISCOVER DO", setsockopt(u6, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v));
  EXPECT_EQ("IPV6_MTU_DISCOVER reads back", getint(u6, IPPROTO_IPV6, IPV6_MTU_DISCOVER), IPV6_PMTUDISC_DO);
  v = IP_PMTUDISC_DO;
  EXPECT_OK("IP_MTU_DISCOVER DO on tcp", setsockopt(t4, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v));
  EXPECT_ERRNO("IPV6_MTU_DISCOVER on AF_INET: ENOPROTOOPT", setsockopt(u4, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v), ENOPROTOOPT);

  /* Loopback's MTU (65536) holds the largest datagram: DO sends it whole. */
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = lo4(0);
  bind(r, (struct sockaddr *)&a, sizeof a);
  a = lo4(port_of(r));
  EXPECT_OK("IP_MTU_DISCOVER DO", setsockopt(u4, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v));
  static char big[65507];
  memset(big, 'x', sizeof big);
  EXPECT_EQ("DO: a 65507-byte datagram goes out over loopback",
            sendto(u4, big, sizeof big, 0, (struct sockaddr *)&a, sizeof a), (ssize_t)sizeof big);
  static char in[70000];
  EXPECT_EQ("and arrives whole", recv(r, in, sizeof in, 0), (ssize_t)sizeof big);
  EXPECT_ERRNO("65508 bytes: EMSGSIZE", sendto(u4, in, 65508, 0, (struct sockaddr *)&a, sizeof a), EMSGSIZE);
  close(r);
  close(u4);
  close(t4);
  close(u6);
}

static void test_buffers(void) {
  long rmax = sysctl_long("/proc/sys/net/core/rmem_max"), wmax = sysctl_long("/proc/sys/net/core/wmem_max");
  CHECK("net.core.rmem_max is readable", rmax > 0);
  CHECK("net.core.wmem_max is readable", wmax > 0);
  EXPECT_EQ("net.core.rmem_default", sysctl_long("/proc/sys/net/core/rmem_default"), 212992);
  EXPECT_EQ("net.core.wmem_default", sysctl_long("/proc/sys/net/core/wmem_default"), 212992);
  int s = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
  int req = 1 << 20;
  long want_r = 2 * (req < rmax ? req : rmax), want_w = 2 * (req < wmax ? req : wmax);
  setsockopt(s, SOL_SOCKET, SO_RCVBUF, &req, sizeof req);
  setsockopt(s, SOL_SOCKET, SO_SNDBUF, &req, sizeof req);
  EXPECT_EQ("tcp SO_RCVBUF 1M: doubled, capped at rmem_max", getint(s, SOL_SOCKET, SO_RCVBUF), want_r);
  EXPECT_EQ("tcp SO_SNDBUF 1M: doubled, capped at wmem_max", getint(s, SOL_SOCKET, SO_SNDBUF), want_w);
  setsockopt(u, SOL_SOCKET, SO_RCVBUF, &req, sizeof req);
  EXPECT_EQ("udp SO_RCVBUF 1M", getint(u, SOL_SOCKET, SO_RCVBUF), want_r);
  int huge = 1 << 30;
  setsockopt(u, SOL_SOCKET, SO_SNDBUF, &huge, sizeof huge);
  EXPECT_EQ("udp SO_SNDBUF 1G: twice wmem_max", getint(u, SOL_SOCKET, SO_SNDBUF), 2 * wmax);
  close(s);
  close(u);
}

/* A transfer between sockets whose buffers were set before connecting, the
 * way iperf3 -w sets them. */
static void test_transfer_with_buffers(void) {
  int req = 1 << 20;
  int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(l, SOL_SOCKET, SO_RCVBUF, &req, sizeof req);
  setsockopt(c, SOL_SOCKET, SO_SNDBUF, &req, sizeof req);
  setsockopt(c, SOL_SOCKET, SO_RCVBUF, &req, sizeof req);
  struct sockaddr_in a = lo4(0);
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 1);
  a = lo4(port_of(l));
  EXPECT_OK("connect", connect(c, (struct sockaddr *)&a, sizeof a));
  int s = accept(l, NULL, NULL);
  CHECK("accept", s >= 0);
  EXPECT_EQ("the accepted socket inherits SO_RCVBUF", getint(s, SOL_SOCKET, SO_RCVBUF), getint(l, SOL_SOCKET, SO_RCVBUF));
  static char buf[1 << 16];
  memset(buf, 7, sizeof buf);
  const long total = 16L << 20;
  long sent = 0, got = 0;
  int bad = 0;
  fcntl(c, F_SETFL, O_NONBLOCK);
  fcntl(s, F_SETFL, O_NONBLOCK);
  while (got < total) {
    struct pollfd p[2] = {{c, sent < total ? POLLOUT : 0, 0}, {s, POLLIN, 0}};
    if (poll(p, 2, 5000) <= 0) break;
    if (p[0].revents & POLLOUT) {
      ssize_t n = send(c, buf, sent + (long)sizeof buf > total ? (size_t)(total - sent) : sizeof buf, 0);
      if (n > 0) sent += n;
    }
    if (p[1].revents & POLLIN) {
      static char rb[1 << 17];
      ssize_t n = recv(s, rb, sizeof rb, 0);
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; i++) bad |= rb[i] != 7;
      got += n;
    }
  }
  EXPECT_EQ("16 MiB arrive", got, total);
  CHECK("intact", !bad);
  close(c);
  close(s);
  close(l);
}

static int has_net_raw(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  unsigned long long eff = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "CapEff: %llx", &eff) == 1) break;
  if (f) fclose(f);
  return (eff >> 13) & 1; /* CAP_NET_RAW */
}

static void test_raw(void) {
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  int e = errno;
  if (has_net_raw()) {
    /* The Sentry drops CAP_NET_RAW, so this side only runs natively. */
    CHECK("raw socket: EPERM exactly without CAP_NET_RAW", fd >= 0);
  } else {
    CHECK("raw socket: EPERM exactly without CAP_NET_RAW", fd < 0 && e == EPERM);
  }
  if (fd >= 0) close(fd);
  /* Ping sockets need no capability, only net.ipv4.ping_group_range. */
  fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  e = errno;
  CHECK("ping socket: created, or EACCES outside ping_group_range", fd >= 0 || e == EACCES);
  if (fd >= 0) close(fd);
}

int main(void) {
  test_mtu_discover();
  test_buffers();
  test_transfer_with_buffers();
  test_raw();
  TEST_DONE();
}
