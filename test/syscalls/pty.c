/* pty.c: pseudo-terminals: ptmx/pts, the line discipline, termios and job control. */
#include "test.h"
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>

static int open_pair(int *m, int *s) {
  *m = posix_openpt(O_RDWR | O_NOCTTY);
  if (*m < 0) return -1;
  if (grantpt(*m) || unlockpt(*m)) return -1;
  *s = open(ptsname(*m), O_RDWR | O_NOCTTY);
  return *s < 0 ? -1 : 0;
}

/* drain reads what the master has now (non-blocking) into buf, NUL-terminated. */
static int drain(int m, char *buf, int size) {
  int n = 0;
  struct pollfd p = {m, POLLIN, 0};
  while (n < size - 1 && poll(&p, 1, 100) == 1 && (p.revents & POLLIN)) {
    int r = read(m, buf + n, size - 1 - n);
    if (r <= 0) break;
    n += r;
  }
  buf[n] = 0;
  return n;
}

static volatile sig_atomic_t got;
static void on_sig(int s) { got = s; }
static void catch_sig(int s) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sig; /* no SA_RESTART: the blocked read fails with EINTR */
  sigaction(s, &sa, NULL);
}

/* In a new session with the replica as controlling terminal: wait for SIGINT. */
static int child_sigint(void *arg) {
  const char *name = arg;
  setsid();
  int s = open(name, O_RDWR); /* a session leader acquires its terminal */
  if (s < 0) return 10;
  if (tcgetsid(s) != getpid()) return 11;
  if (tcgetpgrp(s) != getpid()) return 12;
  int fd = open("/dev/tty", O_RDWR);
  if (fd < 0) return 13;
  close(fd);
  catch_sig(SIGINT);
  catch_sig(SIGWINCH);
  if (write(s, "R", 1) != 1) return 14;
  char c;
  /* Blocks in a canonical read until ^C interrupts it. */
  int r = read(s, &c, 1);
  if (r != -1 || errno != EINTR || got != SIGINT) return 15;
  got = 0;
  if (write(s, "W", 1) != 1) return 16;
  r = read(s, &c, 1);
  if (r != -1 || got != SIGWINCH) return 17;
  return 0;
}

static int child_ttou(void *arg) {
  const char *name = arg;
  setsid();
  int s = open(name, O_RDWR);
  if (s < 0) return 10;
  struct termios t;
  tcgetattr(s, &t);
  t.c_lflag |= TOSTOP;
  tcsetattr(s, TCSANOW, &t);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    /* Background: a write with TOSTOP stops us with SIGTTOU; a read with SIGTTIN ignored fails with EIO. */
    signal(SIGTTIN, SIG_IGN);
    char c;
    if (read(s, &c, 1) != -1 || errno != EIO) _exit(20);
    write(s, "x", 1);
    _exit(0);
  }
  int st;
  if (waitpid(pid, &st, WUNTRACED) != pid) return 11;
  if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTTOU) return 12;
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  return 0;
}

int main(void) {
  int m, s;
  char buf[256];
  EXPECT_OK("pair", open_pair(&m, &s));
  int n = -1;
  EXPECT_OK("TIOCGPTN", ioctl(m, TIOCGPTN, &n));
  char want[64];
  snprintf(want, sizeof want, "/dev/pts/%d", n);
  EXPECT_STR("ptsname", ptsname(m), want);
  CHECK("isatty.master", isatty(m));
  CHECK("isatty.replica", isatty(s));
  struct stat st;
  EXPECT_OK("fstat.replica", fstat(s, &st));
  CHECK("replica.chr", S_ISCHR(st.st_mode));
  EXPECT_EQ("replica.major", major(st.st_rdev), 136);
  EXPECT_EQ("replica.minor", minor(st.st_rdev), n);
  struct stat st2;
  EXPECT_OK("stat.path", stat(want, &st2));
  CHECK("stat.same", st2.st_ino == st.st_ino && st2.st_rdev == st.st_rdev);
  EXPECT_STR("ttyname", ttyname(s), want);

  /* Locked terminals cannot be opened. */
  int m2 = posix_openpt(O_RDWR | O_NOCTTY);
  EXPECT_OK("openpt2", m2);
  int lk = -1;
  EXPECT_OK("TIOCGPTLCK", ioctl(m2, TIOCGPTLCK, &lk));
  EXPECT_EQ("locked.initially", lk, 1);
  EXPECT_ERRNO("open.locked", open(ptsname(m2), O_RDWR | O_NOCTTY), EIO);
  EXPECT_ERRNO("peer.locked", ioctl(m2, TIOCGPTPEER, O_RDWR | O_NOCTTY), EIO);
  unlockpt(m2);
  int p2 = ioctl(m2, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  EXPECT_OK("TIOCGPTPEER", p2);
  CHECK("peer.isatty", isatty(p2));
  EXPECT_ERRNO("TIOCGPTN.replica", ioctl(p2, TIOCGPTN, &lk), ENOTTY);
  close(p2);
  close(m2);

  /* Default termios of a new replica. */
  struct termios t;
  EXPECT_OK("tcgetattr", tcgetattr(s, &t));
  EXPECT_EQ("iflag", t.c_iflag, ICRNL | IXON);
  EXPECT_EQ("oflag", t.c_oflag, OPOST | ONLCR);
  EXPECT_EQ("cflag", t.c_cflag, B38400 | CS8 | CREAD);
  EXPECT_EQ("lflag", t.c_lflag, ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN);
  EXPECT_EQ("VINTR", t.c_cc[VINTR], 3);
  EXPECT_EQ("VMIN", t.c_cc[VMIN], 1);
  struct termios tm;
  EXPECT_OK("tcgetattr.master", tcgetattr(m, &tm));
  EXPECT_EQ("master.sees.replica", tm.c_lflag, t.c_lflag);

  /* Fresh master: writable, nothing to read. */
  struct pollfd pf = {m, POLLIN | POLLOUT, 0};
  EXPECT_EQ("poll.master.fresh", poll(&pf, 1, 0), 1);
  EXPECT_EQ("poll.master.fresh.revents", pf.revents, POLLOUT);
  pf.fd = s;
  pf.events = POLLIN | POLLOUT;
  EXPECT_EQ("poll.replica.fresh", poll(&pf, 1, 0), 1);
  EXPECT_EQ("poll.replica.fresh.revents", pf.revents, POLLOUT);

  /* Canonical input: CR becomes NL, echo with ONLCR, erase and kill. */
  EXPECT_EQ("write.master", write(m, "ab\x7f" "c\r", 5), 5);
  drain(m, buf, sizeof buf);
  EXPECT_STR("echo.erase", buf, "ab\b \bc\r\n");
  int q = -1;
  EXPECT_OK("FIONREAD", ioctl(s, FIONREAD, &q));
  EXPECT_EQ("FIONREAD.value", q, 3);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("read.line", read(s, buf, sizeof buf), 3);
  EXPECT_STR("read.line.text", buf, "ac\n");
  write(m, "xyz\x15" "k\n", 6);
  drain(m, buf, sizeof buf);
  EXPECT_STR("echo.kill", buf, "xyz\b \b\b \b\b \bk\r\n");
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("read.afterkill", read(s, buf, sizeof buf), 2);
  write(m, "foo bar\x17" "z\n", 10);
  drain(m, buf, sizeof buf);
  memset(buf, 0, sizeof buf);
  read(s, buf, sizeof buf);
  EXPECT_STR("werase", buf, "foo z\n");
  /* Lines come one per read; a short read leaves the rest of the line. */
  write(m, "one\ntwo\n", 8);
  drain(m, buf, sizeof buf);
  memset(buf, 0, sizeof buf);
  EXPECT_EQ("read.short", read(s, buf, 2), 2);
  EXPECT_EQ("read.rest", read(s, buf, sizeof buf), 2);
  EXPECT_EQ("read.two", read(s, buf, sizeof buf), 4);
  /* EOF: ^D on an empty line reads 0; after text it ends the line without a newline. */
  write(m, "\x04", 1);
  EXPECT_EQ("read.eof", read(s, buf, sizeof buf), 0);
  write(m, "ab\x04", 3);
  drain(m, buf, sizeof buf);
  EXPECT_EQ("read.eofline", read(s, buf, sizeof buf), 2);
  /* Control characters echo as ^X. */
  write(m, "\x01\n", 2);
  drain(m, buf, sizeof buf);
  EXPECT_STR("echoctl", buf, "^A\r\n");
  read(s, buf, sizeof buf);

  /* Output processing. */
  write(s, "a\nb\n", 4);
  drain(m, buf, sizeof buf);
  EXPECT_STR("onlcr", buf, "a\r\nb\r\n");

  /* Raw mode: no echo, VMIN/VTIME. */
  struct termios raw = t;
  cfmakeraw(&raw);
  raw.c_cc[VMIN] = 0;
  raw.c_cc[VTIME] = 2;
  EXPECT_OK("tcsetattr.raw", tcsetattr(s, TCSANOW, &raw));
  EXPECT_EQ("read.vtime.timeout", read(s, buf, sizeof buf), 0);
  write(m, "q\r", 2);
  EXPECT_EQ("read.raw", read(s, buf, sizeof buf), 2);
  CHECK("raw.nocr", buf[1] == '\r');
  EXPECT_EQ("raw.noecho", drain(m, buf, sizeof buf), 0);
  raw.c_cc[VMIN] = 3;
  raw.c_cc[VTIME] = 0;
  tcsetattr(s, TCSANOW, &raw);
  write(m, "12", 2);
  pf.fd = s;
  pf.events = POLLIN;
  EXPECT_EQ("poll.vmin.notyet", poll(&pf, 1, 0), 0);
  write(m, "3", 1);
  EXPECT_EQ("poll.vmin.ready", poll(&pf, 1, 0), 1);
  EXPECT_EQ("read.vmin", read(s, buf, sizeof buf), 3);
  raw.c_cc[VMIN] = 0;
  raw.c_cc[VTIME] = 0;
  tcsetattr(s, TCSANOW, &raw);
  EXPECT_EQ("read.polling", read(s, buf, sizeof buf), 0);
  write(s, "\n", 1);
  drain(m, buf, sizeof buf);
  EXPECT_STR("raw.noonlcr", buf, "\n");
  EXPECT_OK("tcsetattr.back", tcsetattr(s, TCSAFLUSH, &t));

  /* TCFLSH. */
  write(m, "pending\n", 8);
  drain(m, buf, sizeof buf);
  EXPECT_OK("tcflush", tcflush(s, TCIFLUSH));
  EXPECT_OK("FIONREAD.flushed", ioctl(s, FIONREAD, &q));
  EXPECT_EQ("FIONREAD.zero", q, 0);
  EXPECT_ERRNO("tcflush.bad", ioctl(s, TCFLSH, 7), EINVAL);

  /* Window size. */
  struct winsize ws = {24, 80, 0, 0}, ws2;
  EXPECT_OK("TIOCSWINSZ", ioctl(m, TIOCSWINSZ, &ws));
  EXPECT_OK("TIOCGWINSZ", ioctl(s, TIOCGWINSZ, &ws2));
  CHECK("winsize", ws2.ws_row == 24 && ws2.ws_col == 80);

  /* No controlling terminal here (opened with O_NOCTTY, not a session leader). */
  pid_t pg;
  EXPECT_ERRNO("TIOCGPGRP.notctty", ioctl(s, TIOCGPGRP, &pg), ENOTTY);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) _exit(ioctl(s, TIOCSCTTY, 0) == -1 && errno == EPERM ? 0 : 1);
  int wst;
  waitpid(pid, &wst, 0);
  EXPECT_EXIT("TIOCSCTTY.notleader", wst, 0);

  /* Job control: ^C goes to the foreground group; SIGWINCH on a size change. */
  fflush(stdout);
  pid = fork();
  if (pid == 0) _exit(child_sigint(ptsname(m)));
  char c = 0;
  read(m, &c, 1);
  CHECK("child.ready", c == 'R');
  usleep(100000);
  write(m, "\x03", 1);
  c = 0;
  while (read(m, &c, 1) == 1 && c != 'W') {}
  CHECK("child.sigint", c == 'W');
  usleep(100000);
  struct winsize ws3 = {30, 100, 0, 0};
  ioctl(m, TIOCSWINSZ, &ws3);
  waitpid(pid, &wst, 0);
  EXPECT_EXIT("child.jobcontrol", wst, 0);

  int m3, s3;
  EXPECT_OK("pair3", open_pair(&m3, &s3));
  close(s3);
  fflush(stdout);
  pid = fork();
  if (pid == 0) _exit(child_ttou(ptsname(m3)));
  waitpid(pid, &wst, 0);
  EXPECT_EXIT("child.sigttou", wst, 0);
  close(m3);

  /* Hangup: with the replica closed the master reads EIO once drained; with
   * the master closed the replica reads 0 and writes fail with EIO. */
  write(s, "bye\n", 4);
  close(s);
  pf.fd = m;
  pf.events = POLLIN;
  EXPECT_EQ("poll.master.hup", poll(&pf, 1, 0), 1);
  CHECK("poll.master.hup.revents", pf.revents == (POLLIN | POLLHUP));
  EXPECT_EQ("read.master.data", read(m, buf, sizeof buf), 5);
  EXPECT_ERRNO("read.master.eio", read(m, buf, sizeof buf), EIO);
  s = open(want, O_RDWR | O_NOCTTY);
  EXPECT_OK("reopen", s);
  close(m);
  EXPECT_ERRNO("stat.gone", stat(want, &st2), ENOENT);
  pf.fd = s;
  pf.events = POLLIN | POLLOUT;
  EXPECT_EQ("poll.replica.hup", poll(&pf, 1, 0), 1);
  CHECK("poll.replica.hup.revents", pf.revents == (POLLIN | POLLOUT | POLLHUP | POLLERR));
  EXPECT_EQ("read.hungup", read(s, buf, sizeof buf), 0);
  EXPECT_ERRNO("write.hungup", write(s, "x", 1), EIO);
  close(s);
  TEST_DONE();
}
