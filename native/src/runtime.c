/* Host primitives for the OCI runtime side of runsc: Unix stream sockets by
 * path (the sandbox's control socket, the console socket) and flock(2) for
 * the per-container state lock. Node has neither fd passing over a socket it
 * made itself nor flock; everything else stays in TypeScript. */
#include "util.h"
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>

/* sockaddr_of fills sa from a JS string path; -ENAMETOOLONG if it does not fit. */
static int sockaddr_of(napi_env env, napi_value v, struct sockaddr_un *sa) {
  memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return -EINVAL;
  if (len == 0 || len >= sizeof(sa->sun_path)) return -ENAMETOOLONG;
  napi_get_value_string_utf8(env, v, sa->sun_path, sizeof(sa->sun_path), &len);
  return 0;
}

/* unixListen(path, backlog) -> fd | -errno: a non-blocking, close-on-exec
 * listening SOCK_STREAM socket bound at path. */
static napi_value UnixListen(napi_env env, napi_callback_info info) {
  ARGS(2);
  struct sockaddr_un sa;
  int r = sockaddr_of(env, argv[0], &sa);
  if (r < 0) return num(env, r);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return num(env, -errno);
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, arg_i32(env, argv[1])) < 0) {
    int e = errno;
    close(fd);
    return num(env, -e);
  }
  return num(env, fd);
}

/* unixAccept(fd) -> fd | -errno (-EAGAIN: nobody waiting); the new socket is
 * non-blocking and close-on-exec. */
static napi_value UnixAccept(napi_env env, napi_callback_info info) {
  ARGS(1);
  int r;
  do r = accept4(arg_i32(env, argv[0]), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (r < 0 && errno == EINTR);
  return num(env, r < 0 ? -errno : r);
}

/* unixConnect(path) -> fd | -errno: a blocking, close-on-exec SOCK_STREAM
 * socket connected to path. */
static napi_value UnixConnect(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct sockaddr_un sa;
  int r = sockaddr_of(env, argv[0], &sa);
  if (r < 0) return num(env, r);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return num(env, -errno);
  do r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    int e = errno;
    close(fd);
    return num(env, -e);
  }
  return num(env, fd);
}

/* flock(fd, op) -> 0 | -errno (op as flock(2): LOCK_SH 1, LOCK_EX 2, LOCK_NB 4, LOCK_UN 8). */
static napi_value Flock(napi_env env, napi_callback_info info) {
  ARGS(2);
  return RET_ERRNO(flock(arg_i32(env, argv[0]), arg_i32(env, argv[1])));
}

/* exitNow(code): ends the process at once (exit_group), skipping Node's
 * teardown, which joins libuv's pool threads: one parked in a blocking read
 * of a host terminal, pipe or TAP device would hold the exit until input came. */
static napi_value ExitNow(napi_env env, napi_callback_info info) {
  ARGS(1);
  syscall(SYS_exit_group, arg_i32(env, argv[0]));
  return num(env, -1);
}

void register_runtime(napi_env env, napi_value exports) {
  export_fn(env, exports, "unixListen", UnixListen);
  export_fn(env, exports, "unixAccept", UnixAccept);
  export_fn(env, exports, "unixConnect", UnixConnect);
  export_fn(env, exports, "flock", Flock);
  export_fn(env, exports, "exitNow", ExitNow);
}
