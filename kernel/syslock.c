// Lock statistics and the lock-order graph for user space (kernel/lockdep.c,
// kernel/lockstat.h; the lockstat program).

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/errno.h"
#include "kernel/param.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/lockstat.h"

// lockstat(buf, n): up to n classes' counts into buf; the number of classes.
int
sys_lockstat(void)
{
  uint uva;
  int n, total;
  struct lockstat ls;

  if (arguint(0, &uva) < 0 || argint(1, &n) < 0)
    return -EFAULT;
  if (n < 0)
    return -EINVAL;
  total = lockstat_get(-1, &ls);
  for (int i = 0; i < n && i < total; i++) {
    lockstat_get(i, &ls);
    if (copyout(myproc()->pgdir, uva + i * sizeof ls, &ls, sizeof ls) < 0)
      return -EFAULT;
  }
  return total;
}

// lockorder(buf, n): up to n edges of the order graph; how many there are.
int
sys_lockorder(void)
{
  uint uva;
  int n, k;
  struct lockedge e;

  if (arguint(0, &uva) < 0 || argint(1, &n) < 0)
    return -EFAULT;
  if (n < 0)
    return -EINVAL;
  for (k = 0; lockorder_get(k, &e); k++)
    if (k < n && copyout(myproc()->pgdir, uva + k * sizeof e, &e, sizeof e) < 0)
      return -EFAULT;
  return k;
}
