// Sockets and network interfaces: the ABI shared by the kernel and user
// programs. Constants and layouts follow Linux's where they exist there.
#ifndef XV6NET_SOCKET_H
#define XV6NET_SOCKET_H
#include "kernel/types.h"

#define AF_UNSPEC  0
#define AF_INET    2
#define AF_PACKET 17

#define SOCK_STREAM 1
#define SOCK_DGRAM  2
#define SOCK_RAW    3
#define SOCK_NONBLOCK 04000   // or'd into socket()'s type: O_NONBLOCK from the start

// Ethertypes (host order here; protocol fields in sockaddrs are network order).
#define ETH_P_ALL  0x0003   // every frame, for packet sockets
#define ETH_P_IP   0x0800
#define ETH_P_ARP  0x0806
#define ETH_P_TEST 0x88B5   // IEEE 802 local experimental ethertype 1

// Packet types in sockaddr_ll.sll_pkttype
#define PACKET_HOST      0
#define PACKET_BROADCAST 1
#define PACKET_MULTICAST 2
#define PACKET_OTHERHOST 3
#define PACKET_OUTGOING  4

#define SOL_SOCKET   1
#define SO_REUSEADDR 2   // int: bind a port that connections in TIME_WAIT still hold
#define SO_SNDBUF    7   // int: send buffer, bytes (set: doubled, as Linux does)
#define SO_KEEPALIVE 9   // int: keepalive probes on an idle connection
#define SO_LINGER   13   // struct linger: {1, 0} makes close reset the connection
#define TCP_NODELAY  1   // (level IPPROTO_TCP) int: no Nagle

struct linger {
  int l_onoff;
  int l_linger;   // seconds; only 0 (reset) is honoured
};

// shutdown(how)
#define SHUT_RD   0
#define SHUT_WR   1
#define SHUT_RDWR 2
#define SO_ERROR     4   // (getsockopt) pending error, cleared by reading
#define SO_BROADCAST 6   // allow sending to broadcast addresses
#define SO_RCVBUF    8   // int: receive buffer, bytes (set: doubled, as Linux does)
#define SO_RCVTIMEO 20   // struct timeval: 0 means block forever

#define IPPROTO_IP    0
// Linux's IP_TTL (level IPPROTO_IP), int: the TTL of datagrams sent, 1 to
// 255, -1 for the default. user/net.h calls it IP_TTL; in the kernel that
// name is the default TTL (kernel/net/ip.h).
#define SOCK_IP_TTL   2
#define IPPROTO_ICMP  1
#define IPPROTO_TCP   6
#define IPPROTO_UDP  17

#define INADDR_ANY       0x00000000
#define INADDR_BROADCAST 0xFFFFFFFF
#define INADDR_LOOPBACK  0x0100007F   // 127.0.0.1, network order

// recvfrom/sendto flags
#define MSG_PEEK     0x02   // return the next datagram but leave it queued
#define MSG_DONTWAIT 0x40
#define MSG_NOSIGNAL 0x4000 // a stream that cannot send: EPIPE without SIGPIPE   // do not wait: EAGAIN if nothing is queued

// IPv4 socket address (Linux's struct sockaddr_in).
struct sockaddr_in {
  ushort sin_family;     // AF_INET
  ushort sin_port;       // network order
  uint   sin_addr;       // network order
  uchar  sin_zero[8];
};

struct sockaddr {
  ushort sa_family;
  char sa_data[14];
};

// Link-level address for AF_PACKET (Linux's struct sockaddr_ll).
struct sockaddr_ll {
  ushort sll_family;     // AF_PACKET
  ushort sll_protocol;   // ethertype, network order
  int    sll_ifindex;    // interface index (1 = lo, 2 = eth0, ...)
  ushort sll_hatype;     // ARPHRD_ETHER
  uchar  sll_pkttype;    // PACKET_*
  uchar  sll_halen;      // 6
  uchar  sll_addr[8];    // source MAC on receive
};

#define ARPHRD_ETHER    1
#define ARPHRD_LOOPBACK 772

// The same layout as the C library's on i386, which host tests of the
// network stack include first (glibc marks its own with __timeval_defined).
#ifndef __timeval_defined
struct timeval {
  int tv_sec;
  int tv_usec;
};
#endif

// ---- network interfaces (netifget) ----

#define IFNAMSIZ 16

// Interface flags (Linux's values)
#define IFF_UP        0x1
#define IFF_BROADCAST 0x2
#define IFF_LOOPBACK  0x8
#define IFF_RUNNING   0x40
#define IFF_PROMISC   0x100
#define IFF_MULTICAST 0x1000

struct netif_stats {
  uint64 rx_packets, rx_bytes;
  uint64 tx_packets, tx_bytes;
  uint rx_errors, rx_dropped, rx_overruns, rx_nobuf;
  uint tx_errors, tx_dropped;
  uint interrupts;
  uint rx_ringfull;      // times the driver found the card's receive ring full
};

struct netif_info {
  int  index;
  char name[IFNAMSIZ];
  uchar mac[6];
  ushort type;           // ARPHRD_*
  uint mtu;
  uint flags;            // IFF_*
  uint ipaddr;           // network order; 0 when none
  uint netmask;          // network order
  struct netif_stats stats;
  char driver[IFNAMSIZ]; // "e1000", "ne2k", "virtio-net"; empty for loopback
  uint features;         // NETIF_F_*: the work the card does for the stack
};

// netif_info.features (ethtool -k)
#define NETIF_F_TXCSUM 0x1   // finishes the TCP/UDP checksums of frames sent
#define NETIF_F_TSO    0x2   // cuts large TCP segments into MSS-sized ones
#define NETIF_F_RXCSUM 0x4   // checks (or vouches for) those of frames received

// Interface configuration (netifset): fields chosen by `set`.
#define NETIF_SET_ADDR  0x1   // ipaddr and netmask
#define NETIF_SET_UP    0x2   // flags |= IFF_UP
#define NETIF_SET_DOWN  0x4   // flags &= ~IFF_UP
#define NETIF_SET_PROMISC   0x8
#define NETIF_SET_NOPROMISC 0x10
#define NETIF_SET_MTU   0x20

struct netif_conf {
  uint set;              // NETIF_SET_*
  uint ipaddr;           // network order
  uint netmask;          // network order
  uint mtu;
};

// ARP neighbour entries (arplist, arpset).
#define ARP_INCOMPLETE 1
#define ARP_REACHABLE  2
#define ARP_STALE      3
#define ARP_PERMANENT  4

struct arpreq {
  uint ipaddr;           // network order
  uchar mac[6];
  ushort state;          // ARP_*
  char ifname[IFNAMSIZ];
  uint age_ms;           // since last confirmed
  uint queued;           // packets waiting for resolution
};

// Routing table entries (routelist, routeadd, routedel).
#define RTF_UP      0x1
#define RTF_GATEWAY 0x2
#define RTF_HOST    0x4

struct rtentry {
  uint dst;              // network order
  uint mask;             // network order
  uint gateway;          // network order; 0 for a connected route
  uint flags;            // RTF_*
  char ifname[IFNAMSIZ];
};

// One socket, for netstat (socklist).
struct sockinfo {
  int domain, type, protocol;
  uint laddr, raddr;     // network order
  ushort lport, rport;   // host order
  uint rxqueue;          // datagrams waiting
  uint drops;            // receive queue overflows
  int pid;               // a process holding it (0 if unknown)
};

// One TCP connection or listener, for netstat -t (tcplist). Orphans (closed
// by their program, still finishing) are listed too.
#define TCP_NSTATES 11
struct tcpinfo {
  uint laddr, raddr;     // network order
  ushort lport, rport;   // host order
  int state;             // 0 CLOSED, 1 LISTEN, 2 SYN_SENT, 3 SYN_RECV, 4 ESTABLISHED,
                         // 5 FIN_WAIT1, 6 FIN_WAIT2, 7 CLOSE_WAIT, 8 CLOSING,
                         // 9 LAST_ACK, 10 TIME_WAIT
  uint recvq, sendq;     // bytes not yet read; not yet acknowledged (listeners: backlog use)
  int pid;               // a process holding it (0: an orphan)
  uint rto_ms, cwnd, ssthresh, srtt_ms;
};

// System-wide network counters (netstat).
struct netstat_info {
  uint pbuf_free, pbuf_total;
  uint bigpbuf_free, bigpbuf_total;   // the 16 KiB buffers
  uint shortpbuf_free, shortpbuf_total;   // the 256-byte ones
  uint tsopbuf_free, tsopbuf_total;   // the 64 KiB ones (TCP segments a card cuts)
  uint pagepbuf_free, pagepbuf_total;   // the 4 KiB ones drivers add (0 without such a card)
  uint ether_rx_badlen, ether_rx_otherhost, ether_rx_unknown;
  // ARP
  uint arp_rx, arp_rx_bad, arp_rx_notforus, arp_requests_answered, arp_replies_rx;
  uint arp_requests_tx, arp_failed, arp_queue_drops, arp_evictions, arp_entries;
  uint arp_refused;      // new entries with no room (see kernel/net/arp.c)
  uint arp_conflicts, arp_defences;   // others claiming our address; announcements sent
  // IPv4
  uint ip_rx, ip_rx_delivered, ip_rx_hdrerrors, ip_rx_badsum, ip_rx_addrerrors;
  uint ip_rx_ttlzero, ip_rx_unknownproto, ip_rx_notforus;
  uint ip_tx, ip_tx_noroute, ip_tx_nobufs;
  uint ip_frag_created, ip_frag_fails, ip_reasm_reqds, ip_reasm_oks, ip_reasm_fails, ip_reasm_timeouts;
  uint ip_reasm_dups;    // exact duplicate fragments, dropped alone
  // IPv4 forwarding (kernel/net/ipforward.c): forwarded, then drops by reason
  uint ip_forw_datagrams, ip_forw_ttlexceeded, ip_forw_noroute, ip_forw_martians;
  uint ip_forw_linkbcast, ip_forw_fragneeded, ip_forw_fragcreated, ip_forw_nobufs;
  // ICMP
  uint icmp_rx, icmp_rx_errors, icmp_rx_echo, icmp_rx_echoreply, icmp_rx_unreach, icmp_rx_timeexceeded;
  uint icmp_tx, icmp_tx_echoreply, icmp_tx_unreach;
  uint icmp_tx_timeexceeded, icmp_tx_ratelimited;
  // UDP
  uint udp_rx, udp_rx_noport, udp_rx_errors, udp_rx_badsum, udp_rx_queuedrops, udp_tx;
  // TCP (the names of Linux's /proc/net/snmp and netstat -s where they exist)
  uint tcp_activeopens, tcp_passiveopens, tcp_attemptfails, tcp_estabresets, tcp_currestab;
  uint tcp_insegs, tcp_outsegs, tcp_retranssegs, tcp_inerrs, tcp_outrsts, tcp_badsum;
  uint tcp_fastretrans, tcp_timeouts, tcp_persistprobes, tcp_keepaliveprobes, tcp_challengeacks;
  uint tcp_dropnolisten, tcp_dropbacklog, tcp_dropnotcb, tcp_dropoutofwindow, tcp_dropooofull;
  uint tcp_dropnomem, tcp_delayedacks, tcp_ooosegs, tcp_synrcvddropped, tcp_rstignored;
  uint tcp_twrecycled;   // TIME_WAIT blocks reused when every block was taken
  uint tcp_trainsegs;    // segments taken behind a train's first (gso.c's or gro.c's)
  uint tcp_rcvbufgrown;  // receive buffers grown by autotuning
  uint tcp_sndbufgrown;  // send buffers grown by autotuning
};

#endif
