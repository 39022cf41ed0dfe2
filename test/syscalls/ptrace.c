/* ptrace(2) and process_vm_readv/writev(2): a small tracer, checked the
 * same natively and in the sandbox. */
#include "test.h"
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <linux/ptrace.h>

static volatile long word = 0x1122334455667788L;
static char text[] = "hello ptrace";
static volatile int usr1, usr2;

static void on_usr1(int s) { (void)s; usr1++; }
static void on_usr2(int s) { (void)s; usr2++; }

/* child_stopped forks a child that makes itself a tracee and stops. */
static pid_t traced_child(void) {
  pid_t pid = fork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
  }
  return pid;
}

static int wait_stop(pid_t pid) {
  int st = 0;
  if (waitpid(pid, &st, __WALL) != pid) return -1;
  return st;
}

/* finish lets a tracee run to its end; returns its wait status. */
static int finish(pid_t pid) {
  int st = 0;
  for (;;) {
    if (waitpid(pid, &st, __WALL) != pid) return -1;
    if (WIFEXITED(st) || WIFSIGNALED(st)) return st;
    ptrace(PTRACE_CONT, pid, 0, 0);
  }
}

static void test_traceme(void) {
  pid_t pid = traced_child();
  if (pid == 0) _exit(7);
  int st = wait_stop(pid);
  CHECK("traceme: stopped by SIGSTOP", WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  EXPECT_OK("traceme: GETSIGINFO", ptrace(PTRACE_GETSIGINFO, pid, 0, &si));
  EXPECT_EQ("traceme: siginfo signo", si.si_signo, SIGSTOP);
  EXPECT_ERRNO("cont: not stopped yet elsewhere", ptrace(PTRACE_CONT, getpid(), 0, 0), ESRCH);
  EXPECT_OK("traceme: CONT", ptrace(PTRACE_CONT, pid, 0, 0));
  st = wait_stop(pid);
  CHECK("traceme: exit status", WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

/* The syscall stops: count getppid enter/exit pairs, change a result, skip a syscall. */
static void test_syscall_stops(void) {
  pid_t pid = traced_child();
  if (pid == 0) {
    for (int i = 0; i < 3; i++) syscall(SYS_getppid);
    long r = syscall(SYS_getuid); /* the tracer makes it return 4242 */
    errno = 0;
    long s = syscall(SYS_getpid); /* the tracer skips it */
    int skipped = s == -1 && errno == ENOSYS;
    _exit((r == 4242 ? 1 : 0) | (skipped ? 2 : 0));
  }
  wait_stop(pid);
  EXPECT_OK("syscall: SETOPTIONS TRACESYSGOOD", ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD));
  int enters = 0, exits = 0, good = 1, inside = 0, sysgood = 1, regs_ok = 1, info_ok = 1;
  int st = 0;
  for (;;) {
    if (ptrace(PTRACE_SYSCALL, pid, 0, 0) != 0) break;
    st = wait_stop(pid);
    if (!WIFSTOPPED(st)) break;
    if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
      sysgood = 0;
      continue;
    }
    struct user_regs_struct regs;
    ptrace(PTRACE_GETREGS, pid, 0, &regs);
    struct ptrace_syscall_info info;
    memset(&info, 0, sizeof info);
    long n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info);
    if (!inside) {
      if (info.op != PTRACE_SYSCALL_INFO_ENTRY || info.entry.nr != regs.orig_rax || n < 24) info_ok = 0;
      if ((long)regs.rax != -ENOSYS) regs_ok = 0;
      if (regs.orig_rax == SYS_getppid) enters++;
      if (regs.orig_rax == SYS_getpid) {
        regs.orig_rax = -1;
        ptrace(PTRACE_SETREGS, pid, 0, &regs);
      }
    } else {
      if (info.op != PTRACE_SYSCALL_INFO_EXIT || info.exit.rval != (long)regs.rax) info_ok = 0;
      if (regs.orig_rax == SYS_getppid) {
        exits++;
        if ((pid_t)regs.rax != getpid()) good = 0;
      }
      if (regs.orig_rax == SYS_getuid) {
        regs.rax = 4242;
        ptrace(PTRACE_SETREGS, pid, 0, &regs);
      }
    }
    inside = !inside;
  }
  CHECK("syscall: stops are SIGTRAP|0x80", sysgood);
  EXPECT_EQ("syscall: getppid enter stops", enters, 3);
  EXPECT_EQ("syscall: getppid exit stops", exits, 3);
  CHECK("syscall: getppid result seen at exit", good);
  CHECK("syscall: rax is -ENOSYS at entry", regs_ok);
  CHECK("syscall: GET_SYSCALL_INFO matches", info_ok);
  CHECK("syscall: child exited", WIFEXITED(st));
  CHECK("syscall: result changed at exit", WEXITSTATUS(st) & 1);
  CHECK("syscall: skipped with orig_rax -1", WEXITSTATUS(st) & 2);
}

static void test_peek_poke(void) {
  pid_t pid = traced_child();
  if (pid == 0) _exit(word == 0x55aa ? 0 : 1);
  wait_stop(pid);
  errno = 0;
  long v = ptrace(PTRACE_PEEKDATA, pid, &word, 0);
  EXPECT_EQ("peek: PEEKDATA", v, 0x1122334455667788L);
  EXPECT_OK("poke: POKEDATA", ptrace(PTRACE_POKEDATA, pid, &word, (void *)0x55aaL));
  errno = 0;
  long code = ptrace(PTRACE_PEEKTEXT, pid, (void *)&test_peek_poke, 0);
  CHECK("peek: PEEKTEXT", errno == 0);
  EXPECT_OK("poke: POKETEXT into read-only text", ptrace(PTRACE_POKETEXT, pid, (void *)&test_peek_poke, (void *)code));
  EXPECT_ERRNO("peek: unmapped is EIO", ptrace(PTRACE_PEEKDATA, pid, (void *)8, 0), EIO);
  struct user_regs_struct regs;
  EXPECT_OK("regs: GETREGS", ptrace(PTRACE_GETREGS, pid, 0, &regs));
  errno = 0;
  long rip = ptrace(PTRACE_PEEKUSER, pid, offsetof(struct user, regs.rip), 0);
  EXPECT_EQ("regs: PEEKUSER rip", rip, (long)regs.rip);
  errno = 0;
  long dr7 = ptrace(PTRACE_PEEKUSER, pid, offsetof(struct user, u_debugreg[7]), 0);
  CHECK("regs: PEEKUSER debug register", errno == 0 && dr7 == 0);
  EXPECT_ERRNO("regs: PEEKUSER unaligned", ptrace(PTRACE_PEEKUSER, pid, 3, 0), EIO);
  struct iovec iov = { &regs, sizeof regs };
  EXPECT_OK("regs: GETREGSET NT_PRSTATUS", ptrace(PTRACE_GETREGSET, pid, 1 /* NT_PRSTATUS */, &iov));
  EXPECT_EQ("regs: GETREGSET length", iov.iov_len, sizeof regs);
  struct user_fpregs_struct fp;
  EXPECT_OK("regs: GETFPREGS", ptrace(PTRACE_GETFPREGS, pid, 0, &fp));
  EXPECT_OK("regs: SETFPREGS", ptrace(PTRACE_SETFPREGS, pid, 0, &fp));
  EXPECT_OK("poke: CONT", ptrace(PTRACE_CONT, pid, 0, 0));
  int st = wait_stop(pid);
  CHECK("poke: the child saw the new word", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_signals(void) {
  pid_t pid = traced_child();
  if (pid == 0) {
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    raise(SIGUSR1);
    raise(SIGUSR1);
    _exit(usr1 * 10 + usr2);
  }
  wait_stop(pid);
  ptrace(PTRACE_CONT, pid, 0, 0);
  int st = wait_stop(pid);
  CHECK("signal: delivery stop for SIGUSR1", WIFSTOPPED(st) && WSTOPSIG(st) == SIGUSR1);
  ptrace(PTRACE_CONT, pid, 0, 0); /* suppressed */
  st = wait_stop(pid);
  CHECK("signal: second SIGUSR1", WIFSTOPPED(st) && WSTOPSIG(st) == SIGUSR1);
  ptrace(PTRACE_CONT, pid, 0, SIGUSR2); /* replaced */
  st = wait_stop(pid);
  CHECK("signal: the replacement goes without a new stop", WIFEXITED(st));
  EXPECT_EQ("signal: suppressed one, replaced one", WEXITSTATUS(st), 1);
}

static void test_fork_exec(void) {
  pid_t pid = traced_child();
  if (pid == 0) {
    pid_t g = fork();
    if (g == 0) _exit(3);
    int gs;
    waitpid(g, &gs, 0);
    execl("/bin/true", "true", (char *)0);
    _exit(99);
  }
  wait_stop(pid);
  EXPECT_OK("fork: SETOPTIONS", ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEFORK | PTRACE_O_TRACEEXEC));
  ptrace(PTRACE_CONT, pid, 0, 0);
  int fork_event = 0, gchild_stop = 0, gchild_exit = 0, exec_event = 0, done = 0, msg_ok = 0, exec_msg_ok = 0;
  pid_t g = -1;
  while (!done) {
    int st;
    pid_t w = waitpid(-1, &st, __WALL);
    if (w < 0) break;
    if (w == pid && WIFEXITED(st)) {
      done = WEXITSTATUS(st) == 0 ? 1 : 2;
      break;
    }
    if (WIFEXITED(st)) {
      if (w == g && WEXITSTATUS(st) == 3) gchild_exit = 1;
      continue;
    }
    if (!WIFSTOPPED(st)) continue;
    if (w == pid && st >> 8 == (SIGTRAP | (PTRACE_EVENT_FORK << 8))) {
      unsigned long m = 0;
      ptrace(PTRACE_GETEVENTMSG, pid, 0, &m);
      if (g == -1 || g == (pid_t)m) msg_ok = 1;
      g = (pid_t)m;
      fork_event = 1;
    } else if (w == pid && st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
      unsigned long m = 0;
      ptrace(PTRACE_GETEVENTMSG, pid, 0, &m);
      exec_msg_ok = (pid_t)m == pid;
      exec_event = 1;
    } else if (w != pid && WSTOPSIG(st) == SIGSTOP) {
      if (g == -1) g = w;
      gchild_stop = w == g;
      ptrace(PTRACE_CONT, w, 0, 0);
      continue;
    }
    ptrace(PTRACE_CONT, w, 0, (WSTOPSIG(st) == SIGTRAP || WSTOPSIG(st) == SIGCHLD) ? 0 : WSTOPSIG(st));
  }
  CHECK("fork: PTRACE_EVENT_FORK", fork_event);
  CHECK("fork: GETEVENTMSG is the new pid", msg_ok);
  CHECK("fork: new child auto-attached, SIGSTOP first", gchild_stop);
  CHECK("fork: traced grandchild exit seen by the tracer", gchild_exit);
  CHECK("exec: PTRACE_EVENT_EXEC", exec_event);
  CHECK("exec: GETEVENTMSG is the former tid", exec_msg_ok);
  EXPECT_EQ("exec: the child ends well", done, 1);
}

static void test_singlestep(void) {
  pid_t pid = traced_child();
  if (pid == 0) _exit(0);
  wait_stop(pid);
  struct user_regs_struct before, after;
  ptrace(PTRACE_GETREGS, pid, 0, &before);
  EXPECT_OK("step: SINGLESTEP", ptrace(PTRACE_SINGLESTEP, pid, 0, 0));
  int st = wait_stop(pid);
  CHECK("step: SIGTRAP after one instruction", WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP);
  ptrace(PTRACE_GETREGS, pid, 0, &after);
  CHECK("step: rip moved", after.rip != before.rip);
  ptrace(PTRACE_CONT, pid, 0, 0);
  st = wait_stop(pid);
  CHECK("step: then runs to the end", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_exec_sigtrap(void) {
  pid_t pid = traced_child();
  if (pid == 0) {
    execl("/bin/true", "true", (char *)0);
    _exit(99);
  }
  wait_stop(pid);
  ptrace(PTRACE_CONT, pid, 0, 0);
  int st = wait_stop(pid);
  CHECK("exec: plain SIGTRAP without TRACEEXEC", WIFSTOPPED(st) && (st >> 8) == SIGTRAP);
  ptrace(PTRACE_CONT, pid, 0, 0);
  st = wait_stop(pid);
  CHECK("exec: /bin/true exits 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_exit_event(void) {
  pid_t pid = traced_child();
  if (pid == 0) _exit(5);
  wait_stop(pid);
  ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXIT);
  ptrace(PTRACE_CONT, pid, 0, 0);
  int st = wait_stop(pid);
  CHECK("exit: PTRACE_EVENT_EXIT", WIFSTOPPED(st) && (st >> 8) == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)));
  unsigned long m = 0;
  ptrace(PTRACE_GETEVENTMSG, pid, 0, &m);
  EXPECT_EQ("exit: GETEVENTMSG is the status", m, 5 << 8);
  ptrace(PTRACE_CONT, pid, 0, 0);
  st = wait_stop(pid);
  CHECK("exit: then the exit", WIFEXITED(st) && WEXITSTATUS(st) == 5);
}

static void test_attach_seize(void) {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  EXPECT_ERRNO("attach: self is EPERM", ptrace(PTRACE_ATTACH, getpid(), 0, 0), EPERM);
  EXPECT_OK("attach: ATTACH", ptrace(PTRACE_ATTACH, pid, 0, 0));
  EXPECT_ERRNO("attach: twice is EPERM", ptrace(PTRACE_ATTACH, pid, 0, 0), EPERM);
  int st = wait_stop(pid);
  CHECK("attach: SIGSTOP stop", WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
  EXPECT_OK("attach: DETACH", ptrace(PTRACE_DETACH, pid, 0, 0));
  EXPECT_ERRNO("attach: detached", ptrace(PTRACE_CONT, pid, 0, 0), ESRCH);
  EXPECT_OK("seize: SEIZE", ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD));
  EXPECT_OK("seize: INTERRUPT", ptrace(PTRACE_INTERRUPT, pid, 0, 0));
  st = wait_stop(pid);
  CHECK("seize: PTRACE_EVENT_STOP", WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP && WSTOPSIG(st) == SIGTRAP);
  EXPECT_OK("seize: KILL", ptrace(PTRACE_KILL, pid, 0, 0));
  st = wait_stop(pid);
  CHECK("seize: killed", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void test_exitkill(void) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int p[2];
  if (pipe(p) != 0) return;
  pid_t tracer = fork();
  if (tracer == 0) {
    pid_t c = fork();
    if (c == 0) {
      for (;;) pause();
    }
    int ok = ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_EXITKILL) == 0;
    if (!ok) kill(c, SIGKILL);
    if (write(p[1], &c, sizeof c) != sizeof c) _exit(2);
    _exit(ok ? 0 : 1);
  }
  pid_t c = -1;
  if (read(p[0], &c, sizeof c) != sizeof c) c = -1;
  int st;
  waitpid(tracer, &st, 0);
  CHECK("exitkill: the tracer seized", WIFEXITED(st) && WEXITSTATUS(st) == 0);
  st = 0;
  CHECK("exitkill: tracee reaped", c > 0 && waitpid(c, &st, 0) == c);
  CHECK("exitkill: killed by SIGKILL", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  close(p[0]);
  close(p[1]);
  prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void test_vm_rw(void) {
  pid_t pid = traced_child();
  if (pid == 0) _exit(strcmp(text, "HELLO ptrace") == 0 ? 0 : 1);
  wait_stop(pid);
  char a[5] = {0}, b[8] = {0};
  struct iovec local[2] = { { a, 5 }, { b, 7 } };
  struct iovec remote[1] = { { text, 12 } };
  EXPECT_EQ("vm: readv", process_vm_readv(pid, local, 2, remote, 1, 0), 12);
  CHECK("vm: bytes", memcmp(a, "hello", 5) == 0 && strcmp(b, " ptrace") == 0);
  struct iovec remote2[2] = { { text, 5 }, { (void *)8, 7 } };
  EXPECT_EQ("vm: partial readv", process_vm_readv(pid, local, 2, remote2, 2, 0), 5);
  struct iovec bad[1] = { { (void *)8, 4 } };
  EXPECT_ERRNO("vm: fault at once is EFAULT", process_vm_readv(pid, local, 1, bad, 1, 0), EFAULT);
  EXPECT_ERRNO("vm: flags", process_vm_readv(pid, local, 1, remote, 1, 1), EINVAL);
  struct iovec w[1] = { { "HELLO", 5 } };
  struct iovec rw[1] = { { text, 5 } };
  EXPECT_EQ("vm: writev", process_vm_writev(pid, w, 1, rw, 1, 0), 5);
  ptrace(PTRACE_CONT, pid, 0, 0);
  int st = wait_stop(pid);
  CHECK("vm: the child saw the write", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  test_traceme();
  test_syscall_stops();
  test_peek_poke();
  test_signals();
  test_fork_exec();
  test_singlestep();
  test_exec_sigtrap();
  test_exit_event();
  test_attach_seize();
  test_exitkill();
  test_vm_rw();
  (void)finish;
  TEST_DONE();
}
