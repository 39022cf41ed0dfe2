/* Shared memory between processes: memfd_create(2) and System V shm
 * (shmget/shmat/shmdt/shmctl), as PostgreSQL and Wayland clients use them. */
#include "test.h"
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

static void test_memfd(void) {
  int fd = memfd_create("tsv-test", MFD_CLOEXEC);
  CHECK("memfd.create", fd >= 0);
  EXPECT_EQ("memfd.cloexec", fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  char link[64], target[256];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  target[n > 0 ? n : 0] = 0;
  EXPECT_STR("memfd.proc_link", target, "/memfd:tsv-test (deleted)");
  struct stat st;
  EXPECT_OK("memfd.fstat", fstat(fd, &st));
  CHECK("memfd.regular", S_ISREG(st.st_mode));
  EXPECT_EQ("memfd.empty", st.st_size, 0);
  EXPECT_OK("memfd.ftruncate", ftruncate(fd, 8192));
  char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK("memfd.mmap", p != MAP_FAILED);
  strcpy(p + 4096, "via mapping");
  char buf[16] = {0};
  EXPECT_EQ("memfd.pread_sees_mapping", pread(fd, buf, 11, 4096), 11);
  EXPECT_STR("memfd.coherent", buf, "via mapping");
  pid_t pid = fork();
  if (pid == 0) {
    strcpy(p, "from child");
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  EXPECT_STR("memfd.shared_with_child", p, "from child");
  munmap(p, 8192);
  close(fd);
  char longname[300];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  EXPECT_ERRNO("memfd.name_too_long", memfd_create(longname, 0), EINVAL);
  EXPECT_ERRNO("memfd.bad_flags", memfd_create("x", 0x1000), EINVAL);
}

static void test_sysv(void) {
  key_t key = 0x7e57000 + (getpid() & 0xfff);
  int id = shmget(key, 10000, IPC_CREAT | IPC_EXCL | 0600);
  CHECK("shmget.create", id >= 0);
  EXPECT_ERRNO("shmget.excl", shmget(key, 10000, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
  EXPECT_EQ("shmget.same_key", shmget(key, 100, 0600), id);
  EXPECT_ERRNO("shmget.too_big_for_existing", shmget(key, 20000, 0600), EINVAL);
  EXPECT_ERRNO("shmget.missing", shmget(key + 1, 100, 0600), ENOENT);
  EXPECT_ERRNO("shmget.zero_size", shmget(IPC_PRIVATE, 0, 0600), EINVAL);

  struct shmid_ds ds;
  EXPECT_OK("shmctl.stat", shmctl(id, IPC_STAT, &ds));
  EXPECT_EQ("shmctl.stat.size", ds.shm_segsz, 10000);
  EXPECT_EQ("shmctl.stat.mode", ds.shm_perm.mode & 0777, 0600);
  EXPECT_EQ("shmctl.stat.key", ds.shm_perm.__key, key);
  EXPECT_EQ("shmctl.stat.nattch0", ds.shm_nattch, 0);
  EXPECT_EQ("shmctl.stat.cpid", ds.shm_cpid, getpid());

  char *p = shmat(id, NULL, 0);
  CHECK("shmat", p != (void *)-1);
  EXPECT_OK("shmctl.stat2", shmctl(id, IPC_STAT, &ds));
  EXPECT_EQ("shmctl.stat.nattch1", ds.shm_nattch, 1);
  EXPECT_EQ("shm.zero_filled", p[9999], 0);
  strcpy(p, "parent");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    /* A fresh attach in the child sees the same pages as the inherited one. */
    char *q = shmat(id, NULL, SHM_RDONLY);
    int ok = q != (void *)-1 && strcmp(q, "parent") == 0;
    strcpy(p + 100, "child");
    shmdt(q);
    _exit(ok ? 0 : 1);
  }
  int status;
  waitpid(pid, &status, 0);
  EXPECT_EXIT("shm.child_attach", status, 0);
  EXPECT_STR("shm.child_wrote", p + 100, "child");

  char *fixed = shmat(id, p, SHM_REMAP);
  CHECK("shmat.remap_same_place", fixed == p);
  EXPECT_STR("shmat.remap_keeps_data", p + 100, "child");
  errno = 0;
  CHECK("shmat.overlap_without_remap", shmat(id, p, 0) == (void *)-1 && errno == EINVAL);
  errno = 0;
  CHECK("shmat.unaligned", shmat(id, p + 1, 0) == (void *)-1 && errno == EINVAL);

  struct shmid_ds set = ds;
  set.shm_perm.mode = 0640;
  EXPECT_OK("shmctl.set", shmctl(id, IPC_SET, &set));
  EXPECT_OK("shmctl.stat3", shmctl(id, IPC_STAT, &ds));
  EXPECT_EQ("shmctl.set.mode", ds.shm_perm.mode & 0777, 0640);

  EXPECT_OK("shmctl.rmid_while_attached", shmctl(id, IPC_RMID, NULL));
  EXPECT_ERRNO("shmget.after_rmid", shmget(key, 100, 0600), ENOENT);
  EXPECT_STR("shm.still_mapped", p, "parent");
  EXPECT_OK("shmdt", shmdt(p));
  EXPECT_ERRNO("shmdt.again", shmdt(p), EINVAL);
  EXPECT_ERRNO("shmctl.stat_after_last_detach", shmctl(id, IPC_STAT, &ds), EINVAL);
  EXPECT_ERRNO("shmctl.bad_id", shmctl(-1, IPC_STAT, &ds), EINVAL);

  int priv = shmget(IPC_PRIVATE, 4096, 0600);
  CHECK("shmget.private", priv >= 0 && priv != id);
  EXPECT_OK("shmctl.rmid_unattached", shmctl(priv, IPC_RMID, NULL));
  EXPECT_ERRNO("shmat.removed", (long)shmat(priv, NULL, 0), EINVAL);
}

int main(void) {
  test_memfd();
  test_sysv();
  TEST_DONE();
}
