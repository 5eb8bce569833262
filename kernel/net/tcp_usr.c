// TCP's side of the sockets: connection blocks and their byte buffers,
// initial sequence numbers (RFC 6528), ports, and the socket calls
// (connect, listen, accept, send, recv, shutdown, close, options).
// Blocked callers sleep on their tcpcb under tcplock.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/ip.h"
#include "kernel/net/sock.h"
#include "kernel/net/tcp.h"
#include "kernel/poll.h"
#include "kernel/net/sysctl.h"

struct spinlock tcplock;
struct tcpcb tcbs[NTCB];
// One past the last block in use: tcp_alloc takes the first free block, so
// blocks in use gather at the start and every scan (each segment's lookup,
// each tick's timers) stops here instead of going through all NTCB.
struct tcpcb *tcbend = tcbs;
struct tcpstat tcpstat;
uint tcp_msl = TCP_MSLDEFAULT;
// Hand a card that can cut segments (NETDEV_TSO) several at once. Off, every
// segment goes down the stack on its own: one trace per frame on the wire
// (xv6net trace), or to compare.
int tcp_tso = 1;
static const struct sysctl tso_sysctl = { "net.ipv4.tcp_tso", "tcp.tso", &tcp_tso, 0, 1, 0 };
// The buffers a new connection gets (SO_SNDBUF and SO_RCVBUF change a
// socket's own): Linux's net.ipv4.tcp_wmem and tcp_rmem are triples (least,
// default, most) that its autotuning moves between; here the default, and
// the receive buffer grows from it (rcvautotune) to TCP_BUFMAX.
int tcp_sndbufdefault = TCP_BUFDEFAULT, tcp_rcvbufdefault = TCP_BUFDEFAULT;
static const struct sysctl wmem_sysctl = { "net.ipv4.tcp_wmem_default", 0, &tcp_sndbufdefault,
                                           TCP_BUFMIN, TCP_BUFMAX, 0 };
static const struct sysctl rmem_sysctl = { "net.ipv4.tcp_rmem_default", 0, &tcp_rcvbufdefault,
                                           TCP_BUFMIN, TCP_BUFMAX, 0 };
// Receive-buffer autotuning on (1) or off (0), as Linux's sysctl.
int tcp_moderate_rcvbuf = 1;
static const struct sysctl moderate_sysctl = { "net.ipv4.tcp_moderate_rcvbuf", 0,
                                               &tcp_moderate_rcvbuf, 0, 1, 0 };
static uint grownall;   // what autotuning added, all connections together, both ways

#define EPHEMERAL_LO 49152
#define EPHEMERAL_HI 65535
static ushort nextephemeral = EPHEMERAL_LO;

// ---- byte rings ----

static uchar *
bufat(struct tcpbuf *b, uint off, uint *room, int alloc)
{
  uint pos = (b->head + off) % b->size;
  uint pg = pos / NET_PAGESIZE;
  *room = 0;
  if (b->pages[pg] == 0 && (!alloc || (b->pages[pg] = (uchar *)kalloc()) == 0))
    return 0;
  *room = NET_PAGESIZE - pos % NET_PAGESIZE;
  return b->pages[pg] + pos % NET_PAGESIZE;
}

// Append up to n bytes from src (a user address if user) to the ring, at
// most room bytes; returns how many fit (fewer if memory ran out) or -EFAULT.
static int
ringput(struct tcpbuf *b, const uchar *src, uint n, int user, uint room)
{
  uint done = 0, left;
  n = MIN(n, room);
  while (done < n) {
    uchar *p = bufat(b, b->ringlen, &left, 1);
    if (p == 0)
      break;
    uint c = MIN(left, n - done);
    if (user) {
      if (net_copyin(p, (uint)src + done, c) < 0)
        return done ? (int)done : -EFAULT;
    } else {
      memmove(p, src + done, c);
    }
    b->ringlen += c;
    done += c;
  }
  return done;
}

// The kept buffers' bytes into the ring, in order, each buffer freed once
// its bytes are in (so that bytes copied after them stay behind them);
// 0 if the ring could not take them all (no page).
static int
collapse(struct tcpbuf *b)
{
  struct pbuf *pb;
  while ((pb = b->kept.head) != 0) {
    uint n = pbuf_len(pb);
    int c = ringput(b, pb->rp, n, 0, n);
    pb->rp += c;
    if ((uint)c < n)
      return 0;
    pbuf_free(pbufq_get(&b->kept));
  }
  return 1;
}

// Append up to n bytes from src (a user address if user); returns how many
// fit (fewer if memory ran out) or -EFAULT. Behind kept buffers, the bytes
// go into the last one's room if they fit; if not, the kept buffers' bytes
// go into the ring first, so that these come after them.
int
tcpbuf_put(struct tcpbuf *b, const uchar *src, uint n, int user)
{
  if (n == 0)
    return 0;
  if (b->kept.head) {
    struct pbuf *last = b->kept.tail;
    if (!user && n <= (uint)(last->base + last->size - last->wp) && n <= b->size - b->len) {
      memmove(last->wp, src, n);
      last->wp += n;
      b->len += n;
      return n;
    }
    if (!collapse(b))
      return 0;
  }
  int done = ringput(b, src, n, user, b->size - b->len);
  if (done > 0)
    b->len += done;
  return done;
}

// Keep pb, whose bytes data..data+n are the next in order, instead of
// copying them (the receive side): a regular or page buffer (not one of the
// few big ones, nor a short one), while the pool has buffers to spare for
// queues (pbuf_canqueue), at most size / TCP_KEEPMIN of them, and a short
// segment only behind others kept. Returns 1 if b took pb.
int
tcpbuf_keep(struct tcpbuf *b, struct pbuf *pb, const uchar *data, uint n)
{
  if (n == 0 || n > b->size - b->len || (pb->size != PBUF_SIZE && pb->size != PBUF_PAGESIZE) ||
      (n < TCP_KEEPMIN && b->kept.head == 0) || !pbuf_canqueue(pb))
    return 0;
  b->kept.max = b->size / TCP_KEEPMIN;   // follows SO_RCVBUF
  if (pbufq_put(&b->kept, pb) < 0)
    return 0;
  pb->rp = (uchar *)data;
  pb->wp = (uchar *)data + n;
  b->len += n;
  return 1;
}

void
tcpbuf_get(struct tcpbuf *b, uint off, uchar *dst, uint n)
{
  uint room;
  if (off + n > b->ringlen)
    panic("tcpbuf_get: past the ring");   // the send side keeps no buffers
  while (n > 0) {
    uchar *p = bufat(b, off, &room, 0);
    if (p == 0)
      panic("tcpbuf_get: past the data");   // every byte held has its page
    uint c = MIN(room, n);
    memmove(dst, p, c);
    dst += c;
    off += c;
    n -= c;
  }
}

// Copy the first n bytes held to the user's udst: the ring's, then the
// kept buffers'.
static int
bufcopyout(struct tcpbuf *b, uint udst, uint n)
{
  uint off = 0, room;
  while (off < n && off < b->ringlen) {
    uchar *p = bufat(b, off, &room, 0);
    if (p == 0)
      panic("tcpbuf: past the data");
    uint c = MIN(MIN(room, n - off), b->ringlen - off);
    if (net_copyout(udst + off, p, c) < 0)
      return -EFAULT;
    off += c;
  }
  for (struct pbuf *pb = b->kept.head; pb && off < n; pb = pb->next) {
    uint c = MIN(pbuf_len(pb), n - off);
    if (net_copyout(udst + off, pb->rp, c) < 0)
      return -EFAULT;
    off += c;
  }
  return 0;
}

void
tcpbuf_drop(struct tcpbuf *b, uint n)
{
  n = MIN(n, b->len);
  b->len -= n;
  uint r = MIN(n, b->ringlen);
  b->head = (b->head + r) % b->size;
  b->ringlen -= r;
  if (b->ringlen == 0)
    b->head = 0;   // keep using the first pages
  n -= r;
  struct pbuf *done = 0, *pb;
  while (n > 0 && (pb = b->kept.head) != 0) {
    uint c = MIN(n, pbuf_len(pb));
    pb->rp += c;
    n -= c;
    if (pbuf_len(pb) == 0) {
      pbufq_get(&b->kept);
      pb->next = done;
      done = pb;
    }
  }
  pbuf_free_list(done);
}

// Make b size bytes, more than it has; 1 if it grew (0: no page for the
// move below). A byte at ring offset off sits at (head + off) % size: the
// bytes before the old end keep their places, and those that had wrapped
// around to the start move up by the old size, a whole number of pages, so
// their pages move; a page they share with the ring's first bytes is copied.
int
tcpbuf_grow(struct tcpbuf *b, uint size)
{
  if (size <= b->size || size > TCP_BUFMAX)
    return 0;
  uint end = b->head + b->ringlen;
  if (end > b->size) {
    uint wrapped = end - b->size, npages = (wrapped + NET_PAGESIZE - 1) / NET_PAGESIZE;
    uint shift = b->size / NET_PAGESIZE, shared = b->head / NET_PAGESIZE;
    uchar *copy = 0;
    if (shared < npages) {   // the last wrapped page holds the first bytes too
      if ((copy = (uchar *)kalloc()) == 0)
        return 0;
      memmove(copy, b->pages[shared], wrapped - shared * NET_PAGESIZE);
    }
    for (uint i = 0; i < npages; i++) {
      if (i == shared) {
        b->pages[i + shift] = copy;
      } else {
        b->pages[i + shift] = b->pages[i];
        b->pages[i] = 0;
      }
    }
  }
  b->size = size;
  return 1;
}

uint
tcpbuf_space(struct tcpbuf *b)
{
  return b->size - b->len;
}

void
tcpbuf_free(struct tcpbuf *b)
{
  for (int i = 0; i < TCP_BUFPAGES; i++) {
    if (b->pages[i])
      kfree((char *)b->pages[i]);
    b->pages[i] = 0;
  }
  pbufq_flush(&b->kept);
  b->head = b->len = b->ringlen = 0;
}

// ---- initial sequence numbers (RFC 6528): a 4 us clock plus a keyed
// hash of the connection's addresses and ports, SipHash-2-4 here ----

static uint isnkey[4];
static int isnfixed;
static uint isnvalue;   // tcp.isn= on the command line: every ISN is this (tests)

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void
sipround(uint64 v[4])
{
  v[0] += v[1]; v[1] = ROTL64(v[1], 13); v[1] ^= v[0]; v[0] = ROTL64(v[0], 32);
  v[2] += v[3]; v[3] = ROTL64(v[3], 16); v[3] ^= v[2];
  v[0] += v[3]; v[3] = ROTL64(v[3], 21); v[3] ^= v[0];
  v[2] += v[1]; v[1] = ROTL64(v[1], 17); v[1] ^= v[2]; v[2] = ROTL64(v[2], 32);
}

// SipHash-2-4 of two 64-bit words under the 128-bit key.
static uint64
siphash(uint64 m0, uint64 m1)
{
  uint64 k0 = (uint64)isnkey[1] << 32 | isnkey[0], k1 = (uint64)isnkey[3] << 32 | isnkey[2];
  uint64 v[4] = { k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                  k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL };
  uint64 m[3] = { m0, m1, (uint64)16 << 56 };
  for (int i = 0; i < 3; i++) {
    v[3] ^= m[i];
    sipround(v);
    sipround(v);
    v[0] ^= m[i];
  }
  v[2] ^= 0xff;
  for (int i = 0; i < 4; i++)
    sipround(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint
tcp_iss(uint laddr, ushort lport, uint raddr, ushort rport)
{
  if (isnfixed)
    return isnvalue;
  uint64 h = siphash((uint64)laddr << 32 | raddr, (uint64)lport << 16 | rport);
  return (uint)h + readticks() * (1000000 / HZ / 4);
}

// ---- connection blocks ----

// What autotuning gave b goes back to the common bound (b keeps its size):
// nobody will read it, the block is freed, or the program set its size.
static void
bufgiveback(struct tcpbuf *b)
{
  grownall -= b->grown;
  b->grown = 0;
}

// Double b, up to most (and TCP_BUFMAX), within what all connections may
// still grow by together (TCP_GROWTOTAL); whether it grew.
static int
bufgrow(struct tcpbuf *b, uint most)
{
  most = MIN(most, TCP_BUFMAX);
  if (b->size >= most)
    return 0;
  uint grow = MIN(MIN(b->size, most - b->size), TCP_GROWTOTAL - grownall);
  grow = grow / NET_PAGESIZE * NET_PAGESIZE;
  if (grow == 0 || !tcpbuf_grow(b, b->size + grow))
    return 0;
  b->grown += grow;
  grownall += grow;
  return 1;
}

// The orphan in TIME_WAIT closest to its end, or 0. When every block is
// taken, it makes room: a server that closes first keeps one block per
// recent client in TIME_WAIT (2*MSL), and a busy one would otherwise find
// none left to accept with while SYNs take each block that frees up. lwIP
// (tcp_kill_timewait) and BSD's TIME_WAIT recycling do the same: the
// block's only work left is answering a retransmitted FIN.
static struct tcpcb *
oldesttimewait(void)
{
  struct tcpcb *old = 0;
  for (struct tcpcb *tp = tcbs; tp < tcbs + NTCB; tp++)
    if (tp->used && tp->state == TCPS_TIME_WAIT && tp->so == 0 &&
        (old == 0 || (int)(tp->t_2msl - old->t_2msl) < 0))
      old = tp;
  return old;
}

static uint
pageup(uint bytes)
{
  return (bytes + NET_PAGESIZE - 1) / NET_PAGESIZE * NET_PAGESIZE;
}

struct tcpcb *
tcp_alloc(void)
{
  for (struct tcpcb *tp = tcbs; tp < tcbs + NTCB; tp++) {
    if (tp->used)
      continue;
    memset(tp, 0, sizeof *tp);
    tp->used = 1;
    tp->state = TCPS_CLOSED;
    tp->snd.size = pageup(tcp_sndbufdefault);
    tp->rcv.size = pageup(tcp_rcvbufdefault);
    tp->rto = TCP_RTOINIT;
    tp->mss = TCP_DEFMSS;
    if (tp >= tcbend)
      tcbend = tp + 1;
    return tp;
  }
  struct tcpcb *old = oldesttimewait();
  if (old == 0)
    return 0;
  TCPCOUNT(twrecycled);
  tcp_free(old);
  return tcp_alloc();   // finds the block just freed
}

// Take a child off its listener's counts and queue.
static void
unparent(struct tcpcb *tp)
{
  struct tcpcb *lp = tp->parent;
  if (lp == 0)
    return;
  struct tcpcb **pp = &lp->acceptq;
  while (*pp && *pp != tp)
    pp = &(*pp)->qnext;
  if (*pp) {
    *pp = tp->qnext;
    lp->qlen--;
  } else {
    lp->nsynrcvd--;
  }
  tp->parent = 0;
  tp->qnext = 0;
}

void
tcp_free(struct tcpcb *tp)
{
  unparent(tp);
  tcpbuf_free(&tp->snd);
  tcpbuf_free(&tp->rcv);
  bufgiveback(&tp->rcv);
  bufgiveback(&tp->snd);
  while (tp->ooo) {
    struct pbuf *pb = tp->ooo;
    tp->ooo = pb->next;
    pbuf_free(pb);
  }
  if (tp->so)
    tp->so->pcb = 0;
  tp->used = 0;
  while (tcbend > tcbs && !tcbend[-1].used)
    tcbend--;
  tcp_wake(tp);
}

// Something a caller may wait for changed: wake sleepers on tp, and
// pollers (sock.h's contract: after the change, with the lock held).
void
tcp_wake(struct tcpcb *tp)
{
  wakeup(tp);
  pollwakeup();
}

// The connection is CLOSED: a block nobody will read is freed; otherwise
// its user is woken to see the state and the error.
void
tcp_closed(struct tcpcb *tp)
{
  tp->state = TCPS_CLOSED;
  tp->t_rexmt = tp->t_persist = tp->t_delack = tp->t_keep = tp->t_2msl = 0;
  tcpbuf_free(&tp->snd);   // nothing will be sent (what is unread stays for the program)
  if (tp->parent || tp->so == 0) {
    tcp_free(tp);
    return;
  }
  tcp_wake(tp);
}

void
tcp_drop(struct tcpcb *tp, int err)
{
  if (TCPS_SYNCHRONIZED(tp->state) && tp->state != TCPS_TIME_WAIT)
    tcp_sendrst(tp);
  else if (tp->state == TCPS_SYN_RCVD)
    tcp_sendrst(tp);
  tp->error = err;
  tcp_closed(tp);
}

// ---- ports ----

// Is lport (at laddr) taken for a new bind? Connections in TIME_WAIT (and
// others no longer listening or bound alone) give way to SO_REUSEADDR.
static int
portinuse(struct tcpcb *self, uint laddr, ushort lport, int reuse)
{
  for (struct tcpcb *tp = tcbs; tp < tcbend; tp++) {
    if (!tp->used || tp == self || tp->lport != lport)
      continue;
    if (tp->laddr && laddr && tp->laddr != laddr)
      continue;
    if (reuse && tp->state != TCPS_LISTEN && !(tp->state == TCPS_CLOSED && tp->so))
      continue;
    return 1;
  }
  return 0;
}

static int
bindport(struct tcpcb *tp, uint laddr, ushort port, int reuse)
{
  if (port == 0) {
    for (int tries = 0; tries <= EPHEMERAL_HI - EPHEMERAL_LO; tries++) {
      ushort p = nextephemeral;
      nextephemeral = p == EPHEMERAL_HI ? EPHEMERAL_LO : p + 1;
      if (!portinuse(tp, laddr, p, 0)) {
        port = p;
        break;
      }
    }
    if (port == 0)
      return -EADDRINUSE;
  } else if (portinuse(tp, laddr, port, reuse)) {
    return -EADDRINUSE;
  }
  tp->laddr = laddr;
  tp->lport = port;
  return 0;
}

// ---- socket calls ----

static int
getsin(const struct sockaddr *addr, int len, const struct sockaddr_in **sin)
{
  *sin = (const struct sockaddr_in *)addr;
  if (len < (int)sizeof **sin)
    return -EINVAL;
  if ((*sin)->sin_family != AF_INET)
    return -EAFNOSUPPORT;
  return 0;
}

// The socket's block, with tcplock held; -EBADF-like errors if it has none
// (a socket whose block was reclaimed cannot happen: the block lives until
// the socket closes).
static struct tcpcb *
lockpcb(struct socket *s)
{
  acquire(&tcplock);
  return s->pcb;
}

static int
tcp_bind(struct socket *s, const struct sockaddr *addr, int len)
{
  const struct sockaddr_in *sin;
  int err;
  if ((err = getsin(addr, len, &sin)) < 0)
    return err;
  if (sin->sin_addr && !ip_isours(sin->sin_addr))
    return -EADDRNOTAVAIL;
  struct tcpcb *tp = lockpcb(s);
  if (tp->lport || tp->state != TCPS_CLOSED)
    err = -EINVAL;
  else
    err = bindport(tp, sin->sin_addr, ntohs(sin->sin_port), (tp->flags & TF_REUSEADDR) != 0);
  if (err == 0) {
    s->laddr = tp->laddr;
    s->lport = tp->lport;
  }
  release(&tcplock);
  return err;
}

static int
tcp_listen(struct socket *s, int backlog)
{
  int err = 0;
  struct tcpcb *tp = lockpcb(s);
  if (tp->state != TCPS_CLOSED && tp->state != TCPS_LISTEN) {
    err = -EINVAL;
  } else if (tp->lport == 0 && (err = bindport(tp, 0, 0, 0)) == 0) {
    s->lport = tp->lport;
  }
  if (err == 0) {
    tp->backlog = MIN(MAX(backlog, 1), TCP_BACKLOGMAX);
    tp->state = TCPS_LISTEN;
  }
  release(&tcplock);
  return err;
}

// Sleep on tp (tcplock held) until woken or the deadline; -EINTR if killed.
static int
waitfor(struct tcpcb *tp)
{
  if (net_interrupted())
    return -EINTR;
  sleepdeadline(tp, &tcplock, 0);
  return 0;
}

static int
tcp_connect(struct socket *s, const struct sockaddr *addr, int len)
{
  const struct sockaddr_in *sin;
  uint nexthop;
  int err;

  if ((err = getsin(addr, len, &sin)) < 0)
    return err;
  if (sin->sin_addr == 0 || sin->sin_port == 0 || ip_isbroadcast(sin->sin_addr))
    return sin->sin_port ? -ENETUNREACH : -ECONNREFUSED;
  struct netdev *dev = ip_route(sin->sin_addr, &nexthop);
  if (dev == 0) {
    ip_count_noroute();
    return -ENETUNREACH;
  }
  struct tcpcb *tp = lockpcb(s);
  if (tp->state == TCPS_SYN_SENT || tp->state == TCPS_SYN_RCVD)
    err = s->nonblock ? -EALREADY : 0;
  else if (tp->state != TCPS_CLOSED)
    err = -EISCONN;
  else if (tp->flags & TF_OPENED) {
    // A connection came and went on this socket: its error once (a
    // non-blocking connect that failed), then EISCONN; no second life.
    err = tp->error ? tp->error : -EISCONN;
    tp->error = 0;
  }
  if (err < 0 || tp->state != TCPS_CLOSED)
    goto wait;
  uint laddr = tp->laddr ? tp->laddr : (dev->type == ARPHRD_LOOPBACK ? sin->sin_addr : dev->ipaddr);
  if (tp->lport == 0 && (err = bindport(tp, laddr, 0, 0)) < 0)
    goto out;
  tp->laddr = laddr;
  tp->raddr = sin->sin_addr;
  tp->rport = ntohs(sin->sin_port);
  s->laddr = tp->laddr;
  s->lport = tp->lport;
  s->raddr = tp->raddr;
  s->rport = tp->rport;
  tp->rcv_wscale = tcp_wscale(tp);
  tp->mss = tcp_ourmss(tp->raddr);
  tp->iss = tcp_iss(tp->laddr, tp->lport, tp->raddr, tp->rport);
  tp->snd_una = tp->snd_nxt = tp->snd_max = tp->recover = tp->iss;
  tp->state = TCPS_SYN_SENT;
  tp->flags |= TF_OPENED;
  TCPCOUNT(activeopens);
  tcp_sendsyn(tp);
  if (s->nonblock) {
    err = -EINPROGRESS;
    goto out;
  }
wait:
  if (err == 0) {
    while (tp->state == TCPS_SYN_SENT || tp->state == TCPS_SYN_RCVD)
      if ((err = waitfor(tp)) < 0)
        goto out;
    if (tp->state == TCPS_CLOSED) {
      err = tp->error ? tp->error : -ECONNREFUSED;
      tp->error = 0;
    }
  }
out:
  release(&tcplock);
  return err;
}

static int
tcp_accept(struct socket *s, struct socket **pns, struct sockaddr *addr, int *len)
{
  struct socket *ns;
  int err;

  if ((err = sock_create(AF_INET, SOCK_STREAM, IPPROTO_TCP, &ns)) < 0)
    return err == -ENFILE ? -ENFILE : err;
  struct tcpcb *lp = lockpcb(s);
  while (lp->state == TCPS_LISTEN && lp->acceptq == 0) {
    if (s->nonblock) {
      err = -EAGAIN;
      break;
    }
    if ((err = waitfor(lp)) < 0)
      break;
  }
  if (err == 0 && lp->state != TCPS_LISTEN)
    err = -EINVAL;
  if (err < 0) {
    release(&tcplock);
    sock_close(ns);
    return err;
  }
  struct tcpcb *tp = lp->acceptq;
  unparent(tp);
  tcp_free(ns->pcb);
  ns->pcb = tp;
  tp->so = ns;
  ns->laddr = tp->laddr;
  ns->lport = tp->lport;
  ns->raddr = tp->raddr;
  ns->rport = tp->rport;
  ns->ttl = tp->ttl;
  if (tp->state == TCPS_CLOSED)
    tp->error = tp->error ? tp->error : -ECONNABORTED;
  release(&tcplock);
  if (addr)
    inet_fillsin(addr, len, ns->raddr, ns->rport);
  *pns = ns;
  return 0;
}

// Send-buffer autotuning, Linux's aim (tcp_sndbuf_expand, which follows
// cwnd) by a simpler rule: the writer is about to wait for room, all the
// buffer holds has been sent but for less than a segment (which Nagle may
// hold back), and both the congestion window and the peer's would let
// more than the buffer fly. The buffer is what holds the flow back: it
// doubles (bufgrow), unless SO_SNDBUF was set.
static void
sndautotune(struct tcpcb *tp)
{
  uint inflight = tp->snd_max - tp->snd_una;
  if ((tp->flags & TF_SNDLOCKED) || inflight + tp->mss <= tp->snd.len ||
      MIN(tp->cwnd, tp->snd_wnd) <= tp->snd.size)
    return;
  if (bufgrow(&tp->snd, TCP_BUFMAX))
    TCPCOUNT(sndbufgrown);
}

// Can data be sent in this state?
static int
sendstate(struct tcpcb *tp)
{
  if (tp->flags & TF_FINQUEUED)
    return -EPIPE;
  switch (tp->state) {
  case TCPS_ESTABLISHED:
  case TCPS_CLOSE_WAIT:
    return 0;
  case TCPS_SYN_SENT:
  case TCPS_SYN_RCVD:
    return 1;   // wait for the handshake
  case TCPS_CLOSED:
    if (tp->error)
      return tp->error;
    return (tp->flags & TF_OPENED) ? -EPIPE : -ENOTCONN;
  case TCPS_LISTEN:
    return -ENOTCONN;
  }
  return -EPIPE;
}

static int
tcp_send(struct socket *s, uint src, int len, int flags)
{
  int done = 0, err = 0;
  int nonblock = s->nonblock || (flags & MSG_DONTWAIT);
  RXPROF_BEGIN(t);   // a pass per stretch between sleeps: calls = passes - sleeps
  struct tcpcb *tp = lockpcb(s);
  while (done < len) {
    int st = sendstate(tp);
    if (st < 0) {
      err = st;
      if (tp->error == st)
        tp->error = 0;
      break;
    }
    // A writer that blocks waits for a quarter of the buffer (or all it has
    // left to write), not for the first free byte: woken by every ACK, it
    // would write one or two segments' worth at a time, and the card (with
    // segmentation offload) be handed as little. Linux's writers wait for a
    // third (sk_stream_wspace).
    uint space = tcpbuf_space(&tp->snd);
    uint want = nonblock ? 1 : MAX(1, MIN((uint)(len - done), tp->snd.size / 4));
    if (st == 0 && space < want) {
      sndautotune(tp);
      space = tcpbuf_space(&tp->snd);
    }
    if (st == 1 || space < want) {
      if (nonblock) {
        err = -EAGAIN;
        break;
      }
      RXPROF_END(RXP_SEND, t);
      RXPROF_BEGIN(tw);
      err = waitfor(tp);
      RXPROF_END(RXP_SNDWAIT, tw);
#ifdef RXPROF
      t = net_rxprof_begin();
#endif
      if (err < 0)
        break;
      continue;
    }
    RXPROF_BEGIN(tc);
    int n = tcpbuf_put(&tp->snd, (const uchar *)src + done, MIN(space, (uint)(len - done)), 1);
    RXPROF_END(RXP_SNDCOPY, tc);
    if (n < 0) {
      err = n;
      break;
    }
    if (n == 0) {   // no memory for the buffer's pages
      err = -ENOBUFS;
      break;
    }
    done += n;
    RXPROF_BEGIN(to);
    tcp_output(tp);
    RXPROF_END(RXP_SNDOUT, to);
  }
  release(&tcplock);
  RXPROF_END(RXP_SEND, t);
  return done > 0 ? done : err;
}

static int
tcp_sendto(struct socket *s, uint src, int len, const struct sockaddr *to, int tolen)
{
  (void)to;   // connected: the address is ignored, as Linux does
  (void)tolen;
  return tcp_send(s, src, len, 0);
}

// Nothing more will come: the peer's FIN arrived, or the connection is gone.
static int
rcvdone(struct tcpcb *tp)
{
  return tp->state == TCPS_CLOSE_WAIT || tp->state == TCPS_CLOSING ||
         tp->state == TCPS_LAST_ACK || tp->state == TCPS_TIME_WAIT ||
         tp->state == TCPS_CLOSED || (tp->flags & TF_SHUTRD);
}

// After the user read: announce a window that grew by enough (RFC 9293
// 3.8.6.2.2), if the peer may be short of window: as Linux does, only while
// what it was offered is at most half the most we can offer. Above that the
// sender has room, and the ACKs its next segments get carry the new window;
// an update after every read was an ACK (and a TDT write) per read, 3 us
// of each received segment's share (docs/bench.md). An ACK that the end of
// a batch left to this read (TF_READACK, tcp_batchend) goes now in any case.
static void
windowupdate(struct tcpcb *tp)
{
  if (!TCPS_SYNCHRONIZED(tp->state) || rcvdone(tp))
    return;
  int owed = (tp->flags & TF_READACK) != 0;
  if (!owed && !tcp_windowshort(tp))
    return;
  uint was = tcp_offered(tp), win = tcp_rcvwindow(tp);   // what would be offered now: scaled, bounded
  if (owed || (win > was && win - was >= MIN(tp->rcv.size / 2, 2 * tp->mss))) {
    tp->flags |= TF_ACKNOW;
    tcp_output(tp);
  }
}

// Receive-buffer autotuning, Linux's aim (net.ipv4.tcp_moderate_rcvbuf)
// by a simpler rule. The peer sent up to the edge of the window we offered
// (TF_RCVEDGE, tcp_input), and a read since then left at most half the
// buffer holding data: the reader keeps up, and the window is what holds
// the flow back. Then the buffer doubles, up to TCP_BUFMAX and to what the
// window scale can offer, within what all connections may grow by together
// (bufgrow). A reader that falls behind keeps its buffer full while data
// comes, and does not make it grow; nor does a sender that the window does
// not hold back.
static void
rcvautotune(struct tcpcb *tp)
{
  if (!(tp->flags & TF_RCVEDGE) || tp->rcv.len > tp->rcv.size / 2)
    return;
  tp->flags &= ~TF_RCVEDGE;
  if (!tcp_moderate_rcvbuf || (tp->flags & TF_RCVLOCKED))
    return;
  if (bufgrow(&tp->rcv, 65535u << tp->rcv_wscale))
    TCPCOUNT(rcvbufgrown);
}

// The window scale to ask for: the smallest that lets the receive buffer
// be offered whole at the most it may grow to.
uchar
tcp_wscale(struct tcpcb *tp)
{
  uint most = tp->rcv.size;
  if (tcp_moderate_rcvbuf && !(tp->flags & TF_RCVLOCKED))
    most = MAX(most, TCP_BUFMAX);
  uchar s = 0;
  while (s < TCP_MAXWSCALE && (65535u << s) < most)
    s++;
  return s;
}

static int
tcp_recvfrom(struct socket *s, uint dst, int len, int flags, struct sockaddr *from, int *fromlen)
{
  int err = 0;
  int nonblock = s->nonblock || (flags & MSG_DONTWAIT);
  struct tcpcb *tp = lockpcb(s);
  if (tp->state == TCPS_LISTEN || (tp->state == TCPS_CLOSED && !(tp->flags & TF_OPENED))) {
    release(&tcplock);
    return -ENOTCONN;
  }
  while (tp->rcv.len == 0 && len > 0) {
    if (tp->error) {
      err = tp->error;
      tp->error = 0;
      break;
    }
    if (rcvdone(tp))
      break;
    if (nonblock) {
      err = -EAGAIN;
      break;
    }
    if ((err = waitfor(tp)) < 0)
      break;
  }
  RXPROF_BEGIN(t);
  int n = MIN((uint)len, tp->rcv.len);
  if (err == 0 && n > 0) {
    RXPROF_BEGIN(tc);
    int bad = bufcopyout(&tp->rcv, dst, n) < 0;
    RXPROF_END(RXP_COPYOUT, tc);
    if (bad) {
      err = -EFAULT;
    } else if (!(flags & MSG_PEEK)) {
      tcpbuf_drop(&tp->rcv, n);
      rcvautotune(tp);
      RXPROF_BEGIN(tw);
      windowupdate(tp);
      RXPROF_END(RXP_WINUPD, tw);
    }
  }
  release(&tcplock);
  RXPROF_END(RXP_RECV, t);
  if (err < 0)
    return err;
  if (from)
    inet_fillsin(from, fromlen, s->raddr, s->rport);
  return n;
}

// Send our FIN after what is queued (RFC 9293 3.10.4, CLOSE).
static void
sendfin(struct tcpcb *tp)
{
  if (tp->flags & TF_FINQUEUED)
    return;
  if (tp->state == TCPS_ESTABLISHED || tp->state == TCPS_SYN_RCVD)
    tp->state = TCPS_FIN_WAIT_1;
  else if (tp->state == TCPS_CLOSE_WAIT)
    tp->state = TCPS_LAST_ACK;
  else
    return;
  tp->flags |= TF_FINQUEUED;
  tcp_output(tp);
}

static int
tcp_shutdown(struct socket *s, int how)
{
  int err = 0;
  struct tcpcb *tp = lockpcb(s);
  if (tp->state == TCPS_LISTEN || tp->state == TCPS_CLOSED || tp->state == TCPS_SYN_SENT) {
    err = tp->state == TCPS_LISTEN && how != SHUT_WR ? 0 : -ENOTCONN;
    if (tp->state == TCPS_LISTEN && how != SHUT_WR)
      tp->flags |= TF_SHUTRD;
  } else {
    if (how != SHUT_WR) {
      tp->flags |= TF_SHUTRD;
      tcpbuf_drop(&tp->rcv, tp->rcv.len);
    }
    if (how != SHUT_RD)
      sendfin(tp);
  }
  tcp_wake(tp);
  release(&tcplock);
  return err;
}

// Drop a listener's children: those established are reset.
static void
closelistener(struct tcpcb *lp)
{
  for (struct tcpcb *tp = tcbs; tp < tcbend; tp++) {
    if (tp->used && tp->parent == lp) {
      unparent(tp);
      tcp_drop(tp, -ECONNABORTED);   // no socket, no parent: freed
    }
  }
}

static void
tcp_close(struct socket *s)
{
  struct tcpcb *tp = lockpcb(s);
  if (tp == 0) {
    release(&tcplock);
    return;
  }
  tp->so = 0;
  s->pcb = 0;
  bufgiveback(&tp->rcv);   // nobody reads any more
  switch (tp->state) {
  case TCPS_LISTEN:
    closelistener(tp);
    tcp_free(tp);
    break;
  case TCPS_CLOSED:
  case TCPS_SYN_SENT:
    tcp_free(tp);
    break;
  case TCPS_TIME_WAIT:
    tcpbuf_free(&tp->rcv);   // nobody will read it; the block only answers a FIN now
    if (tp->flags & TF_LINGER0)
      tcp_drop(tp, 0);
    break;
  default:
    // Unread data, or SO_LINGER 0: reset (RFC 2525 2.17, as Linux does),
    // in every state, so that no orphan keeps pages of bytes nobody reads.
    if ((tp->flags & TF_LINGER0) || tp->rcv.len > 0) {
      tcp_drop(tp, 0);
      break;
    }
    if (tp->state == TCPS_FIN_WAIT_2)
      tp->t_2msl = tcp_deadline(TCP_FINTIMEOUT);
    else if (tp->state == TCPS_SYN_RCVD || tp->state == TCPS_ESTABLISHED ||
             tp->state == TCPS_CLOSE_WAIT)
      sendfin(tp);
    break;   // FIN_WAIT_1, CLOSING, LAST_ACK: finishing on their own
  }
  release(&tcplock);
  acquire(&s->lock);
  s->lport = 0;
  release(&s->lock);
}

static int
tcp_getname(struct socket *s, struct sockaddr *addr, int *len)
{
  inet_fillsin(addr, len, s->laddr, s->lport);
  return 0;
}

static int
tcp_getpeer(struct socket *s, struct sockaddr *addr, int *len)
{
  struct tcpcb *tp = lockpcb(s);
  int ok = tp && TCPS_SYNCHRONIZED(tp->state);
  release(&tcplock);
  if (!ok)
    return -ENOTCONN;
  inet_fillsin(addr, len, s->raddr, s->rport);
  return 0;
}

// A buffer size as Linux sets it: doubled, bounded; whole pages here. A
// buffer holding data keeps its size.
static int
setbufsize(struct tcpbuf *b, int v)
{
  uint bytes = MIN((uint)v, TCP_BUFMAX / 2) * 2;   // a negative value asks for the most
  bytes = (MAX(bytes, TCP_BUFMIN) + NET_PAGESIZE - 1) / NET_PAGESIZE * NET_PAGESIZE;
  if (b->len > 0)
    return -EBUSY;
  tcpbuf_free(b);
  b->size = bytes;
  return 0;
}

static int
tcp_setopt(struct socket *s, int level, int opt, const void *val, int len)
{
  int v = 0, err = 0;
  struct linger lg;
  if (level == SOL_SOCKET && opt == SO_LINGER) {
    if (len < (int)sizeof lg)
      return -EINVAL;
    memmove(&lg, val, sizeof lg);
  } else if ((level == SOL_SOCKET && (opt == SO_REUSEADDR || opt == SO_KEEPALIVE ||
                                      opt == SO_SNDBUF || opt == SO_RCVBUF)) ||
             (level == IPPROTO_TCP && opt == TCP_NODELAY)) {
    if (len < (int)sizeof v)
      return -EINVAL;
    memmove(&v, val, sizeof v);
  } else if (level == IPPROTO_IP && opt == SOCK_IP_TTL) {
    struct tcpcb *tp = lockpcb(s);   // sock_setopt checked the value and set so->ttl
    tp->ttl = s->ttl;
    release(&tcplock);
    return 0;
  } else {
    return -ENOPROTOOPT;
  }
  struct tcpcb *tp = lockpcb(s);
  uint bit = 0;
  if (opt == SO_LINGER && level == SOL_SOCKET)
    bit = TF_LINGER0, v = lg.l_onoff && lg.l_linger == 0;
  else if (opt == SO_REUSEADDR)
    bit = TF_REUSEADDR;
  else if (opt == SO_KEEPALIVE && level == SOL_SOCKET)
    bit = TF_KEEPALIVE;
  else if (level == IPPROTO_TCP)
    bit = TF_NODELAY;
  if (bit) {
    tp->flags = v ? tp->flags | bit : tp->flags & ~bit;
    if (bit == TF_KEEPALIVE && v && TCPS_SYNCHRONIZED(tp->state) && tp->t_keep == 0)
      tp->t_keep = tcp_deadline(TCP_KEEPIDLE);
    if (bit == TF_NODELAY && v)
      tcp_output(tp);
  } else if (opt == SO_SNDBUF) {
    if ((err = setbufsize(&tp->snd, v)) == 0) {
      tp->flags |= TF_SNDLOCKED;   // as Linux's SOCK_SNDBUF_LOCK: no autotuning
      bufgiveback(&tp->snd);
    }
  } else if ((err = setbufsize(&tp->rcv, v)) == 0) {
    tp->flags |= TF_RCVLOCKED;   // as Linux's SOCK_RCVBUF_LOCK: no autotuning
    bufgiveback(&tp->rcv);
  }
  release(&tcplock);
  return err;
}

static int
tcp_getopt(struct socket *s, int level, int opt, void *val, int *len)
{
  int v;
  struct tcpcb *tp = lockpcb(s);
  if (level == SOL_SOCKET && opt == SO_ERROR) {
    v = -tp->error;
    tp->error = 0;
  } else if (level == SOL_SOCKET && opt == SO_SNDBUF) {
    v = tp->snd.size;
  } else if (level == SOL_SOCKET && opt == SO_RCVBUF) {
    v = tp->rcv.size;
  } else if (level == SOL_SOCKET && opt == SO_KEEPALIVE) {
    v = (tp->flags & TF_KEEPALIVE) != 0;
  } else if (level == SOL_SOCKET && opt == SO_REUSEADDR) {
    v = (tp->flags & TF_REUSEADDR) != 0;
  } else if (level == IPPROTO_TCP && opt == TCP_NODELAY) {
    v = (tp->flags & TF_NODELAY) != 0;
  } else {
    release(&tcplock);
    return -ENOPROTOOPT;
  }
  release(&tcplock);
  if (*len < (int)sizeof v)
    return -EINVAL;
  memmove(val, &v, sizeof v);
  *len = sizeof v;
  return 0;
}

// Readiness for poll(2) (sock.h's contract).
static int
tcp_poll(struct socket *s, int events)
{
  (void)events;
  int ready = 0;
  struct tcpcb *tp = lockpcb(s);
  if (tp->state == TCPS_LISTEN) {
    if (tp->acceptq)
      ready |= POLLIN;
  } else {
    if (tp->rcv.len > 0 || rcvdone(tp) || tp->error)
      ready |= POLLIN;
    if (tp->error)
      ready |= POLLERR;
    int connecting = tp->state == TCPS_SYN_SENT || tp->state == TCPS_SYN_RCVD;
    if (!connecting && (tp->state != TCPS_CLOSED || (tp->flags & TF_OPENED)) &&
        (tcpbuf_space(&tp->snd) > 0 || tp->state == TCPS_CLOSED || (tp->flags & TF_FINQUEUED)))
      ready |= POLLOUT;   // room, or a send that fails at once
    if (tp->state == TCPS_CLOSED && (tp->flags & TF_OPENED))
      ready |= POLLHUP;   // reset, timed out, or closed both ways
    else if ((tp->flags & TF_FINQUEUED) && rcvdone(tp))
      ready |= POLLHUP;
  }
  release(&tcplock);
  return ready;
}

static const struct sockops tcpops = {
  .bind = tcp_bind,
  .sendto = tcp_sendto,
  .recvfrom = tcp_recvfrom,
  .close = tcp_close,
  .connect = tcp_connect,
  .getname = tcp_getname,
  .listen = tcp_listen,
  .send = tcp_send,
  .accept = tcp_accept,
  .shutdown = tcp_shutdown,
  .getpeer = tcp_getpeer,
  .setopt = tcp_setopt,
  .getopt = tcp_getopt,
  .poll = tcp_poll,
};

// A new stream socket gets its block at once, in CLOSED.
int
tcp_attach(struct socket *s)
{
  acquire(&tcplock);
  struct tcpcb *tp = tcp_alloc();
  if (tp) {
    tp->so = s;
    s->pcb = tp;
  }
  release(&tcplock);
  if (tp == 0)
    return -ENOBUFS;
  s->ops = &tcpops;
  s->protocol = IPPROTO_TCP;
  return 0;
}

// ---- netstat ----

int
tcp_list(int index, struct tcpinfo *out)
{
  acquire(&tcplock);
  for (struct tcpcb *tp = tcbs; tp < tcbend; tp++) {
    if (!tp->used || index-- > 0)
      continue;
    memset(out, 0, sizeof *out);
    out->laddr = tp->laddr;
    out->raddr = tp->raddr;
    out->lport = tp->lport;
    out->rport = tp->rport;
    out->state = tp->state;
    out->recvq = tp->state == TCPS_LISTEN ? (uint)tp->qlen : tp->rcv.len;
    out->sendq = tp->state == TCPS_LISTEN ? (uint)tp->backlog : tp->snd_max - tp->snd_una;
    out->pid = tp->so ? tp->so->pid : 0;
    out->rto_ms = tp->rto * (1000 / HZ);
    out->srtt_ms = (tp->srtt >> 3) * (1000 / HZ);
    out->cwnd = tp->cwnd;
    out->ssthresh = tp->ssthresh;
    release(&tcplock);
    return 0;
  }
  release(&tcplock);
  return -ENOENT;
}

void
tcp_stats(struct netstat_info *o)
{
  acquire(&tcplock);
  struct tcpstat *t = &tcpstat;
  o->tcp_activeopens = t->activeopens;
  o->tcp_passiveopens = t->passiveopens;
  o->tcp_attemptfails = t->attemptfails;
  o->tcp_estabresets = t->estabresets;
  for (struct tcpcb *tp = tcbs; tp < tcbend; tp++)
    o->tcp_currestab += tp->used && (tp->state == TCPS_ESTABLISHED || tp->state == TCPS_CLOSE_WAIT);
  o->tcp_insegs = t->insegs;
  o->tcp_outsegs = t->outsegs;
  o->tcp_retranssegs = t->retranssegs;
  o->tcp_inerrs = t->inerrs;
  o->tcp_outrsts = t->outrsts;
  o->tcp_badsum = t->badsum;
  o->tcp_fastretrans = t->fastretrans;
  o->tcp_timeouts = t->timeouts;
  o->tcp_persistprobes = t->persistprobes;
  o->tcp_keepaliveprobes = t->keepaliveprobes;
  o->tcp_challengeacks = t->challengeacks;
  o->tcp_dropnolisten = t->dropnolisten;
  o->tcp_dropbacklog = t->dropbacklog;
  o->tcp_dropnotcb = t->dropnotcb;
  o->tcp_dropoutofwindow = t->dropoutofwindow;
  o->tcp_dropooofull = t->dropooofull;
  o->tcp_dropnomem = t->dropnomem;
  o->tcp_delayedacks = t->delayedacks;
  o->tcp_ooosegs = t->ooosegs;
  o->tcp_synrcvddropped = t->synrcvddropped;
  o->tcp_rstignored = t->rstignored;
  o->tcp_twrecycled = t->twrecycled;
  o->tcp_rcvbufgrown = t->rcvbufgrown;
  o->tcp_sndbufgrown = t->sndbufgrown;
  o->tcp_trainsegs = t->trainsegs;
  release(&tcplock);
}

void
tcpinit(void)
{
  char v[16];
  initlock(&tcplock, "tcp");
  random_get(isnkey, sizeof isnkey);
  if (cmdlineget("tcp.isn", v, sizeof v)) {
    isnfixed = 1;
    isnvalue = 0;
    for (char *p = v; *p >= '0' && *p <= '9'; p++)
      isnvalue = isnvalue * 10 + (*p - '0');
  }
  if (cmdlineget("tcp.msl", v, sizeof v) && atoi(v) > 0)
    tcp_msl = MAX((uint)atoi(v) * HZ / 1000, 1);
  sysctl_register(&tso_sysctl);
  sysctl_register(&wmem_sysctl);
  sysctl_register(&rmem_sysctl);
  sysctl_register(&moderate_sysctl);
  ip_register(IPPROTO_TCP, tcp_input);
}
