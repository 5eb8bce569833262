// The interface table: drivers register here and hand received frames up
// through netdev_input; the layers above send through netdev_xmit.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/spinlock.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/sock.h"

static struct {
  struct spinlock lock;
  struct netdev *devs[NNETDEV];
  int n;
} table;

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
  table.devs[table.n++] = dev;
  release(&table.lock);

  if (dev->ops->open && dev->ops->open(dev) < 0) {
    cprintf("%s: failed to open\n", dev->name);
    return -1;
  }
  dev->flags |= IFF_UP | IFF_RUNNING;
  return 0;
}

struct netdev *
netdev_byindex(int index)
{
  struct netdev *dev = 0;
  acquire(&table.lock);
  if (index >= 1 && index <= table.n)
    dev = table.devs[index - 1];
  release(&table.lock);
  return dev;
}

struct netdev *
netdev_byname(const char *name)
{
  struct netdev *dev = 0;
  acquire(&table.lock);
  for (int i = 0; i < table.n; i++)
    if (strncmp(table.devs[i]->name, name, IFNAMSIZ) == 0)
      dev = table.devs[i];
  release(&table.lock);
  return dev;
}

int
netdev_count(void)
{
  return table.n;
}

// A driver received a whole frame (FCS stripped) into pb; pb is ours now.
void
netdev_input(struct netdev *dev, struct pbuf *pb)
{
  pb->dev = dev;
  acquire(&dev->statlock);
  dev->stats.rx_packets++;
  dev->stats.rx_bytes += pbuf_len(pb);
  release(&dev->statlock);
  if (!(dev->flags & IFF_UP)) {
    NETSTAT_ADD(dev, rx_dropped, 1);
    pbuf_free(pb);
    return;
  }
  ether_input(dev, pb);
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
  acquire(&dev->statlock);
  out->stats = dev->stats;
  release(&dev->statlock);
}

void
netinit(void)
{
  initlock(&table.lock, "netdev");
  pbufinit();
  etherinit();
  socketinit();
  loopbackinit();
}
