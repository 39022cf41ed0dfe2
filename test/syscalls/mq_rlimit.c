/* RLIMIT_MSGQUEUE (mq_overview(7)): POSIX message queues are charged to the
 * creator's real uid until unlinked and closed; mq_open(O_CREAT) past the
 * limit fails with EMFILE. Queues are large (82880 bytes each: 10 messages of
 * 8192 bytes plus 96 bytes of bookkeeping per message), so other small queues
 * of the same user cannot change the outcome. */
#include "test.h"
#include <mqueue.h>
#include <sys/resource.h>

#define QBYTES (10 * (48 + 48 + 8192))

static char names[4][64];

int main(void) {
  for (int i = 0; i < 4; i++) snprintf(names[i], sizeof names[i], "/tsv-mqrl-%d-%d", (int)getpid(), i);
  struct rlimit old;
  EXPECT_OK("getrlimit", getrlimit(RLIMIT_MSGQUEUE, &old));
  struct rlimit rl = {2 * QBYTES + QBYTES / 2, old.rlim_max};
  if (rl.rlim_cur > old.rlim_max) rl.rlim_cur = old.rlim_max;
  EXPECT_OK("setrlimit", setrlimit(RLIMIT_MSGQUEUE, &rl));
  struct mq_attr attr = {0, 10, 8192, 0, {0}};
  mqd_t a = mq_open(names[0], O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
  CHECK("first", a != (mqd_t)-1);
  mqd_t b = mq_open(names[1], O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
  CHECK("second", b != (mqd_t)-1);
  EXPECT_ERRNO("third.emfile", mq_open(names[2], O_RDWR | O_CREAT | O_EXCL, 0600, &attr), EMFILE);
  EXPECT_ERRNO("third.not_created", mq_open(names[2], O_RDWR), ENOENT);
  struct mq_attr small = {0, 1, 64, 0, {0}};
  mqd_t s = mq_open(names[3], O_RDWR | O_CREAT | O_EXCL, 0600, &small);
  CHECK("small_fits", s != (mqd_t)-1);
  mq_close(s);
  mq_unlink(names[3]);
  mqd_t again = mq_open(names[0], O_RDWR);
  CHECK("open_existing_not_charged", again != (mqd_t)-1);
  mq_close(again);
  EXPECT_OK("unlink.open_queue", mq_unlink(names[0]));
  EXPECT_ERRNO("unlinked_but_open.still_charged", mq_open(names[2], O_RDWR | O_CREAT | O_EXCL, 0600, &attr), EMFILE);
  EXPECT_OK("close", mq_close(a));
  mqd_t c = mq_open(names[2], O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
  CHECK("after_close.fits", c != (mqd_t)-1);
  mq_close(c);
  EXPECT_OK("close.before_unlink", mq_close(b));
  EXPECT_ERRNO("closed_but_named.still_charged", mq_open(names[3], O_RDWR | O_CREAT | O_EXCL, 0600, &attr), EMFILE);
  mq_unlink(names[1]);
  mq_unlink(names[2]);
  struct rlimit zero = {0, old.rlim_max};
  EXPECT_OK("setrlimit.zero", setrlimit(RLIMIT_MSGQUEUE, &zero));
  EXPECT_ERRNO("zero.emfile", mq_open(names[3], O_RDWR | O_CREAT | O_EXCL, 0600, &small), EMFILE);
  mq_unlink(names[3]);
  setrlimit(RLIMIT_MSGQUEUE, &old);
  TEST_DONE();
}
