// cat [FILE...]: copy each FILE (or stdin, also named "-") to stdout.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

static const char usage[] =
  "usage: cat [FILE...]\n"
  "  copy each FILE (- or none: standard input) to standard output\n";

static char buf[4096];

// Copies fd to stdout; returns 0, or -1 after reporting an error.
static int
copy(int fd, const char *name)
{
  int n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    if (writeall(1, buf, n) < 0) {
      perror("cat: write");
      return -1;
    }
  }
  if (n < 0) {
    fprintf(2, "cat: %s: %s\n", name, strerror(errno));
    return -1;
  }
  return 0;
}

int
main(int argc, char *argv[])
{
  int status = 0;

  argsinit("cat", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  if (optind == argc)
    return copy(0, "stdin") < 0;
  for (int i = optind; i < argc; i++) {
    if (strcmp(argv[i], "-") == 0) {
      status |= copy(0, "stdin") < 0;
      continue;
    }
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "cat: %s: %s\n", argv[i], strerror(errno));
      status = 1;
      continue;
    }
    status |= copy(fd, argv[i]) < 0;
    close(fd);
  }
  return status;
}
