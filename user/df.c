// df [-i] [PATH]: the root file system's size, use and what is left, in
// 1K blocks (-i: inodes), in Linux's columns.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "user/user.h"

static const char usage[] =
  "usage: df [-i] [PATH]\n"
  "  the size, use and room left of the file system holding PATH (default /)\n"
  "  -i  inodes instead of 1K blocks\n";

static uint
percent(uint used, uint total)
{
  return total ? (used * 100 + total - 1) / total : 0;   // rounded up, as df does
}

int
main(int argc, char *argv[])
{
  struct statfs sf;
  const char *path = "/";
  int inodes = 0;

  argsinit("df", usage);
  while (getopt(argc, argv, "i") != -1)
    inodes = 1;
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  if (optind < argc)
    path = argv[optind];
  if (statfs(path, &sf) < 0) {
    fprintf(2, "df: %s: %s\n", path, strerror(errno));
    return 1;
  }
  if (inodes) {
    uint used = sf.f_files - sf.f_ffree;
    printf("Filesystem     Inodes IUsed IFree IUse%% Mounted on\n");
    printf("rootfs     %10u %5u %5u %4u%% /\n", sf.f_files, used, sf.f_ffree,
           percent(used, sf.f_files));
    return 0;
  }
  uint k = sf.f_bsize / 1024, used = sf.f_blocks - sf.f_bfree;
  printf("Filesystem     1K-blocks  Used Available Use%% Mounted on\n");
  printf("rootfs         %9u %5u %9u %3u%% /\n", sf.f_blocks * k, used * k,
         sf.f_bavail * k, percent(used, sf.f_blocks));
  return 0;
}
