// The socket table, the generic receive queue, and the calls every socket
// takes whatever its family (sock_create, sock_bind, ...). Protocol
// behaviour lives in the families' sockops; the system calls that turn
// sockets into files are in kernel/syssock.c.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/sock.h"
#include "kernel/net/ip.h"

#define NFAMILY 4

static struct {
  struct spinlock lock;
  struct socket socks[NSOCKET];
  int end;          // no socket in use at or above socks[end]
} stable;

static const struct sockfamily *families[NFAMILY];

void
socketinit(void)
{
  initlock(&stable.lock, "sockets");
  for (int i = 0; i < NSOCKET; i++)
    initlock(&stable.socks[i].lock, "socket");
  packetinit();
  inetinit();
}

void
sock_register(const struct sockfamily *fam)
{
  for (int i = 0; i < NFAMILY; i++) {
    if (families[i] == 0) {
      families[i] = fam;
      return;
    }
  }
  panic("sock_register: too many families");
}

// Walks run for every packet (packet taps, raw sockets, port lookup), so
// they stop at the end of the used part of the table, not at NSOCKET.
struct socket *
sock_next(struct socket *prev, int domain)
{
  struct socket *s = prev ? prev + 1 : stable.socks;
  struct socket *end = stable.socks + *(volatile int *)&stable.end;
  for (; s < end; s++)
    if (s->inuse && s->domain == domain)
      return s;
  return 0;
}

int
sock_enqueue(struct socket *s, struct pbuf *pb)
{
  acquire(&s->lock);
  if (s->closing || !s->inuse) {
    release(&s->lock);
    return -1;
  }
  if (pbufq_put(&s->rxq, pb) < 0) {
    s->drops++;
    release(&s->lock);
    return -1;
  }
  if (s->sleepers)   // wakeup scans the process table: not for every datagram
    wakeup(s);
  release(&s->lock);
  return 0;
}

struct pbuf *
sock_waitrx(struct socket *s, int nonblock, int *err)
{
  uint deadline = 0;
  struct pbuf *pb;

  if (s->rcvtimeo) {
    deadline = readticks() + s->rcvtimeo;
    if (deadline == 0)
      deadline = 1;
  }
  while ((pb = pbufq_get(&s->rxq)) == 0) {
    if (s->soerror) {
      *err = s->soerror;
      s->soerror = 0;
      return 0;
    }
    if (nonblock) {
      *err = -EAGAIN;
      return 0;
    }
    if (net_interrupted()) {
      *err = -EINTR;
      return 0;
    }
    if (deadline && (int)(readticks() - deadline) >= 0) {
      *err = -EAGAIN;
      return 0;
    }
    s->sleepers++;
    sleepdeadline(s, &s->lock, deadline);
    s->sleepers--;
  }
  return pb;
}

// Take one queued pbuf (waiting as sock_waitrx does) and copy up to len of
// its bytes to user address dst. On success *pbp is the pbuf, for the caller
// to read the sender's address from and free.
int
sock_recv(struct socket *s, uint dst, int len, int flags, struct pbuf **pbp)
{
  int err = 0;

  acquire(&s->lock);
  struct pbuf *pb = sock_waitrx(s, flags & MSG_DONTWAIT, &err);
  release(&s->lock);
  if (pb == 0)
    return err;
  int n = MIN((uint)len, pbuf_len(pb));   // the rest of a long datagram is lost, as in BSD
  if (net_copyout(dst, pb->rp, n) < 0) {
    pbuf_free(pb);
    return -EFAULT;
  }
  *pbp = pb;
  return n;
}

static struct socket *
sockalloc(void)
{
  acquire(&stable.lock);
  for (struct socket *s = stable.socks; s < stable.socks + NSOCKET; s++) {
    if (!s->inuse) {
      struct spinlock lk = s->lock;
      memset(s, 0, sizeof *s);
      s->lock = lk;
      s->inuse = 1;
      pbufq_init(&s->rxq, SOCK_RXQ);
      if (s - stable.socks >= stable.end)
        stable.end = s - stable.socks + 1;
      release(&stable.lock);
      return s;
    }
  }
  release(&stable.lock);
  return 0;
}

void
sock_close(struct socket *s)
{
  if (s->ops && s->ops->close)
    s->ops->close(s);
  acquire(&s->lock);
  s->closing = 1;
  pbufq_flush(&s->rxq);
  release(&s->lock);
  acquire(&stable.lock);
  s->inuse = 0;
  while (stable.end > 0 && !stable.socks[stable.end - 1].inuse)
    stable.end--;
  release(&stable.lock);
}

// A new socket of the family for domain; 0 or a negative errno.
int
sock_create(int domain, int type, int protocol, struct socket **ps)
{
  const struct sockfamily *fam = 0;
  int err;

  for (int i = 0; i < NFAMILY && families[i]; i++)
    if (families[i]->domain == domain)
      fam = families[i];
  if (fam == 0)
    return -EAFNOSUPPORT;
  struct socket *s = sockalloc();
  if (s == 0)
    return -ENFILE;
  s->domain = domain;
  s->type = type;
  s->protocol = protocol;
  s->pid = net_pid();
  if ((err = fam->create(s, type, protocol)) < 0) {
    sock_close(s);
    return err;
  }
  *ps = s;
  return 0;
}

// Addresses (addr, len) are in kernel memory here; data buffers (src, dst)
// are user addresses, copied by the family through the seam.

int
sock_bind(struct socket *s, const struct sockaddr *addr, int len)
{
  return s->ops->bind(s, addr, len);
}

int
sock_connect(struct socket *s, const struct sockaddr *addr, int len)
{
  if (s->ops->connect == 0)
    return -EOPNOTSUPP;
  return s->ops->connect(s, addr, len);
}

int
sock_sendto(struct socket *s, uint src, int len, const struct sockaddr *to, int tolen)
{
  if (len < 0)
    return -EINVAL;
  return s->ops->sendto(s, src, len, to, tolen);
}

int
sock_recvfrom(struct socket *s, uint dst, int len, int flags, struct sockaddr *from, int *fromlen)
{
  if (len < 0)
    return -EINVAL;
  return s->ops->recvfrom(s, dst, len, flags, from, fromlen);
}

int
sock_getname(struct socket *s, struct sockaddr *addr, int *len)
{
  if (s->ops->getname == 0)
    return -EOPNOTSUPP;
  return s->ops->getname(s, addr, len);
}

// setsockopt with the value already in kernel memory (len bytes of it).
int
sock_setopt(struct socket *s, int level, int opt, const void *val, int len)
{
  if (level != SOL_SOCKET || (opt != SO_RCVTIMEO && opt != SO_BROADCAST))
    return -ENOPROTOOPT;
  if (opt == SO_BROADCAST) {
    int on;
    if (len < (int)sizeof on)
      return -EFAULT;
    memmove(&on, val, sizeof on);
    s->broadcast = on != 0;
    return 0;
  }
  struct timeval tv;
  if (len < (int)sizeof tv)
    return -EINVAL;
  memmove(&tv, val, sizeof tv);
  if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000 || tv.tv_sec > 1000000)
    return -EDOM;
  uint t = tv.tv_sec * HZ + (tv.tv_usec + 1000000 / HZ - 1) / (1000000 / HZ);
  acquire(&s->lock);
  s->rcvtimeo = t;
  release(&s->lock);
  return 0;
}

// getsockopt into a kernel buffer of *len bytes; *len becomes the value's
// length. SO_ERROR (reading clears it) and SO_RCVTIMEO.
int
sock_getopt(struct socket *s, int level, int opt, void *val, int *len)
{
  if (level != SOL_SOCKET || (opt != SO_ERROR && opt != SO_RCVTIMEO))
    return -ENOPROTOOPT;
  if (opt == SO_ERROR) {
    if (*len < (int)sizeof(int))
      return -EINVAL;
    acquire(&s->lock);
    int err = -s->soerror;
    s->soerror = 0;
    release(&s->lock);
    memmove(val, &err, sizeof err);
    *len = sizeof err;
    return 0;
  }
  struct timeval tv = { s->rcvtimeo / HZ, (s->rcvtimeo % HZ) * (1000000 / HZ) };
  if (*len < (int)sizeof tv)
    return -EINVAL;
  memmove(val, &tv, sizeof tv);
  *len = sizeof tv;
  return 0;
}

int
sock_list(int index, struct sockinfo *out)
{
  for (struct socket *s = stable.socks; s < stable.socks + NSOCKET; s++) {
    if (!s->inuse || s->closing || index-- > 0)
      continue;
    memset(out, 0, sizeof *out);
    out->domain = s->domain;
    out->type = s->type;
    out->protocol = s->domain == AF_PACKET ? s->ethertype : s->protocol;
    out->laddr = s->laddr;
    out->raddr = s->raddr;
    out->lport = s->lport;
    out->rport = s->rport;
    out->rxqueue = s->rxq.len;
    out->drops = s->drops;
    out->pid = s->pid;
    return 0;
  }
  return -ENOENT;
}

int
sock_count(void)
{
  int n = 0;
  acquire(&stable.lock);
  for (struct socket *s = stable.socks; s < stable.socks + NSOCKET; s++)
    n += s->inuse;
  release(&stable.lock);
  return n;
}
