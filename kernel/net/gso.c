// Received super-segments: a TCP/IPv4 frame that the host did not cut
// (virtio-net's GUEST_TSO4, Linux's GSO) and the card handed over in
// several receive buffers (virtio-net's mergeable buffers). The stack takes
// a frame in one buffer, so gso_rxsplit makes standalone TCP segments of it:
//
// - for us (the common case, a bulk transfer to a local socket), in place
//   and without copying payload: each buffer becomes one segment, the first
//   keeping the frame's headers, every other getting a copy of them written
//   into its headroom, with the IPv4 length, identification and checksum and
//   the TCP sequence number made right for its share and FIN and PSH only
//   on the last. Segments of a buffer's size (about 1.9 KiB; 3.9 in virtio-
//   net's page buffers) are longer
//   than the MSS, which a receiver takes as it takes any segment;
// - for another host (a router), copied into segments of the sender's MSS
//   (the header's gso_size) in fresh buffers, as the sender's card would
//   have cut them, since longer ones would not pass the next link.
//
// The segments for us go up as one train (pbuf train): IPv4 checks the
// first's header, which gso_rxsplit wrote the others' from, and TCP takes
// them all under one hold of its lock, instead of each passing Ethernet
// and IPv4 on its own. Not while anything watches frames one by one (a
// packet or raw socket, the packet trace): then each goes up alone.
//
// Either way the checksums stay as the card vouched for them (pbuf csumok):
// the TCP field of each segment holds its pseudo-header sum, marked partial,
// so a forwarded one has its checksum finished on the way out.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/ip.h"
#include "kernel/net/wire.h"
#include "kernel/net/tcp.h"
#include "kernel/net/sock.h"
#include "kernel/net/nettrace.h"

// The frame's layout, from its first buffer's headers.
struct superseg {
  uchar hdr[GSO_MAXHDR];   // Ethernet, IPv4 and TCP headers, as they came
  uint hlen, ihl, thl;     // their lengths: all, IPv4's, TCP's
  uint paylen;             // TCP payload in all buffers
  uint seq;                // the first payload byte's sequence number
  ushort id;               // IPv4 identification of the first segment
};

// Read and check the headers in pieces[0]; -1 if the frame is not a TCP/IPv4
// segment whose lengths agree with the buffers' (nothing then is touched).
static int
readhdr(struct superseg *s, struct pbuf **pieces, int n)
{
  struct pbuf *p0 = pieces[0];
  struct ether_hdr *eh = (struct ether_hdr *)p0->rp;
  struct ip_hdr *ih = (struct ip_hdr *)(p0->rp + ETH_HLEN);
  uint len0 = pbuf_len(p0), total = 0;

  for (int k = 0; k < n; k++)
    total += pbuf_len(pieces[k]);
  if (len0 < ETH_HLEN + IP_HLEN + TCP_HLEN || eh->type != htons(ETH_P_IP))
    return -1;
  s->ihl = (ih->vhl & 15) * 4;
  if ((ih->vhl >> 4) != 4 || s->ihl < IP_HLEN || ih->proto != IPPROTO_TCP ||
      (ntohs(ih->off) & (IP_MF | IP_OFFMASK)) || ETH_HLEN + s->ihl + TCP_HLEN > len0)
    return -1;
  struct tcp_hdr *th = (struct tcp_hdr *)((uchar *)ih + s->ihl);
  s->thl = (th->off >> 4) * 4;
  s->hlen = ETH_HLEN + s->ihl + s->thl;
  if (s->thl < TCP_HLEN || s->hlen > len0 || s->hlen > GSO_MAXHDR ||
      ntohs(ih->len) != total - ETH_HLEN)
    return -1;
  memmove(s->hdr, p0->rp, s->hlen);
  s->paylen = total - s->hlen;
  s->seq = ntohl(th->seq);
  s->id = ntohs(ih->id);
  return 0;
}

// Make the headers at f (a copy of s->hdr) those of segment number k,
// carrying paylen payload bytes from offset off; pb holds it.
static void
fixhdr(struct superseg *s, struct pbuf *pb, uchar *f, uint k, uint off, uint paylen, int last)
{
  struct ip_hdr *ih = (struct ip_hdr *)(f + ETH_HLEN);
  struct tcp_hdr *th = (struct tcp_hdr *)((uchar *)ih + s->ihl);

  ih->len = htons(s->ihl + s->thl + paylen);
  ih->id = htons(s->id + k);
  ih->sum = 0;
  ih->sum = wire_cksum(ih, s->ihl);
  th->seq = htonl(s->seq + off);
  if (!last)
    th->flags &= ~(TH_FIN | TH_PSH);
  th->sum = ip_pseudohdr(ih->src, ih->dst, IPPROTO_TCP, s->thl + paylen);
  pb->csumok = 1;
  pbuf_csumpartial(pb, (uchar *)th, offsetof(struct tcp_hdr, sum), IPPROTO_TCP);
}

static void
append(struct pbuf ***tail, struct pbuf *pb)
{
  pb->next = 0;
  **tail = pb;
  *tail = &pb->next;
}

// May the segments go up as a train? Not if something sees frames one by
// one below TCP: packet sockets, raw sockets, the packet trace.
int
gso_trainable(void)
{
  return !NETTRACE_ON && !sock_anypacket() && !sock_anyraw();
}

// For us: every buffer a segment, headers written into the others' headroom;
// linked as a train behind the first, or as a list of frames.
static struct pbuf *
inplace(struct superseg *s, struct pbuf **pieces, int n)
{
  struct pbuf *head = 0, **tail = &head;
  uint off = pbuf_len(pieces[0]) - s->hlen;
  int train = gso_trainable();

  fixhdr(s, pieces[0], pieces[0]->rp, 0, 0, off, n == 1);
  append(&tail, pieces[0]);
  for (int k = 1; k < n; k++) {
    struct pbuf *pb = pieces[k];
    uint len = pbuf_len(pb);
    pb->rp -= s->hlen;
    memmove(pb->rp, s->hdr, s->hlen);
    fixhdr(s, pb, pb->rp, k, off, len, k == n - 1);
    pb->dev = pieces[0]->dev;
    if (train)
      pieces[k - 1]->train = pb;
    else
      append(&tail, pb);
    off += len;
  }
  return head;
}

// Copy len payload bytes from offset off (counted over all buffers) to dst.
static void
gather(struct superseg *s, struct pbuf **pieces, int n, uint off, uchar *dst, uint len)
{
  for (int k = 0; k < n && len; k++) {
    uchar *from = pieces[k]->rp + (k == 0 ? s->hlen : 0);
    uint have = pieces[k]->wp - from;
    if (off >= have) {
      off -= have;
      continue;
    }
    uint take = MIN(have - off, len);
    memmove(dst, from + off, take);
    dst += take;
    len -= take;
    off = 0;
  }
}

// For another host: segments of mss payload bytes in fresh buffers.
static struct pbuf *
copied(struct superseg *s, struct pbuf **pieces, int n, uint mss, struct rxdrops *drops)
{
  struct pbuf *head = 0, **tail = &head;
  uint k = 0;

  for (uint off = 0; off < s->paylen || k == 0; off += mss, k++) {
    uint len = MIN(mss, s->paylen - off);
    struct pbuf *pb = pbuf_alloc_len(s->hlen + len);
    if (pb == 0) {
      drops->nobuf++;
      break;
    }
    uchar *f = pbuf_put(pb, s->hlen + len);
    memmove(f, s->hdr, s->hlen);
    gather(s, pieces, n, off, f + s->hlen, len);
    fixhdr(s, pb, f, k, off, len, off + len >= s->paylen);
    pb->dev = pieces[0]->dev;
    append(&tail, pb);
  }
  for (int i = 0; i < n; i++)
    pbuf_free(pieces[i]);
  return head;
}

struct pbuf *
gso_rxsplit(struct pbuf **pieces, int n, uint mss, struct rxdrops *drops)
{
  struct superseg s;

  if (n < 1 || readhdr(&s, pieces, n) < 0 || mss < 64) {
    drops->errors++;
    for (int k = 0; k < n; k++)
      pbuf_free(pieces[k]);
    return 0;
  }
  for (int k = 1; k < n; k++) {
    if ((uint)(pieces[k]->rp - pieces[k]->base) < s.hlen) {
      drops->errors++;   // the driver did not leave the headroom it must
      for (int i = 0; i < n; i++)
        pbuf_free(pieces[i]);
      return 0;
    }
  }
  if (ip_isours(((struct ip_hdr *)(s.hdr + ETH_HLEN))->dst))
    return inplace(&s, pieces, n);
  return copied(&s, pieces, n, mss, drops);
}
