// ls [PATH...]: for each file print "name type inode size"; for a
// directory, one such line per entry (including "." and "..").
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"

static const char usage[] =
  "usage: ls [PATH...]\n"
  "  one line per file: name, type (1 directory, 2 file, 3 device), inode, size\n";

static void
show(const char *name, const struct stat *st)
{
  printf("%-14s %d %u %u\n", name, st->type, st->ino, st->size);
}

// Lists the entries of the open directory fd, named path.
static int
listdir(int fd, const char *path)
{
  static struct dirent ents[8];
  char full[MAXPATH + DIRSIZ + 1];
  int n, status = 0;

  while ((n = read(fd, ents, sizeof ents)) > 0) {
    for (int i = 0; i < n / (int)sizeof ents[0]; i++) {
      struct dirent *de = &ents[i];
      struct stat st;
      if (de->ino == 0)   // an unused slot
        continue;
      de->name[DIRSIZ - 1] = 0;
      int slash = path[0] && path[strlen(path) - 1] == '/';
      snprintf(full, sizeof full, "%s%s%s", path, slash ? "" : "/", de->name);
      if (stat(full, &st) < 0) {
        fprintf(2, "ls: %s: %s\n", full, strerror(errno));
        status = 1;
        continue;
      }
      show(de->name, &st);
    }
  }
  if (n < 0) {
    fprintf(2, "ls: %s: %s\n", path, strerror(errno));
    status = 1;
  }
  return status;
}

static int
ls(const char *path)
{
  struct stat st;
  int fd = open(path, O_RDONLY);
  if (fd < 0 || fstat(fd, &st) < 0) {
    fprintf(2, "ls: cannot access '%s': %s\n", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return 2;
  }
  int status = 0;
  if (st.type == T_DIR)
    status = listdir(fd, path);
  else
    show(path, &st);
  close(fd);
  return status;
}

int
main(int argc, char *argv[])
{
  argsinit("ls", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  if (optind == argc)
    return ls(".");
  int status = 0;
  for (int i = optind; i < argc; i++) {
    int st = ls(argv[i]);
    status = st > status ? st : status;
  }
  return status;
}
