// sysctl: read and write the kernel's settings by Linux's names, in the
// shape of procps's sysctl.
//   sysctl [-n] NAME...        print NAME = VALUE (-n: the value alone)
//   sysctl [-n] -a             every setting
//   sysctl [-n] -w NAME=VALUE...   set, then print as above
// The same names are settable at boot: sysctl.NAME=VALUE on the kernel
// command line.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

#define NAMEMAX 64

static const char usage[] =
  "usage: sysctl [-n] NAME...\n"
  "       sysctl [-n] -a\n"
  "       sysctl [-n] -w NAME=VALUE...\n"
  "  -a   show every setting\n"
  "  -n   show values only, without names\n"
  "  -w   set: NAME=VALUE, VALUE a decimal integer\n";

static int valuesonly;

static void
show(const char *name, int value)
{
  if (valuesonly)
    printf("%d\n", value);
  else
    printf("%s = %d\n", name, value);
}

static int
readone(const char *name)
{
  int v;
  if (sysctl(name, &v, 0) < 0) {
    fprintf(2, "sysctl: cannot read key \"%s\": %s\n", name,
            errno == ENOENT ? "no such setting" : strerror(errno));
    return 1;
  }
  show(name, v);
  return 0;
}

// No setting is negative or needs more than nine digits.
static int
isvalue(const char *s)
{
  int n = 0;
  for (; isdigit(s[n]); n++)
    ;
  return n > 0 && n <= 9 && s[n] == 0;
}

// NAME=VALUE: the name is the text before '=' (into name); the value is
// checked here, its range by the kernel.
static int
writeone(char *arg)
{
  char *eq = strchr(arg, '=');
  if (eq == 0 || eq == arg)
    argbad("-w", "setting", arg, "must be of the form NAME=VALUE");
  if (eq - arg >= NAMEMAX)
    argbad("-w", "setting", arg, "name too long");
  if (!isvalue(eq + 1))
    argbad("-w", "setting", arg, "VALUE must be a whole number from 0 to 999999999");
  int v = atoi(eq + 1);
  char name[NAMEMAX];
  memmove(name, arg, eq - arg);
  name[eq - arg] = 0;
  if (sysctl(name, 0, &v) < 0) {
    fprintf(2, "sysctl: setting key \"%s\": %s\n", name,
            errno == ENOENT ? "no such setting" : errno == EINVAL ? "value out of range" :
            strerror(errno));
    return 1;
  }
  show(name, v);
  return 0;
}

static int
readall(void)
{
  char name[NAMEMAX];
  int failed = 0;
  for (int i = 0; sysctlname(i, name, sizeof name) == 0; i++)
    failed |= readone(name);
  return failed;
}

int
main(int argc, char **argv)
{
  int all = 0, write = 0, c, failed = 0;

  argsinit("sysctl", usage);
  while ((c = getopt(argc, argv, "anw")) != -1) {
    if (c == 'a')
      all = 1;
    else if (c == 'n')
      valuesonly = 1;
    else
      write = 1;
  }
  if (all && (write || optind < argc))
    usagefail("-a takes no names and no -w");
  if (all)
    return readall();
  if (optind == argc)
    argmissing(write ? "NAME=VALUE" : "setting name");
  for (int i = optind; i < argc; i++)
    failed |= write ? writeone(argv[i]) : readone(argv[i]);
  return failed;
}
