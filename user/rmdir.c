// rmdir DIR...: remove empty directories.
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  int status = 0;

  if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    printf("usage: rmdir DIR...\n");
    return 0;
  }
  if (argc < 2) {
    fprintf(2, "rmdir: missing operand\nusage: rmdir DIR...\n");
    return 1;
  }
  for (int i = 1; i < argc; i++) {
    if (rmdir(argv[i]) < 0) {
      fprintf(2, "rmdir: failed to remove '%s': %s\n", argv[i], strerror(errno));
      status = 1;
    }
  }
  return status;
}
