/* POSIX message queues: mq_open/mq_send/mq_receive/mq_notify/mq_getsetattr,
 * priorities, O_NONBLOCK, timeouts, poll readiness and the queue file. */
#include "test.h"
#include <mqueue.h>
#include <poll.h>
#include <time.h>

static volatile sig_atomic_t got_sig, got_code, got_val;

static void on_sig(int s, siginfo_t *si, void *uc) {
  (void)uc;
  got_sig = s;
  got_code = si->si_code;
  got_val = si->si_value.sival_int;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  char name[64];
  snprintf(name, sizeof name, "/tsv-mq-%d", getpid());
  struct mq_attr attr = {0, 4, 32, 0, {0}};
  mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0640, &attr);
  CHECK("open.create", q != (mqd_t)-1);
  EXPECT_EQ("open.cloexec", fcntl(q, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_ERRNO("open.excl", mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0640, &attr), EEXIST);
  EXPECT_ERRNO("open.missing", mq_open("/tsv-mq-none", O_RDONLY), ENOENT);
  EXPECT_ERRNO("open.no_slash", mq_open("x", O_RDONLY), EINVAL);
  EXPECT_ERRNO("open.slash_inside", syscall(SYS_mq_open, "a/b", O_RDONLY, 0, NULL), EACCES);
  struct mq_attr bad = {0, 0, 32, 0, {0}};
  EXPECT_ERRNO("open.bad_attr", mq_open("/tsv-mq-bad", O_RDWR | O_CREAT, 0600, &bad), EINVAL);
  struct stat st;
  EXPECT_OK("fstat", fstat(q, &st));
  CHECK("fstat.regular", S_ISREG(st.st_mode));
  EXPECT_EQ("fstat.mode", st.st_mode & 0777, 0640);
  EXPECT_EQ("fstat.size", st.st_size, 80);

  struct mq_attr a;
  EXPECT_OK("getattr", mq_getattr(q, &a));
  EXPECT_EQ("getattr.maxmsg", a.mq_maxmsg, 4);
  EXPECT_EQ("getattr.msgsize", a.mq_msgsize, 32);
  EXPECT_EQ("getattr.curmsgs", a.mq_curmsgs, 0);

  struct pollfd pfd = {q, POLLIN | POLLOUT, 0};
  EXPECT_EQ("poll.empty", poll(&pfd, 1, 0), 1);
  EXPECT_EQ("poll.empty.revents", pfd.revents, POLLOUT);

  EXPECT_OK("send.low", mq_send(q, "low", 4, 1));
  EXPECT_OK("send.high", mq_send(q, "high", 5, 9));
  EXPECT_OK("send.low2", mq_send(q, "low2", 5, 1));
  EXPECT_ERRNO("send.too_long", mq_send(q, "0123456789012345678901234567890123", 33, 0), EMSGSIZE);
  EXPECT_ERRNO("send.bad_prio", mq_send(q, "x", 1, 32768), EINVAL);
  EXPECT_OK("send.fill", mq_send(q, "mid", 4, 5));
  pfd.revents = 0;
  EXPECT_EQ("poll.full", poll(&pfd, 1, 0), 1);
  EXPECT_EQ("poll.full.revents", pfd.revents, POLLIN);

  /* The queue's file: its status line (read through a second descriptor). */
  char buf[128] = {0};
  ssize_t n = pread(q, buf, sizeof buf - 1, 0);
  CHECK("read.status_len", n > 0);
  EXPECT_STR("read.status", buf, "QSIZE:18         NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n");

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 50 * 1000 * 1000;
  if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
  EXPECT_ERRNO("timedsend.timeout", mq_timedsend(q, "x", 1, 0, &ts), ETIMEDOUT);

  struct mq_attr nb = {O_NONBLOCK, 0, 0, 0, {0}}, old;
  EXPECT_OK("setattr.nonblock", mq_setattr(q, &nb, &old));
  EXPECT_EQ("setattr.old_flags", old.mq_flags, 0);
  EXPECT_ERRNO("send.eagain", mq_send(q, "x", 1, 0), EAGAIN);
  EXPECT_EQ("fcntl.nonblock", fcntl(q, F_GETFL) & O_NONBLOCK, O_NONBLOCK);

  char m[64];
  unsigned prio = 0;
  EXPECT_ERRNO("receive.short_buf", mq_receive(q, m, 31, &prio), EMSGSIZE);
  EXPECT_EQ("receive.1", mq_receive(q, m, sizeof m, &prio), 5);
  EXPECT_STR("receive.1.text", m, "high");
  EXPECT_EQ("receive.1.prio", prio, 9);
  EXPECT_EQ("receive.2", mq_receive(q, m, sizeof m, &prio), 4);
  EXPECT_STR("receive.2.text", m, "mid");
  EXPECT_EQ("receive.3", mq_receive(q, m, sizeof m, &prio), 4);
  EXPECT_STR("receive.3.fifo", m, "low");
  EXPECT_EQ("receive.4", mq_receive(q, m, sizeof m, &prio), 5);
  EXPECT_STR("receive.4.text", m, "low2");
  EXPECT_ERRNO("receive.eagain", mq_receive(q, m, sizeof m, &prio), EAGAIN);
  nb.mq_flags = 0;
  mq_setattr(q, &nb, NULL);
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 50 * 1000 * 1000;
  if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
  EXPECT_ERRNO("timedreceive.timeout", mq_timedreceive(q, m, sizeof m, &prio, &ts), ETIMEDOUT);

  /* A blocked receiver in another process. */
  pid_t p = fork();
  if (p == 0) {
    char r[64];
    ssize_t k = mq_receive(q, r, sizeof r, NULL);
    _exit(k == 3 && strcmp(r, "hi") == 0 ? 0 : 1);
  }
  usleep(50000);
  mq_send(q, "hi", 3, 0);
  int wst;
  waitpid(p, &wst, 0);
  EXPECT_EXIT("block.receive", wst, 0);

  /* mq_notify: a signal on the first message into an empty queue. */
  struct sigaction sa = {0};
  sa.sa_sigaction = on_sig;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);
  struct sigevent ev = {0};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGUSR1;
  ev.sigev_value.sival_int = 42;
  EXPECT_OK("notify.register", mq_notify(q, &ev));
  EXPECT_ERRNO("notify.busy", mq_notify(q, &ev), EBUSY);
  memset(buf, 0, sizeof buf);
  pread(q, buf, sizeof buf - 1, 0);
  char want[128];
  snprintf(want, sizeof want, "QSIZE:0          NOTIFY:0     SIGNO:%-5d NOTIFY_PID:", SIGUSR1);
  CHECK("notify.status", strncmp(buf, want, strlen(want)) == 0);
  mq_send(q, "n", 2, 0);
  for (int i = 0; i < 100 && !got_sig; i++) usleep(1000);
  EXPECT_EQ("notify.signal", got_sig, SIGUSR1);
  EXPECT_EQ("notify.code", got_code, SI_MESGQ);
  EXPECT_EQ("notify.value", got_val, 42);
  EXPECT_OK("notify.again_after_delivery", mq_notify(q, &ev));
  EXPECT_OK("notify.unregister", mq_notify(q, NULL));
  ev.sigev_notify = 99;
  EXPECT_ERRNO("notify.bad", mq_notify(q, &ev), EINVAL);
  EXPECT_ERRNO("notify.ebadf", mq_notify(0, NULL), EBADF);
  EXPECT_ERRNO("send.ebadf_not_queue", mq_send(1, "x", 1, 0), EBADF);

  if (geteuid() == 0) {
    pid_t o = fork();
    if (o == 0) {
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
      if (mq_open(name, O_RDWR) != (mqd_t)-1 || errno != EACCES) _exit(3);
      /* The kernel says EPERM (sticky directory); glibc reports EACCES. */
      if (mq_unlink(name) != -1 || errno != EACCES) _exit(4);
      _exit(0);
    }
    waitpid(o, &wst, 0);
  } else {
    wst = 0;
  }
  EXPECT_EXIT("perms.other_user", wst, 0);

  mqd_t ro = mq_open(name, O_RDONLY);
  CHECK("open.existing_ro", ro != (mqd_t)-1);
  EXPECT_ERRNO("send.read_only", mq_send(ro, "x", 1, 0), EBADF);
  mq_close(ro);
  EXPECT_OK("unlink", mq_unlink(name));
  EXPECT_ERRNO("unlink.again", mq_unlink(name), ENOENT);
  EXPECT_ERRNO("open.after_unlink", mq_open(name, O_RDONLY), ENOENT);
  EXPECT_EQ("unlinked_still_works", mq_receive(q, m, sizeof m, NULL), 2);
  mq_close(q);
  TEST_DONE();
}
