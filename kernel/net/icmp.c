// ICMP (RFC 792): answer echo requests, send destination-unreachable errors,
// and pass errors about our own datagrams to the transport that sent them.
// Raw ICMP sockets (inet.c) see every ICMP packet too: that is how ping works.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/wire.h"
#include "kernel/net/ip.h"
#include "kernel/net/sysctl.h"
#include "kernel/net/nettrace.h"

#define ICMP_HLEN 8

struct icmp_hdr {
  uchar type;
  uchar code;
  ushort sum;
  uint rest;        // id and sequence for echo; unused for errors
} __attribute__((packed));

static struct {
  uint rx, rxerrors, echo, echoreply, unreach, timeexceeded;
  uint tx, txechoreply, txunreach, txtimeexceeded, ratelimited;
} cnt;
#define COUNT(f) __sync_fetch_and_add(&cnt.f, 1)

// The errors we send go through a token bucket, as Linux's do (its global
// net.ipv4.icmp_msgs_per_sec and icmp_msgs_burst, 1000 and 50; RFC 1812
// 4.3.2.8 asks for a limit): a flood of datagrams to closed ports, with
// forged sources a reflection attack, draws a bounded stream of errors.
// Errors to ourselves (over lo) are not limited, as on Linux.
static struct {
  struct spinlock lock;
  uint tokens;            // a message costs HZ of them; each tick adds rate
  uint last;              // tick of the last refill
  int rate, burst;        // messages a second (0: no limit), most at once (sysctls)
} limit;

static void
echoreply(struct pbuf *pb, struct ip_info *info)
{
  // EXERCISE(icmp-echo): answer an echo request with an echo reply
  if (info->broadcast)
    return;   // no replies to broadcast pings (as Linux by default)
  uint len = pbuf_len(pb);
  struct pbuf *r = pbuf_alloc_len(len);
  struct icmp_hdr *ih = r ? (struct icmp_hdr *)pbuf_put(r, len) : 0;
  if (ih == 0) {
    if (r)
      pbuf_free(r);
    return;
  }
  memmove(ih, pb->rp, len);
  ih->type = ICMP_ECHOREPLY;
  ih->code = 0;
  ih->sum = 0;
  ih->sum = wire_cksum(ih, len);
  // Counted before the send: on a fast card the reply is on the wire, and a
  // peer may ask for the counters, before ip_output returns.
  COUNT(tx);
  COUNT(txechoreply);
  ip_output(r, IPPROTO_ICMP, info->dst, info->src, IP_TTL);
  // END EXERCISE
}

// An error about a datagram we sent: the original IP header and at least 8
// bytes of its payload follow the ICMP header. The datagram came from the
// address the error was sent to, or it is not ours.
static void
errorinput(struct pbuf *pb, struct ip_info *info, int err)
{
  const uchar *p = pb->rp + ICMP_HLEN;
  uint len = pbuf_len(pb) - ICMP_HLEN;
  if (len < IP_HLEN)
    return;
  const struct ip_hdr *orig = (const struct ip_hdr *)p;
  uint hlen = (orig->vhl & 15) * 4;
  if ((orig->vhl >> 4) != 4 || hlen < IP_HLEN || len < hlen + 8 ||
      orig->proto != IPPROTO_UDP || orig->src != info->dst)
    return;
  const uchar *udp = p + hlen;
  udp_icmperror(orig->src, udp[0] << 8 | udp[1], orig->dst, udp[2] << 8 | udp[3], err);
}

static void
icmp_input(struct pbuf *pb, struct ip_info *info)
{
  NET_LATMARK(3);
  COUNT(rx);
  if (pbuf_len(pb) < ICMP_HLEN || wire_cksum(pb->rp, pbuf_len(pb)) != 0) {
    NETTRACE(pb, "icmp_input: short or bad checksum -> dropped");
    COUNT(rxerrors);
    pbuf_free(pb);
    return;
  }
  struct icmp_hdr *ih = (struct icmp_hdr *)pb->rp;
  NETTRACE(pb, "icmp_input: type %d code %d%s", ih->type, ih->code,
           ih->type == ICMP_ECHO ? ", echo request -> reply" : "");
  switch (ih->type) {
  case ICMP_ECHO:
    COUNT(echo);
    echoreply(pb, info);
    break;
  case ICMP_ECHOREPLY:
    COUNT(echoreply);   // for ping, through its raw socket
    break;
  case ICMP_UNREACH:
    COUNT(unreach);
    errorinput(pb, info, ih->code == ICMP_UNREACH_PORT || ih->code == ICMP_UNREACH_PROTO ?
               -ECONNREFUSED : -EHOSTUNREACH);
    break;
  case ICMP_TIMXCEED:
    COUNT(timeexceeded);
    break;
  }
  pbuf_free(pb);
}

// May an error go out now? Takes a token if so.
static int
allowed(void)
{
  uint now = readticks();
  acquire(&limit.lock);
  uint cap = limit.burst * HZ, elapsed = MIN(now - limit.last, cap);
  limit.tokens = MIN((uint64)cap, limit.tokens + (uint64)elapsed * (uint)limit.rate);
  limit.last = now;
  int ok = limit.rate == 0 || limit.tokens >= HZ;
  if (ok && limit.rate)
    limit.tokens -= HZ;
  release(&limit.lock);
  return ok;
}

// Send an ICMP error about the datagram in orig (rp at its transport
// header; info->iph its IP header). Never about ICMP errors, nor about
// datagrams sent to a broadcast address or that came in a link-layer
// broadcast (RFC 1122, 3.2.2); rate-limited unless it goes to ourselves.
void
icmp_error(struct pbuf *orig, struct ip_info *info, uchar type, uchar code)
{
  icmp_error_mtu(orig, info, type, code, 0);
}

// An error from a router about a datagram for another host goes out from
// our address on the interface towards its source (src 0: ip_output picks
// it), which is the address traceroute shows for this hop.
void
icmp_error_mtu(struct pbuf *orig, struct ip_info *info, uchar type, uchar code, uint mtu)
{
  if (info->broadcast || info->linkbcast || ip_isbroadcast(info->dst))
    return;
  if (info->proto == IPPROTO_ICMP && (pbuf_len(orig) < 1 ||
      (orig->rp[0] != ICMP_ECHO && orig->rp[0] != ICMP_ECHOREPLY)))
    return;
  if (!ip_isours(info->src) && !allowed()) {
    COUNT(ratelimited);
    return;
  }
  uint quote = MIN(pbuf_len(orig), 8u);
  struct pbuf *pb = pbuf_alloc();
  struct icmp_hdr *ih = pb ? (struct icmp_hdr *)pbuf_put(pb, ICMP_HLEN + info->iphlen + quote) : 0;
  if (ih == 0) {
    if (pb)
      pbuf_free(pb);
    return;
  }
  ih->type = type;
  ih->code = code;
  ih->sum = 0;
  ih->rest = htonl(mtu & 0xFFFF);   // unused but for "fragmentation needed"
  memmove((uchar *)ih + ICMP_HLEN, info->iph, info->iphlen);
  memmove((uchar *)ih + ICMP_HLEN + info->iphlen, orig->rp, quote);
  ih->sum = wire_cksum(ih, pbuf_len(pb));
  COUNT(tx);                  // before the send, as the echo reply's
  if (type == ICMP_UNREACH)
    COUNT(txunreach);
  if (type == ICMP_TIMXCEED)
    COUNT(txtimeexceeded);
  uint src = ip_isours(info->dst) ? info->dst : 0;
  ip_output(pb, IPPROTO_ICMP, src, info->src, IP_TTL);
}

void
icmp_stats(struct netstat_info *o)
{
  o->icmp_rx = cnt.rx;
  o->icmp_rx_errors = cnt.rxerrors;
  o->icmp_rx_echo = cnt.echo;
  o->icmp_rx_echoreply = cnt.echoreply;
  o->icmp_rx_unreach = cnt.unreach;
  o->icmp_rx_timeexceeded = cnt.timeexceeded;
  o->icmp_tx = cnt.tx;
  o->icmp_tx_echoreply = cnt.txechoreply;
  o->icmp_tx_unreach = cnt.txunreach;
  o->icmp_tx_timeexceeded = cnt.txtimeexceeded;
  o->icmp_tx_ratelimited = cnt.ratelimited;
}

// The bucket starts full again when its settings change.
static void
limitchanged(void)
{
  acquire(&limit.lock);
  limit.tokens = limit.burst * HZ;
  limit.last = readticks();
  release(&limit.lock);
}

static const struct sysctl msgs_per_sec = {
  "net.ipv4.icmp_msgs_per_sec", "icmp.msgs_per_sec", &limit.rate, 0, 1000000, limitchanged
};
static const struct sysctl msgs_burst = {
  "net.ipv4.icmp_msgs_burst", "icmp.msgs_burst", &limit.burst, 0, 100000, limitchanged
};

void
icmpinit(void)
{
  initlock(&limit.lock, "icmplimit");
  limit.rate = 1000;   // Linux's defaults
  limit.burst = 50;
  sysctl_register(&msgs_per_sec);
  sysctl_register(&msgs_burst);
  ip_register(IPPROTO_ICMP, icmp_input);
}
