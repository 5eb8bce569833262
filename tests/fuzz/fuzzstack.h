// What the stack-level fuzz targets share: one booted stack per process
// (the fuzzer runs many inputs in it, as a long-running kernel would), with
// eth0 10.0.0.2/24, a default gateway 10.0.0.1, and sockets of every kind
// open so that delivery to them is reached: UDP bound to port 7, UDP
// connected to 10.0.0.1:53, raw ICMP, AF_PACKET for every frame, and a TCP
// listener on port 80. Our TCP ISN is fixed (tcp.isn=, just below 2^32) so
// that an input can complete a handshake; connections it completes are
// accepted and reset after each input.
//
// Checksums: the stack verifies them as always, but fuzz_deliver fixes the
// IPv4 header checksum and the UDP, ICMP and TCP checksums of the input
// before delivering it (host_fixsums), so that mutations reach the code past
// the checksum test instead of being dropped there.
//
// After each input the sockets are drained. Every QUIESCE_EVERY inputs the
// clock runs on for longer than any timer (ARP aging, reassembly), after
// which both buffer pools must be full again: a buffer that is still out is
// a leak, and the target aborts.

#ifndef XV6NET_FUZZSTACK_H
#define XV6NET_FUZZSTACK_H

#include "tests/host/fixture.h"

#define FUZZ_CMDLINE "arp.reachable=2 arp.gc=4 ip.reasmtime=3 tcp.isn=4294967000 tcp.msl=500"
#define FUZZ_ISS 4294967000u
#define QUIESCE_EVERY 2048
#define QUIESCE_TICKS (6 * HZ)

static struct hostnic *fuzz_eth0;
static struct socket *fuzz_socks[4];
static struct socket *fuzz_listener;

static void
fuzz_boot(void)
{
  if (fuzz_eth0)
    return;
  fuzz_eth0 = boot_eth0(FUZZ_CMDLINE);
  struct rtentry rt;
  memset(&rt, 0, sizeof rt);
  rt.gateway = PEER_IP;
  if (route_add(&rt) < 0)
    panic("fuzz_boot: route_add");
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(7);
  if (sock_create(AF_INET, SOCK_DGRAM, 0, &fuzz_socks[0]) < 0 ||
      sock_bind(fuzz_socks[0], (struct sockaddr *)&a, sizeof a) < 0)
    panic("fuzz_boot: udp 7");
  a.sin_addr = PEER_IP;
  a.sin_port = htons(53);
  if (sock_create(AF_INET, SOCK_DGRAM, 0, &fuzz_socks[1]) < 0 ||
      sock_connect(fuzz_socks[1], (struct sockaddr *)&a, sizeof a) < 0)
    panic("fuzz_boot: udp connected");
  if (sock_create(AF_INET, SOCK_RAW, IPPROTO_ICMP, &fuzz_socks[2]) < 0)
    panic("fuzz_boot: raw icmp");
  if (sock_create(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), &fuzz_socks[3]) < 0)
    panic("fuzz_boot: packet");
  a.sin_addr = 0;
  a.sin_port = htons(80);
  if (sock_create(AF_INET, SOCK_STREAM, 0, &fuzz_listener) < 0 ||
      sock_bind(fuzz_listener, (struct sockaddr *)&a, sizeof a) < 0 ||
      sock_listen(fuzz_listener, 8) < 0)
    panic("fuzz_boot: tcp listener");
  fuzz_listener->nonblock = 1;
  host_sent_clear(fuzz_eth0);
}

// Close a TCP socket with a reset: nothing is left behind (no orphan).
static void
fuzz_tcpreset(struct socket *s)
{
  struct linger lg = { 1, 0 };
  sock_setopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  sock_close(s);
}

static void
fuzz_drain(void)
{
  struct socket *c;
  while (sock_accept(fuzz_listener, &c, 0, 0) == 0)
    fuzz_tcpreset(c);
  static char buf[PBUF_BIGSIZE];
  char from[32];
  for (uint i = 0; i < NELEM(fuzz_socks); i++) {
    int fromlen = sizeof from;
    while (sock_recvfrom(fuzz_socks[i], (uint)buf, sizeof buf, MSG_DONTWAIT,
                         (struct sockaddr *)from, &fromlen) >= 0)
      fromlen = sizeof from;
  }
  host_sent_clear(fuzz_eth0);
}

// One frame onto eth0's wire, checksums fixed first (see above).
static __attribute__((unused)) void
fuzz_deliver(const uchar *data, uint len)
{
  static uchar frame[PBUF_SIZE];
  if (len > sizeof frame)
    len = sizeof frame;
  memmove(frame, data, len);
  host_fixsums(frame, len);
  host_receive(fuzz_eth0, frame, len);
}

static void
fuzz_after_input(void)
{
  static uint inputs;
  fuzz_drain();
  if (++inputs % QUIESCE_EVERY != 0)
    return;
  host_advance(QUIESCE_TICKS);
  fuzz_drain();
  host_advance(1);
  if (!host_pool_full())
    panic("pbuf leak: %u of %u small and %u of %d big buffers free after quiescing",
          pbuf_free_count(PBUF_SIZE), pbuf_total_count(PBUF_SIZE), pbuf_free_count(PBUF_BIGSIZE),
          NBIGPBUF);
}

#endif
