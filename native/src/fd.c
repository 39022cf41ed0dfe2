/* File descriptor primitives Node lacks: socketpair, SCM_RIGHTS passing,
 * memfd, ioctl with a buffer, rlimits. */
#include "util.h"
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* socketpair(domain, type, out Int32Array(2)) -> 0 | -errno. */
static napi_value Socketpair(napi_env env, napi_callback_info info) {
  ARGS(3);
  size_t n;
  int *out = arg_buf(env, argv[2], &n);
  if (n < 8) return num(env, -EINVAL);
  return RET_ERRNO(socketpair(arg_i32(env, argv[0]), arg_i32(env, argv[1]), 0, out));
}

/* sendFds(sock, fds Int32Array, data Uint8Array) -> bytes | -errno. */
static napi_value SendFds(napi_env env, napi_callback_info info) {
  ARGS(3);
  size_t fn, dn;
  int *fds = arg_buf(env, argv[1], &fn);
  uint8_t *data = arg_buf(env, argv[2], &dn);
  size_t nfds = fn / sizeof(int);
  if (nfds > 253) return num(env, -EINVAL);
  char cbuf[CMSG_SPACE(253 * sizeof(int))];
  uint8_t dummy = 0;
  struct iovec iov = {dn ? data : &dummy, dn ? dn : 1};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds) {
    msg.msg_control = cbuf;
    msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  }
  return RET_ERRNO(sendmsg(arg_i32(env, argv[0]), &msg, MSG_NOSIGNAL));
}

/* recvFds(sock, data Uint8Array, fdsOut Int32Array, flags) -> bytes | -errno;
 * unused fd slots are set to -1. */
static napi_value RecvFds(napi_env env, napi_callback_info info) {
  ARGS(4);
  size_t dn, fn;
  uint8_t *data = arg_buf(env, argv[1], &dn);
  int *fds = arg_buf(env, argv[2], &fn);
  size_t nfds = fn / sizeof(int);
  if (nfds > 253) nfds = 253;
  for (size_t i = 0; i < nfds; i++) fds[i] = -1;
  char cbuf[CMSG_SPACE(253 * sizeof(int))];
  struct iovec iov = {data, dn};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof(cbuf);
  ssize_t r = recvmsg(arg_i32(env, argv[0]), &msg, MSG_CMSG_CLOEXEC | arg_i32(env, argv[3]));
  if (r < 0) return num(env, -errno);
  size_t k = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *p = (int *)CMSG_DATA(c);
    for (size_t i = 0; i < cnt; i++) {
      if (k < nfds) fds[k++] = p[i];
      else close(p[i]);
    }
  }
  return num(env, (double)r);
}

/* memfdCreate(name, flags) -> fd | -errno. */
static napi_value MemfdCreate(napi_env env, napi_callback_info info) {
  ARGS(2);
  char name[256];
  size_t len;
  napi_get_value_string_utf8(env, argv[0], name, sizeof(name), &len);
  return RET_ERRNO(memfd_create(name, (unsigned)arg_i32(env, argv[1])));
}

/* ioctl(fd, req, buf|null, arg) -> result | -errno. With a buffer the kernel
 * reads/writes it; otherwise arg is passed as the third argument. */
static napi_value Ioctl(napi_env env, napi_callback_info info) {
  ARGS(4);
  size_t n = 0;
  void *b = arg_buf(env, argv[2], &n);
  unsigned long req = (unsigned long)arg_i64(env, argv[1]);
  long r = b ? ioctl(arg_i32(env, argv[0]), req, b) : ioctl(arg_i32(env, argv[0]), req, (long)arg_i64(env, argv[3]));
  return RET_ERRNO(r);
}

/* setNofile(n) raises RLIMIT_NOFILE's soft limit up to n (capped by hard). */
static napi_value SetNofile(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return num(env, -errno);
  rlim_t want = (rlim_t)arg_i64(env, argv[0]);
  rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
  return RET_ERRNO(setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -1 : (long)rl.rlim_cur);
}

void register_fd(napi_env env, napi_value exports) {
  export_fn(env, exports, "socketpair", Socketpair);
  export_fn(env, exports, "sendFds", SendFds);
  export_fn(env, exports, "recvFds", RecvFds);
  export_fn(env, exports, "memfdCreate", MemfdCreate);
  export_fn(env, exports, "ioctl", Ioctl);
  export_fn(env, exports, "setNofile", SetNofile);
}
