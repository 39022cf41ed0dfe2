/* sockdiag.c: NETLINK_SOCK_DIAG (what ss uses): inet_diag dumps of TCP and
 * UDP over IPv4 and IPv6 with state, port and bytecode filters and the
 * INFO/MEMINFO/SKMEMINFO/SHUTDOWN attributes; exact lookups by address and
 * cookie; unix_diag dumps and exact lookups with names, peers, pending
 * connections and queue lengths. Only this program's own sockets are looked
 * at (found by inode number), so other sockets on the host do not matter. */
#include "test.h"
#include "inet_test.h"
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/* Socket states (include/net/tcp_states.h). */
#define ST_ESTABLISHED 1
#define ST_FIN_WAIT2 5
#define ST_CLOSE 7
#define ST_CLOSE_WAIT 8
#define ST_LISTEN 10

/* Records kept per dump. The host may hold thousands of sockets (TIME_WAIT
 * after a benchmark): those without an inode are skipped, the rest fit. */
#define MAXREC 65536

struct rec {
  int family, state, timer;
  int sport, dport;
  unsigned char src[16], dst[16];
  unsigned ino, uid, rq, wq;
  unsigned long long cookie;
  int shutdown;      /* -1 when absent */
  int info_state;    /* tcpi_state, -1 when absent */
  int meminfo_len, skmem_len;
  /* unix */
  int type, peer;    /* peer: -1 when absent */
  char name[108];
  int name_len;
  int icons;         /* number of icons, -1 when absent */
  unsigned icon0;
};

static struct rec recs[MAXREC];
static int nrec;
static int last_flags;

/* talk sends one request and collects the answers; returns 0 or -errno. */
static int talk(int nl, const void *req, size_t len, int is_unix) {
  char buf[65536];
  nrec = 0;
  if (send(nl, req, len, 0) != (ssize_t)len) return -errno;
  for (;;) {
    ssize_t n = recv(nl, buf, sizeof buf, 0);
    if (n < 0) return -errno;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return *(int *)NLMSG_DATA(h);
      if (h->nlmsg_type == NLMSG_ERROR) return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (nrec >= MAXREC) continue;
      struct rec *r = &recs[nrec++];
      memset(r, 0, sizeof *r);
      r->shutdown = r->info_state = r->peer = r->icons = -1;
      last_flags = h->nlmsg_flags;
      struct rtattr *a;
      int alen;
      if (is_unix) {
        struct unix_diag_msg *m = NLMSG_DATA(h);
        r->family = m->udiag_family;
        r->type = m->udiag_type;
        r->state = m->udiag_state;
        r->ino = m->udiag_ino;
        r->cookie = m->udiag_cookie[0] | (unsigned long long)m->udiag_cookie[1] << 32;
        a = (struct rtattr *)(m + 1);
        alen = h->nlmsg_len - NLMSG_LENGTH(sizeof *m);
      } else {
        struct inet_diag_msg *m = NLMSG_DATA(h);
        r->family = m->idiag_family;
        r->state = m->idiag_state;
        r->timer = m->idiag_timer;
        r->sport = ntohs(m->id.idiag_sport);
        r->dport = ntohs(m->id.idiag_dport);
        memcpy(r->src, m->id.idiag_src, 16);
        memcpy(r->dst, m->id.idiag_dst, 16);
        r->ino = m->idiag_inode;
        r->uid = m->idiag_uid;
        r->rq = m->idiag_rqueue;
        r->wq = m->idiag_wqueue;
        r->cookie = m->id.idiag_cookie[0] | (unsigned long long)m->id.idiag_cookie[1] << 32;
        if (r->ino == 0) { /* TIME_WAIT and orphans: never this program's */
          nrec--;
          continue;
        }
        a = (struct rtattr *)(m + 1);
        alen = h->nlmsg_len - NLMSG_LENGTH(sizeof *m);
      }
      for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        void *d = RTA_DATA(a);
        int dl = RTA_PAYLOAD(a);
        if (is_unix) {
          switch (a->rta_type) {
            case UNIX_DIAG_NAME: r->name_len = dl < 108 ? dl : 108; memcpy(r->name, d, r->name_len); break;
            case UNIX_DIAG_PEER: r->peer = *(unsigned *)d; break;
            case UNIX_DIAG_RQLEN: r->rq = ((unsigned *)d)[0]; r->wq = ((unsigned *)d)[1]; break;
            case UNIX_DIAG_ICONS: r->icons = dl / 4; r->icon0 = dl >= 4 ? *(unsigned *)d : 0; break;
            case UNIX_DIAG_SHUTDOWN: r->shutdown = *(unsigned char *)d; break;
          }
        } else {
          switch (a->rta_type) {
            case INET_DIAG_SHUTDOWN: r->shutdown = *(unsigned char *)d; break;
            case INET_DIAG_INFO: r->info_state = ((struct tcp_info *)d)->tcpi_state; break;
            case INET_DIAG_MEMINFO: r->meminfo_len = dl; break;
            case INET_DIAG_SKMEMINFO: r->skmem_len = dl; break;
          }
        }
      }
    }
  }
}

struct inet_req {
  struct nlmsghdr h;
  struct inet_diag_req_v2 r;
  unsigned char bc[64];
};

static int inet_dump(int nl, int family, int proto, unsigned states, int ext, const void *bc, int bclen, int sport) {
  struct inet_req q;
  memset(&q, 0, sizeof q);
  q.h.nlmsg_len = NLMSG_LENGTH(sizeof q.r);
  q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  q.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  q.h.nlmsg_seq = 7;
  q.r.sdiag_family = family;
  q.r.sdiag_protocol = proto;
  q.r.idiag_states = states;
  q.r.idiag_ext = ext;
  q.r.id.idiag_sport = htons(sport);
  if (bc) {
    struct rtattr *a = (struct rtattr *)q.bc;
    a->rta_type = INET_DIAG_REQ_BYTECODE;
    a->rta_len = RTA_LENGTH(bclen);
    memcpy(RTA_DATA(a), bc, bclen);
    q.h.nlmsg_len += RTA_SPACE(bclen);
  }
  return talk(nl, &q, q.h.nlmsg_len, 0);
}

static struct rec *find(unsigned ino) {
  for (int i = 0; i < nrec; i++)
    if (recs[i].ino == ino) return &recs[i];
  return NULL;
}

static unsigned ino_of(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (unsigned)st.st_ino : 0;
}

static unsigned long long cookie_of(int fd) {
  unsigned long long c = 0;
  socklen_t l = sizeof c;
  getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &l);
  return c;
}

#define ALL_STATES 0xfff
#define TCPF(s) (1u << (s))

static void test_tcp(int nl) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = lo4(0);
  EXPECT_OK("tcp4.listen", bind(l, (struct sockaddr *)&a, sizeof a) == 0 ? listen(l, 7) : -1);
  int port = port_of(l);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  a = lo4(port);
  EXPECT_OK("tcp4.connect", connect(c, (struct sockaddr *)&a, sizeof a));
  int s = accept(l, NULL, NULL);
  EXPECT_OK("tcp4.accept", s);
  EXPECT_EQ("tcp4.write", write(c, "abc", 3), 3);
  struct pollfd p = {s, POLLIN, 0};
  poll(&p, 1, 5000);

  EXPECT_EQ("tcp4.dump", inet_dump(nl, AF_INET, IPPROTO_TCP, ALL_STATES, 0, NULL, 0, 0), 0);
  CHECK("tcp4.dump.multi", nrec == 0 || (last_flags & NLM_F_MULTI));
  struct rec *rl = find(ino_of(l)), *rc = find(ino_of(c)), *rs = find(ino_of(s));
  CHECK("tcp4.listener.found", rl != NULL);
  CHECK("tcp4.client.found", rc != NULL);
  CHECK("tcp4.server.found", rs != NULL);
  if (rl && rc && rs) {
    EXPECT_EQ("tcp4.listener.state", rl->state, ST_LISTEN);
    EXPECT_EQ("tcp4.listener.family", rl->family, AF_INET);
    CHECK("tcp4.listener.sport", rl->sport == port);
    EXPECT_EQ("tcp4.listener.dport", rl->dport, 0);
    CHECK("tcp4.listener.src", !memcmp(rl->src, "\x7f\0\0\1", 4));
    EXPECT_EQ("tcp4.listener.rqueue", rl->rq, 0);
    EXPECT_EQ("tcp4.listener.wqueue(backlog)", rl->wq, 7);
    CHECK("tcp4.listener.uid", rl->uid == geteuid());
    CHECK("tcp4.listener.cookie", rl->cookie == cookie_of(l));
    EXPECT_EQ("tcp4.listener.shutdown", rl->shutdown, 0);
    EXPECT_EQ("tcp4.client.state", rc->state, ST_ESTABLISHED);
    CHECK("tcp4.client.dport", rc->dport == port);
    CHECK("tcp4.client.sport", rc->sport == port_of(c));
    CHECK("tcp4.client.dst", !memcmp(rc->dst, "\x7f\0\0\1", 4));
    EXPECT_EQ("tcp4.client.info_absent", rc->info_state, -1);
    EXPECT_EQ("tcp4.server.state", rs->state, ST_ESTABLISHED);
    CHECK("tcp4.server.ports", rs->sport == port && rs->dport == port_of(c));
    EXPECT_EQ("tcp4.server.rqueue", rs->rq, 3);
    EXPECT_EQ("tcp4.client.wqueue_acked", rc->wq, 0);
  }

  /* Attributes asked for in idiag_ext. */
  int ext = 1 << (INET_DIAG_INFO - 1) | 1 << (INET_DIAG_MEMINFO - 1) | 1 << (INET_DIAG_SKMEMINFO - 1);
  EXPECT_EQ("tcp4.ext.dump", inet_dump(nl, AF_INET, IPPROTO_TCP, ALL_STATES, ext, NULL, 0, 0), 0);
  rc = find(ino_of(c));
  CHECK("tcp4.ext.found", rc != NULL);
  if (rc) {
    EXPECT_EQ("tcp4.ext.info.state", rc->info_state, ST_ESTABLISHED);
    EXPECT_EQ("tcp4.ext.meminfo", rc->meminfo_len, 16);
    EXPECT_EQ("tcp4.ext.skmeminfo", rc->skmem_len, 36);
  }

  /* The state filter: listeners only. */
  EXPECT_EQ("tcp4.listen_only.dump", inet_dump(nl, AF_INET, IPPROTO_TCP, TCPF(ST_LISTEN), 0, NULL, 0, 0), 0);
  CHECK("tcp4.listen_only.listener", find(ino_of(l)) != NULL);
  CHECK("tcp4.listen_only.no_client", find(ino_of(c)) == NULL);
  for (int i = 0; i < nrec; i++)
    if (recs[i].state != ST_LISTEN) { CHECK("tcp4.listen_only.all_listening", 0); break; }
  /* Established only. */
  EXPECT_EQ("tcp4.estab_only.dump", inet_dump(nl, AF_INET, IPPROTO_TCP, TCPF(ST_ESTABLISHED), 0, NULL, 0, 0), 0);
  CHECK("tcp4.estab_only", find(ino_of(l)) == NULL && find(ino_of(c)) != NULL);

  /* The sport filter in the request's id. */
  EXPECT_EQ("tcp4.sport.dump", inet_dump(nl, AF_INET, IPPROTO_TCP, ALL_STATES, 0, NULL, 0, port), 0);
  CHECK("tcp4.sport.match", find(ino_of(l)) && find(ino_of(s)) && !find(ino_of(c)));

  /* Bytecode: sport == port (S_EQ), and sport >= port+1 (rejecting both). */
  struct inet_diag_bc_op eq[2] = {{INET_DIAG_BC_S_EQ, 8, 12}, {0, 0, port}};
  EXPECT_EQ("tcp4.bc_eq.dump", inet_dump(nl, AF_INET, IPPROTO_TCP, ALL_STATES, 0, eq, sizeof eq, 0), 0);
  CHECK("tcp4.bc_eq.match", find(ino_of(l)) && find(ino_of(s)) && !find(ino_of(c)));
  struct inet_diag_bc_op dge[2] = {{INET_DIAG_BC_D_GE, 8, 12}, {0, 0, port}};
  EXPECT_EQ("tcp4.bc_dge.dump", inet_dump(nl, AF_INET, IPPROTO_TCP, ALL_STATES, 0, dge, sizeof dge, 0), 0);
  CHECK("tcp4.bc_dge.match", !find(ino_of(l)) && find(ino_of(c)) != NULL);
  /* A host condition: source 127.0.0.0/8, any port. */
  struct { struct inet_diag_bc_op op; struct inet_diag_hostcond hc; unsigned addr; } hc = {
    {INET_DIAG_BC_S_COND, 16, 20}, {AF_INET, 8, -1}, htonl(0x7f000000)};
  EXPECT_EQ("tcp4.bc_scond.dump", inet_dump(nl, AF_INET, IPPROTO_TCP, ALL_STATES, 0, &hc, sizeof hc, 0), 0);
  CHECK("tcp4.bc_scond.match", find(ino_of(l)) && find(ino_of(c)) && find(ino_of(s)));
  hc.addr = htonl(0x0a000000);
  EXPECT_EQ("tcp4.bc_scond_10.dump", inet_dump(nl, AF_INET, IPPROTO_TCP, ALL_STATES, 0, &hc, sizeof hc, 0), 0);
  CHECK("tcp4.bc_scond_10.none", !find(ino_of(l)) && !find(ino_of(c)));
  struct inet_diag_bc_op bad[1] = {{99, 4, 8}};
  EXPECT_EQ("tcp4.bc_bad", inet_dump(nl, AF_INET, IPPROTO_TCP, ALL_STATES, 0, bad, sizeof bad, 0), -EINVAL);
  struct inet_diag_bc_op badlen[1] = {{INET_DIAG_BC_JMP, 6, 8}};
  EXPECT_EQ("tcp4.bc_unaligned", inet_dump(nl, AF_INET, IPPROTO_TCP, ALL_STATES, 0, badlen, sizeof badlen, 0), -EINVAL);

  /* An exact lookup by 4-tuple, with and without the right cookie. */
  struct inet_req q;
  memset(&q, 0, sizeof q);
  q.h.nlmsg_len = NLMSG_LENGTH(sizeof q.r);
  q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  q.h.nlmsg_flags = NLM_F_REQUEST;
  q.r.sdiag_family = AF_INET;
  q.r.sdiag_protocol = IPPROTO_TCP;
  q.r.id.idiag_sport = htons(port_of(c));
  q.r.id.idiag_dport = htons(port);
  q.r.id.idiag_src[0] = q.r.id.idiag_dst[0] = htonl(INADDR_LOOPBACK);
  q.r.id.idiag_cookie[0] = q.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  /* talk() stops at DONE or ERROR: ask for an ack to end the exchange. */
  q.h.nlmsg_flags |= NLM_F_ACK;
  EXPECT_EQ("tcp4.exact", talk(nl, &q, q.h.nlmsg_len, 0), 0);
  CHECK("tcp4.exact.one", nrec == 1 && recs[0].ino == ino_of(c));
  EXPECT_EQ("tcp4.exact.not_multi", last_flags & NLM_F_MULTI, 0);
  unsigned long long ck = cookie_of(c) + 1;
  q.r.id.idiag_cookie[0] = (unsigned)ck;
  q.r.id.idiag_cookie[1] = ck >> 32;
  EXPECT_EQ("tcp4.exact.stale_cookie", talk(nl, &q, q.h.nlmsg_len, 0), -ENOENT);
  q.r.id.idiag_cookie[0] = q.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  q.r.id.idiag_dport = htons(1);
  EXPECT_EQ("tcp4.exact.enoent", talk(nl, &q, q.h.nlmsg_len, 0), -ENOENT);

  /* Shutdown: SEND on the writer, RCV on the reader once the FIN is in. */
  shutdown(c, SHUT_WR);
  p.events = POLLRDHUP;
  poll(&p, 1, 5000);
  EXPECT_EQ("tcp4.shut.dump", inet_dump(nl, AF_INET, IPPROTO_TCP, ALL_STATES, 0, NULL, 0, 0), 0);
  rc = find(ino_of(c));
  rs = find(ino_of(s));
  CHECK("tcp4.shut.found", rc && rs);
  if (rc && rs) {
    EXPECT_EQ("tcp4.shut.client", rc->shutdown, 2);
    CHECK("tcp4.shut.client.state", rc->state == 4 || rc->state == ST_FIN_WAIT2); /* FIN_WAIT1 until the ACK is in */
    EXPECT_EQ("tcp4.shut.server", rs->shutdown, 1);
    EXPECT_EQ("tcp4.shut.server.state", rs->state, ST_CLOSE_WAIT);
  }
  close(c);
  close(s);
  close(l);

  /* IPv6: a listener on ::1 shows in AF_INET6 dumps, not in AF_INET ones. */
  int l6 = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a6 = {0};
  a6.sin6_family = AF_INET6;
  a6.sin6_addr = in6addr_loopback;
  EXPECT_OK("tcp6.listen", bind(l6, (struct sockaddr *)&a6, sizeof a6) == 0 ? listen(l6, 3) : -1);
  EXPECT_EQ("tcp6.dump", inet_dump(nl, AF_INET6, IPPROTO_TCP, ALL_STATES, 0, NULL, 0, 0), 0);
  struct rec *r6 = find(ino_of(l6));
  CHECK("tcp6.found", r6 != NULL);
  if (r6) {
    EXPECT_EQ("tcp6.family", r6->family, AF_INET6);
    EXPECT_EQ("tcp6.state", r6->state, ST_LISTEN);
    CHECK("tcp6.sport", r6->sport == port_of(l6));
    CHECK("tcp6.src", !memcmp(r6->src, &in6addr_loopback, 16));
    EXPECT_EQ("tcp6.wqueue", r6->wq, 3);
  }
  EXPECT_EQ("tcp6.v4dump", inet_dump(nl, AF_INET, IPPROTO_TCP, ALL_STATES, 0, NULL, 0, 0), 0);
  CHECK("tcp6.not_in_v4", find(ino_of(l6)) == NULL);
  close(l6);
}

static void test_udp(int nl) {
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = lo4(0);
  EXPECT_OK("udp4.bind", bind(u, (struct sockaddr *)&a, sizeof a));
  int uc = socket(AF_INET, SOCK_DGRAM, 0);
  a = lo4(port_of(u));
  EXPECT_OK("udp4.connect", connect(uc, (struct sockaddr *)&a, sizeof a));
  EXPECT_EQ("udp4.dump", inet_dump(nl, AF_INET, IPPROTO_UDP, ALL_STATES, 0, NULL, 0, 0), 0);
  struct rec *r = find(ino_of(u)), *rc = find(ino_of(uc));
  CHECK("udp4.found", r && rc);
  if (r && rc) {
    EXPECT_EQ("udp4.bound.state", r->state, ST_CLOSE);
    CHECK("udp4.bound.sport", r->sport == port_of(u));
    EXPECT_EQ("udp4.connected.state", rc->state, ST_ESTABLISHED);
    CHECK("udp4.connected.dport", rc->dport == port_of(u));
    EXPECT_EQ("udp4.timer", r->timer, 0);
    EXPECT_EQ("udp4.shutdown", r->shutdown, 0);
  }
  /* Exact lookup: udp_dump_one swaps source and destination. */
  struct inet_req q;
  memset(&q, 0, sizeof q);
  q.h.nlmsg_len = NLMSG_LENGTH(sizeof q.r);
  q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  q.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  q.r.sdiag_family = AF_INET;
  q.r.sdiag_protocol = IPPROTO_UDP;
  q.r.id.idiag_sport = htons(port_of(u));
  q.r.id.idiag_dport = htons(port_of(uc));
  q.r.id.idiag_src[0] = q.r.id.idiag_dst[0] = htonl(INADDR_LOOPBACK);
  q.r.id.idiag_cookie[0] = q.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  EXPECT_EQ("udp4.exact", talk(nl, &q, q.h.nlmsg_len, 0), 0);
  CHECK("udp4.exact.one", nrec == 1 && recs[0].ino == ino_of(uc));
  unsigned long long ck = cookie_of(uc) + 1;
  q.r.id.idiag_cookie[0] = (unsigned)ck;
  q.r.id.idiag_cookie[1] = ck >> 32;
  EXPECT_EQ("udp4.exact.stale_cookie", talk(nl, &q, q.h.nlmsg_len, 0), -ESTALE);
  EXPECT_EQ("udp4.estab_only", inet_dump(nl, AF_INET, IPPROTO_UDP, TCPF(ST_ESTABLISHED), 0, NULL, 0, 0), 0);
  CHECK("udp4.estab_only.match", !find(ino_of(u)) && find(ino_of(uc)));
  int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 a6 = {0};
  a6.sin6_family = AF_INET6;
  a6.sin6_addr = in6addr_loopback;
  EXPECT_OK("udp6.bind", bind(u6, (struct sockaddr *)&a6, sizeof a6));
  EXPECT_EQ("udp6.dump", inet_dump(nl, AF_INET6, IPPROTO_UDP, ALL_STATES, 0, NULL, 0, 0), 0);
  r = find(ino_of(u6));
  CHECK("udp6.found", r && r->family == AF_INET6 && r->sport == port_of(u6));
  close(u6);
  close(uc);
  close(u);
}

struct unix_req {
  struct nlmsghdr h;
  struct unix_diag_req r;
};

static int unix_talk(int nl, int flags, unsigned states, unsigned ino, unsigned long long cookie) {
  struct unix_req q;
  memset(&q, 0, sizeof q);
  q.h.nlmsg_len = sizeof q;
  q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  q.h.nlmsg_flags = NLM_F_REQUEST | flags;
  q.r.sdiag_family = AF_UNIX;
  q.r.udiag_states = states;
  q.r.udiag_ino = ino;
  q.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_ICONS;
  q.r.udiag_cookie[0] = (unsigned)cookie;
  q.r.udiag_cookie[1] = cookie >> 32;
  return talk(nl, &q, sizeof q, 1);
}

static void test_unix(int nl) {
  char name[64];
  int nlen = snprintf(name + 1, sizeof name - 1, "tsv-sockdiag-%d", getpid()) + 1;
  name[0] = 0;
  struct sockaddr_un a = {0};
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path, name, nlen);
  socklen_t alen = offsetof(struct sockaddr_un, sun_path) + nlen;
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_OK("unix.listen", bind(l, (struct sockaddr *)&a, alen) == 0 ? listen(l, 5) : -1);
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_OK("unix.connect", connect(c, (struct sockaddr *)&a, alen));
  int sp[2];
  EXPECT_OK("unix.socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sp));
  EXPECT_EQ("unix.write", write(sp[0], "hello", 5), 5);
  shutdown(sp[1], SHUT_WR);

  EXPECT_EQ("unix.dump", unix_talk(nl, NLM_F_DUMP, ALL_STATES, 0, 0), 0);
  struct rec *rl = find(ino_of(l)), *rc = find(ino_of(c)), *r0 = find(ino_of(sp[0])), *r1 = find(ino_of(sp[1]));
  CHECK("unix.found", rl && rc && r0 && r1);
  if (rl && rc && r0 && r1) {
    EXPECT_EQ("unix.listener.family", rl->family, AF_UNIX);
    EXPECT_EQ("unix.listener.type", rl->type, SOCK_STREAM);
    EXPECT_EQ("unix.listener.state", rl->state, ST_LISTEN);
    CHECK("unix.listener.name", rl->name_len == nlen && !memcmp(rl->name, name, nlen));
    EXPECT_EQ("unix.listener.pending", rl->rq, 1);
    EXPECT_EQ("unix.listener.backlog", rl->wq, 5);
    EXPECT_EQ("unix.listener.icons", rl->icons, 1);
    CHECK("unix.listener.icon_is_client", rl->icon0 == ino_of(c));
    EXPECT_EQ("unix.listener.no_peer", rl->peer, -1);
    CHECK("unix.listener.cookie", rl->cookie == cookie_of(l));
    EXPECT_EQ("unix.client.state", rc->state, ST_ESTABLISHED);
    EXPECT_EQ("unix.client.peer_not_accepted", rc->peer, 0);
    EXPECT_EQ("unix.client.unnamed", rc->name_len, 0);
    EXPECT_EQ("unix.pair.type", r0->type, SOCK_DGRAM);
    CHECK("unix.pair.peers", r0->peer == (int)ino_of(sp[1]) && r1->peer == (int)ino_of(sp[0]));
    EXPECT_EQ("unix.pair.rqueue", r1->rq, 5);
    EXPECT_EQ("unix.pair.shutdown", r1->shutdown, 2);
    EXPECT_EQ("unix.pair.shutdown.peer", r0->shutdown, 0);
  }
  int s = accept(l, NULL, NULL);
  EXPECT_OK("unix.accept", s);
  EXPECT_EQ("unix.dump2", unix_talk(nl, NLM_F_DUMP, TCPF(ST_ESTABLISHED), 0, 0), 0);
  rc = find(ino_of(c));
  struct rec *rs = find(ino_of(s));
  CHECK("unix.accepted.found", rc && rs && !find(ino_of(l)));
  if (rc && rs) {
    CHECK("unix.accepted.peers", rc->peer == (int)ino_of(s) && rs->peer == (int)ino_of(c));
    CHECK("unix.accepted.name", rs->name_len == nlen && !memcmp(rs->name, name, nlen));
  }

  /* Exact lookups by inode number. */
  EXPECT_EQ("unix.exact", unix_talk(nl, NLM_F_ACK, 0, ino_of(sp[0]), ~0ULL), 0);
  CHECK("unix.exact.one", nrec == 1 && recs[0].ino == ino_of(sp[0]));
  EXPECT_EQ("unix.exact.not_multi", last_flags & NLM_F_MULTI, 0);
  EXPECT_EQ("unix.exact.cookie", unix_talk(nl, NLM_F_ACK, 0, ino_of(sp[0]), cookie_of(sp[0])), 0);
  EXPECT_EQ("unix.exact.stale", unix_talk(nl, 0, 0, ino_of(sp[0]), cookie_of(sp[0]) + 1), -ESTALE);
  EXPECT_EQ("unix.exact.zero", unix_talk(nl, 0, 0, 0, ~0ULL), -EINVAL);
  EXPECT_EQ("unix.exact.none", unix_talk(nl, 0, 0, 0x7ffffff0, ~0ULL), -ENOENT);
  close(s);
  close(sp[0]);
  close(sp[1]);
  close(c);
  close(l);
}

static void test_errors(int nl) {
  struct {
    struct nlmsghdr h;
    struct inet_diag_req_v2 r;
  } q;
  memset(&q, 0, sizeof q);
  q.h.nlmsg_len = NLMSG_LENGTH(sizeof q.r);
  q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  q.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  q.r.sdiag_family = AF_INET;
  q.r.sdiag_protocol = IPPROTO_TCP;
  q.h.nlmsg_len = NLMSG_LENGTH(8);
  EXPECT_EQ("err.short_request", talk(nl, &q, q.h.nlmsg_len, 0), -EINVAL);
  q.h.nlmsg_len = NLMSG_LENGTH(sizeof q.r);
  q.r.sdiag_family = 200;
  EXPECT_EQ("err.family_range", talk(nl, &q, q.h.nlmsg_len, 0), -EINVAL);
  q.r.sdiag_family = AF_INET;
  q.h.nlmsg_type = 30;
  EXPECT_EQ("err.bad_type", talk(nl, &q, q.h.nlmsg_len, 0), -EINVAL);
}

int main(void) {
  int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  EXPECT_OK("netlink.socket", nl);
  if (nl < 0) TEST_DONE();
  test_tcp(nl);
  test_udp(nl);
  test_unix(nl);
  test_errors(nl);
  close(nl);
  TEST_DONE();
}
