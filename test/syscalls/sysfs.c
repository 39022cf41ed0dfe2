/* /sys files common programs read: the CPU lists (glibc's get_nprocs) and
 * the transparent huge page policy (redis, jemalloc), in Linux's formats. */
#include "test.h"

static int slurp(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = '\0';
  return (int)n;
}

/* count_cpus counts the CPUs in a list like "0-3,5\n"; -1 if malformed. */
static int count_cpus(const char *s) {
  int total = 0;
  while (*s && *s != '\n') {
    char *e;
    long a = strtol(s, &e, 10), b = a;
    if (e == s) return -1;
    if (*e == '-') {
      s = e + 1;
      b = strtol(s, &e, 10);
      if (e == s || b < a) return -1;
    }
    total += (int)(b - a + 1);
    s = e;
    if (*s == ',') s++;
  }
  return *s == '\n' && s[1] == '\0' ? total : -1;
}

/* one_choice checks a policy line: words from allowed, exactly one of them
 * in brackets, ending in a newline. Returns the bracketed word's index. */
static int one_choice(const char *line, const char *const *allowed, int nallowed) {
  char copy[256];
  snprintf(copy, sizeof copy, "%s", line);
  size_t len = strlen(copy);
  if (len == 0 || copy[len - 1] != '\n') return -1;
  copy[len - 1] = '\0';
  int chosen = -1, words = 0;
  for (char *save, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
    int sel = w[0] == '[';
    if (sel) {
      size_t wl = strlen(w);
      if (wl < 3 || w[wl - 1] != ']') return -1;
      w[wl - 1] = '\0';
      w++;
    }
    int idx = -1;
    for (int i = 0; i < nallowed; i++)
      if (strcmp(w, allowed[i]) == 0) idx = i;
    if (idx < 0) return -1;
    if (sel) {
      if (chosen >= 0) return -1;
      chosen = idx;
    }
    words++;
  }
  return words >= 2 ? chosen : -1;
}

int main(void) {
  char buf[256];
  CHECK("cpu.online.read", slurp("/sys/devices/system/cpu/online", buf, sizeof buf) > 0);
  EXPECT_EQ("cpu.online.count", count_cpus(buf), sysconf(_SC_NPROCESSORS_ONLN));
  CHECK("cpu.possible.read", slurp("/sys/devices/system/cpu/possible", buf, sizeof buf) > 0);
  CHECK("cpu.possible.format", count_cpus(buf) >= sysconf(_SC_NPROCESSORS_ONLN));

  static const char *const enabled[] = {"always", "madvise", "never"};
  CHECK("thp.enabled.read", slurp("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof buf) > 0);
  CHECK("thp.enabled.format", one_choice(buf, enabled, 3) >= 0);
  static const char *const defrag[] = {"always", "defer", "defer+madvise", "madvise", "never"};
  CHECK("thp.defrag.read", slurp("/sys/kernel/mm/transparent_hugepage/defrag", buf, sizeof buf) > 0);
  CHECK("thp.defrag.format", one_choice(buf, defrag, 5) >= 0);
  struct stat st;
  EXPECT_OK("thp.dir", stat("/sys/kernel/mm/transparent_hugepage", &st));
  CHECK("thp.dir.isdir", S_ISDIR(st.st_mode));
  TEST_DONE();
}
