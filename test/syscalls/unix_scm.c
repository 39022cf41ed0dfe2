/* unix_scm.c: control messages on AF_UNIX sockets: SCM_RIGHTS descriptor
 * passing (lifetimes, truncation, MSG_CMSG_CLOEXEC, peeking), SCM_CREDENTIALS
 * with SO_PASSCRED, and SO_PEERCRED. */
#include "test.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/* send_fds sends data with an SCM_RIGHTS message of n descriptors. */
static ssize_t send_fds(int s, const int *fds, int n, const char *data, size_t len) {
  union {
    char buf[CMSG_SPACE(sizeof(int) * 256)];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct iovec iov = {(void *)data, len};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = u.buf;
  m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  return sendmsg(s, &m, 0);
}

struct received {
  ssize_t n;
  int flags;
  size_t controllen;
  int nfds;
  int fds[256];
  int have_creds;
  struct ucred creds;
};

/* recv_ctl receives with a control buffer of clen bytes and decodes it. */
static struct received recv_ctl(int s, char *data, size_t dlen, size_t clen, int flags) {
  struct received r = {0};
  union {
    char buf[4096];
    struct cmsghdr align;
  } u;
  struct iovec iov = {data, dlen};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = clen ? u.buf : NULL;
  m.msg_controllen = clen;
  r.n = recvmsg(s, &m, flags);
  r.flags = m.msg_flags;
  r.controllen = m.msg_controllen;
  if (r.n < 0) return r;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_RIGHTS) {
      int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      memcpy(r.fds + r.nfds, CMSG_DATA(c), n * sizeof(int));
      r.nfds += n;
    } else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
      r.have_creds = 1;
      memcpy(&r.creds, CMSG_DATA(c), sizeof r.creds);
    }
  }
  return r;
}

static void close_all(struct received *r) {
  for (int i = 0; i < r->nfds; i++) close(r->fds[i]);
}

static void test_rights(void) {
  int sv[2], p[2];
  char buf[64];
  char *dir = t_tmpdir("scm");
  char path[300];
  snprintf(path, sizeof path, "%s/file", dir);
  EXPECT_OK("socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
  EXPECT_OK("pipe", pipe(p));
  int file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  EXPECT_EQ("file.write", write(file, "filedata", 8), 8);
  /* Pass the pipe's read end and the open file, then close our copies. */
  int fds[2] = {p[0], file};
  EXPECT_EQ("rights.send", send_fds(sv[0], fds, 2, "fds", 3), 3);
  close(p[0]);
  close(file);
  struct received r = recv_ctl(sv[1], buf, sizeof buf, CMSG_SPACE(sizeof(int) * 2), 0);
  EXPECT_EQ("rights.recv", r.n, 3);
  EXPECT_EQ("rights.nfds", r.nfds, 2);
  EXPECT_EQ("rights.no_ctrunc", r.flags & MSG_CTRUNC, 0);
  EXPECT_EQ("rights.controllen", r.controllen, CMSG_SPACE(sizeof(int) * 2));
  EXPECT_EQ("rights.pipe_works", write(p[1], "through", 7), 7);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("rights.pipe_read", read(r.fds[0], buf, sizeof buf), 7);
  EXPECT_STR("rights.pipe_data", buf, "through");
  /* The file description is shared: same offset. */
  EXPECT_EQ("rights.file_offset", lseek(r.fds[1], 0, SEEK_CUR), 8);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("rights.file_pread", pread(r.fds[1], buf, 8, 0), 8);
  EXPECT_STR("rights.file_data", buf, "filedata");
  EXPECT_EQ("rights.not_cloexec", fcntl(r.fds[0], F_GETFD), 0);
  close_all(&r);

  /* A pipe write end in flight keeps the pipe open; dropping it with the socket closes it. */
  int q[2];
  pipe(q);
  int s2[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, s2);
  send_fds(s2[0], &q[1], 1, "w", 1);
  close(q[1]);
  fcntl(q[0], F_SETFL, O_NONBLOCK);
  EXPECT_ERRNO("inflight.keeps_writer", read(q[0], buf, 1), EAGAIN);
  close(s2[1]); /* unread message and its descriptor go */
  EXPECT_EQ("inflight.dropped_on_close", read(q[0], buf, 1), 0);
  close(s2[0]);
  close(q[0]);

  /* MSG_CTRUNC: too small a buffer keeps what fits and closes the rest. */
  pipe(q);
  int three[3] = {q[1], q[1], q[1]};
  send_fds(sv[0], three, 3, "abc", 3);
  r = recv_ctl(sv[1], buf, sizeof buf, CMSG_LEN(sizeof(int)), 0);
  EXPECT_EQ("ctrunc.one_fits", r.nfds, 1);
  CHECK("ctrunc.flag", r.flags & MSG_CTRUNC);
  EXPECT_EQ("ctrunc.controllen", r.controllen, CMSG_LEN(sizeof(int)));
  close_all(&r);
  send_fds(sv[0], three, 3, "abc", 3);
  r = recv_ctl(sv[1], buf, sizeof buf, sizeof(struct cmsghdr), 0);
  EXPECT_EQ("ctrunc.none_fit", r.nfds, 0);
  CHECK("ctrunc.none_fit.flag", r.flags & MSG_CTRUNC);
  EXPECT_EQ("ctrunc.none_fit.controllen", r.controllen, 0);
  send_fds(sv[0], three, 3, "abc", 3);
  r = recv_ctl(sv[1], buf, sizeof buf, 0, 0);
  CHECK("ctrunc.no_buffer", r.n == 3 && (r.flags & MSG_CTRUNC) && r.nfds == 0);
  /* read(2) has no control buffer: the descriptors are closed. */
  send_fds(sv[0], three, 3, "abc", 3);
  EXPECT_EQ("read.drops_fds", read(sv[1], buf, sizeof buf), 3);
  close(q[1]);
  fcntl(q[0], F_SETFL, O_NONBLOCK);
  EXPECT_EQ("ctrunc.all_closed", read(q[0], buf, 1), 0);
  close(q[0]);

  /* MSG_CMSG_CLOEXEC, and MSG_PEEK hands out copies each time. */
  pipe(q);
  send_fds(sv[0], &q[0], 1, "x", 1);
  r = recv_ctl(sv[1], buf, sizeof buf, 64, MSG_PEEK);
  EXPECT_EQ("peek.nfds", r.nfds, 1);
  close_all(&r);
  r = recv_ctl(sv[1], buf, sizeof buf, 64, MSG_CMSG_CLOEXEC);
  EXPECT_EQ("cloexec.nfds", r.nfds, 1);
  EXPECT_EQ("cloexec.flag", fcntl(r.fds[0], F_GETFD), FD_CLOEXEC);
  CHECK("cloexec.msg_flags_echo", r.flags & MSG_CMSG_CLOEXEC);
  close_all(&r);
  close(q[0]);
  close(q[1]);

  /* Errors. */
  int bad = 999;
  EXPECT_ERRNO("rights.ebadf", send_fds(sv[0], &bad, 1, "x", 1), EBADF);
  int many[254];
  for (int i = 0; i < 254; i++) many[i] = 0;
  EXPECT_ERRNO("rights.too_many", send_fds(sv[0], many, 254, "x", 1), EINVAL);
  EXPECT_EQ("rights.max", send_fds(sv[0], many, 253, "x", 1), 1);
  r = recv_ctl(sv[1], buf, sizeof buf, 4096, 0);
  EXPECT_EQ("rights.max.received", r.nfds, 253);
  close_all(&r);
  close(sv[0]);
  close(sv[1]);

  /* On a stream, descriptors stay with their bytes: a read stops after them. */
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  pipe(q);
  send(sv[0], "ab", 2, 0);
  send_fds(sv[0], &q[0], 1, "cd", 2);
  send(sv[0], "ef", 2, 0);
  memset(buf, 0, sizeof buf);
  r = recv_ctl(sv[1], buf, sizeof buf, 64, 0);
  EXPECT_EQ("stream.rights.stop", r.n, 4);
  EXPECT_STR("stream.rights.data", buf, "abcd");
  EXPECT_EQ("stream.rights.nfds", r.nfds, 1);
  close_all(&r);
  r = recv_ctl(sv[1], buf, sizeof buf, 64, 0);
  EXPECT_EQ("stream.rights.after", r.n, 2);
  EXPECT_EQ("stream.rights.after.nfds", r.nfds, 0);
  close(q[0]);
  close(q[1]);
  close(sv[0]);
  close(sv[1]);

  /* Across processes: a child sends an fd it opened. */
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int f = open(path, O_RDONLY);
    _exit(send_fds(sv[1], &f, 1, "!", 1) == 1 ? 0 : 1);
  }
  r = recv_ctl(sv[0], buf, sizeof buf, 64, 0);
  EXPECT_EQ("fork.nfds", r.nfds, 1);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("fork.read_file", read(r.fds[0], buf, 4), 4);
  EXPECT_STR("fork.file_data", buf, "file");
  close_all(&r);
  int st;
  waitpid(pid, &st, 0);
  EXPECT_EXIT("fork.sender", st, 0);
  close(sv[0]);
  close(sv[1]);
  t_rmtree(dir);
}

static ssize_t send_creds(int s, struct ucred *uc) {
  union {
    char buf[CMSG_SPACE(sizeof(struct ucred))];
    struct cmsghdr align;
  } u;
  struct iovec iov = {"c", 1};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = u.buf;
  m.msg_controllen = sizeof u.buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof *uc);
  memcpy(CMSG_DATA(c), uc, sizeof *uc);
  return sendmsg(s, &m, 0);
}

static void test_creds(void) {
  int sv[2];
  char buf[16];
  struct ucred pc;
  socklen_t l = sizeof pc;
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  EXPECT_OK("peercred.pair", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &pc, &l));
  CHECK("peercred.pair.self", pc.pid == getpid() && pc.uid == geteuid() && pc.gid == getegid());
  EXPECT_EQ("peercred.len", l, sizeof pc);
  /* No SO_PASSCRED: no credentials. */
  send(sv[0], "a", 1, 0);
  struct received r = recv_ctl(sv[1], buf, sizeof buf, 64, 0);
  EXPECT_EQ("passcred.off", r.have_creds, 0);
  int one = 1;
  EXPECT_OK("passcred.set", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
  send(sv[0], "b", 1, 0);
  r = recv_ctl(sv[1], buf, sizeof buf, 64, 0);
  EXPECT_EQ("passcred.on", r.have_creds, 1);
  CHECK("passcred.values", r.creds.pid == getpid() && r.creds.uid == getuid() && r.creds.gid == getgid());
  EXPECT_EQ("passcred.controllen", r.controllen, CMSG_SPACE(sizeof(struct ucred)));
  /* Explicit credentials: one's own are fine. */
  struct ucred mine = {getpid(), getuid(), getgid()};
  EXPECT_EQ("scm_credentials.own", send_creds(sv[0], &mine), 1);
  r = recv_ctl(sv[1], buf, sizeof buf, 64, 0);
  CHECK("scm_credentials.received", r.have_creds && r.creds.pid == getpid());
  struct ucred bad = {getpid(), -1, getgid()};
  EXPECT_ERRNO("scm_credentials.invalid_uid", send_creds(sv[0], &bad), EINVAL);
  /* Too small a buffer: credentials cut short, MSG_CTRUNC. */
  send(sv[0], "d", 1, 0);
  r = recv_ctl(sv[1], buf, sizeof buf, CMSG_LEN(4), 0);
  CHECK("passcred.ctrunc", (r.flags & MSG_CTRUNC) && !r.have_creds);
  close(sv[0]);
  close(sv[1]);

  /* Across fork and connect: each side sees the other's identity. */
  int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {AF_UNIX};
  strcpy(a.sun_path + 1, "tsv-scm-creds");
  socklen_t al = offsetof(struct sockaddr_un, sun_path) + 1 + strlen("tsv-scm-creds");
  bind(l2, (struct sockaddr *)&a, al);
  listen(l2, 1);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, al) != 0) _exit(1);
    struct ucred u;
    socklen_t ul = sizeof u;
    getsockopt(c, SOL_SOCKET, SO_PEERCRED, &u, &ul);
    if (u.pid != getppid()) _exit(2);
    /* Data sent before accept carries credentials when the sender asks for
     * them (the not-yet-accepted peer's SO_PASSCRED is not known yet). */
    int on = 1;
    setsockopt(c, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    write(c, "x", 1);
    read(c, buf, 1);
    _exit(0);
  }
  int s = accept(l2, NULL, NULL);
  l = sizeof pc;
  getsockopt(s, SOL_SOCKET, SO_PEERCRED, &pc, &l);
  EXPECT_EQ("peercred.accepted_is_child", pc.pid, pid);
  setsockopt(s, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
  r = recv_ctl(s, buf, sizeof buf, 64, 0);
  CHECK("passcred.child", r.have_creds && r.creds.pid == pid);
  write(s, "y", 1);
  int st;
  waitpid(pid, &st, 0);
  EXPECT_EXIT("peercred.client_sees_listener", st, 0);
  close(s);
  close(l2);
  int u = socket(AF_UNIX, SOCK_STREAM, 0);
  l = sizeof pc;
  getsockopt(u, SOL_SOCKET, SO_PEERCRED, &pc, &l);
  CHECK("peercred.unconnected", pc.pid == 0 && pc.uid == (uid_t)-1 && pc.gid == (gid_t)-1);
  close(u);
}

int main(void) {
  test_rights();
  test_creds();
  TEST_DONE();
}
