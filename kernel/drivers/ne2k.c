// Driver for NE2000-compatible PCI cards (Realtek RTL8029, QEMU's
// -device ne2k_pci): the OS glue. Registers are in ne2k_hw.h.
//
// The opposite of the E1000: the card never touches host memory. Frames are
// received into a ring of 256-byte pages in the card's own 16 KiB of RAM, and
// the host moves every byte through one I/O port ("remote DMA"): set an
// address and a count, then read or write the data port. Receiving is still
// interrupt-driven and NAPI-style: the handler masks the receive causes in
// IMR and schedules the netrx thread, whose poll copies frames out of the
// ring into pool buffers until it is empty, then unmasks.
//
// Card memory (pages of 256 bytes):
//   0x40-0x45  transmit buffer 0     0x46-0x4B  transmit buffer 1
//   0x4C-0x7F  receive ring (PSTART..PSTOP): 52 pages, 13 KiB, on a 16 KiB card
//   0x4C-0xBF  116 pages, 29 KiB, where the card has 32 KiB (QEMU's model)
// BNRY is one page behind the next frame to read, so CURR == BNRY + 1 means
// the ring is empty and the card never writes into a page not yet read.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/x86.h"
#include "kernel/spinlock.h"
#include "kernel/irq.h"
#include "kernel/pci.h"
#include "kernel/drivers/ne2k_hw.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"

#define MAXCARDS   4
#define TXPAGES    6                            // one maximal frame
#define TXSTART    NE_RAMSTART                  // two transmit buffers
#define RXSTART    (NE_RAMSTART + 2 * TXPAGES)  // the receive ring, to n->rxstop
#define MAXFRAME   1522                         // longest frame taken, as the E1000's
// QEMU drops a frame when fewer than this many bytes are free in the ring
// (its ne2000_buffer_full); a real card raises OVW instead.
#define ROOMNEEDED (1514 + 4)
#define RX_CAUSES  (NE_ISR_PRX | NE_ISR_RXE | NE_ISR_OVW)
#define INTR_CAUSES (RX_CAUSES | NE_ISR_TXE | NE_ISR_CNT)
#define WAITLOOPS  10000                        // bounded waits, of ~1 us each

struct ne2k {
  struct netdev dev;
  struct pcidev *pci;
  ushort io;                 // BAR0
  // Every register access, from the interrupt handler, the netrx thread and
  // senders: CR's page bits and the remote DMA engine are shared state. The
  // holder leaves CR on page 0.
  struct spinlock lock;
  uchar imr;                 // what IMR holds
  uchar rxstop;              // PSTOP: the end of the card's memory
  uchar next;                // page of the next frame to read
  uchar txslot;              // transmit buffer to fill next
  uchar overflow;            // OVW seen: the poll resets the ring
};

static struct ne2k cards[MAXCARDS];
static int ncards;

static uchar
rd(struct ne2k *n, int reg)
{
  return inb(n->io + reg);
}

static void
wr(struct ne2k *n, int reg, uchar v)
{
  outb(n->io + reg, v);
}

// Start a remote DMA of count bytes at card address addr (cmd: NE_CR_RREAD
// or NE_CR_RWRITE); the data then moves through NE_DATA, 32 bits at a time.
static void
dmastart(struct ne2k *n, uint addr, uint count, uchar cmd)
{
  wr(n, NE_RBCR0, count);
  wr(n, NE_RBCR1, count >> 8);
  wr(n, NE_RSAR0, addr);
  wr(n, NE_RSAR1, addr >> 8);
  wr(n, NE_CR, NE_CR_PAGE0 | NE_CR_STA | cmd);
}

// Wait (bounded) for the remote DMA to finish, and acknowledge it.
static int
dmawait(struct ne2k *n)
{
  for (int i = 0; !(rd(n, NE_ISR) & NE_ISR_RDC); i++) {
    if (i >= WAITLOOPS)
      return -ETIMEDOUT;
    microdelay(1);
  }
  wr(n, NE_ISR, NE_ISR_RDC);
  return 0;
}

static uchar
readcurr(struct ne2k *n)
{
  wr(n, NE_CR, NE_CR_PAGE1 | NE_CR_STA | NE_CR_NODMA);
  uchar curr = rd(n, NE_CURR);
  wr(n, NE_CR, NE_CR_PAGE0 | NE_CR_STA | NE_CR_NODMA);
  return curr;
}

static uchar
rcr(struct ne2k *n)
{
  return NE_RCR_AB | ((n->dev.flags & IFF_PROMISC) ? NE_RCR_PRO : 0);
}

// ---- bring-up and ring reset ----------------------------------------------------

static int
reset(struct ne2k *n)
{
  wr(n, NE_RESET, rd(n, NE_RESET));   // a read resets; the write ends the pulse
  for (int i = 0; !(rd(n, NE_ISR) & NE_ISR_RST); i++) {
    if (i >= WAITLOOPS)
      return -ETIMEDOUT;
    microdelay(1);
  }
  wr(n, NE_ISR, 0xFF);
  return 0;
}

// The station address PROM holds each of the six bytes twice.
static int
readmac(struct ne2k *n)
{
  uint prom[4];
  dmastart(n, NE_PROM, sizeof prom, NE_CR_RREAD);
  insl(n->io + NE_DATA, prom, sizeof prom / 4);
  if (dmawait(n) < 0)
    return -ETIMEDOUT;
  uchar *b = (uchar *)prom;
  for (int i = 0; i < ETH_ALEN; i++)
    n->dev.mac[i] = b[2 * i];
  return 0;
}

// Four bytes at card address addr, in (write) or out (read) of *word.
static int
ramword(struct ne2k *n, uint addr, uint *word, int write)
{
  wr(n, NE_ISR, NE_ISR_RDC);
  dmastart(n, addr, 4, write ? NE_CR_RWRITE : NE_CR_RREAD);
  if (write)
    outsl(n->io + NE_DATA, word, 1);
  else
    insl(n->io + NE_DATA, word, 1);
  return dmawait(n);
}

// Where the card's RAM ends: a word written at 0x8000 that reads back, while
// the one at 0x4000 keeps its value (a 16 KiB card ignores or aliases the
// higher address), means 32 KiB. The card is stopped.
static uchar
ramstop(struct ne2k *n)
{
  uint low = 0x5aa5c33c, high = 0xa55a3cc3, gotlow = 0, gothigh = 0;
  uint lowaddr = NE_RAMSTART * NE_PAGE, highaddr = NE_RAMSTOP * NE_PAGE;

  if (ramword(n, lowaddr, &low, 1) < 0 || ramword(n, highaddr, &high, 1) < 0 ||
      ramword(n, lowaddr, &gotlow, 0) < 0 || ramword(n, highaddr, &gothigh, 0) < 0)
    return NE_RAMSTOP;
  return gotlow == low && gothigh == high ? NE_RAMSTOP32 : NE_RAMSTOP;
}

// Receiving stopped, the ring emptied and started again: at attach, after
// an overflow, and when a ring header cannot be right. Frames still in the
// ring are given up. The card drops what arrives while it is stopped.
static void
ringreset(struct ne2k *n)
{
  wr(n, NE_CR, NE_CR_PAGE0 | NE_CR_STP | NE_CR_NODMA);
  wr(n, NE_RBCR0, 0);
  wr(n, NE_RBCR1, 0);
  wr(n, NE_TCR, NE_TCR_LB0);
  wr(n, NE_PSTART, RXSTART);
  wr(n, NE_PSTOP, n->rxstop);
  wr(n, NE_BNRY, RXSTART);
  wr(n, NE_CR, NE_CR_PAGE1 | NE_CR_STP | NE_CR_NODMA);
  wr(n, NE_CURR, RXSTART + 1);
  wr(n, NE_CR, NE_CR_PAGE0 | NE_CR_STP | NE_CR_NODMA);
  n->next = RXSTART + 1;
  wr(n, NE_ISR, NE_ISR_PRX | NE_ISR_RXE | NE_ISR_OVW);
  wr(n, NE_CR, NE_CR_PAGE0 | NE_CR_STA | NE_CR_NODMA);
  wr(n, NE_TCR, NE_TCR_NORMAL);
}

// Station address and an empty multicast filter (page 1).
static void
setfilters(struct ne2k *n)
{
  wr(n, NE_CR, NE_CR_PAGE1 | NE_CR_STP | NE_CR_NODMA);
  for (int i = 0; i < ETH_ALEN; i++)
    wr(n, NE_PAR0 + i, n->dev.mac[i]);
  for (int i = 0; i < 8; i++)
    wr(n, NE_MAR0 + i, 0);
  wr(n, NE_CR, NE_CR_PAGE0 | NE_CR_STP | NE_CR_NODMA);
}

static int
cardinit(struct ne2k *n)
{
  int err;

  if ((err = reset(n)) < 0)
    return err;
  wr(n, NE_CR, NE_CR_PAGE0 | NE_CR_STP | NE_CR_NODMA);
  wr(n, NE_DCR, NE_DCR_WTS | NE_DCR_LS | NE_DCR_FT1);
  wr(n, NE_RBCR0, 0);
  wr(n, NE_RBCR1, 0);
  wr(n, NE_IMR, 0);
  wr(n, NE_ISR, 0xFF);
  wr(n, NE_TCR, NE_TCR_LB0);          // nothing goes out while we set up
  if ((err = readmac(n)) < 0)
    return err;
  n->rxstop = ramstop(n);
  setfilters(n);
  wr(n, NE_RCR, rcr(n));
  ringreset(n);                       // starts the card
  return 0;
}

// ifconfig promisc / -promisc
static void
ne2k_setflags(struct netdev *dev)
{
  struct ne2k *n = dev->priv;
  acquire(&n->lock);
  wr(n, NE_RCR, rcr(n));
  release(&n->lock);
}

// ---- transmit --------------------------------------------------------------------

// Copy the frame into the card's memory at page, padded with zeros to the
// 60-byte minimum and to whole 32-bit words. Returns the length to send.
static int
txcopy(struct ne2k *n, uint page, struct pbuf *pb)
{
  uint len = pbuf_len(pb), whole = len & ~3u;
  uint sendlen = MAX(len, ETH_ZLEN);
  uchar tail[ETH_ZLEN + 4];

  memset(tail, 0, sizeof tail);
  memmove(tail, pb->rp + whole, len - whole);
  wr(n, NE_ISR, NE_ISR_RDC);
  dmastart(n, page * NE_PAGE, (sendlen + 3) & ~3u, NE_CR_RWRITE);
  outsl(n->io + NE_DATA, pb->rp, whole / 4);
  outsl(n->io + NE_DATA, tail, (((sendlen + 3) & ~3u) - whole) / 4);
  if (dmawait(n) < 0)
    return -ETIMEDOUT;
  return sendlen;
}

// Fill one transmit buffer while the card may still send the other, then
// start it once the transmitter is free. QEMU sends inside the CR write
// (TXP is clear again at once); a real card at 10 Mbit/s takes up to 1.2 ms
// per frame.
static int
ne2k_xmit(struct netdev *dev, struct pbuf *pb)
{
  struct ne2k *n = dev->priv;
  uint len = pbuf_len(pb);
  int err = 0;

  if (len == 0 || len > MAXFRAME) {
    pbuf_free(pb);
    return -EINVAL;
  }
  acquire(&n->lock);
  uint page = TXSTART + n->txslot * TXPAGES;
  int sendlen = txcopy(n, page, pb);
  for (int i = 0; sendlen > 0 && (rd(n, NE_CR) & NE_CR_TXP); i++) {
    if (i >= 2 * WAITLOOPS) {
      sendlen = -ETIMEDOUT;
      break;
    }
    microdelay(1);
  }
  if (sendlen < 0) {
    err = sendlen;
    NETSTAT_ADD(dev, tx_errors, 1);
  } else {
    wr(n, NE_TPSR, page);
    wr(n, NE_TBCR0, sendlen);
    wr(n, NE_TBCR1, sendlen >> 8);
    wr(n, NE_CR, NE_CR_PAGE0 | NE_CR_STA | NE_CR_NODMA | NE_CR_TXP);
    n->txslot ^= 1;
  }
  release(&n->lock);
  pbuf_free(pb);
  return err;
}

// ---- receive ---------------------------------------------------------------------

static uint
rxpages(struct ne2k *n)
{
  return n->rxstop - RXSTART;
}

// The page after the frame whose header is at page and whose count is count.
static uint
nextpage(struct ne2k *n, uint page, uint count)
{
  uint pages = (count + 4 + NE_PAGE - 1) / NE_PAGE;   // header, data, CRC room
  return RXSTART + (page - RXSTART + pages) % rxpages(n);
}

// BNRY for a read pointer: the page before it, round the ring.
static uint
bnryof(struct ne2k *n, uint next)
{
  return next == RXSTART ? n->rxstop - 1u : next - 1u;
}

// Bytes free between CURR and BNRY, as the card reckons them.
static uint
ringroom(struct ne2k *n, uint curr)
{
  uint used = (curr + rxpages(n) - bnryof(n, n->next)) % rxpages(n);
  return (rxpages(n) - used) * NE_PAGE;
}

// Whether a ring header can be right: the next page inside the ring, a
// count that holds at least an Ethernet header, and for a frame we would
// take, the next page where its count puts it.
static int
hdrsane(struct ne2k *n, struct ne2k_rxhdr *h, uint here)
{
  if (h->next < RXSTART || h->next >= n->rxstop || h->count < 4 + ETH_HLEN)
    return 0;
  return h->count - 4 > MAXFRAME || h->next == nextpage(n, here, h->count);
}

// Copy the frame at n->next out of the ring and move past it; 0 if it was
// dropped (counted in *t). A header that cannot be right means the ring
// cannot be trusted: reset it and return 0 with *reset set.
static struct pbuf *
rxtake(struct ne2k *n, struct rxdrops *t, int *reset)
{
  struct ne2k_rxhdr h;
  struct pbuf *pb = 0;
  uint here = n->next;

  dmastart(n, here * NE_PAGE, sizeof h, NE_CR_RREAD);
  insl(n->io + NE_DATA, &h, 1);
  if (!hdrsane(n, &h, here)) {
    t->errors++;
    ringreset(n);
    *reset = 1;
    return 0;
  }
  uint len = h.count - 4;
  if (!(h.status & NE_RSR_PRX) || len > MAXFRAME) {
    t->errors++;
  } else if ((pb = pbuf_alloc_rx()) == 0) {
    t->nobuf++;
  } else {
    // The remote DMA address wraps from PSTOP to PSTART by itself.
    dmastart(n, here * NE_PAGE + sizeof h, (len + 3) & ~3u, NE_CR_RREAD);
    insl(n->io + NE_DATA, pb->base, (len + 3) / 4);
    pb->wp = pb->rp + len;
  }
  // Only now may the card reuse the frame's pages.
  n->next = h.next;
  wr(n, NE_BNRY, bnryof(n, n->next));
  return pb;
}

// The ring overflowed (OVW, which QEMU never raises: it drops frames without
// a word when the ring is full). Count what the card says it missed, then
// start over with an empty ring. n->lock held.
static void
overflowed(struct ne2k *n, struct rxdrops *t)
{
  uint missed = rd(n, NE_CNTR2);
  if (missed)
    NETSTAT_ADD(&n->dev, rx_overruns, missed);
  t->ringfull++;
  ringreset(n);
  n->overflow = 0;
}

// Copy up to budget frames out of the ring and hand them up. PRX is
// acknowledged first: a frame that lands after that sets it again, and the
// line rises as soon as irqenable unmasks it.
static int
ne2k_poll(struct netdev *dev, int budget)
{
  struct ne2k *n = dev->priv;
  struct pbuf *head = 0, **tail = &head;
  struct rxdrops t = { 0, 0, 0 };
  int done = 0, reset = 0;

  acquire(&n->lock);
  wr(n, NE_ISR, NE_ISR_PRX | NE_ISR_RXE);
  if (n->overflow)
    overflowed(n, &t);
  uint curr = readcurr(n);
  if (ringroom(n, curr) < ROOMNEEDED)
    t.ringfull++;
  while (done < budget && !reset) {
    if (n->next == curr && (curr = readcurr(n)) == n->next)
      break;
    struct pbuf *pb = rxtake(n, &t, &reset);
    done++;
    if (pb) {
      *tail = pb;
      tail = &pb->next;
    }
  }
  release(&n->lock);
  *tail = 0;
  netdev_input_list(dev, head, &t);
  return done;
}

static void
ne2k_irqenable(struct netdev *dev)
{
  struct ne2k *n = dev->priv;
  acquire(&n->lock);
  n->imr |= RX_CAUSES;
  wr(n, NE_IMR, n->imr);
  release(&n->lock);
}

// Tally counters (clear on read): alignment and CRC errors, missed frames.
static void
readtallies(struct ne2k *n)
{
  uint errors = rd(n, NE_CNTR0) + rd(n, NE_CNTR1);
  uint missed = rd(n, NE_CNTR2);
  if (errors)
    NETSTAT_ADD(&n->dev, rx_errors, errors);
  if (missed)
    NETSTAT_ADD(&n->dev, rx_overruns, missed);
}

// The line may be shared: no unmasked cause in ISR means it was not ours.
// Receiving is left to the netrx thread: mask the receive causes until it
// has emptied the ring (ne2k_poll, ne2k_irqenable).
static void
ne2kintr(void *arg)
{
  struct ne2k *n = arg;

  acquire(&n->lock);
  uchar isr = rd(n, NE_ISR) & n->imr;
  if (isr == 0) {
    release(&n->lock);
    return;
  }
  NETSTAT_ADD(&n->dev, interrupts, 1);
  if (isr & NE_ISR_CNT)
    readtallies(n);
  if (isr & NE_ISR_TXE)
    NETSTAT_ADD(&n->dev, tx_errors, 1);
  if (isr & (NE_ISR_CNT | NE_ISR_TXE))
    wr(n, NE_ISR, isr & (NE_ISR_CNT | NE_ISR_TXE));
  if (isr & NE_ISR_OVW)
    n->overflow = 1;
  if (isr & RX_CAUSES) {
    n->imr &= ~RX_CAUSES;
    wr(n, NE_IMR, n->imr);
    // The ring is less than half free, or already overflowed: the receive
    // thread must run now, not at the next tick (the E1000's RXDMT0).
    int urgent = (isr & NE_ISR_OVW) || ringroom(n, readcurr(n)) < rxpages(n) * NE_PAGE / 2;
    netdev_schedule(&n->dev, urgent);
  }
  release(&n->lock);
}

static const struct netdev_ops ne2k_ops = {
  .open = 0,
  .xmit = ne2k_xmit,
  .poll = ne2k_poll,
  .irqenable = ne2k_irqenable,
  .setflags = ne2k_setflags,
};

int
ne2kattach(struct pcidev *pci)
{
  struct ne2k *n;
  int err;

  if (ncards >= MAXCARDS)
    return -ENODEV;
  if (!pci->bario[0] || pci->barsize[0] < 0x20) {
    cprintf("ne2k: BAR0 is not a 32-byte I/O range\n");
    return -ENODEV;
  }
  n = &cards[ncards++];
  n->pci = pci;
  n->io = pci->bar[0];
  initlock(&n->lock, "ne2k");
  pcienable(pci, PCI_CMD_IO);
  if ((err = cardinit(n)) < 0)
    return err;

  n->dev.type = ARPHRD_ETHER;
  n->dev.mtu = 1500;
  n->dev.flags = IFF_BROADCAST | IFF_MULTICAST;
  n->dev.ops = &ne2k_ops;
  n->dev.priv = n;
  n->dev.driver = "ne2k";
  if (netdev_register(&n->dev, "eth") < 0)
    return -ENODEV;

  // The I/O APIC pin is unmasked (level-triggered) before IMR enables any
  // cause, so no assertion goes unseen.
  irqregister(pci->irq, IRQ_LEVEL, ne2kintr, n);
  acquire(&n->lock);
  n->imr = INTR_CAUSES;
  wr(n, NE_IMR, n->imr);
  release(&n->lock);

  uchar *m = n->dev.mac;
  cprintf("%s: ne2k at %02x:%02x.%d irq %d io 0x%x mac %02x:%02x:%02x:%02x:%02x:%02x "
          "ram %d KiB\n", n->dev.name, pci->bus, pci->dev, pci->fn, pci->irq, n->io,
          m[0], m[1], m[2], m[3], m[4], m[5], (n->rxstop - NE_RAMSTART) / 4);
  return 0;
}
