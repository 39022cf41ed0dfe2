/* sync_file_range(2) and readahead(2): hints PostgreSQL and others issue on
 * every checkpoint; their argument checks must match Linux. */
#include "test.h"

int main(void) {
  char *dir = t_tmpdir("sync_range");
  char path[512];
  snprintf(path, sizeof path, "%s/f", dir);
  int fd = open(path, O_RDWR | O_CREAT, 0600);
  CHECK("open", fd >= 0);
  EXPECT_EQ("write", write(fd, "data", 4), 4);
  EXPECT_OK("sfr.write", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
  EXPECT_OK("sfr.wait_all", sync_file_range(fd, 0, 4,
      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
  EXPECT_ERRNO("sfr.bad_flags", sync_file_range(fd, 0, 0, 8), EINVAL);
  EXPECT_ERRNO("sfr.neg_offset", sync_file_range(fd, -1, 0, 0), EINVAL);
  EXPECT_ERRNO("sfr.neg_len", sync_file_range(fd, 0, -1, 0), EINVAL);
  EXPECT_ERRNO("sfr.badfd", sync_file_range(-1, 0, 0, 0), EBADF);
  int p[2];
  EXPECT_OK("pipe", pipe(p));
  EXPECT_ERRNO("sfr.pipe", sync_file_range(p[1], 0, 0, 0), ESPIPE);
  EXPECT_OK("readahead", readahead(fd, 0, 4096));
  EXPECT_ERRNO("readahead.pipe", readahead(p[0], 0, 10), EINVAL);
  EXPECT_ERRNO("readahead.badfd", readahead(-1, 0, 10), EBADF);
  int wo = open(path, O_WRONLY);
  EXPECT_ERRNO("readahead.writeonly", readahead(wo, 0, 10), EBADF);
  close(wo);
  close(fd);
  t_rmtree(dir);
  TEST_DONE();
}
