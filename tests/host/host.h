// The network stack on the host: boot it, give it fake network cards whose
// wire is a list of frames, advance its clock, and look inside
// (docs/testing.md). The stack's own headers give the rest: sock_* calls
// for sockets, netdev_* for interfaces, pbuf_* for the pool.

#ifndef XV6NET_HOST_H
#define XV6NET_HOST_H

#include "kernel/types.h"

struct netdev;

// ---- the machine ----
// Boot the stack (netinit, then the ip= and other settings of cmdline).
// Call once per process: the stack's tables are static, so each test runs
// in a process of its own (check.h forks).
void host_boot(const char *cmdline);
// Advance the clock by n ticks (HZ a second), running the stack's timers
// and then the receive path at each tick where a timer has work and at the
// last (HOST_CLOCK=step in the environment: at every tick, as the kernel's
// timer interrupt does; the same frames at the same ticks, only slower).
void host_advance(uint nticks);
void host_advance_ms(uint ms);
// Run the receive thread until no device has work.
void host_netrx(void);
// Everything the kernel printed since the last clear.
const char *host_console(void);
void host_console_clear(void);
int  host_locks_held(void);
void host_set_interrupted(int on);   // as if the calling process were killed
int  host_pollwakes(void);           // pollwakeup() calls so far
uint host_badaddr(void);             // a user address that faults
void host_set_cmdline(const char *line);

// ---- fake network cards ----
struct hostnic;
// An Ethernet card named ethN with this MAC (and, if ip is not 0, an
// address: ip and mask in network order).
struct hostnic *host_nic(const uchar mac[6], uint ip, uint mask);
struct netdev *host_netdev(struct hostnic *nic);
// A frame arrives on the card's wire: queued as a card's receive ring would
// hold it (frames longer than a receive buffer are dropped, as the card
// does), then the receive path runs. Returns 0, or -1 if it was dropped.
int  host_receive(struct hostnic *nic, const uchar *frame, uint len);
// The same, without running the receive path: frames enqueued in a row go
// up in one poll (one netrx batch) at the next host_netrx.
int  host_enqueue(struct hostnic *nic, const uchar *frame, uint len);
// host_receive as from a card that vouches for the frame's TCP or UDP
// checksum (virtio-net with GUEST_CSUM): HOST_CSUM_VALID, it checked it
// (DATA_VALID); HOST_CSUM_PARTIAL, it was never made (NEEDS_CSUM: the
// field holds the pseudo-header sum, to be finished if the frame goes on).
#define HOST_CSUM_VALID   1
#define HOST_CSUM_PARTIAL 2
int  host_receive_vouched(struct hostnic *nic, const uchar *frame, uint len, int how);
// Frames the stack sent on the card, oldest first: the number waiting, and
// the next one taken off (its length; 0 when none; copied up to max bytes).
int  host_nsent(struct hostnic *nic);
uint host_sent(struct hostnic *nic, uchar *buf, uint max);
void host_sent_clear(struct hostnic *nic);
// The segment size a card with NETDEV_TSO was asked to cut the next waiting
// frame into (0: none waiting, or not to be cut).
uint host_sent_tsomss(struct hostnic *nic);

// ---- the pool ----
// Both pools are back at their size at boot.
int  host_pool_full(void);
int  host_pages_inuse(void);
uint host_sum16(const uchar *p, uint len, uint sum);   // RFC 1071 words, not folded
uint host_fold(uint sum);                              // carries folded in, not complemented   // pages kalloc'd by the stack and not freed

// ---- building frames (all fields network order where they are addresses) ----
uint host_ip(int a, int b, int c, int d);
// Ethernet II header; returns ETH_HLEN.
uint host_ether(uchar *f, const uchar dst[6], const uchar src[6], ushort type);
// IPv4 header of 20 bytes with a correct checksum; returns 20.
uint host_ipv4(uchar *p, uint src, uint dst, uchar proto, uint payloadlen, ushort id,
               ushort off, uchar ttl);
// A whole Ethernet + IPv4 + UDP frame with correct checksums; returns its length.
uint host_udp_frame(uchar *f, const uchar dst[6], const uchar src[6], uint saddr, uint daddr,
                    ushort sport, ushort dport, const void *data, uint len);
// A whole Ethernet + IPv4 + ICMP echo request; returns its length.
uint host_ping_frame(uchar *f, const uchar dst[6], const uchar src[6], uint saddr, uint daddr,
                     ushort id, ushort seq, uint datalen);
// An ARP request or reply (op 1 or 2); returns its length (42).
uint host_arp_frame(uchar *f, int op, const uchar sha[6], uint spa, const uchar tha[6],
                    uint tpa, const uchar dst[6]);
// Make the IPv4 header checksum and the UDP/ICMP checksum of a frame right,
// where the headers are there to be fixed (fuzz harnesses; never reads or
// writes past len).
void host_fixsums(uchar *f, uint len);

#endif
