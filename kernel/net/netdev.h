#ifndef XV6NET_NETDEV_H
#define XV6NET_NETDEV_H
#include "kernel/types.h"
#include "kernel/spinlock.h"
#include "kernel/socket.h"

// A network interface. Drivers fill one in and call netdev_register; the
// layers above see only this structure and its operations table.

#define NNETDEV 8
#define ETH_ALEN 6

struct pbuf;
struct netdev;

// netdev.features. Without NETDEV_TXCSUM, netdev_xmit finishes a frame's
// partial transport checksum in software before the driver sees it.
// The same bits as netif_info's NETIF_F_*, which ethtool -k shows.
#define NETDEV_TXCSUM NETIF_F_TXCSUM   // finishes TCP/UDP checksums (pbuf csumpartial)
#define NETDEV_TSO    NETIF_F_TSO      // cuts large TCP segments (pbuf tsomss); only with TXCSUM
#define NETDEV_RXCSUM NETIF_F_RXCSUM   // vouches for received checksums (pbuf csumok)

#define NETRX_BUDGET 64   // most frames one poll takes before other processes get a turn

struct netdev_ops {
  int (*open)(struct netdev *dev);                  // bring up (may be 0)
  int (*xmit)(struct netdev *dev, struct pbuf *pb);  // send a whole frame; always consumes pb
  // Receive, NAPI style: the interrupt handler masks its receive interrupts
  // and calls netdev_schedule; the netrx thread then calls poll, which hands
  // up to budget frames to netdev_input(_list) and returns how many; when it did
  // less than budget, netrx calls irqenable to unmask again.
  int (*poll)(struct netdev *dev, int budget);
  void (*irqenable)(struct netdev *dev);
  void (*setflags)(struct netdev *dev);   // flags changed (IFF_PROMISC); may be 0
  // Housekeeping at every clock tick, from the timer interrupt (may be 0):
  // the e1000 frees the buffers of frames the card has sent, having no
  // transmit interrupt.
  void (*tick)(struct netdev *dev);
  // Transmit doorbell (may be 0): while held (a count), frames handed to
  // xmit may wait in the card's ring; the last release tells the card about
  // all of them at once. The e1000's doorbell (a TDT write) is where QEMU
  // transmits, synchronously: one for a burst instead of one per frame.
  void (*txhold)(struct netdev *dev, int hold);
};

struct netdev {
  char name[IFNAMSIZ];
  int index;                  // 1-based, like Linux's ifindex
  ushort type;                // ARPHRD_ETHER, ARPHRD_LOOPBACK
  uchar mac[ETH_ALEN];
  uint mtu;
  uint flags;                 // IFF_*
  uint ipaddr, netmask;       // network order (IPv4 issue)
  const struct netdev_ops *ops;
  void *priv;                 // the driver's state
  const char *driver;         // its name, for ifconfig (0 for loopback)
  uint features;              // NETDEV_*: work the card does for the stack
  struct spinlock statlock;
  struct netif_stats stats;
  int scheduled;              // on the netrx list (or being polled)
  int missed;                 // scheduled again while being polled
  struct netdev *nextsched;
};

int            netdev_register(struct netdev *dev, const char *prefix);
struct netdev *netdev_byindex(int index);
struct netdev *netdev_byname(const char *name);
int            netdev_count(void);
void           netdev_input(struct netdev *dev, struct pbuf *pb);   // from drivers' poll
// What one poll of a driver dropped: counted with the poll's frames, under
// one acquisition of the statistics lock (netdev_input_list).
struct rxdrops {
  uint errors;     // frames the card marked bad; entries or headers that cannot be right
  uint nobuf;      // good frames with no pool buffer for them
  uint ringfull;   // polls that found the card's ring full (or nearly)
};
// A batch linked by next, and what the poll dropped (drops may be 0).
void           netdev_input_list(struct netdev *dev, struct pbuf *head, const struct rxdrops *drops);
// gso.c: a TCP/IPv4 frame the card received in n buffers (pieces[0] with
// the headers; every other with at least GSO_MAXHDR bytes of headroom), as
// a list (linked by next) of standalone segments; 0 if it is not one that
// can be cut (counted in drops, every piece freed). mss: the sender's, to
// cut a frame that is forwarded (see gso.c).
#define GSO_MAXHDR 136   // Ethernet 14, IPv4 and TCP 60 each, rounded up
struct pbuf   *gso_rxsplit(struct pbuf **pieces, int n, uint mss, struct rxdrops *drops);
int            gso_trainable(void);   // may segments go up as trains (nothing watches frames)?
// gro.c: link runs of TCP/IPv4 frames between the same two hosts in a
// batch (by next) into trains (pbuf train), each car still its own segment.
void           gro_link(struct pbuf *head);
void           netdev_schedule(struct netdev *dev, int urgent);     // from interrupt handlers
int            netdev_xmit(struct netdev *dev, struct pbuf *pb);    // consumes pb
int            netdev_csumlayout(struct pbuf *pb, uint *thlen);    // for TXCSUM/TSO drivers
void           netdev_txhold(struct netdev *dev);      // a burst follows: hold the doorbell
void           netdev_txrelease(struct netdev *dev);   // the burst is out: ring it
void           netdev_info(struct netdev *dev, struct netif_info *out);
void           netinit(void);
void           netstart(void);           // the receive thread
int            netrx_work(void);         // poll one waiting device (the thread, or host tests)
void           netrx_idle(void);         // the same, from an interrupt that woke an idle CPU
void           netconfig(void);          // addresses from the kernel command line (ip=)
void           nettimer(uint now);       // every tick, from the timer interrupt
// Ticks from now until nettimer next has work, at least 1; NETTIMER_IDLE if
// no timer is armed. Each part's *_nexttimer may answer early, never late, so
// calling nettimer only at those ticks does all that calling it at every tick
// does (the host's clock jumps so: tests/host/host.c).
#define NETTIMER_IDLE 0xFFFFFFFFu
uint           nettimer_next(uint now);
uint           nettimer_wait(uint now, uint deadline);   // for the *_nexttimer functions
void           net_stats(struct netstat_info *out);   // every counter, for netstat
int            netdev_setaddr(struct netdev *dev, uint ipaddr, uint netmask);

// Statistics updates from any context.
#define NETSTAT_ADD(dev, field, n) do {      \
    acquire(&(dev)->statlock);                \
    (dev)->stats.field += (n);                \
    release(&(dev)->statlock);                \
  } while (0)

// ether.c
#define ETH_HLEN 14
#define ETH_ZLEN 60      // shortest frame, FCS excluded
struct ether_hdr {
  uchar dst[ETH_ALEN];
  uchar src[ETH_ALEN];
  ushort type;           // network order
} __attribute__((packed));

extern const uchar ether_broadcast[ETH_ALEN];
void etherinit(void);
void ether_input(struct netdev *dev, struct pbuf *pb);
int  ether_output(struct netdev *dev, struct pbuf *pb, const uchar *dst, ushort type);
void ether_register(ushort type, void (*input)(struct netdev *dev, struct pbuf *pb));
void ether_stats(struct netstat_info *out);

// packet.c
int  packet_tap(struct netdev *dev, struct pbuf *pb);       // received frames
void packet_tap_out(struct netdev *dev, struct pbuf *pb);  // sent frames, to ETH_P_ALL listeners

// loopback.c
void loopbackinit(void);

static inline ushort htons(ushort v) { return (v << 8) | (v >> 8); }
static inline ushort ntohs(ushort v) { return htons(v); }
static inline uint htonl(uint v)
{
  return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
}
static inline uint ntohl(uint v) { return htonl(v); }

#endif
