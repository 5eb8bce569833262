// IPv4 forwarding (RFC 1812): with net.ipv4.ip_forward=1 a datagram for
// another host goes on towards it, TTL lowered, by the routing table that
// our own datagrams use. What a router must refuse it refuses, and says so
// by ICMP where the RFCs ask: time exceeded when the TTL runs out,
// destination unreachable when there is no route, or when the datagram is
// too big for the next link and says Don't Fragment. Every drop is counted
// by its reason (netstat -s). A datagram for us never comes here, and a
// forwarded one is never reassembled: that is the destination's job.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/arp.h"
#include "kernel/net/wire.h"
#include "kernel/net/ip.h"
#include "kernel/net/sysctl.h"
#include "kernel/net/nettrace.h"

static int forwarding;   // net.ipv4.ip_forward

static struct {
  uint datagrams, ttlexceeded, noroute, martians, linkbcast, fragneeded, fragcreated, nobufs;
} cnt;
#define COUNT(f) __sync_fetch_and_add(&cnt.f, 1)

static const struct sysctl ip_forward_ctl = {
  "net.ipv4.ip_forward", 0, &forwarding, 0, 1, 0
};

void
ipfwdinit(void)
{
  sysctl_register(&ip_forward_ctl);
}

// Addresses that no router passes on, from or to (RFC 1812 4.2.2.11 and
// 5.3.7; RFC 3927 2.7): "this network" 0/8, loopback 127/8, link-local
// 169.254/16, multicast and class E (224/3: we route no multicast).
// (ip_input has already dropped broadcast and our own sources.)
static int
martian(uint addr)
{
  uint a = ntohl(addr);
  return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 16) == 0xA9FE || (a >> 28) >= 0xE;
}

// Tell pb's source why pb went no further (an ICMP error quoting its
// header); pb (rp at its IP header, hlen bytes of it) is consumed. Never
// about a fragment but the first (RFC 1122 3.2.2: the others do not carry
// the transport header that the error must quote).
static void
fwderror(struct netdev *in, struct pbuf *pb, uint hlen, uchar type, uchar code, uint mtu)
{
  struct ip_hdr *ih = (struct ip_hdr *)pb->rp;
  struct ip_info info;

  if ((ntohs(ih->off) & IP_OFFMASK) == 0) {
    memset(&info, 0, sizeof info);
    info.dev = in;
    info.src = ih->src;
    info.dst = ih->dst;
    info.proto = ih->proto;
    info.ttl = ih->ttl;
    info.iph = pb->rp;
    info.iphlen = hlen;
    pbuf_pull(pb, hlen);   // icmp quotes what follows the header
    icmp_error_mtu(pb, &info, type, code, mtu);
  }
  pbuf_free(pb);
}

// TTL less one, and the header checksum made to match without summing the
// header again (RFC 1624): the 16-bit word that holds the TTL drops by
// 0x0100, so its complement, the checksum, grows by as much, with the carry
// wrapped round. A sum of 0xFFFF becomes 0: a real header never sums to
// zero, so its checksum is never 0xFFFF, and a full recomputation would say 0.
static void
decttl(struct ip_hdr *ih)
{
  uint sum = ih->sum + htons(0x0100);
  ih->sum = sum + (sum >= 0xFFFF);
  ih->ttl--;
}

// Of the options in opt (n bytes), those a later fragment carries too (the
// copied flag, RFC 791 3.1), into out (which may be opt itself: options are
// only moved forward), padded to 4 bytes; returns their length. A malformed
// list ends where it goes wrong.
static uint
copiedopts(uchar *opt, uint n, uchar *out)
{
  uint len = 0, i = 0;
  while (i < n && opt[i] != 0) {   // 0: end of the list
    if (opt[i] == 1) {             // no-op
      i++;
      continue;
    }
    uint olen = i + 1 < n ? opt[i + 1] : 0;
    if (olen < 2 || i + olen > n)
      break;
    if (opt[i] & 0x80) {
      memmove(out + len, opt + i, olen);
      len += olen;
    }
    i += olen;
  }
  while (len % 4)
    out[len++] = 0;
  return len;
}

// One fragment: hlen bytes of header from hdr, n bytes of data, at offset
// off (bytes, from the start of the original datagram), MF if more.
static struct pbuf *
fragbuild(const uchar *hdr, uint hlen, const uchar *data, uint n, uint off, int more)
{
  struct pbuf *f = pbuf_alloc_len(hlen + n);
  uchar *p = f ? pbuf_put(f, hlen + n) : 0;
  if (p == 0) {
    if (f)
      pbuf_free(f);
    return 0;
  }
  memmove(p, hdr, hlen);
  memmove(p + hlen, data, n);
  struct ip_hdr *fh = (struct ip_hdr *)p;
  fh->vhl = 0x40 | hlen / 4;
  fh->len = htons(hlen + n);
  fh->off = htons(off / 8 | (more ? IP_MF : 0));
  fh->sum = 0;
  fh->sum = wire_cksum(fh, hlen);
  return f;
}

// Send pb (rp at its IP header, hlen bytes; TTL already lowered) in pieces
// that fit out's MTU, as RFC 791 3.2 cuts them: every piece but the last a
// multiple of 8 bytes, the first with all the options, the rest with the
// copied ones; a fragment cut again keeps its offset and its MF. pb is consumed.
static void
fwdfragment(struct netdev *out, uint nexthop, struct pbuf *pb, uint hlen)
{
  struct ip_hdr *ih = (struct ip_hdr *)pb->rp;
  uint total = ntohs(ih->len) - hlen, base = (ntohs(ih->off) & IP_OFFMASK) * 8, fhlen = hlen;
  int moreafter = (ntohs(ih->off) & IP_MF) != 0;
  uchar hdr[60];

  memmove(hdr, pb->rp, hlen);
  for (uint off = 0; off < total;) {
    uint room = (out->mtu - fhlen) & ~7u;   // mtu >= 68 (netifset), fhlen <= 60
    uint n = MIN(room, total - off);
    struct pbuf *f = fragbuild(hdr, fhlen, pb->rp + hlen + off, n, base + off,
                               off + n < total || moreafter);
    if (f == 0) {
      COUNT(nobufs);
      break;
    }
    COUNT(fragcreated);
    arp_output(out, nexthop, f);
    if (off == 0)
      fhlen = IP_HLEN + copiedopts(hdr + IP_HLEN, hlen - IP_HLEN, hdr + IP_HLEN);
    off += n;
  }
  pbuf_free(pb);
}

// A datagram that came in on in and is not for us (pb->rp at its IP
// header, hlen bytes of it, checked; pb trimmed to the datagram). Returns
// -1 if we do not forward (pb untouched: ip_input counts and drops it),
// else 0 with pb consumed.
int
ip_forward(struct netdev *in, struct pbuf *pb, uint hlen)
{
  struct ip_hdr *ih = (struct ip_hdr *)pb->rp;
  uint nexthop, len = ntohs(ih->len);

  if (!forwarding)
    return -1;
  if (pb->pkttype != PACKET_HOST) {   // a link-layer broadcast is never passed on
    NETTRACE(pb, "ip_forward: in a link-layer broadcast -> dropped");
    COUNT(linkbcast);
    pbuf_free(pb);
    return 0;
  }
  if (martian(ih->src) || martian(ih->dst) ||
      (ntohs(ih->off) & IP_OFFMASK) * 8 + len - hlen > 0xFFFF) {
    NETTRACE(pb, "ip_forward: martian %d.%d.%d.%d > %d.%d.%d.%d -> dropped",
             NT_IP4(ih->src), NT_IP4(ih->dst));
    COUNT(martians);
    pbuf_free(pb);
    return 0;
  }
  if (ih->ttl <= 1) {
    NETTRACE(pb, "ip_forward: ttl %d -> time exceeded", ih->ttl);
    COUNT(ttlexceeded);
    fwderror(in, pb, hlen, ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, 0);
    return 0;
  }
  struct netdev *out = ip_route(ih->dst, &nexthop);
  if (out == 0 || out->type == ARPHRD_LOOPBACK) {
    NETTRACE(pb, "ip_forward: no route to %d.%d.%d.%d -> net unreachable", NT_IP4(ih->dst));
    COUNT(noroute);
    fwderror(in, pb, hlen, ICMP_UNREACH, ICMP_UNREACH_NET, 0);
    return 0;
  }
  if (len > out->mtu && (ntohs(ih->off) & IP_DF)) {
    NETTRACE(pb, "ip_forward: %d bytes, DF, mtu %d -> fragmentation needed", len, out->mtu);
    COUNT(fragneeded);
    fwderror(in, pb, hlen, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, out->mtu);
    return 0;
  }
  decttl(ih);
  COUNT(datagrams);
  NETTRACE(pb, "ip_forward: ttl now %d -> %s via %d.%d.%d.%d%s", ih->ttl, out->name,
           NT_IP4(nexthop), len > out->mtu ? ", fragmented" : "");
  if (len > out->mtu)
    fwdfragment(out, nexthop, pb, hlen);
  else
    arp_output(out, nexthop, pb);
  return 0;
}

// The next hop of pb never answered ARP. If we forwarded pb, its source
// hears host unreachable, as Linux sends it (RFC 1812 4.3.3.1 allows it;
// traceroute shows !H); our own datagrams are only dropped (counted by ARP).
void
ipfwd_linkfailed(struct pbuf *pb)
{
  struct ip_hdr *ih = (struct ip_hdr *)pb->rp;
  uint hlen = pbuf_len(pb) >= IP_HLEN ? (ih->vhl & 15) * 4 : 0;

  if (hlen < IP_HLEN || hlen > pbuf_len(pb) || ip_isours(ih->src)) {
    pbuf_free(pb);
    return;
  }
  fwderror(pb->dev, pb, hlen, ICMP_UNREACH, ICMP_UNREACH_HOST, 0);
}

void
ipfwd_stats(struct netstat_info *o)
{
  o->ip_forw_datagrams = cnt.datagrams;
  o->ip_forw_ttlexceeded = cnt.ttlexceeded;
  o->ip_forw_noroute = cnt.noroute;
  o->ip_forw_martians = cnt.martians;
  o->ip_forw_linkbcast = cnt.linkbcast;
  o->ip_forw_fragneeded = cnt.fragneeded;
  o->ip_forw_fragcreated = cnt.fragcreated;
  o->ip_forw_nobufs = cnt.nobufs;
}
