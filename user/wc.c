// wc [-lwc] [FILE...]: count lines, words and bytes, printed like GNU wc:
// right-aligned in columns wide enough for the total size of the files
// (7 when reading stdin or a device), a "total" line for several files,
// and no padding when only one number is printed.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"

struct counts {
  uint lines, words, bytes;
};

static const char usage[] =
  "usage: wc [-lwc] [FILE...]\n"
  "  count lines (-l), words (-w) and bytes (-c); all three by default\n";

static int showlines, showwords, showbytes;
static int width;
static char buf[4096];

static int
count(int fd, const char *name, struct counts *c)
{
  int n, inword = 0;
  memset(c, 0, sizeof *c);
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    c->bytes += n;
    for (int i = 0; i < n; i++) {
      if (buf[i] == '\n')
        c->lines++;
      if (isspace(buf[i])) {
        inword = 0;
      } else if (!inword) {
        inword = 1;
        c->words++;
      }
    }
  }
  if (n < 0) {
    fprintf(2, "wc: %s: %s\n", name, strerror(errno));
    return -1;
  }
  return 0;
}

static void
report(const struct counts *c, const char *name)
{
  char line[80];
  int len = 0;
  if (showlines)
    len += snprintf(line + len, sizeof line - len, " %*u", width, c->lines);
  if (showwords)
    len += snprintf(line + len, sizeof line - len, " %*u", width, c->words);
  if (showbytes)
    len += snprintf(line + len, sizeof line - len, " %*u", width, c->bytes);
  printf("%s%s%s\n", line + 1, name ? " " : "", name ? name : "");
}

// The column width GNU wc would choose for these operands.
static int
pickwidth(int nfiles, char **files)
{
  if (showlines + showwords + showbytes == 1 && nfiles <= 1)
    return 1;
  if (nfiles == 0)
    return 7;
  uint total = 0;
  for (int i = 0; i < nfiles; i++) {
    struct stat st;
    if (strcmp(files[i], "-") == 0)
      return 7;
    if (stat(files[i], &st) < 0)
      continue;
    if (st.type != T_FILE)
      return 7;
    total += st.size;
  }
  int w = 1;
  for (; total >= 10; total /= 10)
    w++;
  return w;
}

// Reads "-l", "-wc" and so on; returns the index of the first operand.
static int
parseflags(int argc, char *argv[])
{
  int c;
  argsinit("wc", usage);
  while ((c = getopt(argc, argv, "lwc")) != -1) {
    showlines |= c == 'l';
    showwords |= c == 'w';
    showbytes |= c == 'c';
  }
  if (!showlines && !showwords && !showbytes)
    showlines = showwords = showbytes = 1;
  return optind;
}

int
main(int argc, char *argv[])
{
  struct counts c, total = { 0, 0, 0 };
  int first = parseflags(argc, argv);
  int nfiles = argc - first, status = 0;

  width = pickwidth(nfiles, argv + first);
  if (nfiles == 0) {
    if (count(0, "stdin", &c) < 0)
      return 1;
    report(&c, 0);
    return 0;
  }
  for (int i = first; i < argc; i++) {
    int fd = strcmp(argv[i], "-") == 0 ? 0 : open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "wc: %s: %s\n", argv[i], strerror(errno));
      status = 1;
      continue;
    }
    if (count(fd, argv[i], &c) < 0)
      status = 1;
    else
      report(&c, argv[i]);
    total.lines += c.lines;
    total.words += c.words;
    total.bytes += c.bytes;
    if (fd != 0)
      close(fd);
  }
  if (nfiles > 1)
    report(&total, "total");
  return status;
}
