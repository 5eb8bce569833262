// The loopback interface: every frame sent comes straight back in.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"

// Frames wait in a queue for the netrx thread, as a card's would, so that
// sending to ourselves never recurses into the receive path.


#define LOOPBACK_QLEN 512

static struct netdev lo;
static struct spinlock lock;
static struct pbufq queue;

static int
loopback_xmit(struct netdev *dev, struct pbuf *pb)
{
  acquire(&lock);
  int full = pbufq_put(&queue, pb) < 0;
  int filling = queue.len >= LOOPBACK_QLEN / 2;
  release(&lock);
  if (full) {
    pbuf_free(pb);
    return -ENOBUFS;
  }
  // Urgent, as a card's filling ring is, once the queue is half full: the
  // sender then yields to netrx at the end of its system call instead of
  // spinning on ENOBUFS until the next tick.
  netdev_schedule(dev, filling);
  return 0;
}

static int
loopback_poll(struct netdev *dev, int budget)
{
  int done;
  for (done = 0; done < budget; done++) {
    acquire(&lock);
    struct pbuf *pb = pbufq_get(&queue);
    release(&lock);
    if (pb == 0)
      break;
    netdev_input(dev, pb);
  }
  return done;
}

static const struct netdev_ops loopback_ops = {
  .open = 0,
  .xmit = loopback_xmit,
  .poll = loopback_poll,
  .irqenable = 0,
};

void
loopbackinit(void)
{
  initlock(&lock, "loopback");
  pbufq_init(&queue, LOOPBACK_QLEN);
  lo.type = ARPHRD_LOOPBACK;
  lo.mtu = PBUF_BIGSIZE - PBUF_HEADROOM - ETH_HLEN;
  lo.flags = IFF_LOOPBACK;
  lo.ops = &loopback_ops;
  lo.ipaddr = 0x0100007f;   // 127.0.0.1, network order
  lo.netmask = 0x000000ff;  // 255.0.0.0
  netdev_register(&lo, "lo");
}
