// Trains from the wire: receive offload in software, a small cousin of
// Linux's GRO. A card that hands over every segment as its own frame (the
// e1000, the ne2k, virtio-net without GUEST_TSO4) gives netrx a batch in
// which a bulk transfer is runs of TCP segments between the same two hosts.
// gro_link links each run into one train (pbuf train), as gso.c does with
// the segments it cuts: Ethernet and IPv4 look at the first frame, and TCP
// takes every car under one hold of its lock. Nothing is merged: each car
// stays the whole frame it is, and TCP parses it, checks its checksum and
// finds its connection as for any segment.
//
// What IPv4 would check on a car, gro_link checks before it links it: the
// Ethernet addresses and type and the IPv4 addresses are the first frame's
// (so IPv4's address checks on the first hold for it), and its IPv4 header
// is one that IPv4 would take as it is: version 4, no options, its checksum
// right, not a fragment, TCP, and exactly as long as the frame (no padding
// to trim). The first frame must be such a frame too. Anything else goes up
// alone, as before. No trains while something watches frames one by one
// (gso_trainable: packet and raw sockets, the packet trace).

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/ip.h"
#include "kernel/net/tcp.h"
#include "kernel/net/wire.h"

// Is the frame at f (len bytes) an IPv4 TCP datagram whose header IPv4
// would take as it is?
static int
plain(const uchar *f, uint len)
{
  const uchar *ih = f + ETH_HLEN;
  if (len < ETH_HLEN + IP_HLEN + TCP_HLEN || f[12] != 0x08 || f[13] != 0x00)
    return 0;
  if (ih[0] != 0x45 || (uint)(ih[2] << 8 | ih[3]) != len - ETH_HLEN)
    return 0;   // options, or padding or a short frame
  if ((ih[6] & 0x3F) || ih[7] || ih[9] != IPPROTO_TCP)
    return 0;   // a fragment (MF or an offset), or not TCP
  return wire_cksum(ih, IP_HLEN) == 0;
}

// The same Ethernet addresses and type, and the same IPv4 addresses.
static int
samepath(const uchar *a, const uchar *b)
{
  return memcmp(a, b, ETH_HLEN) == 0 && memcmp(a + ETH_HLEN + 12, b + ETH_HLEN + 12, 8) == 0;
}

// Link each run of such frames in the list (by next) into a train behind
// its first; frames that are already trains (gso.c's) are left alone.
void
gro_link(struct pbuf *head)
{
  if (!gso_trainable())
    return;
  for (struct pbuf *pb = head; pb; pb = pb->next) {
    if (pb->train || !plain(pb->rp, pbuf_len(pb)))
      continue;
    struct pbuf *last = pb, *car;
    while ((car = pb->next) != 0 && car->train == 0 && plain(car->rp, pbuf_len(car)) &&
           samepath(pb->rp, car->rp)) {
      pb->next = car->next;
      car->next = 0;
      last->train = car;
      last = car;
    }
  }
}
