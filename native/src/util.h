/* Helpers shared by the addon's C files: argument decoding and result values.
 * Every exported function returns a number: >= 0 on success, -errno on failure.
 * No Linux semantics live here; see docs/ARCHITECTURE.md. */
#ifndef TSVISOR_UTIL_H
#define TSVISOR_UTIL_H
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <errno.h>

#define MAXARGS 10
#define ARGS(n)                                        \
  size_t argc = n;                                     \
  napi_value argv[MAXARGS];                            \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL)

static inline int64_t arg_i64(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return (int64_t)d;
}
static inline int32_t arg_i32(napi_env env, napi_value v) {
  int32_t i = 0;
  napi_get_value_int32(env, v, &i);
  return i;
}
/* arg_buf returns the bytes of a TypedArray (or Buffer); *len gets its byte length. */
static inline void *arg_buf(napi_env env, napi_value v, size_t *len) {
  napi_typedarray_type t;
  size_t n = 0, off = 0;
  void *data = NULL;
  napi_value ab;
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta) { *len = 0; return NULL; }
  napi_get_typedarray_info(env, v, &t, &n, &data, &ab, &off);
  size_t esz = 1;
  switch (t) {
    case napi_int16_array: case napi_uint16_array: esz = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: esz = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: esz = 8; break;
    default: esz = 1;
  }
  *len = n * esz;
  return data;
}
static inline napi_value num(napi_env env, double d) {
  napi_value r;
  napi_create_double(env, d, &r);
  return r;
}
/* RET_ERRNO evaluates its argument once and returns it, or -errno if negative. */
#define RET_ERRNO(expr) ({ long _r = (long)(expr); num(env, _r < 0 ? -(double)errno : (double)_r); })

void register_ptrace(napi_env env, napi_value exports);
void register_mem(napi_env env, napi_value exports);
void register_fd(napi_env env, napi_value exports);
void register_ns(napi_env env, napi_value exports);
void register_pty(napi_env env, napi_value exports);
void register_runtime(napi_env env, napi_value exports);
void register_confine(napi_env env, napi_value exports);
void register_net(napi_env env, napi_value exports);
void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb);
#endif
