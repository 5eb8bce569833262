// Socket system calls: fetch and check the arguments, copy socket addresses
// and option values between user and kernel memory, and wrap sockets in
// files. What a socket does is the network stack's (kernel/net/socket.c).

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/stat.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/file.h"
#include "kernel/signal.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/sock.h"

#define MAXSOCKOPT 16   // longest option value (struct timeval)

// ---- sockets as files ----

static int
sockread(struct file *f, uint dst, int n)
{
  return sock_recvfrom(f->priv, dst, n, 0, 0, 0);
}

// Writing to a stream that can no longer send raises SIGPIPE, as on
// Linux, unless the call said MSG_NOSIGNAL; the call still returns EPIPE.
static int
sigpipe(struct socket *s, int ret, int flags)
{
  if (ret == -EPIPE && s->type == SOCK_STREAM && !(flags & MSG_NOSIGNAL))
    kill(myproc()->pid, SIGPIPE);
  return ret;
}

static int
sockwrite(struct file *f, uint src, int n)
{
  return sigpipe(f->priv, sock_sendto(f->priv, src, n, 0, 0), 0);
}

static void
sockclose(struct file *f)
{
  sock_close(f->priv);
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

static int
sockpoll(struct file *f, int events)
{
  return sock_poll(f->priv, events);
}

// The socket keeps its own copy: the stack decides whether a call waits.
static void
socksetnonblock(struct file *f, int on)
{
  struct socket *s = f->priv;
  s->nonblock = on;
}

static const struct fileops sockfileops = {
  .read = sockread,
  .write = sockwrite,
  .close = sockclose,
  .stat = sockstat,
  .poll = sockpoll,
  .setnonblock = socksetnonblock,
};

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

// Argument n as a socket descriptor.
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

// A descriptor for socket s (closed if there is none to be had).
static int
sockfd(struct socket *s)
{
  int fd;
  struct file *f = filealloc();
  if (f == 0) {
    sock_close(s);
    return -ENFILE;
  }
  f->ops = &sockfileops;
  f->readable = f->writable = 1;
  f->nonblock = s->nonblock;
  f->priv = s;
  if ((fd = fdinstall(f)) < 0)
    fileclose(f);
  return fd;
}

int
sys_socket(void)
{
  int domain, type, protocol, err;
  struct socket *s;

  if (argint(0, &domain) < 0 || argint(1, &type) < 0 || argint(2, &protocol) < 0)
    return -EFAULT;
  int nonblock = (type & SOCK_NONBLOCK) != 0;
  if ((err = sock_create(domain, type & ~SOCK_NONBLOCK, protocol, &s)) < 0)
    return err;
  s->nonblock = nonblock;
  return sockfd(s);
}

int
sys_listen(void)
{
  struct socket *s;
  int backlog, err;

  if ((err = argsock(0, &s)) < 0)
    return err;
  if (argint(1, &backlog) < 0)
    return -EFAULT;
  return sock_listen(s, backlog);
}

// accept(fd, addr, len): the peer's address is written only when addr is
// not 0, checked before waiting so that a bad pointer costs no connection.
int
sys_accept(void)
{
  struct socket *s, *ns;
  char buf[MAXSOCKADDR];
  uint uaddr, ulen;
  int len = sizeof buf, userlen = 0, err;
  pde_t *pgdir = myproc()->pgdir;

  if ((err = argsock(0, &s)) < 0)
    return err;
  if (arguint(1, &uaddr) < 0 || arguint(2, &ulen) < 0)
    return -EFAULT;
  if (uaddr && (ulen == 0 || copyin(pgdir, &userlen, ulen, sizeof userlen) < 0 || userlen < 0 ||
                !uvmaccessible(pgdir, uaddr, MIN(userlen, (int)sizeof buf), 1) ||
                !uvmaccessible(pgdir, ulen, sizeof userlen, 1)))
    return -EFAULT;
  memset(buf, 0, sizeof buf);
  if ((err = sock_accept(s, &ns, uaddr ? (struct sockaddr *)buf : 0, &len)) < 0)
    return err;
  int fd = sockfd(ns);
  if (fd >= 0 && uaddr &&
      (copyout(pgdir, uaddr, buf, MIN(userlen, len)) < 0 ||
       copyout(pgdir, ulen, &len, sizeof len) < 0))
    return -EFAULT;   // checked above: only if the program unmapped it meanwhile
  return fd;
}

int
sys_shutdown(void)
{
  struct socket *s;
  int how, err;

  if ((err = argsock(0, &s)) < 0)
    return err;
  if (argint(1, &how) < 0)
    return -EFAULT;
  return sock_shutdown(s, how);
}

int
sys_tcplist(void)
{
  int index;
  uint uout;
  struct tcpinfo ti;

  if (argint(0, &index) < 0 || arguint(1, &uout) < 0)
    return -EFAULT;
  if (index < 0)
    return -EINVAL;
  int err = tcp_list(index, &ti);
  if (err < 0)
    return err;
  return copyout(myproc()->pgdir, uout, &ti, sizeof ti);
}

int
sys_bind(void)
{
  struct socket *s;
  char buf[MAXSOCKADDR];
  int len, err;

  if ((err = argsock(0, &s)) < 0 || (err = argsockaddr(1, 2, (struct sockaddr *)buf, &len)) < 0)
    return err;
  return sock_bind(s, (struct sockaddr *)buf, len);
}

int
sys_connect(void)
{
  struct socket *s;
  char buf[MAXSOCKADDR];
  int len, err;

  if ((err = argsock(0, &s)) < 0 || (err = argsockaddr(1, 2, (struct sockaddr *)buf, &len)) < 0)
    return err;
  return sock_connect(s, (struct sockaddr *)buf, len);
}

int
sys_sendto(void)
{
  struct socket *s;
  char buf[MAXSOCKADDR];
  uint src, uto;
  int n, len = 0, err, flags;

  if ((err = argsock(0, &s)) < 0)
    return err;
  if (arguint(1, &src) < 0 || argint(2, &n) < 0 || argint(3, &flags) < 0 ||
      arguint(4, &uto) < 0)
    return -EFAULT;
  if (n < 0)
    return -EINVAL;
  if (uto && (err = argsockaddr(4, 5, (struct sockaddr *)buf, &len)) < 0)
    return err;
  return sigpipe(s, sock_send(s, src, n, uto ? (struct sockaddr *)buf : 0, len, flags), flags);
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
  if ((ret = sock_recvfrom(s, dst, n, flags, ufrom ? (struct sockaddr *)buf : 0, &len)) < 0)
    return ret;
  if (ufrom) {
    if (copyout(pgdir, ufrom, buf, MIN(userlen, len)) < 0 || copyout(pgdir, ulen, &len, sizeof len) < 0)
      return -EFAULT;
  }
  return ret;
}

// setsockopt(fd, level, opt, val, len)
int
sys_setsockopt(void)
{
  struct socket *s;
  int level, opt, len, err;
  uint uval;
  char val[MAXSOCKOPT];

  if ((err = argsock(0, &s)) < 0)
    return err;
  if (argint(1, &level) < 0 || argint(2, &opt) < 0 || arguint(3, &uval) < 0 || argint(4, &len) < 0)
    return -EFAULT;
  if (len < 0)
    return -EINVAL;
  len = MIN(len, MAXSOCKOPT);
  if (copyin(myproc()->pgdir, val, uval, len) < 0)
    return -EFAULT;
  return sock_setopt(s, level, opt, val, len);
}

// getsockopt(fd, level, opt, val, int *len)
int
sys_getsockopt(void)
{
  struct socket *s;
  int level, opt, err, userlen;
  uint uval, ulen;
  char val[MAXSOCKOPT];
  pde_t *pgdir = myproc()->pgdir;

  if ((err = argsock(0, &s)) < 0)
    return err;
  if (argint(1, &level) < 0 || argint(2, &opt) < 0 || arguint(3, &uval) < 0 || arguint(4, &ulen) < 0)
    return -EFAULT;
  if (copyin(pgdir, &userlen, ulen, sizeof userlen) < 0)
    return -EFAULT;
  int len = MIN(userlen, MAXSOCKOPT);
  if ((err = sock_getopt(s, level, opt, val, &len)) < 0)
    return err;
  if (copyout(pgdir, uval, val, len) < 0 || copyout(pgdir, ulen, &len, sizeof len) < 0)
    return -EFAULT;
  return 0;
}

// getsockname/getpeername(fd, addr, len): one of the socket's two addresses.
static int
getaddress(int (*get)(struct socket *, struct sockaddr *, int *))
{
  struct socket *s;
  char buf[MAXSOCKADDR];
  int len = sizeof buf, err;

  if ((err = argsock(0, &s)) < 0)
    return err;
  memset(buf, 0, sizeof buf);
  if ((err = get(s, (struct sockaddr *)buf, &len)) < 0)
    return err;
  return putsockaddr(1, 2, (struct sockaddr *)buf, len);
}

int
sys_getsockname(void)
{
  return getaddress(sock_getname);
}

int
sys_getpeername(void)
{
  return getaddress(sock_getpeer);
}
