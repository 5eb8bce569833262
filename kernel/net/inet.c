// AF_INET sockets: UDP datagram sockets (udp.c) and raw ICMP sockets, which
// see every ICMP packet (IP header included, as Linux's raw sockets do) and
// send ICMP messages that the user built, checksum included.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/ip.h"
#include "kernel/net/sock.h"
#include "kernel/net/tcp.h"

extern const struct sockops udpops;
static const struct sockops rawops;

static int
inet_create(struct socket *s, int type, int protocol)
{
  if (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP)) {
    s->protocol = IPPROTO_UDP;
    s->ops = &udpops;
    return 0;
  }
  if (type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
    return tcp_attach(s);
  if (type == SOCK_RAW && protocol == IPPROTO_ICMP) {
    s->ops = &rawops;
    return 0;
  }
  return type == SOCK_DGRAM || type == SOCK_RAW || type == SOCK_STREAM ? -EPROTONOSUPPORT
                                                                      : -ESOCKTNOSUPPORT;
}

void
inet_fillsin(struct sockaddr *addr, int *len, uint ip, ushort port)
{
  struct sockaddr_in *sin = (struct sockaddr_in *)addr;
  memset(sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_addr = ip;
  sin->sin_port = htons(port);
  *len = sizeof *sin;
}

// From ip_input: pb->rp at the IP header.
void
raw_deliver(struct pbuf *pb, struct ip_info *info)
{
  if (!sock_anyraw())
    return;
  for (struct socket *s = sock_next(0, AF_INET); s; s = sock_next(s, AF_INET)) {
    if (s->type != SOCK_RAW || s->protocol != info->proto)
      continue;
    struct pbuf *c = pbuf_copy(pb);
    if (c == 0)
      continue;
    c->srcaddr = info->src;
    if (sock_enqueue(s, c) < 0)
      pbuf_free(c);
  }
}

static int
raw_bind(struct socket *s, const struct sockaddr *addr, int len)
{
  const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
  if (len < (int)sizeof *sin || sin->sin_family != AF_INET)
    return -EINVAL;
  if (sin->sin_addr && !ip_isours(sin->sin_addr))
    return -EADDRNOTAVAIL;
  s->laddr = sin->sin_addr;
  return 0;
}

static int
raw_sendto(struct socket *s, uint src, int len, const struct sockaddr *to, int tolen)
{
  const struct sockaddr_in *sin = (const struct sockaddr_in *)to;
  uint dst = s->raddr;

  if (to) {
    if (tolen < (int)sizeof *sin || sin->sin_family != AF_INET)
      return -EINVAL;
    dst = sin->sin_addr;
  }
  if (dst == 0)
    return -EDESTADDRREQ;
  if (ip_isbroadcast(dst) && !s->broadcast)
    return -EACCES;
  if ((uint)len + IP_HLEN > IP_MAXPACKET)
    return -EMSGSIZE;
  struct pbuf *pb = pbuf_alloc_len(len);
  if (pb == 0)
    return -ENOBUFS;
  uchar *p = pbuf_put(pb, len);
  if (p == 0 || net_copyin(p, src, len) < 0) {
    pbuf_free(pb);
    return p ? -EFAULT : -ENOBUFS;
  }
  int err = ip_output(pb, s->protocol, s->laddr, dst, s->ttl ? s->ttl : IP_TTL);
  return err < 0 ? err : len;
}

static int
raw_recvfrom(struct socket *s, uint dst, int len, int flags, struct sockaddr *from, int *fromlen)
{
  struct pbuf *pb;
  int n = sock_recv(s, dst, len, flags, &pb);
  if (n < 0)
    return n;
  if (from)
    inet_fillsin(from, fromlen, pb->srcaddr, 0);
  pbuf_free(pb);
  return n;
}

static int
raw_connect(struct socket *s, const struct sockaddr *addr, int len)
{
  const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
  if (len < (int)sizeof *sin || sin->sin_family != AF_INET)
    return -EINVAL;
  s->raddr = sin->sin_addr;
  return 0;
}

static void
raw_close(struct socket *s)
{
  (void)s;
}

static const struct sockops rawops = {
  .bind = raw_bind,
  .sendto = raw_sendto,
  .recvfrom = raw_recvfrom,
  .close = raw_close,
  .connect = raw_connect,
};

static const struct sockfamily inetfamily = {
  .domain = AF_INET,
  .create = inet_create,
};

void
inetinit(void)
{
  sock_register(&inetfamily);
  ipinit();
  icmpinit();
  udpinit();
  tcpinit();
}
