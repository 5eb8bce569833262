#ifndef XV6NET_IP_H
#define XV6NET_IP_H
#include "kernel/types.h"

struct netdev;
struct pbuf;
struct netstat_info;
struct rtentry;

#define IP_HLEN   20
#define IP_TTL    64
#define IP_MAXPACKET (PBUF_BIGSIZE - PBUF_HEADROOM)   // largest datagram we build or reassemble

struct ip_hdr {
  uchar  vhl;        // version 4, header length in words
  uchar  tos;
  ushort len;        // total length, network order
  ushort id;
  ushort off;        // flags and fragment offset, network order
  uchar  ttl;
  uchar  proto;
  ushort sum;
  uint   src;
  uint   dst;
} __attribute__((packed));

#define IP_MF 0x2000       // more fragments
#define IP_DF 0x4000       // don't fragment
#define IP_OFFMASK 0x1FFF  // offset in 8-byte units

// What a transport protocol gets: the header fields it may need. pb->rp
// points at its own header (the IP header has been pulled).
struct ip_info {
  struct netdev *dev;
  uint src, dst;     // network order
  uchar proto, ttl;
  int broadcast;     // sent to a broadcast address
  int linkbcast;     // came in a link-layer broadcast or multicast frame
  const uchar *iph;  // the IP header (for ICMP errors), ihl bytes
  uint iphlen;
};

void ipinit(void);
void ip_input(struct netdev *dev, struct pbuf *pb);
// Send a transport payload (pb->rp at the transport header) to dst. src 0
// picks the outgoing interface's address. pb is consumed.
int  ip_output(struct pbuf *pb, uchar proto, uint src, uint dst, uchar ttl);
void ip_register(uchar proto, void (*input)(struct pbuf *pb, struct ip_info *info));
// Which interface and next hop reach dst; 0 if unreachable.
struct netdev *ip_route(uint dst, uint *nexthop);
#define ADDR_OURS  1                   // ip_addrclass: one of our addresses, or 127/8
#define ADDR_BCAST 2                   // ip_addrclass: a broadcast address
int  ip_addrclass(uint addr);        // ADDR_OURS | ADDR_BCAST, in one walk
int  ip_isours(uint addr);           // an address of one of our interfaces
int  ip_isbroadcast(uint addr);      // limited or a subnet broadcast of ours
void ip_timer(uint now);
uint ip_nexttimer(uint now);   // ticks until ip_timer has work (netdev.h)
void ip_count_noroute(void);   // for transports that route before ip_output
void ip_stats(struct netstat_info *out);
int  route_list(int index, struct rtentry *out);
int  route_add(const struct rtentry *rt);
int  route_del(const struct rtentry *rt);
ushort ip_pseudosum(uint src, uint dst, uchar proto, uint len, const uchar *data);
ushort ip_pseudohdr(uint src, uint dst, uchar proto, uint len);   // for pbuf_csumpartial

// ipforward.c: routing between interfaces (net.ipv4.ip_forward)
void ipfwdinit(void);
// A checked datagram not for us (pb->rp at its IP header, hlen bytes):
// -1 if forwarding is off (pb untouched), else 0 (pb consumed).
int  ip_forward(struct netdev *in, struct pbuf *pb, uint hlen);
void ipfwd_stats(struct netstat_info *out);
// A datagram (pb->rp at its IP header) whose next hop never answered ARP;
// pb is consumed.
void ipfwd_linkfailed(struct pbuf *pb);

// icmp.c
void icmpinit(void);
void icmp_error(struct pbuf *orig, struct ip_info *info, uchar type, uchar code);
// The same, with the next-hop MTU (RFC 1191) for "fragmentation needed".
void icmp_error_mtu(struct pbuf *orig, struct ip_info *info, uchar type, uchar code, uint mtu);
void icmp_stats(struct netstat_info *out);
#define ICMP_ECHOREPLY    0
#define ICMP_UNREACH      3
#define  ICMP_UNREACH_NET   0
#define  ICMP_UNREACH_HOST  1
#define  ICMP_UNREACH_PROTO 2
#define  ICMP_UNREACH_PORT  3
#define  ICMP_UNREACH_NEEDFRAG 4   // and DF set (the next-hop MTU in the header)
#define ICMP_ECHO         8
#define ICMP_TIMXCEED    11
#define  ICMP_TIMXCEED_INTRANS 0   // TTL reached 0 in transit
#define  ICMP_TIMXCEED_REASS 1   // fragment reassembly time exceeded

// udp.c
void udpinit(void);
void udp_stats(struct netstat_info *out);
// An ICMP error about a datagram we sent from lport to raddr:rport.
void udp_icmperror(uint laddr, ushort lport, uint raddr, ushort rport, int err);

// inet.c: AF_INET sockets
void inetinit(void);
void raw_deliver(struct pbuf *pb, struct ip_info *info);   // copies to raw sockets
struct sockaddr;
void inet_fillsin(struct sockaddr *addr, int *len, uint ip, ushort port);   // port in host order

#endif
