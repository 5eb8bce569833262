// echo [-n] [ARG...]: print the arguments separated by spaces, then a
// newline unless -n is given. As GNU's echo does, only "echo --help" alone
// prints the usage: any other word, -h too, is something to print.
#include "kernel/types.h"
#include "user/user.h"

// Output is collected and written in as few writes as possible, so that a
// short line leaves in one piece and cannot interleave with other output.
static char buf[1024];
static int len;
static int failed;

static void
flush(void)
{
  if (len > 0 && writeall(1, buf, len) < 0)
    failed = 1;
  len = 0;
}

static void
emit(const char *s, int n)
{
  if (len + n > (int)sizeof buf)
    flush();
  if (n > (int)sizeof buf) {
    if (writeall(1, s, n) < 0)
      failed = 1;
    return;
  }
  memmove(buf + len, s, n);
  len += n;
}

int
main(int argc, char *argv[])
{
  int newline = 1;
  int first = 1;
  if (argc == 2 && strcmp(argv[1], "--help") == 0) {
    printf("usage: echo [-n] [ARG...]\n"
           "  print the arguments, separated by spaces\n"
           "  -n  without the newline at the end\n");
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "-n") == 0) {
    newline = 0;
    first = 2;
  }
  for (int i = first; i < argc; i++) {
    if (i > first)
      emit(" ", 1);
    emit(argv[i], strlen(argv[i]));
  }
  if (newline)
    emit("\n", 1);
  flush();
  if (failed) {
    perror("echo: write");
    return 1;
  }
  return 0;
}
