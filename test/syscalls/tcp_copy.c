/* tcp_copy.c: the data path of TCP over loopback: bulk transfers with odd
 * write and read sizes stay intact (send blocks are recycled), read/write/
 * readv/writev/recv/send agree, a bad or partly bad buffer fails with EFAULT
 * and leaves the queued bytes in place (tcp_recvmsg/tcp_sendmsg drop or keep
 * the faulting chunk whole), MSG_TRUNC discards, MSG_PEEK keeps. */
#include "test.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

static void pair(int *c, int *s) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 1);
  socklen_t n = sizeof a;
  getsockname(l, (struct sockaddr *)&a, &n);
  *c = socket(AF_INET, SOCK_STREAM, 0);
  connect(*c, (struct sockaddr *)&a, sizeof a);
  *s = accept(l, 0, 0);
  close(l);
}

#define BIG 3000001
static unsigned char big[BIG], got[BIG];

/* transfer sends BIG bytes from a child in wsize writes (send if use_send) and
 * reads them in rsize reads (readv of two halves if use_readv); 1 if intact. */
static int transfer(size_t wsize, size_t rsize, int use_send, int use_readv) {
  int c, s;
  pair(&c, &s);
  pid_t pid = fork();
  if (pid == 0) {
    close(s);
    for (size_t o = 0; o < BIG;) {
      size_t n = BIG - o < wsize ? BIG - o : wsize;
      ssize_t w = use_send ? send(c, big + o, n, 0) : write(c, big + o, n);
      if (w <= 0) _exit(1);
      o += w;
    }
    _exit(0);
  }
  close(c);
  memset(got, 0, BIG);
  size_t o = 0;
  while (o < BIG) {
    size_t n = BIG - o < rsize ? BIG - o : rsize;
    ssize_t r;
    if (use_readv && n > 1) {
      struct iovec v[2] = {{got + o, n / 2}, {got + o + n / 2, n - n / 2}};
      r = readv(s, v, 2);
    } else {
      r = read(s, got + o, n);
    }
    if (r <= 0) break;
    o += r;
  }
  int st = 0;
  waitpid(pid, &st, 0);
  close(s);
  return o == BIG && memcmp(big, got, BIG) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(void) {
  for (int i = 0; i < BIG; i++) big[i] = (unsigned char)(i * 131 + i / 65536);
  CHECK("64 KiB writes, 64 KiB reads", transfer(65536, 65536, 0, 0));
  CHECK("100003-byte writes, 70001-byte reads", transfer(100003, 70001, 0, 0));
  CHECK("send of 33333, readv of 5000", transfer(33333, 5000, 1, 1));
  CHECK("1 MiB writes, 300000-byte reads", transfer(1 << 20, 300000, 0, 0));

  int c, s;
  pair(&c, &s);
  char *pg = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(pg + 4096, 4096);
  memset(pg, 'a', 4096);
  char buf[256];
  void *volatile bad = (void *)8; /* volatile: no compile-time warning about it */
  errno = 0;
  CHECK("write from a bad pointer: EFAULT", write(c, bad, 100) == -1 && errno == EFAULT);
  errno = 0;
  CHECK("write running into an unmapped page: EFAULT", write(c, pg + 4000, 200) == -1 && errno == EFAULT);
  EXPECT_EQ("then a good write", write(c, pg, 100), 100);
  usleep(2000);
  errno = 0;
  CHECK("read into a bad pointer: EFAULT", read(s, bad, 50) == -1 && errno == EFAULT);
  errno = 0;
  CHECK("read running into an unmapped page: EFAULT", read(s, pg + 4090, 50) == -1 && errno == EFAULT);
  EXPECT_EQ("the bytes stayed queued", recv(s, buf, sizeof buf, MSG_DONTWAIT), 100);

  struct iovec wv[3] = {{"abc", 3}, {"defgh", 5}, {"ij", 2}};
  EXPECT_EQ("writev", writev(c, wv, 3), 10);
  char x1[4], x2[10];
  struct iovec rv[2] = {{x1, 4}, {x2, 10}};
  usleep(2000);
  EXPECT_EQ("readv", readv(s, rv, 2), 10);
  CHECK("readv contents", !memcmp(x1, "abcd", 4) && !memcmp(x2, "efghij", 6));
  EXPECT_EQ("send", send(c, "0123456789", 10, 0), 10);
  usleep(2000);
  EXPECT_EQ("MSG_PEEK", recv(s, buf, 3, MSG_PEEK), 3);
  EXPECT_EQ("MSG_TRUNC discards", recv(s, NULL, 4, MSG_TRUNC), 4);
  EXPECT_EQ("what is left", recv(s, buf, sizeof buf, 0), 6);
  CHECK("left contents", !memcmp(buf, "456789", 6));
  shutdown(c, SHUT_WR);
  EXPECT_EQ("EOF", read(s, buf, sizeof buf), 0);
  TEST_DONE();
}
