/* raw_sockets.c: raw IP sockets (SOCK_RAW) on loopback, which need
 * CAP_NET_RAW: ICMP echo to 127.0.0.1 and ::1 (an IPv4 raw socket reads the
 * IP header, an IPv6 one the payload only; both see their own request too),
 * IP_HDRINCL and IPPROTO_RAW (the kernel completes the header), ICMP_FILTER
 * and ICMP6_FILTER, IPV6_CHECKSUM, names, and EPERM once CAP_NET_RAW is
 * dropped. It runs as root natively and under `runsc --net-raw`.
 *
 * runsc-flags: --net-raw --network=none
 */
#include "test.h"
#include <arpa/inet.h>
#include <linux/capability.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define ID_BASE 0x7a00

static struct sockaddr_in lo4(void) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static struct sockaddr_in6 lo6(void) {
  struct sockaddr_in6 a = {0};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  return a;
}

static unsigned short csum(const void *p, int n) {
  const unsigned char *b = p;
  unsigned long s = 0;
  for (int i = 0; i + 1 < n; i += 2) s += (b[i] << 8) | b[i + 1];
  if (n & 1) s += b[n - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return htons(~s & 0xffff);
}

/* echo4 writes an ICMP echo request (8 + 16 bytes) with its checksum. */
static int echo4(unsigned char *b, int id, int seq) {
  memset(b, 0, 24);
  b[0] = ICMP_ECHO;
  b[4] = id >> 8, b[5] = id & 0xff, b[6] = seq >> 8, b[7] = seq & 0xff;
  memcpy(b + 8, "tsvisor-raw-ping", 16);
  unsigned short c = csum(b, 24);
  memcpy(b + 2, &c, 2);
  return 24;
}

/* next4 waits for an ICMP message with identifier id on fd (IPv4 header
 * included) and returns its length, or -1 after 2 s. Others are skipped. */
static int next4(int fd, unsigned char *buf, int len, int id, struct sockaddr_in *from) {
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 2000) != 1) return -1;
    socklen_t fl = sizeof *from;
    int n = recvfrom(fd, buf, len, 0, (struct sockaddr *)from, &fl);
    if (n < 0) return -1;
    int ihl = (buf[0] & 15) * 4;
    if (n >= ihl + 8 && ((buf[ihl + 4] << 8) | buf[ihl + 5]) == id) return n;
  }
}

static int next6(int fd, unsigned char *buf, int len, int id, struct sockaddr_in6 *from) {
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 2000) != 1) return -1;
    socklen_t fl = sizeof *from;
    int n = recvfrom(fd, buf, len, 0, (struct sockaddr *)from, &fl);
    if (n < 0) return -1;
    if (n >= 8 && ((buf[4] << 8) | buf[5]) == id) return n;
  }
}

static int has_cap(int cap) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) return 0;
  return (d[cap / 32].effective >> (cap % 32)) & 1;
}

static int drop_cap(int cap) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) return -1;
  d[cap / 32].effective &= ~(1u << (cap % 32));
  d[cap / 32].permitted &= ~(1u << (cap % 32));
  return syscall(SYS_capset, &h, d);
}

static void test_icmp4(void) {
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  CHECK("icmp4.socket", fd >= 0);
  if (fd < 0) return;
  struct sockaddr_in a = {0};
  socklen_t al = sizeof a;
  EXPECT_OK("icmp4.getsockname", getsockname(fd, (struct sockaddr *)&a, &al));
  CHECK("icmp4.getsockname: port is the protocol, address any", a.sin_family == AF_INET && a.sin_port == htons(IPPROTO_ICMP) && a.sin_addr.s_addr == 0);
  int type = -1;
  socklen_t tl = sizeof type;
  EXPECT_OK("icmp4.SO_PROTOCOL", getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &type, &tl));
  EXPECT_EQ("icmp4.SO_PROTOCOL.value", type, IPPROTO_ICMP);
  int hdrincl = -1;
  socklen_t hl = sizeof hdrincl;
  EXPECT_OK("icmp4.IP_HDRINCL.get", getsockopt(fd, IPPROTO_IP, IP_HDRINCL, &hdrincl, &hl));
  EXPECT_EQ("icmp4.IP_HDRINCL.default", hdrincl, 0);
  unsigned char req[24], buf[256];
  int id = ID_BASE + 1;
  echo4(req, id, 1);
  EXPECT_ERRNO("icmp4.send.unconnected", send(fd, req, 24, 0), EDESTADDRREQ);
  struct sockaddr_in to = lo4();
  EXPECT_EQ("icmp4.sendto", sendto(fd, req, 24, 0, (struct sockaddr *)&to, sizeof to), 24);
  struct sockaddr_in from;
  int n = next4(fd, buf, sizeof buf, id, &from);
  EXPECT_EQ("icmp4.own request: IP header + message", n, 20 + 24);
  CHECK("icmp4.own request: IPv4 header first", n > 20 && buf[0] == 0x45 && buf[9] == IPPROTO_ICMP && buf[20] == ICMP_ECHO);
  CHECK("icmp4.own request: total length filled", n > 20 && ((buf[2] << 8) | buf[3]) == 44);
  CHECK("icmp4.recvfrom: 127.0.0.1, port 0", from.sin_family == AF_INET && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && from.sin_port == 0);
  n = next4(fd, buf, sizeof buf, id, &from);
  CHECK("icmp4.echo reply", n == 44 && buf[20] == ICMP_ECHOREPLY && memcmp(buf + 28, req + 8, 16) == 0);

  /* MSG_PEEK, MSG_TRUNC, FIONREAD, poll. */
  echo4(req, id + 1, 2);
  sendto(fd, req, 24, 0, (struct sockaddr *)&to, sizeof to);
  struct pollfd p = {fd, POLLIN, 0};
  CHECK("icmp4.poll: readable", poll(&p, 1, 2000) == 1 && (p.revents & POLLIN));
  int avail = -1;
  EXPECT_OK("icmp4.FIONREAD", ioctl(fd, FIONREAD, &avail));
  EXPECT_EQ("icmp4.FIONREAD: the next packet", avail, 44);
  EXPECT_EQ("icmp4.MSG_PEEK|MSG_TRUNC: whole length", recv(fd, buf, 4, MSG_PEEK | MSG_TRUNC), 44);
  struct iovec iov = {buf, 10};
  struct msghdr mh = {0};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  EXPECT_EQ("icmp4.recvmsg: truncated", recvmsg(fd, &mh, 0), 10);
  CHECK("icmp4.recvmsg: MSG_TRUNC flag", (mh.msg_flags & MSG_TRUNC) != 0);
  CHECK("icmp4.reply after peek", next4(fd, buf, sizeof buf, id + 1, &from) == 44 && buf[20] == ICMP_ECHOREPLY);

  /* ICMP_FILTER: bits set drop those types; here the echo requests. */
  struct icmp_filter f = {1u << ICMP_ECHO};
  EXPECT_OK("icmp4.ICMP_FILTER.set", setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof f));
  struct icmp_filter g = {0};
  socklen_t gl = sizeof g;
  EXPECT_OK("icmp4.ICMP_FILTER.get", getsockopt(fd, SOL_RAW, ICMP_FILTER, &g, &gl));
  CHECK("icmp4.ICMP_FILTER.value", gl == sizeof g && g.data == (1u << ICMP_ECHO));
  echo4(req, id + 2, 3);
  sendto(fd, req, 24, 0, (struct sockaddr *)&to, sizeof to);
  n = next4(fd, buf, sizeof buf, id + 2, &from);
  CHECK("icmp4.ICMP_FILTER: the request is dropped, the reply passes", n == 44 && buf[20] == ICMP_ECHOREPLY);

  /* connect: send without an address; getpeername. */
  EXPECT_OK("icmp4.connect", connect(fd, (struct sockaddr *)&to, sizeof to));
  struct sockaddr_in peer = {0};
  socklen_t pl = sizeof peer;
  EXPECT_ERRNO("icmp4.getpeername: no port, not connected", getpeername(fd, (struct sockaddr *)&peer, &pl), ENOTCONN);
  al = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &al);
  CHECK("icmp4.getsockname after connect: the source address", a.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  to.sin_port = htons(7);
  EXPECT_OK("icmp4.connect.port", connect(fd, (struct sockaddr *)&to, sizeof to));
  pl = sizeof peer;
  EXPECT_OK("icmp4.getpeername", getpeername(fd, (struct sockaddr *)&peer, &pl));
  CHECK("icmp4.getpeername: 127.0.0.1 and the port given", peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && peer.sin_port == htons(7));
  echo4(req, id + 3, 4);
  EXPECT_EQ("icmp4.send.connected", send(fd, req, 24, 0), 24);
  CHECK("icmp4.connected reply", next4(fd, buf, sizeof buf, id + 3, &from) == 44);

  /* SO_RCVBUF bounds the queue: unread packets beyond it are dropped. */
  int small = 1;
  EXPECT_OK("icmp4.SO_RCVBUF", setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small));
  for (int i = 0; i < 64; i++) {
    echo4(req, id + 4, i);
    send(fd, req, 24, 0);
  }
  usleep(100000);
  int got = 0;
  while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) got++;
  CHECK("icmp4.SO_RCVBUF: some packets were dropped", got > 0 && got < 128);
  close(fd);

  /* Binding selects the destination address; a foreign one is refused. */
  fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  struct sockaddr_in b = lo4();
  EXPECT_OK("bind4.loopback", bind(fd, (struct sockaddr *)&b, sizeof b));
  al = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &al);
  CHECK("bind4.getsockname", a.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && a.sin_port == htons(IPPROTO_ICMP));
  b.sin_addr.s_addr = inet_addr("192.0.2.77");
  EXPECT_ERRNO("bind4.foreign", bind(fd, (struct sockaddr *)&b, sizeof b), EADDRNOTAVAIL);
  close(fd);

  fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  EXPECT_ERRNO("udp raw.ICMP_FILTER: not an ICMP socket", setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof f), EOPNOTSUPP);
  close(fd);
}

static void test_hdrincl(void) {
  int rx = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  int one = 1, v = -1;
  socklen_t vl = sizeof v;
  EXPECT_OK("hdrincl.set", setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one));
  EXPECT_OK("hdrincl.get", getsockopt(fd, IPPROTO_IP, IP_HDRINCL, &v, &vl));
  EXPECT_EQ("hdrincl.value", v, 1);
  unsigned char pkt[44] = {0}, buf[256];
  pkt[0] = 0x45;
  pkt[8] = 17; /* TTL */
  pkt[9] = IPPROTO_ICMP;
  pkt[16] = 127, pkt[19] = 1; /* daddr 127.0.0.1; saddr, id, length, checksum 0 */
  int id = ID_BASE + 20;
  echo4(pkt + 20, id, 1);
  struct sockaddr_in to = lo4(), from;
  EXPECT_EQ("hdrincl.sendto", sendto(fd, pkt, 44, 0, (struct sockaddr *)&to, sizeof to), 44);
  int n = next4(rx, buf, sizeof buf, id, &from);
  CHECK("hdrincl: our header arrives", n == 44 && buf[8] == 17 && buf[20] == ICMP_ECHO);
  CHECK("hdrincl: total length filled in", ((buf[2] << 8) | buf[3]) == 44);
  CHECK("hdrincl: source filled in", buf[12] == 127 && buf[15] == 1);
  CHECK("hdrincl: header checksum valid", csum(buf, 20) == 0);
  CHECK("hdrincl: the reply too", next4(rx, buf, sizeof buf, id, &from) == 44 && buf[20] == ICMP_ECHOREPLY);
  EXPECT_ERRNO("hdrincl.short", sendto(fd, pkt, 12, 0, (struct sockaddr *)&to, sizeof to), EINVAL);
  close(fd);

  /* IPPROTO_RAW: IP_HDRINCL implied, and it receives no ICMP. */
  fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  CHECK("ipproto_raw.socket", fd >= 0);
  vl = sizeof v;
  getsockopt(fd, IPPROTO_IP, IP_HDRINCL, &v, &vl);
  EXPECT_EQ("ipproto_raw.IP_HDRINCL", v, 1);
  id++;
  echo4(pkt + 20, id, 2);
  memset(pkt + 2, 0, 2);
  EXPECT_EQ("ipproto_raw.sendto", sendto(fd, pkt, 44, 0, (struct sockaddr *)&to, sizeof to), 44);
  CHECK("ipproto_raw: request delivered", next4(rx, buf, sizeof buf, id, &from) == 44 && buf[20] == ICMP_ECHO);
  CHECK("ipproto_raw: reply", next4(rx, buf, sizeof buf, id, &from) == 44 && buf[20] == ICMP_ECHOREPLY);
  struct pollfd p = {fd, POLLIN, 0};
  EXPECT_EQ("ipproto_raw: receives nothing", poll(&p, 1, 100), 0);
  close(fd);
  close(rx);
}

static void test_icmp6(void) {
  int fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  CHECK("icmp6.socket", fd >= 0);
  if (fd < 0) return;
  struct sockaddr_in6 a = {0};
  socklen_t al = sizeof a;
  EXPECT_OK("icmp6.getsockname", getsockname(fd, (struct sockaddr *)&a, &al));
  CHECK("icmp6.getsockname: port is the protocol", a.sin6_family == AF_INET6 && a.sin6_port == htons(IPPROTO_ICMPV6));
  int off = -5;
  socklen_t ol = sizeof off;
  EXPECT_OK("icmp6.IPV6_CHECKSUM.get", getsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &off, &ol));
  EXPECT_EQ("icmp6.IPV6_CHECKSUM: at 2", off, 2);
  int four = 4;
  EXPECT_ERRNO("icmp6.IPV6_CHECKSUM.set: not at the IPv6 level", setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &four, sizeof four), EINVAL);
  unsigned char req[16] = {ICMP6_ECHO_REQUEST, 0, 0, 0}, buf[256];
  int id = ID_BASE + 40;
  req[4] = id >> 8, req[5] = id & 0xff;
  memcpy(req + 8, "raw6ping", 8);
  struct sockaddr_in6 to = lo6(), from;
  EXPECT_EQ("icmp6.sendto", sendto(fd, req, 16, 0, (struct sockaddr *)&to, sizeof to), 16);
  int n = next6(fd, buf, sizeof buf, id, &from);
  CHECK("icmp6.own request: payload only, checksum set", n == 16 && buf[0] == ICMP6_ECHO_REQUEST && (buf[2] | buf[3]) != 0);
  CHECK("icmp6.recvfrom: ::1, port 0", from.sin6_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&from.sin6_addr) && from.sin6_port == 0);
  n = next6(fd, buf, sizeof buf, id, &from);
  CHECK("icmp6.echo reply", n == 16 && buf[0] == ICMP6_ECHO_REPLY && memcmp(buf + 8, "raw6ping", 8) == 0);

  struct icmp6_filter f;
  ICMP6_FILTER_SETBLOCKALL(&f);
  ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
  EXPECT_OK("icmp6.ICMP6_FILTER.set", setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f));
  struct icmp6_filter g;
  socklen_t gl = sizeof g;
  EXPECT_OK("icmp6.ICMP6_FILTER.get", getsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &g, &gl));
  CHECK("icmp6.ICMP6_FILTER.value", gl == sizeof g && ICMP6_FILTER_WILLPASS(ICMP6_ECHO_REPLY, &g) && ICMP6_FILTER_WILLBLOCK(ICMP6_ECHO_REQUEST, &g));
  req[5]++;
  req[2] = req[3] = 0;
  sendto(fd, req, 16, 0, (struct sockaddr *)&to, sizeof to);
  n = next6(fd, buf, sizeof buf, id + 1, &from);
  CHECK("icmp6.ICMP6_FILTER: only the reply", n == 16 && buf[0] == ICMP6_ECHO_REPLY);

  /* IPV6_RECVHOPLIMIT: the hop limit as a control message (ping6 prints it). */
  int on = 1;
  EXPECT_OK("icmp6.IPV6_RECVHOPLIMIT", setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on));
  req[5]++;
  req[2] = req[3] = 0;
  sendto(fd, req, 16, 0, (struct sockaddr *)&to, sizeof to);
  struct pollfd pp = {fd, POLLIN, 0};
  poll(&pp, 1, 2000);
  char cbuf[64];
  struct iovec iov = {buf, sizeof buf};
  struct msghdr mh = {0};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  EXPECT_EQ("icmp6.recvmsg", recvmsg(fd, &mh, 0), 16);
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  int hops = -1;
  if (cm && cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT) memcpy(&hops, CMSG_DATA(cm), sizeof hops);
  EXPECT_EQ("icmp6.IPV6_HOPLIMIT cmsg", hops, 64);
  close(fd);

  /* Another protocol: no checksum unless IPV6_CHECKSUM asks for one. */
  fd = socket(AF_INET6, SOCK_RAW, 253);
  ol = sizeof off;
  getsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &off, &ol);
  EXPECT_EQ("raw6.253.IPV6_CHECKSUM: off", off, -1);
  int three = 3;
  EXPECT_ERRNO("raw6.IPV6_CHECKSUM: odd offset", setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &three, sizeof three), EINVAL);
  EXPECT_OK("raw6.IPV6_CHECKSUM: even offset", setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &four, sizeof four));
  EXPECT_ERRNO("raw6.ICMP6_FILTER: not ICMPv6", setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f), EOPNOTSUPP);
  EXPECT_ERRNO("raw6.IP_HDRINCL: not an IPv4 option", setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &three, sizeof three), ENOPROTOOPT);
  int rx = socket(AF_INET6, SOCK_RAW, 253);
  unsigned char d[8] = {1, 2, 3, 4, 0, 0, 7, 8};
  EXPECT_EQ("raw6.253.sendto", sendto(fd, d, 8, 0, (struct sockaddr *)&to, sizeof to), 8);
  struct pollfd p = {rx, POLLIN, 0};
  CHECK("raw6.253: delivered", poll(&p, 1, 2000) == 1);
  n = recv(rx, buf, sizeof buf, 0);
  CHECK("raw6.253: payload with the checksum at 4", n == 8 && buf[0] == 1 && buf[6] == 7 && (buf[4] | buf[5]) != 0);
  to.sin6_port = htons(254);
  EXPECT_ERRNO("raw6.sendto: the port names another protocol", sendto(fd, d, 8, 0, (struct sockaddr *)&to, sizeof to), EINVAL);
  to.sin6_port = htons(253);
  EXPECT_EQ("raw6.sendto: the port names its protocol", sendto(fd, d, 8, 0, (struct sockaddr *)&to, sizeof to), 8);
  to.sin6_port = 0;
  close(rx);
  close(fd);
}

static void test_errors(void) {
  EXPECT_ERRNO("socket.raw.proto0", socket(AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
  EXPECT_ERRNO("socket.raw.proto263", socket(AF_INET, SOCK_RAW, 263), EINVAL);
  EXPECT_ERRNO("socket.raw6.proto0", socket(AF_INET6, SOCK_RAW, 0), EPROTONOSUPPORT);
}

static void test_no_cap(void) {
  EXPECT_OK("capset: drop CAP_NET_RAW", drop_cap(CAP_NET_RAW));
  CHECK("CAP_NET_RAW gone", !has_cap(CAP_NET_RAW));
  EXPECT_ERRNO("nocap.raw4", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
  EXPECT_ERRNO("nocap.raw6", socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EPERM);
  EXPECT_ERRNO("nocap.ipproto_raw", socket(AF_INET, SOCK_RAW, IPPROTO_RAW), EPERM);
  EXPECT_ERRNO("nocap.packet", socket(AF_PACKET, SOCK_RAW, 0), EPERM);
  EXPECT_ERRNO("nocap.proto0 still EPROTONOSUPPORT", socket(AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
}

int main(void) {
  CHECK("has CAP_NET_RAW", has_cap(CAP_NET_RAW));
  test_errors();
  test_icmp4();
  test_hdrincl();
  test_icmp6();
  test_no_cap();
  TEST_DONE();
}
