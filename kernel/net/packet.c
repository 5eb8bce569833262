// AF_PACKET sockets (SOCK_RAW): whole Ethernet frames. A socket receives a
// copy of every frame of its ethertype (or all, ETH_P_ALL) on its bound
// interface (or any); it sends whole frames, header included.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/sock.h"

static const struct sockops packetops;

static int
packet_create(struct socket *s, int type, int protocol)
{
  if (type != SOCK_RAW)
    return -ESOCKTNOSUPPORT;
  s->ops = &packetops;
  s->ethertype = ntohs(protocol);
  s->ifindex = 0;
  return 0;
}

static int
wants(struct socket *s, struct netdev *dev, ushort ethertype, int outgoing)
{
  if (s->ifindex && s->ifindex != dev->index)
    return 0;
  if (s->ethertype == ETH_P_ALL)
    return 1;
  return !outgoing && s->ethertype == ethertype;
}

static int
deliver(struct netdev *dev, struct pbuf *pb, int outgoing)
{
  int n = 0;
  ushort ethertype = pb->ethertype;

  if (!sock_anypacket())
    return 0;
  if (outgoing && pbuf_len(pb) >= ETH_HLEN)
    ethertype = ntohs(((struct ether_hdr *)pb->rp)->type);
  for (struct socket *s = sock_next(0, AF_PACKET); s; s = sock_next(s, AF_PACKET)) {
    if (s->ethertype == 0 || !wants(s, dev, ethertype, outgoing))
      continue;
    struct pbuf *c = pbuf_copy(pb);
    if (c == 0) {
      NETSTAT_ADD(dev, rx_nobuf, 1);
      continue;
    }
    pbuf_csumfinish(c);   // the card would finish the original: show it finished
    c->dev = dev;
    c->ethertype = ethertype;
    if (outgoing)
      c->pkttype = PACKET_OUTGOING;
    if (sock_enqueue(s, c) < 0)
      pbuf_free(c);
    else
      n++;
  }
  return n;
}

int
packet_tap(struct netdev *dev, struct pbuf *pb)
{
  return deliver(dev, pb, 0);
}

void
packet_tap_out(struct netdev *dev, struct pbuf *pb)
{
  deliver(dev, pb, 1);
}

static int
packet_bind(struct socket *s, const struct sockaddr *addr, int len)
{
  const struct sockaddr_ll *sll = (const struct sockaddr_ll *)addr;

  if (len < (int)sizeof *sll || sll->sll_family != AF_PACKET)
    return -EINVAL;
  if (sll->sll_ifindex && netdev_byindex(sll->sll_ifindex) == 0)
    return -ENODEV;
  acquire(&s->lock);
  s->ifindex = sll->sll_ifindex;
  if (sll->sll_protocol)
    s->ethertype = ntohs(sll->sll_protocol);
  sock_flush(s);
  release(&s->lock);
  return 0;
}

static int
packet_sendto(struct socket *s, uint src, int len, const struct sockaddr *to, int tolen)
{
  int ifindex = s->ifindex;
  struct netdev *dev;
  struct pbuf *pb;

  if (to) {
    const struct sockaddr_ll *sll = (const struct sockaddr_ll *)to;
    if (tolen < (int)sizeof *sll || sll->sll_family != AF_PACKET)
      return -EINVAL;
    ifindex = sll->sll_ifindex;
  }
  if (ifindex == 0)
    return -EDESTADDRREQ;
  if ((dev = netdev_byindex(ifindex)) == 0)
    return -ENXIO;
  if (len < ETH_HLEN)
    return -EINVAL;
  if ((uint)len > dev->mtu + ETH_HLEN)
    return -EMSGSIZE;
  // Sized by what is written: lo's frames are up to 16 KiB.
  if ((pb = pbuf_alloc_len(MAX(len, ETH_ZLEN))) == 0)
    return -ENOBUFS;
  uchar *p = pbuf_put(pb, MAX(len, ETH_ZLEN));
  if (p == 0 || net_copyin(p, src, len) < 0) {
    pbuf_free(pb);
    return -EFAULT;
  }
  if (len < ETH_ZLEN)
    memset(p + len, 0, ETH_ZLEN - len);
  int err = netdev_xmit(dev, pb);
  return err < 0 ? err : len;
}

static int
packet_recvfrom(struct socket *s, uint dst, int len, int flags, struct sockaddr *from, int *fromlen)
{
  struct pbuf *pb;
  int n = sock_recv(s, dst, len, flags, &pb);
  if (n < 0)
    return n;
  if (from) {
    struct sockaddr_ll *sll = (struct sockaddr_ll *)from;
    sll->sll_family = AF_PACKET;
    sll->sll_protocol = htons(pb->ethertype);
    sll->sll_ifindex = pb->dev ? pb->dev->index : 0;
    sll->sll_hatype = pb->dev ? pb->dev->type : 0;
    sll->sll_pkttype = pb->pkttype;
    sll->sll_halen = ETH_ALEN;
    if (pbuf_len(pb) >= ETH_HLEN)
      memmove(sll->sll_addr, ((struct ether_hdr *)pb->rp)->src, ETH_ALEN);
    *fromlen = sizeof *sll;
  }
  pbuf_free(pb);
  return n;
}

static void
packet_close(struct socket *s)
{
  (void)s;
}

static const struct sockops packetops = {
  .bind = packet_bind,
  .sendto = packet_sendto,
  .recvfrom = packet_recvfrom,
  .close = packet_close,
};

static const struct sockfamily packetfamily = {
  .domain = AF_PACKET,
  .create = packet_create,
};

void
packetinit(void)
{
  sock_register(&packetfamily);
}
