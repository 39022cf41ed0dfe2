/* Confinement primitives: starting a process in new namespaces, the mount
 * calls that give a process an empty or narrowed root, resource limits of
 * another process, and installing a seccomp filter. Which namespaces, which
 * mounts and which filter are decided in TypeScript (src/runsc/boot/confine.ts,
 * src/seccomp); this file only performs the calls. */
#include "util.h"
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NS_SETSID 1
#define NS_PDEATHSIG 2
#define NS_BECOME_ROOT 4 /* setresuid/setresgid(0) inside the new user namespace */

char **str_array(napi_env env, napi_value arr);
void free_array(char **v);

static int get_str(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok || len >= size - 1) return -1;
  return 0;
}

/* spawnNs(path, argv, envp, fds Int32Array, flags, cloneFlags, out Int32Array(1))
 * -> pid | -errno. Like spawn (ns.c) but the child is made by clone(2) with
 * cloneFlags (CLONE_NEW*), and it waits before exec until the caller closes
 * the descriptor returned in out[0]: the caller writes the new user
 * namespace's id maps (and limits) in between. flags: 1 setsid, 2 die with
 * the parent (PR_SET_PDEATHSIG SIGKILL), 4 become uid/gid 0 in the new user
 * namespace. Only raw system calls run in the child: the parent is threaded. */
static napi_value SpawnNs(napi_env env, napi_callback_info info) {
  ARGS(7);
  char path[4096];
  if (get_str(env, argv[0], path, sizeof(path)) < 0) return num(env, -EINVAL);
  size_t fn = 0, on = 0;
  int *fds = arg_buf(env, argv[3], &fn);
  int n = (int)(fn / sizeof(int));
  int flags = arg_i32(env, argv[4]);
  long cflags = (long)arg_i64(env, argv[5]);
  int *out = arg_buf(env, argv[6], &on);
  if (n > 64 || !out || on < sizeof(int)) return num(env, -EINVAL);
  char **cargv = str_array(env, argv[1]);
  char **cenv = str_array(env, argv[2]);
  if (!cargv || !cenv) {
    free_array(cargv);
    free_array(cenv);
    return num(env, -EINVAL);
  }
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0) {
    int e = errno;
    free_array(cargv);
    free_array(cenv);
    return num(env, -e);
  }
  /* Sources are moved above the target range so that dup3 onto target i
   * never clobbers a source still to be placed (done in the child). */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  /* The child is in a new PID namespace: its parent shows as 0 there. */
  long ppid = (cflags & CLONE_NEWPID) ? 0 : getpid();
  long pid = syscall(SYS_clone, (unsigned long)cflags | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    /* SAFETY: raw system calls only from here to execve. */
    char b;
    syscall(SYS_close, sync[1]);
    long r;
    do r = syscall(SYS_read, sync[0], &b, 1);
    while (r < 0 && errno == EINTR);
    if (r != 0) syscall(SYS_exit_group, 125); /* the parent gave up */
    if (flags & NS_SETSID) syscall(SYS_setsid);
    if (flags & NS_BECOME_ROOT) {
      if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0) syscall(SYS_exit_group, 124);
    }
    /* After the id change, which would clear it; then check the parent did
     * not die before it was set. */
    if (flags & NS_PDEATHSIG) {
      syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (syscall(SYS_getppid) != ppid) syscall(SYS_exit_group, 122);
    }
    int tmp[64];
    for (int i = 0; i < n; i++) {
      tmp[i] = -1;
      if (fds[i] >= 0 && (tmp[i] = syscall(SYS_fcntl, fds[i], F_DUPFD_CLOEXEC, n)) < 0) syscall(SYS_exit_group, 123);
    }
    for (int i = 0; i < n; i++)
      if (tmp[i] >= 0) syscall(SYS_dup3, tmp[i], i, 0);
    syscall(SYS_close_range, n, ~0U, 0);
    /* Default dispositions (ignored ones survive exec) and an empty mask. */
    struct { void *h; unsigned long f; void *r; unsigned long m; } sa = {SIG_DFL, 0, 0, 0};
    for (int s = 1; s < 65; s++)
      if (s != SIGKILL && s != SIGSTOP) syscall(SYS_rt_sigaction, s, &sa, 0, 8);
    unsigned long none = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, 8);
    syscall(SYS_execve, path, cargv, cenv);
    syscall(SYS_exit_group, 127);
  }
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(sync[0]);
  free_array(cargv);
  free_array(cenv);
  if (pid < 0) {
    close(sync[1]);
    return num(env, -saved);
  }
  out[0] = sync[1];
  return num(env, (double)pid);
}

/* mount(source, target, fstype, flags, data) -> 0 | -errno; "" is NULL. */
static napi_value Mount(napi_env env, napi_callback_info info) {
  ARGS(5);
  char src[4096], tgt[4096], fs[64], data[256];
  if (get_str(env, argv[0], src, sizeof(src)) < 0 || get_str(env, argv[1], tgt, sizeof(tgt)) < 0 ||
      get_str(env, argv[2], fs, sizeof(fs)) < 0 || get_str(env, argv[4], data, sizeof(data)) < 0)
    return num(env, -EINVAL);
  unsigned long fl = (unsigned long)arg_i64(env, argv[3]);
  return RET_ERRNO(mount(src[0] ? src : NULL, tgt, fs[0] ? fs : NULL, fl, data[0] ? data : NULL));
}

/* umount2(target, flags) -> 0 | -errno. */
static napi_value Umount2(napi_env env, napi_callback_info info) {
  ARGS(2);
  char tgt[4096];
  if (get_str(env, argv[0], tgt, sizeof(tgt)) < 0) return num(env, -EINVAL);
  return RET_ERRNO(umount2(tgt, arg_i32(env, argv[1])));
}

/* pivotRoot(newRoot, putOld) -> 0 | -errno. */
static napi_value PivotRoot(napi_env env, napi_callback_info info) {
  ARGS(2);
  char a[4096], b[4096];
  if (get_str(env, argv[0], a, sizeof(a)) < 0 || get_str(env, argv[1], b, sizeof(b)) < 0) return num(env, -EINVAL);
  return RET_ERRNO(syscall(SYS_pivot_root, a, b));
}

/* chdir(path) -> 0 | -errno (process.chdir would also touch Node's caches). */
static napi_value Chdir(napi_env env, napi_callback_info info) {
  ARGS(1);
  char a[4096];
  if (get_str(env, argv[0], a, sizeof(a)) < 0) return num(env, -EINVAL);
  return RET_ERRNO(chdir(a));
}

/* mountSetattr(path, atFlags, attrSet, attrClr, propagation) -> 0 | -errno:
 * mount_setattr(2), for making a whole bind tree read-only at once. */
static napi_value MountSetattr(napi_env env, napi_callback_info info) {
  ARGS(5);
  char a[4096];
  if (get_str(env, argv[0], a, sizeof(a)) < 0) return num(env, -EINVAL);
  struct { uint64_t set, clr, prop, userns; } attr = {
      (uint64_t)arg_i64(env, argv[2]), (uint64_t)arg_i64(env, argv[3]), (uint64_t)arg_i64(env, argv[4]), 0};
  return RET_ERRNO(syscall(442 /* mount_setattr */, AT_FDCWD, a, (unsigned)arg_i32(env, argv[1]), &attr, sizeof(attr)));
}

/* prlimit(pid, resource, soft, hard) -> 0 | -errno; -1 is RLIM_INFINITY. */
static napi_value Prlimit(napi_env env, napi_callback_info info) {
  ARGS(4);
  int64_t s = arg_i64(env, argv[2]), h = arg_i64(env, argv[3]);
  struct rlimit rl = {s < 0 ? RLIM_INFINITY : (rlim_t)s, h < 0 ? RLIM_INFINITY : (rlim_t)h};
  return RET_ERRNO(prlimit(arg_i32(env, argv[0]), arg_i32(env, argv[1]), &rl, NULL));
}

/* seccompInstall(prog Uint8Array of sock_filter, flags) -> 0 | -errno: sets
 * no_new_privs, then installs the filter (flags: SECCOMP_FILTER_FLAG_*,
 * TSYNC to cover every thread of the process). */
static napi_value SeccompInstall(napi_env env, napi_callback_info info) {
  ARGS(2);
  size_t n = 0;
  void *p = arg_buf(env, argv[0], &n);
  if (!p || n == 0 || n % sizeof(struct sock_filter) || n / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return num(env, -EINVAL);
  struct sock_fprog prog = {(unsigned short)(n / sizeof(struct sock_filter)), p};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return num(env, -errno);
  return RET_ERRNO(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)arg_i32(env, argv[1]), &prog));
}

/* capSet(low, high) -> 0 | -errno: sets the calling thread's permitted and
 * effective capabilities to the mask (bits 0-31, 32-63), inheritable to none
 * (the other threads keep theirs; the seccomp filter is what binds them). */
static napi_value CapSet(napi_env env, napi_callback_info info) {
  ARGS(2);
  struct { uint32_t version; int pid; } hdr = {0x20080522, 0};
  uint32_t lo = (uint32_t)arg_i64(env, argv[0]), hi = (uint32_t)arg_i64(env, argv[1]);
  uint32_t data[6] = {lo, lo, 0, hi, hi, 0}; /* {effective, permitted, inheritable} x 2 */
  return RET_ERRNO(syscall(SYS_capset, &hdr, data));
}

/* openat(dirfd, path, flags, mode) -> fd | -errno. The Sentry reads its own
 * /proc through a directory fd, the only open its seccomp filter allows. */
static napi_value Openat(napi_env env, napi_callback_info info) {
  ARGS(4);
  char a[4096];
  if (get_str(env, argv[1], a, sizeof(a)) < 0) return num(env, -EINVAL);
  return RET_ERRNO(syscall(SYS_openat, arg_i32(env, argv[0]), a, arg_i32(env, argv[2]), arg_i32(env, argv[3])));
}

/* renameat(olddirfd, old, newdirfd, new) -> 0 | -errno. */
static napi_value Renameat(napi_env env, napi_callback_info info) {
  ARGS(4);
  char a[4096], b[4096];
  if (get_str(env, argv[1], a, sizeof(a)) < 0 || get_str(env, argv[3], b, sizeof(b)) < 0) return num(env, -EINVAL);
  return RET_ERRNO(syscall(SYS_renameat, arg_i32(env, argv[0]), a, arg_i32(env, argv[2]), b));
}

void register_confine(napi_env env, napi_value exports) {
  export_fn(env, exports, "spawnNs", SpawnNs);
  export_fn(env, exports, "mount", Mount);
  export_fn(env, exports, "umount2", Umount2);
  export_fn(env, exports, "pivotRoot", PivotRoot);
  export_fn(env, exports, "chdir", Chdir);
  export_fn(env, exports, "mountSetattr", MountSetattr);
  export_fn(env, exports, "prlimit", Prlimit);
  export_fn(env, exports, "seccompInstall", SeccompInstall);
  export_fn(env, exports, "capSet", CapSet);
  export_fn(env, exports, "openat", Openat);
  export_fn(env, exports, "renameat", Renameat);
}
