// IPv4 forwarding on the host (kernel/net/ipforward.c; RFC 1812, 791, 792,
// 1191, 1624): a router with two fake cards, eth0 10.0.0.2/24 (the fixture's
// LAN) and eth1 10.0.1.1/24. A frame comes in on eth0; the test checks the
// exact frame that goes out on eth1, or the ICMP error that comes back on
// eth0, and the counters.

#include "tests/host/fixture.h"
#include "kernel/net/sysctl.h"

static const uchar eth1_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x01, 0x01 };
static const uchar far_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x05 };
#define ETH1_IP host_ip(10, 0, 1, 1)
#define FAR_IP  host_ip(10, 0, 1, 5)
#define DF 0x4000
#define MF 0x2000

static uchar frame[PBUF_BIGSIZE];
static struct hostnic *eth0, *eth1;

// The router, forwarding (by the command line, as a boot would set it) or
// not, both neighbours already in its ARP cache; eth1's MTU as given.
static void
boot_router(const char *cmdline, uint mtu1)
{
  eth0 = boot_eth0(cmdline);
  eth1 = host_nic(eth1_mac, ETH1_IP, MASK24);
  host_sent_clear(eth1);
  host_netdev(eth1)->mtu = mtu1;
  arp_set(host_netdev(eth0), PEER_IP, peer_mac);
  arp_set(host_netdev(eth1), FAR_IP, far_mac);
}

// A UDP datagram from the peer (on eth0) to dst, datalen bytes of payload,
// with the given TTL, flags/offset field and id; checksums right.
static uint
udp_to(uchar *f, uint dst, uint datalen, uchar ttl, ushort off, ushort id)
{
  uint n = host_ether(f, our_mac, peer_mac, ETH_P_IP);
  n += host_ipv4(f + n, PEER_IP, dst, IPPROTO_UDP, 8 + datalen, id, off, ttl);
  uchar *u = f + n;
  u[0] = 0x80; u[1] = 0x00;                       // 32768 -> 33434
  u[2] = 0x82; u[3] = 0x9a;
  u[4] = (8 + datalen) >> 8; u[5] = 8 + datalen;
  for (uint i = 0; i < datalen; i++)
    u[8 + i] = i * 7;
  host_fixsums(f, n + 8 + datalen);
  return n + 8 + datalen;
}

// What ICMP error came back to the peer on eth0, checked as far as every
// error goes: addressed to the peer from eth0's address, checksums right,
// quoting the original's header and first 8 bytes. Returns its ICMP header.
static const uchar *
icmp_back(const uchar *orig, uint origlen)
{
  static struct frame r;
  CHECK_EQ(host_nsent(eth0), 1);
  r.len = host_sent(eth0, r.b, sizeof r.b);
  CHECK_MEM(r.b, peer_mac, 6);
  const uchar *ip = r.b + 14, *ic = ip + 20;
  CHECK_EQ(ip[9], IPPROTO_ICMP);
  CHECK_EQ(get32addr(ip + 12), OUR_IP);           // the interface towards the source
  CHECK_EQ(get32addr(ip + 16), PEER_IP);
  CHECK_EQ(get16(ip + 2), 20 + 8 + 20 + 8);
  CHECK_MEM(ic + 8, orig + 14, 28 < origlen - 14 ? 28 : origlen - 14);
  uchar copy[256];
  memmove(copy, r.b, r.len);
  host_fixsums(copy, r.len);
  CHECK_MEM(copy, r.b, r.len);
  return ic;
}

static void
test_a_forwarded_frame_is_the_same_datagram_one_hop_older(void)
{
  boot_router("sysctl.net.ipv4.ip_forward=1", 1500);
  // Every id, so that the incremental checksum meets its carries and the
  // sum that must come out as 0 rather than 0xFFFF.
  for (uint id = 0; id < 0x10000; id += 7) {
    uint len = udp_to(frame, FAR_IP, 20, 64, DF, id);
    host_receive(eth0, frame, len);
    CHECK_EQ(host_nsent(eth1), 1);
    struct frame *out = next_sent(eth1);
    uchar want[128];
    memmove(want, frame, len);
    memmove(want, far_mac, 6);
    memmove(want + 6, eth1_mac, 6);
    want[14 + 8] = 63;
    host_fixsums(want, len);                     // what summing the header again gives
    CHECK_EQ(out->len, len);
    if (memcmp(out->b, want, len) != 0) {
      CHECK_MEM(out->b, want, len);
      break;
    }
  }
  CHECK_EQ(host_nsent(eth0), 0);
  CHECK_EQ(stats().ip_forw_datagrams, (0x10000 + 6) / 7);
  CHECK_EQ(stats().ip_rx_delivered, 0);
  CHECK(host_pool_full());
}

static void
test_without_ip_forward_nothing_is_forwarded(void)
{
  boot_router("", 1500);
  int on = -1;
  CHECK_EQ(sysctl_get("net.ipv4.ip_forward", &on), 0);
  CHECK_EQ(on, 0);
  uint len = udp_to(frame, FAR_IP, 20, 64, 0, 1);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth1) + host_nsent(eth0), 0);
  CHECK_EQ(stats().ip_rx_notforus, 1);
  CHECK_EQ(sysctl_set("net.ipv4.ip_forward", 1), 0);   // as sysctl -w does
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth1), 1);
  CHECK_EQ(stats().ip_forw_datagrams, 1);
  CHECK(host_pool_full());
}

static void
test_ttl_expiry_earns_a_time_exceeded(void)
{
  boot_router("sysctl.net.ipv4.ip_forward=1", 1500);
  for (uchar ttl = 0; ttl <= 1; ttl++) {
    uint len = udp_to(frame, FAR_IP, 20, ttl, 0, 5);
    host_receive(eth0, frame, len);
    CHECK_EQ(host_nsent(eth1), 0);
    const uchar *ic = icmp_back(frame, len);
    CHECK_EQ(ic[0], ICMP_TIMXCEED);
    CHECK_EQ(ic[1], ICMP_TIMXCEED_INTRANS);
    CHECK_EQ(ic[8 + 8], ttl);                       // quoted as it came, TTL unchanged
  }
  CHECK_EQ(stats().ip_forw_ttlexceeded, 2);
  CHECK_EQ(stats().icmp_tx_timeexceeded, 2);
  // A fragment other than the first has no transport header to quote: no error.
  uint len = udp_to(frame, FAR_IP, 20, 1, 100, 6);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth0) + host_nsent(eth1), 0);
  CHECK_EQ(stats().ip_forw_ttlexceeded, 3);
  CHECK(host_pool_full());
}

static void
test_no_route_earns_a_net_unreachable(void)
{
  boot_router("sysctl.net.ipv4.ip_forward=1", 1500);
  uint len = udp_to(frame, host_ip(192, 168, 9, 9), 20, 64, 0, 8);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth1), 0);
  const uchar *ic = icmp_back(frame, len);
  CHECK_EQ(ic[0], ICMP_UNREACH);
  CHECK_EQ(ic[1], ICMP_UNREACH_NET);
  CHECK_EQ(stats().ip_forw_noroute, 1);
  // With a default route through a far router, the same datagram goes there.
  struct rtentry rt = { 0, 0, FAR_IP, 0, "" };
  CHECK_EQ(route_add(&rt), 0);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth1), 1);
  CHECK_MEM(next_sent(eth1)->b, far_mac, 6);
  CHECK(host_pool_full());
}

// The fragments on eth1: each checked, the payload put back together and
// compared with the original's; returns how many.
static int
check_fragments(const uchar *orig, uint origlen, uint mtu, ushort wantoff, int lastmore)
{
  uint hlen = (orig[14] & 15) * 4, total = origlen - 14 - hlen, seen = 0;
  static uchar data[PBUF_BIGSIZE];
  int n = 0;
  while (host_nsent(eth1) > 0) {
    struct frame *f = next_sent(eth1);
    const uchar *ip = f->b + 14;
    uint fhlen = (ip[0] & 15) * 4, flen = get16(ip + 2), off = get16(ip + 6);
    CHECK(flen <= mtu);
    CHECK_EQ(f->len, 14 + flen);
    CHECK_EQ(get16(ip + 4), get16(orig + 14 + 4));          // the original's id
    CHECK_EQ(ip[8], orig[14 + 8] - 1);
    CHECK_EQ((off & 0x1FFF) * 8, wantoff * 8 + seen);       // in order, contiguous
    uint more = (off & MF) != 0;
    CHECK_EQ(more, seen + flen - fhlen < total ? 1u : (uint)lastmore);
    CHECK_MEM(ip + 12, orig + 14 + 12, 8);                  // addresses
    uchar copy[2048];
    memmove(copy, f->b, f->len);
    host_fixsums(copy, f->len);
    CHECK_MEM(copy + 14, f->b + 14, 20);                    // header sum right
    if (more)
      CHECK_EQ((flen - fhlen) % 8, 0);
    memmove(data + seen, ip + fhlen, flen - fhlen);
    seen += flen - fhlen;
    n++;
  }
  CHECK_EQ(seen, total);
  CHECK_MEM(data, orig + 14 + hlen, total);
  return n;
}

static void
test_a_datagram_bigger_than_the_next_mtu_is_fragmented(void)
{
  boot_router("sysctl.net.ipv4.ip_forward=1", 1000);
  uint len = udp_to(frame, FAR_IP, 1472, 64, 0, 0x4242);    // 1500 bytes of IP
  host_receive(eth0, frame, len);
  CHECK_EQ(check_fragments(frame, len, 1000, 0, 0), 2);    // 976 + 504
  CHECK_EQ(stats().ip_forw_fragcreated, 2);
  CHECK_EQ(stats().ip_forw_datagrams, 1);
  // A fragment is cut again, keeping its offset and its MF.
  len = udp_to(frame, FAR_IP, 1472, 64, MF | 100, 0x4343);
  host_receive(eth0, frame, len);
  CHECK_EQ(check_fragments(frame, len, 1000, 100, 1), 2);
  CHECK_EQ(host_nsent(eth0), 0);
  CHECK(host_pool_full());
}

static void
test_later_fragments_carry_only_the_copied_options(void)
{
  boot_router("sysctl.net.ipv4.ip_forward=1", 576);
  uint n = host_ether(frame, our_mac, peer_mac, ETH_P_IP);
  uchar *ip = frame + n;
  host_ipv4(ip, PEER_IP, FAR_IP, IPPROTO_UDP, 0, 9, 0, 64);
  // 28-byte header: router alert (copied), record route (not), end.
  static const uchar opts[8] = { 0x94, 0x04, 0x00, 0x00, 0x07, 0x03, 0x04, 0x00 };
  memmove(ip + 20, opts, 8);
  ip[0] = 0x47;
  uint plen = 1200;
  for (uint i = 0; i < plen; i++)
    ip[28 + i] = i;
  ip[2] = (28 + plen) >> 8;
  ip[3] = 28 + plen;
  uint len = n + 28 + plen;
  host_fixsums(frame, len);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth1), 3);
  struct frame *f = next_sent(eth1);
  CHECK_EQ(f->b[14], 0x47);
  CHECK_MEM(f->b + 14 + 20, opts, 8);
  CHECK_EQ(get16(f->b + 14 + 2), 28 + 544);                  // (576 - 28) & ~7
  for (int i = 0; i < 2; i++) {
    f = next_sent(eth1);
    CHECK_EQ(f->b[14], 0x46);
    CHECK_MEM(f->b + 14 + 20, opts, 4);
    CHECK_EQ(get16(f->b + 14 + 6) & 0x1FFF, (544 + i * 552) / 8);
  }
  CHECK(host_pool_full());
}

static void
test_dont_fragment_earns_fragmentation_needed_with_the_mtu(void)
{
  boot_router("sysctl.net.ipv4.ip_forward=1", 1000);
  uint len = udp_to(frame, FAR_IP, 1472, 64, DF, 11);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth1), 0);
  const uchar *ic = icmp_back(frame, len);
  CHECK_EQ(ic[0], ICMP_UNREACH);
  CHECK_EQ(ic[1], ICMP_UNREACH_NEEDFRAG);
  CHECK_EQ(get16(ic + 4), 0);
  CHECK_EQ(get16(ic + 6), 1000);                   // next-hop MTU (RFC 1191)
  CHECK_EQ(ic[8 + 8], 64);
  CHECK_EQ(stats().ip_forw_fragneeded, 1);
  CHECK(host_pool_full());
}

static void
test_broadcasts_and_martians_are_not_forwarded(void)
{
  boot_router("sysctl.net.ipv4.ip_forward=1", 1500);
  uint len = udp_to(frame, FAR_IP, 20, 64, 0, 1);
  memmove(frame, bcast_mac, 6);                    // a unicast datagram in a broadcast frame
  host_fixsums(frame, len);
  host_receive(eth0, frame, len);
  CHECK_EQ(stats().ip_forw_linkbcast, 1);
  len = udp_to(frame, host_ip(10, 0, 1, 255), 20, 64, 0, 2);   // eth1's directed broadcast
  host_receive(eth0, frame, len);
  uint bad[][2] = {
    { PEER_IP, host_ip(224, 0, 0, 5) },            // multicast
    { PEER_IP, host_ip(240, 0, 0, 1) },            // class E
    { PEER_IP, host_ip(169, 254, 1, 1) },          // link-local destination
    { host_ip(169, 254, 1, 1), FAR_IP },           // link-local source
    { host_ip(0, 1, 2, 3), FAR_IP },               // "this network"
    { PEER_IP, host_ip(0, 1, 2, 3) },
  };
  for (uint i = 0; i < NELEM(bad); i++) {
    len = udp_to(frame, bad[i][1], 20, 64, 0, 3);
    memmove(frame + 14 + 12, &bad[i][0], 4);
    host_fixsums(frame, len);
    host_receive(eth0, frame, len);
  }
  CHECK_EQ(stats().ip_forw_martians, NELEM(bad));
  CHECK_EQ(stats().ip_forw_datagrams, 0);
  CHECK_EQ(host_nsent(eth1), 0);
  CHECK_EQ(host_nsent(eth0), 0);                   // and no ICMP about any of them
  CHECK(host_pool_full());
}

static void
test_a_next_hop_that_never_answers_earns_host_unreachable(void)
{
  boot_router("sysctl.net.ipv4.ip_forward=1", 1500);
  uint nobody = host_ip(10, 0, 1, 9);
  uint len = udp_to(frame, nobody, 20, 64, 0, 21);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth1), 1);                   // an ARP request for nobody
  host_sent_clear(eth1);
  // Our own datagram to nobody waits on the same entry, and is only dropped.
  struct socket *s;
  struct sockaddr_in to = { AF_INET, htons(9), nobody, { 0 } };
  static char hello[] = "hello";
  CHECK_EQ(sock_create(AF_INET, SOCK_DGRAM, 0, &s), 0);
  CHECK_EQ(sock_sendto(s, (uint)hello, 5, (struct sockaddr *)&to, sizeof to), 5);
  CHECK_EQ(host_nsent(eth0), 0);
  host_advance(3 * HZ + 1);                        // ARP's three tries, a second apart
  CHECK_EQ(host_nsent(eth1), 2);                   // the two retries, no datagram
  frame[14 + 8]--;                                 // it waited already one hop older
  host_fixsums(frame, len);
  const uchar *ic = icmp_back(frame, len);         // one error: about the forwarded one
  CHECK_EQ(ic[0], ICMP_UNREACH);
  CHECK_EQ(ic[1], ICMP_UNREACH_HOST);
  CHECK_EQ(stats().arp_failed, 1);
  CHECK_EQ(stats().arp_queue_drops, 2);
  sock_close(s);
  CHECK(host_pool_full());
}

static void
test_sysctls_take_linux_names_and_the_old_keys(void)
{
  boot_router("ip.reasmtime=3 sysctl.net.ipv4.icmp_msgs_burst=7 arp.gc=9 "
              "sysctl.net.ipv4.ip_forward=2", 1500);
  int v = 0;
  CHECK_EQ(sysctl_get("net.ipv4.ipfrag_time", &v), 0);
  CHECK_EQ(v, 3);
  CHECK_EQ(sysctl_get("net.ipv4.icmp_msgs_burst", &v), 0);
  CHECK_EQ(v, 7);
  CHECK_EQ(sysctl_get("net.ipv4.neigh.default.gc_stale_time", &v), 0);
  CHECK_EQ(v, 9);
  CHECK_EQ(sysctl_get("net.ipv4.ip_forward", &v), 0);
  CHECK_EQ(v, 0);                                  // 2 is out of range: refused at boot
  CHECK_EQ(sysctl_set("net.ipv4.ip_forward", 2), -EINVAL);
  CHECK_EQ(sysctl_set("net.ipv4.ip_forwar", 1), -ENOENT);
  CHECK_EQ(sysctl_get("net.ipv4", &v), -ENOENT);
  char name[SYSCTL_NAMEMAX];
  int n = 0;
  while (sysctl_name(n, name, sizeof name) == 0)
    n++;
  CHECK_EQ(n, 10);                                 // net.ipv4.tcp_tso the seventh, then
                                                   // tcp_wmem_default, tcp_rmem_default,
                                                   // tcp_moderate_rcvbuf
  CHECK_EQ(sysctl_name(-1, name, sizeof name), -ENOENT);
}

// A datagram whose UDP checksum the card on eth0 left undone (virtio-net's
// NEEDS_CSUM: the field holds only the pseudo-header sum; the host's own
// stack sent it) is trusted for local delivery, but a router passes it on:
// eth1, a card that does not finish sums, gets it finished in software.
static void
test_a_checksum_left_undone_is_finished_when_forwarded(void)
{
  boot_router("sysctl.net.ipv4.ip_forward=1", 1500);
  uint len = udp_to(frame, FAR_IP, 20, 64, DF, 7);
  uchar want[128];
  memmove(want, frame, len);                      // with the right checksum
  uchar *ip = frame + 14, *u = ip + 20;
  uint sum = host_sum16(ip + 12, 8, 0) + IPPROTO_UDP + 28;   // the pseudo-header
  sum = host_fold(sum);
  u[6] = sum >> 8;
  u[7] = sum;
  host_receive_vouched(eth0, frame, len, HOST_CSUM_PARTIAL);
  CHECK_EQ(host_nsent(eth1), 1);
  struct frame *out = next_sent(eth1);
  memmove(want, far_mac, 6);
  memmove(want + 6, eth1_mac, 6);
  want[14 + 8] = 63;
  host_fixsums(want, len);
  CHECK_EQ(out->len, len);
  CHECK_MEM(out->b, want, len);
  CHECK(host_pool_full());
}

static const struct test tests[] = {
  TEST(test_a_forwarded_frame_is_the_same_datagram_one_hop_older),
  TEST(test_a_checksum_left_undone_is_finished_when_forwarded),
  TEST(test_without_ip_forward_nothing_is_forwarded),
  TEST(test_ttl_expiry_earns_a_time_exceeded),
  TEST(test_no_route_earns_a_net_unreachable),
  TEST(test_a_datagram_bigger_than_the_next_mtu_is_fragmented),
  TEST(test_later_fragments_carry_only_the_copied_options),
  TEST(test_dont_fragment_earns_fragmentation_needed_with_the_mtu),
  TEST(test_broadcasts_and_martians_are_not_forwarded),
  TEST(test_a_next_hop_that_never_answers_earns_host_unreachable),
  TEST(test_sysctls_take_linux_names_and_the_old_keys),
};

int
main(void)
{
  return run_tests(tests, NELEM(tests), 1);
}
