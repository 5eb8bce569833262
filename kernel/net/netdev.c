// The interface table: drivers register here and hand received frames up
// through netdev_input; the layers above send through netdev_xmit.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/spinlock.h"
#include "kernel/mmu.h"
#include "kernel/x86.h"
#include "kernel/proc.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/sock.h"
#include "kernel/net/arp.h"
#include "kernel/net/wire.h"
#include "kernel/net/ip.h"

static struct {
  struct spinlock lock;
  struct netdev *devs[NNETDEV];
  int n;
} table;

// Devices with received frames waiting, for the netrx thread.
static struct {
  struct spinlock lock;
  struct netdev *head, *tail;
} rxsched;

// Name the device prefix0, prefix1, ... in registration order and give it
// the next index.
int
netdev_register(struct netdev *dev, const char *prefix)
{
  int unit = 0;

  acquire(&table.lock);
  if (table.n >= NNETDEV) {
    release(&table.lock);
    return -1;
  }
  for (int i = 0; i < table.n; i++)
    if (strncmp(table.devs[i]->name, prefix, strlen(prefix)) == 0)
      unit++;
  snprintf(dev->name, sizeof dev->name, "%s%d", prefix, unit);
  if (dev->type == ARPHRD_LOOPBACK)
    safestrcpy(dev->name, prefix, sizeof dev->name);
  dev->index = table.n + 1;
  initlock(&dev->statlock, dev->name);
  table.devs[table.n] = dev;
  __sync_synchronize();   // the entry is in place before readers can see it
  table.n++;
  release(&table.lock);

  if (dev->ops->open && dev->ops->open(dev) < 0) {
    cprintf("%s: failed to open\n", dev->name);
    return -1;
  }
  dev->flags |= IFF_UP | IFF_RUNNING;
  return 0;
}

// Interfaces are only ever added, each entry before the count that covers
// it: lookups read the table without the lock (they run for every packet).
struct netdev *
netdev_byindex(int index)
{
  int n = *(volatile int *)&table.n;
  if (index >= 1 && index <= n)
    return table.devs[index - 1];
  return 0;
}

struct netdev *
netdev_byname(const char *name)
{
  int n = *(volatile int *)&table.n;
  for (int i = 0; i < n; i++)
    if (strncmp(table.devs[i]->name, name, IFNAMSIZ) == 0)
      return table.devs[i];
  return 0;
}

int
netdev_count(void)
{
  return *(volatile int *)&table.n;
}

// A driver received a whole frame (FCS stripped) into pb; pb is ours now.
void
netdev_input(struct netdev *dev, struct pbuf *pb)
{
  pb->next = 0;
  netdev_input_list(dev, pb);
}

// A driver's batch of whole frames, linked through next (0 ends it): counted
// under one acquisition of the statistics lock, then handed up one by one.
void
netdev_input_list(struct netdev *dev, struct pbuf *head)
{
  uint packets = 0, bytes = 0;
  for (struct pbuf *pb = head; pb; pb = pb->next) {
    packets++;
    bytes += pbuf_len(pb);
  }
  acquire(&dev->statlock);
  dev->stats.rx_packets += packets;
  dev->stats.rx_bytes += bytes;
  release(&dev->statlock);
  while (head) {
    struct pbuf *pb = head;
    head = pb->next;
    pb->next = 0;
    pb->dev = dev;
    if (!(dev->flags & IFF_UP)) {
      NETSTAT_ADD(dev, rx_dropped, 1);
      pbuf_free(pb);
      continue;
    }
    ether_input(dev, pb);
  }
}

// Send a whole frame; pb is consumed whatever happens.
int
netdev_xmit(struct netdev *dev, struct pbuf *pb)
{
  uint len = pbuf_len(pb);

  if (!(dev->flags & IFF_UP)) {
    NETSTAT_ADD(dev, tx_dropped, 1);
    pbuf_free(pb);
    return -ENETDOWN;
  }
  packet_tap_out(dev, pb);
  int err = dev->ops->xmit(dev, pb);
  acquire(&dev->statlock);
  if (err < 0) {
    dev->stats.tx_dropped++;
  } else {
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += len;
  }
  release(&dev->statlock);
  return err;
}

void
netdev_info(struct netdev *dev, struct netif_info *out)
{
  memset(out, 0, sizeof *out);
  out->index = dev->index;
  safestrcpy(out->name, dev->name, sizeof out->name);
  memmove(out->mac, dev->mac, ETH_ALEN);
  out->type = dev->type;
  out->mtu = dev->mtu;
  out->flags = dev->flags;
  out->ipaddr = dev->ipaddr;
  out->netmask = dev->netmask;
  if (dev->driver)
    safestrcpy(out->driver, dev->driver, sizeof out->driver);
  acquire(&dev->statlock);
  out->stats = dev->stats;
  release(&dev->statlock);
}

static void
enqueue(struct netdev *dev)
{
  dev->nextsched = 0;
  if (rxsched.tail)
    rxsched.tail->nextsched = dev;
  else
    rxsched.head = dev;
  rxsched.tail = dev;
}

// Ask the netrx thread to poll dev, and say whether the interrupted process
// should give it the CPU now. Preempting a program on every receive
// interrupt starves the very program the frames are for, which then drops
// them at its full socket queue after the kernel has done all the work. So
// only the first interrupt of a clock tick preempts (a busy machine still
// answers at once, not at the next tick), and later ones only when the
// driver says its ring is filling (urgent).
void
netdev_schedule(struct netdev *dev, int urgent)
{
  static uint lastforced = ~0u;   // the tick of the last such preemption
  uint now = readticks();
  if (now != lastforced) {
    lastforced = now;
    urgent = 1;
  }
  acquire(&rxsched.lock);
  if (dev->scheduled) {
    dev->missed = 1;
  } else {
    dev->scheduled = 1;
    enqueue(dev);
    wakeup(&rxsched);
  }
  if (urgent)
    mycpu()->needresched = 1;
  release(&rxsched.lock);
}

// The receive thread: protocol processing for every frame happens here, in
// process context and taking turns with user processes, so that a flood of
// frames cannot starve the rest of the system (no receive livelock).
static void
netrx(void *arg)
{
  (void)arg;
  for (;;) {
    acquire(&rxsched.lock);
    while (rxsched.head == 0)
      sleep(&rxsched, &rxsched.lock);
    struct netdev *dev = rxsched.head;
    rxsched.head = dev->nextsched;
    if (rxsched.head == 0)
      rxsched.tail = 0;
    dev->missed = 0;
    release(&rxsched.lock);

    if (!(readeflags() & FL_IF))   // holds no lock here: so interrupts must be on
      panic("netrx: running with interrupts off");
    int done = dev->ops->poll(dev, NETRX_BUDGET);

    acquire(&rxsched.lock);
    int again = done >= NETRX_BUDGET || dev->missed;
    if (again)
      enqueue(dev);
    else
      dev->scheduled = 0;
    release(&rxsched.lock);
    if (!again && dev->ops->irqenable)
      dev->ops->irqenable(dev);
    if (again)
      yield();   // more to do: let others run first
  }
}

void
netinit(void)
{
  initlock(&table.lock, "netdev");
  initlock(&rxsched.lock, "netrx");
  pbufinit();
  etherinit();
  socketinit();
  arpinit();
  loopbackinit();
}

void
netstart(void)
{
  kthread_create("netrx", netrx, 0);
}

void
nettimer(uint now)
{
  arp_timer(now);
  ip_timer(now);
}

// Set an interface's IPv4 address and announce it (gratuitous ARP).
int
netdev_setaddr(struct netdev *dev, uint ipaddr, uint netmask)
{
  dev->ipaddr = ipaddr;
  dev->netmask = netmask;
  if (dev->flags & IFF_UP)
    arp_announce(dev);
  return 0;
}

// Linux's ip=<client>:<server>:<gateway>:<netmask>:<host>:<device>:<autoconf>
// (fields may be empty). Only the address, netmask and device are used here;
// the gateway is kept for the IPv4 routing table.
static uint cmdline_gateway;

static const char *
ipfield(const char *s, int n, char *out, int max)
{
  for (; n > 0 && *s; s++)
    if (*s == ':')
      n--;
  int i = 0;
  while (*s && *s != ':' && i < max - 1)
    out[i++] = *s++;
  out[i] = 0;
  return out;
}

void
netconfig(void)
{
  char ip[128], f[32];
  uint addr, mask = 0;
  struct netdev *dev;

  if (!cmdlineget("ip", ip, sizeof ip))
    return;
  // DHCP is user space's job (user/dhclient.c, started by init).
  if (strncmp(ip, "dhcp", 5) == 0 || strncmp(ipfield(ip, 6, f, sizeof f), "dhcp", 5) == 0) {
    cprintf("ip=%s: configured by dhclient, which init runs\n", ip);
    return;
  }
  if (wire_inet_aton(ipfield(ip, 0, f, sizeof f), &addr) < 0)
    return;
  if (ipfield(ip, 3, f, sizeof f)[0] && wire_inet_aton(f, &mask) < 0)
    mask = 0;
  if (mask == 0)
    mask = htonl(0xFFFFFF00);
  if (ipfield(ip, 2, f, sizeof f)[0])
    wire_inet_aton(f, &cmdline_gateway);
  char devname[IFNAMSIZ];
  safestrcpy(devname, ipfield(ip, 5, f, sizeof f)[0] ? f : "eth0", sizeof devname);
  dev = netdev_byname(devname);
  if (dev == 0) {
    cprintf("ip=: no interface %s\n", devname);
    return;
  }
  netdev_setaddr(dev, addr, mask);
  uint a = ntohl(addr);
  cprintf("%s: address %d.%d.%d.%d\n", dev->name, a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  if (cmdline_gateway) {
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    rt.gateway = cmdline_gateway;
    if (route_add(&rt) < 0)
      cprintf("ip=: gateway not on a connected network\n");
  }
}
