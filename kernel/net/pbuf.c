// The packet buffer pool: five classes, each a free list under one lock.
// Regular buffers sit two per 4 KiB page and short ones sixteen, so that each
// is physically contiguous. The free counts are exported (netstat -m, tests)
// so that a leak shows as a pool that does not come back to its starting size.

#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/wire.h"

struct freelist {
  struct pbuf *head;
  uint nfree, total;
};

static struct {
  struct spinlock lock;
  struct pbuf bufs[NPBUF + NBIGPBUF + NSHORTPBUF + NTSOPBUF + NPAGEPBUFMAX];
  uint nbufs;                  // of bufs[] in use
  struct freelist regular, big, shorts, tso, pages;
} pool;

// Large and TSO buffers live in the kernel's .bss, which is physically contiguous.
static uchar bigmem[NBIGPBUF][PBUF_BIGSIZE] __attribute__((aligned(NET_PAGESIZE)));
static uchar tsomem[NTSOPBUF][PBUF_TSOSIZE] __attribute__((aligned(NET_PAGESIZE)));

static struct freelist *
listfor(uint size)
{
  if (size == PBUF_BIGSIZE)
    return &pool.big;
  if (size == PBUF_TSOSIZE)
    return &pool.tso;
  if (size == PBUF_PAGESIZE)
    return &pool.pages;
  return size == PBUF_SHORTSIZE ? &pool.shorts : &pool.regular;
}

// The smallest class that anyone may take (not short or page buffers) whose
// buffers hold n bytes; 0 if none does. Only TCP's sends to a card that
// segments ask for more than a big buffer (the others are bounded by the
// MTU or IP_MAXPACKET), so only they take TSO buffers.
static struct freelist *
fitting(uint n)
{
  if (n <= PBUF_SIZE)
    return &pool.regular;
  if (n <= PBUF_BIGSIZE)
    return &pool.big;
  return n <= PBUF_TSOSIZE ? &pool.tso : 0;
}

// A new buffer of size bytes at base, onto its free list.
static void
addbuf(uchar *base, uint size)
{
  struct pbuf *pb = &pool.bufs[pool.nbufs++];
  struct freelist *l = listfor(size);
  pb->base = base;
  pb->size = size;
  pb->isfree = 1;
  pb->next = l->head;
  l->head = pb;
  l->nfree++;
  l->total++;
}

// n buffers of size bytes, carved from pages of the page allocator. Inline,
// so that `kprof pages` names pbufinit as the pages' allocation site.
static inline __attribute__((always_inline)) void
addpages(uint n, uint size)
{
  uint perpage = NET_PAGESIZE / size;
  for (uint i = 0; i < n; i += perpage) {
    uchar *page = (uchar *)kalloc();
    if (page == 0)
      break;
    for (uint j = 0; j < perpage && i + j < n; j++)
      addbuf(page + j * size, size);
  }
}

void
pbufinit(void)
{
  initlock(&pool.lock, "pbuf");
  addpages(NPBUF, PBUF_SIZE);
  for (int i = 0; i < NBIGPBUF; i++)
    addbuf(bigmem[i], PBUF_BIGSIZE);
  addpages(NSHORTPBUF, PBUF_SHORTSIZE);
  for (int i = 0; i < NTSOPBUF; i++)
    addbuf(tsomem[i], PBUF_TSOSIZE);
  cprintf("pbuf: %u buffers of %d bytes, %u of %d, %u of %d, %u of %d\n", pool.regular.total,
          PBUF_SIZE, pool.big.total, PBUF_BIGSIZE, pool.shorts.total, PBUF_SHORTSIZE,
          pool.tso.total, PBUF_TSOSIZE);
}

// A buffer fresh from the pool: empty, headroom bytes in, no history.
static void
reset(struct pbuf *pb, uint headroom)
{
  pb->next = 0;
  pb->rp = pb->wp = pb->base + headroom;
  pb->dev = 0;
  pb->ethertype = 0;
  pb->pkttype = 0;
  pb->traced = 0;
  pb->csumpartial = 0;
  pb->tsomss = 0;
  pb->csumok = 0;
  pb->train = 0;
}

// The first buffer of a free list, taken off it; 0 if the list is empty,
// or if it would leave no more than keep buffers. pool.lock held.
static struct pbuf *
pop(struct freelist *l, uint keep)
{
  struct pbuf *pb = l->head;
  if (pb == 0 || l->nfree <= keep)
    return 0;
  l->head = pb->next;
  l->nfree--;
  pb->isfree = 0;
  return pb;
}

// A buffer of class l for anyone but a receive ring: never one of the reserve.
static struct pbuf *
take(uint headroom, struct freelist *l)
{
  acquire(&pool.lock);
  struct pbuf *pb = pop(l, l == &pool.regular ? PBUF_RXRESERVE : 0);
  release(&pool.lock);
  if (pb)
    reset(pb, headroom);
  return pb;
}

struct pbuf *
pbuf_alloc(void)
{
  return take(PBUF_HEADROOM, &pool.regular);
}

struct pbuf *
pbuf_alloc_rx(void)
{
  struct pbuf *pb;
  return pbuf_alloc_rx_n(&pb, 1) ? pb : 0;
}

// Up to n receive buffers (no headroom) with one acquisition of the pool
// lock; returns how many were put in out[].
static int
takerx(struct freelist *l, struct pbuf **out, int n)
{
  int got = 0;
  struct pbuf *pb;
  acquire(&pool.lock);
  while (got < n && (pb = pop(l, 0)) != 0)
    out[got++] = pb;
  release(&pool.lock);
  for (int i = 0; i < got; i++)
    reset(out[i], 0);
  return got;
}

int
pbuf_alloc_rx_n(struct pbuf **out, int n)
{
  return takerx(&pool.regular, out, n);
}

int
pbuf_alloc_rxpages_n(struct pbuf **out, int n)
{
  return takerx(&pool.pages, out, n);
}

// n more page buffers, a page each from the page allocator, for a driver
// whose card fills large receive buffers; returns how many were added
// (fewer if pages or pbuf slots ran out).
uint
pbuf_addpages(uint n)
{
  uint added = 0;
  for (; added < n; added++) {
    uchar *page = (uchar *)kalloc();
    if (page == 0)
      break;
    acquire(&pool.lock);
    int room = pool.nbufs < NELEM(pool.bufs);
    if (room)
      addbuf(page, PBUF_PAGESIZE);
    release(&pool.lock);
    if (!room) {
      kfree((char *)page);
      break;
    }
  }
  return added;
}

struct pbuf *
pbuf_alloc_len(uint len)
{
  struct freelist *l = fitting(len + PBUF_HEADROOM);
  return l ? take(PBUF_HEADROOM, l) : 0;
}

// Back to its free list (pool.lock held).
static void
put(struct pbuf *pb)
{
  for (struct pbuf *car; pb; pb = car) {   // pb and its train
    if (pb < pool.bufs || pb >= pool.bufs + pool.nbufs)
      panic("pbuf_free: %p is not a pbuf", pb);
    if (pb->isfree)
      panic("pbuf_free: double free of %p", pb);
    car = pb->train;
    pb->train = 0;
    struct freelist *l = listfor(pb->size);
    pb->isfree = 1;
    pb->next = l->head;
    l->head = pb;
    l->nfree++;
  }
}

void
pbuf_free(struct pbuf *pb)
{
  acquire(&pool.lock);
  put(pb);
  release(&pool.lock);
}

// Free a list linked through next under one acquisition of the pool's lock:
// netrx's batch frees its segments' buffers once per poll, not once per
// frame (a lock round trip is 2 us under TCG).
void
pbuf_free_list(struct pbuf *head)
{
  if (head == 0)
    return;
  acquire(&pool.lock);
  while (head) {
    struct pbuf *pb = head;
    head = pb->next;
    put(pb);
  }
  release(&pool.lock);
}

uint
pbuf_free_count(uint size)
{
  return listfor(size)->nfree;
}

uint
pbuf_total_count(uint size)
{
  return listfor(size)->total;
}

// A racy read is enough: this only keeps queues off the last buffers.
int
pbuf_canqueue(struct pbuf *pb)
{
  if (pb->size == PBUF_SHORTSIZE)
    return 1;   // only queues take short buffers, and pbuf_shrink falls back when none is left
  if (pb->size == PBUF_BIGSIZE)
    return *(volatile uint *)&pool.big.nfree >= PBUF_BIGQUEUELOW;
  if (pb->size == PBUF_TSOSIZE)
    return 1;   // only TCP's sends take them, and they wait only for ARP
  if (pb->size == PBUF_PAGESIZE)
    return *(volatile uint *)&pool.pages.nfree >= PBUF_PAGEQUEUELOW;
  return *(volatile uint *)&pool.regular.nfree >= PBUF_QUEUELOW;
}

// What a copy keeps of the original besides its data.
static void
copymeta(struct pbuf *c, struct pbuf *pb)
{
  c->dev = pb->dev;
  c->ethertype = pb->ethertype;
  c->pkttype = pb->pkttype;
  c->traced = pb->traced;
  memmove(c->lladdr, pb->lladdr, sizeof c->lladdr);
  c->srcaddr = pb->srcaddr;
  c->srcport = pb->srcport;
  c->csumok = pb->csumok;
}

struct pbuf *
pbuf_copy(struct pbuf *pb)
{
  uint headroom = pb->rp - pb->base;
  struct freelist *l = fitting(headroom + pbuf_len(pb));
  struct pbuf *c = l ? take(headroom, l) : 0;
  if (c == 0)
    return 0;
  memmove(c->rp, pb->rp, pbuf_len(pb));
  c->wp = c->rp + pbuf_len(pb);
  copymeta(c, pb);
  c->csumpartial = pb->csumpartial;
  c->csumstart = pb->csumstart;
  c->csumoff = pb->csumoff;
  c->csumproto = pb->csumproto;
  c->tsomss = pb->tsomss;
  return c;
}

// Would pbuf_shrink move pb into a short buffer?
int
pbuf_shrinkable(struct pbuf *pb)
{
  return pb->size > PBUF_SHORTSIZE && pbuf_len(pb) <= PBUF_SHORTSIZE && !pb->csumpartial &&
         !pb->tsomss;
}

// Copybreak (Linux's e1000 does it for frames of up to 256 bytes; BSD keeps
// small packets in 256-byte mbufs): a short packet about to wait in a queue
// moves into a short buffer, and its 2 KiB buffer goes back to the pool at
// once. A queue charged by buffer size then holds eight times as many small
// datagrams, and the pool keeps its large buffers for the card. One lock
// round trip takes the short buffer and frees the old one. Returns the short
// buffer (pb is freed), or pb itself when it does not qualify or no short
// buffer is left.
struct pbuf *
pbuf_shrink(struct pbuf *pb)
{
  if (!pbuf_shrinkable(pb))
    return pb;
  acquire(&pool.lock);
  struct pbuf *c = pop(&pool.shorts, 0);
  if (c) {
    uint len = pbuf_len(pb);
    reset(c, 0);
    memmove(c->base, pb->rp, len);
    c->wp = c->base + len;
    copymeta(c, pb);
    put(pb);
  }
  release(&pool.lock);
  return c ? c : pb;
}

uchar *
pbuf_push(struct pbuf *pb, uint n)
{
  if (n > (uint)(pb->rp - pb->base))
    return 0;
  pb->rp -= n;
  return pb->rp;
}

uchar *
pbuf_pull(struct pbuf *pb, uint n)
{
  if (n > pbuf_len(pb))
    return 0;
  uchar *old = pb->rp;
  pb->rp += n;
  return old;
}

uchar *
pbuf_put(struct pbuf *pb, uint n)
{
  if (n > (uint)(pb->base + pb->size - pb->wp))
    return 0;
  uchar *old = pb->wp;
  pb->wp += n;
  return old;
}

void
pbuf_trim(struct pbuf *pb, uint len)
{
  if (len < pbuf_len(pb))
    pb->wp = pb->rp + len;
}

void
pbufq_init(struct pbufq *q, uint max)
{
  q->head = q->tail = 0;
  q->len = 0;
  q->max = max;
}

int
pbufq_put(struct pbufq *q, struct pbuf *pb)
{
  if (q->len >= q->max)
    return -1;
  pb->next = 0;
  if (q->tail)
    q->tail->next = pb;
  else
    q->head = pb;
  q->tail = pb;
  q->len++;
  return 0;
}

struct pbuf *
pbufq_get(struct pbufq *q)
{
  struct pbuf *pb = q->head;
  if (pb) {
    q->head = pb->next;
    if (q->head == 0)
      q->tail = 0;
    q->len--;
    pb->next = 0;
  }
  return pb;
}

void
pbufq_flush(struct pbufq *q)
{
  struct pbuf *pb;
  while ((pb = pbufq_get(q)) != 0)
    pbuf_free(pb);
}

// The transport header (of protocol proto) at th has its checksum field off
// bytes in, and that field already holds the pseudo-header sum: whoever
// sends pb finishes it.
void
pbuf_csumpartial(struct pbuf *pb, uchar *th, uint off, int proto)
{
  pb->csumpartial = 1;
  pb->csumproto = proto;
  pb->csumstart = th - pb->base;
  pb->csumoff = off;
}

// Finish a partial checksum here, as a card with checksum offload would:
// the sum from the transport header to the end, pseudo-header sum
// included, complemented. For UDP a result of 0 goes out as 0xFFFF (the
// same in ones' complement), because to UDP 0 means "no checksum" (RFC
// 768). TCP keeps the 0: the complement of a sum of data that is not all
// zeros is never 0xFFFF (RFC 1624 section 3), and Wireshark calls a TCP
// checksum of 0xFFFF bad. (QEMU's e1000 writes 0xFFFF for both: see
// docs/e1000.md.)
void
pbuf_csumfinish(struct pbuf *pb)
{
  if (!pb->csumpartial)
    return;
  uchar *th = pb->base + pb->csumstart;
  pb->csumpartial = 0;
  if (th < pb->rp || th + pb->csumoff + 2 > pb->wp)
    return;   // not a layout the stack builds: leave it alone
  uint len = pb->wp - th, acc = wire_sum(th, len, 0);
  if (pb->tsomss) {
    // A segment for the card to cut (a packet socket's copy of one): its
    // seed leaves out the length, which the card would add per piece. Sum
    // it as the one large segment it is.
    uchar be[2] = { len >> 8, len };
    acc = wire_sum(be, 2, acc);
  }
  ushort sum = wire_sumfinish(acc);
  if (sum == 0 && pb->csumproto == IPPROTO_UDP)
    sum = 0xFFFF;
  memmove(th + pb->csumoff, &sum, 2);
}
