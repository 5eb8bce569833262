// The loopback interface: every frame sent comes straight back in.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"

static struct netdev lo;

static int
loopback_xmit(struct netdev *dev, struct pbuf *pb)
{
  netdev_input(dev, pb);
  return 0;
}

static const struct netdev_ops loopback_ops = {
  .open = 0,
  .xmit = loopback_xmit,
};

void
loopbackinit(void)
{
  lo.type = ARPHRD_LOOPBACK;
  lo.mtu = PBUF_BIGSIZE - PBUF_HEADROOM - ETH_HLEN;
  lo.flags = IFF_LOOPBACK;
  lo.ops = &loopback_ops;
  lo.ipaddr = 0x0100007f;   // 127.0.0.1, network order
  lo.netmask = 0x000000ff;  // 255.0.0.0
  netdev_register(&lo, "lo");
}
