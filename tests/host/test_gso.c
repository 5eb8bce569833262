// Received super-segments (kernel/net/gso.c): a TCP/IPv4 frame that the card
// took in several buffers uncut (virtio-net's GUEST_TSO4 with mergeable
// buffers) becomes standalone segments. For us, each buffer one segment in
// place, linked as a train behind the first (or as a list of frames while a
// packet socket watches); for another host, segments of the sender's MSS in
// new buffers.
// Every segment is checked as a receiver would: the IPv4 header's sum, its
// lengths, the sequence numbers, FIN and PSH only at the end, the payload
// in order, and the TCP checksum once finished (it is left partial, as the
// card vouched for it).

#include "tests/host/fixture.h"

#define FAR_IP host_ip(10, 0, 1, 5)
#define SEQ0   0xFFFFF000u       // the payload crosses the sequence wraparound
#define HLEN   (14 + 20 + 32)    // Ethernet, IPv4, TCP with timestamps
#define MSS    1448

static uchar frame[70000];
static struct pbuf *pieces[64];

// The uncut frame: HLEN bytes of headers, then paylen payload bytes (byte i
// is i mod 251), flags as given; returns its length.
static uint
superframe(uint dst, uint paylen, int flags)
{
  uint n = host_ether(frame, our_mac, peer_mac, ETH_P_IP);
  n += host_ipv4(frame + n, PEER_IP, dst, IPPROTO_TCP, 32 + paylen, 0x4000, 0x4000, 64);
  uchar *th = frame + n;
  memset(th, 0, 32);
  th[0] = 0x13; th[1] = 0x89;   // 5001 -> 40000
  th[2] = 0x9c; th[3] = 0x40;
  uint seq = SEQ0;
  th[4] = seq >> 24; th[5] = (seq >> 16) & 255; th[6] = (seq >> 8) & 255; th[7] = seq & 255;
  th[11] = 1;
  th[12] = 8 << 4;
  th[13] = flags;
  th[14] = 0x10;
  th[20] = 1; th[21] = 1; th[22] = 8; th[23] = 10;   // NOP NOP timestamps
  for (uint i = 0; i < paylen; i++)
    th[32 + i] = i % 251;
  return n + 32 + paylen;
}

// The frame as the card left it: the first buffer holds first bytes, the
// others up to each bytes, each after GSO_MAXHDR bytes of headroom.
static int
inbuffers(uint len, uint first, uint each)
{
  int n = 0;
  for (uint off = 0; off < len; n++) {
    uint take = n == 0 ? first : each;
    take = take < len - off ? take : len - off;
    struct pbuf *pb = pbuf_alloc_rx();
    CHECK(pb != 0);
    pb->rp = pb->wp = pb->base + GSO_MAXHDR;
    memmove(pbuf_put(pb, take), frame + off, take);
    pieces[n] = pb;
    off += take;
  }
  return n;
}

static int
count(struct pbuf *list)
{
  int n = 0;
  for (; list; list = list->next)
    n++;
  return n;
}

// Check one segment made from the frame; returns its payload length. off:
// where its payload should start; last: whether it ends the frame.
static uint
check_segment(struct pbuf *pb, uint off, int last, int flags)
{
  uchar *f = pb->rp, *ip = f + 14, *th = ip + 20;
  uint len = pbuf_len(pb), paylen = len - HLEN;
  CHECK_MEM(f, frame, 14);
  CHECK_EQ(get16(ip + 2), len - 14);
  CHECK_EQ(host_fold(host_sum16(ip, 20, 0)), 0xFFFF);        // IPv4 header sum right
  CHECK_EQ(((uint)get16(th + 4) << 16 | get16(th + 6)), SEQ0 + off);
  CHECK_EQ(th[13], last ? flags : flags & ~(0x01 | 0x08));   // FIN, PSH at the end only
  CHECK_MEM(th + 20, frame + 14 + 20 + 20, 12);              // options as they came
  for (uint i = 0; i < paylen; i++) {
    if (th[32 + i] != (off + i) % 251) {
      CHECK_EQ(th[32 + i], (off + i) % 251);
      break;
    }
  }
  CHECK(pb->csumok);
  CHECK(pb->csumpartial);
  pbuf_csumfinish(pb);   // what a card does if it is forwarded
  uint pseudo = host_sum16(ip + 12, 8, 0) + IPPROTO_TCP + 32 + paylen;
  CHECK_EQ(host_fold(host_sum16(th, 32 + paylen, pseudo)), 0xFFFF);
  return paylen;
}

// The segments made in place, in order: through train (a train) or next
// (a list of frames).
static void
check_inplace(struct pbuf *list, struct pbuf **keep, int n, int flags, int train)
{
  uint off = 0;
  int k = 0;
  for (struct pbuf *pb = list; pb; pb = train ? pb->train : pb->next, k++) {
    CHECK(pb == keep[k]);                                  // no copy: the same buffers
    CHECK(train ? pb->next == 0 : pb->train == 0);
    off += check_segment(pb, off, k == n - 1, flags);
  }
  CHECK_EQ(k, n);
  CHECK_EQ(off, 20000);
}

// 20,000 bytes for us in buffers of 1,912 (the first 1,900), cut: the
// buffers in keep[], their number in *n.
static struct pbuf *
split_for_us(int flags, struct pbuf **keep, int *n)
{
  uint len = superframe(OUR_IP, 20000, flags);
  *n = inbuffers(len, 1900, 1912);
  memmove(keep, pieces, *n * sizeof pieces[0]);
  struct rxdrops drops = { 0, 0, 0 };
  struct pbuf *list = gso_rxsplit(pieces, *n, MSS, &drops);
  CHECK_EQ(drops.errors + drops.nobuf, 0);
  return list;
}

static void
test_for_us_each_buffer_becomes_a_segment_in_place(void)
{
  boot_eth0("");
  int flags = 0x10 | 0x08 | 0x01;   // ACK PSH FIN
  struct pbuf *keep[64];
  int n;
  struct pbuf *list = split_for_us(flags, keep, &n);
  CHECK_EQ(count(list), 1);   // one frame pulling the others: a train
  check_inplace(list, keep, n, flags, 1);
  pbuf_free(list);            // frees the whole train
  CHECK(host_pool_full());
}

// While a packet socket watches (as tcpdump would), each segment goes up as
// a frame of its own, so that it sees every one.
static void
test_a_packet_socket_gets_frames_not_a_train(void)
{
  boot_eth0("");
  struct socket *p = 0;
  CHECK_EQ(sock_create(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), &p), 0);
  int flags = 0x10 | 0x08;
  struct pbuf *keep[64];
  int n;
  struct pbuf *list = split_for_us(flags, keep, &n);
  CHECK_EQ(count(list), n);
  check_inplace(list, keep, n, flags, 0);
  pbuf_free_list(list);
  sock_close(p);
  CHECK(host_pool_full());
}

static void
test_for_another_host_segments_of_the_mss_are_copied(void)
{
  boot_eth0("");
  int flags = 0x10 | 0x08;
  uint len = superframe(FAR_IP, 10000, flags);
  int n = inbuffers(len, 1900, 1912);
  struct rxdrops drops = { 0, 0, 0 };
  struct pbuf *list = gso_rxsplit(pieces, n, MSS, &drops);
  CHECK_EQ(count(list), (10000 + MSS - 1) / MSS);
  uint off = 0;
  for (struct pbuf *pb = list; pb; pb = pb->next) {
    uint got = check_segment(pb, off, pb->next == 0, flags);
    CHECK(got == MSS || pb->next == 0);
    off += got;
  }
  CHECK_EQ(off, 10000);
  pbuf_free_list(list);
  CHECK(host_pool_full());
}

static void
test_a_frame_that_cannot_be_cut_is_dropped_and_counted(void)
{
  boot_eth0("");
  struct rxdrops drops = { 0, 0, 0 };
  // The IPv4 length says more than the buffers hold.
  uint len = superframe(OUR_IP, 5000, 0x10);
  int n = inbuffers(len - 100, 1900, 1912);
  CHECK(gso_rxsplit(pieces, n, MSS, &drops) == 0);
  CHECK_EQ(drops.errors, 1);
  // Not TCP.
  len = superframe(OUR_IP, 5000, 0x10);
  frame[14 + 9] = IPPROTO_UDP;
  n = inbuffers(len, 1900, 1912);
  CHECK(gso_rxsplit(pieces, n, MSS, &drops) == 0);
  CHECK_EQ(drops.errors, 2);
  // Headers longer than the first buffer.
  len = superframe(OUR_IP, 5000, 0x10);
  n = inbuffers(len, 40, 1912);
  CHECK(gso_rxsplit(pieces, n, MSS, &drops) == 0);
  CHECK_EQ(drops.errors, 3);
  // A later buffer without room for the headers.
  n = inbuffers(len, 1900, 1912);
  pieces[1]->rp -= GSO_MAXHDR - 10;
  memmove(pieces[1]->rp, pieces[1]->rp + GSO_MAXHDR - 10, pbuf_len(pieces[1]) - (GSO_MAXHDR - 10));
  pieces[1]->wp -= GSO_MAXHDR - 10;
  CHECK(gso_rxsplit(pieces, n, MSS, &drops) == 0);
  CHECK_EQ(drops.errors, 4);
  CHECK(host_pool_full());
}

static const struct test tests[] = {
  TEST(test_for_us_each_buffer_becomes_a_segment_in_place),
  TEST(test_a_packet_socket_gets_frames_not_a_train),
  TEST(test_for_another_host_segments_of_the_mss_are_copied),
  TEST(test_a_frame_that_cannot_be_cut_is_dropped_and_counted),
};

int
main(void)
{
  return run_tests(tests, NELEM(tests), 1);
}
