// mv SOURCE DEST, mv SOURCE... DIR: rename; into DIR when the last
// argument is a directory.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "user/user.h"

static const char usage[] =
  "usage: mv SOURCE DEST\n"
  "       mv SOURCE... DIRECTORY\n"
  "  move SOURCE to DEST, or each SOURCE into DIRECTORY\n";

static int
move(const char *from, const char *to)
{
  if (rename(from, to) < 0) {
    fprintf(2, "mv: cannot move '%s' to '%s': %s\n", from, to, strerror(errno));
    return 1;
  }
  return 0;
}

int
main(int argc, char *argv[])
{
  argsinit("mv", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  return argtargets(argc - optind, argv + optind, move);
}
