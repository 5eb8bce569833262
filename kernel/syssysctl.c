// System-call glue for the kernel's settings (kernel/net/sysctl.c):
// argument fetching and user-memory copies, nothing else.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/errno.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/net/sysctl.h"

// sysctl(name, int *oldval, const int *newval): the value before into
// *oldval, then *newval set; either pointer may be 0. Nothing changes
// unless every pointer given is good.
int
sys_sysctl(void)
{
  char name[SYSCTL_NAMEMAX];
  uint uold, unew;
  int old, new, err;

  if ((err = argstr(0, name, sizeof name)) < 0)
    return err == -ENAMETOOLONG ? -ENOENT : err;
  if (arguint(1, &uold) < 0 || arguint(2, &unew) < 0)
    return -EFAULT;
  if (unew && copyin(myproc()->pgdir, &new, unew, sizeof new) < 0)
    return -EFAULT;
  if ((err = sysctl_get(name, &old)) < 0)
    return err;
  if (uold && copyout(myproc()->pgdir, uold, &old, sizeof old) < 0)
    return -EFAULT;
  return unew ? sysctl_set(name, new) : 0;
}

// sysctlname(index, buf, len): the index-th setting's name.
int
sys_sysctlname(void)
{
  char name[SYSCTL_NAMEMAX];
  int index, len, err;
  uint ubuf;

  if (argint(0, &index) < 0 || arguint(1, &ubuf) < 0 || argint(2, &len) < 0)
    return -EFAULT;
  if ((err = sysctl_name(index, name, sizeof name)) < 0)
    return err;
  int n = strlen(name) + 1;
  if (len < n)
    return -ENAMETOOLONG;
  return copyout(myproc()->pgdir, ubuf, name, n);
}
