// Ethernet II: check and strip the header of received frames, hand them to
// packet sockets and to the protocol registered for their ethertype; build
// the header of outgoing frames, padded to the 60-byte minimum.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/wire.h"
#include "kernel/net/nettrace.h"

#define NETHERPROTO 8

const uchar ether_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct {
  ushort type;
  void (*input)(struct netdev *dev, struct pbuf *pb);
} protos[NETHERPROTO];

static struct {
  struct spinlock lock;
  uint badlen, otherhost, unknown;
} counters;

void
ether_register(ushort type, void (*input)(struct netdev *dev, struct pbuf *pb))
{
  for (int i = 0; i < NETHERPROTO; i++) {
    if (protos[i].input == 0) {
      protos[i].type = type;
      protos[i].input = input;
      return;
    }
  }
  panic("ether_register: table full");
}

void
etherinit(void)
{
  initlock(&counters.lock, "ether");
}

static void
count(uint *counter)
{
  acquire(&counters.lock);
  (*counter)++;
  release(&counters.lock);
}

void
ether_input(struct netdev *dev, struct pbuf *pb)
{
  struct wire_ether eh;
  if (wire_ether_parse(pb->rp, pbuf_len(pb), &eh) < 0) {
    count(&counters.badlen);
    NETSTAT_ADD(dev, rx_errors, 1);
    pbuf_free(pb);
    return;
  }
  pb->pkttype = wire_ether_class(eh.dst, dev->mac);
  pb->ethertype = eh.type;
  if (NETTRACE_ON &&
      NETTRACE_TAG(pb, nettrace_class(eh.type, pb->rp + ETH_HLEN, pbuf_len(pb) - ETH_HLEN)))
    nettrace_log("ether_input: %s, %d bytes, type 0x%04x -> %s", dev->name, pbuf_len(pb),
                 eh.type, eh.type == ETH_P_IP ? "ip" : eh.type == ETH_P_ARP ? "arp" : "?");
  if (pb->pkttype == PACKET_OTHERHOST && !(dev->flags & IFF_PROMISC)) {
    NETTRACE(pb, "ether_input: for another host -> dropped");
    count(&counters.otherhost);
    pbuf_free(pb);
    return;
  }

  RXPROF_BEGIN(t);
  int tapped = packet_tap(dev, pb);
  RXPROF_END(RXP_PKTTAP, t);
  for (int i = 0; i < NETHERPROTO && protos[i].input; i++) {
    if (protos[i].type == pb->ethertype && pb->pkttype != PACKET_OTHERHOST) {
      pbuf_pull(pb, ETH_HLEN);
      protos[i].input(dev, pb);
      return;
    }
  }
  if (!tapped)
    count(&counters.unknown);
  pbuf_free(pb);
}

// Prepend an Ethernet header and send; pb is consumed.
int
ether_output(struct netdev *dev, struct pbuf *pb, const uchar *dst, ushort type)
{
  uchar *hdr = pbuf_push(pb, ETH_HLEN);
  if (hdr == 0) {
    pbuf_free(pb);
    return -ENOBUFS;
  }
  wire_ether_fill(hdr, dst, dev->mac, type);
  uint len = pbuf_len(pb);
  uchar *pad = len < ETH_ZLEN ? pbuf_put(pb, ETH_ZLEN - len) : 0;
  if (len < ETH_ZLEN && pad == 0) {
    pbuf_free(pb);
    return -ENOBUFS;
  }
  if (pad)
    memset(pad, 0, ETH_ZLEN - len);
  NETTRACE(pb, "ether_output: %s, %d bytes, type 0x%04x", dev->name, pbuf_len(pb), type);
  return netdev_xmit(dev, pb);
}

void
ether_stats(struct netstat_info *out)
{
  out->ether_rx_badlen = counters.badlen;
  out->ether_rx_otherhost = counters.otherhost;
  out->ether_rx_unknown = counters.unknown;
}
