// Network information system calls: interfaces and counters.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/errno.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"

// netifget(index, struct netif_info *): interfaces are numbered from 1.
int
sys_netifget(void)
{
  int index;
  uint uva;
  struct netif_info info;
  struct netdev *dev;

  if (argint(0, &index) < 0 || arguint(1, &uva) < 0)
    return -EFAULT;
  if ((dev = netdev_byindex(index)) == 0)
    return -ENODEV;
  netdev_info(dev, &info);
  return copyout(myproc()->pgdir, uva, &info, sizeof info);
}

int
sys_netstat(void)
{
  uint uva;
  struct netstat_info info;

  if (arguint(0, &uva) < 0)
    return -EFAULT;
  memset(&info, 0, sizeof info);
  info.pbuf_free = pbuf_nfree();
  info.pbuf_total = pbuf_total();
  ether_stats(&info);
  return copyout(myproc()->pgdir, uva, &info, sizeof info);
}
