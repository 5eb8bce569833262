// Sockets as files: the socket table, the generic receive queue, and the
// socket system calls. Protocol behaviour lives in the families' sockops.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/stat.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/file.h"
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
static const struct fileops sockfileops;

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
// Holding a reference on the socket a walk is at means that if it is closed
// meanwhile (from another CPU, or while netrx was preempted) its slot stays
// as it is, marked closing, and what was being delivered to it is dropped:
// it cannot land on a socket opened since in the same slot.
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
  release(&stable.lock);
  if (prev)
    sock_put(prev);
  return s;
}

void
sock_hold(struct socket *s)
{
  acquire(&stable.lock);
  s->ref++;
  release(&stable.lock);
}

// Drop a reference; the last one frees the slot (its queue is empty by then:
// sockfree flushed it and sock_enqueue refuses a closing socket).
void
sock_put(struct socket *s)
{
  acquire(&stable.lock);
  if (--s->ref == 0) {
    s->inuse = 0;
    while (stable.end > 0 && !stable.socks[stable.end - 1].inuse)
      stable.end--;
  }
  release(&stable.lock);
}

// Queue pb unless the socket's receive buffer is full (one datagram always
// fits an empty one) or the pool is running low: an idle socket must not
// pin the buffers that the card and the rest of the stack need.
int
sock_enqueue(struct socket *s, struct pbuf *pb)
{
  acquire(&s->lock);
  if (s->closing || !s->inuse) {
    release(&s->lock);
    return -1;
  }
  if ((s->rxq.len && s->rmem + pb->size > s->rcvbuf) || !pbuf_canqueue(pb) ||
      pbufq_put(&s->rxq, pb) < 0) {
    s->drops++;
    release(&s->lock);
    return -1;
  }
  s->rmem += pb->size;
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
    acquire(&tickslock);
    deadline = ticks + s->rcvtimeo;
    release(&tickslock);
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
    if (killed(myproc())) {
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
  s->rmem -= pb->size;
  return pb;
}

void
sock_flush(struct socket *s)
{
  pbufq_flush(&s->rxq);
  s->rmem = 0;
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
  if (copyout(myproc()->pgdir, dst, pb->rp, n) < 0) {
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

static void
sockfree(struct socket *s)
{
  if (s->ops && s->ops->close)
    s->ops->close(s);
  acquire(&s->lock);
  s->closing = 1;
  sock_flush(s);
  release(&s->lock);
  sock_put(s);   // the file's reference: the slot is free once walks let go
}

// ---- sockets as files ----

static int
sockread(struct file *f, uint dst, int n)
{
  struct socket *s = f->priv;
  return s->ops->recvfrom(s, dst, n, 0, 0, 0);
}

static int
sockwrite(struct file *f, uint src, int n)
{
  struct socket *s = f->priv;
  return s->ops->sendto(s, src, n, 0, 0);
}

static void
sockclose(struct file *f)
{
  sockfree(f->priv);
}

static int
sockstat(struct file *f, struct stat *st)
{
  struct socket *s = f->priv;
  memset(st, 0, sizeof *st);
  st->type = T_SOCK;
  st->nlink = 1;
  st->size = s->rxq.len;
  return 0;
}

static const struct fileops sockfileops = {
  .read = sockread,
  .write = sockwrite,
  .close = sockclose,
  .stat = sockstat,
};

// Argument n as a socket descriptor.
static int
fdsock(int fd, struct socket **ps)
{
  struct file *f;
  int err = fdfile(fd, &f);
  if (err < 0)
    return err;
  if (f->ops != &sockfileops)
    return -ENOTSOCK;
  *ps = f->priv;
  return 0;
}

static int
argsock(int n, struct socket **ps)
{
  int fd;
  if (argint(n, &fd) < 0)
    return -EFAULT;
  return fdsock(fd, ps);
}

// Copy in a socket address given by (argument a, length argument l).
static int
argsockaddr(int a, int l, struct sockaddr *buf, int *plen)
{
  uint uva;
  int len;
  if (arguint(a, &uva) < 0 || argint(l, &len) < 0)
    return -EFAULT;
  if (len < (int)sizeof(ushort) || len > MAXSOCKADDR)
    return -EINVAL;
  *plen = len;
  return copyin(myproc()->pgdir, buf, uva, len);
}

int
sys_socket(void)
{
  int domain, type, protocol, fd, err;
  const struct sockfamily *fam = 0;

  if (argint(0, &domain) < 0 || argint(1, &type) < 0 || argint(2, &protocol) < 0)
    return -EFAULT;
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
  s->pid = myproc()->pid;
  if ((err = fam->create(s, type, protocol)) < 0) {
    sockfree(s);
    return err;
  }
  struct file *f = filealloc();
  if (f == 0) {
    sockfree(s);
    return -ENFILE;
  }
  f->ops = &sockfileops;
  f->readable = f->writable = 1;
  f->priv = s;
  if ((fd = fdinstall(f)) < 0)
    fileclose(f);
  return fd;
}

int
sys_bind(void)
{
  struct socket *s;
  char buf[MAXSOCKADDR];
  int len, err;

  if ((err = argsock(0, &s)) < 0 || (err = argsockaddr(1, 2, (struct sockaddr *)buf, &len)) < 0)
    return err;
  return s->ops->bind(s, (struct sockaddr *)buf, len);
}

int
sys_sendto(void)
{
  struct socket *s;
  char buf[MAXSOCKADDR];
  uint src, uto;
  int n, len = 0, err;

  if ((err = argsock(0, &s)) < 0)
    return err;
  if (arguint(1, &src) < 0 || argint(2, &n) < 0 || arguint(4, &uto) < 0)
    return -EFAULT;
  if (n < 0)
    return -EINVAL;
  if (uto && (err = argsockaddr(4, 5, (struct sockaddr *)buf, &len)) < 0)
    return err;
  return s->ops->sendto(s, src, n, uto ? (struct sockaddr *)buf : 0, len);
}

int
sys_recvfrom(void)
{
  struct socket *s;
  char buf[MAXSOCKADDR];
  uint a[6];
  int len = sizeof buf, ret, err;
  pde_t *pgdir = myproc()->pgdir;

  // (fd, buf, n, flags, from, fromlen), fetched at once: this runs per datagram.
  if (argblock(a, 6) < 0)
    return -EFAULT;
  if ((err = fdsock(a[0], &s)) < 0)
    return err;
  uint dst = a[1], ufrom = a[4], ulen = a[5];
  int n = a[2], flags = a[3];
  if (n < 0)
    return -EINVAL;
  int userlen = 0;
  if (ufrom && (ulen == 0 || copyin(pgdir, &userlen, ulen, sizeof userlen) < 0))
    return -EFAULT;
  if (ufrom && (userlen < 0 || !uvmaccessible(pgdir, ufrom, MIN(userlen, (int)sizeof buf), 1)))
    return -EFAULT;
  memset(buf, 0, sizeof buf);
  if ((ret = s->ops->recvfrom(s, dst, n, flags, ufrom ? (struct sockaddr *)buf : 0, &len)) < 0)
    return ret;
  if (ufrom) {
    if (copyout(pgdir, ufrom, buf, MIN(userlen, len)) < 0 || copyout(pgdir, ulen, &len, sizeof len) < 0)
      return -EFAULT;
  }
  return ret;
}

// SO_RCVBUF as Linux sets it: at most rmem_max, doubled, at least the minimum.
static int
setrcvbuf(struct socket *s, uint uval, int len)
{
  int val;
  if (len < (int)sizeof val)
    return -EINVAL;
  if (copyin(myproc()->pgdir, &val, uval, sizeof val) < 0)
    return -EFAULT;
  uint bytes = MIN((uint)val, SOCK_RMEM_MAX);   // a negative value asks for the most
  acquire(&s->lock);
  s->rcvbuf = MAX(bytes * 2, SOCK_MIN_RCVBUF);
  release(&s->lock);
  return 0;
}

int
sys_setsockopt(void)
{
  struct socket *s;
  int level, opt, len, err;
  uint uval;
  struct timeval tv;

  if ((err = argsock(0, &s)) < 0)
    return err;
  if (argint(1, &level) < 0 || argint(2, &opt) < 0 || arguint(3, &uval) < 0 || argint(4, &len) < 0)
    return -EFAULT;
  if (level != SOL_SOCKET || (opt != SO_RCVTIMEO && opt != SO_BROADCAST && opt != SO_RCVBUF))
    return -ENOPROTOOPT;
  if (opt == SO_RCVBUF)
    return setrcvbuf(s, uval, len);
  if (opt == SO_BROADCAST) {
    int on;
    if (len < (int)sizeof on || copyin(myproc()->pgdir, &on, uval, sizeof on) < 0)
      return -EFAULT;
    s->broadcast = on != 0;
    return 0;
  }
  if (len < (int)sizeof tv)
    return -EINVAL;
  if (copyin(myproc()->pgdir, &tv, uval, sizeof tv) < 0)
    return -EFAULT;
  if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000 || tv.tv_sec > 1000000)
    return -EDOM;
  uint t = tv.tv_sec * HZ + (tv.tv_usec + 1000000 / HZ - 1) / (1000000 / HZ);
  acquire(&s->lock);
  s->rcvtimeo = t;
  release(&s->lock);
  return 0;
}

int
sys_connect(void)
{
  struct socket *s;
  char buf[MAXSOCKADDR];
  int len, err;

  if ((err = argsock(0, &s)) < 0 || (err = argsockaddr(1, 2, (struct sockaddr *)buf, &len)) < 0)
    return err;
  if (s->ops->connect == 0)
    return -EOPNOTSUPP;
  return s->ops->connect(s, (struct sockaddr *)buf, len);
}

// Copy a socket address out to (argument a, pointer-to-length argument l).
static int
putsockaddr(int a, int l, struct sockaddr *addr, int len)
{
  pde_t *pgdir = myproc()->pgdir;
  uint uaddr, ulen;
  int userlen;

  if (arguint(a, &uaddr) < 0 || arguint(l, &ulen) < 0 ||
      copyin(pgdir, &userlen, ulen, sizeof userlen) < 0 || userlen < 0)
    return -EFAULT;
  if (copyout(pgdir, uaddr, addr, MIN(userlen, len)) < 0 ||
      copyout(pgdir, ulen, &len, sizeof len) < 0)
    return -EFAULT;
  return 0;
}

int
sys_getsockname(void)
{
  struct socket *s;
  char buf[MAXSOCKADDR];
  int len = sizeof buf, err;

  if ((err = argsock(0, &s)) < 0)
    return err;
  if (s->ops->getname == 0)
    return -EOPNOTSUPP;
  memset(buf, 0, sizeof buf);
  if ((err = s->ops->getname(s, (struct sockaddr *)buf, &len)) < 0)
    return err;
  return putsockaddr(1, 2, (struct sockaddr *)buf, len);
}

// getsockopt: SO_ERROR (reading clears it), SO_RCVBUF and SO_RCVTIMEO.
int
sys_getsockopt(void)
{
  struct socket *s;
  int level, opt, err;
  uint uval, ulen;
  int userlen;

  if ((err = argsock(0, &s)) < 0)
    return err;
  if (argint(1, &level) < 0 || argint(2, &opt) < 0 || arguint(3, &uval) < 0 || arguint(4, &ulen) < 0)
    return -EFAULT;
  if (level != SOL_SOCKET || (opt != SO_ERROR && opt != SO_RCVTIMEO && opt != SO_RCVBUF))
    return -ENOPROTOOPT;
  if (copyin(myproc()->pgdir, &userlen, ulen, sizeof userlen) < 0)
    return -EFAULT;
  if (opt == SO_ERROR || opt == SO_RCVBUF) {
    acquire(&s->lock);
    int val = opt == SO_RCVBUF ? (int)s->rcvbuf : -s->soerror;
    if (opt == SO_ERROR)
      s->soerror = 0;
    release(&s->lock);
    if (userlen < (int)sizeof val)
      return -EINVAL;
    return copyout(myproc()->pgdir, uval, &val, sizeof val);
  }
  struct timeval tv = { s->rcvtimeo / HZ, (s->rcvtimeo % HZ) * (1000000 / HZ) };
  if (userlen < (int)sizeof tv)
    return -EINVAL;
  return copyout(myproc()->pgdir, uval, &tv, sizeof tv);
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
