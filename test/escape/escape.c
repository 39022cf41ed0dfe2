/*
 * escape.c: the usual ways out of a container, tried from inside the sandbox.
 * Runs ONLY under the sandbox (natively as root many attempts would work),
 * from a scratch busybox root (runsc do --root), started by escape.test.mjs,
 * which passes host facts in the environment and checks the host afterwards:
 *
 *   TSV_REPO        a host directory NOT under the sandbox root (the project)
 *   TSV_MARKER      a host file outside the root that must stay unreachable
 *   TSV_VICTIM_PID  a host process that must receive no signal, no ptrace
 *   TSV_SENTRY_PID  the host pid of runsc (the Sentry's process)
 *   TSV_ABSTRACT    a host abstract unix socket name (without the NUL)
 *   TSV_HOST_SOCK   a host pathname unix socket outside the root
 *   TSV_TCP_PORT    a host TCP port listening on 127.0.0.1
 *
 * Each attempt checks the errno Linux gives an unprivileged container
 * process; where root-in-sandbox legitimately differs (Linux and gVisor
 * disagree, or the attempt succeeds within the sandbox's own view) the
 * accepted outcomes are listed and the host-side effect is checked instead.
 */
#include "../syscalls/test.h"

#include <dirent.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <linux/reboot.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <arpa/inet.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <grp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>

/* EXPECT_ERRNO2(name, expr, e1, e2): -1 with errno e1 or e2. */
#define EXPECT_ERRNO2(name, expr, e1, e2)                                      \
  do {                                                                         \
    errno = 0;                                                                 \
    long long t_r_ = (long long)(expr);                                        \
    int t_e_ = errno;                                                          \
    char t_d_[512];                                                            \
    snprintf(t_d_, sizeof t_d_, "%s = %lld errno=%s, want -1 errno=%s|%s",     \
             #expr, t_r_, t_errname(t_e_), t_errname(e1), t_errname(e2));      \
    t_report(t_r_ == -1 && (t_e_ == (e1) || t_e_ == (e2)), (name), __FILE__,   \
             __LINE__, t_d_);                                                  \
  } while (0)

static const char *env_or(const char *k, const char *dflt) {
  const char *v = getenv(k);
  return v && *v ? v : dflt;
}

static const char *REPO, *MARKER, *ABSTRACT, *HOST_SOCK;
static pid_t VICTIM, SENTRY;
static int TCP_PORT;

static char pbuf[4096];
static const char *cat(const char *a, const char *b) {
  snprintf(pbuf, sizeof pbuf, "%s%s", a, b);
  return pbuf;
}

/* The sandbox root's identity, to compare every "..". */
static struct stat rootst;
static int is_root_dir(const char *p) {
  struct stat st;
  if (stat(p, &st) != 0) return 0;
  return st.st_dev == rootst.st_dev && st.st_ino == rootst.st_ino;
}

/* ---- file system view ---- */

static void fs_view(void) {
  EXPECT_ERRNO("fs.repo_invisible", access(REPO, F_OK), ENOENT);
  EXPECT_ERRNO("fs.marker_invisible", access(MARKER, F_OK), ENOENT);
  CHECK("fs.root_is_scratch", access("/escape-rootfs", F_OK) == 0);

  char link[256] = {0};
  EXPECT_EQ("proc.1.root.readlink", readlink("/proc/1/root", link, sizeof link - 1), 1);
  EXPECT_STR("proc.1.root.is_slash", link, "/");
  EXPECT_ERRNO("proc.1.root.repo", access(cat("/proc/1/root", REPO), F_OK), ENOENT);
  EXPECT_ERRNO("proc.self.root.dotdot.marker",
               access(cat("/proc/self/root/../../../..", MARKER), F_OK), ENOENT);
  CHECK("proc.self.root.dotdot.is_root", is_root_dir("/proc/self/root/../.."));
  CHECK("proc.self.root.dotdot_many.is_root",
        is_root_dir("/proc/self/root/../../../../../../../../.."));
  EXPECT_ERRNO("proc.self.cwd.dotdot.repo",
               access(cat("/proc/self/cwd/../../../../../../..", REPO), F_OK), ENOENT);
  CHECK("proc.self.cwd.dotdot.is_root", is_root_dir("/proc/self/cwd/../../../../../../../.."));
  CHECK("proc.thread-self.root.is_root", is_root_dir("/proc/thread-self/root/.."));

  /* ".." across mount points goes up the sandbox's tree only. */
  CHECK("mnt.proc.dotdot", is_root_dir("/proc/.."));
  CHECK("mnt.proc.self.fd.dotdot", is_root_dir("/proc/self/fd/../../.."));
  CHECK("mnt.dev.dotdot", is_root_dir("/dev/../../.."));
  CHECK("mnt.sys.dotdot", is_root_dir("/sys/../.."));
  CHECK("mnt.root.dotdot", is_root_dir("/.."));
  int dfd = open("/proc", O_RDONLY | O_DIRECTORY);
  EXPECT_ERRNO("mnt.openat.dotdot.repo", faccessat(dfd, cat("../../..", REPO), F_OK, 0), ENOENT);
  close(dfd);

  /* The sandbox lists only its own processes. */
  DIR *d = opendir("/proc");
  int hostpids = 0, n = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || end == e->d_name) continue;
    n++;
    if (pid == VICTIM || pid == SENTRY || pid == getppid() + 0x10000) hostpids++;
  }
  if (d) closedir(d);
  CHECK("proc.lists_pids", n >= 1);
  EXPECT_EQ("proc.no_host_pids", hostpids, 0);
  EXPECT_EQ("proc.self_is_pid1", getpid(), 1);

  /* The mount table names no host path. */
  char mounts[8192] = {0};
  int mfd = open("/proc/self/mounts", O_RDONLY);
  ssize_t mn = mfd >= 0 ? read(mfd, mounts, sizeof mounts - 1) : -1;
  if (mfd >= 0) close(mfd);
  const char *rootfs = env_or("TSV_ROOTFS", "/nonexistent-rootfs");
  CHECK("proc.mounts.readable", mn > 0);
  CHECK("proc.mounts.no_host_path", strstr(mounts, rootfs) == NULL);
  memset(mounts, 0, sizeof mounts);
  mfd = open("/proc/self/mountinfo", O_RDONLY);
  mn = mfd >= 0 ? read(mfd, mounts, sizeof mounts - 1) : -1;
  if (mfd >= 0) close(mfd);
  CHECK("proc.mountinfo.no_host_path", strstr(mounts, rootfs) == NULL);

  /* No host descriptor was inherited. */
  int open_fds = 0;
  for (int fd = 3; fd < 1024; fd++)
    if (fcntl(fd, F_GETFD) != -1) open_fds++;
  EXPECT_EQ("fd.none_inherited", open_fds, 0);
}

/* Symlinks and hard links that point out of the root resolve inside it. */
static void links(void) {
  mkdir("/tmp/esc", 0755);
  char target[512];
  snprintf(target, sizeof target, "../../../../../../../..%s", REPO);
  EXPECT_OK("symlink.rel.create", symlink(target, "/tmp/esc/rel"));
  EXPECT_ERRNO("symlink.rel.follow", access("/tmp/esc/rel", F_OK), ENOENT);
  EXPECT_OK("symlink.abs.create", symlink(MARKER, "/tmp/esc/abs"));
  EXPECT_ERRNO("symlink.abs.follow", open("/tmp/esc/abs", O_RDONLY), ENOENT);
  /* O_CREAT through a dangling link to a host path: that path's directory
   * does not exist in here. Through a link climbing out of the root: it
   * lands in the sandbox's own /tmp (the runner checks the host root). */
  EXPECT_OK("symlink.dangling.create", symlink(cat(MARKER, ".new"), "/tmp/esc/dangling"));
  EXPECT_ERRNO("symlink.dangling.creat_through", open("/tmp/esc/dangling", O_WRONLY | O_CREAT, 0644), ENOENT);
  EXPECT_OK("symlink.climb.create", symlink("../../../../../../../../tmp/created-through-link", "/tmp/esc/climb"));
  int fd = open("/tmp/esc/climb", O_WRONLY | O_CREAT, 0644);
  CHECK("symlink.climb.creat_inside", fd >= 0 && access("/tmp/created-through-link", F_OK) == 0);
  if (fd >= 0) close(fd);
  EXPECT_OK("symlink.up.create", symlink("/..", "/tmp/esc/up"));
  CHECK("symlink.up.is_root", is_root_dir("/tmp/esc/up/../.."));
  EXPECT_OK("symlink.proc_root.create", symlink("/proc/1/root/../../..", "/tmp/esc/pr"));
  CHECK("symlink.proc_root.is_root", is_root_dir("/tmp/esc/pr"));

  EXPECT_ERRNO("link.host_path", link(cat(REPO, "/package.json"), "/tmp/esc/h"), ENOENT);
  EXPECT_ERRNO("link.marker", link(MARKER, "/tmp/esc/h2"), ENOENT);
  /* linkat(AT_SYMLINK_FOLLOW) of a magic link names the sandbox's own file. */
  errno = 0;
  int lr = linkat(AT_FDCWD, "/proc/self/exe", AT_FDCWD, "/tmp/esc/exe", AT_SYMLINK_FOLLOW);
  CHECK("link.magic_exe", lr == 0 || errno == EXDEV || errno == ENOENT || errno == EPERM);

  /* openat2 RESOLVE_BENEATH / RESOLVE_IN_ROOT. */
  mkdir("/tmp/esc/jail", 0755);
  mkdir("/tmp/esc/jail/sub", 0755);
  symlink("/bin/busybox", "/tmp/esc/jail/abs");
  symlink("../../../../bin/busybox", "/tmp/esc/jail/sub/rel");
  int jail = open("/tmp/esc/jail", O_RDONLY | O_DIRECTORY);
  struct open_how how = {.flags = O_RDONLY, .resolve = RESOLVE_BENEATH};
  EXPECT_ERRNO("openat2.beneath.dotdot", syscall(SYS_openat2, jail, "../../../bin/busybox", &how, sizeof how), EXDEV);
  EXPECT_ERRNO("openat2.beneath.abs", syscall(SYS_openat2, jail, "/bin/busybox", &how, sizeof how), EXDEV);
  EXPECT_ERRNO("openat2.beneath.abs_link", syscall(SYS_openat2, jail, "abs", &how, sizeof how), EXDEV);
  EXPECT_ERRNO("openat2.beneath.rel_link", syscall(SYS_openat2, jail, "sub/rel", &how, sizeof how), EXDEV);
  how.resolve = RESOLVE_IN_ROOT;
  EXPECT_ERRNO("openat2.in_root.dotdot", syscall(SYS_openat2, jail, "../../../bin/busybox", &how, sizeof how), ENOENT);
  EXPECT_ERRNO("openat2.in_root.abs_link", syscall(SYS_openat2, jail, "abs", &how, sizeof how), ENOENT);
  EXPECT_ERRNO("openat2.in_root.rel_link", syscall(SYS_openat2, jail, "sub/rel", &how, sizeof how), ENOENT);
  how.resolve = RESOLVE_NO_MAGICLINKS;
  EXPECT_ERRNO("openat2.no_magiclinks", syscall(SYS_openat2, AT_FDCWD, "/proc/self/root", &how, sizeof how), ELOOP);
  close(jail);
}

/* The classic chroot escape: keep a directory fd outside, chroot, fchdir
 * back out and climb. Within the sandbox it only reaches the sandbox root. */
static int chroot_escape(void *arg) {
  (void)arg;
  mkdir("/tmp/esc/cj", 0755);
  mkdir("/tmp/esc/cj/inner", 0755);
  int out = open("/", O_RDONLY | O_DIRECTORY);
  if (out < 0 || chroot("/tmp/esc/cj") != 0) return 10;
  if (access("/inner", F_OK) != 0) return 11; /* the chroot took effect */
  if (fchdir(out) != 0) return 12;
  for (int i = 0; i < 64; i++)
    if (chdir("..") != 0) return 13;
  if (chroot(".") != 0) return 14;
  if (access("/escape-rootfs", F_OK) != 0) return 15; /* back at the sandbox root... */
  if (access(REPO, F_OK) == 0) return 16;             /* ...and no further */
  if (access(MARKER, F_OK) == 0) return 17;
  /* A second chroot with the root's fd kept open, via openat "..". */
  int up = openat(out, "../../../..", O_RDONLY | O_DIRECTORY);
  if (up < 0 || fchdir(up) != 0) return 18;
  if (access(cat(".", REPO), F_OK) == 0) return 19;
  return 0;
}

/* A read-write volume (--volume HOST:/vol): the host made links in it that
 * point out of it; they resolve in the sandbox's namespace, never the host's. */
static void volume(void) {
  EXPECT_ERRNO("vol.host_abs_link", open("/vol/hostlink", O_RDONLY), ENOENT);
  EXPECT_ERRNO("vol.host_rel_link", open("/vol/rel", O_RDONLY), ENOENT);
  EXPECT_ERRNO("vol.host_dir_link.mkdir", mkdir("/vol/hostdir/evil", 0755), ENOENT);
  CHECK("vol.dotdot.is_root", is_root_dir("/vol/.."));
  CHECK("vol.dotdot_many.is_root", is_root_dir("/vol/../../../.."));
  EXPECT_OK("vol.symlink_root", symlink("/", "/vol/mine"));
  CHECK("vol.symlink_root.inside", access("/vol/mine/escape-rootfs", F_OK) == 0);
  EXPECT_ERRNO("vol.link_out", link("/vol/data", "/tmp/vol-data-link"), EXDEV);
  EXPECT_ERRNO("vol.rename_out", rename("/vol/data", "/tmp/vol-data-moved"), EXDEV);
  EXPECT_ERRNO("vol.link_in", link("/escape-rootfs", "/vol/rootfs-link"), EXDEV);
  mkdir("/vol/d", 0755);
  int vfd = open("/vol/d", O_RDONLY | O_DIRECTORY);
  struct open_how how = {.flags = O_RDONLY, .resolve = RESOLVE_BENEATH};
  EXPECT_ERRNO("vol.openat2.beneath", syscall(SYS_openat2, vfd, "../../escape-rootfs", &how, sizeof how), EXDEV);
  CHECK("vol.openat.dotdot.is_sandbox", faccessat(vfd, "../../escape-rootfs", F_OK, 0) == 0);
  close(vfd);
  /* O_CREAT through the host's relative link lands in the sandbox root. */
  int fd = open("/vol/rel", O_WRONLY | O_CREAT, 0644);
  CHECK("vol.creat_through_rel_link.inside", fd >= 0 && access("/host-marker", F_OK) == 0);
  if (fd >= 0) close(fd);
}

/* The platform's stub code lives above the guest's part of the address
 * space (tsvisor: 0x7fe000000000); the Sentry runs its own system calls
 * through it. Mapping over it, changing its protection or unmapping it
 * must not work, and the Sentry's own calls must keep working after. */
static int stub_attack(void *arg) {
  (void)arg;
  char *top = (char *)0x7fe000000000UL;
  int bad = 0;
  for (char *p = top; p < top + (64UL << 20); p += 1UL << 20) {
    if (mprotect(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) == 0) bad |= 1;
    void *m = mmap(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) { memset(m, 0xcc, 4096); bad |= 2; }
    char *src = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(src, 0xcc, 4096);
    if (mremap(src, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, p) != MAP_FAILED) bad |= 4;
    munmap(p, 4096);
    madvise(p, 4096, MADV_DONTNEED);
  }
  syscall(SYS_brk, top + 4096);
  /* The Sentry must still be able to map memory into this process. */
  char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 10 + bad;
  memset(m, 1, 1 << 20);
  if (munmap(m, 1 << 20) != 0) return 20 + bad;
  return bad;
}

/* ---- memory and processes ---- */

static volatile long self_word = 1;

static void memory(void) {
  int fd = open("/proc/self/mem", O_RDWR);
  if (fd >= 0) {
    /* Supported: it may only ever touch our own memory. */
    long v = 42;
    CHECK("proc.self.mem.write_self", pwrite(fd, &v, sizeof v, (off_t)(uintptr_t)&self_word) == sizeof v && self_word == 42);
    close(fd);
  } else {
    CHECK("proc.self.mem.absent_or_denied", errno == ENOENT || errno == EACCES);
  }
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/mem", (int)SENTRY);
  EXPECT_ERRNO("proc.sentry.mem", open(p, O_RDWR), ENOENT);
  snprintf(p, sizeof p, "/proc/%d/environ", (int)SENTRY);
  EXPECT_ERRNO("proc.sentry.environ", open(p, O_RDONLY), ENOENT);
  snprintf(p, sizeof p, "/proc/%d/mem", (int)VICTIM);
  EXPECT_ERRNO("proc.victim.mem", open(p, O_RDONLY), ENOENT);
  snprintf(p, sizeof p, "/proc/%d/root", (int)VICTIM);
  EXPECT_ERRNO("proc.victim.root", access(p, F_OK), ENOENT);
  /* Host processes the runner named (itself, its parent, the Gofer's...):
   * none exists in here. Sandbox pids are small; these are above 1000. */
  char list[512];
  snprintf(list, sizeof list, "%s", env_or("TSV_HOST_PIDS", ""));
  int named = 0, reached = 0;
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    int pid = atoi(tok);
    if (pid <= 1000) continue;
    named++;
    snprintf(p, sizeof p, "/proc/%d", pid);
    if (access(p, F_OK) == 0 || kill(pid, 0) == 0 || errno != ESRCH) reached++;
  }
  CHECK("host_pids.named", named >= 2);
  EXPECT_EQ("host_pids.unreachable", reached, 0);
  /* A sweep of host-looking pids: none of them exists in here. */
  int seen = 0;
  for (int pid = 100; pid < 70000; pid += 97) {
    snprintf(p, sizeof p, "/proc/%d/environ", pid);
    if (access(p, F_OK) == 0) seen++;
  }
  EXPECT_EQ("proc.pid_sweep", seen, 0);

  char buf[64];
  struct iovec lio = {buf, sizeof buf}, rio = {(void *)0x400000, sizeof buf};
  EXPECT_ERRNO2("process_vm_readv.sentry", syscall(SYS_process_vm_readv, SENTRY, &lio, 1, &rio, 1, 0), ESRCH, ENOSYS);
  EXPECT_ERRNO2("process_vm_writev.victim", syscall(SYS_process_vm_writev, VICTIM, &lio, 1, &rio, 1, 0), ESRCH, ENOSYS);
}

static void ignore(int s) { (void)s; }

static void signals_ptrace(void) {
  EXPECT_ERRNO2("ptrace.attach.victim", ptrace(PTRACE_ATTACH, VICTIM, 0, 0), ESRCH, ENOSYS);
  EXPECT_ERRNO2("ptrace.seize.sentry", ptrace(PTRACE_SEIZE, SENTRY, 0, 0), ESRCH, ENOSYS);
  EXPECT_ERRNO("kill.victim.term", kill(VICTIM, SIGTERM), ESRCH);
  EXPECT_ERRNO("kill.victim.zero", kill(VICTIM, 0), ESRCH);
  EXPECT_ERRNO("kill.victim.group", kill(-VICTIM, SIGTERM), ESRCH);
  EXPECT_ERRNO("kill.sentry.zero", kill(SENTRY, 0), ESRCH);
  EXPECT_ERRNO("tgkill.victim", syscall(SYS_tgkill, VICTIM, VICTIM, SIGTERM), ESRCH);
  EXPECT_ERRNO("tkill.victim", syscall(SYS_tkill, VICTIM, SIGTERM), ESRCH);
  EXPECT_ERRNO("pidfd_open.victim", syscall(SYS_pidfd_open, VICTIM, 0), ESRCH);
  siginfo_t si = {0};
  si.si_signo = SIGTERM;
  si.si_code = SI_QUEUE;
  EXPECT_ERRNO("rt_sigqueueinfo.victim", syscall(SYS_rt_sigqueueinfo, VICTIM, SIGTERM, &si), ESRCH);
  /* kill(-1) from a child reaches every process it may signal: in the
   * sandbox that is the sandbox's own processes only. SIGWINCH is ignored
   * by default; the host victim records it if it ever arrives. */
  signal(SIGWINCH, ignore);
  fflush(stdout);
  pid_t sib = fork(); /* a sibling, so that kill(-1) has someone to signal */
  if (sib == 0) {
    for (;;) pause();
  }
  pid_t c = fork();
  if (c == 0) _exit(kill(-1, SIGWINCH) == 0 ? 0 : 1);
  int st = 0;
  waitpid(c, &st, 0);
  EXPECT_EXIT("kill.minus1.sandbox_only", st, 0);
  kill(sib, SIGKILL);
  waitpid(sib, &st, 0);
}

/* ---- sockets ---- */

static void sockets(int privileged) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  a.sun_path[0] = 0;
  strncpy(a.sun_path + 1, ABSTRACT, sizeof a.sun_path - 2);
  socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(ABSTRACT);
  EXPECT_ERRNO("unix.abstract.host", connect(s, (struct sockaddr *)&a, alen), ECONNREFUSED);
  close(s);
  s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un p = {.sun_family = AF_UNIX};
  strncpy(p.sun_path, HOST_SOCK, sizeof p.sun_path - 1);
  EXPECT_ERRNO("unix.path.host", connect(s, (struct sockaddr *)&p, sizeof p), ENOENT);
  close(s);
  s = socket(AF_UNIX, SOCK_DGRAM, 0);
  EXPECT_ERRNO("unix.dgram.abstract.host", sendto(s, "x", 1, 0, (struct sockaddr *)&a, alen), ECONNREFUSED);
  close(s);

  s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(TCP_PORT)};
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_ERRNO2("tcp.host_loopback", connect(s, (struct sockaddr *)&in, sizeof in), ECONNREFUSED, ENETUNREACH);
  close(s);

  if (!privileged) {
    EXPECT_ERRNO("socket.packet.unpriv", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), EPERM);
    EXPECT_ERRNO("socket.packet_dgram.unpriv", socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)), EPERM);
    EXPECT_ERRNO("socket.inet_raw.unpriv", socket(AF_INET, SOCK_RAW, IPPROTO_RAW), EPERM);
    EXPECT_ERRNO("socket.inet_raw_icmp.unpriv", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
    EXPECT_ERRNO("socket.inet6_raw.unpriv", socket(AF_INET6, SOCK_RAW, IPPROTO_RAW), EPERM);
  } else {
    /* Root in the sandbox: a raw socket, if granted at all, is the sandbox's own netstack. */
    int r = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    CHECK("socket.packet.root", r >= 0 || errno == EPERM || errno == EAFNOSUPPORT);
    if (r >= 0) close(r);
  }
  /* Netlink families the sandbox does not serve. */
  /* uevent: gVisor serves an empty one of its own; Linux creates it too. */
  int ue = socket(AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT);
  CHECK("netlink.uevent", ue >= 0 || errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT);
  if (ue >= 0) close(ue);
  EXPECT_ERRNO2("netlink.audit", socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT), EPROTONOSUPPORT, EAFNOSUPPORT);
  EXPECT_ERRNO2("netlink.netfilter", socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER), EPROTONOSUPPORT, EAFNOSUPPORT);
  EXPECT_ERRNO2("netlink.xfrm", socket(AF_NETLINK, SOCK_RAW, NETLINK_XFRM), EPROTONOSUPPORT, EAFNOSUPPORT);
  EXPECT_ERRNO2("netlink.generic", socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC), EPROTONOSUPPORT, EAFNOSUPPORT);
}

/* ---- privileged operations ---- */

struct fh { struct file_handle h; unsigned char b[128]; };

static void privileged_ops(int privileged) {
  const char *who = privileged ? "root" : "unpriv";
  char n[96];
#define NAME(s) (snprintf(n, sizeof n, "%s.%s", s, who), n)
  /* mount(2): a container process without CAP_SYS_ADMIN gets EPERM; root in
   * the sandbox gets no host device either (there is none to name). */
  if (privileged) {
    mkdir("/tmp/mnt", 0755);
    errno = 0;
    int r = mount("/dev/sda", "/tmp/mnt", "ext4", 0, NULL);
    CHECK(NAME("mount.sda"), r == -1 && (errno == ENOENT || errno == EPERM || errno == ENOSYS || errno == ENODEV));
    r = mount("/dev/vda", "/tmp/mnt", "ext4", MS_RDONLY, NULL);
    CHECK(NAME("mount.vda"), r == -1 && (errno == ENOENT || errno == EPERM || errno == ENOSYS || errno == ENODEV));
    r = mount(REPO, "/tmp/mnt", NULL, MS_BIND, NULL);
    CHECK(NAME("mount.bind_host_path"), r == -1 && (errno == ENOENT || errno == EPERM || errno == ENOSYS || errno == ENODEV));
  } else {
    EXPECT_ERRNO(NAME("mount.sda"), mount("/dev/sda", "/tmp", "ext4", 0, NULL), EPERM);
    EXPECT_ERRNO(NAME("umount.root"), umount2("/", MNT_DETACH), EPERM);
    EXPECT_ERRNO(NAME("chroot"), chroot("/tmp"), EPERM);
    EXPECT_ERRNO(NAME("setuid0"), setuid(0), EPERM);
    EXPECT_ERRNO(NAME("pivot_root"), syscall(SYS_pivot_root, "/tmp", "/tmp"), EPERM);
    EXPECT_ERRNO2(NAME("unshare.mnt"), unshare(CLONE_NEWNS), EPERM, ENOSYS);
  }
  for (int i = 0; i < 3; i++) {
    static const char *devs[] = {"/dev/sda", "/dev/vda", "/dev/mem"};
    snprintf(n, sizeof n, "dev.%s.absent", devs[i] + 5);
    if (privileged) EXPECT_ERRNO(n, open(devs[i], O_RDONLY), ENOENT);
  }
  /* mknod of a block device: EPERM without CAP_MKNOD; with it, the node is
   * the sandbox's own and opening it reaches no host device. */
  char node[64];
  snprintf(node, sizeof node, "/tmp/blk.%s", who);
  errno = 0;
  int r = mknod(node, S_IFBLK | 0600, makedev(8, 0));
  if (!privileged) {
    CHECK(NAME("mknod.blk"), r == -1 && errno == EPERM);
  } else if (r == 0) {
    errno = 0;
    int fd = open(node, O_RDONLY);
    CHECK(NAME("mknod.blk.open_fails"), fd == -1 && (errno == ENXIO || errno == ENODEV || errno == EPERM || errno == EACCES));
    if (fd >= 0) close(fd);
  } else {
    CHECK(NAME("mknod.blk"), errno == EPERM);
  }
  snprintf(node, sizeof node, "/tmp/mem.%s", who);
  r = mknod(node, S_IFCHR | 0600, makedev(1, 1));
  if (r == 0) {
    errno = 0;
    int fd = open(node, O_RDONLY);
    CHECK(NAME("mknod.devmem.open_fails"), fd == -1 && (errno == ENXIO || errno == ENODEV || errno == EPERM || errno == EACCES));
    if (fd >= 0) close(fd);
  } else {
    CHECK(NAME("mknod.devmem"), errno == EPERM);
  }

  /* The kernel keyring is not there (gVisor: ENOSYS; the keys would be the host kernel's). */
  EXPECT_ERRNO2(NAME("add_key"), syscall(SYS_add_key, "user", "k", "v", 1, -3 /* KEY_SPEC_SESSION_KEYRING */), ENOSYS, EACCES);
  EXPECT_ERRNO2(NAME("request_key"), syscall(SYS_request_key, "user", "k", NULL, 0), ENOSYS, EACCES);
  EXPECT_ERRNO2(NAME("keyctl"), syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0), ENOSYS, EACCES);

  /* Kernel modules, kexec, reboot, raw I/O ports: a container never has these. */
  static char img[64];
  EXPECT_ERRNO2(NAME("init_module"), syscall(SYS_init_module, img, sizeof img, ""), EPERM, privileged ? ENOSYS : EPERM);
  EXPECT_ERRNO2(NAME("finit_module"), syscall(SYS_finit_module, 0, "", 0), EPERM, privileged ? ENOSYS : EPERM);
  EXPECT_ERRNO2(NAME("delete_module"), syscall(SYS_delete_module, "ext4", O_NONBLOCK), EPERM, privileged ? ENOSYS : EPERM);
  EXPECT_ERRNO2(NAME("kexec_load"), syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM, privileged ? ENOSYS : EPERM);
  EXPECT_ERRNO2(NAME("kexec_file_load"), syscall(SYS_kexec_file_load, -1, -1, 0, "", 0), EPERM, privileged ? ENOSYS : EPERM);
  /* CAD_OFF is the one reboot command that would be harmless on the host. */
  EXPECT_ERRNO2(NAME("reboot"), syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, NULL),
                EPERM, EINVAL);
  EXPECT_ERRNO2(NAME("iopl"), syscall(SYS_iopl, 3), EPERM, privileged ? ENOSYS : EPERM);
  EXPECT_ERRNO2(NAME("ioperm"), syscall(SYS_ioperm, 0x70, 2, 1), EPERM, privileged ? ENOSYS : EPERM);
  EXPECT_ERRNO2(NAME("swapon"), syscall(SYS_swapon, "/dev/sda", 0), EPERM, privileged ? ENOSYS : EPERM);
  EXPECT_ERRNO2(NAME("acct"), syscall(SYS_acct, "/tmp/acct"), EPERM, privileged ? ENOSYS : EPERM);

  /* bpf, perf, userfaultfd: host kernel attack surface that the sandbox does not expose. */
  union { char b[128]; } attr = {{0}};
  errno = 0;
  r = syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, &attr, sizeof attr);
  CHECK(NAME("bpf"), r == -1 && (errno == EPERM || errno == ENOSYS));
  char pattr[128] = {0};
  errno = 0;
  r = syscall(SYS_perf_event_open, pattr, 0, -1, -1, 0);
  CHECK(NAME("perf_event_open"), r == -1 && (errno == ENODEV || errno == ENOSYS || errno == EACCES || errno == EPERM));
  errno = 0;
  r = syscall(SYS_userfaultfd, O_CLOEXEC);
  CHECK(NAME("userfaultfd"), r == -1 && (errno == ENOSYS || errno == EPERM));

  /* "Shocker": open_by_handle_at with a forged handle needs CAP_DAC_READ_SEARCH
   * in the host namespace; the sandbox does not implement handles at all. */
  struct fh f = {0};
  f.h.handle_bytes = 8;
  int mid = 0;
  errno = 0;
  r = syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &f.h, &mid, 0);
  CHECK(NAME("name_to_handle_at"), r == -1 && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EPERM));
  f.h.handle_bytes = 8;
  f.h.handle_type = 1;
  memset(f.h.f_handle, 0, 8);
  f.h.f_handle[0] = 2; /* inode 2: the root of the host's first file system */
  errno = 0;
  r = syscall(SYS_open_by_handle_at, AT_FDCWD, &f.h, O_RDONLY);
  if (privileged)
    CHECK(NAME("open_by_handle_at"), r == -1 && (errno == EPERM || errno == ENOSYS || errno == EOPNOTSUPP));
  else
    CHECK(NAME("open_by_handle_at"), r == -1 && errno == EPERM);

  /* Time: EPERM without CAP_SYS_TIME; root in the sandbox may not set the host clock either. */
  struct timeval tv;
  gettimeofday(&tv, NULL);
  tv.tv_sec += 1000;
  EXPECT_ERRNO(NAME("settimeofday"), settimeofday(&tv, NULL), EPERM);
  struct timespec ts = {tv.tv_sec, 0};
  EXPECT_ERRNO(NAME("clock_settime"), clock_settime(CLOCK_REALTIME, &ts), EPERM);
  struct { int modes; char pad[252]; } tx = {0};
  tx.modes = 1; /* ADJ_OFFSET */
  errno = 0;
  r = syscall(SYS_adjtimex, &tx);
  CHECK(NAME("adjtimex.set"), r == -1 && (errno == EPERM || errno == ENOSYS));

  /* The hostname: root changes the sandbox's own (the runner checks the host's). */
  if (privileged) {
    EXPECT_OK(NAME("sethostname"), sethostname("escaped-host", 12));
    struct utsname u;
    uname(&u);
    EXPECT_STR(NAME("sethostname.sandbox_view"), u.nodename, "escaped-host");
    EXPECT_OK(NAME("setdomainname"), setdomainname("escaped-domain", 14));
  } else {
    EXPECT_ERRNO(NAME("sethostname"), sethostname("x", 1), EPERM);
    EXPECT_ERRNO(NAME("setdomainname"), setdomainname("x", 1), EPERM);
  }

  /* Classic /proc and /sys knobs that escape a container when writable. */
  EXPECT_ERRNO2(NAME("core_pattern"), open("/proc/sys/kernel/core_pattern", O_WRONLY), ENOENT, privileged ? EROFS : EACCES);
  EXPECT_ERRNO2(NAME("sysrq_trigger"), open("/proc/sysrq-trigger", O_WRONLY), ENOENT, EACCES);
  EXPECT_ERRNO2(NAME("uevent_helper"), open("/sys/kernel/uevent_helper", O_WRONLY), ENOENT, privileged ? EROFS : EACCES);
  EXPECT_ERRNO2(NAME("kcore"), open("/proc/kcore", O_RDONLY), ENOENT, EACCES);
  EXPECT_ERRNO2(NAME("kmsg"), open("/dev/kmsg", O_RDONLY), ENOENT, EACCES);
  EXPECT_ERRNO2(NAME("release_agent"), open("/sys/fs/cgroup/release_agent", O_WRONLY), ENOENT, privileged ? EROFS : EACCES);
#undef NAME
}

/* ---- the unprivileged half ---- */

static int unprivileged(void *arg) {
  (void)arg;
  /* An ordinary container process: no capabilities, not uid 0. */
  if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
    printf("FAIL unpriv.setup (%s)\n", t_errname(errno));
    return 2;
  }
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2] = {{0}};
  EXPECT_OK("unpriv.capget", syscall(SYS_capget, &h, d));
  EXPECT_EQ("unpriv.caps_empty", d[0].effective | d[0].permitted | d[1].effective | d[1].permitted, 0);
  d[0].effective = d[0].permitted = 1u << CAP_SYS_ADMIN;
  EXPECT_ERRNO("unpriv.capset.raise", syscall(SYS_capset, &h, d), EPERM);

  privileged_ops(0);
  sockets(0);
  EXPECT_ERRNO2("unpriv.ptrace.pid1", ptrace(PTRACE_ATTACH, 1, 0, 0), EPERM, ENOSYS);
  EXPECT_ERRNO("unpriv.kill.pid1", kill(1, SIGKILL), EPERM);
  EXPECT_ERRNO("unpriv.proc.1.environ", open("/proc/1/environ", O_RDONLY), EACCES);
  EXPECT_ERRNO2("unpriv.proc.1.mem", open("/proc/1/mem", O_RDONLY), EACCES, ENOENT);
  EXPECT_ERRNO("unpriv.proc.1.root", access("/proc/1/root/bin", F_OK), EACCES);
  EXPECT_ERRNO("unpriv.kill.victim", kill(VICTIM, SIGTERM), ESRCH);
  fflush(stdout);
  return t_failed ? 1 : 0;
}

/* Run with a host terminal as stdin (escape.test.mjs does it with a pty):
 * TIOCSTI would type into the host's terminal, to be read by the host's
 * shell once the sandbox exits. The characters must never arrive. */
static int tty_mode(void) {
  CHECK("tty.stdin_is_tty", isatty(0));
  static const char inject[] = "~`#\n"; /* characters no check line prints */
  for (const char *c = inject; *c; c++) {
    errno = 0;
    int r = ioctl(0, TIOCSTI, c);
    CHECK("tty.tiocsti_refused", r == -1 && (errno == EPERM || errno == EIO || errno == ENOTTY || errno == EINVAL));
  }
  char sel = 11; /* TIOCL_GETKMSGREDIRECT... any TIOCLINUX subcode */
  EXPECT_ERRNO2("tty.tioclinux", ioctl(0, TIOCLINUX, &sel), ENOTTY, EINVAL);
  int ldisc = 2;
  errno = 0;
  int r = ioctl(0, TIOCSETD, &ldisc);
  CHECK("tty.tiocsetd_refused", r == -1);
  TEST_DONE();
}

/* The runner's stdio are sockets here. Polling them for input made the
 * Sentry start a host read that nothing would ever complete, and runsc then
 * never exited (found by the fuzzer). Then echo one line of stdin. */
static int stdio_mode(void) {
  struct pollfd p[3] = {{0, POLLIN, 0}, {1, POLLIN, 0}, {2, POLLIN, 0}};
  CHECK("stdio.poll", poll(p, 3, 0) >= 0);
  char line[64] = {0};
  CHECK("stdio.read_line", fgets(line, sizeof line, stdin) != NULL);
  printf("echo: %s", line);
  TEST_DONE();
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1 && strcmp(argv[1], "tty") == 0) return tty_mode();
  if (argc > 1 && strcmp(argv[1], "stdio") == 0) return stdio_mode();
  REPO = env_or("TSV_REPO", "/work/main");
  MARKER = env_or("TSV_MARKER", "/tmp/tsv-escape-marker");
  ABSTRACT = env_or("TSV_ABSTRACT", "tsv-escape-abstract");
  HOST_SOCK = env_or("TSV_HOST_SOCK", "/tmp/tsv-escape.sock");
  VICTIM = atoi(env_or("TSV_VICTIM_PID", "999999"));
  SENTRY = atoi(env_or("TSV_SENTRY_PID", "999998"));
  TCP_PORT = atoi(env_or("TSV_TCP_PORT", "1"));
  if (stat("/", &rootst) != 0) return 2;
  chdir("/tmp");

  fs_view();
  links();
  int st = t_in_child(chroot_escape, NULL);
  EXPECT_EXIT("chroot.fchdir_escape.stays_inside", st, 0);
  if (access("/vol", F_OK) == 0) volume();
  EXPECT_EXIT("stub.map_over_refused", t_in_child(stub_attack, NULL), 0);
  memory();
  signals_ptrace();
  sockets(1);
  privileged_ops(1);

  /* The unprivileged half runs in a child: its lines count there, its
   * failures are reflected in its exit status. */
  int before = t_passed;
  st = t_in_child(unprivileged, NULL);
  (void)before;
  EXPECT_EXIT("unpriv.all", st, 0);
  TEST_DONE();
}
