/* Cross-process memory copies between the Sentry and a stub. A bad guest
 * address comes back as a short count or -EFAULT, never as a Sentry fault. */
#include "util.h"
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

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

/* vm_write_all writes buf to pid's addr; on a failure of the whole range it
 * retries page by page, so a fault part-way still reports the bytes before it. */
static ssize_t vm_write_all(int pid, uint64_t addr, uint8_t *buf, size_t len) {
  struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
  ssize_t r = process_vm_writev(pid, &local, 1, &remote, 1, 0);
  if (r >= 0 || len <= 4096 - (addr & 4095)) return r < 0 ? -errno : r;
  size_t done = 0;
  while (done < len) {
    size_t n = 4096 - ((addr + done) & 4095);
    if (n > len - done) n = len - done;
    struct iovec l = {buf + done, n}, rm = {(void *)(uintptr_t)(addr + done), n};
    ssize_t w = process_vm_writev(pid, &l, 1, &rm, 1, 0);
    if (w <= 0) break;
    done += (size_t)w;
    if ((size_t)w < n) break;
  }
  return done ? (ssize_t)done : -EFAULT;
}

/* copy_span preads [pos, pos+len) of fd into buf and writes what it read to
 * pid's addr. Returns the bytes that reached the guest, or -errno when none did. */
static ssize_t copy_span(int fd, int64_t pos, size_t len, int pid, uint64_t addr, uint8_t *buf) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = pread(fd, buf + got, len - got, pos + (int64_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      if (got == 0) return -errno;
      break;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  if (got == 0) return 0;
  return vm_write_all(pid, addr, buf, got);
}

/* preadToVm(fd, pos, len, pid, addr, scratch) -> bytes | -errno: reads up to
 * len bytes of host fd at pos into guest memory at addr of pid, through
 * scratch (at least len bytes), in one crossing from JS. As read(2): the
 * count that reached the guest, short at end of file or at a bad guest page
 * (the bytes past it stay unread: the caller's file position says so). */
static napi_value PreadToVm(napi_env env, napi_callback_info info) {
  ARGS(6);
  size_t n;
  uint8_t *b = arg_buf(env, argv[5], &n);
  int fd = arg_i32(env, argv[0]), pid = arg_i32(env, argv[3]);
  int64_t pos = arg_i64(env, argv[1]), len = arg_i64(env, argv[2]);
  uint64_t addr = (uint64_t)arg_i64(env, argv[4]);
  if (pos < 0 || len < 0 || (size_t)len > n) return num(env, -EINVAL);
  return num(env, (double)copy_span(fd, pos, (size_t)len, pid, addr, b));
}

/* mapFile(fd, len) -> address | -errno: maps the first len bytes of host fd
 * read-only and shared into the Sentry, so reads of it can be copied to a
 * guest straight from the page cache (vmWriteFrom) with no pread copy. */
static napi_value MapFile(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t len = arg_i64(env, argv[1]);
  if (len <= 0) return num(env, -EINVAL);
  void *p = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, arg_i32(env, argv[0]), 0);
  if (p == MAP_FAILED) return num(env, -errno);
  return num(env, (double)(uintptr_t)p);
}

/* unmapFile(address, len) -> 0 | -errno, for a mapping mapFile made. */
static napi_value UnmapFile(napi_env env, napi_callback_info info) {
  ARGS(2);
  return RET_ERRNO(munmap((void *)(uintptr_t)arg_i64(env, argv[0]), (size_t)arg_i64(env, argv[1])));
}

/* vmWriteFrom(pid, addr, local, len) -> bytes | -errno: process_vm_writev
 * from the Sentry's own address local (inside a mapFile mapping) to pid's
 * addr. A fault on either side ends the copy short (a truncated file reads
 * as a fault here, never as SIGBUS: the kernel does the access). */
static napi_value VmWriteFrom(napi_env env, napi_callback_info info) {
  ARGS(4);
  uint8_t *local = (uint8_t *)(uintptr_t)arg_i64(env, argv[2]);
  int64_t len = arg_i64(env, argv[3]);
  if (len < 0) return num(env, -EINVAL);
  return num(env, (double)vm_write_all(arg_i32(env, argv[0]), (uint64_t)arg_i64(env, argv[1]), local, (size_t)len));
}

void register_mem(napi_env env, napi_value exports) {
  export_fn(env, exports, "mapFile", MapFile);
  export_fn(env, exports, "unmapFile", UnmapFile);
  export_fn(env, exports, "vmWriteFrom", VmWriteFrom);
  export_fn(env, exports, "vmRead", VmRead);
  export_fn(env, exports, "vmWrite", VmWrite);
  export_fn(env, exports, "preadToVm", PreadToVm);
}
