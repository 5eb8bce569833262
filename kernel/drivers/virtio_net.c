// Driver for virtio-net over PCI (QEMU's -device virtio-net-pci), through the
// legacy I/O transport: the OS glue. Layouts are in virtio_hw.h.
//
// Why legacy: it is one I/O BAR of a dozen registers, present on QEMU's
// default (transitional) device as well as with disable-modern=on, and
// needs no MMIO mapping or PCI capability walk. Its price: each queue's
// rings must sit in one physically contiguous area whose size the device
// sets (QEMU: 256 entries, three pages), and the net header is always
// 10 bytes.
//
// Sent frames raise no interrupt (VIRTQ_AVAIL_F_NO_INTERRUPT on the
// transmit queue, as the e1000 has no TXDW): their buffers come back at the
// next vnet_xmit, after each receive poll and at every clock tick. An
// interrupt per reply would wake the halted vCPU just when the peer's
// process wakes for the reply (two host threads at once on a small host),
// and costs an ISR read and an EOI, exits into the emulator.
//
// Like the E1000, the device moves frames in and out of host memory itself;
// unlike it, the rings are in host memory too and the driver tells the
// device about new buffers by an index in memory, and notifies only when the
// device asks for it (VIRTQ_USED_F_NO_NOTIFY clear). Receiving is NAPI-style:
// the interrupt handler sets VIRTQ_AVAIL_F_NO_INTERRUPT on the receive queue
// and schedules the netrx thread, whose poll swaps fresh pool buffers in for
// the filled ones (no copy) and clears the flag once the queue is empty.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/x86.h"
#include "kernel/spinlock.h"
#include "kernel/irq.h"
#include "kernel/pci.h"
#include "kernel/drivers/virtio_hw.h"
#include "kernel/net/netos.h"   // what tcp.h needs
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/ip.h"
#include "kernel/net/tcp.h"
#include "kernel/net/nettrace.h"
#include "kernel/net/wire.h"

#define MAXCARDS 4
#define QMAX     1024          // largest queue this driver takes
#define FEATURES (VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS | VIRTIO_NET_F_CTRL_VQ | \
                  VIRTIO_NET_F_CTRL_RX | VIRTIO_F_ANY_LAYOUT | VIRTIO_NET_F_CSUM | \
                  VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_HOST_TSO4)
// Taken only all together (GUEST_TSO4 needs GUEST_CSUM; the driver takes
// uncut segments only in mergeable buffers).
#define RXGSO    (VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_MRG_RXBUF)
#define TCP_SUMOFF offsetof(struct tcp_hdr, sum)   // the checksum field's offset in
#define UDP_SUMOFF 6                               //   each header (udp.c's struct)
#define CTRL_WAIT_US 100000    // a control command is answered within this

struct vq {
  uint num;                          // entries (a power of two)
  ushort sel;                        // queue number
  volatile struct virtq_desc *desc;
  volatile struct virtq_avail *avail;
  volatile struct virtq_used *used;
  ushort availidx;                   // our copy of avail->idx
  ushort lastused;                   // used entries consumed so far
};

struct vnet {
  struct netdev dev;
  struct pcidev *pci;
  ushort io;
  uint features;
  struct vq rx, tx, ctrl;
  uint hdrlen;                       // the net header: 10 bytes, 12 with MRG_RXBUF
  uint rxsize;                       // receive buffers' size: PBUF_SIZE, or PBUF_PAGESIZE
                                     // with MRG_RXBUF (fewer pieces per uncut segment)
  uint rxoff;                        // where in a buffer the device writes (GSO_MAXHDR
                                     // with MRG_RXBUF: room for gso_rxsplit's headers)
  struct pbuf *rxbuf[QMAX];          // by descriptor
  struct spinlock txlock;
  struct pbuf *txbuf[QMAX];          // by descriptor
  ushort txfree[QMAX];               // free descriptors, a stack
  uint ntxfree;
  struct spinlock ctrllock;          // one control command at a time
  struct {
    uchar class, cmd;                // device-readable
    uchar data;
    uchar ack;                       // device-writable
  } ctrlmsg;
};

static struct vnet cards[MAXCARDS];
static int ncards;

// ---- queues ---------------------------------------------------------------------

static uint
vqbytes(uint num)
{
  uint first = num * sizeof(struct virtq_desc) + 2 * (3 + num);
  uint used = 2 * 3 + num * sizeof(struct virtq_used_elem);
  return PGROUNDUP(first) + PGROUNDUP(used);
}

// Find queue sel's size, give it a ring, and tell the device where.
static int
vqinit(struct vnet *v, struct vq *q, ushort sel)
{
  outw(v->io + VIRTIO_PCI_QUEUE_SEL, sel);
  uint num = inw(v->io + VIRTIO_PCI_QUEUE_NUM);
  if (num == 0 || num > QMAX || (num & (num - 1)))
    return -ENODEV;
  char *ring = kallocpages(vqbytes(num) / PGSIZE);
  if (ring == 0)
    return -ENOMEM;
  q->num = num;
  q->sel = sel;
  q->desc = (struct virtq_desc *)ring;
  q->avail = (struct virtq_avail *)(ring + num * sizeof(struct virtq_desc));
  q->used = (struct virtq_used *)(ring + PGROUNDUP(num * sizeof(struct virtq_desc) +
                                                   2 * (3 + num)));
  q->availidx = q->lastused = 0;
  outl(v->io + VIRTIO_PCI_QUEUE_PFN, V2P(ring) >> VIRTIO_PCI_PFN_SHIFT);
  return 0;
}

// Put descriptor chain head on the available ring (published by vqpublish).
static void
vqpost(struct vq *q, ushort head)
{
  q->avail->ring[q->availidx % q->num] = head;
  q->availidx++;
}

// Publish what vqpost added, and notify the device unless it said it needs
// no notice (it is busy taking buffers anyway): a notify is a port write,
// an exit into the emulator.
static void
vqpublish(struct vnet *v, struct vq *q)
{
  mfence();   // the descriptors and ring entries are in memory before the index
  q->avail->idx = q->availidx;
  mfence();   // the index is in memory before we read the device's flags
  if (!(q->used->flags & VIRTQ_USED_F_NO_NOTIFY))
    outw(v->io + VIRTIO_PCI_QUEUE_NOTIFY, q->sel);
}

// Used entries the device has added since we last looked.
static uint
vqpending(struct vq *q)
{
  return (ushort)(q->used->idx - q->lastused);
}

// ---- control queue --------------------------------------------------------------

// Send one command (class, cmd, one byte of data) and wait, bounded, for
// the device's answer. QEMU may answer in its main loop rather than inside
// the notify, so this waits for the used ring, not for the port write.
static int
ctrlcmd(struct vnet *v, uchar class, uchar cmd, uchar data)
{
  struct vq *q = &v->ctrl;
  int err = 0;

  if (!(v->features & VIRTIO_NET_F_CTRL_RX))
    return -EOPNOTSUPP;
  acquire(&v->ctrllock);
  v->ctrlmsg.class = class;
  v->ctrlmsg.cmd = cmd;
  v->ctrlmsg.data = data;
  v->ctrlmsg.ack = 0xFF;
  q->desc[0] = (struct virtq_desc){ V2P(&v->ctrlmsg.class), 2, VIRTQ_DESC_F_NEXT, 1 };
  q->desc[1] = (struct virtq_desc){ V2P(&v->ctrlmsg.data), 1, VIRTQ_DESC_F_NEXT, 2 };
  q->desc[2] = (struct virtq_desc){ V2P(&v->ctrlmsg.ack), 1, VIRTQ_DESC_F_WRITE, 0 };
  vqpost(q, 0);
  vqpublish(v, q);
  for (int us = 0; vqpending(q) == 0; us++) {
    if (us >= CTRL_WAIT_US) {
      err = -ETIMEDOUT;
      break;
    }
    microdelay(1);
  }
  if (err == 0) {
    rmb();
    q->lastused++;
    if (*(volatile uchar *)&v->ctrlmsg.ack != VIRTIO_NET_OK)
      err = -EIO;
  }
  release(&v->ctrllock);
  return err;
}

// QEMU's device starts out promiscuous (for drivers without a control
// queue); ifconfig promisc / -promisc turns it on and off.
static void
vnet_setflags(struct netdev *dev)
{
  struct vnet *v = dev->priv;
  int err = ctrlcmd(v, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
                    (dev->flags & IFF_PROMISC) != 0);
  if (err < 0)
    cprintf("%s: promiscuous mode: error %d\n", dev->name, -err);
}

// ---- transmit ------------------------------------------------------------------

// Give back the buffers of frames the device has sent. txlock held.
static void
txreclaim(struct vnet *v)
{
  struct vq *q = &v->tx;
  while (vqpending(q)) {
    rmb();
    uint d = q->used->ring[q->lastused % q->num].id;
    q->lastused++;
    if (d >= q->num || v->txbuf[d] == 0)
      continue;   // not a descriptor we posted: nothing to give back
    pbuf_free(v->txbuf[d]);
    v->txbuf[d] = 0;
    v->txfree[v->ntxfree++] = d;
  }
}

// ---- transmit offloads (CSUM, HOST_TSO4) --------------------------------------
//
// The same work as the e1000's context descriptor, said in the net header:
// a frame whose TCP or UDP checksum the stack left partial (pbuf
// csumpartial) goes with NEEDS_CSUM and the checksum's place; a TCP
// segment longer than the MSS (pbuf tsomss) also with GSO_TCPV4 and the
// MSS. With QEMU's tap backend the header travels on to the host's kernel,
// which often never cuts or sums at all: the bridge and the veth hand the
// large segment to the peer's stack as it is, which trusts a partial sum
// from its own host. Linux's segmentation takes the checksum field as the
// pseudo-header sum over the whole segment's length and replaces that
// length per piece; the stack leaves the length out (the e1000's rule), so
// it is put in here.

// Fill h for pb (h zeroed): 0, or -1 if pb needs an offload the device
// cannot do for it (a segment to cut that is not laid out as expected).
static int
txoffload(struct vnet *v, struct pbuf *pb, struct virtio_net_hdr *h)
{
  uint thlen;
  if (!pb->csumpartial)
    return 0;
  int start = (v->dev.features & NETDEV_TXCSUM) ? netdev_csumlayout(pb, &thlen) : -1;
  if (start < 0) {
    pbuf_csumfinish(pb);   // done here instead
    return pb->tsomss ? -1 : 0;
  }
  h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h->csum_start = start;
  h->csum_offset = pb->csumoff;
  if (pb->tsomss) {
    struct ip_hdr *ih = (struct ip_hdr *)(pb->rp + ETH_HLEN);
    struct tcp_hdr *th = (struct tcp_hdr *)(pb->rp + start);
    th->sum = ip_pseudohdr(ih->src, ih->dst, IPPROTO_TCP, pbuf_len(pb) - start);
    // The stack leaves the IPv4 header's sum to a card that cuts (the
    // e1000 sums each piece's header). The host's kernel may hand the
    // segment uncut to a receiver that checks it: make it right.
    ih->sum = 0;
    ih->sum = wire_cksum(ih, (ih->vhl & 15) * 4);
    h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    h->gso_size = pb->tsomss;
    h->hdr_len = start + thlen;
  }
  return 0;
}

// The frame with its net header in front of it, in one buffer: in its
// headroom, where the layers above always leave some; else (a received
// buffer sent on as it is) in a copy, its checksum finished first. 0 if
// there is no buffer or the frame cannot go (counted by the caller).
static struct pbuf *
txframe(struct vnet *v, struct pbuf *pb)
{
  struct virtio_net_hdr_mrg hm;
  struct virtio_net_hdr *h = &hm.h;
  uint len = pbuf_len(pb);

  memset(&hm, 0, sizeof hm);
  if (pb->rp - pb->base < (int)v->hdrlen) {
    struct pbuf *c = len <= PBUF_SIZE - PBUF_HEADROOM && !pb->tsomss ? pbuf_alloc() : 0;
    if (c) {
      pbuf_csumfinish(pb);
      memmove(pbuf_put(c, len), pb->rp, len);
    }
    pbuf_free(pb);
    if ((pb = c) == 0)
      return 0;
  }
  if (txoffload(v, pb, h) < 0) {
    pbuf_free(pb);
    return 0;
  }
  if (h->gso_type)
    NETTRACE(pb, "virtio_xmit: %s %d bytes, cut by the device into segments of %d",
             v->dev.name, len, h->gso_size);
  else if (h->flags)
    NETTRACE(pb, "virtio_xmit: %s %d bytes, checksum by the device", v->dev.name, len);
  memmove(pbuf_push(pb, v->hdrlen), &hm, v->hdrlen);
  return pb;
}

// One descriptor per frame, pointing at it where it lies (no copy; the
// legacy layout rule is lifted by ANY_LAYOUT). Frames shorter than the
// Ethernet minimum are padded here: the device sends what it is given.
static int
vnet_xmit(struct netdev *dev, struct pbuf *pb)
{
  struct vnet *v = dev->priv;
  struct vq *q = &v->tx;
  uint len = pbuf_len(pb);

  if (len == 0 || len > (pb->tsomss ? PBUF_TSOSIZE : PBUF_SIZE) - v->hdrlen) {
    pbuf_free(pb);
    return -EINVAL;
  }
  if (len < ETH_ZLEN) {
    uchar *pad = pbuf_put(pb, ETH_ZLEN - len);
    if (pad)
      memset(pad, 0, ETH_ZLEN - len);
  }
  if ((pb = txframe(v, pb)) == 0)
    return -ENOBUFS;
  acquire(&v->txlock);
  txreclaim(v);
  if (v->ntxfree == 0) {
    release(&v->txlock);
    pbuf_free(pb);
    return -ENOBUFS;
  }
  uint d = v->txfree[--v->ntxfree];
  q->desc[d] = (struct virtq_desc){ V2P(pb->rp), pbuf_len(pb), 0, 0 };
  v->txbuf[d] = pb;
  vqpost(q, d);
  LATMARK_AT(4);
  vqpublish(v, q);
  LATMARK_AT(5);
  release(&v->txlock);
  return 0;
}

// Reclaim outside vnet_xmit: after a receive poll and at every clock tick
// (so that the last frame of a burst does not keep its buffer). Memory
// reads only; txlock keeps interrupts off, so the tick cannot come in
// while vnet_xmit holds it.
static void
reclaim(struct vnet *v)
{
  if (vqpending(&v->tx) == 0)
    return;
  acquire(&v->txlock);
  txreclaim(v);
  release(&v->txlock);
}

static void
vnet_tick(struct netdev *dev)
{
  reclaim(dev->priv);
}

static void
txinit(struct vnet *v)
{
  for (uint d = 0; d < v->tx.num; d++)
    v->txfree[v->ntxfree++] = d;
  v->tx.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
}

// ---- receive --------------------------------------------------------------------

// Point descriptor d at its buffer, whole, for the device to fill.
static void
rxarm(struct vnet *v, uint d)
{
  v->rx.desc[d] = (struct virtq_desc){ V2P(v->rxbuf[d]->base + v->rxoff),
                                       v->rxsize - v->rxoff, VIRTQ_DESC_F_WRITE, 0 };
}

// Up to n fresh receive buffers of the queue's size into out[]; how many.
static int
rxalloc(struct vnet *v, struct pbuf **out, int n)
{
  return v->rxsize == PBUF_PAGESIZE ? pbuf_alloc_rxpages_n(out, n) : pbuf_alloc_rx_n(out, n);
}

// Every descriptor gets a buffer, each a single descriptor holding the
// header and the frame behind it (ANY_LAYOUT).
static int
rxinit(struct vnet *v)
{
  for (uint d = 0; d < v->rx.num; d++) {
    if (rxalloc(v, &v->rxbuf[d], 1) != 1)
      return -ENOMEM;
    rxarm(v, d);
    vqpost(&v->rx, d);
  }
  mfence();
  v->rx.avail->idx = v->rx.availidx;
  return 0;
}

// What the header says about a received frame's checksum (GUEST_CSUM):
// DATA_VALID, checked; NEEDS_CSUM, never made (a frame from the host's own
// stack, which trusts it: so does ours, and records where the sum goes in
// case the frame is forwarded). -1 for a header we did not ask for (a
// segment to cut, a checksum outside the frame, neither TCP's nor UDP's).
static int
rxoffload(struct pbuf *pb, const struct virtio_net_hdr *h)
{
  if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
    return -1;
  if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
    uint len = pbuf_len(pb);
    if (h->csum_start < ETH_HLEN + IP_HLEN || h->csum_start + h->csum_offset + 2 > len ||
        (h->csum_offset != TCP_SUMOFF && h->csum_offset != UDP_SUMOFF))
      return -1;
    pb->csumok = 1;
    pbuf_csumpartial(pb, pb->rp + h->csum_start, h->csum_offset,
                     h->csum_offset == TCP_SUMOFF ? IPPROTO_TCP : IPPROTO_UDP);
  } else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
    pb->csumok = 1;
  }
  return 0;
}

// Take one used entry: its buffer, filled (rp..wp: what the device wrote),
// with *fresh (consumed) posted in its place; 0 if the entry is bad or
// there is no fresh buffer (counted in *t; the old buffer is posted again).
static struct pbuf *
rxtake(struct vnet *v, struct pbuf **fresh, struct rxdrops *t)
{
  struct vq *q = &v->rx;
  struct virtq_used_elem e = q->used->ring[q->lastused % q->num];
  struct pbuf *buf = 0;

  q->lastused++;
  if (e.id >= q->num) {
    t->errors++;   // not a descriptor of ours: nothing to post again
    return 0;
  }
  if (e.len > v->rxsize - v->rxoff) {
    t->errors++;
  } else if (*fresh == 0) {
    t->nobuf++;
  } else {
    buf = v->rxbuf[e.id];
    buf->rp = buf->base + v->rxoff;
    buf->wp = buf->rp + e.len;
    v->rxbuf[e.id] = *fresh;
    *fresh = 0;
    rxarm(v, e.id);
  }
  vqpost(q, e.id);
  return buf;
}

// How many buffers the frame at the next used entry filled: its header's
// num_buffers with mergeable buffers, else 1 (rxtake checks the entry).
static uint
rxnbufs(struct vnet *v)
{
  struct vq *q = &v->rx;
  struct virtq_used_elem e = q->used->ring[q->lastused % q->num];
  if (!(v->features & VIRTIO_NET_F_MRG_RXBUF) || e.id >= q->num || e.len < v->hdrlen)
    return 1;
  struct virtio_net_hdr_mrg *h = (struct virtio_net_hdr_mrg *)(v->rxbuf[e.id]->base + v->rxoff);
  return h->num_buffers;
}

static void
freeall(struct pbuf **bufs, uint n)
{
  for (uint k = 0; k < n; k++)
    if (bufs[k])
      pbuf_free(bufs[k]);
}

// A whole frame in a page buffer that a socket queue may hold moves into a
// regular buffer: queues charge a buffer's size, and the page buffers are
// few. TCP segments stay (TCP keeps page buffers, or frees them), and so do
// frames short enough that a queue copies them into a short buffer anyway
// (pbuf_shrink). Returns the buffer to go up (pb, or the regular one with
// pb freed), or 0 if no regular buffer is left (pb freed).
static struct pbuf *
copybreak(struct pbuf *pb)
{
  uint len = pbuf_len(pb);
  const uchar *f = pb->rp;
  int tcp = len >= ETH_HLEN + IP_HLEN && f[12] == 0x08 && f[13] == 0x00 &&
            f[ETH_HLEN + 9] == IPPROTO_TCP;
  if (len <= PBUF_SHORTSIZE || len > PBUF_SIZE || tcp)
    return pb;
  struct pbuf *c = pbuf_alloc_rx();
  if (c)
    memmove(pbuf_put(c, len), pb->rp, len);
  pbuf_free(pb);
  return c;
}

// The frames in bufs[0..n-1] (one frame, its net header first): one frame,
// or the segments gso_rxsplit cuts an uncut TCP segment into; 0 if dropped
// (counted in *t; the buffers freed).
static struct pbuf *
rxframe(struct vnet *v, struct pbuf **bufs, uint n, struct rxdrops *t)
{
  struct virtio_net_hdr h;
  struct pbuf *pb = bufs[0];

  for (uint k = 0; k < n; k++) {
    if (bufs[k] == 0) {   // a piece lost (counted): the frame with it
      freeall(bufs, n);
      return 0;
    }
  }
  if (pbuf_len(pb) < v->hdrlen) {
    t->errors++;
    freeall(bufs, n);
    return 0;
  }
  memmove(&h, pb->rp, sizeof h);
  pb->rp += v->hdrlen;
  if (h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && (v->features & VIRTIO_NET_F_GUEST_TSO4) &&
      (h.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)))
    return gso_rxsplit(bufs, n, h.gso_size, t);
  if (n != 1) {   // longer than a buffer
    t->errors++;
    freeall(bufs, n);
    return 0;
  }
  if (pb->size == PBUF_PAGESIZE && (pb = copybreak(pb)) == 0) {
    t->nobuf++;
    return 0;
  }
  if (rxoffload(pb, &h) < 0) {   // a header we did not ask for
    t->errors++;
    pbuf_free(pb);
    return 0;
  }
  return pb;
}

// Take up to budget used entries and hand their frames up. Fresh buffers
// come from the pool in one batch, and the device hears of the refilled
// descriptors once per poll (if at all: see vqpublish). A frame that filled
// several buffers is taken whole, or left for the next poll. Only netrx
// touches the receive queue after attach, so no lock.
static int
vnet_poll(struct netdev *dev, int budget)
{
  struct vnet *v = dev->priv;
  struct pbuf *head = 0, **tail = &head;
  struct pbuf *fresh[NETRX_BUDGET], *bufs[NETRX_BUDGET];
  struct rxdrops t = { 0, 0, 0 };
  uint ready = vqpending(&v->rx), took = 0;

  if (ready == 0)
    return 0;
  if (ready >= v->rx.num)
    t.ringfull++;   // every buffer filled: the device holds frames back
  uint most = MIN(ready, (uint)MIN(budget, NETRX_BUDGET));
  rmb();   // the entries after the index
  int nfresh = rxalloc(v, fresh, most), used = 0;
  while (took < most) {
    uint n = rxnbufs(v);
    if (n == 0 || n > ready - took || n > NETRX_BUDGET)
      n = 1;   // a count that cannot be right (64 KiB fill 17 page buffers): the entry alone, as an error
    else if (took + n > most)
      break;   // the whole frame next time
    for (uint k = 0; k < n; k++) {
      struct pbuf *spare = used < nfresh ? fresh[used] : 0;
      bufs[k] = rxtake(v, &spare, &t);
      if (spare == 0 && used < nfresh)
        used++;
    }
    took += n;
    for (struct pbuf *pb = rxframe(v, bufs, n, &t); pb; pb = pb->next) {
      *tail = pb;
      tail = &pb->next;
    }
  }
  for (int k = used; k < nfresh; k++)
    pbuf_free(fresh[k]);
  vqpublish(v, &v->rx);
  netdev_input_list(dev, head, &t);
  reclaim(v);
  return took < most ? budget : (int)took;
}

// The queue is empty: ask for interrupts again. An entry the device added
// before it saw the flag clear raised none, so look once more.
static void
vnet_irqenable(struct netdev *dev)
{
  struct vnet *v = dev->priv;
  v->rx.avail->flags = 0;
  mfence();
  if (vqpending(&v->rx)) {
    v->rx.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    netdev_schedule(dev, 0);
  }
}

static void
linkchange(struct vnet *v)
{
  uint status = VIRTIO_NET_S_LINK_UP;
  if (v->features & VIRTIO_NET_F_STATUS)
    status = inw(v->io + VIRTIO_PCI_CONFIG + VIRTIO_NET_CFG_STATUS);
  if (status & VIRTIO_NET_S_LINK_UP)
    v->dev.flags |= IFF_RUNNING;
  else
    v->dev.flags &= ~IFF_RUNNING;
}

// Reading ISR clears it and lowers the line; 0 means the interrupt was
// another device's on a shared line.
static void
vnetintr(void *arg)
{
  struct vnet *v = arg;
  LATMARK_AT(1);
  uchar isr = inb(v->io + VIRTIO_PCI_ISR);

  if (isr == 0)
    return;
  NETSTAT_ADD(&v->dev, interrupts, 1);
  if (isr & VIRTIO_ISR_CONFIG)
    linkchange(v);
  if (!(isr & VIRTIO_ISR_QUEUE))
    return;
  if (vqpending(&v->rx)) {
    v->rx.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    netdev_schedule(&v->dev, 0);
  }
}

static const struct netdev_ops vnet_ops = {
  .open = 0,
  .xmit = vnet_xmit,
  .poll = vnet_poll,
  .irqenable = vnet_irqenable,
  .setflags = vnet_setflags,
  .tick = vnet_tick,
};

// ---- bring-up -----------------------------------------------------------------------

static void
setstatus(struct vnet *v, uchar bits)
{
  outb(v->io + VIRTIO_PCI_STATUS, bits ? inb(v->io + VIRTIO_PCI_STATUS) | bits : 0);
}

static void
readmac(struct vnet *v)
{
  if (v->features & VIRTIO_NET_F_MAC) {
    for (int i = 0; i < ETH_ALEN; i++)
      v->dev.mac[i] = inb(v->io + VIRTIO_PCI_CONFIG + VIRTIO_NET_CFG_MAC + i);
    return;
  }
  // No address from the device: a locally administered one from the slot.
  uchar mac[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x76, v->pci->bus, v->pci->dev };
  memmove(v->dev.mac, mac, ETH_ALEN);
}

// Reset, acknowledge, agree on features, set up the queues and the receive
// buffers (3.1.1, legacy variant: no FEATURES_OK).
static int
devinit(struct vnet *v)
{
  int err;

  setstatus(v, 0);
  setstatus(v, VIRTIO_STATUS_ACKNOWLEDGE);
  setstatus(v, VIRTIO_STATUS_DRIVER);
  uint offered = inl(v->io + VIRTIO_PCI_HOST_FEATURES);
  v->features = offered & FEATURES;
  if ((offered & RXGSO) == RXGSO)
    v->features |= RXGSO;
  if (!(v->features & VIRTIO_F_ANY_LAYOUT))
    return -ENODEV;   // receive buffers hold header and frame together
  if (!(v->features & VIRTIO_NET_F_CTRL_VQ))
    v->features &= ~VIRTIO_NET_F_CTRL_RX;
  if (!(v->features & VIRTIO_NET_F_CSUM))
    v->features &= ~VIRTIO_NET_F_HOST_TSO4;   // 5.1.3.1: TSO needs CSUM
  v->hdrlen = sizeof(struct virtio_net_hdr);
  v->rxoff = 0;
  v->rxsize = PBUF_SIZE;
  if (v->features & VIRTIO_NET_F_MRG_RXBUF) {
    v->hdrlen = sizeof(struct virtio_net_hdr_mrg);
    v->rxoff = GSO_MAXHDR;
  }
  outl(v->io + VIRTIO_PCI_GUEST_FEATURES, v->features);
  if ((err = vqinit(v, &v->rx, VIRTIO_NET_RXQ)) < 0 ||
      (err = vqinit(v, &v->tx, VIRTIO_NET_TXQ)) < 0)
    return err;
  if ((v->features & VIRTIO_NET_F_CTRL_VQ) && (err = vqinit(v, &v->ctrl, VIRTIO_NET_CTRLQ)) < 0)
    return err;
  if (v->features & VIRTIO_NET_F_CTRL_VQ)
    v->ctrl.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;   // ctrlcmd waits for the answer
  // With mergeable buffers, page buffers: a 64 KiB segment fills 17 of
  // them where it filled 35 regular ones, and each is a pass through TCP.
  // The ring's worth and as many again for what TCP holds (it keeps no
  // more than leaves PBUF_PAGEQUEUELOW free).
  if ((v->features & VIRTIO_NET_F_MRG_RXBUF) && pbuf_addpages(2 * v->rx.num) == 2 * v->rx.num)
    v->rxsize = PBUF_PAGESIZE;
  readmac(v);
  txinit(v);
  return rxinit(v);
}

int
virtionetattach(struct pcidev *pci)
{
  struct vnet *v;
  int err;

  if (ncards >= MAXCARDS)
    return -ENODEV;
  if (!pci->bario[0] || pci->barsize[0] < VIRTIO_PCI_CONFIG + 8) {
    cprintf("virtio-net: BAR0 is not the legacy I/O range\n");
    return -ENODEV;
  }
  v = &cards[ncards++];
  v->pci = pci;
  v->io = pci->bar[0];
  initlock(&v->txlock, "vnettx");
  initlock(&v->ctrllock, "vnetctrl");
  pcienable(pci, PCI_CMD_IO | PCI_CMD_MASTER);
  if ((err = devinit(v)) < 0) {
    setstatus(v, VIRTIO_STATUS_FAILED);
    return err;
  }

  v->dev.type = ARPHRD_ETHER;
  v->dev.mtu = 1500;
  v->dev.flags = IFF_BROADCAST | IFF_MULTICAST;
  v->dev.ops = &vnet_ops;
  v->dev.priv = v;
  v->dev.driver = "virtio-net";
  if (v->features & VIRTIO_NET_F_CSUM)
    v->dev.features |= NETDEV_TXCSUM;
  if (v->features & VIRTIO_NET_F_HOST_TSO4)
    v->dev.features |= NETDEV_TSO;
  if (v->features & VIRTIO_NET_F_GUEST_CSUM)
    v->dev.features |= NETDEV_RXCSUM;
  if (netdev_register(&v->dev, "eth") < 0)
    return -ENODEV;
  linkchange(v);

  irqregister(pci->irq, IRQ_LEVEL, vnetintr, v);
  setstatus(v, VIRTIO_STATUS_DRIVER_OK);
  outw(v->io + VIRTIO_PCI_QUEUE_NOTIFY, VIRTIO_NET_RXQ);   // buffers are waiting
  if ((err = ctrlcmd(v, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 0)) < 0 &&
      err != -EOPNOTSUPP)
    cprintf("%s: cannot leave promiscuous mode: error %d\n", v->dev.name, -err);

  uchar *m = v->dev.mac;
  cprintf("%s: virtio-net at %02x:%02x.%d irq %d io 0x%x mac %02x:%02x:%02x:%02x:%02x:%02x "
          "queues %d/%d link %s\n", v->dev.name, pci->bus, pci->dev, pci->fn, pci->irq, v->io,
          m[0], m[1], m[2], m[3], m[4], m[5], v->rx.num, v->tx.num,
          (v->dev.flags & IFF_RUNNING) ? "up" : "down");
  return 0;
}
