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
//   on the last. Segments of a buffer's size (about 1.8 KiB) are longer
//   than the MSS, which a receiver takes as it takes any segment;
// - for another host (a router), copied into segments of the sender's MSS
//   (the header's gso_size) in fresh buffers, as the sender's card would
//   have cut them, since longer ones would not pass the next link.
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

// The frame's layout, from its first buffer's headers.
struct superseg {
  uchar hdr[GSO_MAXHDR];   // Ethernet, IPv4 and TCP headers, as they came
  uint hlen, ihl, thl;     // their lengths: all, IPv4's, TCP's
  uint paylen;             // TCP payload in all buffers
  uint seq;                // the first payload byte's sequence number
  ushort id;               // IPv4 identification of the first segment
};

static uint
get16(const uchar *p)
{
  return (uint)p[0] << 8 | p[1];
}

static void
put16(uchar *p, uint v)
{
  p[0] = v >> 8;
  p[1] = v;
}

// Read and check the headers in pieces[0]; -1 if the frame is not a TCP/IPv4
// segment whose lengths agree with the buffers' (nothing then is touched).
static int
readhdr(struct superseg *s, struct pbuf **pieces, int n)
{
  struct pbuf *p0 = pieces[0];
  uchar *f = p0->rp;
  uint len0 = pbuf_len(p0), total = 0;

  for (int k = 0; k < n; k++)
    total += pbuf_len(pieces[k]);
  if (len0 < ETH_HLEN + IP_HLEN + TCP_HLEN || f[12] != 0x08 || f[13] != 0x00)
    return -1;
  uchar *ip = f + ETH_HLEN;
  s->ihl = (ip[0] & 15) * 4;
  if ((ip[0] >> 4) != 4 || s->ihl < IP_HLEN || ip[9] != IPPROTO_TCP ||
      (get16(ip + 6) & (IP_MF | IP_OFFMASK)) || ETH_HLEN + s->ihl + TCP_HLEN > len0)
    return -1;
  uchar *th = ip + s->ihl;
  s->thl = (th[12] >> 4) * 4;
  s->hlen = ETH_HLEN + s->ihl + s->thl;
  if (s->thl < TCP_HLEN || s->hlen > len0 || s->hlen > GSO_MAXHDR ||
      get16(ip + 2) != total - ETH_HLEN)
    return -1;
  memmove(s->hdr, f, s->hlen);
  s->paylen = total - s->hlen;
  s->seq = (uint)get16(th + 4) << 16 | get16(th + 6);
  s->id = get16(ip + 4);
  return 0;
}

// Make the headers at f (a copy of s->hdr) those of segment number k,
// carrying paylen payload bytes from offset off; pb holds it.
static void
fixhdr(struct superseg *s, struct pbuf *pb, uchar *f, uint k, uint off, uint paylen, int last)
{
  uchar *ip = f + ETH_HLEN, *th = ip + s->ihl;
  uint src, dst;

  put16(ip + 2, s->ihl + s->thl + paylen);
  put16(ip + 4, s->id + k);
  ip[10] = ip[11] = 0;
  ushort sum = wire_cksum(ip, s->ihl);
  memmove(ip + 10, &sum, 2);
  uint seq = s->seq + off;
  put16(th + 4, seq >> 16);
  put16(th + 6, seq);
  if (!last)
    th[13] &= ~(TH_FIN | TH_PSH);
  memmove(&src, ip + 12, 4);
  memmove(&dst, ip + 16, 4);
  sum = ip_pseudohdr(src, dst, IPPROTO_TCP, s->thl + paylen);
  memmove(th + 16, &sum, 2);
  pb->csumok = 1;
  pbuf_csumpartial(pb, th, 16, IPPROTO_TCP);
}

static void
append(struct pbuf ***tail, struct pbuf *pb)
{
  pb->next = 0;
  **tail = pb;
  *tail = &pb->next;
}

// For us: every buffer a segment, headers written into the others' headroom.
static struct pbuf *
inplace(struct superseg *s, struct pbuf **pieces, int n)
{
  struct pbuf *head = 0, **tail = &head;
  uint off = pbuf_len(pieces[0]) - s->hlen;

  fixhdr(s, pieces[0], pieces[0]->rp, 0, 0, off, n == 1);
  append(&tail, pieces[0]);
  for (int k = 1; k < n; k++) {
    struct pbuf *pb = pieces[k];
    uint len = pbuf_len(pb);
    pb->rp -= s->hlen;
    memmove(pb->rp, s->hdr, s->hlen);
    fixhdr(s, pb, pb->rp, k, off, len, k == n - 1);
    pb->dev = pieces[0]->dev;
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
  uint dst;
  memmove(&dst, s.hdr + ETH_HLEN + 16, 4);
  if (ip_isours(dst))
    return inplace(&s, pieces, n);
  return copied(&s, pieces, n, mss, drops);
}
