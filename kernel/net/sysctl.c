// Kernel settings by Linux's sysctl names (net.ipv4.ip_forward, ...).
//
// Each subsystem registers the integers it reads, with their bounds, from
// its init function. The kernel command line sets them at boot, in Linux's
// form (sysctl.net.ipv4.ip_forward=1, which Linux takes since 5.8) or by
// the short keys this kernel took before there was a sysctl (ip.reasmtime=2);
// the sysctl system call (kernel/syssysctl.c) reads and writes them later.
//
// The table is filled at boot, before there is a second thread, and never
// changes after: lookups need no lock. A value is one aligned int, so a
// reader sees the old value or the new one; a subsystem that derives state
// from it does so in its changed callback, under its own lock.

#include "kernel/net/netos.h"
#include "kernel/net/sysctl.h"

#define NSYSCTL 16

static const struct sysctl *table[NSYSCTL];
static int ntable;

static int
namelen(const char *s)
{
  int n = 0;
  while (s[n])
    n++;
  return n;
}

static const struct sysctl *
lookup(const char *name)
{
  int n = namelen(name);
  for (int i = 0; i < ntable; i++)
    if (namelen(table[i]->name) == n && strncmp(table[i]->name, name, n) == 0)
      return table[i];
  return 0;
}

// A decimal number, optionally negative; 0 if str is not one.
static int
parseint(const char *str, int *out)
{
  int neg = *str == '-';
  const char *p = str + neg;
  if (*p == 0)
    return 0;
  for (const char *q = p; *q; q++)
    if (*q < '0' || *q > '9' || q - p > 9)
      return 0;
  *out = neg ? -atoi(p) : atoi(p);
  return 1;
}

// The value the command line gives s, if any (sysctl.NAME first).
static void
bootvalue(const struct sysctl *s)
{
  char key[7 + SYSCTL_NAMEMAX], v[16];
  int val;

  memmove(key, "sysctl.", 7);
  safestrcpy(key + 7, s->name, SYSCTL_NAMEMAX);
  if (!cmdlineget(key, v, sizeof v) && !(s->bootkey && cmdlineget(s->bootkey, v, sizeof v)))
    return;
  if (!parseint(v, &val) || val < s->min || val > s->max) {
    cprintf("sysctl: %s=%s refused (from %d to %d)\n", s->name, v, s->min, s->max);
    return;
  }
  *s->val = val;
}

void
sysctl_register(const struct sysctl *s)
{
  if (ntable == NSYSCTL || namelen(s->name) >= SYSCTL_NAMEMAX || lookup(s->name))
    panic("sysctl_register %s", s->name);
  table[ntable++] = s;
  bootvalue(s);
  if (s->changed)
    s->changed();
}

int
sysctl_get(const char *name, int *val)
{
  const struct sysctl *s = lookup(name);
  if (s == 0)
    return -ENOENT;
  *val = *s->val;
  return 0;
}

int
sysctl_set(const char *name, int val)
{
  const struct sysctl *s = lookup(name);
  if (s == 0)
    return -ENOENT;
  if (val < s->min || val > s->max)
    return -EINVAL;
  *s->val = val;
  if (s->changed)
    s->changed();
  return 0;
}

int
sysctl_name(int index, char *buf, int max)
{
  if (index < 0 || index >= ntable)
    return -ENOENT;
  safestrcpy(buf, table[index]->name, max);
  return 0;
}
