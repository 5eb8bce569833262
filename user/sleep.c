// sleep NUMBER[SUFFIX]...: pause for the sum of the times, like GNU sleep.
// NUMBER may have a fraction ("0.5"); SUFFIX is s (seconds, the default),
// m, h or d. The kernel counts in ticks of 1/100 s, so more digits are
// dropped.
#include "kernel/types.h"
#include "kernel/param.h"
#include "user/user.h"

#define MAXTICKS 0x7fffffff

static const char usage[] =
  "usage: sleep NUMBER[s|m|h|d]...\n"
  "  pause for the sum of the times (seconds by default; fractions allowed)\n";

// The ticks in s, or a usage error.
static uint64
parseticks(const char *s)
{
  const char *p = s;
  uint64 whole = 0, ticks = 0;
  int scale = HZ / 10;
  if (!isdigit(*p) && !(p[0] == '.' && isdigit(p[1])))
    argbad(0, "time interval", s, *p == '-' ? "must not be negative" : "not a number");
  for (; isdigit(*p) && whole < MAXTICKS; p++)
    whole = whole * 10 + (*p - '0');
  for (; isdigit(*p); p++)
    ;
  if (*p == '.')
    for (p++; isdigit(*p); p++, scale /= 10)
      ticks += (*p - '0') * scale;
  uint64 unit = *p == 'm' ? 60 : *p == 'h' ? 3600 : *p == 'd' ? 86400 : 1;
  if (*p && strchr("smhd", *p))
    p++;
  if (*p)
    argbad(0, "time interval", s, "not a number with an s, m, h or d suffix");
  return (whole * HZ + ticks) * unit;
}

int
main(int argc, char *argv[])
{
  uint64 ticks = 0;

  argsinit("sleep", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  if (optind == argc)
    argmissing("time interval");
  for (int i = optind; i < argc; i++) {
    ticks += parseticks(argv[i]);
    if (ticks > MAXTICKS)
      argbad(0, "time interval", argv[i], "too long (at most 248 days in all)");
  }
  if (sleep(ticks) < 0) {
    perror("sleep");
    return 1;
  }
  return 0;
}
