// Network calls and helpers for user programs (user/lib/usysnet.S, user/lib/net.c).
#ifndef XV6NET_USER_NET_H
#define XV6NET_USER_NET_H
#include "kernel/types.h"
#include "kernel/socket.h"

#define IP_TTL SOCK_IP_TTL   // setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl)

int socket(int domain, int type, int protocol);
int bind(int fd, const struct sockaddr *addr, int len);
int sendto(int fd, const void *buf, int len, int flags, const struct sockaddr *to, int tolen);
int recvfrom(int fd, void *buf, int len, int flags, struct sockaddr *from, int *fromlen);
#define recv(fd, buf, len) recvfrom((fd), (buf), (len), 0, 0, 0)
int setsockopt(int fd, int level, int opt, const void *val, int len);
int netifget(int index, struct netif_info *info);   // interfaces are 1, 2, ...
int netstat(struct netstat_info *info);
int netifset(const char *ifname, const struct netif_conf *conf);
int create_arp(const char *ifname, uint ipaddr, uchar mac[6], int timeout_ms);
int arplist(int index, struct arpreq *req);
int arpset(const struct arpreq *req);
int arpdel(uint ipaddr, const char *ifname);
int clock(struct timeval *tv);    // since boot, microsecond resolution
int connect(int fd, const struct sockaddr *addr, int len);
int getsockname(int fd, struct sockaddr *addr, int *len);
int getsockopt(int fd, int level, int opt, void *val, int *len);
int routelist(int index, struct rtentry *rt);
int routeadd(const struct rtentry *rt);
int routedel(const struct rtentry *rt);
int socklist(int index, struct sockinfo *si);
int listen(int fd, int backlog);
int accept(int fd, struct sockaddr *addr, int *len);   // addr may be 0
int shutdown(int fd, int how);
int getpeername(int fd, struct sockaddr *addr, int *len);
int tcplist(int index, struct tcpinfo *ti);   // -1 (ENOENT) past the last
#define send(fd, buf, len, flags) sendto((fd), (buf), (len), (flags), 0, 0)
// Kernel settings by Linux's names ("net.ipv4.ip_forward"): the value
// before into *oldval (if not 0), then *newval set (if not 0).
int sysctl(const char *name, int *oldval, const int *newval);
int sysctlname(int index, char *buf, int len);   // -1 (ENOENT) past the last

static inline ushort htons(ushort v) { return (v << 8) | (v >> 8); }
static inline ushort ntohs(ushort v) { return htons(v); }
static inline uint htonl(uint v)
{
  return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
}
static inline uint ntohl(uint v) { return htonl(v); }

// A TCP socket fd made to listen on port of every address, with
// SO_REUSEADDR (a restarted server need not wait out TIME_WAIT): 0, or -1
// with errno from bind or listen.
int  tcp_bindlisten(int fd, int port, int backlog);

// Interface lookup by name: its index, or -1 (errno ENODEV).
int  if_nametoindex2(const char *name, struct netif_info *info);
// "52:54:00:12:34:56" <-> 6 bytes. parse returns 0 or -1.
int  ether_aton(const char *s, uchar mac[6]);
char *ether_ntoa(const uchar mac[6], char buf[18]);
// Dotted quad <-> address in network order. aton returns 0 or -1.
int  inet_aton(const char *s, uint *addr);
char *inet_ntoa(uint addr, char buf[16]);
char *inet_endpoint(char buf[24], uint addr, ushort port);   // "a.b.c.d:port", or ":*" for port 0
// Microseconds since boot (from clock()).
uint64 usecs(void);
// The system's idle time since *mark (a sysinfo reading, then replaced by
// one taken now), summed over the CPUs, and the clock time since it, in
// microseconds; -1 if sysinfo fails. For "was this program waiting?".
struct idlemark {
  uint64 clockus, idleus;
  uint ncpu;
};
int  idlemark(struct idlemark *mark);
int  idlesince(struct idlemark *mark, uint64 *idleus, uint64 *clockus);
// "PROG: idle N us of M us (P%)" since *mark (which is then renewed).
void idleprint(const char *prog, struct idlemark *mark);
// A packet socket bound to interface ifindex for ethertype (host order,
// ETH_P_ALL for every frame); -1 with errno on failure.
int  packet_socket(int ifindex, uint ethertype);
// Receive timeout in milliseconds (0 = forever).
int  setrcvtimeo(int fd, int ms);

// Checked arguments (user/lib/netargs.c; see argnum in user.h): each
// returns the value or reports the argument and exits 2.
uint argaddr(const char *opt, const char *what, const char *s);   // network order
uint argmask(const char *opt, const char *what, const char *s);   // contiguous
void argmac(const char *opt, const char *what, const char *s, uchar mac[6]);
int  argport(const char *opt, const char *what, const char *s);   // 1..65535
int  argiface(const char *opt, const char *s, struct netif_info *info);
uint argethertype(const char *opt, const char *s);                // hex, >= 0x600
int  arghost(const char *opt, const char *what, const char *s, uint *addr);  // or a name

#endif
