// kill PID...: ask the kernel to kill each process.
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  int status = 0;

  if (argc < 2) {
    fprintf(2, "usage: kill PID...\n");
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    char *end;
    int pid = strtoul(argv[i], &end, 10);
    if (*argv[i] == 0 || *end != 0) {
      fprintf(2, "kill: %s: not a process id\n", argv[i]);
      status = 1;
    } else if (kill(pid) < 0) {
      fprintf(2, "kill: %s: %s\n", argv[i], strerror(errno));
      status = 1;
    }
  }
  return status;
}
