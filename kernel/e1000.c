// Driver for the Intel 82540EM ("e1000", QEMU's -device e1000): the OS glue.
// Register layout is in e1000_hw.h.
//
// Both descriptor rings and every receive buffer are allocated at attach
// time. Receiving is interrupt-driven: the handler reads ICR (which clears
// it and lowers the level-triggered line), takes every finished receive
// descriptor, gives the card a fresh buffer in its place, and hands the
// frames up through netdev_input after dropping the ring lock.

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
#include "kernel/e1000_hw.h"
#include "kernel/net/netos.h"   // RXPROF_*
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/nettrace.h"

#define E1000_NRX 256   // receive descriptors (RDLEN must be a multiple of 128 bytes)
#define E1000_NTX 64    // transmit descriptors
#define MAXCARDS  4
#define E1000_RX_CAUSES (E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0)
// No TXDW: finished transmit descriptors are reclaimed by the next
// e1000_xmit, after each receive poll and at every clock tick. An interrupt per sent frame would
// cost an ICR read and an EOI (exits into the emulator), and its rising
// edge re-arms QEMU's interrupt mitigation timer (at least 128 us), which
// then holds back the interrupt of a frame that follows the reply.
#define E1000_INTR_CAUSES (E1000_RX_CAUSES | E1000_ICR_LSC)

_Static_assert(E1000_NRX * sizeof(struct e1000_rx_desc) % 128 == 0, "RDLEN unit");
_Static_assert(E1000_NTX * sizeof(struct e1000_tx_desc) % 128 == 0, "TDLEN unit");
_Static_assert(E1000_NRX * sizeof(struct e1000_rx_desc) <= PGSIZE, "rx ring in one page");
_Static_assert(E1000_NTX * sizeof(struct e1000_tx_desc) <= PGSIZE, "tx ring in one page");

struct e1000 {
  struct netdev dev;
  struct pcidev *pci;
  volatile uint *regs;
  uint rxunposted;            // refilled descriptors the card has not been told of
  volatile struct e1000_rx_desc *rx;
  struct pbuf *rxbuf[E1000_NRX];
  uint rxnext;                       // next descriptor the card will complete
  struct spinlock txlock;
  volatile struct e1000_tx_desc *tx;
  struct pbuf *txbuf[E1000_NTX];
  uint txnext;                       // next free descriptor (our copy of TDT)
  uint txclean;                      // oldest descriptor not yet reclaimed
  int txheld;                        // netdev_txhold count: TDT waits for the release
  int txlate;                        // descriptors written that TDT does not cover yet
  uint lastmpc;                      // MPC when last read (see e1000intr)
  struct e1000_ctx_desc ctx;         // the checksum context the card holds
  int ctxloaded;                     //   (0: none yet)
};

static struct e1000 cards[MAXCARDS];
static int ncards;

static uint
rd(struct e1000 *e, uint reg)
{
  return e->regs[reg / 4];
}

static void
wr(struct e1000 *e, uint reg, uint val)
{
  e->regs[reg / 4] = val;
}

// ---- bring-up --------------------------------------------------------------

static int
reset(struct e1000 *e)
{
  wr(e, E1000_IMC, 0xFFFFFFFF);
  wr(e, E1000_CTRL, rd(e, E1000_CTRL) | E1000_CTRL_RST);
  for (int i = 0; (rd(e, E1000_CTRL) & E1000_CTRL_RST); i++) {
    if (i > 1000)
      return -ETIMEDOUT;
    microdelay(10);
  }
  wr(e, E1000_IMC, 0xFFFFFFFF);
  (void)rd(e, E1000_ICR);
  return 0;
}

static int
eepromread(struct e1000 *e, int word, ushort *out)
{
  wr(e, E1000_EERD, (word << E1000_EERD_ADDR_SHIFT) | E1000_EERD_START);
  for (int i = 0; i < 10000; i++) {
    uint v = rd(e, E1000_EERD);
    if (v & E1000_EERD_DONE) {
      *out = v >> E1000_EERD_DATA_SHIFT;
      return 0;
    }
  }
  return -ETIMEDOUT;
}

// The MAC address: EEPROM words 0-2, or the receive address the card
// loaded from it if the EEPROM does not answer.
static void
readmac(struct e1000 *e)
{
  uchar *mac = e->dev.mac;
  ushort w;

  for (int i = 0; i < 3; i++) {
    if (eepromread(e, i, &w) < 0) {
      uint lo = rd(e, E1000_RAL0), hi = rd(e, E1000_RAH0);
      for (int j = 0; j < 4; j++)
        mac[j] = lo >> (8 * j);
      mac[4] = hi;
      mac[5] = hi >> 8;
      return;
    }
    mac[2 * i] = w;
    mac[2 * i + 1] = w >> 8;
  }
}

static void
setfilters(struct e1000 *e)
{
  uchar *mac = e->dev.mac;
  for (int i = 0; i < 128; i++)
    wr(e, E1000_MTA + 4 * i, 0);
  wr(e, E1000_RAL0, mac[0] | mac[1] << 8 | mac[2] << 16 | (uint)mac[3] << 24);
  wr(e, E1000_RAH0, mac[4] | mac[5] << 8 | E1000_RAH_AV);
}

static int
txinit(struct e1000 *e)
{
  char *ring = kalloc();
  if (ring == 0)
    return -ENOMEM;
  e->tx = (struct e1000_tx_desc *)ring;
  e->txnext = e->txclean = 0;
  wr(e, E1000_TDBAL, V2P(ring));
  wr(e, E1000_TDBAH, 0);
  wr(e, E1000_TDLEN, E1000_NTX * sizeof(struct e1000_tx_desc));
  wr(e, E1000_TDH, 0);
  wr(e, E1000_TDT, 0);
  wr(e, E1000_TIPG, E1000_TIPG_DEFAULT);
  wr(e, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP |
                    (0x10 << E1000_TCTL_CT_SHIFT) | (0x40 << E1000_TCTL_COLD_SHIFT));
  return 0;
}

static uint
rctl(struct e1000 *e)
{
  uint v = E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC |
           E1000_RCTL_BSIZE_2048 | E1000_RCTL_RDMTS_HALF;
  if (e->dev.flags & IFF_PROMISC)
    v |= E1000_RCTL_UPE | E1000_RCTL_MPE;
  return v;
}

// ifconfig promisc / -promisc. (QEMU holds received frames back for about a
// second after any RCTL write; none are lost.)
static void
e1000_setflags(struct netdev *dev)
{
  struct e1000 *e = dev->priv;
  wr(e, E1000_RCTL, rctl(e));
}

// Every receive buffer is posted before receiving is enabled; RDT = N-1
// leaves one descriptor unused so that RDH == RDT only means "ring full".
static int
rxinit(struct e1000 *e)
{
  char *ring = kalloc();
  if (ring == 0)
    return -ENOMEM;
  e->rx = (struct e1000_rx_desc *)ring;
  for (int i = 0; i < E1000_NRX; i++) {
    if ((e->rxbuf[i] = pbuf_alloc_rx()) == 0)
      return -ENOMEM;
    e->rx[i].addr = V2P(e->rxbuf[i]->base);
  }
  e->rxnext = 0;
  wr(e, E1000_RDBAL, V2P(ring));
  wr(e, E1000_RDBAH, 0);
  wr(e, E1000_RDLEN, E1000_NRX * sizeof(struct e1000_rx_desc));
  wr(e, E1000_RDH, 0);
  wr(e, E1000_RDT, E1000_NRX - 1);
  wr(e, E1000_RDTR, 0);
  wr(e, E1000_RCTL, rctl(e));
  return 0;
}

// ---- transmit --------------------------------------------------------------

// Free the buffers of descriptors the card has finished (a context
// descriptor has none). txlock held.
static void
txreclaim(struct e1000 *e)
{
  while (e->txclean != e->txnext && (e->tx[e->txclean].status & E1000_TXD_STAT_DD)) {
    if (e->txbuf[e->txclean])
      pbuf_free(e->txbuf[e->txclean]);
    e->txbuf[e->txclean] = 0;
    e->txclean = (e->txclean + 1) % E1000_NTX;
  }
}

// Descriptors free for new work; one always stays unused (TDT == TDH means
// an empty ring). txlock held.
static uint
txfree(struct e1000 *e)
{
  return (e->txclean + E1000_NTX - e->txnext - 1) % E1000_NTX;
}

// Tell the card about the descriptors up to txnext: QEMU sends them inside
// this write. txlock held.
static void
ringtdt(struct e1000 *e)
{
  mfence();   // the descriptors are in memory before the card hears of them
  RXPROF_BEGIN(tdt);
  wr(e, E1000_TDT, e->txnext);
  RXPROF_END(RXP_XMIT, tdt);
  e->txlate = 0;
}

// Ring the doorbell, or, while a burst holds it, leave that to its release.
// txlock held.
static void
doorbell(struct e1000 *e)
{
  if (e->txheld > 0)
    e->txlate = 1;
  else
    ringtdt(e);
}

// Room for n more descriptors. Those a held doorbell has not announced
// cannot finish: announce them and reclaim again before calling it full.
// txlock held.
static int
txroom(struct e1000 *e, uint n)
{
  txreclaim(e);
  if (txfree(e) >= n || !e->txlate)
    return txfree(e) >= n;
  ringtdt(e);
  txreclaim(e);
  return txfree(e) >= n;
}

static void
e1000_txhold(struct netdev *dev, int hold)
{
  struct e1000 *e = dev->priv;
  acquire(&e->txlock);
  if (hold) {
    e->txheld++;
  } else if (e->txheld > 0 && --e->txheld == 0 && e->txlate) {
    ringtdt(e);
  }
  release(&e->txlock);
}

// Reclaim finished transmit buffers outside e1000_xmit (there is no TXDW
// interrupt): after each receive poll, and at every clock tick (so that the
// last frame of a burst does not keep its buffer). Memory reads only, no
// register access; txlock keeps interrupts off, so the tick cannot come in
// while e1000_xmit holds it.
static void
reclaim(struct e1000 *e)
{
  if (e->txclean == e->txnext)
    return;
  acquire(&e->txlock);
  txreclaim(e);
  release(&e->txlock);
}

static void
e1000_tick(struct netdev *dev)
{
  reclaim(dev->priv);
}

static int
e1000_xmit(struct netdev *dev, struct pbuf *pb)
{
  // EXERCISE(e1000-tx): put a frame on the transmit ring and tell the card
  struct e1000 *e = dev->priv;
  uint len = pbuf_len(pb);

  if (len == 0 || len > PBUF_SIZE) {
    pbuf_free(pb);
    return -EINVAL;
  }
  acquire(&e->txlock);
  txreclaim(e);
  uint i = e->txnext;
  if ((i + 1) % E1000_NTX == e->txclean) {   // ring full
    release(&e->txlock);
    pbuf_free(pb);
    return -ENOBUFS;
  }
  e->tx[i].addr = V2P(pb->rp);
  e->tx[i].length = len;
  e->tx[i].cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
  e->tx[i].status = 0;
  e->txbuf[i] = pb;
  e->txnext = (i + 1) % E1000_NTX;
  NETTRACE(pb, "e1000_xmit: %s slot %d, %d bytes", dev->name, i, len);
  mfence();   // the descriptor is in memory before the card hears of it
  LATMARK_AT(4);
  RXPROF_BEGIN(tdt);
  wr(e, E1000_TDT, e->txnext);
  RXPROF_END(RXP_XMIT, tdt);
  LATMARK_AT(5);
  release(&e->txlock);
  return 0;
  // END EXERCISE
}

// ---- transmit with checksum and segmentation offload ----------------------------
//
// A TCP or UDP frame whose checksum the stack left partial (pbuf
// csumpartial: the pseudo-header sum in the checksum field) goes out as a
// data descriptor asking the card to finish it (POPTS.TXSM), behind a
// context descriptor that says where the sum starts and where it goes
// (3.3.5-3.3.7). The card keeps the last context, so one is written only
// when the offsets change: for a stream of TCP segments with the same
// options, once. The IPv4 header's own checksum stays in software: it is
// 20 bytes, and IXSM would overwrite a correct one (QEMU sums the field in).
//
// A TCP segment longer than the MSS (pbuf tsomss) is cut by the card
// (3.5, TCP segmentation): the context says TSE, the header length, the
// MSS and the payload's length; the card sends the headers again in front
// of each MSS of payload, with the IPv4 length and identification, the TCP
// sequence number and both checksums made right for each piece, and FIN
// and PSH only on the last. The IPv4 header sum is then the card's too
// (IXSM, over a zero field). Its context differs every time (the length).

// The context for pb's partial checksum, offsets from the frame's first
// byte; -1 if pb is not an IPv4 frame laid out as the stack builds them
// (the checksum is then finished in software).
static int
csumctx(struct pbuf *pb, struct e1000_ctx_desc *c)
{
  uint len = pbuf_len(pb), thlen;
  int css = netdev_csumlayout(pb, &thlen);
  // The context's offsets are a byte each: the field's end and the
  // headers of a segment to cut must lie in the first 256 bytes.
  if (css < 0 || css + pb->csumoff + 2 > 256 || css + thlen > 255)
    return -1;
  memset(c, 0, sizeof *c);
  c->ipcss = ETH_HLEN;
  c->ipcso = ETH_HLEN + 10;
  c->ipcse = css - 1;
  c->tucss = css;
  c->tucso = css + pb->csumoff;
  c->tucse = 0;   // to the end of the frame
  c->cmdlen = E1000_TXD_XCMD_DEXT | E1000_TXD_XCMD_RS | E1000_TXD_TUCMD_IP |
              (pb->rp[ETH_HLEN + 9] == IPPROTO_TCP ? E1000_TXD_TUCMD_TCP : 0);
  if (pb->tsomss) {
    c->hdrlen = css + thlen;
    c->mss = pb->tsomss;
    c->cmdlen |= E1000_TXD_XCMD_TSE | ((len - c->hdrlen) & E1000_TXD_LENMASK);
  }
  return 0;
}

// Put c in the next slot unless the card holds it already; returns the
// slots used (0 or 1). txlock held, room checked.
static int
putctx(struct e1000 *e, const struct e1000_ctx_desc *c)
{
  if (e->ctxloaded && memcmp(&e->ctx, c, sizeof *c) == 0)
    return 0;
  uint i = e->txnext;
  volatile struct e1000_ctx_desc *d = (volatile struct e1000_ctx_desc *)&e->tx[i];
  *d = *c;   // RS in cmdlen: the card sets DD, so txreclaim walks past it
  e->txbuf[i] = 0;
  e->txnext = (i + 1) % E1000_NTX;
  e->ctx = *c;
  e->ctxloaded = 1;
  return 1;
}

// pb behind the context c (csumctx's, for pb).
static int
e1000_xmitcsum(struct e1000 *e, struct pbuf *pb, const struct e1000_ctx_desc *c)
{
  uint len = pbuf_len(pb);

  acquire(&e->txlock);
  if (!txroom(e, 2)) {   // a context and the data, at most
    release(&e->txlock);
    pbuf_free(pb);
    return -ENOBUFS;
  }
  int ctx = putctx(e, c);
  uint i = e->txnext;
  volatile struct e1000_data_desc *d = (volatile struct e1000_data_desc *)&e->tx[i];
  d->addr = V2P(pb->rp);
  d->cmdlen = len | E1000_TXD_DTYP_D | E1000_TXD_XCMD_DEXT | E1000_TXD_DCMD_EOP |
              E1000_TXD_DCMD_IFCS | E1000_TXD_XCMD_RS | (pb->tsomss ? E1000_TXD_XCMD_TSE : 0);
  d->status = 0;
  d->popts = E1000_TXD_POPTS_TXSM | (pb->tsomss ? E1000_TXD_POPTS_IXSM : 0);
  d->special = 0;
  e->txbuf[i] = pb;
  e->txnext = (i + 1) % E1000_NTX;
  if (pb->tsomss)
    NETTRACE(pb, "e1000_xmit: %s slot %d, %d bytes, cut by the card into segments of %d",
             e->dev.name, i, len, pb->tsomss);
  else
    NETTRACE(pb, "e1000_xmit: %s slot %d, %d bytes, checksum by the card%s", e->dev.name, i,
             len, ctx ? " (new context)" : "");
  doorbell(e);
  release(&e->txlock);
  return 0;
}

// What the stack hands the card: frames with a partial checksum to the
// offload path, the rest (ARP, ICMP, forwarded and raw frames) to the
// legacy descriptor of e1000_xmit.
static int
e1000_send(struct netdev *dev, struct pbuf *pb)
{
  struct e1000_ctx_desc c;
  uint len = pbuf_len(pb);

  if (pb->csumpartial && len > 0 && len <= (pb->tsomss ? PBUF_TSOSIZE : PBUF_SIZE) &&
      csumctx(pb, &c) == 0)
    return e1000_xmitcsum(dev->priv, pb, &c);
  if (pb->tsomss) {   // never built so: netdev_xmit checks NETDEV_TSO
    pbuf_free(pb);
    return -EINVAL;
  }
  pbuf_csumfinish(pb);   // a layout the card cannot take: finish it here
  return e1000_xmit(dev, pb);
}

// ---- receive ---------------------------------------------------------------

#define E1000_RDT_BATCH 32   // refilled descriptors per RDT write (see e1000_poll)

// Take one completed descriptor: return its frame (0 if dropped, counted in
// *drops) and post *fresh (if any, consumed) in its place.
static struct pbuf *
rxtake(struct e1000 *e, uint i, struct pbuf **fresh, struct rxdrops *drops)
{
  // EXERCISE(e1000-rx): take a received frame and refill its descriptor
  volatile struct e1000_rx_desc *d = &e->rx[i];
  struct pbuf *frame = 0;
  uint len = d->length;

  if (!(d->status & E1000_RXD_STAT_EOP) || d->errors || len < ETH_HLEN || len > PBUF_SIZE) {
    drops->errors++;
  } else if (*fresh == 0) {
    drops->nobuf++;   // drop: keep the old buffer posted
  } else {
    frame = e->rxbuf[i];
    frame->wp = frame->rp + len;
    e->rxbuf[i] = *fresh;
    *fresh = 0;
  }
  d->addr = V2P(e->rxbuf[i]->base);
  d->status = 0;
  return frame;
  // END EXERCISE
}

// How many descriptors from rxnext on the card has completed (at most max).
static int
rxready(struct e1000 *e, int max)
{
  int n = 0;
  while (n < max && (e->rx[(e->rxnext + n) % E1000_NRX].status & E1000_RXD_STAT_DD))
    n++;
  return n;
}

// Take up to budget completed descriptors and hand their frames up; returns
// how many descriptors were taken. Only the netrx thread touches the receive
// ring after attach, so this takes no lock; the fresh buffers come from the
// pool in one batch, and the card hears of refilled slots by an RDT write
// once E1000_RDT_BATCH of them have piled up: each register access is an
// exit into the emulator (under QEMU, one that waits for its big lock), and
// the card still has at least NRX - 1 - RDT_BATCH buffers to fill.
static int
e1000_poll(struct netdev *dev, int budget)
{
  struct e1000 *e = dev->priv;
  struct pbuf *head = 0, **tail = &head;
  struct pbuf *fresh[NETRX_BUDGET];
  int ready = rxready(e, MIN(budget, NETRX_BUDGET));

  if (ready == 0)
    return 0;
  rmb();   // descriptor contents after their DD bits
  int nfresh = pbuf_alloc_rx_n(fresh, ready);
  struct rxdrops drops = { 0, 0, 0 };
  for (int k = 0; k < ready; k++) {
    struct pbuf *spare = k < nfresh ? fresh[k] : 0;
    struct pbuf *pb = rxtake(e, e->rxnext, &spare, &drops);
    if (spare)
      pbuf_free(spare);   // not used: the descriptor was bad
    if (pb) {
      *tail = pb;
      tail = &pb->next;
    }
    e->rxnext = (e->rxnext + 1) % E1000_NRX;
  }
  e->rxunposted += ready;
  if (e->rxunposted >= E1000_RDT_BATCH) {
    mfence();   // the refilled descriptors are in memory before the card hears of them
    RXPROF_BEGIN(t);
    wr(e, E1000_RDT, (e->rxnext + E1000_NRX - 1) % E1000_NRX);
    RXPROF_END(RXP_RDT, t);
    e->rxunposted = 0;
  }

  netdev_input_list(&e->dev, head, &drops);
  reclaim(e);
  return ready;
}

static void
linkchange(struct e1000 *e)
{
  if (rd(e, E1000_STATUS) & E1000_STATUS_LU)
    e->dev.flags |= IFF_RUNNING;
  else
    e->dev.flags &= ~IFF_RUNNING;
}

// Count what ICR says was lost: frames the card dropped for want of a
// descriptor (RXO; MPC counts them) and the ring running low (RXDMT0).
static void
countoverruns(struct e1000 *e, uint icr)
{
  if (icr & (E1000_ICR_RXO | E1000_ICR_RXDMT0)) {
    // The manual makes MPC clear-on-read; QEMU 7.2's keeps counting. Add
    // what is new since the last read, so each lost frame counts once.
    uint mpc = rd(e, E1000_MPC);
    uint missed = mpc >= e->lastmpc ? mpc - e->lastmpc : mpc;
    e->lastmpc = mpc;
    if (missed)
      NETSTAT_ADD(&e->dev, rx_overruns, missed);
  }
  if (icr & E1000_ICR_RXO)
    NETSTAT_ADD(&e->dev, rx_ringfull, 1);   // the card found no free descriptor
}

// Unmask receive interrupts after a poll that emptied the ring. While they
// were masked, every frame the card wrote set its causes in ICR, also the
// frames the poll has taken since: unmasked with those pending, the line
// rises at once, and the handler and a poll run for nothing (they did so
// after almost every poll of a bulk receive). So ICR is read first, which
// clears it (its overrun causes counted as the handler would), then the
// ring is looked at once more: a frame that came before the read is polled
// for now, with the mask left on; one that comes after it sets ICR again
// and raises the line when IMS is written.
static void
e1000_irqenable(struct netdev *dev)
{
  struct e1000 *e = dev->priv;
  RXPROF_BEGIN(t);
  uint icr = rd(e, E1000_ICR);
  countoverruns(e, icr);
  if (icr & E1000_ICR_LSC)
    linkchange(e);
  if (rxready(e, 1)) {
    netdev_schedule(dev, 0);
  } else {
    RXPROF_BEGIN(ti);
    wr(e, E1000_IMS, E1000_RX_CAUSES);
    RXPROF_END(RXP_IMS, ti);
  }
  RXPROF_END(RXP_IRQEN, t);
}


// The line may be shared: ICR == 0 means the interrupt was not ours.
// Receiving is left to the netrx thread: mask receive interrupts until it
// has emptied the ring (see e1000_poll, e1000_irqenable). (Leaving them
// unmasked for a frame that finds netrx idle saves two register writes per
// lone frame, but showed no gain in the ping's breakdown and more socket
// queue drops at 5k datagrams/s in 3 of 4 runs: docs/bench.md, "Latency".)
static void
e1000intr(void *arg)
{
  struct e1000 *e = arg;
  LATMARK_AT(1);
  RXPROF_BEGIN(t);
  uint icr = rd(e, E1000_ICR);

  if (icr == 0)
    return;
  NETSTAT_ADD(&e->dev, interrupts, 1);
  countoverruns(e, icr);
  if (icr & E1000_RX_CAUSES) {
    // EXERCISE(e1000-rx): on a receive interrupt, mask it and wake the receive thread
    wr(e, E1000_IMC, E1000_RX_CAUSES);
    // Fewer than half the descriptors free, or frames already lost: the
    // receive thread must run now, not at the next tick.
    netdev_schedule(&e->dev, (icr & (E1000_ICR_RXO | E1000_ICR_RXDMT0)) != 0);
    // END EXERCISE
  }
  if (icr & E1000_ICR_LSC)
    linkchange(e);
  RXPROF_END(RXP_INTR, t);
}

static const struct netdev_ops e1000_ops = {
  .open = 0,
  .xmit = e1000_send,
  .poll = e1000_poll,
  .irqenable = e1000_irqenable,
  .setflags = e1000_setflags,
  .tick = e1000_tick,
  .txhold = e1000_txhold,
};

int
e1000attach(struct pcidev *pci)
{
  struct e1000 *e;
  int err;

  if (ncards >= MAXCARDS)
    return -ENODEV;
  if (pci->bario[0] || pci->bar[0] < DEVSPACE) {
    cprintf("e1000: BAR0 %p is outside the device window\n", pci->bar[0]);
    return -ENODEV;
  }
  e = &cards[ncards++];
  e->pci = pci;
  e->regs = (volatile uint *)pci->bar[0];
  initlock(&e->txlock, "e1000tx");
  pcienable(pci, PCI_CMD_MEMORY | PCI_CMD_MASTER);

  if ((err = reset(e)) < 0)
    return err;
  readmac(e);
  wr(e, E1000_CTRL, (rd(e, E1000_CTRL) | E1000_CTRL_SLU | E1000_CTRL_ASDE) & ~E1000_CTRL_PHY_RST);
  setfilters(e);
  if ((err = txinit(e)) < 0 || (err = rxinit(e)) < 0)
    return err;

  e->dev.type = ARPHRD_ETHER;
  e->dev.mtu = 1500;
  e->dev.flags = IFF_BROADCAST | IFF_MULTICAST;
  e->dev.ops = &e1000_ops;
  e->dev.driver = "e1000";
  e->dev.features = NETDEV_TXCSUM | NETDEV_TSO;
  e->dev.priv = e;
  if (netdev_register(&e->dev, "eth") < 0)
    return -ENODEV;
  linkchange(e);

  // Unmask the I/O APIC pin (level-triggered) before enabling causes at the
  // card, then clear whatever is already pending.
  irqregister(pci->irq, IRQ_LEVEL, e1000intr, e);
  wr(e, E1000_IMS, E1000_INTR_CAUSES);
  (void)rd(e, E1000_ICR);

  uchar *m = e->dev.mac;
  cprintf("%s: e1000 at %02x:%02x.%d irq %d mac %02x:%02x:%02x:%02x:%02x:%02x link %s\n",
          e->dev.name, pci->bus, pci->dev, pci->fn, pci->irq,
          m[0], m[1], m[2], m[3], m[4], m[5],
          (e->dev.flags & IFF_RUNNING) ? "up" : "down");
  return 0;
}
