/* System V semaphores: semget/semop/semtimedop/semctl, SEM_UNDO at exit,
 * blocking in arrival order, timeouts and signals. */
#include "test.h"
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>

union semun {
  int val;
  struct semid_ds *buf;
  unsigned short *array;
  struct seminfo *__buf;
};

static int sop(int id, unsigned short num, short op, short flg) {
  struct sembuf b = {num, op, flg};
  return semop(id, &b, 1);
}

static void on_alarm(int s) { (void)s; }

static void test_basic(void) {
  key_t key = 0x5e3a000 + (getpid() & 0xfff);
  int id = semget(key, 3, IPC_CREAT | IPC_EXCL | 0600);
  CHECK("semget.create", id >= 0);
  EXPECT_ERRNO("semget.excl", semget(key, 3, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
  EXPECT_EQ("semget.same_key", semget(key, 2, 0600), id);
  EXPECT_ERRNO("semget.more_sems", semget(key, 4, 0600), EINVAL);
  EXPECT_ERRNO("semget.missing", semget(key + 1, 1, 0600), ENOENT);
  EXPECT_ERRNO("semget.zero", semget(IPC_PRIVATE, 0, 0600), EINVAL);
  EXPECT_ERRNO("semget.too_many", semget(IPC_PRIVATE, 32001, 0600), EINVAL);
  EXPECT_ERRNO("semget.negative", semget(IPC_PRIVATE, -1, 0600), EINVAL);

  struct semid_ds ds;
  union semun u = {.buf = &ds};
  EXPECT_OK("semctl.stat", semctl(id, 0, IPC_STAT, u));
  EXPECT_EQ("semctl.stat.nsems", ds.sem_nsems, 3);
  EXPECT_EQ("semctl.stat.mode", ds.sem_perm.mode & 0777, 0600);
  EXPECT_EQ("semctl.stat.key", ds.sem_perm.__key, key);
  EXPECT_EQ("semctl.stat.otime0", ds.sem_otime, 0);
  CHECK("semctl.stat.ctime", ds.sem_ctime > 0);

  EXPECT_EQ("semctl.getval0", semctl(id, 1, GETVAL), 0);
  EXPECT_OK("semctl.setval", semctl(id, 1, SETVAL, (union semun){.val = 5}));
  EXPECT_EQ("semctl.getval", semctl(id, 1, GETVAL), 5);
  EXPECT_EQ("semctl.getpid", semctl(id, 1, GETPID), getpid());
  EXPECT_ERRNO("semctl.setval_range", semctl(id, 1, SETVAL, (union semun){.val = 32768}), ERANGE);
  EXPECT_ERRNO("semctl.setval_neg", semctl(id, 1, SETVAL, (union semun){.val = -1}), ERANGE);
  EXPECT_ERRNO("semctl.bad_semnum", semctl(id, 3, GETVAL), EINVAL);
  unsigned short all[3] = {1, 2, 3}, got[3] = {0};
  EXPECT_OK("semctl.setall", semctl(id, 0, SETALL, (union semun){.array = all}));
  EXPECT_OK("semctl.getall", semctl(id, 0, GETALL, (union semun){.array = got}));
  CHECK("semctl.getall.values", got[0] == 1 && got[1] == 2 && got[2] == 3);
  unsigned short big[3] = {1, 40000, 3};
  EXPECT_ERRNO("semctl.setall_range", semctl(id, 0, SETALL, (union semun){.array = big}), ERANGE);

  /* All or nothing. */
  struct sembuf two[2] = {{0, -1, 0}, {1, -5, IPC_NOWAIT}};
  EXPECT_ERRNO("semop.atomic_eagain", semop(id, two, 2), EAGAIN);
  EXPECT_EQ("semop.atomic_untouched", semctl(id, 0, GETVAL), 1);
  two[1].sem_op = -2;
  EXPECT_OK("semop.atomic", semop(id, two, 2));
  EXPECT_EQ("semop.atomic_0", semctl(id, 0, GETVAL), 0);
  EXPECT_EQ("semop.atomic_1", semctl(id, 1, GETVAL), 0);
  EXPECT_ERRNO("semop.wait_zero_nowait", sop(id, 2, 0, IPC_NOWAIT), EAGAIN);
  EXPECT_OK("semop.wait_zero_ok", sop(id, 1, 0, 0));
  EXPECT_ERRNO("semop.efbig", sop(id, 3, 1, 0), EFBIG);
  EXPECT_ERRNO("semop.erange", sop(id, 2, 32767, 0), ERANGE);
  EXPECT_ERRNO("semop.nsops0", semop(id, two, 0), EINVAL);
  EXPECT_ERRNO("semop.e2big", semop(id, two, 501), E2BIG);
  EXPECT_ERRNO("semop.efault", semop(id, (struct sembuf *)8, 1), EFAULT);
  EXPECT_ERRNO("semop.bad_id", sop(id + 1, 0, 1, 0), EINVAL);
  EXPECT_OK("semctl.stat2", semctl(id, 0, IPC_STAT, u));
  CHECK("semctl.stat.otime", ds.sem_otime > 0);

  /* semtimedop times out with EAGAIN. */
  struct sembuf dec = {0, -1, 0};
  struct timespec ts = {0, 50 * 1000 * 1000};
  EXPECT_ERRNO("semtimedop.timeout", semtimedop(id, &dec, 1, &ts), EAGAIN);
  struct timespec bad = {0, 1000000000};
  EXPECT_ERRNO("semtimedop.bad_timeout", semtimedop(id, &dec, 1, &bad), EINVAL);

  /* IPC_SET changes the mode; IPC_INFO reports Linux's limits. */
  ds.sem_perm.mode = 0640;
  EXPECT_OK("semctl.set", semctl(id, 0, IPC_SET, u));
  EXPECT_OK("semctl.stat3", semctl(id, 0, IPC_STAT, u));
  EXPECT_EQ("semctl.set.mode", ds.sem_perm.mode & 0777, 0640);
  struct seminfo si;
  CHECK("semctl.ipc_info", semctl(id, 0, IPC_INFO, (union semun){.__buf = &si}) >= 0);
  EXPECT_EQ("semctl.ipc_info.semmsl", si.semmsl, 32000);
  EXPECT_EQ("semctl.ipc_info.semopm", si.semopm, 500);
  EXPECT_EQ("semctl.ipc_info.semvmx", si.semvmx, 32767);
  int idx = semctl(0, 0, SEM_INFO, (union semun){.__buf = &si});
  CHECK("semctl.sem_info", idx >= 0 && si.semusz >= 1);
  EXPECT_OK("semctl.rmid", semctl(id, 0, IPC_RMID));
  EXPECT_ERRNO("semctl.gone", semctl(id, 0, GETVAL), EINVAL);
  EXPECT_ERRNO("semget.gone", semget(key, 1, 0600), ENOENT);
}

static void test_blocking(void) {
  int id = semget(IPC_PRIVATE, 2, 0600);
  CHECK("block.create", id >= 0);
  /* Two children wait in turn; a post of 1 wakes the first, then the second. */
  pid_t kids[2];
  for (int i = 0; i < 2; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      if (sop(id, 0, -1, 0) != 0) _exit(10);
      sop(id, 1, 1, 0); /* report */
      _exit(0);
    }
    /* Wait until this child is queued before starting the next. */
    for (int n = 0; n < 500 && semctl(id, 0, GETNCNT) != i + 1; n++) usleep(2000);
  }
  EXPECT_EQ("block.ncnt", semctl(id, 0, GETNCNT), 2);
  EXPECT_OK("block.post1", sop(id, 0, 1, 0));
  EXPECT_OK("block.first_done", sop(id, 1, -1, 0));
  int st;
  EXPECT_EQ("block.first_is_oldest", waitpid(kids[0], &st, 0), kids[0]);
  EXPECT_EXIT("block.first_exit", st, 0);
  EXPECT_EQ("block.ncnt1", semctl(id, 0, GETNCNT), 1);
  EXPECT_OK("block.post2", sop(id, 0, 1, 0));
  waitpid(kids[1], &st, 0);
  EXPECT_EXIT("block.second_exit", st, 0);

  /* Waiting for zero. */
  semctl(id, 0, SETVAL, (union semun){.val = 1});
  pid_t z = fork();
  if (z == 0) _exit(sop(id, 0, 0, 0) == 0 ? 0 : 1);
  for (int n = 0; n < 500 && semctl(id, 0, GETZCNT) != 1; n++) usleep(2000);
  EXPECT_EQ("block.zcnt", semctl(id, 0, GETZCNT), 1);
  sop(id, 0, -1, 0);
  waitpid(z, &st, 0);
  EXPECT_EXIT("block.zero_woken", st, 0);

  /* A signal interrupts semop with EINTR even with SA_RESTART. */
  struct sigaction sa = {0};
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  ualarm(50000, 0);
  EXPECT_ERRNO("block.eintr", sop(id, 0, -1, 0), EINTR);
  signal(SIGALRM, SIG_DFL);

  /* Removal wakes waiters with EIDRM. */
  pid_t r = fork();
  if (r == 0) _exit(sop(id, 0, -1, 0) == -1 && errno == EIDRM ? 0 : 1);
  for (int n = 0; n < 500 && semctl(id, 0, GETNCNT) != 1; n++) usleep(2000);
  EXPECT_OK("block.rmid", semctl(id, 0, IPC_RMID));
  waitpid(r, &st, 0);
  EXPECT_EXIT("block.eidrm", st, 0);
}

static void test_undo(void) {
  int id = semget(IPC_PRIVATE, 1, 0600);
  semctl(id, 0, SETVAL, (union semun){.val = 3});
  pid_t p = fork();
  if (p == 0) {
    sop(id, 0, -2, SEM_UNDO);
    _exit(semctl(id, 0, GETVAL) == 1 ? 0 : 1);
  }
  int st;
  waitpid(p, &st, 0);
  EXPECT_EXIT("undo.child", st, 0);
  EXPECT_EQ("undo.restored", semctl(id, 0, GETVAL), 3);
  EXPECT_EQ("undo.getpid", semctl(id, 0, GETPID), p);

  /* A waiter is woken by another process's undo at exit. */
  semctl(id, 0, SETVAL, (union semun){.val = 0});
  int pipefd[2];
  if (pipe(pipefd) != 0) return;
  pid_t holder = fork();
  if (holder == 0) {
    sop(id, 0, 1, SEM_UNDO);  /* hold one */
    sop(id, 0, -1, 0);        /* and take it back: adj stays +... */
    sop(id, 0, 1, 0);         /* value 1, adjustment -1 */
    char c;
    close(pipefd[1]);
    if (read(pipefd[0], &c, 1) < 0) _exit(1);
    _exit(0);
  }
  for (int n = 0; n < 500 && semctl(id, 0, GETVAL) != 1; n++) usleep(2000);
  EXPECT_OK("undo.wait_zero_setup", sop(id, 0, 0, IPC_NOWAIT) == -1 ? 0 : -1);
  pid_t w = fork();
  if (w == 0) {
    close(pipefd[1]);
    _exit(sop(id, 0, 0, 0) == 0 ? 0 : 1);
  }
  for (int n = 0; n < 500 && semctl(id, 0, GETZCNT) != 1; n++) usleep(2000);
  close(pipefd[1]);
  close(pipefd[0]);
  waitpid(holder, &st, 0);
  waitpid(w, &st, 0);
  EXPECT_EXIT("undo.wakes_waiter", st, 0);
  EXPECT_EQ("undo.value_after", semctl(id, 0, GETVAL), 0);

  /* SETVAL clears adjustments: the child's undo does nothing. */
  semctl(id, 0, SETVAL, (union semun){.val = 2});
  p = fork();
  if (p == 0) {
    sop(id, 0, -1, SEM_UNDO);
    semctl(id, 0, SETVAL, (union semun){.val = 7});
    _exit(0);
  }
  waitpid(p, &st, 0);
  EXPECT_EQ("undo.cleared_by_setval", semctl(id, 0, GETVAL), 7);
  semctl(id, 0, IPC_RMID);
}

static void test_perms(void) {
  int id = semget(IPC_PRIVATE, 1, 0600);
  pid_t p = fork();
  if (p == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    if (semctl(id, 0, GETVAL) != -1 || errno != EACCES) _exit(3);
    if (sop(id, 0, 1, 0) != -1 || errno != EACCES) _exit(4);
    if (semctl(id, 0, IPC_RMID) != -1 || errno != EPERM) _exit(5);
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
  EXPECT_EXIT("perms.other_user", st, 0);
  semctl(id, 0, IPC_RMID);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  test_basic();
  test_blocking();
  test_undo();
  if (geteuid() == 0) test_perms();
  else printf("ok   perms.other_user\n"), t_passed++;
  TEST_DONE();
}
