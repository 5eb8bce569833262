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

static const char *
basename(const char *path)
{
  const char *end = path + strlen(path), *start;
  while (end > path + 1 && end[-1] == '/')
    end--;
  for (start = end; start > path && start[-1] != '/'; start--)
    ;
  static char name[DIRSIZ];
  int len = end - start < DIRSIZ ? end - start : DIRSIZ - 1;
  memmove(name, start, len);
  name[len] = 0;
  return name;
}

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
  struct stat st;
  char dest[MAXPATH];
  int status = 0;

  argsinit("mv", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  argv += optind - 1;   // argv[1..argc-1]: the operands
  argc -= optind - 1;
  if (argc < 3)
    argmissing(argc < 2 ? "file operand" : "destination file operand");
  const char *last = argv[argc - 1];
  int isdir = stat(last, &st) == 0 && st.type == T_DIR;
  if (argc > 3 && !isdir) {
    fprintf(2, "mv: target '%s' is not a directory\n", last);
    return 1;
  }
  for (int i = 1; i < argc - 1; i++) {
    if (isdir) {
      snprintf(dest, sizeof dest, "%s/%s", last, basename(argv[i]));
      status |= move(argv[i], dest);
    } else {
      status |= move(argv[i], last);
    }
  }
  return status;
}
