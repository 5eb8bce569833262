// rm [-f] [-r] FILE...: remove files; -r directories and what is in them,
// -f no complaint about files that do not exist.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/errno.h"
#include "user/user.h"

static int force, recursive;

static const char usage[] =
  "usage: rm [-f] [-r] FILE...\n"
  "  -f  no complaint about files that do not exist\n"
  "  -r  directories too, with everything in them\n";

static int rmpath(const char *path);

// Removes what is in the directory path, then path itself.
static int
rmtree(const char *path)
{
  struct dirent de;
  char child[MAXPATH];
  int status = 0;

  // Entries shift as they go: read from the start until only . and .. are left.
  for (;;) {
    int fd = open(path, O_RDONLY), found = 0;
    if (fd < 0)
      break;
    while (read(fd, &de, sizeof de) == sizeof de) {
      if (strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
        continue;
      snprintf(child, sizeof child, "%s/%s", path, de.name);
      found = 1;
      break;
    }
    close(fd);
    if (!found || rmpath(child) != 0) {
      status = found;
      break;
    }
  }
  if (status == 0 && rmdir(path) < 0) {
    fprintf(2, "rm: cannot remove '%s': %s\n", path, strerror(errno));
    return 1;
  }
  return status;
}

static int
rmpath(const char *path)
{
  struct stat st;

  if (unlink(path) == 0)
    return 0;
  if (errno == ENOENT && force)
    return 0;
  if (errno == EISDIR && recursive && stat(path, &st) == 0 && st.type == T_DIR)
    return rmtree(path);
  fprintf(2, "rm: cannot remove '%s': %s\n", path, strerror(errno));
  return 1;
}

int
main(int argc, char *argv[])
{
  int status = 0, c;

  argsinit("rm", usage);
  while ((c = getopt(argc, argv, "frR")) != -1) {
    force |= c == 'f';
    recursive |= c == 'r' || c == 'R';
  }
  if (optind == argc) {
    if (force)
      return 0;
    argmissing("operand");
  }
  for (int i = optind; i < argc; i++)
    status |= rmpath(argv[i]);
  return status;
}
