/* Thread lifecycles: raw clone flags, set_tid_address and clear_child_tid,
 * thread exit versus exit_group, a leader that exits before its threads,
 * execve from a non-leader thread, and children's CPU time at reap. */
#include "test.h"
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>

static long fx(void *uaddr, int op, uint32_t val) {
  return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* --- raw clone of a thread ---------------------------------------------------- */
static _Atomic int ctid = -1, ptid = -1, child_tid_seen;
static _Atomic int child_ran;
static int raw_thread(void *arg) {
  (void)arg;
  child_tid_seen = syscall(SYS_gettid);
  child_ran = 1;
  syscall(SYS_exit, 0);
  return 0;
}

/* --- the leader exits first ------------------------------------------------------- */
static int pipefd[2];
static void *survivor(void *arg) {
  (void)arg;
  usleep(150000); /* the leader is gone by now */
  char c = 'a';
  write(pipefd[1], &c, 1);
  /* getpid() is still the process's pid; our tid is not. */
  usleep(150000);
  syscall(SYS_exit, 3); /* the last thread: its status is the process's (Linux >= 6.0) */
  return NULL;
}
static int leader_exits_first(void *arg) {
  (void)arg;
  pthread_t th;
  pthread_create(&th, NULL, survivor, (void *)(long)getpid());
  syscall(SYS_exit, 7); /* only the leader */
  return 0;
}

/* --- exit_group from a thread kills the blocked leader ------------------------------- */
static void *group_exiter(void *arg) {
  (void)arg;
  usleep(20000);
  syscall(SYS_exit_group, 42);
  return NULL;
}
static int exit_group_from_thread(void *arg) {
  (void)arg;
  pthread_t th;
  pthread_create(&th, NULL, group_exiter, NULL);
  for (;;) pause();
  return 0;
}

/* --- execve from a non-leader thread ------------------------------------------------- */
static char self_exe[4096];
static void *execer(void *arg) {
  char pidbuf[32];
  snprintf(pidbuf, sizeof pidbuf, "%ld", (long)arg);
  char *argv[] = {"thread_life", "exec-child", pidbuf, NULL};
  execv(self_exe, argv);
  _exit(99);
}
static void *blocker(void *arg) {
  (void)arg;
  for (;;) pause();
  return 0;
}
static int exec_from_thread(void *arg) {
  (void)arg;
  pthread_t a, b;
  pthread_create(&a, NULL, blocker, NULL);
  pthread_create(&b, NULL, execer, (void *)(long)getpid());
  for (;;) pause();
  return 0;
}
/* Run in the new image: the execing thread has the leader's tid, alone. */
static int exec_child_main(const char *oldpid) {
  long pid = atol(oldpid);
  if (getpid() != pid) return 10;
  if (syscall(SYS_gettid) != pid) return 11;
  /* The other threads are gone: a new thread gets created and joins fine. */
  pthread_t th;
  if (pthread_create(&th, NULL, blocker, NULL) != 0) return 12;
  pthread_detach(th);
  return 0;
}

/* --- CPU time of reaped children ------------------------------------------------------- */
static int burn_child(void *arg) {
  (void)arg;
  struct timespec a, b;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
  volatile unsigned long x = 0;
  do {
    for (int i = 0; i < 100000; i++) x += i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
  } while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 200000000L);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "exec-child") == 0) return exec_child_main(argv[2]);
  ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
  if (n > 0) self_exe[n] = 0;

  /* set_tid_address returns the tid. */
  EXPECT_EQ("set_tid_address.returns_tid", syscall(SYS_set_tid_address, NULL), syscall(SYS_gettid));

  /* Raw clone: PARENT_SETTID, CHILD_SETTID, CHILD_CLEARTID and the futex wake. */
  char *stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
              CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
  int tid = clone(raw_thread, stack + 65536, flags, NULL, &ptid, NULL, &ctid);
  CHECK("clone.thread", tid > 0);
  EXPECT_EQ("clone.parent_settid", ptid, tid);
  /* Wait for the kernel to clear ctid at the thread's exit (it may already have). */
  for (;;) {
    int v = ctid;
    if (v == 0) break;
    fx((void *)&ctid, FUTEX_WAIT, v);
  }
  EXPECT_EQ("clone.child_cleartid", ctid, 0);
  CHECK("clone.child_ran", child_ran == 1);
  EXPECT_EQ("clone.child_gettid", child_tid_seen, tid);
  EXPECT_EQ("clone.same_pid_for_thread", kill(getpid(), 0), 0);
  EXPECT_ERRNO("clone.thread_needs_sighand", clone(raw_thread, stack + 65536, CLONE_VM | CLONE_THREAD, NULL), EINVAL);
  EXPECT_ERRNO("clone.sighand_needs_vm", clone(raw_thread, stack + 65536, CLONE_SIGHAND, NULL), EINVAL);
  EXPECT_ERRNO("clone.fs_newns", clone(raw_thread, stack + 65536, CLONE_FS | CLONE_NEWNS, NULL), EINVAL);

  /* The leader exits first: the process lives on until its last thread exits. */
  pipe(pipefd);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    leader_exits_first(NULL);
    _exit(1);
  }
  close(pipefd[1]);
  char c;
  EXPECT_EQ("leader_exit.thread_still_runs", read(pipefd[0], &c, 1), 1);
  int st = 0;
  EXPECT_EQ("leader_exit.not_waitable_yet", waitpid(pid, &st, WNOHANG), 0);
  EXPECT_EQ("leader_exit.kill0_process_alive", kill(pid, 0), 0);
  EXPECT_EQ("leader_exit.waited", waitpid(pid, &st, 0), pid);
  EXPECT_EXIT("leader_exit.status_of_last_thread", st, 3);
  close(pipefd[0]);

  EXPECT_EXIT("exit_group.from_thread", t_in_child(exit_group_from_thread, NULL), 42);
  EXPECT_EXIT("execve.from_thread", t_in_child(exec_from_thread, NULL), 0);

  /* Children's CPU time appears in RUSAGE_CHILDREN and times() once reaped. */
  struct rusage ru0, ru1;
  struct tms tm0, tm1;
  getrusage(RUSAGE_CHILDREN, &ru0);
  times(&tm0);
  EXPECT_EXIT("rusage.burn_child", t_in_child(burn_child, NULL), 0);
  getrusage(RUSAGE_CHILDREN, &ru1);
  times(&tm1);
  double d = (ru1.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_utime.tv_sec - ru0.ru_stime.tv_sec) +
             (ru1.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_utime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
  CHECK("rusage.children_cpu", d >= 0.15 && d < 5);
  long ticks = (tm1.tms_cutime + tm1.tms_cstime) - (tm0.tms_cutime + tm0.tms_cstime);
  CHECK("times.children_cpu", ticks >= 10 && ticks < 500);

  TEST_DONE();
}
