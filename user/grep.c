// grep [-vc] PATTERN [FILE...]: print the lines that match PATTERN (-v: that
// do not match; -c: print only how many). No FILE, or "-", means stdin.
//
// Patterns: a character matches itself, '.' any character, 'x*' zero or
// more x, a leading '^' and a trailing '$' anchor at the ends of the line,
// and a backslash makes the next character literal. Exit status: 0 if a
// line was selected, 1 if none, 2 on an error (as grep's).
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

#define MAXATOMS 128

// One compiled pattern element.
struct atom {
  char c;
  char any;      // '.': any character
  char star;     // followed by '*'
};

static struct atom atoms[MAXATOMS];
static int natoms;
static int atstart, atend;   // '^', '$'
static int invert, countonly;

static int
compile(const char *p)
{
  if (*p == '^') {
    atstart = 1;
    p++;
  }
  for (; *p; p++) {
    if (p[0] == '$' && p[1] == 0) {
      atend = 1;
      break;
    }
    if (*p == '*' && natoms > 0 && !atoms[natoms - 1].star) {
      atoms[natoms - 1].star = 1;
      continue;
    }
    if (natoms == MAXATOMS)
      return -1;
    struct atom *a = &atoms[natoms++];
    if (p[0] == '\\' && p[1])
      p++;
    else
      a->any = (*p == '.');
    a->c = *p;
  }
  return 0;
}

static int
atomhit(const struct atom *a, char c)
{
  return c != 0 && (a->any || a->c == c);
}

// Does atoms[i..] match at the beginning of s?
static int
matchhere(int i, const char *s)
{
  for (; i < natoms; i++) {
    if (atoms[i].star) {
      // Take as many as possible, then give back one at a time.
      const char *t = s;
      while (atomhit(&atoms[i], *t))
        t++;
      for (; t >= s; t--)
        if (matchhere(i + 1, t))
          return 1;
      return 0;
    }
    if (!atomhit(&atoms[i], *s))
      return 0;
    s++;
  }
  return !atend || *s == 0;
}

static int
match(const char *line)
{
  if (atstart)
    return matchhere(0, line);
  for (const char *s = line;; s++) {
    if (matchhere(0, s))
      return 1;
    if (*s == 0)
      return 0;
  }
}

// Buffered line input. A line longer than the buffer comes in pieces.
#define BUFSZ 4096
static char buf[BUFSZ + 1];   // + 1 for the NUL after a full buffer
static int buflen, bufpos, bufeof;
static int readerr;

// Returns the next line without its '\n', or 0 at end of input or on an
// error (readerr is set).
static char *
nextline(int fd)
{
  for (;;) {
    for (int k = bufpos; k < buflen; k++) {
      if (buf[k] == '\n') {
        char *line = buf + bufpos;
        buf[k] = 0;
        bufpos = k + 1;
        return line;
      }
    }
    memmove(buf, buf + bufpos, buflen - bufpos);
    buflen -= bufpos;
    bufpos = 0;
    if (buflen == BUFSZ || (bufeof && buflen > 0)) {
      buf[buflen] = 0;   // a piece of a long line, or a last line without '\n'
      bufpos = buflen;
      return buf;
    }
    if (bufeof)
      return 0;
    int n = read(fd, buf + buflen, BUFSZ - buflen);
    if (n < 0) {
      readerr = errno;
      return 0;
    }
    if (n == 0)
      bufeof = 1;   // do not read again: a console would wait for more
    buflen += n;
  }
}

// Greps one open file; returns the number of lines selected, or -1.
static int
grepfd(int fd, const char *name, int showname)
{
  int selected = 0;
  char *line;

  buflen = bufpos = bufeof = readerr = 0;
  while ((line = nextline(fd)) != 0) {
    if (match(line) == invert)
      continue;
    selected++;
    if (!countonly)
      printf("%s%s%s\n", showname ? name : "", showname ? ":" : "", line);
  }
  if (readerr) {
    fprintf(2, "grep: %s: %s\n", name, strerror(readerr));
    return -1;
  }
  if (countonly)
    printf("%s%s%d\n", showname ? name : "", showname ? ":" : "", selected);
  return selected;
}

static const char usage[] =
  "usage: grep [-vc] PATTERN [FILE...]\n"
  "  print the lines that match PATTERN (. any character, x* repeats,\n"
  "  ^ and $ anchor, \\ quotes); FILE - or none: standard input\n"
  "  -v  the lines that do not match\n"
  "  -c  only how many lines\n";

int
main(int argc, char *argv[])
{
  int c;
  argsinit("grep", usage);
  while ((c = getopt(argc, argv, "vc")) != -1) {
    invert |= c == 'v';
    countonly |= c == 'c';
  }
  int i = optind;
  if (i >= argc)
    argmissing("pattern");
  if (compile(argv[i]) < 0)
    argbad(0, "pattern", argv[i], "too long");
  i++;

  int nfiles = argc - i, total = 0, failed = 0;
  if (nfiles == 0)
    total = grepfd(0, "(standard input)", 0);
  for (; i < argc; i++) {
    int fd = strcmp(argv[i], "-") == 0 ? 0 : open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "grep: %s: %s\n", argv[i], strerror(errno));
      failed = 1;
      continue;
    }
    int n = grepfd(fd, fd == 0 ? "(standard input)" : argv[i], nfiles > 1);
    if (fd != 0)
      close(fd);
    if (n < 0)
      failed = 1;
    else
      total += n;
  }
  if (failed || total < 0)
    return 2;
  return total > 0 ? 0 : 1;
}
