// rmdir DIR...: remove empty directories.
#include "kernel/types.h"
#include "user/user.h"

static const char usage[] =
  "usage: rmdir DIR...\n"
  "  remove each DIR, which must be empty\n";

int
main(int argc, char *argv[])
{
  int status = 0;

  argsinit("rmdir", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  if (optind == argc)
    argmissing("operand");
  for (int i = optind; i < argc; i++) {
    if (rmdir(argv[i]) < 0) {
      fprintf(2, "rmdir: failed to remove '%s': %s\n", argv[i], strerror(errno));
      status = 1;
    }
  }
  return status;
}
