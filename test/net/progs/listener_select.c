/* listener_select.c: select(2) and poll(2) with no timeout on an idle
 * listening socket must never call it readable, while another process is
 * blocked (under tsvisor the run loop then arms its wake timer, and a wake
 * signal landing in the Sentry's poll of the host socket once made that poll
 * fail, which readiness took for an error: iperf3 -s then hung in accept).
 * Prints "spurious N" and exits 1 if it ever was readable. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.5;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4)) { perror("listen"); return 2; }
  int p[2];
  if (pipe(p)) return 2;
  pid_t kid = fork();
  if (kid == 0) { /* blocked until the parent is done */
    char c;
    close(p[1]);
    read(p[0], &c, 1);
    _exit(0);
  }
  close(p[0]);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long rounds = 0, spurious = 0;
  do {
    fd_set r;
    FD_ZERO(&r);
    FD_SET(l, &r);
    struct timeval z = {0, 0};
    if (select(l + 1, &r, NULL, NULL, &z) != 0) spurious++;
    struct pollfd pf = {l, POLLIN, 0};
    if (poll(&pf, 1, 0) != 0) spurious++;
    rounds++;
    clock_gettime(CLOCK_MONOTONIC, &t);
  } while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
  close(p[1]);
  waitpid(kid, NULL, 0);
  printf("rounds %ld spurious %ld\n", rounds, spurious);
  return spurious ? 1 : 0;
}
