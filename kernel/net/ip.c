// IPv4 (RFC 791): input checks, delivery to transport protocols registered
// by number, output with routing and fragmentation, reassembly with bounds
// and timeouts. Packets for other hosts go to ipforward.c, which routes them
// when net.ipv4.ip_forward is on and drops them (counted) when it is off.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/arp.h"
#include "kernel/net/wire.h"
#include "kernel/net/ip.h"
#include "kernel/net/sysctl.h"
#include "kernel/net/nettrace.h"

#define NROUTE   16
#define NREASS    8
#define REASS_MAXFRAGS 32   // a 16 KiB datagram cut for a 576-byte MTU is 30

static void (*protos[256])(struct pbuf *pb, struct ip_info *info);

static struct {
  uint rx, delivered, hdrerrors, badsum, addrerrors, ttlzero, unknownproto, notforus;
  uint tx, noroute, nobufs, fragcreated, fragfails;
  uint reasmreqds, reasmoks, reasmfails, reasmtimeouts, reasmdups;
} cnt;
#define COUNT(f) __sync_fetch_and_add(&cnt.f, 1)

// Static routes (the default gateway, host routes). Connected routes come
// from the interfaces' addresses and are not stored.
static struct route {
  int used;
  uint dst, mask, gateway;   // network order
  struct netdev *dev;
} routes[NROUTE];

static struct reass {
  int used;
  uint src, dst;
  ushort id;
  uchar proto;
  struct netdev *dev;
  struct pbuf *frags;        // whole IP packets, by offset, linked through next
  uint nfrags;
  uint total;                // payload length, known once the last fragment came
  uint expires;
  uint seq;                  // arrival order of the first fragment (eviction)
} reass[NREASS];
static uint reassseq;

static struct spinlock lock;   // routes and reass
static ushort nextid;
static int reasm_secs = 30;   // Linux's net.ipv4.ipfrag_time (tests shorten it)

static const struct sysctl ipfrag_time = {
  "net.ipv4.ipfrag_time", "ip.reasmtime", &reasm_secs, 0, 3600, 0
};

void
ipinit(void)
{
  initlock(&lock, "ip");
  sysctl_register(&ipfrag_time);
  ipfwdinit();
  nextid = readticks();
  ether_register(ETH_P_IP, ip_input);
}

void
ip_register(uchar proto, void (*input)(struct pbuf *pb, struct ip_info *info))
{
  protos[proto] = input;
}

// ---- addresses and routes ------------------------------------------------

static int
isloopback(uint addr)
{
  return (ntohl(addr) >> 24) == 127;
}

// What addr is to this host, in one walk of the interfaces: ADDR_OURS (an
// interface's address, or 127/8), ADDR_BCAST (the limited broadcast or a
// connected network's directed broadcast; /31 (RFC 3021) and /32 networks
// have none), or 0.
int
ip_addrclass(uint addr)
{
  int class = 0;
  if (isloopback(addr))
    class |= ADDR_OURS;
  if (addr == INADDR_BROADCAST)
    class |= ADDR_BCAST;
  int n = netdev_count();
  for (int i = 1; i <= n; i++) {
    struct netdev *dev = netdev_byindex(i);
    uint mask = dev->netmask;
    if (dev->ipaddr == 0)
      continue;
    if (dev->ipaddr == addr)
      class |= ADDR_OURS;
    if (~ntohl(mask) > 1 && (addr | mask) == 0xFFFFFFFF &&
        (addr & mask) == (dev->ipaddr & mask))
      class |= ADDR_BCAST;
  }
  return class;
}

int
ip_isours(uint addr)
{
  return (ip_addrclass(addr) & ADDR_OURS) != 0;
}

int
ip_isbroadcast(uint addr)
{
  return (ip_addrclass(addr) & ADDR_BCAST) != 0;
}

static int
prefixlen(uint mask)
{
  int n = 0;
  for (uint m = ntohl(mask); m & 0x80000000; m <<= 1)
    n++;
  return n;
}

// The connected interface for dst (longest prefix), or 0.
static struct netdev *
connected(uint dst, int *plen)
{
  struct netdev *best = 0;
  *plen = -1;
  for (int i = 1; i <= netdev_count(); i++) {
    struct netdev *dev = netdev_byindex(i);
    if (!dev || !dev->ipaddr || !(dev->flags & IFF_UP) || dev->type == ARPHRD_LOOPBACK)
      continue;
    if ((dst & dev->netmask) == (dev->ipaddr & dev->netmask) && prefixlen(dev->netmask) > *plen) {
      best = dev;
      *plen = prefixlen(dev->netmask);
    }
  }
  return best;
}

static struct netdev *
firstether(void)
{
  for (int i = 1; i <= netdev_count(); i++) {
    struct netdev *dev = netdev_byindex(i);
    if (dev && dev->type == ARPHRD_ETHER && dev->ipaddr && (dev->flags & IFF_UP))
      return dev;
  }
  return 0;
}

struct netdev *
ip_route(uint dst, uint *nexthop)
{
  int plen;

  *nexthop = dst;
  if (ip_isours(dst))
    return netdev_byname("lo");
  if (dst == INADDR_BROADCAST)
    return firstether();
  struct netdev *dev = connected(dst, &plen);
  acquire(&lock);
  for (struct route *r = routes; r < routes + NROUTE; r++) {
    if (r->used && (dst & r->mask) == r->dst && prefixlen(r->mask) > plen &&
        (r->dev->flags & IFF_UP)) {
      dev = r->dev;
      plen = prefixlen(r->mask);
      *nexthop = r->gateway ? r->gateway : dst;
    }
  }
  release(&lock);
  return dev;
}

int
route_add(const struct rtentry *rt)
{
  struct netdev *dev = rt->ifname[0] ? netdev_byname(rt->ifname) : 0;
  int plen;

  if (rt->ifname[0] && dev == 0)
    return -ENODEV;
  if ((rt->dst & rt->mask) != rt->dst)
    return -EINVAL;
  if (dev == 0 && rt->gateway)
    dev = connected(rt->gateway, &plen);
  if (dev == 0)
    return -ENETUNREACH;   // the gateway must be on a connected network
  acquire(&lock);
  struct route *free = 0;
  for (struct route *r = routes; r < routes + NROUTE; r++) {
    if (r->used && r->dst == rt->dst && r->mask == rt->mask) {
      release(&lock);
      return -EEXIST;
    }
    if (!r->used && !free)
      free = r;
  }
  if (free) {
    free->used = 1;
    free->dst = rt->dst;
    free->mask = rt->mask;
    free->gateway = rt->gateway;
    free->dev = dev;
  }
  release(&lock);
  return free ? 0 : -ENOSPC;
}

int
route_del(const struct rtentry *rt)
{
  int err = -ESRCH;
  acquire(&lock);
  for (struct route *r = routes; r < routes + NROUTE; r++) {
    if (r->used && r->dst == rt->dst && r->mask == rt->mask) {
      r->used = 0;
      err = 0;
    }
  }
  release(&lock);
  return err;
}

// Connected routes (one per addressed interface) first, then static ones.
int
route_list(int index, struct rtentry *out)
{
  memset(out, 0, sizeof *out);
  for (int i = 1; i <= netdev_count(); i++) {
    struct netdev *dev = netdev_byindex(i);
    if (!dev || !dev->ipaddr || dev->type == ARPHRD_LOOPBACK)
      continue;
    if (index-- == 0) {
      out->dst = dev->ipaddr & dev->netmask;
      out->mask = dev->netmask;
      out->flags = RTF_UP;
      safestrcpy(out->ifname, dev->name, IFNAMSIZ);
      return 0;
    }
  }
  acquire(&lock);
  for (struct route *r = routes; r < routes + NROUTE; r++) {
    if (r->used && index-- == 0) {
      out->dst = r->dst;
      out->mask = r->mask;
      out->gateway = r->gateway;
      out->flags = RTF_UP | (r->gateway ? RTF_GATEWAY : 0) | (r->mask == 0xFFFFFFFF ? RTF_HOST : 0);
      safestrcpy(out->ifname, r->dev->name, IFNAMSIZ);
      release(&lock);
      return 0;
    }
  }
  release(&lock);
  return -ENOENT;
}

// ---- output ----------------------------------------------------------------

static void
fillhdr(struct ip_hdr *ih, uint len, ushort id, ushort off, uchar ttl, uchar proto, uint src, uint dst)
{
  ih->vhl = 0x45;
  ih->tos = 0;
  ih->len = htons(len);
  ih->id = htons(id);
  ih->off = htons(off);
  ih->ttl = ttl;
  ih->proto = proto;
  ih->sum = 0;
  ih->src = src;
  ih->dst = dst;
  ih->sum = wire_cksum(ih, IP_HLEN);
}

// One fragment: n bytes of data with room for its IP header in front (a
// buffer as large as the data needs: on lo a fragment is up to 16 KiB).
static struct pbuf *
fragalloc(const uchar *data, uint n)
{
  struct pbuf *f = pbuf_alloc_len(n);
  uchar *p = f ? pbuf_put(f, n) : 0;
  if (p == 0 || pbuf_push(f, IP_HLEN) == 0) {
    if (f)
      pbuf_free(f);
    return 0;
  }
  memmove(p, data, n);
  return f;
}

// Send pb's payload in fragments of at most dev->mtu bytes; pb is consumed.
static int
fragment(struct netdev *dev, uint nexthop, struct pbuf *pb, ushort id, uchar ttl,
         uchar proto, uint src, uint dst)
{
  uint total = pbuf_len(pb), chunk = dev->mtu > IP_HLEN ? (dev->mtu - IP_HLEN) & ~7u : 0;
  int err = chunk ? 0 : -EMSGSIZE;

  for (uint off = 0; off < total && err == 0; off += chunk) {
    uint n = MIN(chunk, total - off);
    struct pbuf *f = fragalloc(pb->rp + off, n);
    if (f == 0) {
      COUNT(fragfails);
      err = -ENOBUFS;
      break;
    }
    fillhdr((struct ip_hdr *)f->rp, n + IP_HLEN, id, (off / 8) | (off + n < total ? IP_MF : 0),
            ttl, proto, src, dst);
    COUNT(fragcreated);
    err = arp_output(dev, nexthop, f);
  }
  pbuf_free(pb);
  return err;
}

int
ip_output(struct pbuf *pb, uchar proto, uint src, uint dst, uchar ttl)
{
  uint nexthop, len = pbuf_len(pb);
  struct netdev *dev = ip_route(dst, &nexthop);

  if (dev == 0) {
    COUNT(noroute);
    pbuf_free(pb);
    return -ENETUNREACH;
  }
  if (len + IP_HLEN > (pb->tsomss ? 0xFFFF : IP_MAXPACKET)) {   // a card's cut: up to 64 KiB
    pbuf_free(pb);
    return -EMSGSIZE;
  }
  // 127/8 never leaves the host (RFC 1122, 3.2.1.3): a socket bound to
  // 127.0.0.1 cannot send to another host (EINVAL, as Linux says).
  if (dev->type != ARPHRD_LOOPBACK && (isloopback(src) || isloopback(dst))) {
    COUNT(noroute);
    pbuf_free(pb);
    return -EINVAL;
  }
  if (src == 0)
    src = dev->type == ARPHRD_LOOPBACK ? dst : dev->ipaddr;   // to ourselves: from ourselves
  // A segment the card cuts takes one identification per piece (the card
  // adds the piece's number): len / tsomss + 1 is at least as many.
  ushort id = __sync_fetch_and_add(&nextid, pb->tsomss ? len / pb->tsomss + 1 : 1);
  COUNT(tx);
  if (NETTRACE_ON && NETTRACE_TAG(pb, nettrace_ipclass(proto)))
    nettrace_log("ip_output: proto %d to %d.%d.%d.%d via %s, %d bytes", proto, NT_IP4(dst),
                 dev->name, len + IP_HLEN);
  if (len + IP_HLEN > dev->mtu && !pb->tsomss) {
    pbuf_csumfinish(pb);   // no card sums across fragments
    return fragment(dev, nexthop, pb, id, ttl, proto, src, dst);
  }
  struct ip_hdr *ih = (struct ip_hdr *)pbuf_push(pb, IP_HLEN);
  if (ih == 0) {
    COUNT(nobufs);
    pbuf_free(pb);
    return -ENOBUFS;
  }
  fillhdr(ih, len + IP_HLEN, id, 0, ttl, proto, src, dst);
  if (pb->tsomss)
    ih->sum = 0;   // each piece's length differs: the card sums each header
  return arp_output(dev, nexthop, pb);
}

// ---- reassembly (lock held unless said) -----------------------------------------
//
// Fragments are kept as they came (whole IP packets, sorted by offset, none
// overlapping) and copied into one buffer of the datagram's size once they
// cover it: a small datagram never holds a 16 KiB buffer, and a datagram
// that never completes holds only the buffers its fragments came in.

static uint
fraghlen(struct pbuf *f)
{
  return (f->rp[0] & 15) * 4;
}

static uint
fragoff(struct pbuf *f)
{
  return (ntohs(((struct ip_hdr *)f->rp)->off) & IP_OFFMASK) * 8;
}

static uint
fraglen(struct pbuf *f)
{
  return pbuf_len(f) - fraghlen(f);
}

// Free a list of fragments (any lock or none).
static void
fragsfree(struct pbuf *f)
{
  while (f) {
    struct pbuf *next = f->next;
    pbuf_free(f);
    f = next;
  }
}

static void
reassfree(struct reass *r)
{
  fragsfree(r->frags);
  r->frags = 0;
  r->used = 0;
}

// The datagram ih belongs to; a new one if none, in place of the oldest if
// all are busy.
static struct reass *
reassfind(struct ip_hdr *ih, struct netdev *dev)
{
  struct reass *free = 0, *oldest = 0;
  for (struct reass *r = reass; r < reass + NREASS; r++) {
    if (r->used && r->src == ih->src && r->dst == ih->dst && r->id == ih->id && r->proto == ih->proto)
      return r;
    if (!r->used && !free)
      free = r;
    if (r->used && (!oldest || (int)(r->seq - oldest->seq) < 0))
      oldest = r;
  }
  if (!free) {   // all busy: give up on the oldest datagram
    COUNT(reasmfails);
    reassfree(oldest);
    free = oldest;
  }
  free->used = 1;
  free->seq = reassseq++;
  free->src = ih->src;
  free->dst = ih->dst;
  free->id = ih->id;
  free->proto = ih->proto;
  free->dev = dev;
  free->frags = 0;
  free->nfrags = 0;
  free->total = 0;
  free->expires = readticks() + reasm_secs * HZ;
  return free;
}

// Put fragment pb (off, n bytes of data, more fragments or not) in its place
// in r; 0 if it was, 1 if it is an exact duplicate of one there (the network
// may duplicate a packet: it is dropped alone), -1 if it cannot belong: past
// what we reassemble, not a multiple of 8 bytes before the end, a second end
// or data past the end, any other overlap, too many fragments. Overlaps end
// the datagram: RFC 791 would let a later fragment overwrite an earlier one,
// but that is what fragment attacks use (RFC 1858); RFC 5722 makes the rule
// for IPv6, and Linux applies it to IPv4 too (docs/network.md).
static int
fraginsert(struct reass *r, struct pbuf *pb, uint off, uint n, int more)
{
  struct pbuf *prev = 0, *next = r->frags, *last = 0;
  if (off + n > IP_MAXPACKET - IP_HLEN || (more && (n % 8 || n == 0)) ||
      (!more && r->total && r->total != off + n) || (r->total && off + n > r->total))
    return -1;
  while (next && fragoff(next) < off) {
    prev = next;
    next = next->next;
  }
  if (next && fragoff(next) == off && fraglen(next) == n)
    return 1;
  if ((prev && fragoff(prev) + fraglen(prev) > off) || (next && off + n > fragoff(next)) ||
      r->nfrags >= REASS_MAXFRAGS || !pbuf_canqueue(pb))
    return -1;
  for (last = next ? next : prev; last && last->next; last = last->next)
    ;
  if (!more && last && fragoff(last) + fraglen(last) > off + n)
    return -1;
  pb->next = next;
  if (prev)
    prev->next = pb;
  else
    r->frags = pb;
  r->nfrags++;
  if (!more)
    r->total = off + n;
  return 0;
}

// Do r's fragments cover its datagram, from 0 to the end?
static int
complete(struct reass *r)
{
  uint end = 0;
  if (r->total == 0)
    return 0;
  for (struct pbuf *f = r->frags; f; f = f->next) {
    if (fragoff(f) != end)
      return 0;
    end += fraglen(f);
  }
  return end == r->total;
}

// The datagram that fragments (sorted, complete) make, in a buffer of its
// size, behind the first fragment's header (*hlenp: its length); 0 if there
// is no buffer or it would be longer than we take. No lock needed.
static struct pbuf *
assemble(struct pbuf *frags, uint total, uint *hlenp)
{
  uint hlen = fraghlen(frags);
  if (hlen + total > IP_MAXPACKET)
    return 0;
  struct pbuf *whole = pbuf_alloc_len(hlen + total);
  uchar *p = whole ? pbuf_put(whole, hlen + total) : 0;
  if (p == 0) {
    if (whole)
      pbuf_free(whole);
    return 0;
  }
  memmove(p, frags->rp, hlen);
  for (struct pbuf *f = frags; f; f = f->next)
    memmove(p + hlen + fragoff(f), f->rp + fraghlen(f), fraglen(f));
  struct ip_hdr *wh = (struct ip_hdr *)p;
  wh->len = htons(hlen + total);
  wh->off = 0;
  wh->sum = 0;
  wh->sum = wire_cksum(wh, hlen);
  whole->dev = frags->dev;
  whole->ethertype = frags->ethertype;
  whole->pkttype = frags->pkttype;
  *hlenp = hlen;
  return whole;
}

// Add one fragment (pb: whole IP packet, *hlenp its header length); returns
// the whole datagram once complete, with *hlenp then the length of its header
// (the first fragment's: options that are not copied are only there), else 0.
// pb is consumed. (Called without the lock.)
static struct pbuf *
reassemble(struct netdev *dev, struct pbuf *pb, uint *hlenp)
{
  struct ip_hdr *ih = (struct ip_hdr *)pb->rp;
  uint off = (ntohs(ih->off) & IP_OFFMASK) * 8, more = ntohs(ih->off) & IP_MF;
  struct pbuf *done = 0;
  uint total = 0;

  COUNT(reasmreqds);
  acquire(&lock);
  struct reass *r = reassfind(ih, dev);
  int verdict = fraginsert(r, pb, off, pbuf_len(pb) - *hlenp, more);
  if (verdict != 0) {
    if (verdict > 0) {
      COUNT(reasmdups);
    } else {
      COUNT(reasmfails);
      reassfree(r);
    }
    release(&lock);
    pbuf_free(pb);
    return 0;
  }
  if (complete(r)) {
    done = r->frags;
    total = r->total;
    r->frags = 0;
    reassfree(r);
  }
  release(&lock);
  if (done == 0)
    return 0;
  struct pbuf *whole = assemble(done, total, hlenp);
  fragsfree(done);
  if (whole)
    COUNT(reasmoks);
  else
    COUNT(reasmfails);
  return whole;
}

// A datagram given up in reassembly earns its source an ICMP time exceeded
// (code 1) if its first fragment came, quoting that fragment's header and
// first 8 bytes (RFC 792; RFC 1122 3.3.2). frags is consumed.
static void
timeexceeded(struct pbuf *frags)
{
  if (frags && fragoff(frags) == 0) {
    struct ip_hdr *ih = (struct ip_hdr *)frags->rp;
    struct ip_info info;
    memset(&info, 0, sizeof info);
    info.dev = frags->dev;
    info.src = ih->src;
    info.dst = ih->dst;
    info.proto = ih->proto;
    info.ttl = ih->ttl;
    info.broadcast = ip_isbroadcast(ih->dst);
    info.linkbcast = frags->pkttype == PACKET_BROADCAST || frags->pkttype == PACKET_MULTICAST;
    info.iph = frags->rp;
    info.iphlen = fraghlen(frags);
    pbuf_pull(frags, info.iphlen);   // icmp_error quotes what follows the header
    icmp_error(frags, &info, ICMP_TIMXCEED, ICMP_TIMXCEED_REASS);
  }
  fragsfree(frags);
}

// Every tick: give up on datagrams not complete in time (the errors go out
// after the lock is dropped: sending takes other locks).
void
ip_timer(uint now)
{
  struct pbuf *expired[NREASS];
  int n = 0;

  acquire(&lock);
  for (struct reass *r = reass; r < reass + NREASS; r++) {
    if (r->used && (int)(now - r->expires) >= 0) {
      COUNT(reasmtimeouts);
      COUNT(reasmfails);
      expired[n++] = r->frags;
      r->frags = 0;
      reassfree(r);
    }
  }
  release(&lock);
  for (int i = 0; i < n; i++)
    timeexceeded(expired[i]);
}

// Ticks from now until ip_timer next has work (at least 1), or NETTIMER_IDLE.
uint
ip_nexttimer(uint now)
{
  uint wait = NETTIMER_IDLE;
  acquire(&lock);
  for (struct reass *r = reass; r < reass + NREASS; r++)
    if (r->used)
      wait = MIN(wait, nettimer_wait(now, r->expires));
  release(&lock);
  return wait;
}

// ---- input -----------------------------------------------------------------------

// Sources a host must discard (RFC 1122, 3.2.1.3): broadcast, multicast and
// class E addresses; from the wire, also 127/8 and our own addresses; and
// 0.0.0.0 except towards a broadcast (a host that does not know its address).
// (127/8 counts as ours only on lo: from the wire it is dropped as a
// destination too, by checkhdr.)
static int
badsource(struct netdev *dev, uint src, int dstclass)
{
  uint a = ntohl(src);
  if (a == 0xFFFFFFFF || (a >> 28) >= 0xE)
    return 1;
  int srcclass = ip_addrclass(src);
  if (srcclass & ADDR_BCAST)
    return 1;
  if (dev->type != ARPHRD_LOOPBACK && (srcclass & ADDR_OURS))
    return 1;
  return src == 0 && !(dstclass & ADDR_BCAST);
}

// Check the header; returns its length, or 0 (counted) if the packet is bad.
// *dstclass is what the destination is to us (ip_addrclass).
static uint
checkhdr(struct netdev *dev, struct pbuf *pb, int *dstclass)
{
  // EXERCISE(ip-input): check an incoming IPv4 header; drop and count what is bad
  struct ip_hdr *ih = (struct ip_hdr *)pb->rp;
  uint len = pbuf_len(pb), hlen;

  if (len < IP_HLEN || (ih->vhl >> 4) != 4 || (hlen = (ih->vhl & 15) * 4) < IP_HLEN ||
      hlen > len || ntohs(ih->len) < hlen || ntohs(ih->len) > len) {
    COUNT(hdrerrors);
    return 0;
  }
  if (wire_cksum(ih, hlen) != 0) {
    COUNT(badsum);
    return 0;
  }
  pbuf_trim(pb, ntohs(ih->len));   // drop Ethernet padding
  *dstclass = ip_addrclass(ih->dst);
  if (badsource(dev, ih->src, *dstclass) || ih->dst == 0 ||
      (dev->type != ARPHRD_LOOPBACK && isloopback(ih->dst))) {
    COUNT(addrerrors);
    return 0;
  }
  // Counted, not dropped: a host must not discard a datagram for it just
  // because its TTL is below 2 (RFC 1122, 3.2.1.7); only routers do.
  if (ih->ttl == 0)
    COUNT(ttlzero);
  return hlen;
  // END EXERCISE
}

// A train (pbuf train) that is still what gso_rxsplit or gro_link made it
// for: unfragmented TCP segments for this host (gso_rxsplit wrote the cars'
// headers from the first's; gro_link checked that theirs are as good and
// carry the same addresses). The cars are counted as received here; a
// first segment that fails the checks below takes the train with it.
static int
trainfits(struct pbuf *pb)
{
  struct ip_hdr *ih = (struct ip_hdr *)pb->rp;
  int dstclass = pbuf_len(pb) >= IP_HLEN ? ip_addrclass(ih->dst) : 0;
  if (dstclass == 0 || (dstclass & ADDR_BCAST) || ih->proto != IPPROTO_TCP ||
      (ntohs(ih->off) & (IP_MF | IP_OFFMASK)) || protos[IPPROTO_TCP] == 0)
    return 0;
  for (struct pbuf *car = pb->train; car; car = car->train)
    COUNT(rx);
  return 1;
}

// Every datagram from the link layer. A train that is anything but what it
// was made for (say, the address went away meanwhile) is split: the first
// goes on alone, then each car as the frame it is.
void
ip_input(struct netdev *dev, struct pbuf *pb)
{
  struct ip_info info;
  uint hlen;
  int dstclass;

  if (pb->train && !trainfits(pb)) {
    struct pbuf *rest = pb->train;
    pb->train = 0;
    ip_input(dev, pb);
    while (rest) {
      struct pbuf *car = rest;
      rest = car->train;
      car->train = 0;
      ether_input(dev, car);
    }
    return;
  }
  COUNT(rx);
  RXPROF_BEGIN(tc);
  hlen = checkhdr(dev, pb, &dstclass);
  RXPROF_END(RXP_IPHDR, tc);
  if (hlen == 0) {
    NETTRACE(pb, "ip_input: bad header, martian or not for us -> dropped");
    pbuf_free(pb);   // and its train: the same headers
    return;
  }
  if (dstclass == 0 && dev->type != ARPHRD_LOOPBACK) {   // for another host
    if (ip_forward(dev, pb, hlen) < 0) {
      NETTRACE(pb, "ip_input: not for us, not forwarding -> dropped");
      COUNT(notforus);
      pbuf_free(pb);
    }
    return;
  }
  struct ip_hdr *ih = (struct ip_hdr *)pb->rp;
  if (ntohs(ih->off) & (IP_MF | IP_OFFMASK)) {
    if ((pb = reassemble(dev, pb, &hlen)) == 0)
      return;
    ih = (struct ip_hdr *)pb->rp;
    pb->csumok = 0;   // a card vouches for frames, not for datagrams made of several
  }
  info.dev = dev;
  info.src = ih->src;
  info.dst = ih->dst;
  info.proto = ih->proto;
  info.ttl = ih->ttl;
  info.broadcast = (dstclass & ADDR_BCAST) != 0;
  info.linkbcast = pb->pkttype == PACKET_BROADCAST || pb->pkttype == PACKET_MULTICAST;
  info.iph = pb->rp;
  info.iphlen = hlen;
  RXPROF_BEGIN(tr);
  raw_deliver(pb, &info);          // raw sockets see the IP header too
  RXPROF_END(RXP_RAW, tr);
  if (pbuf_pull(pb, hlen) == 0) {   // cannot happen: checkhdr or reassemble checked it
    COUNT(hdrerrors);
    pbuf_free(pb);
    return;
  }
  NETTRACE(pb, "ip_input: from %d.%d.%d.%d, %s, proto %d -> %s", NT_IP4(info.src),
           info.broadcast ? "broadcast" : "for us", ih->proto, protos[ih->proto] ? "deliver" :
           "protocol unreachable");
  if (protos[ih->proto] == 0) {
    COUNT(unknownproto);
    if (!info.broadcast)
      icmp_error(pb, &info, ICMP_UNREACH, ICMP_UNREACH_PROTO);
    pbuf_free(pb);
    return;
  }
  // Delivered here, it goes no further: a checksum the host left undone
  // (virtio-net's NEEDS_CSUM, with csumok) need not be finished now.
  for (struct pbuf *car = pb; car; car = car->train) {
    COUNT(delivered);
    car->csumpartial = 0;
  }
  protos[ih->proto](pb, &info);
}

void
ip_count_noroute(void)
{
  COUNT(noroute);
}

// wire_sum of the pseudo-header: addresses, protocol, length.
static uint
ip_phsum(uint src, uint dst, uchar proto, uint len)
{
  uchar ph[12];
  memmove(ph, &src, 4);
  memmove(ph + 4, &dst, 4);
  ph[8] = 0;
  ph[9] = proto;
  ph[10] = len >> 8;
  ph[11] = len;
  return wire_sum(ph, sizeof ph, 0);
}

// The pseudo-header's sum alone (RFC 9293 3.1, RFC 768), folded but not
// complemented, in network order: what a transport header's checksum field
// holds while the checksum is left to the card (pbuf_csumpartial). For
// segmentation offload len is 0: the card adds each segment's length.
ushort
ip_pseudohdr(uint src, uint dst, uchar proto, uint len)
{
  return ~wire_sumfinish(ip_phsum(src, dst, proto, len)) & 0xFFFF;
}

// Checksum over the UDP/TCP pseudo-header and data (result in network order).
ushort
ip_pseudosum(uint src, uint dst, uchar proto, uint len, const uchar *data)
{
  return wire_sumfinish(wire_sum(data, len, ip_phsum(src, dst, proto, len)));
}

void
ip_stats(struct netstat_info *o)
{
  o->ip_rx = cnt.rx;
  o->ip_rx_delivered = cnt.delivered;
  o->ip_rx_hdrerrors = cnt.hdrerrors;
  o->ip_rx_badsum = cnt.badsum;
  o->ip_rx_addrerrors = cnt.addrerrors;
  o->ip_rx_ttlzero = cnt.ttlzero;
  o->ip_rx_unknownproto = cnt.unknownproto;
  o->ip_rx_notforus = cnt.notforus;
  o->ip_tx = cnt.tx;
  o->ip_tx_noroute = cnt.noroute;
  o->ip_tx_nobufs = cnt.nobufs;
  o->ip_frag_created = cnt.fragcreated;
  o->ip_frag_fails = cnt.fragfails;
  o->ip_reasm_reqds = cnt.reasmreqds;
  o->ip_reasm_oks = cnt.reasmoks;
  o->ip_reasm_fails = cnt.reasmfails;
  o->ip_reasm_timeouts = cnt.reasmtimeouts;
  o->ip_reasm_dups = cnt.reasmdups;
}
