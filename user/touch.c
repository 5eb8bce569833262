// touch FILE...: create empty files that do not exist (there are no
// timestamps to update).
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

static const char usage[] =
  "usage: touch FILE...\n"
  "  create each FILE that does not exist, empty\n";

int
main(int argc, char *argv[])
{
  int status = 0;

  argsinit("touch", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  if (optind == argc)
    argmissing("file operand");
  for (int i = optind; i < argc; i++) {
    int fd = open(argv[i], O_WRONLY | O_CREAT);
    if (fd < 0) {
      fprintf(2, "touch: cannot touch '%s': %s\n", argv[i], strerror(errno));
      status = 1;
      continue;
    }
    close(fd);
  }
  return status;
}
