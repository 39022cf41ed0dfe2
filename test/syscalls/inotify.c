/* inotify.c: watches, events for changes made by the program, the queue. */
#include "test.h"
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>

static char evbuf[65536];

/* events reads what is queued (non-blocking fd) and formats it as "MASK:name,...". */
static const char *events(int fd, int wd_dir, int wd_file) {
  static char out[4096];
  out[0] = 0;
  int n = read(fd, evbuf, sizeof evbuf);
  if (n < 0) return errno == EAGAIN ? "" : "ERR";
  uint32_t cookie = 0;
  for (char *p = evbuf; p < evbuf + n;) {
    struct inotify_event *e = (struct inotify_event *)p;
    char one[512];
    const char *who = e->wd == wd_dir ? "d" : e->wd == wd_file ? "f" : e->wd == -1 ? "q" : "?";
    const char *cm = "";
    if (e->cookie) {
      cm = cookie == 0 || cookie == e->cookie ? "#" : "#new";
      cookie = e->cookie;
    }
    snprintf(one, sizeof one, "%s%s%x%s%s%s", out[0] ? "," : "", who, e->mask, cm, e->len ? ":" : "",
             e->len ? e->name : "");
    strncat(out, one, sizeof out - strlen(out) - 1);
    if (e->len && (e->len % 16) != 0) strncat(out, "(badpad)", sizeof out - strlen(out) - 1);
    p += sizeof *e + e->len;
  }
  return out;
}

int main(void) {
  char *dir = t_tmpdir("inotify");
  char path[512], p2[512], sub[512];
  snprintf(path, sizeof path, "%s/f", dir);
  snprintf(p2, sizeof p2, "%s/g", dir);
  snprintf(sub, sizeof sub, "%s/sub", dir);

  EXPECT_ERRNO("init1.badflags", inotify_init1(1), EINVAL);
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  EXPECT_OK("init1", fd);
  CHECK("cloexec", fcntl(fd, F_GETFD) & FD_CLOEXEC);
  EXPECT_ERRNO("add.nomask", inotify_add_watch(fd, dir, 0), EINVAL);
  EXPECT_ERRNO("add.notinotify", inotify_add_watch(0, dir, IN_ALL_EVENTS), EINVAL);
  EXPECT_ERRNO("add.enoent", inotify_add_watch(fd, "/nonexistent/x", IN_ALL_EVENTS), ENOENT);
  int wd = inotify_add_watch(fd, dir, IN_ALL_EVENTS);
  EXPECT_OK("add.dir", wd);
  EXPECT_EQ("add.same", inotify_add_watch(fd, dir, IN_ALL_EVENTS), wd);
  EXPECT_ERRNO("add.maskcreate", inotify_add_watch(fd, dir, IN_ALL_EVENTS | IN_MASK_CREATE), EEXIST);
  EXPECT_STR("empty", events(fd, wd, -1), "");
  char c;
  EXPECT_ERRNO("read.eagain", read(fd, &c, 1), EAGAIN);

  /* Create, write, close. */
  int f = open(path, O_WRONLY | O_CREAT, 0644);
  write(f, "hello", 5);
  close(f);
  EXPECT_STR("create.write.close", events(fd, wd, -1), "d100:f,d20:f,d2:f,d8:f");
  int wf = inotify_add_watch(fd, path, IN_ALL_EVENTS);
  EXPECT_OK("add.file", wf);
  CHECK("wd.distinct", wf != wd);
  EXPECT_ERRNO("onlydir", inotify_add_watch(fd, path, IN_ALL_EVENTS | IN_ONLYDIR), ENOTDIR);

  /* Read access and close-nowrite; FIONREAD; a too-small buffer. */
  f = open(path, O_RDONLY);
  char buf[16];
  read(f, buf, sizeof buf);
  close(f);
  int avail = -1;
  EXPECT_OK("FIONREAD", ioctl(fd, FIONREAD, &avail));
  EXPECT_EQ("FIONREAD.value", avail, 16 * 6 + 16 * 3);
  EXPECT_ERRNO("read.small", read(fd, buf, 8), EINVAL);
  EXPECT_STR("open.read.close", events(fd, wd, wf), "d20:f,f20,d1:f,f1,d10:f,f10");

  /* Attributes. */
  chmod(path, 0600);
  EXPECT_STR("chmod", events(fd, wd, wf), "d4:f,f4");
  truncate(path, 1);
  EXPECT_STR("truncate", events(fd, wd, wf), "d2:f,f2");

  /* Rename with cookies, then unlink: self events and IN_IGNORED. */
  rename(path, p2);
  EXPECT_STR("rename", events(fd, wd, wf), "d40#:f,d80#:g,f800");
  unlink(p2);
  EXPECT_STR("unlink", events(fd, wd, wf), "f4,f400,f8000,d200:g");
  EXPECT_ERRNO("rm.gone", inotify_rm_watch(fd, wf), EINVAL);

  /* Directories carry IN_ISDIR. */
  mkdir(sub, 0755);
  int ws = inotify_add_watch(fd, sub, IN_DELETE_SELF);
  rmdir(sub);
  EXPECT_STR("mkdir.rmdir", events(fd, wd, ws), "d40000100:sub,f400,f8000,d40000200:sub");

  /* Identical events merge; IN_ONESHOT; rm_watch queues IN_IGNORED. */
  f = open(path, O_WRONLY | O_CREAT, 0644);
  events(fd, wd, -1);
  write(f, "a", 1);
  write(f, "b", 1);
  EXPECT_STR("merge", events(fd, wd, -1), "d2:f");
  int wo = inotify_add_watch(fd, path, IN_MODIFY | IN_ONESHOT);
  write(f, "c", 1);
  write(f, "d", 1);
  EXPECT_STR("oneshot", events(fd, wd, wo), "d2:f,f2,f8000,d2:f");
  EXPECT_OK("rm", inotify_rm_watch(fd, wd));
  EXPECT_STR("rm.ignored", events(fd, wd, -1), "d8000");
  EXPECT_ERRNO("rm.again", inotify_rm_watch(fd, wd), EINVAL);
  close(f);
  EXPECT_STR("nowatch", events(fd, wd, -1), "");

  /* IN_MASK_ADD widens a mask; poll readiness; a blocking read waits. */
  int wd2 = inotify_add_watch(fd, dir, IN_CREATE);
  EXPECT_EQ("maskadd", inotify_add_watch(fd, dir, IN_DELETE | IN_MASK_ADD), wd2);
  struct pollfd pf = {fd, POLLIN, 0};
  EXPECT_EQ("poll.empty", poll(&pf, 1, 0), 0);
  unlink(path);
  EXPECT_EQ("poll.ready", poll(&pf, 1, 0), 1);
  EXPECT_STR("maskadd.delete", events(fd, wd2, -1), "d200:f");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(100000);
    int g = open(p2, O_WRONLY | O_CREAT, 0644);
    close(g);
    _exit(0);
  }
  int bfd = inotify_init();
  inotify_add_watch(bfd, dir, IN_CREATE);
  int n = read(bfd, evbuf, sizeof evbuf);
  CHECK("blocking.read", n >= (int)sizeof(struct inotify_event) &&
        strcmp(((struct inotify_event *)evbuf)->name, "g") == 0);
  int st;
  waitpid(pid, &st, 0);
  close(bfd);
  close(fd);
  t_rmtree(dir);
  TEST_DONE();
}
