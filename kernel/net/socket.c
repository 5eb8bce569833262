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

// Slots held by packet sockets and by raw IPv4 sockets: every frame would
// otherwise take the table lock twice and scan the used slots, for packet
// taps and raw delivery, to find none (2-3 us a frame under TCG; docs/bench.md,
// "Where a received segment's time goes"). Counted from sock_create on to
// the slot's free; read without the lock: a socket created during a walk
// may miss that frame, as it would had the frame come a moment earlier.
static int npacket, nraw;

static int *
kindcount(int domain, int type)
{
  if (domain == AF_PACKET)
    return &npacket;
  if (domain == AF_INET && type == SOCK_RAW)
    return &nraw;
  return 0;
}

int
sock_anypacket(void)
{
  return *(volatile int *)&npacket != 0;
}

int
sock_anyraw(void)
{
  return *(volatile int *)&nraw != 0;
}

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

// Drop a reference (stable.lock held); the last one frees the slot (its
// queue is empty by then: sockfree flushed it and sock_enqueue refuses a
// closing socket).
static void
unref(struct socket *s)
{
  if (--s->ref == 0) {
    int *kind = kindcount(s->domain, s->type);
    if (kind)
      __sync_fetch_and_sub(kind, 1);
    s->inuse = 0;
    while (stable.end > 0 && !stable.socks[stable.end - 1].inuse)
      stable.end--;
  }
}

// Walks run for every packet (packet taps, raw sockets, port lookup), so
// they stop at the end of the used part of the table, not at NSOCKET.
// Holding a reference on the socket a walk is at means that if it is closed
// meanwhile (from another CPU, or while netrx was preempted) its slot stays
// as it is, marked closing, and what was being delivered to it is dropped:
// it cannot land on a socket opened since in the same slot. One round trip
// of stable.lock per step, the previous socket's reference dropped in it
// too: under emulation a lock round trip costs about a microsecond.
struct socket *
sock_next(struct socket *prev, int domain)
{
  acquire(&stable.lock);
  struct socket *s = prev ? prev + 1 : stable.socks;
  struct socket *end = stable.socks + stable.end;
  while (s < end && !(s->inuse && !s->closing && s->domain == domain))
    s++;
  if (s < end)
    s->ref++;
  else
    s = 0;
  if (prev)
    unref(prev);
  release(&stable.lock);
  return s;
}

struct socket *
sock_find(int domain, int (*rank)(struct socket *s, void *arg), void *arg)
{
  struct socket *best = 0;
  int bestrank = 0;
  acquire(&stable.lock);
  for (struct socket *s = stable.socks; s < stable.socks + stable.end; s++) {
    if (!s->inuse || s->closing || s->domain != domain)
      continue;
    int r = rank(s, arg);
    if (r > bestrank) {
      best = s;
      bestrank = r;
      if (r == SOCK_EXACT)
        break;
    }
  }
  if (best)
    best->ref++;
  release(&stable.lock);
  return best;
}

void
sock_put(struct socket *s)
{
  acquire(&stable.lock);
  unref(s);
  release(&stable.lock);
}

// Is there room in s's receive queue for a buffer of size bytes? One
// datagram always fits an empty queue. s->lock held.
static int
roomfor(struct socket *s, uint size)
{
  return s->rxq.len < s->rxq.max && (s->rxq.len == 0 || s->rmem + size <= s->rcvbuf);
}

static int
refuse(struct socket *s)
{
  s->drops++;
  release(&s->lock);
  return -1;
}

// Queue pb unless the socket's receive buffer is full or the pool is running
// low: an idle socket must not pin the buffers that the card and the rest of
// the stack need. A short packet moves into a short buffer first (copybreak,
// pbuf_shrink), so that it is charged 256 bytes, not 2 KiB; whether it fits
// is asked before the copy, so that a full queue under a flood costs none.
// On success pb belongs to the socket (or is already freed); on -1 it is
// still the caller's.
int
sock_enqueue(struct socket *s, struct pbuf *pb)
{
  acquire(&s->lock);
  if (s->closing || !s->inuse) {
    release(&s->lock);
    return -1;
  }
  if (!roomfor(s, pbuf_shrinkable(pb) ? PBUF_SHORTSIZE : pb->size))
    return refuse(s);
  struct pbuf *q = pbuf_shrink(pb);
  if (q == pb && (!roomfor(s, pb->size) || !pbuf_canqueue(pb)))
    return refuse(s);   // no short buffer left, and no room for the long one
  pbufq_put(&s->rxq, q);
  s->rmem += q->size;
  if (s->sleepers)   // wakeup scans the process table: not for every datagram
    wakeup(s);
  pollwakeup();      // cheap when nobody polls
  release(&s->lock);
  return 0;
}

// An error for the socket's next call (an ICMP error, a reset): blocked
// receivers return it, and pollers see POLLERR.
void
sock_seterror(struct socket *s, int err)
{
  acquire(&s->lock);
  s->soerror = err;
  wakeup(s);
  pollwakeup();
  release(&s->lock);
}

// Readiness for poll(2): the family's, or that of a socket whose sending
// never waits (see the contract in sock.h).
int
sock_poll(struct socket *s, int events)
{
  if (s->ops->poll)
    return s->ops->poll(s, events);
  acquire(&s->lock);
  int ready = POLLOUT;
  if (s->rxq.len > 0)
    ready |= POLLIN;
  if (s->soerror)
    ready |= POLLERR;
  release(&s->lock);
  return ready;
}

// Wait until rxq has a pbuf at its head (0), or for an error to return.
static int
waitqueued(struct socket *s, int nonblock)
{
  uint deadline = 0;
  int err;

  if (s->rcvtimeo) {
    deadline = readticks() + s->rcvtimeo;
    if (deadline == 0)
      deadline = 1;
  }
  while (s->rxq.head == 0) {
    if (s->soerror) {
      err = s->soerror;
      s->soerror = 0;
      return err;
    }
    if (nonblock || s->nonblock)
      return -EAGAIN;
    if (net_interrupted())
      return -EINTR;
    if (deadline && (int)(readticks() - deadline) >= 0)
      return -EAGAIN;
    s->sleepers++;
    sleepdeadline(s, &s->lock, deadline);
    s->sleepers--;
  }
  return 0;
}

struct pbuf *
sock_waitrx(struct socket *s, int nonblock, int *err)
{
  if ((*err = waitqueued(s, nonblock)) < 0)
    return 0;
  struct pbuf *pb = pbufq_get(&s->rxq);
  s->rmem -= pb->size;
  return pb;
}

// MSG_PEEK: a copy of the head of rxq, which stays queued. A copy, because
// once s->lock is let go another reader may take and free the original.
static struct pbuf *
peekrx(struct socket *s, int nonblock, int *err)
{
  if ((*err = waitqueued(s, nonblock)) < 0)
    return 0;
  struct pbuf *pb = pbuf_copy(s->rxq.head);
  if (pb == 0) {
    *err = -ENOBUFS;
    return 0;
  }
  pb->srcaddr = s->rxq.head->srcaddr;   // what recvfrom's address comes from
  pb->srcport = s->rxq.head->srcport;
  return pb;
}

void
sock_flush(struct socket *s)
{
  pbufq_flush(&s->rxq);
  s->rmem = 0;
}

// Take one queued pbuf (waiting as sock_waitrx does; with MSG_PEEK a copy
// of it, leaving it queued) and copy up to len of its bytes to user address
// dst. On success *pbp is the pbuf, for the caller
// to read the sender's address from and free.
int
sock_recv(struct socket *s, uint dst, int len, int flags, struct pbuf **pbp)
{
  int err = 0;

  acquire(&s->lock);
  struct pbuf *pb = flags & MSG_PEEK ? peekrx(s, flags & MSG_DONTWAIT, &err)
                                     : sock_waitrx(s, flags & MSG_DONTWAIT, &err);
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

_Static_assert(__builtin_offsetof(struct socket, lock) == 0, "sockalloc keeps the lock");

// A free slot is one nobody holds a reference to, so nobody holds its lock
// either; even so, the lock is never written: it is the first member, and
// only what follows it is cleared.
static struct socket *
sockalloc(void)
{
  acquire(&stable.lock);
  for (struct socket *s = stable.socks; s < stable.socks + NSOCKET; s++) {
    if (!s->inuse) {
      memset((char *)s + sizeof s->lock, 0, sizeof *s - sizeof s->lock);
      s->inuse = 1;
      s->ref = 1;   // the file's
      pbufq_init(&s->rxq, SOCK_RXQ);
      s->rcvbuf = SOCK_RCVBUF_DEFAULT;
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
  sock_flush(s);
  release(&s->lock);
  sock_put(s);   // the file's reference: the slot is free once walks let go
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
  int *kind = kindcount(domain, type);
  if (kind)
    __sync_fetch_and_add(kind, 1);   // sock_put takes it off when the slot is freed
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
sock_send(struct socket *s, uint src, int len, const struct sockaddr *to, int tolen, int flags)
{
  if (len < 0)
    return -EINVAL;
  if (s->ops->send)
    return s->ops->send(s, src, len, flags);   // a stream: the address means nothing
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

int
sock_getpeer(struct socket *s, struct sockaddr *addr, int *len)
{
  if (s->ops->getpeer == 0)
    return -ENOTCONN;
  return s->ops->getpeer(s, addr, len);
}

int
sock_listen(struct socket *s, int backlog)
{
  if (s->ops->listen == 0)
    return -EOPNOTSUPP;
  return s->ops->listen(s, backlog);
}

int
sock_accept(struct socket *s, struct socket **ns, struct sockaddr *addr, int *len)
{
  if (s->ops->accept == 0)
    return -EOPNOTSUPP;
  return s->ops->accept(s, ns, addr, len);
}

int
sock_shutdown(struct socket *s, int how)
{
  if (how < SHUT_RD || how > SHUT_RDWR)
    return -EINVAL;
  if (s->ops->shutdown == 0)
    return -ENOTCONN;   // as Linux says for an unconnected datagram socket
  return s->ops->shutdown(s, how);
}

// SO_RCVBUF as Linux sets it: at most rmem_max, doubled, at least the minimum.
static int
setrcvbuf(struct socket *s, const void *val, int len)
{
  int v;
  if (len < (int)sizeof v)
    return -EINVAL;
  memmove(&v, val, sizeof v);
  uint bytes = MIN((uint)v, SOCK_RMEM_MAX);   // a negative value asks for the most
  acquire(&s->lock);
  s->rcvbuf = MAX(bytes * 2, SOCK_MIN_RCVBUF);
  release(&s->lock);
  return 0;
}

// setsockopt with the value already in kernel memory (len bytes of it).
// IP_TTL (traceroute's probes): 1 to 255, or -1 for the default, as Linux.
static int
setttl(struct socket *s, const void *val, int len)
{
  int v;
  if (s->domain != AF_INET)
    return -ENOPROTOOPT;
  if (len < (int)sizeof v)
    return -EINVAL;
  memmove(&v, val, sizeof v);
  if (v != -1 && (v < 1 || v > 255))
    return -EINVAL;
  s->ttl = v == -1 ? 0 : v;
  return 0;
}

int
sock_setopt(struct socket *s, int level, int opt, const void *val, int len)
{
  int err;
  if (level == IPPROTO_IP && opt == SOCK_IP_TTL) {
    if ((err = setttl(s, val, len)) < 0)
      return err;
    // TCP keeps its own copy (its segments outlive the socket): tell it.
    if (s->ops->setopt && (err = s->ops->setopt(s, level, opt, val, len)) != -ENOPROTOOPT)
      return err;
    return 0;
  }
  if (s->ops->setopt && (err = s->ops->setopt(s, level, opt, val, len)) != -ENOPROTOOPT)
    return err;
  if (level != SOL_SOCKET || (opt != SO_RCVTIMEO && opt != SO_BROADCAST && opt != SO_RCVBUF))
    return -ENOPROTOOPT;
  if (opt == SO_RCVBUF)
    return setrcvbuf(s, val, len);
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
// length. SO_ERROR (reading clears it), SO_RCVBUF and SO_RCVTIMEO.
int
sock_getopt(struct socket *s, int level, int opt, void *val, int *len)
{
  int err;
  if (level == IPPROTO_IP && opt == SOCK_IP_TTL && s->domain == AF_INET) {
    int v = s->ttl ? s->ttl : IP_TTL;
    if (*len < (int)sizeof v)
      return -EINVAL;
    memmove(val, &v, sizeof v);
    *len = sizeof v;
    return 0;
  }
  if (s->ops->getopt && (err = s->ops->getopt(s, level, opt, val, len)) != -ENOPROTOOPT)
    return err;
  if (level != SOL_SOCKET || (opt != SO_ERROR && opt != SO_RCVTIMEO && opt != SO_RCVBUF))
    return -ENOPROTOOPT;
  if (opt == SO_ERROR || opt == SO_RCVBUF) {
    if (*len < (int)sizeof(int))
      return -EINVAL;
    acquire(&s->lock);
    int v = opt == SO_RCVBUF ? (int)s->rcvbuf : -s->soerror;
    if (opt == SO_ERROR)
      s->soerror = 0;
    release(&s->lock);
    memmove(val, &v, sizeof v);
    *len = sizeof v;
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
  acquire(&stable.lock);   // no slot changes hands while it is read
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
    release(&stable.lock);
    return 0;
  }
  release(&stable.lock);
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
