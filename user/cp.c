// cp SOURCE DEST, cp SOURCE... DIR: copy files; into DIR when the last
// argument is a directory.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"

static char buf[4096];

static const char usage[] =
  "usage: cp SOURCE DEST\n"
  "       cp SOURCE... DIRECTORY\n"
  "  copy SOURCE to DEST, or each SOURCE into DIRECTORY\n";

static int
copy(const char *from, const char *to)
{
  struct stat st;
  int in = open(from, O_RDONLY), out = -1, n = 0;

  if (in < 0 || fstat(in, &st) < 0) {
    fprintf(2, "cp: cannot open '%s' for reading: %s\n", from, strerror(errno));
    goto fail;
  }
  if (st.type == T_DIR) {
    fprintf(2, "cp: -r not specified; omitting directory '%s'\n", from);
    goto fail;
  }
  if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC)) < 0) {
    fprintf(2, "cp: cannot create regular file '%s': %s\n", to, strerror(errno));
    goto fail;
  }
  while ((n = read(in, buf, sizeof buf)) > 0) {
    if (writeall(out, buf, n) < 0) {
      fprintf(2, "cp: error writing '%s': %s\n", to, strerror(errno));
      goto fail;
    }
  }
  if (n < 0) {
    fprintf(2, "cp: error reading '%s': %s\n", from, strerror(errno));
    goto fail;
  }
  close(in);
  close(out);
  return 0;
fail:
  if (in >= 0)
    close(in);
  if (out >= 0)
    close(out);
  return 1;
}

int
main(int argc, char *argv[])
{
  argsinit("cp", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  return argtargets(argc - optind, argv + optind, copy);
}
