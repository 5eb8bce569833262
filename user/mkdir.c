// mkdir [-p] DIR...: make directories; -p also their parents, and no
// complaint when they exist already.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/errno.h"
#include "user/user.h"

static void
usage(int fd)
{
  fprintf(fd, "usage: mkdir [-p] DIR...\n");
}

// mkdir -p: every prefix of path that ends before a '/', then path.
static int
mkparents(const char *path)
{
  char prefix[MAXPATH];
  struct stat st;

  if (strlen(path) >= MAXPATH) {
    fprintf(2, "mkdir: cannot create directory '%s': %s\n", path, strerror(ENAMETOOLONG));
    return 1;
  }
  for (int i = 1;; i++) {
    if (path[i] != '/' && path[i] != 0)
      continue;
    memmove(prefix, path, i);
    prefix[i] = 0;
    if (mkdir(prefix, 0777) < 0 && !(errno == EEXIST && stat(prefix, &st) == 0 && st.type == T_DIR)) {
      fprintf(2, "mkdir: cannot create directory '%s': %s\n", prefix, strerror(errno));
      return 1;
    }
    if (path[i] == 0)
      return 0;
  }
}

int
main(int argc, char *argv[])
{
  int i = 1, parents = 0, status = 0;

  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(1);
      return 0;
    }
    if (strcmp(argv[i], "-p") != 0) {
      fprintf(2, "mkdir: invalid option '%s'\n", argv[i]);
      usage(2);
      return 1;
    }
    parents = 1;
  }
  if (i == argc) {
    fprintf(2, "mkdir: missing operand\n");
    usage(2);
    return 1;
  }
  for (; i < argc; i++) {
    if (parents) {
      status |= mkparents(argv[i]);
    } else if (mkdir(argv[i], 0777) < 0) {
      fprintf(2, "mkdir: cannot create directory '%s': %s\n", argv[i], strerror(errno));
      status = 1;
    }
  }
  return status;
}
