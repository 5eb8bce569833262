// What most host tests start from: the stack booted with one card, eth0,
// 10.0.0.2/24 (MAC 52:54:00:00:00:02), on a LAN whose other hosts the test
// plays: the peer 10.0.0.1 (02:00:00:00:00:01) and whoever else it needs.

#ifndef XV6NET_FIXTURE_H
#define XV6NET_FIXTURE_H

#include "tests/host/check.h"   // the C library's headers first
#include "kernel/net/netos.h"
#include "kernel/net/pbuf.h"
#include "kernel/net/netdev.h"
#include "kernel/net/arp.h"
#include "kernel/net/ip.h"
#include "kernel/net/sock.h"
#include "tests/host/host.h"

static const uchar our_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x02 };
static const uchar peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uchar other_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 };
static const uchar bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uchar zero_mac[6] = { 0 };

#define OUR_IP   host_ip(10, 0, 0, 2)
#define PEER_IP  host_ip(10, 0, 0, 1)
#define OTHER_IP host_ip(10, 0, 0, 3)
#define MASK24   host_ip(255, 255, 255, 0)

// Boot with extra kernel parameters (may be ""); returns eth0, with the
// gratuitous ARP of its address already taken off the wire.
static inline struct hostnic *
boot_eth0(const char *cmdline)
{
  host_boot(cmdline);
  struct hostnic *nic = host_nic(our_mac, OUR_IP, MASK24);
  host_sent_clear(nic);
  return nic;
}

// The same, with the peer already in the ARP cache (no request on the wire
// before the first frame to it).
static inline struct hostnic *
boot_resolved(const char *cmdline)
{
  struct hostnic *eth0 = boot_eth0(cmdline);
  arp_set(host_netdev(eth0), PEER_IP, peer_mac);
  return eth0;
}

// An IPv4 socket address (addr in network order, as host_ip gives).
static inline struct sockaddr_in
sin(uint addr, ushort port)
{
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr = addr;
  a.sin_port = htons(port);
  return a;
}

// A UDP socket, bound to addr:port unless port is 0.
static inline struct socket *
udp_socket(uint addr, ushort port)
{
  struct socket *s = 0;
  CHECK_EQ(sock_create(AF_INET, SOCK_DGRAM, 0, &s), 0);
  if (port) {
    struct sockaddr_in a = sin(addr, port);
    CHECK_EQ(sock_bind(s, (struct sockaddr *)&a, sizeof a), 0);
  }
  return s;
}

static inline struct netstat_info
stats(void)
{
  struct netstat_info st;
  net_stats(&st);
  return st;
}

// A frame the stack sent: its bytes and length (0 if none was waiting).
struct frame {
  uint len;
  uchar b[PBUF_TSOSIZE];
};

static inline struct frame *
next_sent(struct hostnic *nic)
{
  static struct frame f;
  f.len = host_sent(nic, f.b, sizeof f.b);
  return &f;
}

static inline uint
get16(const uchar *p)
{
  return p[0] << 8 | p[1];
}

static inline uint
get32addr(const uchar *p)   // an address as the stack keeps it (network order in memory)
{
  uint a;
  memmove(&a, p, 4);
  return a;
}

// The first ARP entry for ip, or state 0 if there is none.
static inline struct arpreq
arp_entry(uint ip)
{
  struct arpreq r;
  for (int i = 0; arp_list(i, &r) == 0; i++)
    if (r.ipaddr == ip)
      return r;
  memset(&r, 0, sizeof r);
  return r;
}

#endif
