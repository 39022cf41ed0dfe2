/*
 * fuzz.c: random system calls with random and adversarial arguments, run as
 * a guest under the sandbox (never natively: it refuses unless it is pid 1).
 *
 *   fuzz SEED COUNT [BATCH] [ONLY_BATCH]
 *   env: FUZZ_PAR=N children at a time (default 3), FUZZ_THREADS=N threads per child (default 2)
 *
 * The parent (pid 1) prepares descriptors and memory, then forks one child
 * per batch of BATCH calls; a child may crash, stop, block or kill itself,
 * the parent waits at most CHILD_TIMEOUT_MS and kills it. Every batch has its
 * own PRNG state derived from (SEED, batch number), so `fuzz SEED COUNT BATCH
 * B` replays batch B alone. The last call a child started is kept in a
 * shared page, so a hang or an unexpected death names its system call.
 *
 * Calls that would end the fuzzer on purpose (exit, exit_group) are skipped;
 * calls taking a pid are kept away from the parent (pid 1) and from -1.
 * Ends with "fuzz done: ..." and exit 0; anything else is a failure for the
 * runner (bench/fuzz.mjs, test/fuzz/fuzz.test.mjs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define CHILD_TIMEOUT_MS 1000
#define NR_MAX 463
#define MAX_PAR 8
/* Offset in rw of the well-formed structures (see structures()). */
#define STRUCTS 0

/* ---- PRNG: splitmix64 ---- */
static __thread uint64_t rng;
static uint64_t next(void) {
  uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static uint64_t below(uint64_t n) { return n ? next() % n : 0; }

/* ---- what the child shares with the parent ---- */
struct shared {
  volatile long calls;   /* calls started in the current batch */
  volatile long nr;      /* the last call started */
  volatile long args[6];
};
static struct shared *sh;

/* ---- the arena of things arguments point at ---- */
static int fds[48];
static int nfds;
static char *rw, *ro, *none, *gone, *strs;
static const char *paths[] = {
  "/tmp/fz/file", "/tmp/fz/dir", "/tmp/fz/dir/sub", "/tmp/fz/link", "/tmp/fz/fifo", "/tmp/fz/new",
  "/proc/self/maps", "/proc/self/mem", "/proc/self/fd/0", "/proc/1/root", "/proc/self/exe", "/dev/null",
  "/dev/zero", "/dev/urandom", "/", ".", "..", "", "/tmp/fz/../../../..", "/nonexistent/x",
  "/proc/self/root/../..", "/sys/kernel", "/tmp/fz/file/notdir",
};
#define NPATHS (sizeof paths / sizeof paths[0])

static void arena(void) {
  /* The page after rw is PROT_NONE: buffers near rw's end straddle into it. */
  rw = mmap(NULL, 5 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  mprotect(rw, 4 * PAGE, PROT_READ | PROT_WRITE);
  none = rw + 4 * PAGE;
  ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  gone = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(gone, PAGE);
  strs = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  size_t off = 0;
  for (size_t i = 0; i < NPATHS; i++) {
    strcpy(strs + off, paths[i]);
    off += strlen(paths[i]) + 1;
  }
}

static void add(int fd) {
  if (fd >= 0 && nfds < (int)(sizeof fds / sizeof fds[0])) fds[nfds++] = fd;
}

/* Descriptors of every kind the Sentry implements, inherited by each child. */
static void descriptors(void) {
  mkdir("/tmp/fz", 0777);
  mkdir("/tmp/fz/dir", 0777);
  int f = open("/tmp/fz/file", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (f >= 0 && write(f, "some content\n", 13) < 0) perror("write");
  add(f);
  symlink("/tmp/fz/file", "/tmp/fz/link");
  mkfifo("/tmp/fz/fifo", 0644);
  add(open("/tmp/fz/dir", O_RDONLY | O_DIRECTORY));
  add(open("/", O_RDONLY | O_DIRECTORY));
  add(open("/dev/null", O_RDWR));
  add(open("/proc/self/maps", O_RDONLY));
  add(open("/proc", O_RDONLY | O_DIRECTORY));
  add(open("/tmp/fz/file", O_RDONLY | O_PATH));
  int p[2];
  if (pipe2(p, O_NONBLOCK) == 0) { add(p[0]); add(p[1]); }
  if (pipe(p) == 0) { add(p[0]); add(p[1]); }
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0) { add(p[0]); add(p[1]); }
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, p) == 0) { add(p[0]); add(p[1]); }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p) == 0) { add(p[0]); add(p[1]); }
  add(socket(AF_INET, SOCK_STREAM, 0));
  add(socket(AF_INET, SOCK_DGRAM, 0));
  add(socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0));
  add(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
  add(socket(AF_NETLINK, SOCK_RAW, 0));
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (l >= 0 && bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 8) == 0) add(l);
  add(eventfd(3, EFD_NONBLOCK));
  add(eventfd(0, EFD_SEMAPHORE));
  int ep = epoll_create1(0);
  if (ep >= 0) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT};
    for (int i = 0; i < nfds; i++) epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    add(ep);
  }
  add(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
  sigset_t ss;
  sigemptyset(&ss);
  sigaddset(&ss, SIGUSR1);
  add(signalfd(-1, &ss, SFD_NONBLOCK));
  add(memfd_create("fz", 0));
  add(open("/tmp/fz/fifo", O_RDWR | O_NONBLOCK));
}

/* ---- arguments ---- */

static long stack_addr(void) {
  volatile char here[64];
  return (long)(uintptr_t)(here + below(64));
}

static long arg(void) {
  switch (below(25)) {
  case 0: return 0;
  case 1: return -1;
  case 2: return (long)below(64);
  case 3: return (long)(next() & 0xffffffff);
  case 4: return (long)next();
  case 5: return 1L << below(64);
  case 6: return (1L << below(63)) - 1;
  case 7: return 0x7fffffff;
  case 8: return (long)0x80000000L;
  case 9: case 10: case 11: return nfds ? fds[below(nfds)] : 0;
  case 12: return (long)(uintptr_t)(rw + below(4 * PAGE));              /* writable, maybe straddling */
  case 13: return (long)(uintptr_t)(rw + 4 * PAGE - 1 - below(64));     /* just before the guard page */
  case 14: return (long)(uintptr_t)(ro + below(PAGE));
  case 15: return (long)(uintptr_t)(none + below(PAGE));
  case 16: return (long)(uintptr_t)gone;
  case 17: return stack_addr();
  case 18: { /* a path string */
    size_t i = below(NPATHS), off = 0;
    for (size_t k = 0; k < i; k++) off += strlen(paths[k]) + 1;
    return (long)(uintptr_t)(strs + off);
  }
  case 19: return (long)0xffffffff81000000ull;  /* kernel text */
  case 20: return (long)0x0000800000000000ull;  /* just past user space */
  case 21: return 1L << (30 + below(34));        /* huge lengths */
  case 22: return (long)(uintptr_t)&arg;         /* code */
  case 23: return below(2) ? -100 /* AT_FDCWD */ : (long)(uintptr_t)(rw + STRUCTS + 64 * below(8));
  default: return (long)below(4096);
  }
}

/* Small well-formed structures at the start of rw (iovecs, addresses,
 * timespecs, a path), rebuilt in each child: arguments that point at them
 * get past the first validity checks into the handlers' real work. */
static void structures(void) {
  struct iovec *iov = (void *)(rw + STRUCTS);
  for (int i = 0; i < 4; i++) iov[i] = (struct iovec){rw + 2048 + 256 * i, 64 + 32 * i};
  struct sockaddr_in *in = (void *)(rw + STRUCTS + 64);
  *in = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(1 + below(2000)), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct sockaddr_un_ { unsigned short f; char p[108]; } *un = (void *)(rw + STRUCTS + 128);
  un->f = AF_UNIX;
  strcpy(un->p, below(2) ? "/tmp/fz/sock" : "\0fz");
  struct timespec *ts = (void *)(rw + STRUCTS + 256);
  ts[0] = (struct timespec){0, (long)below(2000000)};
  ts[1] = (struct timespec){(long)below(2), 0};
  strcpy(rw + STRUCTS + 320, paths[below(NPATHS)]);
  uint64_t *sigset = (void *)(rw + STRUCTS + 384);
  *sigset = next();
  int *ints = (void *)(rw + STRUCTS + 448);
  for (int i = 0; i < 16; i++) ints[i] = nfds ? fds[below(nfds)] : (int)below(8);
}

/* Common argument shapes: (fd, buf, len), (path, flags, mode),
 * (dirfd, path, flags, mode), (fd, cmd, arg). */
static void shaped(long *a) {
  switch (below(5)) {
  case 0: a[0] = fds[below(nfds)]; a[1] = (long)(uintptr_t)(rw + below(2 * PAGE)); a[2] = (long)below(512); break;
  case 1: a[0] = (long)(uintptr_t)(rw + STRUCTS + 320); a[1] = (long)(next() & 0xfffff); a[2] = 0644; break;
  case 2: a[0] = below(2) ? -100 : fds[below(nfds)]; a[1] = (long)(uintptr_t)(rw + STRUCTS + 320);
          a[2] = (long)(next() & 0xfffff); a[3] = 0600; break;
  case 3: a[0] = fds[below(nfds)]; a[1] = (long)below(64); a[2] = below(2) ? (long)below(8) : (long)(uintptr_t)(rw + 64 * below(8)); break;
  default: a[0] = fds[below(nfds)]; a[1] = (long)(uintptr_t)(rw + STRUCTS); a[2] = (long)below(5); a[3] = (long)below(4); break;
  }
}

static int is_pid_call(long nr, int *which) {
  which[0] = 0, which[1] = -1;
  switch (nr) {
  case SYS_kill: case SYS_tkill: case SYS_rt_sigqueueinfo: case SYS_prlimit64: case SYS_process_vm_readv:
  case SYS_process_vm_writev: case SYS_pidfd_open: case SYS_sched_setaffinity: case SYS_sched_setscheduler:
  case SYS_sched_setparam: case SYS_sched_setattr: case SYS_move_pages: case SYS_migrate_pages:
  case SYS_setpgid: case SYS_get_robust_list:
    return 1;
  case SYS_tgkill: case SYS_rt_tgsigqueueinfo: case SYS_kcmp:
    which[1] = 1;
    return 1;
  case SYS_ptrace: case SYS_setpriority: case SYS_ioprio_set: case SYS_perf_event_open:
    which[0] = 1;
    return 1;
  }
  return 0;
}

static long safe_pid(void) {
  static const long choice[] = {0, 0, 99999, 0x7fffffff, (long)0x80000000L};
  int k = (int)below(7);
  if (k == 5) return getpid();
  if (k == 6) return -getpid();
  return choice[k];
}

/* The parent is the sandbox's init, and the sandbox delivers to it signals
 * Linux would drop (init ignores what it has no handler for; the parent
 * ignores what it can, but not SIGKILL/SIGSTOP). So no call may name it as
 * the target of a signal: SIGIO owners, and clone(CLONE_PARENT), whose exit
 * signal (any byte) would go to the parent. */
static void keep_parent_safe(long nr, long *a) {
  const long CLONE_PARENT_ = 0x8000;
  if (nr == SYS_fcntl) {
    if (a[1] == F_SETOWN) a[2] = safe_pid();
    if (a[1] == F_SETOWN_EX) a[1] = F_GETOWN_EX;
  } else if (nr == SYS_ioctl) {
    if (a[1] == 0x8901 /* FIOSETOWN */ || a[1] == 0x8902 /* SIOCSPGRP */) a[1] = 0x8903 /* FIOGETOWN */;
  } else if (nr == SYS_clone) {
    a[0] &= ~CLONE_PARENT_;
  } else if (nr == SYS_clone3) {
    uint64_t *flags = (uint64_t *)(uintptr_t)a[0];
    if ((char *)flags >= rw && (char *)(flags + 1) <= rw + 4 * PAGE) *flags &= ~(uint64_t)CLONE_PARENT_;
  }
}

static long raw_gettid(void) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "0"(SYS_gettid) : "rcx", "r11", "memory");
  return r;
}

static void raw_exit(void) {
  __asm__ volatile("syscall" : : "a"(SYS_exit), "D"(0) : "rcx", "r11", "memory");
  __builtin_unreachable();
}

static long pick_nr(void) {
  uint64_t r = below(1000);
  if (r < 5) return (long)(next() & 0xffffffff);     /* numbers that are no syscall */
  if (r < 10) return 512 + (long)below(64);          /* the x32 range */
  for (;;) {
    long nr = (long)below(NR_MAX);
    if (nr > 334 && nr < 424) continue;
    if (nr == SYS_exit || nr == SYS_exit_group) continue;
    return nr;
  }
}

/* One batch of calls in a disposable child. */
/* The calls of one thread: n of them, or until something kills it. */
static void calls_loop(long n) {
  long me = raw_gettid();
  for (long i = 0; i < n; i++) {
    long nr = pick_nr();
    long a[6];
    for (int k = 0; k < 6; k++) a[k] = arg();
    if (nfds && below(2)) shaped(a);
    int which[2];
    if (is_pid_call(nr, which)) {
      a[which[0]] = safe_pid();
      if (which[1] >= 0) a[which[1]] = safe_pid();
    }
    if (nr == SYS_setpgid) a[1] = 0;
    keep_parent_safe(nr, a);
    /* Fill a random part of the writable arena with noise: structures in it are random. */
    if (below(4) == 0) {
      uint64_t *w = (uint64_t *)(rw + below(4 * PAGE / 8) * 8);
      while ((char *)w < rw + 4 * PAGE && below(16)) *w++ = next();
    }
    __atomic_add_fetch(&sh->calls, 1, __ATOMIC_RELAXED);
    sh->nr = nr;
    for (int k = 0; k < 6; k++) sh->args[k] = a[k];
    syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    /* A fork/clone/vfork child (or a new thread) must not go on fuzzing. */
    if (raw_gettid() != me) raw_exit();
  }
}

struct thread_arg { uint64_t seed; long n; };

static void *thread_main(void *p) {
  struct thread_arg *ta = p;
  rng = ta->seed;
  calls_loop(ta->n);
  return NULL;
}

/* One batch of calls in a disposable child, split over `threads` threads
 * so that calls also race each other inside the Sentry. */
static void child(uint64_t seed, long batch, long n, int threads) {
  rng = seed ^ (0x5851f42d4c957f2dull * (uint64_t)(batch + 1));
  setsid();
  /* Default dispositions (the parent ignores most signals), and a deadline. */
  for (int s = 1; s < 65; s++) signal(s, SIG_DFL);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  int nul = open("/dev/null", O_RDWR);
  dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
  /* Most blocking calls end here: SIGALRM kills the child (unless it blocked or ignored it). */
  struct itimerval it = {{0, 0}, {0, 300000}};
  setitimer(ITIMER_REAL, &it, NULL);
  structures();
  static struct thread_arg ta[8];
  pthread_t th[8];
  int started = 0;
  for (int i = 1; i < threads && i < 8; i++) {
    ta[i] = (struct thread_arg){next(), n / threads};
    if (pthread_create(&th[started], NULL, thread_main, &ta[i]) == 0) started++;
  }
  calls_loop(n - (long)started * (n / threads));
  for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
  _exit(0);
}

static long ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: fuzz SEED COUNT [BATCH] [ONLY_BATCH]\n");
    return 2;
  }
  if (getpid() != 1) {
    fprintf(stderr, "fuzz: refusing to run outside a sandbox (not pid 1)\n");
    return 2;
  }
  uint64_t seed = strtoull(argv[1], NULL, 0);
  long count = atol(argv[2]);
  long bsize = argc > 3 ? atol(argv[3]) : 200;
  long only = argc > 4 ? atol(argv[4]) : -1;
  if (bsize < 1) bsize = 1;
  setvbuf(stdout, NULL, _IOLBF, 0);

  const char *te = getenv("FUZZ_THREADS");
  int threads = te ? atoi(te) : 2;
  if (threads < 1) threads = 1;
  const char *pe = getenv("FUZZ_PAR");
  int par = pe ? atoi(pe) : 3;
  if (par < 1) par = 1;
  if (par > MAX_PAR) par = MAX_PAR;
  void *shm = mmap(NULL, MAX_PAR * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shm == MAP_FAILED) { perror("mmap shared"); return 2; }
  arena();
  descriptors();
  /* The parent survives whatever signal a child sends it by mistake. */
  for (int s = 1; s < 65; s++)
    if (s != SIGCHLD && s != SIGKILL && s != SIGSTOP) signal(s, SIG_IGN);

  long batches = (count + bsize - 1) / bsize;
  long calls = 0, killed = 0, timeouts = 0, exited = 0, reaped = 0, stopped = 0, stuck = 0, finished = 0;
  long sigs[65] = {0};
  long t0 = ms_now();
  printf("fuzz: seed %llu, %ld calls in %ld batches of %ld, %d at a time, %d threads each, %d descriptors\n",
         (unsigned long long)seed, count, batches, bsize, par, threads, nfds);
  struct slot { pid_t pid; long batch, deadline; int killed; struct shared *sh; } slots[MAX_PAR];
  for (int i = 0; i < par; i++) slots[i] = (struct slot){0, 0, 0, 0, (struct shared *)((char *)shm + i * PAGE)};
  long nextb = only >= 0 ? only : 0, lastb = only >= 0 ? only + 1 : batches;
  int running = 0;
  while (nextb < lastb || running > 0) {
    for (int i = 0; i < par && nextb < lastb; i++) {
      if (slots[i].pid) continue;
      long b = nextb++;
      long n = b == batches - 1 ? count - b * bsize : bsize;
      sh = slots[i].sh;
      memset((void *)sh, 0, sizeof *sh);
      fflush(stdout);
      pid_t c = fork();
      if (c < 0) { perror("fork"); nextb--; break; }
      if (c == 0) child(seed, b, n, threads);
      slots[i].pid = c, slots[i].batch = b, slots[i].deadline = ms_now() + CHILD_TIMEOUT_MS, slots[i].killed = 0;
      running++;
    }
    int st = 0;
    pid_t w = waitpid(-1, &st, WNOHANG | WUNTRACED);
    if (w > 0) {
      int i = 0;
      while (i < par && slots[i].pid != w) i++;
      if (i == par) { /* an orphan of some batch, back to pid 1 */
        if (WIFSTOPPED(st)) kill(w, SIGKILL);
        else reaped++;
        continue;
      }
      if (WIFSTOPPED(st)) { stopped++; kill(w, SIGKILL); continue; }
      calls += slots[i].sh->calls;
      if (WIFSIGNALED(st)) { killed++; sigs[WTERMSIG(st) & 63]++; }
      else exited++;
      kill(-w, SIGKILL); /* what is left of its session */
      slots[i].pid = 0;
      running--;
      if (++finished % 100 == 0) printf("progress: %ld batches, %ld calls, %ld ms\n", finished, calls, ms_now() - t0);
      continue;
    }
    long now = ms_now();
    for (int i = 0; i < par; i++) {
      struct slot *sl = &slots[i];
      if (!sl->pid || now <= sl->deadline) continue;
      if (!sl->killed) {
        timeouts++;
        printf("timeout: batch %ld call %ld nr %ld (%#lx, %#lx, %#lx, %#lx, %#lx, %#lx)\n", sl->batch, sl->sh->calls,
               sl->sh->nr, sl->sh->args[0], sl->sh->args[1], sl->sh->args[2], sl->sh->args[3], sl->sh->args[4],
               sl->sh->args[5]);
        kill(-sl->pid, SIGKILL);
        kill(sl->pid, SIGKILL);
        sl->killed = 1;
        sl->deadline = now + 10 * CHILD_TIMEOUT_MS;
      } else {
        /* SIGKILL did not end it within 10 s: the Sentry lost a task. */
        stuck++;
        printf("STUCK: batch %ld survives SIGKILL (last call nr %ld)\n", sl->batch, sl->sh->nr);
        sl->pid = 0;
        running--;
      }
    }
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  printf("deaths by signal:");
  for (int s = 1; s < 65; s++) if (sigs[s]) printf(" %s=%ld", sigabbrev_np(s) ? sigabbrev_np(s) : "?", sigs[s]);
  printf("\n");
  printf("fuzz done: seed %llu calls %ld batches %ld exited %ld killed %ld stopped %ld timeouts %ld orphans %ld ms %ld\n",
         (unsigned long long)seed, calls, finished, exited, killed, stopped, timeouts, reaped, ms_now() - t0);
  return stuck ? 1 : 0;
}
