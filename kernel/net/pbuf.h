#ifndef XV6NET_PBUF_H
#define XV6NET_PBUF_H
#include "kernel/types.h"

// Packet buffers: fixed-size, physically contiguous data areas from one pool
// made at boot, so that drivers can hand them to a card for DMA. A layer
// prepends its header in place by moving rp back into the headroom (pull
// strips a header by moving rp forward); nothing is copied between layers.
// Five sizes: regular buffers take frames in and out, big ones hold
// reassembled datagrams and big sends, short ones hold small packets that
// wait in socket queues (pbuf_shrink copies them there), a few TSO buffers
// hold the largest TCP segments TCP hands a card that cuts them itself
// (NETDEV_TSO): 64 KiB, an IPv4 datagram's most, and page buffers, which a
// driver adds at attach, take the pieces of large segments a card hands
// over uncut (virtio-net's mergeable receive buffers).

#define PBUF_SIZE     2048   // a whole Ethernet frame fits; the E1000's RX buffer size
#define PBUF_HEADROOM  128   // room reserved for headers on output
#define NPBUF         2048   // regular buffers in the pool
#define PBUF_BIGSIZE 16384   // large buffers: reassembled IP datagrams, big UDP sends
#define NBIGPBUF        32
#define PBUF_SHORTSIZE  256  // short buffers: Linux's e1000 copybreak, BSD's mbuf
#define NSHORTPBUF     2048
#define PBUF_TSOSIZE 65536   // TSO buffers: only TCP's sends to a card that segments
#define NTSOPBUF         8
#define PBUF_PAGESIZE 4096   // page buffers: added by drivers (pbuf_addpages), receive only
#define NPAGEPBUFMAX  1024
#define PBUF_PAGEQUEUELOW 64 // queues leave the last page buffers to the card's ring
// The last PBUF_RXRESERVE regular buffers go only to receive rings (pbuf_alloc_rx*):
// whatever else holds buffers, a card can still take frames in, and so the
// stack can still read the ARP replies and acks that free them. Queues that
// hold buffers for long (socket receive queues, reassembly) stop taking more
// while fewer than PBUF_QUEUELOW regular (PBUF_BIGQUEUELOW big) buffers are
// free, which leaves the stack room for its own replies as well. Short
// buffers serve only queues, so they have no reserve.
#define PBUF_RXRESERVE  128
#define PBUF_QUEUELOW   (2 * PBUF_RXRESERVE)
#define PBUF_BIGQUEUELOW  8

struct netdev;

struct pbuf {
  struct pbuf *next;        // in a queue
  uchar *base;              // the data area
  uint size;                // its capacity: PBUF_SIZE, _BIGSIZE, _SHORTSIZE, _TSOSIZE, _PAGESIZE
  uchar *rp;                // first byte of data
  uchar *wp;                // one past the last byte of data
  struct netdev *dev;       // interface it arrived on
  ushort ethertype;         // set by the Ethernet layer on input (host order)
  uchar pkttype;            // PACKET_HOST, PACKET_BROADCAST, ... on input
  uchar isfree;             // in the pool (catches double frees)
  uchar traced;             // the packet trace follows it (nettrace.h)
  uchar lladdr[6];          // destination MAC, for sends deferred by ARP
  uint srcaddr;             // datagram sockets: the sender's address (network order)
  ushort srcport;           //   and port (host order)
  // Output: a transport checksum left to be finished (Linux's
  // CHECKSUM_PARTIAL). The field csumoff bytes into the transport header,
  // which starts csumstart bytes from base (base, not rp: headers pushed in
  // front do not move it), holds the pseudo-header sum; the ones' complement
  // sum from there to wp, complemented, is the checksum. A card with
  // NETDEV_TXCSUM does that; netdev_xmit does it for the others.
  ushort csumstart;
  uchar csumoff;
  uchar csumpartial;        // 1: the above is to be done
  uchar csumproto;          // IPPROTO_TCP or IPPROTO_UDP: what a sum of 0 becomes
  // Output: a TCP segment longer than the MSS, for a card with NETDEV_TSO
  // to cut into segments of tsomss payload bytes each (0: not one). Its
  // checksum field then holds the pseudo-header sum without the length,
  // which the card adds per segment.
  ushort tsomss;
  // Input: the card vouched for the transport checksum (virtio-net's
  // DATA_VALID, or NEEDS_CSUM on a frame from the host's own stack, whose
  // sum was never made: Linux's CHECKSUM_UNNECESSARY and CHECKSUM_PARTIAL).
  // TCP and UDP then skip their check. A NEEDS_CSUM frame also arrives with
  // csumpartial set, so that one forwarded gets its checksum finished on
  // the way out; local delivery clears that (ip_input).
  uchar csumok;
  // Input: the rest of a TCP segment that the card took uncut and gso.c
  // cut in place (a train): each a whole frame of its own (rp at its
  // Ethernet header, headers written by gso_rxsplit from this one's),
  // linked through train. IPv4 checks this frame's header for all of them,
  // and TCP takes them one after another under one hold of its lock; a
  // layer that does not take trains splits one (ip_input). pbuf_free frees
  // the whole train.
  struct pbuf *train;
};

// A FIFO of pbufs with a bound; drops beyond it are the caller's to count.
struct pbufq {
  struct pbuf *head, *tail;
  uint len, max;
};

void         pbufinit(void);
struct pbuf *pbuf_alloc(void);          // data empty, rp = wp = base + PBUF_HEADROOM
struct pbuf *pbuf_alloc_rx(void);       // data empty, rp = wp = base (for DMA)
int          pbuf_alloc_rx_n(struct pbuf **out, int n);   // up to n of those, one lock
int          pbuf_alloc_rxpages_n(struct pbuf **out, int n);   // the same of page buffers
uint         pbuf_addpages(uint n);     // n more page buffers (at attach); how many were added
struct pbuf *pbuf_alloc_len(uint len);  // room for len bytes after the headroom (big or TSO if need be)
void         pbuf_free(struct pbuf *pb);
void         pbuf_free_list(struct pbuf *head);   // linked through next, one lock round trip
uint         pbuf_free_count(uint size);    // free buffers of that class (PBUF_SIZE, ...)
uint         pbuf_total_count(uint size);   // and all of them
int          pbuf_canqueue(struct pbuf *pb);   // may a queue hold pb? (see PBUF_QUEUELOW)
struct pbuf *pbuf_copy(struct pbuf *pb); // a new buffer with the same data, or 0
int          pbuf_shrinkable(struct pbuf *pb);
struct pbuf *pbuf_shrink(struct pbuf *pb); // the same data in a short buffer (pb freed), or pb
uchar       *pbuf_push(struct pbuf *pb, uint n);   // prepend n bytes; 0 if no room
uchar       *pbuf_pull(struct pbuf *pb, uint n);   // strip n bytes; 0 if too short
uchar       *pbuf_put(struct pbuf *pb, uint n);    // append n bytes; 0 if no room
void         pbuf_trim(struct pbuf *pb, uint len); // keep only the first len bytes
void         pbuf_csumpartial(struct pbuf *pb, uchar *th, uint off, int proto);   // see csumstart
void         pbuf_csumfinish(struct pbuf *pb);     // finish a partial checksum in software
static inline uint pbuf_len(struct pbuf *pb) { return pb->wp - pb->rp; }

void         pbufq_init(struct pbufq *q, uint max);
int          pbufq_put(struct pbufq *q, struct pbuf *pb);   // -1 (and not queued) when full
struct pbuf *pbufq_get(struct pbufq *q);
void         pbufq_flush(struct pbufq *q);

#endif
