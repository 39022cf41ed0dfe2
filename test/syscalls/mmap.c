/* mmap.c: anonymous and file mappings, sharing across fork, MAP_FIXED,
 * munmap/mprotect faults (seen as SIGSEGV in a child), mremap, brk. */
#include "test.h"
#include <sys/mman.h>

static long pg;
static volatile char *fault_addr;

static int touch_read(void *arg) {
  (void)arg;
  return fault_addr[0] == 123 ? 50 : 51;
}
static int touch_write(void *arg) {
  (void)arg;
  fault_addr[0] = 1;
  return 52;
}

int main(void) {
  pg = sysconf(_SC_PAGESIZE);
  EXPECT_EQ("pagesize", pg, 4096);
  int st;

  /* Anonymous private memory is zeroed and writable. */
  char *a = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("anon.map", a != MAP_FAILED);
  CHECK("anon.page_aligned", ((uintptr_t)a & (pg - 1)) == 0);
  CHECK("anon.zeroed", a[0] == 0 && a[pg] == 0 && a[3 * pg - 1] == 0);
  memset(a, 7, 3 * pg);
  CHECK("anon.rw", a[2 * pg + 5] == 7);

  /* Private mappings are copy-on-write across fork, shared ones are not. */
  char *sh = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK("shared_anon.map", sh != MAP_FAILED);
  sh[0] = 1;
  a[0] = 1;
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    sh[0] = 42;
    a[0] = 42;
    _exit(a[0] == 42 ? 0 : 1);
  }
  waitpid(c, &st, 0);
  EXPECT_EXIT("fork.child", st, 0);
  EXPECT_EQ("fork.shared_anon_visible", sh[0], 42);
  EXPECT_EQ("fork.private_anon_cow", a[0], 1);

  /* MADV_DONTNEED on private anonymous memory drops it to zeros. */
  EXPECT_OK("madvise.dontneed", madvise(a, pg, MADV_DONTNEED));
  EXPECT_EQ("madvise.dontneed.zero", a[0], 0);

  /* munmap, then touching the page kills with SIGSEGV. */
  EXPECT_OK("munmap.middle", munmap(a + pg, pg));
  fault_addr = a + pg;
  EXPECT_KILLED("munmap.access_segv", t_in_child(touch_read, NULL), SIGSEGV);
  CHECK("munmap.neighbours_intact", a[2 * pg] == 7);
  EXPECT_ERRNO("munmap.unaligned", munmap(a + 1, pg), EINVAL);
  EXPECT_ERRNO("munmap.zero_len", munmap(a, 0), EINVAL);
  EXPECT_OK("munmap.already_unmapped", munmap(a + pg, pg));

  /* mprotect */
  char *m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  m[0] = 123;
  EXPECT_OK("mprotect.ro", mprotect(m, pg, PROT_READ));
  fault_addr = m;
  EXPECT_EXIT("mprotect.ro.read_ok", t_in_child(touch_read, NULL), 50);
  EXPECT_KILLED("mprotect.ro.write_segv", t_in_child(touch_write, NULL), SIGSEGV);
  EXPECT_OK("mprotect.none", mprotect(m, pg, PROT_NONE));
  EXPECT_KILLED("mprotect.none.read_segv", t_in_child(touch_read, NULL), SIGSEGV);
  EXPECT_OK("mprotect.rw", mprotect(m, pg, PROT_READ | PROT_WRITE));
  m[0] = 124;
  EXPECT_EQ("mprotect.rw.write", m[0], 124);
  EXPECT_ERRNO("mprotect.unaligned", mprotect(m + 1, pg, PROT_READ), EINVAL);
  char *hole = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(hole + pg, pg);
  EXPECT_ERRNO("mprotect.unmapped", mprotect(hole + pg, pg, PROT_READ), ENOMEM);
  EXPECT_ERRNO("mprotect.spans_hole", mprotect(hole, 3 * pg, PROT_READ), ENOMEM);
  munmap(hole, 3 * pg);
  /* Syscalls reading through a PROT_NONE page fail with EFAULT. */
  mprotect(m, pg, PROT_NONE);
  EXPECT_ERRNO("write.from_prot_none", write(1, m, 1), EFAULT);
  munmap(m, pg);

  /* MAP_FIXED replaces part of an existing mapping. */
  char *r = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(r, 9, 4 * pg);
  char *f = mmap(r + pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  CHECK("map_fixed.address", f == r + pg);
  CHECK("map_fixed.zeroed", f[0] == 0 && f[pg - 1] == 0);
  CHECK("map_fixed.neighbours", r[0] == 9 && r[2 * pg] == 9);
  errno = 0;
  CHECK("map_fixed_noreplace.eexist",
        mmap(r, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED &&
            errno == EEXIST);
  errno = 0;
  CHECK("map_fixed.unaligned",
        mmap(r + 1, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED &&
            errno == EINVAL);
  munmap(r, 4 * pg);

  /* Argument errors */
  errno = 0;
  CHECK("mmap.zero_len", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL);
  errno = 0;
  CHECK("mmap.no_type", mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL);
  errno = 0;
  CHECK("mmap.bad_fd", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 999, 0) == MAP_FAILED && errno == EBADF);
  errno = 0;
  CHECK("mmap.huge", mmap(NULL, (size_t)1 << 60, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED &&
                          errno == ENOMEM);

  /* A large sparse reservation only costs what is touched. */
  size_t big = (size_t)1 << 30;
  char *b = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  CHECK("big.map", b != MAP_FAILED);
  b[0] = 1;
  b[big / 2] = 2;
  b[big - 1] = 3;
  CHECK("big.touch", b[0] + b[big / 2] + b[big - 1] == 6);
  munmap(b, big);

  /* File-backed mappings */
  char *dir = t_tmpdir("mmap");
  char path[300];
  snprintf(path, sizeof path, "%s/f", dir);
  char *content = malloc(2 * pg);
  for (long i = 0; i < 2 * pg; i++) content[i] = (char)('a' + i % 26);
  t_write_file(path, content, 2 * pg, 0644);
  int fd = open(path, O_RDWR);
  char *fp = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK("file_private.map", fp != MAP_FAILED);
  CHECK("file_private.content", memcmp(fp, content, 2 * pg) == 0);
  fp[0] = 'Z';
  char c1 = 0;
  pread(fd, &c1, 1, 0);
  EXPECT_EQ("file_private.write_not_in_file", c1, 'a');
  munmap(fp, 2 * pg);
  char *fo = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, pg);
  CHECK("file_private.offset", fo != MAP_FAILED && fo[0] == content[pg]);
  munmap(fo, pg);
  errno = 0;
  CHECK("file.unaligned_offset", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 1) == MAP_FAILED && errno == EINVAL);

  char *fs = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK("file_shared.map", fs != MAP_FAILED);
  fs[1] = 'Y';
  EXPECT_OK("file_shared.msync", msync(fs, 2 * pg, MS_SYNC));
  pread(fd, &c1, 1, 1);
  EXPECT_EQ("file_shared.write_reaches_file", c1, 'Y');
  pwrite(fd, "X", 1, 2);
  EXPECT_EQ("file_shared.file_write_visible", fs[2], 'X');
  munmap(fs, 2 * pg);

  /* Touching a mapped page wholly beyond EOF raises SIGBUS. */
  ftruncate(fd, pg / 2);
  char *fb = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, 0);
  CHECK("beyond_eof.map", fb != MAP_FAILED);
  EXPECT_EQ("beyond_eof.tail_zero", fb[pg - 1], 0);
  fault_addr = fb + pg;
  EXPECT_KILLED("beyond_eof.sigbus", t_in_child(touch_read, NULL), SIGBUS);
  munmap(fb, 2 * pg);
  close(fd);
  int ro = open(path, O_RDONLY);
  errno = 0;
  CHECK("file_shared_write.on_rdonly_fd",
        mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED && errno == EACCES);
  close(ro);
  int wo = open(path, O_WRONLY);
  errno = 0;
  CHECK("file_map.on_wronly_fd", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, wo, 0) == MAP_FAILED && errno == EACCES);
  close(wo);
  /* The mapping outlives the descriptor. */
  fd = open(path, O_RDONLY);
  char *keep = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  CHECK("file_map.survives_close", keep != MAP_FAILED && keep[0] == 'a');
  munmap(keep, pg);
  free(content);
  t_rmtree(dir);

  /* mremap: grow (moving if needed), shrink, move to a fixed address. */
  char *g = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(g, 5, pg);
  char *g2 = mremap(g, pg, 16 * pg, MREMAP_MAYMOVE);
  CHECK("mremap.grow", g2 != MAP_FAILED);
  CHECK("mremap.grow.keeps_data", g2[0] == 5 && g2[pg - 1] == 5);
  CHECK("mremap.grow.new_zeroed", g2[15 * pg] == 0);
  g2[15 * pg] = 6;
  char *g3 = mremap(g2, 16 * pg, 2 * pg, 0);
  CHECK("mremap.shrink_in_place", g3 == g2);
  fault_addr = g2 + 2 * pg;
  EXPECT_KILLED("mremap.shrink.tail_unmapped", t_in_child(touch_read, NULL), SIGSEGV);
  char *dst = mmap(NULL, 8 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *g4 = mremap(g3, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 4 * pg);
  CHECK("mremap.fixed.address", g4 == dst + 4 * pg);
  CHECK("mremap.fixed.data", g4[0] == 5);
  fault_addr = g3;
  EXPECT_KILLED("mremap.fixed.old_unmapped", t_in_child(touch_read, NULL), SIGSEGV);
  errno = 0;
  CHECK("mremap.unaligned", mremap(g4 + 1, pg, 2 * pg, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL);
  munmap(dst, 8 * pg);

  /* brk */
  char *cur = sbrk(0);
  CHECK("brk.current", cur != (char *)-1);
  EXPECT_OK("brk.grow", brk(cur + (1 << 20)));
  EXPECT_EQ("brk.grown", (char *)sbrk(0) - cur, 1 << 20);
  memset(cur, 3, 1 << 20);
  CHECK("brk.memory_usable", cur[(1 << 20) - 1] == 3);
  EXPECT_OK("brk.shrink", brk(cur + 4096));
  EXPECT_EQ("brk.shrunk", (char *)sbrk(0) - cur, 4096);
  fault_addr = cur + (1 << 19);
  EXPECT_KILLED("brk.shrunk_memory_gone", t_in_child(touch_read, NULL), SIGSEGV);
  brk(cur);

  /* malloc of many sizes (glibc switches between brk and mmap). */
  int ok = 1;
  for (size_t sz = 1; sz <= (16u << 20); sz *= 4) {
    char *x = malloc(sz);
    if (!x) { ok = 0; break; }
    memset(x, 1, sz);
    free(x);
  }
  CHECK("malloc.sizes", ok);

  TEST_DONE();
}
