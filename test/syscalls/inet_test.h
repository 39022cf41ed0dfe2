/* inet_test.h: socket address helpers shared by the inet socket tests. */
#ifndef TSV_INET_TEST_H
#define TSV_INET_TEST_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* lo4 is 127.0.0.1:port. */
static inline struct sockaddr_in lo4(int port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/* port_of is the local port of an AF_INET or AF_INET6 socket, or -1. */
static inline int port_of(int fd) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0) return -1;
  return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                 : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}
#endif
