#ifndef XV6NET_SOCK_H
#define XV6NET_SOCK_H
#include "kernel/types.h"
#include "kernel/spinlock.h"
#include "kernel/socket.h"
#include "kernel/poll.h"
#include "kernel/net/pbuf.h"

// The kernel side of a socket. Each address family supplies the operations;
// socket.c turns sockets into files and system calls.

#define NSOCKET   64
#define SOCK_RXQ  512   // frames queued per socket, at most (rcvbuf bounds them first)
#define MAXSOCKADDR 32
// Receive buffers are counted in bytes of buffer memory held (a datagram
// costs its whole pbuf, as Linux charges an skb's truesize), against
// SO_RCVBUF. The default is Linux's (net.core.rmem_default, 212992: 104
// frames of 2 KiB), and setsockopt doubles what it is given as Linux does.
// Its ceiling (Linux's rmem_max, a tunable) is higher than Linux's default
// 212992: a program that asks may queue 512 frames, as every socket could
// before. The pool's low-water mark (pbuf.h) bounds all queues together.
#define SOCK_RCVBUF_DEFAULT 212992
#define SOCK_RMEM_MAX       524288
#define SOCK_MIN_RCVBUF     2304   // about Linux's: 2048 plus its sk_buff

struct socket;

struct sockops {
  int  (*bind)(struct socket *s, const struct sockaddr *addr, int len);
  int  (*sendto)(struct socket *s, uint src, int len, const struct sockaddr *to, int tolen);
  // Copy one queued datagram to user address dst; fill *from when not 0.
  int  (*recvfrom)(struct socket *s, uint dst, int len, int flags, struct sockaddr *from, int *fromlen);
  void (*close)(struct socket *s);
  int  (*connect)(struct socket *s, const struct sockaddr *addr, int len);   // may be 0
  int  (*getname)(struct socket *s, struct sockaddr *addr, int *len);        // may be 0
  // Stream sockets (TCP); each may be 0.
  int  (*listen)(struct socket *s, int backlog);
  // sendto with flags (MSG_DONTWAIT); those without it never wait to send
  int  (*send)(struct socket *s, uint src, int len, int flags);
  int  (*accept)(struct socket *s, struct socket **ns, struct sockaddr *addr, int *len);
  int  (*shutdown)(struct socket *s, int how);
  int  (*getpeer)(struct socket *s, struct sockaddr *addr, int *len);
  // Options of the family or protocol: -ENOPROTOOPT for socket.c's own.
  int  (*setopt)(struct socket *s, int level, int opt, const void *val, int len);
  int  (*getopt)(struct socket *s, int level, int opt, void *val, int *len);
  int  (*poll)(struct socket *s, int events);                                // may be 0
};

// Readiness (sock_poll, for poll(2) and select): the contract a family's
// sockops.poll keeps. It returns, without waiting, the POLL* bits
// (kernel/poll.h, Linux's values) that are true now, whatever events asks
// (the caller masks them; events is a hint that may save work):
//   POLLIN   a receive would not block: data queued, a connection to accept,
//            the peer's FIN (a read returns 0), or an error to return.
//   POLLOUT  a send would not block: room in the send buffer (for a
//            connecting stream socket: once the connection is made or failed).
//   POLLERR  an error is pending (s->soerror; SO_ERROR reads and clears it).
//   POLLHUP  both directions are shut: the connection is over (reset, or
//            FIN both ways); POLLIN is then set too, a read returning 0 or
//            the error.
// A poller sleeps until something calls pollwakeup() (netos.h): so every
// change that can turn one of these bits on must call it, with s->lock held
// and after the change, or a poller sleeps through it. sock_enqueue and
// errors posted with sock_seterror do; a family's own state changes
// (a connection made, a FIN, room freed by an ACK) must too. Spurious calls
// cost only a rescan. With sockops.poll 0, sock_poll reports POLLIN when
// rxq is non-empty, POLLERR when soerror is set, and POLLOUT always: sending
// on those sockets (UDP, raw, packet) never waits (a full device ring or
// pool is ENOBUFS at once, as for Linux's UDP).

// A slot is reused only once nobody holds a reference to it: the file holds
// one, and every walk of the table (sock_next) one on the socket it is at.
struct socket {
  struct spinlock lock;     // first: sockalloc clears everything after it
  int inuse;                // the slot is taken (until the last reference goes)
  int ref;                  // references (stable.lock in socket.c)
  int closing;              // closed by its file: refuse new data
  int domain, type, protocol;
  const struct sockops *ops;
  struct pbufq rxq;         // received datagrams or frames
  uint rmem;                // bytes of buffers in rxq (their pbufs' sizes)
  uint rcvbuf;              // most rmem may be (SO_RCVBUF); one datagram always fits
  uint rcvtimeo;            // ticks; 0 blocks forever
  uint drops;               // receive queue overflows
  int sleepers;             // processes asleep in sock_waitrx (lock held)
  int soerror;              // pending error for the next call (negative errno)
  int nonblock;             // O_NONBLOCK (fcntl): calls that would wait fail with EAGAIN
  int broadcast;            // SO_BROADCAST
  int pid;                  // the creator, for netstat
  // AF_PACKET
  void *pcb;                // the protocol's block (TCP: struct tcpcb)
  int ifindex;              // bound interface, 0 = all
  ushort ethertype;         // host order; ETH_P_ALL for every frame
  // AF_INET
  uint laddr, raddr;        // network order; 0 = any / not connected
  ushort lport, rport;      // host order; 0 = unbound / not connected
  int ttl;                  // IP_TTL; 0 = IP_TTL's default (64)
};

struct sockfamily {
  int domain;
  int (*create)(struct socket *s, int type, int protocol);
};

void socketinit(void);
void sock_register(const struct sockfamily *fam);
// Wait for a queued pbuf (honouring rcvtimeo and kill); s->lock is held on
// entry and exit. Returns the pbuf, or 0 with *err set.
struct pbuf *sock_waitrx(struct socket *s, int nonblock, int *err);
int  sock_recv(struct socket *s, uint dst, int len, int flags, struct pbuf **pbp);
int  sock_enqueue(struct socket *s, struct pbuf *pb);   // -1 (pb not taken) when full
void sock_seterror(struct socket *s, int err);   // post -errno for the next call; wakes everyone
int  sock_poll(struct socket *s, int events);    // POLL* bits true now (see sockops.poll)
void sock_flush(struct socket *s);   // drop everything queued; s->lock held
// Iterate over the open sockets of a family (for delivery): returns the next
// after prev, with a reference held on it, and drops prev's. A walk that
// stops early, or keeps a socket, puts what it holds.
struct socket *sock_next(struct socket *prev, int domain);
// The open socket of a family that rank(s, arg) puts highest (a rank above
// 0; SOCK_EXACT ends the search), with a reference held; 0 if none. One
// pass under the table's lock, for the lookup every datagram makes: rank
// only looks at the socket (no locks, no sleeping).
#define SOCK_EXACT 0x7fffffff
struct socket *sock_find(int domain, int (*rank)(struct socket *s, void *arg), void *arg);
// Whether any packet socket, or any raw IPv4 socket, holds a slot: with
// none, the walk that every frame (or datagram) would make is skipped.
int sock_anypacket(void);
int sock_anyraw(void);
void sock_put(struct socket *s);

// The calls every socket takes, for kernel/syssock.c (and host tests).
// Socket addresses and option values are in kernel memory; data buffers
// (src, dst) are user addresses.
int  sock_create(int domain, int type, int protocol, struct socket **ps);
void sock_close(struct socket *s);
int  sock_bind(struct socket *s, const struct sockaddr *addr, int len);
int  sock_connect(struct socket *s, const struct sockaddr *addr, int len);
int  sock_sendto(struct socket *s, uint src, int len, const struct sockaddr *to, int tolen);
int  sock_send(struct socket *s, uint src, int len, const struct sockaddr *to, int tolen,
               int flags);   // sendto(2) with its flags
int  sock_recvfrom(struct socket *s, uint dst, int len, int flags, struct sockaddr *from, int *fromlen);
int  sock_getname(struct socket *s, struct sockaddr *addr, int *len);
int  sock_getpeer(struct socket *s, struct sockaddr *addr, int *len);
int  sock_listen(struct socket *s, int backlog);
// A new socket for the next connection on listening socket s, with the peer's address.
int  sock_accept(struct socket *s, struct socket **ns, struct sockaddr *addr, int *len);
int  sock_shutdown(struct socket *s, int how);
int  sock_setopt(struct socket *s, int level, int opt, const void *val, int len);
int  sock_getopt(struct socket *s, int level, int opt, void *val, int *len);

int  sock_count(void);   // sockets in use
void packetinit(void);
int  sock_list(int index, struct sockinfo *out);
struct tcpinfo;
int  tcp_list(int index, struct tcpinfo *out);   // every TCP connection block, for netstat -t

#endif
