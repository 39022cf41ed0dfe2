/* The tsvisor N-API addon: host primitives (ptrace, wait, cross-process memory,
 * fd passing). Its whole surface is typed in src/platform/ptrace/native.ts. */
#include "util.h"

void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static napi_value init(napi_env env, napi_value exports) {
  register_ptrace(env, exports);
  register_mem(env, exports);
  register_fd(env, exports);
  register_ns(env, exports);
  register_pty(env, exports);
  register_runtime(env, exports);
  register_confine(env, exports);
  register_net(env, exports);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
