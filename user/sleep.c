// sleep SECONDS: pause, like Linux sleep. SECONDS may have a fraction
// ("0.5"); the kernel counts in ticks of 1/100 s, so more digits are
// dropped.
#include "kernel/types.h"
#include "kernel/param.h"
#include "user/user.h"

// Returns the number of ticks in s, or -1 if s is not a number.
static int
parseticks(const char *s)
{
  char *end;
  uint secs = strtoul(s, &end, 10);
  int ticks = 0, scale = HZ / 10;
  if (end == s && *end != '.')
    return -1;
  if (*end == '.') {
    for (end++; isdigit(*end); end++) {
      ticks += (*end - '0') * scale;
      scale /= 10;
    }
  }
  if (*end != 0 || secs > 0x7fffffff / HZ - 1)
    return -1;
  return secs * HZ + ticks;
}

int
main(int argc, char *argv[])
{
  int ticks;
  if (argc != 2 || (ticks = parseticks(argv[1])) < 0) {
    fprintf(2, "usage: sleep SECONDS\n");
    return 2;
  }
  if (sleep(ticks) < 0) {
    perror("sleep");
    return 1;
  }
  return 0;
}
