/* process.c: fork/wait and exit statuses, signals' default actions, vfork,
 * posix_spawn, execve (argv/envp, scripts, ENOENT/ENOEXEC/EACCES). */
#include "test.h"
#include <spawn.h>
#include <sys/resource.h>

extern char **environ;

static int exit_with(void *arg) { return (int)(long)arg; }
static int kill_self(void *arg) {
  kill(getpid(), (int)(long)arg);
  return 100;
}
static int do_abort(void *arg) {
  (void)arg;
  struct rlimit rl = {0, 0};
  setrlimit(RLIMIT_CORE, &rl);
  abort();
}
static int check_ppid(void *arg) { return getppid() == (pid_t)(long)arg ? 0 : 1; }
static int own_group(void *arg) {
  (void)arg;
  if (setpgid(0, 0) != 0) return 1;
  return getpgid(0) == getpid() && getpgrp() == getpid() ? 0 : 2;
}

static int run_exec(const char *path, char *const argv[], char *const envp[]) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    execve(path, argv, envp);
    _exit(200 + (errno & 31));
  }
  int st = -1;
  waitpid(p, &st, 0);
  return st;
}

int main(void) {
  pid_t self = getpid();
  CHECK("getpid.positive", self > 0);
  int st;

  /* Exit statuses */
  EXPECT_EXIT("exit.0", t_in_child(exit_with, (void *)0), 0);
  EXPECT_EXIT("exit.42", t_in_child(exit_with, (void *)42), 42);
  EXPECT_EXIT("exit.255", t_in_child(exit_with, (void *)255), 255);
  EXPECT_EXIT("exit.256_truncates", t_in_child(exit_with, (void *)256), 0);
  EXPECT_KILLED("kill.sigkill", t_in_child(kill_self, (void *)SIGKILL), SIGKILL);
  EXPECT_KILLED("kill.sigterm", t_in_child(kill_self, (void *)SIGTERM), SIGTERM);
  EXPECT_KILLED("kill.sigusr1", t_in_child(kill_self, (void *)SIGUSR1), SIGUSR1);
  EXPECT_EXIT("kill.sigchld_ignored", t_in_child(kill_self, (void *)SIGCHLD), 100);
  EXPECT_KILLED("abort.sigabrt", t_in_child(do_abort, NULL), SIGABRT);
  EXPECT_EXIT("child.getppid", t_in_child(check_ppid, (void *)(long)self), 0);
  EXPECT_EXIT("child.setpgid", t_in_child(own_group, NULL), 0);

  /* wait variants */
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    usleep(200000);
    _exit(7);
  }
  EXPECT_EQ("waitpid.wnohang_running", waitpid(c, &st, WNOHANG), 0);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  EXPECT_OK("waitid", waitid(P_PID, c, &si, WEXITED));
  EXPECT_EQ("waitid.pid", si.si_pid, c);
  EXPECT_EQ("waitid.code", si.si_code, CLD_EXITED);
  EXPECT_EQ("waitid.status", si.si_status, 7);
  EXPECT_ERRNO("waitpid.echild", waitpid(-1, &st, 0), ECHILD);
  EXPECT_ERRNO("waitpid.not_child", waitpid(1, &st, WNOHANG), ECHILD);
  EXPECT_ERRNO("waitpid.bad_options", waitpid(-1, &st, 0x100), EINVAL);

  /* Many children, reaped in any order. */
  fflush(stdout);
  int sum = 0, reaped = 0;
  for (int i = 0; i < 20; i++) {
    if (fork() == 0) _exit(i);
  }
  while (waitpid(-1, &st, 0) > 0) {
    reaped++;
    if (WIFEXITED(st)) sum += WEXITSTATUS(st);
  }
  EXPECT_EQ("fork.many.reaped", reaped, 20);
  EXPECT_EQ("fork.many.statuses", sum, 190);

  /* Memory is copied at fork. */
  volatile int shared_var = 1;
  fflush(stdout);
  c = fork();
  if (c == 0) {
    shared_var = 2;
    _exit(shared_var);
  }
  waitpid(c, &st, 0);
  EXPECT_EXIT("fork.child_sees_own_copy", st, 2);
  EXPECT_EQ("fork.parent_unchanged", shared_var, 1);

  /* vfork + exec */
  fflush(stdout);
  c = vfork();
  if (c == 0) {
    execl("/bin/true", "true", (char *)NULL);
    _exit(127);
  }
  CHECK("vfork.pid", c > 0);
  waitpid(c, &st, 0);
  EXPECT_EXIT("vfork.exec_true", st, 0);
  c = vfork();
  if (c == 0) {
    execl("/bin/sh", "sh", "-c", "exit 5", (char *)NULL);
    _exit(127);
  }
  waitpid(c, &st, 0);
  EXPECT_EXIT("vfork.exec_sh", st, 5);
  c = vfork();
  if (c == 0) {
    execl("/nonexistent-tsv", "x", (char *)NULL);
    _exit(errno == ENOENT ? 33 : 34);
  }
  waitpid(c, &st, 0);
  EXPECT_EXIT("vfork.exec_fails", st, 33);

  /* posix_spawn */
  pid_t sp;
  char *sh_argv[] = {"sh", "-c", "exit 3", NULL};
  EXPECT_EQ("posix_spawn", posix_spawn(&sp, "/bin/sh", NULL, NULL, sh_argv, environ), 0);
  waitpid(sp, &st, 0);
  EXPECT_EXIT("posix_spawn.status", st, 3);
  char *true_argv[] = {"true", NULL};
  EXPECT_EQ("posix_spawnp", posix_spawnp(&sp, "true", NULL, NULL, true_argv, environ), 0);
  waitpid(sp, &st, 0);
  EXPECT_EXIT("posix_spawnp.status", st, 0);
  EXPECT_EQ("posix_spawn.enoent", posix_spawn(&sp, "/nonexistent-tsv", NULL, NULL, true_argv, environ), ENOENT);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  char *echo_argv[] = {"echo", "should not appear", NULL};
  EXPECT_EQ("posix_spawn.file_actions", posix_spawn(&sp, "/bin/echo", &fa, NULL, echo_argv, environ), 0);
  waitpid(sp, &st, 0);
  EXPECT_EXIT("posix_spawn.file_actions.status", st, 0);
  posix_spawn_file_actions_destroy(&fa);

  /* execve: argv and envp reach the new image. */
  char *a1[] = {"sh", "-c", "test \"$0\" = zero && test \"$1\" = one && test \"$X\" = y", "zero", "one", NULL};
  char *e1[] = {"X=y", NULL};
  EXPECT_EXIT("execve.argv_envp", run_exec("/bin/sh", a1, e1), 0);
  char *a2[] = {"sh", "-c", "test -z \"$X\"", NULL};
  char *e2[] = {NULL};
  EXPECT_EXIT("execve.empty_env", run_exec("/bin/sh", a2, e2), 0);

  /* execve failures, in this process: it must survive them. */
  char *dir = t_tmpdir("process");
  char p1[300], p2[300], p3[300];
  snprintf(p1, sizeof p1, "%s/garbage", dir);
  snprintf(p2, sizeof p2, "%s/script", dir);
  snprintf(p3, sizeof p3, "%s/noexec", dir);
  t_write_file(p1, "\x01\x02\x03\x04garbage\n\x00\x00\x00", 15, 0755);
  t_write_file(p2, "#!/bin/sh\nexit 9\n", 17, 0755);
  t_write_file(p3, "#!/bin/sh\nexit 0\n", 17, 0644);
  char *noargs[] = {"x", NULL};
  char *volatile bad_path = (char *)1;
  EXPECT_ERRNO("execve.enoent", execve("/nonexistent-tsv", noargs, environ), ENOENT);
  EXPECT_ERRNO("execve.enoexec", execve(p1, noargs, environ), ENOEXEC);
  EXPECT_ERRNO("execve.directory", execve("/tmp", noargs, environ), EACCES);
  EXPECT_ERRNO("execve.no_x_bit", execve(p3, noargs, environ), EACCES);
  EXPECT_ERRNO("execve.enotdir", execve("/etc/passwd/x", noargs, environ), ENOTDIR);
  EXPECT_ERRNO("execve.bad_pointer", execve(bad_path, noargs, environ), EFAULT);
  EXPECT_EXIT("execve.script", run_exec(p2, noargs, environ), 9);
  CHECK("execve.survived", getpid() == self);
  t_rmtree(dir);

  /* Signal sent to a child's process group */
  fflush(stdout);
  c = fork();
  if (c == 0) {
    setpgid(0, 0);
    for (;;) pause();
  }
  setpgid(c, c);
  EXPECT_OK("kill.group", kill(-c, SIGTERM));
  waitpid(c, &st, 0);
  EXPECT_KILLED("kill.group.status", st, SIGTERM);
  EXPECT_ERRNO("kill.esrch", kill(c, 0), ESRCH);
  EXPECT_OK("kill.sig0_self", kill(self, 0));

  TEST_DONE();
}
