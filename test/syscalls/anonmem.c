/*
 * anonmem: private anonymous memory as the kernel sees it and as a process
 * sees it: data the kernel copies in (read) and out (write) of buffers,
 * copy-on-write across fork (and a fork of a fork), MADV_DONTNEED zeroing,
 * mremap growth and moves (MREMAP_DONTUNMAP is EINVAL on the 6.18 host
 * this was written on, so it is not compared), MADV_WIPEONFORK/DONTFORK, mprotect, brk, and
 * threads writing what the kernel then reads.
 */
#include "test.h"
#include <pthread.h>
#include <sys/mman.h>

#define MIB (1 << 20)
static const long PG = 4096;

static int filled(const unsigned char *p, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return 0;
  return 1;
}

/* tmpfile_with makes an unlinked file of n bytes, byte i = (i * 7 + i / 4096) & 255. */
static int tmpfile_with(size_t n) {
  char path[] = "/tmp/anonmemXXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  unsigned char *b = malloc(n);
  for (size_t i = 0; i < n; i++) b[i] = (unsigned char)((i * 7 + i / 4096) & 255);
  if (write(fd, b, n) != (ssize_t)n) return -1;
  free(b);
  return fd;
}

static int matches_file(const unsigned char *p, size_t off, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != (unsigned char)(((off + i) * 7 + (off + i) / 4096) & 255)) return 0;
  return 1;
}

static void *writer(void *arg) {
  memset(arg, 'T', 8192);
  return NULL;
}

int main(void) {
  int fd = tmpfile_with(4 * MIB);

  /* Reads into heap, mmap'd, stack and brk memory. */
  unsigned char *heap = malloc(2 * MIB);
  CHECK("read 2MiB into malloc", pread(fd, heap, 2 * MIB, 0) == 2 * MIB && matches_file(heap, 0, 2 * MIB));
  unsigned char stackbuf[16384];
  CHECK("read into stack", pread(fd, stackbuf, sizeof stackbuf, 5000) == sizeof stackbuf &&
                               matches_file(stackbuf, 5000, sizeof stackbuf));
  unsigned char *brkp = sbrk(3 * MIB);
  CHECK("sbrk", brkp != (void *)-1);
  CHECK("read into brk", pread(fd, brkp + 100, 3 * MIB - 200, 1) == 3 * MIB - 200 && matches_file(brkp + 100, 1, 3 * MIB - 200));
  unsigned char *more = sbrk(MIB);
  CHECK("brk grows contiguous", more == brkp + 3 * MIB);
  CHECK("read across brk growth", pread(fd, brkp + 3 * MIB - PG, 2 * PG, 0) == 2 * PG && matches_file(brkp + 3 * MIB - PG, 0, 2 * PG));
  sbrk(-4 * MIB);

  /* Two adjacent mappings made separately, one read across both. */
  unsigned char *two = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(two + 2 * PG, 2 * PG);
  CHECK("adjacent map", mmap(two + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == two + 2 * PG);
  CHECK("read across two mappings", pread(fd, two + 100, 4 * PG - 200, 0) == 4 * PG - 200 && matches_file(two + 100, 0, 4 * PG - 200));

  /* A read running into a PROT_NONE page: short, as far as it could go. */
  mprotect(two + 2 * PG, 2 * PG, PROT_NONE);
  EXPECT_EQ("read into prot none stops short", pread(fd, two + PG, 2 * PG, 0), PG);
  errno = 0;
  EXPECT_EQ("read into prot none fails", pread(fd, two + 2 * PG, PG, 0), -1);
  EXPECT_EQ("  with EFAULT", errno, EFAULT);
  mprotect(two + 2 * PG, 2 * PG, PROT_READ);
  errno = 0;
  EXPECT_EQ("read into read-only fails", pread(fd, two + 2 * PG, PG, 0), -1);
  EXPECT_EQ("  with EFAULT", errno, EFAULT);
  int pp[2];
  pipe(pp);
  memset(two, 'r', PG);
  mprotect(two, PG, PROT_READ);
  CHECK("write from read-only memory", write(pp[1], two, 10) == 10);
  char tenr[10];
  CHECK("  arrives", read(pp[0], tenr, 10) == 10 && filled((unsigned char *)tenr, 10, 'r'));

  /* Fork: copy-on-write in both directions, also for kernel writes. */
  unsigned char *buf = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(buf, 'A', 64 * PG);
  int go[2], back[2];
  pipe(go);
  pipe(back);
  pid_t c = fork();
  if (c == 0) {
    char x;
    int ok = filled(buf, 64 * PG, 'A');
    memset(buf, 'B', PG);
    ok &= pread(fd, buf + PG, PG, 0) == PG && matches_file(buf + PG, 0, PG);
    write(back[1], "x", 1);
    read(go[0], &x, 1); /* parent has written 'C' everywhere by now */
    ok &= filled(buf, PG, 'B') && matches_file(buf + PG, 0, PG) && filled(buf + 2 * PG, 62 * PG, 'A');
    /* A fork of the fork. */
    pid_t g = fork();
    if (g == 0) {
      int gok = filled(buf, PG, 'B') && filled(buf + 2 * PG, 62 * PG, 'A');
      memset(buf, 'G', 64 * PG);
      _exit(gok ? 0 : 1);
    }
    int st;
    waitpid(g, &st, 0);
    ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0 && filled(buf, PG, 'B');
    /* DONTNEED in the child: zeroes, the parent keeps its data. */
    madvise(buf, 64 * PG, MADV_DONTNEED);
    ok &= filled(buf, 64 * PG, 0);
    _exit(ok ? 0 : 1);
  }
  char x;
  read(back[0], &x, 1);
  CHECK("parent unchanged by child", filled(buf, 64 * PG, 'A'));
  memset(buf, 'C', 64 * PG);
  CHECK("kernel read into parent after fork", pread(fd, buf + 3 * PG, PG, PG) == PG && matches_file(buf + 3 * PG, PG, PG));
  write(go[1], "x", 1);
  int st;
  waitpid(c, &st, 0);
  CHECK("child saw its own copy", WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK("parent keeps its writes", filled(buf, 3 * PG, 'C') && filled(buf + 4 * PG, 60 * PG, 'C'));
  madvise(buf, 64 * PG, MADV_DONTNEED);
  CHECK("DONTNEED after fork zeroes", filled(buf, 64 * PG, 0));
  memset(buf, 'D', 64 * PG);
  CHECK("write after DONTNEED", filled(buf, 64 * PG, 'D'));
  CHECK("kernel write from it", write(pp[1], buf, 100) == 100);
  char hundred[100];
  CHECK("  arrives", read(pp[0], hundred, 100) == 100 && filled((unsigned char *)hundred, 100, 'D'));

  /* DONTNEED without a fork. */
  unsigned char *z = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(z, 'Z', 16 * PG);
  madvise(z + 4 * PG, 4 * PG, MADV_DONTNEED);
  CHECK("DONTNEED zeroes its range only", filled(z, 4 * PG, 'Z') && filled(z + 4 * PG, 4 * PG, 0) && filled(z + 8 * PG, 8 * PG, 'Z'));

  /* mremap: grow in place or moved, shrink, DONTUNMAP. */
  unsigned char *r = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(r, 'M', 4 * PG);
  unsigned char *r2 = mremap(r, 4 * PG, 64 * PG, MREMAP_MAYMOVE);
  CHECK("mremap grow keeps data", r2 != MAP_FAILED && filled(r2, 4 * PG, 'M') && filled(r2 + 4 * PG, 60 * PG, 0));
  CHECK("kernel read into grown part", pread(fd, r2 + 2 * PG, 8 * PG, 0) == 8 * PG && matches_file(r2 + 2 * PG, 0, 8 * PG));
  unsigned char *hole = mmap(NULL, 128 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned char *r3 = mremap(r2, 64 * PG, 64 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, hole + 32 * PG);
  CHECK("mremap fixed move keeps data", r3 == hole + 32 * PG && filled(r3, 2 * PG, 'M') && matches_file(r3 + 2 * PG, 0, 8 * PG));
  CHECK("kernel write from moved", write(pp[1], r3, 100) == 100 && read(pp[0], hundred, 100) == 100 && filled((unsigned char *)hundred, 100, 'M'));
  unsigned char *r4 = mremap(r3, 64 * PG, 8 * PG, 0);
  CHECK("mremap shrink", r4 == r3 && filled(r4, 2 * PG, 'M'));

  /* WIPEONFORK and DONTFORK. */
  unsigned char *w = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned char *d = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(w, 'W', 4 * PG);
  memset(d, 'F', 4 * PG);
  CHECK("MADV_WIPEONFORK", madvise(w, 4 * PG, MADV_WIPEONFORK) == 0);
  CHECK("MADV_DONTFORK", madvise(d, 4 * PG, MADV_DONTFORK) == 0);
  c = fork();
  if (c == 0) {
    int ok = filled(w, 4 * PG, 0);
    ok &= write(pp[1], d, 1) == -1 && errno == EFAULT;
    w[0] = 'x';
    _exit(ok ? 0 : 1);
  }
  waitpid(c, &st, 0);
  CHECK("child: wiped, and no DONTFORK memory", WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK("parent keeps both", filled(w, 4 * PG, 'W') && filled(d, 4 * PG, 'F'));

  /* A thread's writes are what the kernel reads. */
  unsigned char *tb = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  pthread_t th;
  pthread_create(&th, NULL, writer, tb);
  pthread_join(th, NULL);
  CHECK("thread write seen by kernel", write(pp[1], tb + PG - 50, 100) == 100 && read(pp[0], hundred, 100) == 100 &&
                                           filled((unsigned char *)hundred, 100, 'T'));

  /* Unmapped and mapped again: zeroes. */
  unsigned char *u = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(u, 'U', 8 * PG);
  munmap(u, 8 * PG);
  unsigned char *u2 = mmap(u, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  CHECK("remapped memory is zero", u2 == u && filled(u2, 8 * PG, 0));
  memset(u2, 'V', 8 * PG);
  unsigned char *u3 = mmap(u2 + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  CHECK("MAP_FIXED over memory is zero", u3 == u2 + 2 * PG && filled(u3, 2 * PG, 0) && filled(u2, 2 * PG, 'V') && filled(u2 + 4 * PG, 4 * PG, 'V'));

  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
