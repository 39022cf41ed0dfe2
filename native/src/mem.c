/* Cross-process memory copies between the Sentry and a stub. A bad guest
 * address comes back as a short count or -EFAULT, never as a Sentry fault. */
#include "util.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
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

/* Copies between the Sentry's own mappings (the guest memory file, mapped
 * host files) run under a SIGBUS guard: a mapped file that shrank, or a
 * memory file page the host cannot supply, ends the copy with -EFAULT
 * instead of killing the Sentry. Only SIGBUS is caught; V8 owns SIGSEGV. */
static __thread sigjmp_buf *volatile copy_guard; /* volatile: the stores around memcpy must stay */
static struct sigaction prev_bus;
static int bus_installed;

static void on_bus(int sig, siginfo_t *si, void *uc) {
  if (copy_guard) siglongjmp(*copy_guard, 1);
  /* Not ours: put the previous disposition back; the fault repeats under it. */
  (void)si; (void)uc;
  sigaction(sig, &prev_bus, NULL);
}

static int install_bus_guard(void) {
  if (bus_installed) return 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_bus;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGBUS, &sa, &prev_bus) < 0) return -errno;
  bus_installed = 1;
  return 0;
}

static int64_t guarded_copy(void *dst, const void *src, size_t len) {
  sigjmp_buf jb;
  if (sigsetjmp(jb, 0)) {
    copy_guard = NULL;
    return -EFAULT;
  }
  copy_guard = &jb;
  memcpy(dst, src, len);
  copy_guard = NULL;
  return (int64_t)len;
}

/* memMap(fd, len) -> address | -errno: maps len bytes of fd read-write and
 * shared (the guest memory file), reserving no swap, and arms the guard. */
static napi_value MemMap(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t len = arg_i64(env, argv[1]);
  if (len <= 0) return num(env, -EINVAL);
  int r = install_bus_guard();
  if (r < 0) return num(env, r);
  void *p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, arg_i32(env, argv[0]), 0);
  if (p == MAP_FAILED) return num(env, -errno);
  return num(env, (double)(uintptr_t)p);
}

/* memRead(addr, buf, off, len) / memWrite(addr, buf, off, len) -> len |
 * -EFAULT: copy between a Sentry address (in a memMap/mapFile mapping,
 * checked by the caller) and buf[off, off+len). */
static napi_value mem_copy(napi_env env, napi_callback_info info, int write) {
  ARGS(4);
  size_t n;
  uint8_t *b = arg_buf(env, argv[1], &n);
  int64_t off = arg_i64(env, argv[2]), len = arg_i64(env, argv[3]);
  if (!b || off < 0 || len < 0 || (size_t)(off + len) > n) return num(env, -EINVAL);
  uint8_t *a = (uint8_t *)(uintptr_t)arg_i64(env, argv[0]);
  return num(env, (double)(write ? guarded_copy(a, b + off, (size_t)len) : guarded_copy(b + off, a, (size_t)len)));
}
static napi_value MemRead(napi_env env, napi_callback_info info) { return mem_copy(env, info, 0); }
static napi_value MemWrite(napi_env env, napi_callback_info info) { return mem_copy(env, info, 1); }

/* memCopy(dst, src, len) -> len | -EFAULT, between two Sentry addresses. */
static napi_value MemCopy(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t len = arg_i64(env, argv[2]);
  if (len < 0) return num(env, -EINVAL);
  void *d = (void *)(uintptr_t)arg_i64(env, argv[0]);
  const void *s = (const void *)(uintptr_t)arg_i64(env, argv[1]);
  return num(env, (double)guarded_copy(d, s, (size_t)len));
}

/* preadAt(fd, addr, len, pos) / pwriteAt(...) -> bytes | -errno: pread or
 * pwrite with a Sentry address as the buffer (the kernel does the access:
 * a bad page is a short count or EFAULT, never a signal). */
static napi_value PreadAt(napi_env env, napi_callback_info info) {
  ARGS(4);
  ssize_t r;
  do r = pread(arg_i32(env, argv[0]), (void *)(uintptr_t)arg_i64(env, argv[1]), (size_t)arg_i64(env, argv[2]), arg_i64(env, argv[3]));
  while (r < 0 && errno == EINTR);
  return RET_ERRNO(r);
}
static napi_value PwriteAt(napi_env env, napi_callback_info info) {
  ARGS(4);
  ssize_t r;
  do r = pwrite(arg_i32(env, argv[0]), (const void *)(uintptr_t)arg_i64(env, argv[1]), (size_t)arg_i64(env, argv[2]), arg_i64(env, argv[3]));
  while (r < 0 && errno == EINTR);
  return RET_ERRNO(r);
}

/* punchHole(fd, off, len) -> 0 | -errno: frees a range of a file (the
 * memory file's pages of released guest memory), keeping its size. */
static napi_value PunchHole(napi_env env, napi_callback_info info) {
  ARGS(3);
  return RET_ERRNO(fallocate(arg_i32(env, argv[0]), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                             arg_i64(env, argv[1]), arg_i64(env, argv[2])));
}

/* vmReadTo(pid, addr, local, len) -> bytes | -errno: process_vm_readv of
 * pid's addr into the Sentry's own address local (a memMap mapping). */
static napi_value VmReadTo(napi_env env, napi_callback_info info) {
  ARGS(4);
  int64_t len = arg_i64(env, argv[3]);
  if (len < 0) return num(env, -EINVAL);
  struct iovec l = {(void *)(uintptr_t)arg_i64(env, argv[2]), (size_t)len};
  struct iovec r = {(void *)(uintptr_t)arg_i64(env, argv[1]), (size_t)len};
  return RET_ERRNO(process_vm_readv(arg_i32(env, argv[0]), &l, 1, &r, 1, 0));
}

void register_mem(napi_env env, napi_value exports) {
  export_fn(env, exports, "vmReadTo", VmReadTo);
  export_fn(env, exports, "memMap", MemMap);
  export_fn(env, exports, "memRead", MemRead);
  export_fn(env, exports, "memWrite", MemWrite);
  export_fn(env, exports, "memCopy", MemCopy);
  export_fn(env, exports, "preadAt", PreadAt);
  export_fn(env, exports, "pwriteAt", PwriteAt);
  export_fn(env, exports, "punchHole", PunchHole);
  export_fn(env, exports, "mapFile", MapFile);
  export_fn(env, exports, "unmapFile", UnmapFile);
  export_fn(env, exports, "vmWriteFrom", VmWriteFrom);
  export_fn(env, exports, "vmRead", VmRead);
  export_fn(env, exports, "vmWrite", VmWrite);
  export_fn(env, exports, "preadToVm", PreadToVm);
}
