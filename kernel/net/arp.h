#ifndef XV6NET_ARP_H
#define XV6NET_ARP_H
#include "kernel/types.h"

struct netdev;
struct pbuf;
struct arpreq;
struct netstat_info;

void arpinit(void);
void arp_input(struct netdev *dev, struct pbuf *pb);
void arp_timer(uint now);
uint arp_nexttimer(uint now);   // ticks until arp_timer has work (netdev.h)
// Send pb (an IPv4 packet, no link header) to nexthop (network order) on
// dev, resolving its MAC first; pb is consumed. Packets wait in a bounded
// queue while a request is outstanding.
int  arp_output(struct netdev *dev, uint nexthop, struct pbuf *pb);
void arp_announce(struct netdev *dev);   // gratuitous ARP for dev's address
int  arp_query(struct netdev *dev, uint ip, uchar *mac, uint timeout_ticks);
int  arp_list(int index, struct arpreq *out);
int  arp_set(struct netdev *dev, uint ip, const uchar *mac);
int  arp_delete(struct netdev *dev, uint ip);
void arp_stats(struct netstat_info *out);

#endif
