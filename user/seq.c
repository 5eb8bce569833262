// seq [FIRST] LAST: the numbers FIRST (default 1) to LAST, one a line, like
// GNU seq without its options. Written in 4 KB blocks: the tests use it for
// a large, checkable console output (tests/e2e/test_console_flow.py).
#include "kernel/types.h"
#include "user/user.h"

#define MAXN 1000000000

static const char usage[] =
  "usage: seq [FIRST] LAST\n"
  "  print the numbers FIRST (default 1) to LAST, one a line\n";

static char block[4096];
static int used;

static void
flush(void)
{
  for (int off = 0; off < used;) {
    int n = write(1, block + off, used - off);
    if (n <= 0) {
      perror("seq: write");
      exit(1);
    }
    off += n;
  }
  used = 0;
}

// One number and a newline into the block.
static void
put(int n)
{
  char digits[12];
  int len = 0;

  do
    digits[len++] = '0' + n % 10;
  while ((n /= 10) > 0);
  if (used + len + 1 > (int)sizeof block)
    flush();
  while (len > 0)
    block[used++] = digits[--len];
  block[used++] = '\n';
}

int
main(int argc, char *argv[])
{
  argsinit("seq", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  int left = argc - optind;
  if (left < 1)
    argmissing("LAST");
  if (left > 2)
    argextra(argv[optind + 2]);
  int first = left == 2 ? argnum(0, "FIRST", argv[optind], 0, MAXN) : 1;
  int last = argnum(0, "LAST", argv[argc - 1], 0, MAXN);
  for (int n = first; n <= last; n++)
    put(n);
  flush();
  return 0;
}
