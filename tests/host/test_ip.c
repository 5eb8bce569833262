// IPv4 on the host: header checks, echo replies byte for byte, reassembly
// with its timeout and its refusals, fragmentation on output
// (kernel/net/ip.c, icmp.c; RFC 791, 792, 1122).

#include "tests/host/fixture.h"

static uchar frame[PBUF_BIGSIZE];

static void
test_an_echo_request_gets_the_exact_reply(void)
{
  struct hostnic *eth0 = boot_resolved("");
  uint len = host_ping_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 0x1234, 7, 56);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth0), 1);
  struct frame *r = next_sent(eth0);
  CHECK_EQ(r->len, len);
  CHECK_MEM(r->b, peer_mac, 6);
  CHECK_MEM(r->b + 6, our_mac, 6);
  const uchar *ip = r->b + 14, *ic = ip + 20;
  CHECK_EQ(ip[0], 0x45);
  CHECK_EQ(get16(ip + 2), 20 + 8 + 56);
  CHECK_EQ(ip[9], IPPROTO_ICMP);
  CHECK_EQ(get32addr(ip + 12), OUR_IP);
  CHECK_EQ(get32addr(ip + 16), PEER_IP);
  CHECK_EQ(ic[0], 0);                              // echo reply
  CHECK_EQ(get16(ic + 4), 0x1234);
  CHECK_EQ(get16(ic + 6), 7);
  CHECK_MEM(ic + 8, frame + 14 + 20 + 8, 56);      // the data comes back unchanged
  uchar copy[2048];
  memmove(copy, r->b, r->len);
  host_fixsums(copy, r->len);                      // recomputed sums equal the stack's
  CHECK_MEM(copy, r->b, r->len);
  CHECK(host_pool_full());
}

static void
test_bad_headers_are_dropped_and_counted(void)
{
  struct hostnic *eth0 = boot_resolved("");
  uint len = host_ping_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 1, 1, 8);
  struct { int offset; uchar value; } cases[] = {
    { 14 + 0, 0x65 },     // version 6
    { 14 + 0, 0x44 },     // header of 16 bytes
    { 14 + 2, 0xff },     // total length past the frame
    { 14 + 10, 0x00 },    // checksum wrong (unless it was 0x00 already)
  };
  for (uint i = 0; i < NELEM(cases); i++) {
    uchar bad[128];
    memmove(bad, frame, len);
    bad[cases[i].offset] = cases[i].value;
    if (cases[i].offset == 14 + 10 && frame[14 + 10] == 0)
      bad[cases[i].offset] = 0x55;
    host_receive(eth0, bad, len);
  }
  struct netstat_info st = stats();
  CHECK_EQ(st.ip_rx_hdrerrors, 3);
  CHECK_EQ(st.ip_rx_badsum, 1);
  CHECK_EQ(host_nsent(eth0), 0);
  CHECK(host_pool_full());
}

static void
test_other_hosts_and_martian_sources_are_dropped(void)
{
  struct hostnic *eth0 = boot_resolved("");
  uint len = host_ping_frame(frame, our_mac, peer_mac, PEER_IP, OTHER_IP, 1, 1, 8);
  host_receive(eth0, frame, len);
  len = host_ping_frame(frame, our_mac, peer_mac, host_ip(224, 0, 0, 1), OUR_IP, 1, 1, 8);
  host_receive(eth0, frame, len);
  len = host_ping_frame(frame, our_mac, peer_mac, host_ip(10, 0, 0, 255), OUR_IP, 1, 1, 8);
  host_receive(eth0, frame, len);
  struct netstat_info st = stats();
  CHECK_EQ(st.ip_rx_notforus, 1);
  CHECK_EQ(st.ip_rx_addrerrors, 2);
  CHECK_EQ(host_nsent(eth0), 0);
  CHECK(host_pool_full());
}

// An echo request of datalen bytes cut into fragments of fragsize payload
// bytes, delivered in the order given by order[] (indexes of fragments).
static uint
fragments(uchar frames[][1600], uint lens[], uint datalen, uint fragsize, ushort id)
{
  uchar whole[PBUF_BIGSIZE];
  uint total = host_ping_frame(whole, our_mac, peer_mac, PEER_IP, OUR_IP, 9, 9, datalen);
  const uchar *payload = whole + 14 + 20;
  uint plen = total - 14 - 20, n = 0;
  for (uint off = 0; off < plen; off += fragsize, n++) {
    uint chunk = plen - off < fragsize ? plen - off : fragsize;
    uint more = off + chunk < plen ? 0x2000 : 0;
    uint l = host_ether(frames[n], our_mac, peer_mac, ETH_P_IP);
    l += host_ipv4(frames[n] + l, PEER_IP, OUR_IP, IPPROTO_ICMP, chunk, id, more | off / 8, 64);
    memmove(frames[n] + l, payload + off, chunk);
    lens[n] = l + chunk;
  }
  return n;
}

static void
test_fragments_in_any_order_are_reassembled(void)
{
  struct hostnic *eth0 = boot_resolved("");
  static uchar frames[8][1600];
  uint lens[8];
  uint n = fragments(frames, lens, 3000, 1000, 77);
  CHECK_EQ(n, 4);
  int order[] = { 2, 0, 3, 1 };
  for (uint i = 0; i < n; i++) {
    CHECK_EQ(host_nsent(eth0), 0);                 // nothing until the last piece
    host_receive(eth0, frames[order[i]], lens[order[i]]);
  }
  struct netstat_info st = stats();
  CHECK_EQ(st.ip_reasm_reqds, 4);
  CHECK_EQ(st.ip_reasm_oks, 1);
  CHECK_EQ(st.icmp_rx_echo, 1);
  CHECK(host_nsent(eth0) >= 3);                    // the reply, fragmented in turn
  CHECK_EQ(st.ip_frag_created, host_nsent(eth0));
  CHECK(host_pool_full());
}

static void
test_an_incomplete_datagram_times_out(void)
{
  struct hostnic *eth0 = boot_resolved("ip.reasmtime=3");
  static uchar frames[8][1600];
  uint lens[8];
  fragments(frames, lens, 3000, 1000, 78);
  host_receive(eth0, frames[0], lens[0]);
  host_receive(eth0, frames[1], lens[1]);
  CHECK(!host_pool_full());                        // a buffer holds the pieces
  host_advance(3 * HZ - 1);
  CHECK_EQ(stats().ip_reasm_timeouts, 0);
  host_advance(1);
  struct netstat_info st = stats();
  CHECK_EQ(st.ip_reasm_timeouts, 1);
  CHECK_EQ(st.ip_reasm_oks, 0);
  CHECK(host_pool_full());
  host_receive(eth0, frames[2], lens[2]);          // late pieces start a new, doomed datagram
  host_receive(eth0, frames[3], lens[3]);
  CHECK_EQ(stats().ip_reasm_oks, 0);
  host_advance(3 * HZ);
  CHECK(host_pool_full());
}

static void
test_an_overlapping_fragment_ends_the_datagram(void)
{
  struct hostnic *eth0 = boot_resolved("");
  static uchar frames[8][1600];
  uint lens[8];
  fragments(frames, lens, 3000, 1000, 79);
  host_receive(eth0, frames[0], lens[0]);
  // The second fragment again, but starting 8 bytes early.
  uchar *ip = frames[1] + 14;
  uint off = (get16(ip + 6) & 0x1FFF) - 1;
  ip[6] = 0x20 | off >> 8;
  ip[7] = off;
  host_fixsums(frames[1], lens[1]);
  host_receive(eth0, frames[1], lens[1]);
  host_receive(eth0, frames[2], lens[2]);
  host_receive(eth0, frames[3], lens[3]);
  struct netstat_info st = stats();
  CHECK_EQ(st.ip_reasm_oks, 0);
  CHECK(st.ip_reasm_fails >= 1);
  host_advance(60 * HZ);
  CHECK(host_pool_full());
  (void)eth0;
}

static void
test_a_fragment_flood_never_exhausts_the_pool(void)
{
  struct hostnic *eth0 = boot_resolved("ip.reasmtime=2");
  static uchar frames[8][1600];
  uint lens[8];
  for (int id = 0; id < 200; id++) {
    fragments(frames, lens, 3000, 1000, 1000 + id);
    host_receive(eth0, frames[0], lens[0]);        // first pieces only, never completed
  }
  CHECK(pbuf_free_count(PBUF_SIZE) > pbuf_total_count(PBUF_SIZE) / 2);
  host_advance(3 * HZ);
  CHECK(host_pool_full());
  // A complete datagram still gets through afterwards.
  uint n = fragments(frames, lens, 3000, 1000, 5);
  for (uint i = 0; i < n; i++)
    host_receive(eth0, frames[i], lens[i]);
  CHECK_EQ(stats().icmp_rx_echo, 1);
}

static void
test_output_larger_than_the_mtu_is_fragmented(void)
{
  struct hostnic *eth0 = boot_resolved("");
  uint size = 4000;
  struct pbuf *pb = pbuf_alloc_len(size);
  memset(pbuf_put(pb, size), 0xab, size);
  CHECK_EQ(ip_output(pb, IPPROTO_UDP, 0, PEER_IP, 64), 0);
  CHECK_EQ(host_nsent(eth0), 3);
  uint seen = 0, id = 0;
  for (int i = 0; i < 3; i++) {
    struct frame *f = next_sent(eth0);
    const uchar *ip = f->b + 14;
    uint flags = get16(ip + 6), len = get16(ip + 2);
    CHECK(len <= 1500);
    CHECK_EQ((flags & 0x1FFF) * 8, seen);          // contiguous, in order
    CHECK_EQ(!!(flags & 0x2000), i < 2);           // MF on all but the last
    if (i == 0)
      id = get16(ip + 4);
    CHECK_EQ(get16(ip + 4), id);                   // one id for all
    seen += len - 20;
  }
  CHECK_EQ(seen, size);
  CHECK(host_pool_full());
}

static const struct test tests[] = {
  TEST(test_an_echo_request_gets_the_exact_reply),
  TEST(test_bad_headers_are_dropped_and_counted),
  TEST(test_other_hosts_and_martian_sources_are_dropped),
  TEST(test_fragments_in_any_order_are_reassembled),
  TEST(test_an_incomplete_datagram_times_out),
  TEST(test_an_overlapping_fragment_ends_the_datagram),
  TEST(test_a_fragment_flood_never_exhausts_the_pool),
  TEST(test_output_larger_than_the_mtu_is_fragmented),
};

int
main(void)
{
  return run_tests(tests, NELEM(tests), 1);
}
