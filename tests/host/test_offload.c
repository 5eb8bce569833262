// Transmit checksum offload, the stack's side (kernel/net/pbuf.c csumpartial,
// netdev.c, ip.c, tcp_output.c, udp.c): on a card that says NETDEV_TXCSUM,
// a TCP or UDP header leaves the stack with the pseudo-header sum in its
// checksum field, for the card to finish; on any other card, on loopback,
// and before IP cuts a datagram into fragments, the stack finishes it
// itself. The sums here are the test's own (RFC 1071 by 16-bit words), not
// the stack's.

#include "tests/host/fixture.h"
#include "kernel/net/tcp.h"
#include "kernel/net/sysctl.h"


static uchar frame[PBUF_BIGSIZE];

// The pseudo-header's sum for the IPv4 packet at ip, folded, not complemented.
static uint
pseudo(const uchar *ip)
{
  uint hl = (ip[0] & 15) * 4, len = get16(ip + 2) - hl;
  uint sum = host_sum16(ip + 12, 8, 0) + ip[9] + len;
  return host_fold(sum);
}

// Is the transport checksum of the IPv4 packet at ip right (pseudo-header,
// header and data sum to 0xFFFF)?
static int
transport_ok(const uchar *ip)
{
  uint hl = (ip[0] & 15) * 4, len = get16(ip + 2) - hl;
  return host_fold(host_sum16(ip + hl, len, pseudo(ip))) == 0xFFFF;
}

static int
iphdr_ok(const uchar *ip)
{
  return host_fold(host_sum16(ip, (ip[0] & 15) * 4, 0)) == 0xFFFF;
}

static struct hostnic *
boot_card(uint features)
{
  struct hostnic *eth0 = boot_resolved("tcp.isn=1000");   // ISS below
  host_netdev(eth0)->features = features;
  return eth0;
}

static void
listen80(void)
{
  struct socket *ls = 0;
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &ls), 0);
  struct sockaddr_in a = sin(0, 80);
  CHECK_EQ(sock_bind(ls, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_EQ(sock_listen(ls, 4), 0);
}

// A SYN with sequence number seq from the peer's port sport to the listener
// on port 80; returns the SYN-ACK's frame.
static struct frame *
synack_from(struct hostnic *eth0, uint sport, uint seq)
{
  uint n = host_ether(frame, our_mac, peer_mac, ETH_P_IP);
  n += host_ipv4(frame + n, PEER_IP, OUR_IP, IPPROTO_TCP, 20, 1, 0, 64);
  uchar *th = frame + n;
  memset(th, 0, 20);
  th[0] = sport >> 8; th[1] = sport; th[3] = 80;
  th[4] = seq >> 24; th[5] = seq >> 16; th[6] = seq >> 8; th[7] = seq;
  th[12] = 5 << 4;
  th[13] = TH_SYN;
  th[14] = 0x20;
  host_fixsums(frame, n + 20);
  host_receive(eth0, frame, n + 20);
  CHECK_EQ(host_nsent(eth0), 1);
  return next_sent(eth0);
}

static struct frame *
synack(struct hostnic *eth0)
{
  listen80();
  return synack_from(eth0, 40000, 0x12000034);
}

static uint
get32(const uchar *p)
{
  return (uint)get16(p) << 16 | get16(p + 2);
}

// a + b in ones' complement (end-around carry).
static uint
ones_add(uint a, uint b)
{
  return host_fold(a + b);
}

static void
test_a_tcp_segment_leaves_the_pseudo_header_sum_to_a_txcsum_card(void)
{
  struct hostnic *eth0 = boot_card(NETDEV_TXCSUM);
  struct frame *f = synack(eth0);
  uchar *ip = f->b + 14, *th = ip + 20;
  CHECK_EQ(ip[9], IPPROTO_TCP);
  CHECK_EQ(th[13], TH_SYN | TH_ACK);
  CHECK(iphdr_ok(ip));                             // IP's own sum stays in software
  CHECK_EQ(get16(th + 16), pseudo(ip));            // the card's to finish
  CHECK(!transport_ok(ip));
  // Finished as the card does (the sum over the segment, field included):
  // the checksum a software stack computes.
  uint len = get16(ip + 2) - 20;
  uint sum = ~host_fold(host_sum16(th, len, 0)) & 0xFFFF;
  th[16] = sum >> 8;
  th[17] = sum;
  CHECK(transport_ok(ip));
}

static void
test_without_the_flag_the_stack_sums_tcp_itself(void)
{
  struct hostnic *eth0 = boot_card(0);
  struct frame *f = synack(eth0);
  uchar *ip = f->b + 14;
  CHECK(iphdr_ok(ip));
  CHECK(transport_ok(ip));
}

// A TCP checksum that comes out 0 stays 0: 0xFFFF is the same number in
// ones' complement, but the sum of a segment that is not all zeros is never
// 0 before it is complemented (RFC 1624 section 3), so a checker that
// compares fields (Wireshark) calls 0xFFFF wrong. With a fixed ISS, a second
// SYN-ACK differs from the first only in its port and acknowledgment
// number: the second SYN's sequence number is chosen so that the second
// SYN-ACK's sum comes out 0.
static void
test_a_tcp_sum_of_zero_goes_out_as_zero(void)
{
  struct hostnic *eth0 = boot_card(0);
  listen80();
  struct frame *f = synack_from(eth0, 40000, 0x12000034);
  static uchar ip[64];
  uint len = 20 + (f->b[14 + 20 + 12] >> 4) * 4;
  CHECK(len <= sizeof ip);
  memmove(ip, f->b + 14, len);
  uchar *th = ip + 20;
  th[2] = 40001 >> 8; th[3] = 40001 & 255;   // its destination port
  th[16] = th[17] = 0;
  uint sum = host_fold(host_sum16(th, len - 20, pseudo(ip)));
  uint ack = get32(th + 8), low = ones_add(ack & 0xFFFF, ~sum & 0xFFFF);
  uint ack0 = (ack & 0xFFFF0000) | low;   // adds what the sum lacks
  f = synack_from(eth0, 40001, ack0 - 1);
  uchar *ip0 = f->b + 14;
  CHECK_EQ(get32(ip0 + 20 + 8), ack0);
  CHECK(transport_ok(ip0));
  CHECK_EQ(get16(ip0 + 20 + 16), 0);
}

// A datagram of len bytes from port 6000 to the peer's port 53; its first
// two data bytes are first (high byte first), the rest a pattern.
static void
send_udp_first(uint len, uint first)
{
  static char data[8000];
  for (uint i = 0; i < sizeof data; i++)
    data[i] = i * 13 + 1;
  data[0] = first >> 8;
  data[1] = first;
  struct socket *s = udp_socket(0, 6000);
  struct sockaddr_in to = sin(PEER_IP, 53);
  CHECK_EQ(sock_sendto(s, (uint)data, len, (struct sockaddr *)&to, sizeof to), (int)len);
  sock_close(s);
}

static void
send_udp(uint len)
{
  send_udp_first(len, (1 << 8) | 14);   // the pattern's own first bytes
}

// UDP's 0 means "no checksum": a sum that comes out 0 goes as 0xFFFF.
static void
test_a_udp_sum_of_zero_goes_out_as_ffff(void)
{
  struct hostnic *eth0 = boot_card(0);
  send_udp_first(100, 0);
  uint c = get16(next_sent(eth0)->b + 14 + 20 + 6);
  CHECK(c != 0);
  send_udp_first(100, c);   // the sum grows by c: 0xFFFF, complemented 0
  uchar *ip = next_sent(eth0)->b + 14;
  CHECK(transport_ok(ip));
  CHECK_EQ(get16(ip + 20 + 6), 0xFFFF);
}

static void
test_a_udp_datagram_leaves_the_pseudo_header_sum_to_a_txcsum_card(void)
{
  struct hostnic *eth0 = boot_card(NETDEV_TXCSUM);
  send_udp(100);
  CHECK_EQ(host_nsent(eth0), 1);
  struct frame *f = next_sent(eth0);
  uchar *ip = f->b + 14;
  CHECK_EQ(ip[9], IPPROTO_UDP);
  CHECK(iphdr_ok(ip));
  CHECK_EQ(get16(ip + 20 + 6), pseudo(ip));
  CHECK(host_pool_full());
}

static void
test_without_the_flag_the_stack_sums_udp_itself(void)
{
  struct hostnic *eth0 = boot_card(0);
  send_udp(100);
  struct frame *f = next_sent(eth0);
  CHECK(transport_ok(f->b + 14));
  CHECK(get16(f->b + 14 + 20 + 6) != 0);          // 0 would mean "no checksum"
}

// No card can sum a datagram it sees in pieces: IP finishes the checksum
// before it fragments, whatever the card says.
static void
test_a_fragmented_datagram_is_summed_before_it_is_cut(void)
{
  struct hostnic *eth0 = boot_card(NETDEV_TXCSUM);
  send_udp(3000);
  CHECK_EQ(host_nsent(eth0), 3);
  static uchar whole[4000];
  uint total = 0;
  for (int i = 0; i < 3; i++) {
    struct frame *f = next_sent(eth0);
    uchar *ip = f->b + 14;
    uint off = (get16(ip + 6) & 0x1FFF) * 8, n = get16(ip + 2) - 20;
    CHECK(iphdr_ok(ip));
    CHECK(off + n <= sizeof whole);
    if (i == 0)
      memmove(whole, ip, 20);
    memmove(whole + 20 + off, ip + 20, n);
    total += n;
  }
  CHECK_EQ(total, 8 + 3000);
  whole[2] = (20 + total) >> 8;
  whole[3] = (20 + total) & 255;
  CHECK(transport_ok(whole));
  CHECK(host_pool_full());
}

// To our own address the route is lo, which has no flag: the datagram must
// arrive with a finished checksum, or udp_input drops it.
static void
test_loopback_finishes_the_sum_whatever_eth0_says(void)
{
  boot_card(NETDEV_TXCSUM);
  struct socket *r = udp_socket(OUR_IP, 7000), *s = udp_socket(0, 0);
  struct sockaddr_in at = sin(OUR_IP, 7000);
  CHECK_EQ(sock_sendto(s, (uint)"loop", 4, (struct sockaddr *)&at, sizeof at), 4);
  host_netrx();
  char buf[16];
  CHECK_EQ(sock_recvfrom(r, (uint)buf, sizeof buf, MSG_DONTWAIT, 0, 0), 4);
  CHECK_MEM(buf, "loop", 4);
  CHECK_EQ(stats().udp_rx_badsum, 0);
  sock_close(r);
  sock_close(s);
  CHECK(host_pool_full());
}

// A packet socket watching outgoing frames sees the sum finished, as a
// capture on the wire would, while the card still gets it partial.
static void
test_a_packet_socket_sees_the_finished_sum(void)
{
  struct hostnic *eth0 = boot_card(NETDEV_TXCSUM);
  struct socket *p = 0;
  CHECK_EQ(sock_create(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), &p), 0);
  send_udp(100);
  uchar buf[256];
  int n = sock_recvfrom(p, (uint)buf, sizeof buf, MSG_DONTWAIT, 0, 0);
  CHECK_EQ(n, 14 + 20 + 8 + 100);
  CHECK(transport_ok(buf + 14));
  struct frame *f = next_sent(eth0);
  CHECK_EQ(get16(f->b + 14 + 20 + 6), pseudo(f->b + 14));
  sock_close(p);
  CHECK(host_pool_full());
}

// ---- segmentation offload ----

#define ISS 1000u
#define PISS 5000u

// A TCP segment from the peer (10.0.0.1:40000) to our port 80.
static void
peer_seg(struct hostnic *eth0, uint seq, uint ack, int flags, const uchar *opts, uint optlen)
{
  uint n = host_ether(frame, our_mac, peer_mac, ETH_P_IP);
  n += host_ipv4(frame + n, PEER_IP, OUR_IP, IPPROTO_TCP, 20 + optlen, 1, 0, 64);
  uchar *th = frame + n;
  memset(th, 0, 20);
  th[0] = 40000 >> 8; th[1] = 40000 & 255; th[3] = 80;
  th[4] = seq >> 24; th[5] = seq >> 16; th[6] = seq >> 8; th[7] = seq;
  th[8] = ack >> 24; th[9] = ack >> 16; th[10] = ack >> 8; th[11] = ack;
  th[12] = ((20 + optlen) / 4) << 4;
  th[13] = flags;
  th[14] = 0xFF; th[15] = 0xFF;
  if (optlen)
    memmove(th + 20, opts, optlen);
  host_fixsums(frame, n + 20 + optlen);
  host_receive(eth0, frame, n + 20 + optlen);
}

// The peer connects (MSS 1460, no window scaling): the accepted socket.
static struct socket *
connected(struct hostnic *eth0)
{
  static const uchar mss[4] = { 2, 4, 0x05, 0xB4 };
  struct socket *ls = 0, *c = 0;
  CHECK_EQ(sock_create(AF_INET, SOCK_STREAM, 0, &ls), 0);
  struct sockaddr_in a = sin(0, 80);
  CHECK_EQ(sock_bind(ls, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_EQ(sock_listen(ls, 4), 0);
  peer_seg(eth0, PISS, 0, TH_SYN, mss, 4);
  host_sent_clear(eth0);
  peer_seg(eth0, PISS + 1, ISS + 1, TH_ACK, 0, 0);
  ls->nonblock = 1;
  CHECK_EQ(sock_accept(ls, &c, 0, 0), 0);
  return c;
}

static void
put16(uchar *p, uint v)
{
  p[0] = v >> 8;
  p[1] = v;
}

// Cut a frame as the 82540EM does (manual 3.5; QEMU's e1000 xmit_seg):
// the headers again before each MSS of payload, the IPv4 length and
// identification, the TCP sequence and flags made right per piece, the
// piece's length added to the pseudo-header sum the stack left in the
// field, then both checksums summed over each piece. Checks each piece's
// checksums with the test's own sums; returns how many pieces, or -1.
static int
cut(const uchar *f, uint len, uint mss, uint firstseq, const uchar *data)
{
  const uchar *ip = f + 14, *th = ip + 20;
  uint hdr = 14 + 20 + (th[12] >> 4) * 4, paylen = len - hdr, n = 0;
  for (uint off = 0; off < paylen; off += mss, n++) {
    static uchar piece[2048];
    uint plen = MIN(mss, paylen - off);
    memmove(piece, f, hdr);
    memmove(piece + hdr, f + hdr + off, plen);
    uchar *pip = piece + 14, *pth = pip + 20;
    put16(pip + 2, hdr - 14 + plen);
    put16(pip + 4, get16(ip + 4) + n);
    uint seq = get32(th + 4) + off;
    pth[4] = seq >> 24; pth[5] = seq >> 16; pth[6] = seq >> 8; pth[7] = seq;
    if (off + plen < paylen)
      pth[13] &= ~(TH_FIN | TH_PSH);
    put16(pth + 16, host_fold(get16(pth + 16) + hdr - 34 + plen));
    put16(pth + 16, ~host_fold(host_sum16(pth, hdr - 34 + plen, 0)) & 0xFFFF);
    put16(pip + 10, ~host_fold(host_sum16(pip, 20, 0)) & 0xFFFF);
    if (!iphdr_ok(pip) || !transport_ok(pip) || seq != firstseq + off ||
        memcmp(pth + (hdr - 34), data + off, plen) != 0)
      return -1;
  }
  return n;
}

static void
test_a_tso_card_gets_whole_segments_in_one_frame_that_cut_right(void)
{
  struct hostnic *eth0 = boot_card(NETDEV_TXCSUM | NETDEV_TSO);
  struct socket *c = connected(eth0);
  struct socket *p = 0;
  CHECK_EQ(sock_create(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), &p), 0);
  static uchar data[20000];
  for (uint i = 0; i < sizeof data; i++)
    data[i] = i * 7 + i / 251;
  uint before = stats().tcp_outsegs;
  CHECK_EQ(sock_sendto(c, (uint)data, sizeof data, 0, 0), (int)sizeof data);
  // A packet socket's copy: the one large segment, its TCP sum finished
  // over all of it (the IPv4 header's is the card's to make).
  static uchar copy[8000];
  CHECK_EQ(sock_recvfrom(p, (uint)copy, sizeof copy, MSG_DONTWAIT, 0, 0), 14 + 40 + 3 * 1460);
  CHECK(transport_ok(copy + 14));
  sock_close(p);
  // The initial window (RFC 5681: 4380 bytes, three segments) in one frame.
  CHECK_EQ(host_nsent(eth0), 1);
  CHECK_EQ(host_sent_tsomss(eth0), 1460);
  struct frame *f = next_sent(eth0);
  uchar *ip = f->b + 14;
  CHECK_EQ(f->len, 14 + 20 + 20 + 3 * 1460);
  CHECK_EQ(get16(ip + 2), 20 + 20 + 3 * 1460);
  CHECK_EQ(get16(ip + 10), 0);                     // the card sums each header
  CHECK_EQ(get16(ip + 20 + 16), host_fold(host_sum16(ip + 12, 8, 0) + IPPROTO_TCP));   // no length
  CHECK_EQ(cut(f->b, f->len, 1460, ISS + 1, data), 3);
  CHECK_EQ(stats().tcp_outsegs - before, 3);      // counted as they go on the wire
  // All acked: slow start opens the window by an MSS, four in the next frame.
  peer_seg(eth0, PISS + 1, ISS + 1 + 3 * 1460, TH_ACK, 0, 0);
  CHECK_EQ(host_nsent(eth0), 1);
  CHECK_EQ(host_sent_tsomss(eth0), 1460);
  f = next_sent(eth0);
  CHECK_EQ(cut(f->b, f->len, 1460, ISS + 1 + 3 * 1460, data + 3 * 1460), 4);
  sock_close(c);
}

// 20,000 bytes sent on a new connection: what the first window lets out
// leaves as three frames of one MSS each, none marked for segmentation.
static void
sends_mss_segments(struct hostnic *eth0)
{
  struct socket *c = connected(eth0);
  static uchar data[20000];
  CHECK_EQ(sock_sendto(c, (uint)data, sizeof data, 0, 0), (int)sizeof data);
  CHECK_EQ(host_nsent(eth0), 3);
  while (host_nsent(eth0)) {
    CHECK_EQ(host_sent_tsomss(eth0), 0);
    CHECK_EQ(next_sent(eth0)->len, 14 + 20 + 20 + 1460);
  }
  sock_close(c);
}

static void
test_without_tso_every_segment_is_at_most_an_mss(void)
{
  struct hostnic *eth0 = boot_card(NETDEV_TXCSUM);
  sends_mss_segments(eth0);
}

// net.ipv4.tcp_tso=0: the card still could, the stack does not ask it.
static void
test_the_sysctl_turns_segmentation_offload_off(void)
{
  struct hostnic *eth0 = boot_card(NETDEV_TXCSUM | NETDEV_TSO);
  CHECK_EQ(sysctl_set("net.ipv4.tcp_tso", 0), 0);
  sends_mss_segments(eth0);
}

// ---- receive: checksums a card vouched for (virtio-net's GUEST_CSUM) ----

// A UDP datagram "hello" from the peer to port 7777 whose checksum field
// holds sum16 (network order).
static uint
udp_with_sum(ushort sum16)
{
  uint len = host_udp_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 5000, 7777, "hello", 5);
  frame[14 + 20 + 6] = sum16 >> 8;
  frame[14 + 20 + 7] = sum16;
  return len;
}

static int
datagrams(struct socket *s)
{
  char buf[16];
  int n = 0;
  while (sock_recvfrom(s, (uint)buf, sizeof buf, MSG_DONTWAIT, 0, 0) == 5)
    n++;
  return n;
}

static void
test_a_checksum_the_card_vouched_for_is_not_checked_again(void)
{
  struct hostnic *nic = boot_resolved("");
  struct socket *s = udp_socket(0, 7777);
  uint len = udp_with_sum(0x1234);   // wrong
  uint sum = get16(frame + 14 + 20 + 6);
  CHECK_EQ(sum, 0x1234);
  host_receive(nic, frame, len);
  CHECK_EQ(datagrams(s), 0);                       // checked, and dropped
  host_receive_vouched(nic, frame, len, HOST_CSUM_VALID);
  CHECK_EQ(datagrams(s), 1);                       // the card said it was right
  // NEEDS_CSUM: the field holds the pseudo-header sum, the rest never added.
  len = udp_with_sum(pseudo(frame + 14));
  CHECK(!transport_ok(frame + 14));
  host_receive(nic, frame, len);
  CHECK_EQ(datagrams(s), 0);
  host_receive_vouched(nic, frame, len, HOST_CSUM_PARTIAL);
  CHECK_EQ(datagrams(s), 1);
  sock_close(s);
  CHECK(host_pool_full());
}

static void
test_a_tcp_segment_the_card_vouched_for_is_answered(void)
{
  struct hostnic *eth0 = boot_card(0);
  listen80();
  uint n = host_ether(frame, our_mac, peer_mac, ETH_P_IP);
  n += host_ipv4(frame + n, PEER_IP, OUR_IP, IPPROTO_TCP, 20, 1, 0, 64);
  uchar *th = frame + n;
  memset(th, 0, 20);
  th[0] = 40000 >> 8; th[1] = 40000 & 255; th[3] = 80;
  th[7] = 1;
  th[12] = 5 << 4;
  th[13] = TH_SYN;
  th[14] = 0x20;
  host_fixsums(frame, n + 20);
  uint good = get16(th + 16);
  th[16] ^= 0x55;                                  // a wrong checksum
  host_receive(eth0, frame, n + 20);
  CHECK_EQ(host_nsent(eth0), 0);                   // dropped as bad
  host_receive_vouched(eth0, frame, n + 20, HOST_CSUM_VALID);
  CHECK_EQ(host_nsent(eth0), 1);                   // taken: the SYN-ACK
  CHECK_EQ(next_sent(eth0)->b[14 + 20 + 13], TH_SYN | TH_ACK);
  CHECK(good != get16(th + 16));
}

static const struct test tests[] = {
  TEST(test_a_tcp_segment_leaves_the_pseudo_header_sum_to_a_txcsum_card),
  TEST(test_without_the_flag_the_stack_sums_tcp_itself),
  TEST(test_a_tcp_sum_of_zero_goes_out_as_zero),
  TEST(test_a_udp_sum_of_zero_goes_out_as_ffff),
  TEST(test_a_udp_datagram_leaves_the_pseudo_header_sum_to_a_txcsum_card),
  TEST(test_without_the_flag_the_stack_sums_udp_itself),
  TEST(test_a_fragmented_datagram_is_summed_before_it_is_cut),
  TEST(test_loopback_finishes_the_sum_whatever_eth0_says),
  TEST(test_a_packet_socket_sees_the_finished_sum),
  TEST(test_a_tso_card_gets_whole_segments_in_one_frame_that_cut_right),
  TEST(test_without_tso_every_segment_is_at_most_an_mss),
  TEST(test_the_sysctl_turns_segmentation_offload_off),
  TEST(test_a_checksum_the_card_vouched_for_is_not_checked_again),
  TEST(test_a_tcp_segment_the_card_vouched_for_is_answered),
};

int
main(void)
{
  return run_tests(tests, NELEM(tests), 1);
}
