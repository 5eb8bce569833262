// Command-line parsing shared by every program, so that all of them treat
// bad input the way Linux's tools do:
//
//   -h and --help print the usage on standard output and exit 0;
//   a missing, malformed or out-of-range argument prints one line that
//   names the argument and says what is wrong with it, then the usage, on
//   standard error, and exits 2.
//
// A program calls argsinit(name, usage) first, reads its options with
// getopt (GNU style: options may follow operands, "--" ends them, "-c3"
// and "-c 3" both work, "-qv" groups flags) and converts values with the
// arg* functions, which never return on bad input. user/lib/netargs.c has
// the network ones (addresses, MACs, ports, interfaces).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "user/user.h"

#define INT_MAX 0x7fffffff

char *optarg;
int optind = 1;

static const char *progname = "?";
static const char *progusage = "";
static int optpos;     // inside a group of flags such as -qv: the next one
static int optorig;    // where the current option stood before it was moved

void
argsinit(const char *prog, const char *usage)
{
  progname = prog;
  progusage = usage;
  optind = 1;
  optpos = 0;
}

const char *
argprog(void)
{
  return progname;
}

void
usagehelp(void)
{
  printf("%s", progusage);
  exit(0);
}

void
usagefail(const char *fmt, ...)
{
  char msg[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(2, "%s: %s\n%s", progname, msg, progusage);
  exit(2);
}

void
argmissing(const char *what)
{
  usagefail("missing %s", what);
}

void
argextra(const char *arg)
{
  usagefail("unexpected argument '%s'", arg);
}

void
argbad(const char *opt, const char *what, const char *value, const char *why)
{
  usagefail("%s%sinvalid %s '%s': %s", opt ? opt : "", opt ? ": " : "", what, value, why);
}

// "-h" or "--help" anywhere before "--": for programs whose arguments are
// words rather than options (route, kprof, sh).
void
arghelp(int argc, char **argv)
{
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
      usagehelp();
}

static int
isoption(const char *a)
{
  return a[0] == '-' && a[1] != 0;
}

// Moves argv[from] down to argv[to] (to < from), shifting the ones in
// between up: an option found after operands comes before them, so that
// the operands end up in order at argv[optind..] when getopt is done.
static void
rotate(char **argv, int to, int from)
{
  char *a = argv[from];
  for (int i = from; i > to; i--)
    argv[i] = argv[i - 1];
  argv[to] = a;
}

// Brings the next option (or "--") to argv[optind]; 0 if only operands are
// left.
static int
nextoption(int argc, char **argv)
{
  for (int i = optind; i < argc; i++) {
    if (isoption(argv[i])) {
      rotate(argv, optind, i);
      optorig = i;
      return 1;
    }
  }
  return 0;
}

// The option character at argv[optind][optpos]; its argument, if opts
// says it takes one ("c:"), in optarg. -1 when only operands are left.
int
getopt(int argc, char **argv, const char *opts)
{
  optarg = 0;
  if (optpos == 0) {
    if (optind >= argc || !nextoption(argc, argv))
      return -1;
    if (strcmp(argv[optind], "--") == 0) {
      optind++;
      return -1;
    }
    if (strcmp(argv[optind], "--help") == 0)
      usagehelp();
    if (argv[optind][1] == '-')
      usagefail("unrecognized option '%s'", argv[optind]);
    optpos = 1;
  }
  char *arg = argv[optind];
  int c = arg[optpos++];
  char *spec = c == ':' ? 0 : strchr(opts, c);
  if (arg[optpos] == 0) {
    optind++;
    optpos = 0;
  }
  if (spec == 0 && c == 'h')
    usagehelp();
  if (spec == 0)
    usagefail("invalid option -- '%c'", c);
  if (spec[1] != ':')
    return c;
  if (optpos) {                     // -c3
    optarg = arg + optpos;
    optind++;
    optpos = 0;
  } else if (optorig + 1 < argc) {  // -c 3: the 3 follows where -c stood
    rotate(argv, optind, optorig + 1);
    optarg = argv[optind++];
  } else {
    usagefail("option requires an argument -- '%c'", c);
  }
  return c;
}

// A decimal integer: an optional '-', then digits, nothing else. Out of
// range for an int is reported as out of range, not wrapped.
static int
parsedecimal(const char *s, long long *out)
{
  int neg = *s == '-';
  long long v = 0;
  if (neg)
    s++;
  if (!isdigit(*s))
    return -1;
  for (; isdigit(*s); s++)
    if ((v = v * 10 + (*s - '0')) > 0x100000000LL)
      v = 0x100000000LL;   // saturate: far beyond any int
  if (*s)
    return -1;
  *out = neg ? -v : v;
  return 0;
}

static void
rangefail(const char *opt, const char *what, const char *s, long long min, long long max)
{
  char why[64];
  if (max == INT_MAX)
    snprintf(why, sizeof why, "must be %lld or more", min);
  else
    snprintf(why, sizeof why, "must be from %lld to %lld", min, max);
  argbad(opt, what, s, why);
}

int
argnum(const char *opt, const char *what, const char *s, int min, int max)
{
  long long v;
  if (parsedecimal(s, &v) < 0)
    argbad(opt, what, s, "not a number");
  if (v < min || v > max)
    rangefail(opt, what, s, min, max);
  return v;
}

// Seconds with up to three decimals ("2", "0.2", ".5") as milliseconds.
int
argsecs(const char *opt, const char *what, const char *s, int minms, int maxms)
{
  const char *p = s;
  long long ms = 0;
  int scale = 100;
  int neg = *p == '-';
  if (neg)
    p++;
  if (!isdigit(*p) && !(p[0] == '.' && isdigit(p[1])))
    argbad(opt, what, s, "not a number of seconds");
  for (; isdigit(*p); p++)
    if ((ms = ms * 10 + (*p - '0')) > 0x100000000LL)
      ms = 0x100000000LL;
  ms *= 1000;
  if (*p == '.')
    for (p++; isdigit(*p); p++, scale /= 10)
      ms += (*p - '0') * scale;
  if (*p)
    argbad(opt, what, s, "not a number of seconds");
  if (neg)
    ms = -ms;
  if (ms < minms || ms > maxms) {
    char why[64];
    snprintf(why, sizeof why, "must be from %d.%03d to %d seconds",
             minms / 1000, minms % 1000, maxms / 1000);
    argbad(opt, what, s, why);
  }
  return ms;
}

// The last component of path, trailing slashes left out (at most DIRSIZ-1
// characters), in a static buffer.
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

int
argtargets(int argc, char **argv, int (*op)(const char *from, const char *to))
{
  struct stat st;
  char dest[MAXPATH];
  int status = 0;

  if (argc < 2)
    argmissing(argc < 1 ? "file operand" : "destination file operand");
  const char *last = argv[argc - 1];
  int isdir = stat(last, &st) == 0 && st.type == T_DIR;
  if (argc > 2 && !isdir) {
    fprintf(2, "%s: target '%s' is not a directory\n", argprog(), last);
    return 1;
  }
  for (int i = 0; i < argc - 1; i++) {
    if (isdir) {
      snprintf(dest, sizeof dest, "%s/%s", last, basename(argv[i]));
      status |= op(argv[i], dest);
    } else {
      status |= op(argv[i], last);
    }
  }
  return status;
}
