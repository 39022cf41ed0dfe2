/* Process primitives for the Gofer: spawning a helper process without
 * node:child_process (whose SIGCHLD handler would tax every ptrace stop),
 * reaping it by pid, and confining a process to a directory. */
#include "util.h"
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#define SPAWN_SETSID 1

/* str_array copies a JS array of strings into a NULL-terminated, malloc'ed
 * vector (freed with free_array); NULL on a bad argument. */
char **str_array(napi_env env, napi_value arr) {
  bool is_arr = false;
  napi_is_array(env, arr, &is_arr);
  if (!is_arr) return NULL;
  uint32_t n = 0;
  napi_get_array_length(env, arr, &n);
  char **v = calloc((size_t)n + 1, sizeof(char *));
  if (!v) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value s;
    size_t len = 0;
    napi_get_element(env, arr, i, &s);
    if (napi_get_value_string_utf8(env, s, NULL, 0, &len) != napi_ok) goto bad;
    v[i] = malloc(len + 1);
    if (!v[i]) goto bad;
    napi_get_value_string_utf8(env, s, v[i], len + 1, &len);
  }
  return v;
bad:
  for (uint32_t i = 0; i < n; i++) free(v[i]);
  free(v);
  return NULL;
}

void free_array(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

/* spawn(path, argv, envp, fds Int32Array, flags) -> pid | -errno.
 * The child gets fds[i] as its fd i (-1: left closed) and no other fd; its
 * signal mask is empty and every signal disposition is the default. flags:
 * 1 = start a new session (no controlling terminal, own process group).
 * posix_spawn (vfork-like in glibc) keeps this safe in a threaded process. */
static napi_value Spawn(napi_env env, napi_callback_info info) {
  ARGS(5);
  char path[4096];
  size_t plen = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &plen) != napi_ok || plen >= sizeof(path) - 1)
    return num(env, -EINVAL);
  size_t fn = 0;
  int *fds = arg_buf(env, argv[3], &fn);
  int n = (int)(fn / sizeof(int));
  if (n > 64) return num(env, -EINVAL);
  int flags = arg_i32(env, argv[4]);
  char **cargv = str_array(env, argv[1]);
  char **cenv = str_array(env, argv[2]);
  if (!cargv || !cenv) {
    free_array(cargv);
    free_array(cenv);
    return num(env, -EINVAL);
  }
  /* Move every source above the target range first, so that a dup2 onto
   * target i never clobbers a source still to be placed. */
  int tmp[64];
  int err = 0;
  for (int i = 0; i < n; i++) {
    tmp[i] = -1;
    if (!err && fds[i] >= 0 && (tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, n)) < 0) err = errno;
  }
  pid_t pid = -1;
  if (!err) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    for (int i = 0; i < n; i++)
      if (tmp[i] >= 0) posix_spawn_file_actions_adddup2(&fa, tmp[i], i);
    posix_spawn_file_actions_addclosefrom_np(&fa, n);
    short sf = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (flags & SPAWN_SETSID) sf |= POSIX_SPAWN_SETSID;
    posix_spawnattr_setflags(&at, sf);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    err = posix_spawn(&pid, path, &fa, &at, cargv, cenv);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
  }
  for (int i = 0; i < n; i++)
    if (tmp[i] >= 0) close(tmp[i]);
  free_array(cargv);
  free_array(cenv);
  return num(env, err ? -err : pid);
}

/* waitpid(pid, flags, out Int32Array(1)) -> pid | 0 (WNOHANG, still running)
 * | -errno; out[0] = wait status. pid must be a real pid: reaping "any child"
 * would steal the platform's ptrace stops. */
static napi_value Waitpid(napi_env env, napi_callback_info info) {
  ARGS(3);
  int pid = arg_i32(env, argv[0]);
  size_t on = 0;
  int *out = arg_buf(env, argv[2], &on);
  if (pid <= 0) return num(env, -EINVAL);
  int status = 0, r;
  do r = waitpid(pid, &status, arg_i32(env, argv[1]));
  while (r < 0 && errno == EINTR);
  if (r < 0) return num(env, -errno);
  if (out && on >= sizeof(int)) out[0] = status;
  return num(env, r);
}

/* chroot(path) -> 0 | -errno: changes the root of the whole process (all
 * threads share it) to path, then its working directory to the new root so
 * that no relative path starts outside it. */
static napi_value Chroot(napi_env env, napi_callback_info info) {
  ARGS(1);
  char path[4096];
  size_t plen = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &plen) != napi_ok || plen >= sizeof(path) - 1)
    return num(env, -EINVAL);
  if (chroot(path) < 0) return num(env, -errno);
  return RET_ERRNO(chdir("/"));
}

void register_ns(napi_env env, napi_value exports) {
  export_fn(env, exports, "spawn", Spawn);
  export_fn(env, exports, "waitpid", Waitpid);
  export_fn(env, exports, "chroot", Chroot);
}
