/* Cross-process memory copies between the Sentry and a stub. A bad guest
 * address comes back as a short count or -EFAULT, never as a Sentry fault. */
#include "util.h"
#include <unistd.h>
#include <sys/uio.h>

/* vmRead(pid, addr, buf, off, len) / vmWrite(...) -> bytes | -errno. */
static napi_value vm_copy(napi_env env, napi_callback_info info, int write) {
  ARGS(5);
  size_t n;
  uint8_t *b = arg_buf(env, argv[2], &n);
  int64_t off = arg_i64(env, argv[3]), len = arg_i64(env, argv[4]);
  if (off < 0 || len < 0 || (size_t)(off + len) > n) return num(env, -EINVAL);
  struct iovec local = {b + off, (size_t)len};
  struct iovec remote = {(void *)(uintptr_t)arg_i64(env, argv[1]), (size_t)len};
  ssize_t r = write ? process_vm_writev(arg_i32(env, argv[0]), &local, 1, &remote, 1, 0)
                    : process_vm_readv(arg_i32(env, argv[0]), &local, 1, &remote, 1, 0);
  return RET_ERRNO(r);
}
static napi_value VmRead(napi_env env, napi_callback_info info) { return vm_copy(env, info, 0); }
static napi_value VmWrite(napi_env env, napi_callback_info info) { return vm_copy(env, info, 1); }

void register_mem(napi_env env, napi_value exports) {
  export_fn(env, exports, "vmRead", VmRead);
  export_fn(env, exports, "vmWrite", VmWrite);
}
