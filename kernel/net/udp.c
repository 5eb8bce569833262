// UDP (RFC 768): datagrams between ports, with the pseudo-header checksum.
// Sockets are found by local port (and, when connected, the remote end);
// a datagram for a port nobody holds earns an ICMP port unreachable.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/wire.h"
#include "kernel/net/ip.h"
#include "kernel/net/sock.h"
#include "kernel/net/nettrace.h"

#define UDP_HLEN 8
#define EPHEMERAL_LO 49152
#define EPHEMERAL_HI 65535

struct udp_hdr {
  ushort sport, dport, len, sum;
} __attribute__((packed));

static struct {
  uint rx, noport, errors, badsum, queuedrops, tx;
} cnt;
#define COUNT(f) __sync_fetch_and_add(&cnt.f, 1)

static struct spinlock portlock;   // serialises binding
static ushort nextephemeral = EPHEMERAL_LO;
static int sockrace;               // selftest=sockrace (see udp_input)

static int
isudp(struct socket *s)
{
  return s->type == SOCK_DGRAM;
}

// Where a datagram is going: its destination and source.
struct dgramends {
  uint dst, src;
  ushort dport, sport;
  int broadcast;
};

// How well socket s fits datagram d (for sock_find): 0 not at all, 1 an
// unconnected socket bound to its port, SOCK_EXACT a connected one whose
// remote end is the datagram's source (it beats the unconnected ones).
static int
rank(struct socket *s, void *arg)
{
  struct dgramends *d = arg;
  // EXERCISE(udp-demux): rank a socket for a datagram
  if (!isudp(s) || s->lport != d->dport || (s->laddr && s->laddr != d->dst && !d->broadcast))
    return 0;
  if (s->rport)
    return s->raddr == d->src && s->rport == d->sport ? SOCK_EXACT : 0;
  return 1;
  // END EXERCISE
}

// The socket for a datagram to dst:dport from src:sport, with a reference
// held (the caller puts it): one pass over the table (sock_find).
static struct socket *
lookup(uint dst, int broadcast, ushort dport, uint src, ushort sport)
{
  struct dgramends d = { dst, src, dport, sport, broadcast };
  return sock_find(AF_INET, rank, &d);
}

static void
udp_input(struct pbuf *pb, struct ip_info *info)
{
  struct udp_hdr *uh = (struct udp_hdr *)pb->rp;
  uint len = pbuf_len(pb);

  COUNT(rx);
  if (len < UDP_HLEN || ntohs(uh->len) < UDP_HLEN || ntohs(uh->len) > len) {
    COUNT(errors);
    pbuf_free(pb);
    return;
  }
  pbuf_trim(pb, ntohs(uh->len));
  RXPROF_BEGIN(tsum);
  int bad = uh->sum && !pb->csumok &&
            ip_pseudosum(info->src, info->dst, IPPROTO_UDP, pbuf_len(pb), pb->rp) != 0;
  RXPROF_END(RXP_UDPCSUM, tsum);
  if (bad) {
    COUNT(badsum);
    COUNT(errors);
    pbuf_free(pb);
    return;
  }
  ushort sport = ntohs(uh->sport), dport = ntohs(uh->dport);
  RXPROF_BEGIN(tlook);
  struct socket *s = lookup(info->dst, info->broadcast, dport, info->src, sport);
  RXPROF_END(RXP_UDPLOOKUP, tlook);
  NETTRACE(pb, "udp_input: port %d from %d.%d.%d.%d:%d%s -> %s", dport, NT_IP4(info->src),
           sport, pb->csumok ? " (checksum vouched for by the card)" : "",
           s ? "socket" : "no socket, port unreachable");
  if (s == 0) {
    COUNT(noport);
    icmp_error(pb, info, ICMP_UNREACH, ICMP_UNREACH_PORT);
    pbuf_free(pb);
    return;
  }
  pbuf_pull(pb, UDP_HLEN);
  pb->srcaddr = info->src;
  pb->srcport = sport;
  // selftest=sockrace: keep yielding for a few ticks here, where netrx holds
  // a socket it has found but not queued to yet, so that a test can close
  // that socket and open another meanwhile (tests/e2e/test_socket_race.py).
  for (uint until = readticks() + 3; sockrace && (int)(readticks() - until) < 0;)
    net_yield();
  RXPROF_BEGIN(tenq);
  int full = sock_enqueue(s, pb) < 0;
  RXPROF_END(RXP_UDPENQ, tenq);
  if (full) {
    COUNT(queuedrops);
    pbuf_free(pb);
  }
  sock_put(s);
}

// Linux's rule: only a connected socket hears of an ICMP error, and only
// one whose both ends match the quoted header. Anyone can forge an error,
// and an unconnected socket (a server) could not tell it from a real one:
// one forged port unreachable used to end udpecho.
void
udp_icmperror(uint laddr, ushort lport, uint raddr, ushort rport, int err)
{
  for (struct socket *s = sock_next(0, AF_INET); s; s = sock_next(s, AF_INET)) {
    if (!isudp(s) || s->lport != lport || s->rport == 0 || s->rport != rport ||
        s->raddr != raddr || (s->laddr && s->laddr != laddr))
      continue;
    sock_seterror(s, err);
  }
}

static int
portinuse(ushort port, uint addr)
{
  for (struct socket *s = sock_next(0, AF_INET); s; s = sock_next(s, AF_INET)) {
    if (isudp(s) && s->lport == port && (!s->laddr || !addr || s->laddr == addr)) {
      sock_put(s);
      return 1;
    }
  }
  return 0;
}

// Bind s to addr:port (port 0: an ephemeral one). portlock held.
static int
bindport(struct socket *s, uint addr, ushort port)
{
  if (port == 0) {
    for (int tries = 0; tries <= EPHEMERAL_HI - EPHEMERAL_LO; tries++) {
      ushort p = nextephemeral;
      nextephemeral = p == EPHEMERAL_HI ? EPHEMERAL_LO : p + 1;
      if (!portinuse(p, addr)) {
        port = p;
        break;
      }
    }
    if (port == 0)
      return -EADDRINUSE;
  } else if (portinuse(port, addr)) {
    return -EADDRINUSE;
  }
  s->laddr = addr;
  s->lport = port;
  return 0;
}

static int
getsin(const struct sockaddr *addr, int len, const struct sockaddr_in **sin)
{
  *sin = (const struct sockaddr_in *)addr;
  if (len < (int)sizeof **sin || (*sin)->sin_family != AF_INET)
    return -EINVAL;
  return 0;
}

static int
udp_bind(struct socket *s, const struct sockaddr *addr, int len)
{
  const struct sockaddr_in *sin;
  int err;

  if ((err = getsin(addr, len, &sin)) < 0)
    return err;
  if (sin->sin_addr && !ip_isours(sin->sin_addr) && !ip_isbroadcast(sin->sin_addr))
    return -EADDRNOTAVAIL;
  acquire(&portlock);
  err = s->lport ? -EINVAL : bindport(s, sin->sin_addr, ntohs(sin->sin_port));
  release(&portlock);
  return err;
}

static int
autobind(struct socket *s)
{
  int err = 0;
  acquire(&portlock);
  if (s->lport == 0)
    err = bindport(s, 0, 0);
  release(&portlock);
  return err;
}

static int
udp_connect(struct socket *s, const struct sockaddr *addr, int len)
{
  const struct sockaddr_in *sin;
  int err;

  if ((err = getsin(addr, len, &sin)) < 0)
    return err;
  if (sin->sin_port == 0 || sin->sin_addr == 0)
    return -EINVAL;
  if ((err = autobind(s)) < 0)
    return err;
  acquire(&s->lock);
  s->raddr = sin->sin_addr;
  s->rport = ntohs(sin->sin_port);
  s->soerror = 0;
  release(&s->lock);
  return 0;
}

static int
udp_sendto(struct socket *s, uint src, int len, const struct sockaddr *to, int tolen)
{
  uint dst = s->raddr, nexthop;
  ushort dport = s->rport;
  const struct sockaddr_in *sin;
  int err;

  if (to) {
    if ((err = getsin(to, tolen, &sin)) < 0)
      return err;
    dst = sin->sin_addr;
    dport = ntohs(sin->sin_port);
  }
  if (dport == 0)
    return to ? -EINVAL : -EDESTADDRREQ;
  if (s->soerror) {
    err = s->soerror;
    s->soerror = 0;
    return err;
  }
  if (ip_isbroadcast(dst) && !s->broadcast)
    return -EACCES;
  if ((err = autobind(s)) < 0)
    return err;
  struct netdev *dev = ip_route(dst, &nexthop);
  if (dev == 0) {
    ip_count_noroute();
    return -ENETUNREACH;
  }
  uint saddr = s->laddr ? s->laddr : (dev->type == ARPHRD_LOOPBACK ? dst : dev->ipaddr);
  if ((uint)len + UDP_HLEN + IP_HLEN > IP_MAXPACKET)
    return -EMSGSIZE;
  struct pbuf *pb = pbuf_alloc_len(len + UDP_HLEN);
  if (pb == 0)
    return -ENOBUFS;
  struct udp_hdr *uh = (struct udp_hdr *)pbuf_put(pb, UDP_HLEN + len);
  if (uh == 0 || net_copyin((uchar *)uh + UDP_HLEN, src, len) < 0) {
    pbuf_free(pb);
    return uh ? -EFAULT : -ENOBUFS;
  }
  uh->sport = htons(s->lport);
  uh->dport = htons(dport);
  uh->len = htons(UDP_HLEN + len);
  // The card finishes the checksum if it can, netdev_xmit or ip_output's
  // fragmenting if it cannot (a result of 0 goes out as 0xFFFF: 0 means
  // "no checksum").
  uh->sum = ip_pseudohdr(saddr, dst, IPPROTO_UDP, UDP_HLEN + len);
  pbuf_csumpartial(pb, (uchar *)uh, offsetof(struct udp_hdr, sum), IPPROTO_UDP);
  COUNT(tx);
  err = ip_output(pb, IPPROTO_UDP, saddr, dst, s->ttl ? s->ttl : IP_TTL);
  return err < 0 ? err : len;
}

static int
udp_recvfrom(struct socket *s, uint dst, int len, int flags, struct sockaddr *from, int *fromlen)
{
  struct pbuf *pb;
  int n = sock_recv(s, dst, len, flags, &pb);
  if (n < 0)
    return n;
  if (from)
    inet_fillsin(from, fromlen, pb->srcaddr, pb->srcport);
  pbuf_free(pb);
  return n;
}

static int
udp_getname(struct socket *s, struct sockaddr *addr, int *len)
{
  inet_fillsin(addr, len, s->laddr, s->lport);
  return 0;
}

static void
udp_close(struct socket *s)
{
  acquire(&portlock);
  s->lport = 0;
  release(&portlock);
}

const struct sockops udpops = {
  .bind = udp_bind,
  .sendto = udp_sendto,
  .recvfrom = udp_recvfrom,
  .close = udp_close,
  .connect = udp_connect,
  .getname = udp_getname,
};

void
udp_stats(struct netstat_info *o)
{
  o->udp_rx = cnt.rx;
  o->udp_rx_noport = cnt.noport;
  o->udp_rx_errors = cnt.errors;
  o->udp_rx_badsum = cnt.badsum;
  o->udp_rx_queuedrops = cnt.queuedrops;
  o->udp_tx = cnt.tx;
}

void
udpinit(void)
{
  char v[16];
  sockrace = cmdlineget("selftest", v, sizeof v) && strncmp(v, "sockrace", 9) == 0;
  initlock(&portlock, "udpports");
  ip_register(IPPROTO_UDP, udp_input);
}
