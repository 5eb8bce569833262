// mkdir [-p] DIR...: make directories; -p also their parents, and no
// complaint when they exist already.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/errno.h"
#include "user/user.h"

static const char usage[] =
  "usage: mkdir [-p] DIR...\n"
  "  -p  make the parents too, and no complaint about directories that exist\n";

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
  int parents = 0, status = 0, c;

  argsinit("mkdir", usage);
  while ((c = getopt(argc, argv, "p")) != -1)
    parents = 1;
  if (optind == argc)
    argmissing("operand");
  for (int i = optind; i < argc; i++) {
    if (parents) {
      status |= mkparents(argv[i]);
    } else if (mkdir(argv[i], 0777) < 0) {
      fprintf(2, "mkdir: cannot create directory '%s': %s\n", argv[i], strerror(errno));
      status = 1;
    }
  }
  return status;
}
