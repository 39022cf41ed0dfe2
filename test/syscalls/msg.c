/* System V message queues: msgget/msgsnd/msgrcv/msgctl, type selection,
 * MSG_NOERROR, MSG_EXCEPT, MSG_COPY, limits and blocking. */
#include "test.h"
#include <sys/ipc.h>
#include <sys/msg.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct m {
  long type;
  char text[64];
};

static int snd(int id, long type, const char *s, int flg) {
  struct m b = {type, {0}};
  strcpy(b.text, s);
  return msgsnd(id, &b, strlen(s) + 1, flg);
}

static void on_alarm(int s) { (void)s; }

static void test_basic(void) {
  key_t key = 0x3e5a000 + (getpid() & 0xfff);
  int id = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
  CHECK("msgget.create", id >= 0);
  EXPECT_ERRNO("msgget.excl", msgget(key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
  EXPECT_EQ("msgget.same_key", msgget(key, 0), id);
  EXPECT_ERRNO("msgget.missing", msgget(key + 1, 0600), ENOENT);

  EXPECT_OK("msgsnd.a1", snd(id, 1, "a1", 0));
  EXPECT_OK("msgsnd.b2", snd(id, 2, "b2", 0));
  EXPECT_OK("msgsnd.c3", snd(id, 3, "c3", 0));
  EXPECT_OK("msgsnd.d1", snd(id, 1, "d1", 0));
  EXPECT_ERRNO("msgsnd.type0", snd(id, 0, "x", 0), EINVAL);
  struct m big = {1, {0}};
  EXPECT_ERRNO("msgsnd.too_big", msgsnd(id, &big, 8193, 0), EINVAL);
  EXPECT_ERRNO("msgsnd.efault", msgsnd(id, (void *)8, 1, 0), EFAULT);

  struct msqid_ds ds;
  EXPECT_OK("msgctl.stat", msgctl(id, IPC_STAT, &ds));
  EXPECT_EQ("msgctl.stat.qnum", ds.msg_qnum, 4);
  EXPECT_EQ("msgctl.stat.cbytes", ds.__msg_cbytes, 12);
  EXPECT_EQ("msgctl.stat.qbytes", ds.msg_qbytes, 16384);
  EXPECT_EQ("msgctl.stat.lspid", ds.msg_lspid, getpid());
  EXPECT_EQ("msgctl.stat.mode", ds.msg_perm.mode & 0777, 0600);

  struct m r;
  EXPECT_EQ("msgrcv.copy", msgrcv(id, &r, sizeof r.text, 2, IPC_NOWAIT | MSG_COPY), 3);
  EXPECT_STR("msgrcv.copy.text", r.text, "c3");
  EXPECT_ERRNO("msgrcv.copy_needs_nowait", msgrcv(id, &r, sizeof r.text, 2, MSG_COPY), EINVAL);
  EXPECT_ERRNO("msgrcv.copy_past_end", msgrcv(id, &r, sizeof r.text, 9, IPC_NOWAIT | MSG_COPY), ENOMSG);
  EXPECT_EQ("msgrcv.type2", msgrcv(id, &r, sizeof r.text, 2, 0), 3);
  EXPECT_STR("msgrcv.type2.text", r.text, "b2");
  EXPECT_EQ("msgrcv.except1", msgrcv(id, &r, sizeof r.text, 1, MSG_EXCEPT), 3);
  EXPECT_STR("msgrcv.except1.text", r.text, "c3");
  EXPECT_OK("msgsnd.e0", snd(id, 5, "e5", 0));
  EXPECT_EQ("msgrcv.lowest_le", msgrcv(id, &r, sizeof r.text, -5, 0), 3);
  EXPECT_STR("msgrcv.lowest_le.text", r.text, "a1");
  EXPECT_ERRNO("msgrcv.e2big", msgrcv(id, &r, 1, 0, 0), E2BIG);
  EXPECT_EQ("msgrcv.noerror", msgrcv(id, &r, 1, 0, MSG_NOERROR), 1);
  EXPECT_EQ("msgrcv.noerror.type", r.type, 1);
  EXPECT_ERRNO("msgrcv.nomsg", msgrcv(id, &r, sizeof r.text, 7, IPC_NOWAIT), ENOMSG);
  EXPECT_EQ("msgrcv.any", msgrcv(id, &r, sizeof r.text, 0, 0), 3);
  EXPECT_STR("msgrcv.any.text", r.text, "e5");
  EXPECT_OK("msgctl.stat2", msgctl(id, IPC_STAT, &ds));
  EXPECT_EQ("msgctl.stat2.qnum", ds.msg_qnum, 0);
  EXPECT_EQ("msgctl.stat2.lrpid", ds.msg_lrpid, getpid());

  /* A full queue: EAGAIN with IPC_NOWAIT; IPC_SET shrinks it. */
  ds.msg_qbytes = 10;
  EXPECT_OK("msgctl.set", msgctl(id, IPC_SET, &ds));
  EXPECT_OK("msgsnd.fill", snd(id, 1, "123456789", 0));
  EXPECT_ERRNO("msgsnd.full", snd(id, 1, "x", IPC_NOWAIT), EAGAIN);

  struct msginfo mi;
  CHECK("msgctl.ipc_info", msgctl(0, IPC_INFO, (struct msqid_ds *)&mi) >= 0);
  EXPECT_EQ("msgctl.ipc_info.msgmax", mi.msgmax, 8192);
  EXPECT_EQ("msgctl.ipc_info.msgmnb", mi.msgmnb, 16384);
  EXPECT_OK("msgctl.rmid", msgctl(id, IPC_RMID, NULL));
  EXPECT_ERRNO("msgctl.gone", msgctl(id, IPC_STAT, &ds), EINVAL);
}

static void test_blocking(void) {
  int id = msgget(IPC_PRIVATE, 0600);
  int st;
  pid_t p = fork();
  if (p == 0) {
    struct m r;
    ssize_t n = msgrcv(id, &r, sizeof r.text, 4, 0);
    _exit(n == 3 && strcmp(r.text, "ok") == 0 ? 0 : 1);
  }
  usleep(50000);
  snd(id, 3, "no", 0);
  snd(id, 4, "ok", 0);
  waitpid(p, &st, 0);
  EXPECT_EXIT("block.recv_type", st, 0);

  /* A blocked sender gets in once room is made. */
  struct msqid_ds ds;
  msgctl(id, IPC_STAT, &ds);
  ds.msg_qbytes = 3;
  msgctl(id, IPC_SET, &ds);
  struct m r;
  msgrcv(id, &r, sizeof r.text, 0, IPC_NOWAIT); /* drain "no" */
  snd(id, 1, "ab", 0);
  p = fork();
  if (p == 0) _exit(snd(id, 2, "cd", 0) == 0 ? 0 : 1);
  usleep(50000);
  EXPECT_EQ("block.recv_makes_room", msgrcv(id, &r, sizeof r.text, 0, 0), 3);
  waitpid(p, &st, 0);
  EXPECT_EXIT("block.sender_done", st, 0);

  /* Signals: EINTR even with SA_RESTART. */
  struct sigaction sa = {0};
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  msgrcv(id, &r, sizeof r.text, 0, IPC_NOWAIT);
  ualarm(50000, 0);
  EXPECT_ERRNO("block.eintr", msgrcv(id, &r, sizeof r.text, 0, 0), EINTR);
  signal(SIGALRM, SIG_DFL);

  p = fork();
  if (p == 0) _exit(msgrcv(id, &r, sizeof r.text, 0, 0) == -1 && errno == EIDRM ? 0 : 1);
  usleep(50000);
  msgctl(id, IPC_RMID, NULL);
  waitpid(p, &st, 0);
  EXPECT_EXIT("block.eidrm", st, 0);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  test_basic();
  test_blocking();
  TEST_DONE();
}
