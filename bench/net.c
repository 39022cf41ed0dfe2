// Network micro-benchmarks for bench/net.mjs, run natively and in sandboxes:
//   net tput MIB    TCP throughput over 127.0.0.1: a child writes MIB MiB in
//                   64 KiB writes, the parent reads them; prints "tput NS BYTES READS".
//   net conn N      connect+accept+close N times over 127.0.0.1; prints "conn NS N".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int listener(struct sockaddr_in *a) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)a, sizeof *a) < 0 || listen(s, 128) < 0) { perror("listen"); exit(1); }
  socklen_t len = sizeof *a;
  getsockname(s, (struct sockaddr *)a, &len);
  return s;
}

static int tput(long mib) {
  struct sockaddr_in a;
  int l = listener(&a);
  long long total = mib << 20;
  pid_t pid = fork();
  if (pid == 0) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); _exit(1); }
    static char buf[65536];
    memset(buf, 'x', sizeof buf);
    for (long long left = total; left > 0;) {
      ssize_t n = write(c, buf, left < (long long)sizeof buf ? left : (long long)sizeof buf);
      if (n <= 0) { perror("write"); _exit(1); }
      left -= n;
    }
    close(c);
    _exit(0);
  }
  int s = accept(l, NULL, NULL);
  static char buf[65536];
  long long got = 0, reads = 0, t0 = now_ns();
  for (;;) {
    ssize_t n = read(s, buf, sizeof buf);
    if (n <= 0) break;
    got += n;
    reads++;
  }
  long long dt = now_ns() - t0;
  int st;
  waitpid(pid, &st, 0);
  printf("tput %lld %lld %lld\n", dt, got, reads);
  return got == total ? 0 : 1;
}

static int conn(long n) {
  struct sockaddr_in a;
  int l = listener(&a);
  long long t0 = now_ns();
  for (long i = 0; i < n; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
    int s = accept(l, NULL, NULL);
    if (s < 0) { perror("accept"); return 1; }
    close(c);
    close(s);
  }
  printf("conn %lld %ld\n", now_ns() - t0, n);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "tput")) return tput(atol(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "conn")) return conn(atol(argv[2]));
  fprintf(stderr, "usage: net tput MIB | net conn N\n");
  return 2;
}
