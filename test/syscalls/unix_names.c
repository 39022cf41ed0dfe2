/* unix_names.c: AF_UNIX addresses and connections: pathname sockets in the
 * file system, abstract names, autobind, listen backlogs, accept across
 * fork, datagram addressing, and the errors of each. */
#include "test.h"
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

static char dir[256];

static socklen_t path_addr(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir, name);
  return sizeof *a;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  strcpy(a->sun_path + 1, name);
  return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static int revents(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static void test_pathname(void) {
  struct sockaddr_un a, got;
  socklen_t al = path_addr(&a, "srv.sock"), gl;
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_ERRNO("listen.unbound", listen(l, 5), EINVAL);
  EXPECT_OK("bind.path", bind(l, (struct sockaddr *)&a, al));
  struct stat st;
  EXPECT_OK("bind.node_exists", stat(a.sun_path, &st));
  CHECK("bind.node_is_socket", S_ISSOCK(st.st_mode));
  gl = sizeof got;
  EXPECT_OK("getsockname.path", getsockname(l, (struct sockaddr *)&got, &gl));
  EXPECT_EQ("getsockname.path.len", gl, offsetof(struct sockaddr_un, sun_path) + strlen(a.sun_path) + 1);
  EXPECT_STR("getsockname.path.name", got.sun_path, a.sun_path);
  EXPECT_ERRNO("bind.twice", bind(l, (struct sockaddr *)&(struct sockaddr_un){AF_UNIX, "/nonexistent/x"}, al), ENOENT);

  int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_ERRNO("bind.eaddrinuse", bind(l2, (struct sockaddr *)&a, al), EADDRINUSE);
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_ERRNO("connect.not_listening", connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
  EXPECT_OK("listen", listen(l, 5));
  int v = 0;
  socklen_t vl = sizeof v;
  getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl);
  EXPECT_EQ("listen.acceptconn", v, 1);
  EXPECT_EQ("listen.poll_idle", revents(l, POLLIN | POLLOUT), 0);

  /* A client in another process connects and talks. */
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&a, al) != 0) _exit(1);
    struct sockaddr_un peer;
    socklen_t pl = sizeof peer;
    if (getpeername(s, (struct sockaddr *)&peer, &pl) != 0 || strcmp(peer.sun_path, a.sun_path) != 0) _exit(2);
    if (write(s, "ping", 4) != 4) _exit(3);
    char b[8] = {0};
    if (read(s, b, sizeof b) != 4 || strcmp(b, "pong") != 0) _exit(4);
    _exit(0);
  }
  gl = sizeof got;
  int s = accept(l, (struct sockaddr *)&got, &gl);
  CHECK("accept", s >= 0);
  EXPECT_EQ("accept.peer_unnamed.len", gl, sizeof(sa_family_t));
  char b[8] = {0};
  EXPECT_EQ("accept.read", read(s, b, sizeof b), 4);
  EXPECT_STR("accept.read.data", b, "ping");
  EXPECT_EQ("accept.write", write(s, "pong", 4), 4);
  gl = sizeof got;
  getsockname(s, (struct sockaddr *)&got, &gl);
  EXPECT_STR("accepted.getsockname_is_listener", got.sun_path, a.sun_path);
  int st2;
  waitpid(p, &st2, 0);
  EXPECT_EXIT("client.ok", st2, 0);
  close(s);

  /* Wrong type and missing nodes. */
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  EXPECT_ERRNO("connect.prototype", connect(d, (struct sockaddr *)&a, al), EPROTOTYPE);
  struct sockaddr_un missing;
  socklen_t ml = path_addr(&missing, "missing.sock");
  EXPECT_ERRNO("connect.enoent", connect(c, (struct sockaddr *)&missing, ml), ENOENT);
  char file[300];
  snprintf(file, sizeof file, "%s/plain", dir);
  t_write_file(file, "x", 1, 0600);
  struct sockaddr_un plain;
  socklen_t pl = path_addr(&plain, "plain");
  EXPECT_ERRNO("connect.not_a_socket", connect(c, (struct sockaddr *)&plain, pl), ECONNREFUSED);
  EXPECT_ERRNO("bind.over_file", bind(c, (struct sockaddr *)&plain, pl), EADDRINUSE);
  EXPECT_ERRNO("connect.bad_len", connect(c, (struct sockaddr *)&a, 2), EINVAL);
  EXPECT_ERRNO("connect.bad_family", connect(c, (struct sockaddr *)&(struct sockaddr_un){AF_INET, "x"}, 4), EINVAL);
  EXPECT_ERRNO("bind.too_long", bind(c, (struct sockaddr *)&a, 111), EINVAL);

  /* A closed listener's node stays, refusing connections. */
  close(l);
  EXPECT_OK("closed_listener.node_stays", stat(a.sun_path, &st));
  EXPECT_ERRNO("closed_listener.refused", connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
  EXPECT_OK("unlink", unlink(a.sun_path));
  EXPECT_OK("bind.after_unlink", bind(l2, (struct sockaddr *)&a, al));
  close(l2);
  close(c);
  close(d);
  unlink(a.sun_path);
}

static void test_backlog(void) {
  struct sockaddr_un a;
  socklen_t al = abstract_addr(&a, "tsv-backlog-test");
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_OK("backlog.bind", bind(l, (struct sockaddr *)&a, al));
  EXPECT_OK("backlog.listen0", listen(l, 0));
  int c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  /* A backlog of 0 still admits one pending connection. */
  EXPECT_OK("backlog.first", connect(c1, (struct sockaddr *)&a, al));
  EXPECT_ERRNO("backlog.full_nonblock", connect(c2, (struct sockaddr *)&a, al), EAGAIN);
  EXPECT_EQ("backlog.listener_readable", revents(l, POLLIN), POLLIN);
  EXPECT_EQ("backlog.client_writable", revents(c1, POLLIN | POLLOUT), POLLOUT);
  EXPECT_EQ("backlog.write_before_accept", write(c1, "early", 5), 5);
  /* A blocking connect waits until accept makes room. */
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    int c3 = socket(AF_UNIX, SOCK_STREAM, 0);
    _exit(connect(c3, (struct sockaddr *)&a, al) == 0 && write(c3, "late", 4) == 4 ? 0 : 1);
  }
  usleep(100 * 1000);
  int s1 = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  CHECK("accept4.ok", s1 >= 0);
  CHECK("accept4.flags", fcntl(s1, F_GETFD) == FD_CLOEXEC && (fcntl(s1, F_GETFL) & O_NONBLOCK));
  char b[16] = {0};
  EXPECT_EQ("accept4.early_data", read(s1, b, sizeof b), 5);
  int st;
  waitpid(p, &st, 0);
  EXPECT_EXIT("backlog.blocking_connect", st, 0);
  int s2 = accept(l, NULL, NULL);
  memset(b, 0, sizeof b);
  EXPECT_EQ("backlog.late_data", read(s2, b, sizeof b), 4);
  EXPECT_STR("backlog.late_data.str", b, "late");
  fcntl(l, F_SETFL, O_NONBLOCK);
  EXPECT_ERRNO("accept.nonblock_empty", accept(l, NULL, NULL), EAGAIN);
  EXPECT_ERRNO("accept4.bad_flags", accept4(l, NULL, NULL, 1), EINVAL);
  EXPECT_ERRNO("accept.not_listening", accept(c1, NULL, NULL), EINVAL);
  EXPECT_ERRNO("connect.already", connect(c1, (struct sockaddr *)&a, al), EISCONN);

  /* Pending connections die with their listener: the client is reset. */
  int c4 = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_OK("pending.connect", connect(c4, (struct sockaddr *)&a, al));
  close(l);
  EXPECT_EQ("pending.reset.poll", revents(c4, POLLIN | POLLOUT), POLLIN | POLLOUT | POLLHUP | POLLERR);
  EXPECT_ERRNO("pending.reset.read", read(c4, b, sizeof b), ECONNRESET);
  EXPECT_EQ("pending.reset.eof", read(c4, b, sizeof b), 0);
  int c5 = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_ERRNO("abstract.gone", connect(c5, (struct sockaddr *)&a, al), ECONNREFUSED);
  close(c1); close(c2); close(c4); close(c5); close(s1); close(s2);
}

static void test_abstract(void) {
  struct sockaddr_un a, got;
  socklen_t al = abstract_addr(&a, "tsv-abstract-test"), gl;
  int s = socket(AF_UNIX, SOCK_DGRAM, 0);
  EXPECT_OK("abstract.bind", bind(s, (struct sockaddr *)&a, al));
  gl = sizeof got;
  getsockname(s, (struct sockaddr *)&got, &gl);
  EXPECT_EQ("abstract.getsockname.len", gl, al);
  CHECK("abstract.getsockname.name", got.sun_path[0] == 0 && memcmp(got.sun_path + 1, "tsv-abstract-test", 17) == 0);
  int s2 = socket(AF_UNIX, SOCK_DGRAM, 0);
  EXPECT_ERRNO("abstract.eaddrinuse", bind(s2, (struct sockaddr *)&a, al), EADDRINUSE);
  /* Names differ by length: a trailing NUL makes another name. */
  EXPECT_OK("abstract.longer_name", bind(s2, (struct sockaddr *)&a, al + 1));
  /* Each socket type has its own abstract names. */
  int st = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_OK("abstract.per_type", bind(st, (struct sockaddr *)&a, al));
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_ERRNO("abstract.stream_not_listening", connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
  EXPECT_ERRNO("abstract.bind_bound", bind(s, (struct sockaddr *)&a, al + 2), EINVAL);

  /* Datagrams to the name, and the sender's address on receipt. */
  int snd = socket(AF_UNIX, SOCK_DGRAM, 0);
  EXPECT_EQ("dgram.sendto.unbound", sendto(snd, "hi", 2, 0, (struct sockaddr *)&a, al), 2);
  char b[16] = {0};
  gl = sizeof got;
  EXPECT_EQ("dgram.recvfrom", recvfrom(s, b, sizeof b, 0, (struct sockaddr *)&got, &gl), 2);
  EXPECT_EQ("dgram.recvfrom.unnamed_sender", gl, 0);
  struct sockaddr_un sa;
  socklen_t sal = abstract_addr(&sa, "tsv-abstract-sender");
  bind(snd, (struct sockaddr *)&sa, sal);
  sendto(snd, "again", 5, 0, (struct sockaddr *)&a, al);
  gl = sizeof got;
  recvfrom(s, b, sizeof b, 0, (struct sockaddr *)&got, &gl);
  EXPECT_EQ("dgram.recvfrom.named_sender.len", gl, sal);
  CHECK("dgram.recvfrom.named_sender", memcmp(got.sun_path + 1, "tsv-abstract-sender", 19) == 0);
  /* A socket connected elsewhere refuses strangers. */
  EXPECT_OK("dgram.connect", connect(s, (struct sockaddr *)&sa, sal));
  int other = socket(AF_UNIX, SOCK_DGRAM, 0);
  EXPECT_ERRNO("dgram.eperm", sendto(other, "x", 1, 0, (struct sockaddr *)&a, al), EPERM);
  gl = sizeof got;
  EXPECT_OK("dgram.getpeername", getpeername(s, (struct sockaddr *)&got, &gl));
  EXPECT_EQ("dgram.getpeername.len", gl, sal);
  EXPECT_OK("dgram.disconnect", connect(s, (struct sockaddr *)&(struct sockaddr){AF_UNSPEC}, sizeof(struct sockaddr)));
  EXPECT_ERRNO("dgram.disconnected.getpeername", getpeername(s, (struct sockaddr *)&got, &gl), ENOTCONN);
  EXPECT_EQ("dgram.eperm_gone", sendto(other, "x", 1, 0, (struct sockaddr *)&a, al), 1);
  EXPECT_ERRNO("dgram.send_unconnected", send(other, "x", 1, 0), ENOTCONN);
  struct sockaddr_un nobody;
  socklen_t nl = abstract_addr(&nobody, "tsv-nobody-here");
  EXPECT_ERRNO("dgram.sendto.refused", sendto(other, "x", 1, 0, (struct sockaddr *)&nobody, nl), ECONNREFUSED);
  /* The receiver's queue is bounded for senders it is not connected to. */
  int r = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un ra;
  socklen_t ral = abstract_addr(&ra, "tsv-qlen");
  bind(r, (struct sockaddr *)&ra, ral);
  int q = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int n = 0;
  while (sendto(q, "x", 1, 0, (struct sockaddr *)&ra, ral) == 1 && n < 1000) n++;
  EXPECT_EQ("dgram.qlen.eagain", errno, EAGAIN);
  CHECK("dgram.qlen.bounded", n > 0 && n < 1000);
  connect(q, (struct sockaddr *)&ra, ral);
  EXPECT_EQ("dgram.qlen.poll_full", revents(q, POLLOUT), 0);
  recv(r, b, sizeof b, 0);
  EXPECT_EQ("dgram.qlen.poll_room", revents(q, POLLOUT), POLLOUT);
  close(s); close(s2); close(st); close(c); close(snd); close(other); close(r); close(q);
}

static void test_autobind(void) {
  struct sockaddr_un got;
  socklen_t gl = sizeof got;
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_OK("getsockname.unbound", getsockname(s, (struct sockaddr *)&got, &gl));
  EXPECT_EQ("getsockname.unbound.len", gl, sizeof(sa_family_t));
  EXPECT_OK("autobind", bind(s, (struct sockaddr *)&(sa_family_t){AF_UNIX}, sizeof(sa_family_t)));
  gl = sizeof got;
  getsockname(s, (struct sockaddr *)&got, &gl);
  EXPECT_EQ("autobind.len", gl, offsetof(struct sockaddr_un, sun_path) + 6);
  int hex = 1;
  for (int i = 1; i <= 5; i++) hex &= !!strchr("0123456789abcdef", got.sun_path[i]);
  CHECK("autobind.name", got.sun_path[0] == 0 && hex);
  EXPECT_OK("autobind.again_is_noop", bind(s, (struct sockaddr *)&(sa_family_t){AF_UNIX}, sizeof(sa_family_t)));
  EXPECT_OK("autobind.listen", listen(s, 1));
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_OK("autobind.connect", connect(c, (struct sockaddr *)&got, gl));
  /* SO_PASSCRED makes a datagram sender autobind. */
  int sv[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  int one = 1;
  setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
  send(sv[0], "x", 1, 0);
  gl = sizeof got;
  getsockname(sv[0], (struct sockaddr *)&got, &gl);
  EXPECT_EQ("passcred.autobind", gl, offsetof(struct sockaddr_un, sun_path) + 6);
  close(s); close(c); close(sv[0]); close(sv[1]);
}

static void test_seqpacket_listen(void) {
  struct sockaddr_un a;
  socklen_t al = path_addr(&a, "seq.sock");
  int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  EXPECT_OK("seqpacket.bind", bind(l, (struct sockaddr *)&a, al));
  EXPECT_OK("seqpacket.listen", listen(l, 2));
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (connect(c, (struct sockaddr *)&a, al) != 0) _exit(1);
    send(c, "one", 3, 0);
    send(c, "two!", 4, 0);
    _exit(0);
  }
  int s = accept(l, NULL, NULL);
  CHECK("seqpacket.accept", s >= 0);
  char b[16];
  EXPECT_EQ("seqpacket.msg1", recv(s, b, sizeof b, 0), 3);
  EXPECT_EQ("seqpacket.msg2", recv(s, b, sizeof b, 0), 4);
  EXPECT_EQ("seqpacket.eof", recv(s, b, sizeof b, 0), 0);
  int st;
  waitpid(p, &st, 0);
  EXPECT_EXIT("seqpacket.client", st, 0);
  int stream = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_ERRNO("seqpacket.connect_wrong_type", connect(stream, (struct sockaddr *)&a, al), EPROTOTYPE);
  close(stream);
  close(s);
  close(l);
  unlink(a.sun_path);
}

int main(void) {
  strcpy(dir, t_tmpdir("unix"));
  test_seqpacket_listen();
  test_pathname();
  test_backlog();
  test_abstract();
  test_autobind();
  t_rmtree(dir);
  TEST_DONE();
}
