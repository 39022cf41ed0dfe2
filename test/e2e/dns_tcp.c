// dns_tcp NAME [SERVER]: asks SERVER (default 127.0.0.11) for NAME's A record
// over TCP, twice on one connection (pipelined, as RFC 7766 allows), and
// prints "rcode=N answers=N A.B.C.D" for each answer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int query(unsigned char *q, const char *name, int id) {
  int n = 0;
  unsigned char h[12] = {id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};  // RD, one question
  memcpy(q, h, 12);
  n = 12;
  const char *p = name;
  while (*p) {
    const char *dot = strchr(p, '.');
    int len = dot ? dot - p : (int)strlen(p);
    q[n++] = len;
    memcpy(q + n, p, len);
    n += len;
    p += len;
    if (*p == '.') p++;
  }
  q[n++] = 0;
  unsigned char tail[4] = {0, 1, 0, 1};  // A, IN
  memcpy(q + n, tail, 4);
  return n + 4;
}

static int readn(int s, unsigned char *b, int n) {
  int got = 0;
  while (got < n) {
    int r = read(s, b + got, n - got);
    if (r <= 0) return -1;
    got += r;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
  inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.11", &a.sin_addr);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
  unsigned char out[1024];
  int n = 0;
  for (int i = 0; i < 2; i++) {
    int len = query(out + n + 2, argv[1], 0x1234 + i);
    out[n] = len >> 8;
    out[n + 1] = len & 0xff;
    n += 2 + len;
  }
  if (write(s, out, n) != n) { perror("write"); return 1; }
  for (int i = 0; i < 2; i++) {
    unsigned char lb[2], m[65536];
    if (readn(s, lb, 2) < 0) { printf("closed\n"); return 1; }
    int len = lb[0] << 8 | lb[1];
    if (readn(s, m, len) < 0) { printf("short\n"); return 1; }
    int id = m[0] << 8 | m[1], an = m[6] << 8 | m[7];
    // Skip the question, then find the first A record.
    int off = 12;
    while (off < len && m[off]) off += m[off] + 1;
    off += 5;
    char addr[32] = "-";
    for (int k = 0; k < an && off + 12 <= len; k++) {
      if ((m[off] & 0xc0) == 0xc0) off += 2; else { while (off < len && m[off]) off += m[off] + 1; off++; }
      int type = m[off] << 8 | m[off + 1], rdlen = m[off + 8] << 8 | m[off + 9];
      off += 10;
      if (type == 1 && rdlen == 4 && addr[0] == '-') inet_ntop(AF_INET, m + off, addr, sizeof addr);
      off += rdlen;
    }
    printf("id=%s rcode=%d answers=%d %s\n", (id == 0x1234 || id == 0x1235) ? "ok" : "bad", m[3] & 15, an, addr);
  }
  return 0;
}
