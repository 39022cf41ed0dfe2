/* Pseudo-terminal primitive for the OCI runtime (process.terminal): a new
 * master/slave pair, both close-on-exec and neither becoming the caller's
 * controlling terminal. Which process gets which end is decided in TypeScript. */
#include "util.h"
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* openpty(out Int32Array(2)) -> 0 | -errno; out = [master, slave]. */
static napi_value Openpty(napi_env env, napi_callback_info info) {
  ARGS(1);
  size_t on = 0;
  int *out = arg_buf(env, argv[0], &on);
  if (!out || on < 2 * sizeof(int)) return num(env, -EINVAL);
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return num(env, -errno);
  char name[128];
  int err = 0;
  if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0) err = errno;
  int slave = -1;
  if (!err && (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) err = errno;
  if (err) {
    close(master);
    return num(env, -(err ? err : EIO));
  }
  out[0] = master;
  out[1] = slave;
  return num(env, 0);
}

void register_pty(napi_env env, napi_value exports) {
  export_fn(env, exports, "openpty", Openpty);
}
