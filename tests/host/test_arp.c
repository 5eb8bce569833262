// The ARP neighbour cache on the host: frames in, exact frames out, the
// clock advanced (kernel/net/arp.c; RFC 826).

#include "tests/host/fixture.h"

static uchar frame[2048];

// An IPv4 datagram to dst through eth0, as a transport would send it.
static int
send_udp_to(uint dst, ushort dport)
{
  struct pbuf *pb = pbuf_alloc();
  uchar *p = pbuf_put(pb, 8);
  memset(p, 0, 8);
  p[2] = dport >> 8;
  p[3] = dport;
  p[5] = 8;
  return ip_output(pb, IPPROTO_UDP, 0, dst, 64);
}

static void
check_arp(const struct frame *f, int op, const uchar *ethdst, uint spa, const uchar *tha,
          uint tpa)
{
  CHECK_EQ(f->len, 60);                            // padded to the minimum
  CHECK_MEM(f->b, ethdst, 6);
  CHECK_MEM(f->b + 6, our_mac, 6);
  CHECK_EQ(get16(f->b + 12), ETH_P_ARP);
  CHECK_EQ(get16(f->b + 14), 1);                   // Ethernet
  CHECK_EQ(get16(f->b + 16), ETH_P_IP);
  CHECK_EQ(f->b[18], 6);
  CHECK_EQ(f->b[19], 4);
  CHECK_EQ(get16(f->b + 20), op);
  CHECK_MEM(f->b + 22, our_mac, 6);
  CHECK_EQ(get32addr(f->b + 28), spa);
  CHECK_MEM(f->b + 32, tha, 6);
  CHECK_EQ(get32addr(f->b + 38), tpa);
}

static void
test_a_request_for_us_is_answered_and_its_sender_learned(void)
{
  struct hostnic *eth0 = boot_eth0("");
  uint len = host_arp_frame(frame, 1, peer_mac, PEER_IP, zero_mac, OUR_IP, bcast_mac);
  CHECK_EQ(host_receive(eth0, frame, len), 0);
  CHECK_EQ(host_nsent(eth0), 1);
  check_arp(next_sent(eth0), 2, peer_mac, OUR_IP, peer_mac, PEER_IP);
  struct arpreq e = arp_entry(PEER_IP);
  CHECK_EQ(e.state, ARP_STALE);                    // learned, not confirmed (as Linux)
  CHECK_MEM(e.mac, peer_mac, 6);
  CHECK_EQ(stats().arp_requests_answered, 1);
  CHECK(host_pool_full());
}

static void
test_a_request_for_another_host_is_not_answered_nor_learned(void)
{
  struct hostnic *eth0 = boot_eth0("");
  uint len = host_arp_frame(frame, 1, peer_mac, PEER_IP, zero_mac, OTHER_IP, bcast_mac);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth0), 0);
  CHECK_EQ(arp_entry(PEER_IP).state, 0);
  CHECK_EQ(stats().arp_rx_notforus, 1);
  CHECK(host_pool_full());
}

static void
test_output_waits_for_the_reply_then_goes_to_the_right_mac(void)
{
  struct hostnic *eth0 = boot_eth0("");
  CHECK_EQ(send_udp_to(PEER_IP, 9), 0);
  CHECK_EQ(host_nsent(eth0), 1);                   // the request, not the datagram
  check_arp(next_sent(eth0), 1, bcast_mac, OUR_IP, zero_mac, PEER_IP);
  struct arpreq e = arp_entry(PEER_IP);
  CHECK_EQ(e.state, ARP_INCOMPLETE);
  CHECK_EQ(e.queued, 1);

  uint len = host_arp_frame(frame, 2, peer_mac, PEER_IP, our_mac, OUR_IP, our_mac);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth0), 1);
  struct frame *f = next_sent(eth0);
  CHECK_MEM(f->b, peer_mac, 6);
  CHECK_EQ(get16(f->b + 12), ETH_P_IP);
  CHECK_EQ(get32addr(f->b + 14 + 16), PEER_IP);
  CHECK_EQ(arp_entry(PEER_IP).state, ARP_REACHABLE);
  CHECK(host_pool_full());
}

static void
test_an_unanswered_request_is_retried_each_second_then_fails(void)
{
  struct hostnic *eth0 = boot_eth0("");
  send_udp_to(PEER_IP, 9);
  send_udp_to(PEER_IP, 10);
  CHECK_EQ(host_nsent(eth0), 1);
  host_sent_clear(eth0);
  host_advance(HZ - 1);
  CHECK_EQ(host_nsent(eth0), 0);                   // not before a second
  host_advance(1);
  CHECK_EQ(host_nsent(eth0), 1);                   // second request
  host_advance(HZ);
  CHECK_EQ(host_nsent(eth0), 2);                   // third request
  CHECK_EQ(arp_entry(PEER_IP).state, ARP_INCOMPLETE);
  host_advance(HZ);
  CHECK_EQ(host_nsent(eth0), 2);                   // no fourth: the entry failed
  CHECK_EQ(arp_entry(PEER_IP).state, 0);
  struct netstat_info st = stats();
  CHECK_EQ(st.arp_failed, 1);
  CHECK_EQ(st.arp_queue_drops, 2);
  CHECK_EQ(st.arp_requests_tx, 1 + 3);            // the gratuitous ARP at boot, then these
  CHECK(host_pool_full());
}

// The queue of an entry being resolved is bounded (RFC 1122 2.3.2.2 asks
// for at least one packet): the oldest make room, and the rest go out in
// order once the reply comes.
static void
test_a_full_queue_drops_the_oldest_then_sends_the_rest_in_order(void)
{
  struct hostnic *eth0 = boot_eth0("");
  for (int i = 0; i < 40; i++)
    CHECK_EQ(send_udp_to(PEER_IP, 100 + i), 0);
  CHECK_EQ(host_nsent(eth0), 1);                   // one request, however many wait
  CHECK_EQ(arp_entry(PEER_IP).queued, 32);
  CHECK_EQ(stats().arp_queue_drops, 8);
  host_sent_clear(eth0);
  uint len = host_arp_frame(frame, 2, peer_mac, PEER_IP, our_mac, OUR_IP, our_mac);
  host_receive(eth0, frame, len);
  CHECK_EQ(host_nsent(eth0), 32);
  for (int i = 8; i < 40 && host_nsent(eth0) > 0; i++) {
    struct frame *f = next_sent(eth0);
    CHECK_MEM(f->b, peer_mac, 6);
    CHECK_EQ(get16(f->b + 14 + 20 + 2), 100 + i);  // the newest 32, oldest first
  }
  CHECK_EQ(arp_entry(PEER_IP).queued, 0);
  CHECK(host_pool_full());
}

// Resolve the peer as output does: our request, its reply.
static void
resolve_peer(struct hostnic *eth0)
{
  send_udp_to(PEER_IP, 9);
  uint len = host_arp_frame(frame, 2, peer_mac, PEER_IP, our_mac, OUR_IP, our_mac);
  host_receive(eth0, frame, len);
  host_sent_clear(eth0);
}

static void
test_entries_go_stale_then_are_removed(void)
{
  struct hostnic *eth0 = boot_eth0("arp.reachable=2 arp.gc=5");
  resolve_peer(eth0);
  host_advance(2 * HZ);
  CHECK_EQ(arp_entry(PEER_IP).state, ARP_REACHABLE);
  host_advance(1);
  CHECK_EQ(arp_entry(PEER_IP).state, ARP_STALE);
  host_advance(3 * HZ - 1);                        // arp.gc counts from the last confirmation
  CHECK_EQ(arp_entry(PEER_IP).state, ARP_STALE);
  host_advance(1);
  CHECK_EQ(arp_entry(PEER_IP).state, 0);
}

static void
test_a_stale_entry_is_still_used(void)
{
  struct hostnic *eth0 = boot_eth0("arp.reachable=1 arp.gc=100");
  resolve_peer(eth0);
  host_advance(2 * HZ);
  CHECK_EQ(arp_entry(PEER_IP).state, ARP_STALE);
  send_udp_to(PEER_IP, 9);
  CHECK_EQ(host_nsent(eth0), 1);
  CHECK_MEM(next_sent(eth0)->b, peer_mac, 6);
}

static void
test_a_sender_claiming_our_address_is_counted_and_ignored(void)
{
  struct hostnic *eth0 = boot_eth0("");
  uint len = host_arp_frame(frame, 1, peer_mac, OUR_IP, zero_mac, OUR_IP, bcast_mac);
  host_receive(eth0, frame, len);
  CHECK_EQ(arp_entry(OUR_IP).state, 0);
  CHECK(host_pool_full());
  (void)eth0;
}

static void
test_a_permanent_entry_survives_aging_and_replies(void)
{
  struct hostnic *eth0 = boot_eth0("arp.reachable=1 arp.gc=1");
  CHECK_EQ(arp_set(host_netdev(eth0), PEER_IP, peer_mac), 0);
  uint len = host_arp_frame(frame, 2, other_mac, PEER_IP, our_mac, OUR_IP, our_mac);
  host_receive(eth0, frame, len);
  host_advance(5 * HZ);
  struct arpreq e = arp_entry(PEER_IP);
  CHECK_EQ(e.state, ARP_PERMANENT);
  CHECK_MEM(e.mac, peer_mac, 6);                   // a reply does not move it
}

static void
test_the_table_is_bounded(void)
{
  struct hostnic *eth0 = boot_eth0("");
  for (int i = 0; i < 100; i++) {
    uchar mac[6] = { 0x02, 0, 0, 0, 1, i };
    uint len = host_arp_frame(frame, 1, mac, host_ip(10, 0, 0, 100 + i), zero_mac, OUR_IP,
                              bcast_mac);
    host_receive(eth0, frame, len);
  }
  struct netstat_info st = stats();
  CHECK(st.arp_entries <= 64);
  CHECK_EQ(st.arp_entries + st.arp_evictions, 100);
  CHECK_EQ(st.arp_requests_answered, 100);
  CHECK(host_pool_full());
}

static void
test_malformed_packets_are_counted_and_freed(void)
{
  struct hostnic *eth0 = boot_eth0("");
  uint len = host_arp_frame(frame, 1, peer_mac, PEER_IP, zero_mac, OUR_IP, bcast_mac);
  frame[14 + 4] = 8;                               // hardware length 8
  host_receive(eth0, frame, len);
  host_receive(eth0, frame, 14 + 10);              // cut short
  CHECK_EQ(stats().arp_rx_bad, 2);
  CHECK_EQ(host_nsent(eth0), 0);
  CHECK(host_pool_full());
}

static const struct test tests[] = {
  TEST(test_a_request_for_us_is_answered_and_its_sender_learned),
  TEST(test_a_request_for_another_host_is_not_answered_nor_learned),
  TEST(test_output_waits_for_the_reply_then_goes_to_the_right_mac),
  TEST(test_an_unanswered_request_is_retried_each_second_then_fails),
  TEST(test_a_full_queue_drops_the_oldest_then_sends_the_rest_in_order),
  TEST(test_entries_go_stale_then_are_removed),
  TEST(test_a_stale_entry_is_still_used),
  TEST(test_a_sender_claiming_our_address_is_counted_and_ignored),
  TEST(test_a_permanent_entry_survives_aging_and_replies),
  TEST(test_the_table_is_bounded),
  TEST(test_malformed_packets_are_counted_and_freed),
};

int
main(void)
{
  return run_tests(tests, NELEM(tests), 1);
}
