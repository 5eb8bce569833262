// The packet trace's system calls (kernel/net/nettrace.h): turn it on or
// off, and read its records as text, one line each.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/errno.h"
#include "kernel/param.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/net/netdev.h"
#include "kernel/net/nettrace.h"

#define LINEMAX 160

// nettrace(mask): mask -1 only asks. Returns the mask before.
int
sys_nettrace(void)
{
  int mask;
  if (argint(0, &mask) < 0)
    return -EFAULT;
  if (mask == -1)
    return nettrace_mask;
  return nettrace_set(mask);
}

// How many arguments fmt takes (its conversions, but not "%%").
static int
convs(const char *fmt)
{
  int n = 0;
  for (const char *p = fmt; *p; p++)
    if (*p == '%' && *++p != '%')
      n++;
  return n;
}

// One record as a line: "[seconds.ms] cpuN text\n"; its length.
static int
format(const struct nettrace_rec *r, char *buf)
{
  int n = snprintf(buf, LINEMAX, "[%5d.%03d] cpu%d ", r->tick / HZ, r->tick % HZ * (1000 / HZ),
                   r->cpu);
  const uint *a = r->arg;
  if (convs(r->fmt) > NETTRACE_NARGS)   // a trace point with too many arguments: say so
    n += snprintf(buf + n, LINEMAX - n, "(bad trace format) %s", r->fmt);
  else
    n += snprintf(buf + n, LINEMAX - n, r->fmt, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
  if (n > LINEMAX - 2)
    n = LINEMAX - 2;
  buf[n++] = '\n';
  buf[n] = 0;
  return n;
}

// nettraceread(buf, len): whole lines, the oldest first, as many as fit;
// a line saying how many were lost if the ring overflowed since the last
// read. Returns the bytes written (0: nothing new).
int
sys_nettraceread(void)
{
  uint uva;
  int len, total = 0;
  char line[LINEMAX + 1];
  struct nettrace_rec r;
  uint lost;

  if (arguint(0, &uva) < 0 || argint(1, &len) < 0)
    return -EFAULT;
  if (len < 2 * LINEMAX)   // room for a line, and for the one saying lines were lost
    return -EINVAL;
  while (total + 2 * LINEMAX <= len && nettrace_take(&r, 1, &lost) == 1) {
    if (lost) {
      int n = snprintf(line, sizeof line, "nettrace: %d records lost (the ring is %d)\n",
                       lost, NETTRACE_NREC);
      if (copyout(myproc()->pgdir, uva + total, line, n) < 0)
        return -EFAULT;
      total += n;
    }
    int n = format(&r, line);
    if (copyout(myproc()->pgdir, uva + total, line, n) < 0)
      return -EFAULT;
    total += n;
  }
  return total;
}
