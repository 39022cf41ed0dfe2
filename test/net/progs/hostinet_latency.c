/* Round trips with a host echo server while another thread computes without
 * system calls: the Sentry's run loop then sits in bounded ptrace waits, and
 * the hostinet waker must cut them short. Prints the mean and median round
 * trips in ms.
 *   hostinet_latency PORT [spin] */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#define N 200
static volatile int stop;
static int cmp(const void *x, const void *y) { double a = *(const double *)x, b = *(const double *)y; return a < b ? -1 : a > b; }
static void *spin(void *a) { (void)a; volatile unsigned long x = 0; while (!stop) x++; return NULL; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
  pthread_t th;
  if (argc > 2) pthread_create(&th, NULL, spin, NULL);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET; a.sin_port = htons(atoi(argv[1])); a.sin_addr.s_addr = htonl(0x7f000001);
  if (connect(c, (void *)&a, sizeof a) < 0) { perror("connect"); return 1; }
  char b[8];
  static double rtt[N];
  double t0 = now();
  for (int i = 0; i < N; i++) {
    double t = now();
    write(c, "x", 1);
    if (read(c, b, sizeof b) <= 0) return 1;
    rtt[i] = (now() - t) * 1000;
  }
  qsort(rtt, N, sizeof rtt[0], cmp);
  printf("rtt_ms %.3f median_ms %.3f\n", (now() - t0) * 1000 / N, rtt[N / 2]);
  stop = 1;
  return 0;
}
