// Network information system calls: interfaces and counters.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/errno.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/arp.h"
#include "kernel/net/ip.h"
#include "kernel/net/sock.h"
#include "kernel/spinlock.h"
#include "kernel/param.h"

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
  net_stats(&info);
  return copyout(myproc()->pgdir, uva, &info, sizeof info);
}

// Argument n as an interface name; 0 for a null pointer when allownull.
static int
argnetdev(int n, struct netdev **pdev, int allownull)
{
  char name[IFNAMSIZ];
  uint uva;
  int err;

  if (arguint(n, &uva) < 0)
    return -EFAULT;
  if (uva == 0 && allownull) {
    *pdev = 0;
    return 0;
  }
  if ((err = argstr(n, name, sizeof name)) < 0)
    return err == -ENAMETOOLONG ? -ENODEV : err;
  if ((*pdev = netdev_byname(name)) == 0)
    return -ENODEV;
  return 0;
}

// netifset(ifname, struct netif_conf *)
int
sys_netifset(void)
{
  struct netdev *dev;
  struct netif_conf conf;
  uint uva;
  int err;

  if ((err = argnetdev(0, &dev, 0)) < 0)
    return err;
  if (arguint(1, &uva) < 0 || copyin(myproc()->pgdir, &conf, uva, sizeof conf) < 0)
    return -EFAULT;
  if ((conf.set & NETIF_SET_MTU) && (conf.mtu < 68 || conf.mtu > 1500))
    return -EINVAL;
  if (conf.set & NETIF_SET_MTU)
    dev->mtu = conf.mtu;
  if (conf.set & NETIF_SET_DOWN)
    dev->flags &= ~IFF_UP;
  if (conf.set & NETIF_SET_UP)
    dev->flags |= IFF_UP;
  uint oldflags = dev->flags;
  if (conf.set & NETIF_SET_PROMISC)
    dev->flags |= IFF_PROMISC;
  if (conf.set & NETIF_SET_NOPROMISC)
    dev->flags &= ~IFF_PROMISC;
  if (dev->flags != oldflags && dev->ops->setflags)
    dev->ops->setflags(dev);
  if (conf.set & NETIF_SET_ADDR)
    netdev_setaddr(dev, conf.ipaddr, conf.netmask);
  return 0;
}

// create_arp(ifname, ipaddr, uchar mac[6], timeout_ms): ask who has ipaddr
// and wait for the answer.
int
sys_create_arp(void)
{
  struct netdev *dev;
  uint ip, umac;
  int timeout_ms, err;
  uchar mac[ETH_ALEN];

  if ((err = argnetdev(0, &dev, 0)) < 0)
    return err;
  if (arguint(1, &ip) < 0 || arguint(2, &umac) < 0 || argint(3, &timeout_ms) < 0)
    return -EFAULT;
  if (timeout_ms <= 0 || timeout_ms > 60000)
    return -EINVAL;
  if (ip == 0 || ip == 0xFFFFFFFF)
    return -EINVAL;
  if (!uvmaccessible(myproc()->pgdir, umac, ETH_ALEN, 1))
    return -EFAULT;
  if ((err = arp_query(dev, ip, mac, (timeout_ms * HZ + 999) / 1000)) < 0)
    return err;
  return copyout(myproc()->pgdir, umac, mac, ETH_ALEN);
}

int
sys_arplist(void)
{
  int index, err;
  uint uva;
  struct arpreq req;

  if (argint(0, &index) < 0 || arguint(1, &uva) < 0)
    return -EFAULT;
  if ((err = arp_list(index, &req)) < 0)
    return err;
  return copyout(myproc()->pgdir, uva, &req, sizeof req);
}

int
sys_arpset(void)
{
  struct arpreq req;
  struct netdev *dev;
  uint uva;

  if (arguint(0, &uva) < 0 || copyin(myproc()->pgdir, &req, uva, sizeof req) < 0)
    return -EFAULT;
  req.ifname[IFNAMSIZ - 1] = 0;
  if ((dev = netdev_byname(req.ifname)) == 0 || dev->type != ARPHRD_ETHER)
    return -ENODEV;
  if (req.ipaddr == 0 || (req.mac[0] & 1))
    return -EINVAL;
  return arp_set(dev, req.ipaddr, req.mac);
}

// arpdel(ipaddr, ifname or 0)
int
sys_arpdel(void)
{
  struct netdev *dev;
  uint ip;
  int err;

  if (arguint(0, &ip) < 0)
    return -EFAULT;
  if ((err = argnetdev(1, &dev, 1)) < 0)
    return err;
  return arp_delete(dev, ip);
}

// clock(struct timeval *): time since boot with microsecond resolution,
// from the tick count and the LAPIC timer's progress through this tick.
int
sys_clock(void)
{
  uint uva;
  struct timeval tv;

  if (arguint(0, &uva) < 0)
    return -EFAULT;
  uint64 us = clockus();
  // Never backwards, whatever the races between a stamp and a reading.
  static uint64 last;
  static struct spinlock lk = { 0, "clock" };
  acquire(&lk);
  if (us < last)
    us = last;
  last = us;
  release(&lk);
  tv.tv_sec = us / 1000000;
  tv.tv_usec = us % 1000000;
  return copyout(myproc()->pgdir, uva, &tv, sizeof tv);
}

int
sys_routelist(void)
{
  int index, err;
  uint uva;
  struct rtentry rt;

  if (argint(0, &index) < 0 || arguint(1, &uva) < 0)
    return -EFAULT;
  if ((err = route_list(index, &rt)) < 0)
    return err;
  return copyout(myproc()->pgdir, uva, &rt, sizeof rt);
}

static int
argrtentry(int n, struct rtentry *rt)
{
  uint uva;
  if (arguint(n, &uva) < 0 || copyin(myproc()->pgdir, rt, uva, sizeof *rt) < 0)
    return -EFAULT;
  rt->ifname[IFNAMSIZ - 1] = 0;
  return 0;
}

int
sys_routeadd(void)
{
  struct rtentry rt;
  int err = argrtentry(0, &rt);
  return err < 0 ? err : route_add(&rt);
}

int
sys_routedel(void)
{
  struct rtentry rt;
  int err = argrtentry(0, &rt);
  return err < 0 ? err : route_del(&rt);
}

int
sys_socklist(void)
{
  int index, err;
  uint uva;
  struct sockinfo si;

  if (argint(0, &index) < 0 || arguint(1, &uva) < 0)
    return -EFAULT;
  if ((err = sock_list(index, &si)) < 0)
    return err;
  return copyout(myproc()->pgdir, uva, &si, sizeof si);
}
