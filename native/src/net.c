/* Host socket primitives for --network=host (src/sentry/socket/hostinet):
 * the Sentry owns non-blocking host sockets and drives them with these calls,
 * each one syscall. Readiness comes from a notifier: an epoll set in
 * edge-triggered mode, itself watched by a libuv poll handle on Node's loop,
 * so an idle Sentry sleeps in libuv and wakes when a host socket changes. The
 * Sentry also drains the set with a 0 timeout after its own socket operations.
 * While guest threads run, the main thread sits in bounded ptrace waits rather
 * than in libuv: a waker thread then notices events nobody drained and
 * interrupts that wait with the platform's wake signal (ptrace.c), which ends
 * it early so the event loop gets its turn. */
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <uv.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>

/* netSocket(domain, type, protocol) -> fd | -errno; always non-blocking and close-on-exec. */
static napi_value NetSocket(napi_env env, napi_callback_info info) {
  ARGS(3);
  int type = arg_i32(env, argv[1]) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  return RET_ERRNO(socket(arg_i32(env, argv[0]), type, arg_i32(env, argv[2])));
}

/* netBind(fd, addr Uint8Array) / netConnect(fd, addr) -> 0 | -errno. */
static napi_value NetBind(napi_env env, napi_callback_info info) {
  ARGS(2);
  size_t n;
  void *a = arg_buf(env, argv[1], &n);
  return RET_ERRNO(bind(arg_i32(env, argv[0]), (struct sockaddr *)a, (socklen_t)n));
}

static napi_value NetConnect(napi_env env, napi_callback_info info) {
  ARGS(2);
  size_t n;
  void *a = arg_buf(env, argv[1], &n);
  return RET_ERRNO(connect(arg_i32(env, argv[0]), (struct sockaddr *)a, (socklen_t)n));
}

/* netListen(fd, backlog) -> 0 | -errno. */
static napi_value NetListen(napi_env env, napi_callback_info info) {
  ARGS(2);
  return RET_ERRNO(listen(arg_i32(env, argv[0]), arg_i32(env, argv[1])));
}

/* netAccept(fd, addrOut Uint8Array(128), lenOut Int32Array(1)) -> fd | -errno;
 * the new socket is non-blocking and close-on-exec. */
static napi_value NetAccept(napi_env env, napi_callback_info info) {
  ARGS(3);
  size_t an, ln;
  void *a = arg_buf(env, argv[1], &an);
  int *len = arg_buf(env, argv[2], &ln);
  socklen_t sl = (socklen_t)an;
  int r = accept4(arg_i32(env, argv[0]), (struct sockaddr *)a, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (r < 0) return num(env, -errno);
  if (ln >= 4) len[0] = (int)sl;
  return num(env, r);
}

/* fill_msghdr points m at one data buffer, an optional address and an
 * optional control buffer (NULL or empty: none). */
static void fill_msghdr(struct msghdr *m, struct iovec *iov, void *a, size_t an, void *c, size_t cn) {
  memset(m, 0, sizeof(*m));
  m->msg_iov = iov;
  m->msg_iovlen = 1;
  if (a && an) { m->msg_name = a; m->msg_namelen = (socklen_t)an; }
  if (c && cn) { m->msg_control = c; m->msg_controllen = cn; }
}

/* netSendmsg(fd, data, addr|null, control|null, flags) -> bytes | -errno. */
static napi_value NetSendmsg(napi_env env, napi_callback_info info) {
  ARGS(5);
  size_t dn, an, cn;
  void *d = arg_buf(env, argv[1], &dn);
  void *a = arg_buf(env, argv[2], &an);
  void *c = arg_buf(env, argv[3], &cn);
  struct iovec iov = {d, dn};
  struct msghdr m;
  fill_msghdr(&m, &iov, a, an, c, cn);
  return RET_ERRNO(sendmsg(arg_i32(env, argv[0]), &m, arg_i32(env, argv[4])));
}

/* netRecvmsg(fd, data, addrOut|null, controlOut|null, flags, info Int32Array(3))
 * -> bytes | -errno; info = [address length, control length, msg_flags]. */
static napi_value NetRecvmsg(napi_env env, napi_callback_info info) {
  ARGS(6);
  size_t dn, an, cn, in;
  void *d = arg_buf(env, argv[1], &dn);
  void *a = arg_buf(env, argv[2], &an);
  void *c = arg_buf(env, argv[3], &cn);
  int *out = arg_buf(env, argv[5], &in);
  struct iovec iov = {d, dn};
  struct msghdr m;
  fill_msghdr(&m, &iov, a, an, c, cn);
  ssize_t r = recvmsg(arg_i32(env, argv[0]), &m, arg_i32(env, argv[4]));
  if (r < 0) return num(env, -errno);
  if (in >= 12) {
    out[0] = (int)m.msg_namelen;
    out[1] = (int)m.msg_controllen;
    out[2] = m.msg_flags;
  }
  return num(env, (double)r);
}

/* netGetsockopt(fd, level, name, buf) -> option length | -errno. */
static napi_value NetGetsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  size_t n;
  void *b = arg_buf(env, argv[3], &n);
  socklen_t len = (socklen_t)n;
  int r = getsockopt(arg_i32(env, argv[0]), arg_i32(env, argv[1]), arg_i32(env, argv[2]), b, &len);
  return num(env, r < 0 ? -errno : (double)len);
}

/* netSetsockopt(fd, level, name, buf) -> 0 | -errno. */
static napi_value NetSetsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  size_t n;
  void *b = arg_buf(env, argv[3], &n);
  return RET_ERRNO(setsockopt(arg_i32(env, argv[0]), arg_i32(env, argv[1]), arg_i32(env, argv[2]), b, (socklen_t)n));
}

/* netName(fd, peer, out Uint8Array(128)) -> address length | -errno. */
static napi_value NetName(napi_env env, napi_callback_info info) {
  ARGS(3);
  size_t n;
  void *b = arg_buf(env, argv[2], &n);
  socklen_t len = (socklen_t)n;
  int fd = arg_i32(env, argv[0]);
  int r = arg_i32(env, argv[1]) ? getpeername(fd, (struct sockaddr *)b, &len) : getsockname(fd, (struct sockaddr *)b, &len);
  return num(env, r < 0 ? -errno : (double)len);
}

/* netShutdown(fd, how) -> 0 | -errno. */
static napi_value NetShutdown(napi_env env, napi_callback_info info) {
  ARGS(2);
  return RET_ERRNO(shutdown(arg_i32(env, argv[0]), arg_i32(env, argv[1])));
}

/* netPoll(fd, events) -> revents | -errno, without waiting. */
static napi_value NetPoll(napi_env env, napi_callback_info info) {
  ARGS(2);
  struct pollfd p = {arg_i32(env, argv[0]), (short)arg_i32(env, argv[1]), 0};
  int r;
  /* Even with no timeout, poll fails with EINTR when nothing is ready and a
   * signal is pending (the run loop's wake signal): that is no answer. */
  do r = poll(&p, 1, 0);
  while (r < 0 && errno == EINTR);
  return num(env, r < 0 ? -errno : (double)(unsigned short)p.revents);
}

/* netIfconf(fd, out Uint8Array) -> bytes of struct ifreq written | -errno
 * (SIOCGIFCONF without a user pointer: the records land in out). */
static napi_value NetIfconf(napi_env env, napi_callback_info info) {
  ARGS(2);
  size_t n;
  void *b = arg_buf(env, argv[1], &n);
  struct ifconf ifc;
  ifc.ifc_len = (int)n;
  ifc.ifc_buf = b;
  if (ioctl(arg_i32(env, argv[0]), SIOCGIFCONF, &ifc) < 0) return num(env, -errno);
  return num(env, ifc.ifc_len);
}

/* ---- The notifier ---- */

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  int epfd;
} notifier_t;

static void on_ready(uv_poll_t *h, int status, int events) {
  notifier_t *n = (notifier_t *)h->data;
  napi_handle_scope scope;
  if (napi_open_handle_scope(n->env, &scope) != napi_ok) return;
  napi_value cb, recv;
  napi_get_reference_value(n->env, n->cb, &cb);
  napi_get_global(n->env, &recv);
  /* make_callback runs the microtasks the callback queues (woken tasks). */
  napi_make_callback(n->env, n->ctx, recv, cb, 0, NULL, NULL);
  napi_close_handle_scope(n->env, scope);
}

/* netNotifier(callback) -> epoll fd | -errno. callback() runs on Node's loop
 * whenever the set has events; it should drain them with netNotifierWait. */
static napi_value NetNotifier(napi_env env, napi_callback_info info) {
  ARGS(1);
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return num(env, -EINVAL);
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return num(env, -errno);
  notifier_t *n = calloc(1, sizeof(*n));
  if (!n) { close(epfd); return num(env, -ENOMEM); }
  n->env = env;
  n->epfd = epfd;
  napi_create_reference(env, argv[0], 1, &n->cb);
  napi_value name;
  napi_create_string_utf8(env, "tsvisor:hostinet", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &n->ctx);
  int e = uv_poll_init(loop, &n->poll, epfd);
  if (e != 0) { close(epfd); free(n); return num(env, e); }
  n->poll.data = n;
  e = uv_poll_start(&n->poll, UV_READABLE, on_ready);
  if (e != 0) { uv_close((uv_handle_t *)&n->poll, NULL); close(epfd); return num(env, e); }
  /* The sockets keep nothing alive by themselves: the Kernel's run loop does. */
  uv_unref((uv_handle_t *)&n->poll);
  return num(env, epfd);
}

/* netNotifierCtl(epfd, op, fd, events) -> 0 | -errno; events get EPOLLET added. */
static napi_value NetNotifierCtl(napi_env env, napi_callback_info info) {
  ARGS(4);
  int fd = arg_i32(env, argv[2]);
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = (uint32_t)arg_i32(env, argv[3]) | EPOLLET;
  ev.data.fd = fd;
  return RET_ERRNO(epoll_ctl(arg_i32(env, argv[0]), arg_i32(env, argv[1]), fd, &ev));
}

/* ---- The waker ---- */

/* drains counts netNotifierWait calls: the waker's sign of a main thread at work. */
static atomic_uint drains;
static int waker_epfd = -1;
static pid_t waker_target;
static int waker_sig;

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

static int readable(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN);
}

/* Grace before a wake-up: a main thread busy with syscalls drains by itself. */
#define WAKER_GRACE_US 200
#define WAKER_BACKOFF_MAX_US 100000

static void *waker_main(void *arg) {
  (void)arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  long backoff = WAKER_GRACE_US;
  for (;;) {
    if (!readable(waker_epfd, -1)) continue;
    unsigned seen = atomic_load(&drains);
    sleep_us(backoff);
    if (atomic_load(&drains) != seen || !readable(waker_epfd, 0)) {
      backoff = WAKER_GRACE_US;
      continue;
    }
    /* Events wait and nobody drained them: interrupt the main thread. If it
     * still does not drain (it waits for stops with no bound: no guest task
     * is blocked, so nobody waits for these events), back off. */
    syscall(SYS_tgkill, getpid(), waker_target, waker_sig);
    backoff = backoff * 2 > WAKER_BACKOFF_MAX_US ? WAKER_BACKOFF_MAX_US : backoff * 2;
  }
  return NULL;
}

/* netNotifierWaker(epfd, signo) -> 0 | -errno: starts the waker for epfd, which
 * sends signo to the calling thread (the tracer). Call once. */
static napi_value NetNotifierWaker(napi_env env, napi_callback_info info) {
  ARGS(2);
  if (waker_epfd >= 0) return num(env, -EBUSY);
  waker_epfd = arg_i32(env, argv[0]);
  waker_sig = arg_i32(env, argv[1]);
  waker_target = (pid_t)syscall(SYS_gettid);
  pthread_t th;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&at, 64 * 1024);
  int e = pthread_create(&th, &at, waker_main, NULL);
  pthread_attr_destroy(&at);
  if (e != 0) {
    waker_epfd = -1;
    return num(env, -e);
  }
  return num(env, 0);
}

/* netNotifierWait(epfd, out Int32Array(2n)) -> count | -errno, never waiting;
 * out holds (fd, events) pairs. */
static napi_value NetNotifierWait(napi_env env, napi_callback_info info) {
  ARGS(2);
  size_t n;
  int *out = arg_buf(env, argv[1], &n);
  int max = (int)(n / 8);
  if (max > 256) max = 256;
  if (max <= 0) return num(env, -EINVAL);
  struct epoll_event evs[256];
  int r = epoll_wait(arg_i32(env, argv[0]), evs, max, 0);
  atomic_fetch_add(&drains, 1);
  if (r < 0) return num(env, -errno);
  for (int i = 0; i < r; i++) {
    out[2 * i] = evs[i].data.fd;
    out[2 * i + 1] = (int)evs[i].events;
  }
  return num(env, r);
}

/* ---- Sockets in another network namespace ---- */

/* netSocketIn(netnsFd, domain, type, protocol) -> fd | -errno: a socket made
 * in the network namespace netnsFd names (the socket keeps that namespace for
 * life: binds, interface indexes and routes are resolved there). The calling
 * thread enters the namespace for the socket(2) call only and returns to its
 * own; the socket is close-on-exec and blocking unless type says otherwise.
 * runsc uses it (host root) to open AF_PACKET sockets on a container's
 * interfaces. */
static napi_value NetSocketIn(napi_env env, napi_callback_info info) {
  ARGS(4);
  int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (own < 0) return num(env, -errno);
  if (setns(arg_i32(env, argv[0]), CLONE_NEWNET) < 0) {
    int e = errno;
    close(own);
    return num(env, -e);
  }
  int fd = socket(arg_i32(env, argv[1]), arg_i32(env, argv[2]) | SOCK_CLOEXEC, arg_i32(env, argv[3]));
  int e = errno;
  if (setns(own, CLONE_NEWNET) < 0) {
    /* A thread left in the container's namespace would make every later
     * socket there: never go on. */
    perror("tsvisor: netSocketIn: cannot return to the original network namespace");
    abort();
  }
  close(own);
  return num(env, fd < 0 ? -e : fd);
}

void register_net(napi_env env, napi_value exports) {
  export_fn(env, exports, "netSocket", NetSocket);
  export_fn(env, exports, "netBind", NetBind);
  export_fn(env, exports, "netConnect", NetConnect);
  export_fn(env, exports, "netListen", NetListen);
  export_fn(env, exports, "netAccept", NetAccept);
  export_fn(env, exports, "netSendmsg", NetSendmsg);
  export_fn(env, exports, "netRecvmsg", NetRecvmsg);
  export_fn(env, exports, "netGetsockopt", NetGetsockopt);
  export_fn(env, exports, "netSetsockopt", NetSetsockopt);
  export_fn(env, exports, "netName", NetName);
  export_fn(env, exports, "netShutdown", NetShutdown);
  export_fn(env, exports, "netPoll", NetPoll);
  export_fn(env, exports, "netIfconf", NetIfconf);
  export_fn(env, exports, "netNotifier", NetNotifier);
  export_fn(env, exports, "netNotifierCtl", NetNotifierCtl);
  export_fn(env, exports, "netNotifierWait", NetNotifierWait);
  export_fn(env, exports, "netNotifierWaker", NetNotifierWaker);
  export_fn(env, exports, "netSocketIn", NetSocketIn);
}
