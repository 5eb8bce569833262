// sha256sum [FILE...]: the SHA-256 digest of each file (standard input
// when there is none, or for "-"), in coreutils' format:
//   9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  /tmp/f
// The exit status is 1 if a file could not be read.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"
#include "user/lib/sha256.h"

static const char usage[] = "usage: sha256sum [FILE...]\n";

static char buf[16384];

static int
sum(const char *name)
{
  struct sha256 c;
  uchar digest[32];
  char hex[65];
  int fd = strcmp(name, "-") == 0 ? 0 : open(name, O_RDONLY);
  if (fd < 0) {
    fprintf(2, "sha256sum: %s: %s\n", name, strerror(errno));
    return 1;
  }
  sha256_init(&c);
  int n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    sha256_update(&c, buf, n);
  int err = n < 0 ? errno : 0;
  if (fd != 0)
    close(fd);
  if (err) {
    fprintf(2, "sha256sum: %s: %s\n", name, strerror(err));
    return 1;
  }
  sha256_final(&c, digest);
  sha256_hex(digest, hex);
  printf("%s  %s\n", hex, name);
  return 0;
}

int
main(int argc, char **argv)
{
  argsinit("sha256sum", usage);
  while (getopt(argc, argv, "") != -1)   // no options: -h, --help, or refused
    ;
  if (optind == argc)
    return sum("-");
  int status = 0;
  for (int i = optind; i < argc; i++)
    status |= sum(argv[i]);
  return status;
}
