// touch FILE...: create empty files that do not exist (there are no
// timestamps to update).
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  int status = 0;

  if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    printf("usage: touch FILE...\n");
    return 0;
  }
  if (argc < 2) {
    fprintf(2, "touch: missing file operand\nusage: touch FILE...\n");
    return 1;
  }
  for (int i = 1; i < argc; i++) {
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
