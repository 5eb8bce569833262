// The packet trace on the host (kernel/net/nettrace.c): what each layer
// logs about a traced frame, the filter, the boot parameter, the bounded ring.

#include "tests/host/fixture.h"
#include "kernel/net/nettrace.h"

static uchar frame[2048];

// The trace's lines not yet taken, formatted as the kernel formats them
// (kernel/systrace.c), one per row of out; how many.
static int
take_lines(char out[][160], int max)
{
  struct nettrace_rec r[64];
  uint lost;
  int n = nettrace_take(r, MIN(max, 64), &lost);
  for (int i = 0; i < n; i++) {
    const uint *a = r[i].arg;
    snprintf(out[i], 160, r[i].fmt, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
  }
  return n;
}

static void
ping_us(struct hostnic *eth0)
{
  uint len = host_ping_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 5, 1, 56);
  host_receive(eth0, frame, len);
}

static void
test_off_nothing_is_logged(void)
{
  char lines[8][160];
  struct hostnic *eth0 = boot_resolved("");
  ping_us(eth0);
  CHECK_EQ(host_nsent(eth0), 1);
  CHECK_EQ(nettrace_mask, 0);
  CHECK_EQ(take_lines(lines, 8), 0);
}

static void
test_an_echo_request_is_traced_through_every_layer(void)
{
  char lines[16][160];
  struct hostnic *eth0 = boot_resolved("nettrace=icmp");
  CHECK_EQ(nettrace_mask, NT_ICMP);
  ping_us(eth0);
  CHECK_EQ(host_nsent(eth0), 1);
  int n = take_lines(lines, 16);
  static const char *want[] = {
    "ether_input: eth0, 98 bytes, type 0x0800 -> ip",
    "ip_input: from 10.0.0.1, for us, proto 1 -> deliver",
    "icmp_input: type 8 code 0, echo request -> reply",
    "ip_output: proto 1 to 10.0.0.1 via eth0, 84 bytes",
    "arp_output: 10.0.0.1 is known -> ether",
    "ether_output: eth0, 98 bytes, type 0x0800",
  };
  CHECK_EQ(n, NELEM(want));
  for (int i = 0; i < n && i < (int)NELEM(want); i++)
    CHECK(strcmp(lines[i], want[i]) == 0 || (printf("  line %d: %s\n", i, lines[i]), 0));
  CHECK(host_pool_full());
}

static void
test_the_filter_picks_the_frames(void)
{
  char lines[16][160];
  struct hostnic *eth0 = boot_resolved("nettrace=udp,arp");
  CHECK_EQ(take_lines(lines, 16), 1);              // our gratuitous ARP at boot
  CHECK(strcmp(lines[0], "ether_output: eth0, 60 bytes, type 0x0806") == 0);
  ping_us(eth0);                                    // ICMP: not traced
  CHECK_EQ(take_lines(lines, 16), 0);
  uint len = host_arp_frame(frame, 1, other_mac, OTHER_IP, zero_mac, OUR_IP, bcast_mac);
  host_receive(eth0, frame, len);                  // ARP: traced, in and out
  int n = take_lines(lines, 16);
  CHECK_EQ(n, 3);
  CHECK(n >= 3 && strcmp(lines[0], "ether_input: eth0, 42 bytes, type 0x0806 -> arp") == 0);
  CHECK(n >= 3 && strcmp(lines[1], "arp_input: request from 10.0.0.3 -> reply") == 0);
  CHECK(n >= 3 && strcmp(lines[2], "ether_output: eth0, 60 bytes, type 0x0806") == 0);
  len = host_udp_frame(frame, our_mac, peer_mac, PEER_IP, OUR_IP, 1234, 9, (const uchar *)"x", 1);
  host_receive(eth0, frame, len);                  // UDP to a closed port
  n = take_lines(lines, 16);
  CHECK_EQ(n, 3);
  CHECK(n >= 3 && strcmp(lines[2],
                         "udp_input: port 9 from 10.0.0.1:1234 -> no socket, port unreachable") == 0);
  CHECK_EQ(nettrace_set(0), NT_UDP | NT_ARP);      // off: nothing more
  host_receive(eth0, frame, len);
  CHECK_EQ(take_lines(lines, 16), 0);
  CHECK(host_pool_full());
}

static void
test_filters_are_parsed_and_bad_ones_refused(void)
{
  host_boot("");
  host_set_cmdline("nettrace=bogus");              // refused at boot: said, and off
  nettrace_init();
  CHECK_EQ(nettrace_mask, 0);
  CHECK(strstr(host_console(), "nettrace: bad filter 'bogus'") != 0);
  CHECK_EQ(nettrace_parse("all"), NT_ALL);
  CHECK_EQ(nettrace_parse("icmp,udp"), NT_ICMP | NT_UDP);
  CHECK_EQ(nettrace_parse("off"), 0);
  CHECK_EQ(nettrace_parse(""), -EINVAL);
  CHECK_EQ(nettrace_parse("icmp,"), -EINVAL);
  CHECK_EQ(nettrace_parse(",icmp"), -EINVAL);
  CHECK_EQ(nettrace_parse("icm"), -EINVAL);
  CHECK_EQ(nettrace_parse("icmpx"), -EINVAL);
  CHECK_EQ(nettrace_set(NT_ALL + 1), -EINVAL);
  CHECK_EQ(nettrace_set(-1), -EINVAL);
  CHECK_EQ(nettrace_mask, 0);
}

static void
test_the_ring_keeps_the_newest_and_counts_the_rest(void)
{
  struct nettrace_rec r[NETTRACE_NREC];
  uint lost;
  host_boot("nettrace");                           // bare: everything
  CHECK_EQ(nettrace_mask, NT_ALL);
  for (uint i = 0; i < NETTRACE_NREC + 100; i++)
    nettrace_log("record %d", i);
  CHECK_EQ(nettrace_take(r, NETTRACE_NREC, &lost), NETTRACE_NREC);
  CHECK_EQ(lost, 100);
  CHECK_EQ(r[0].arg[0], 100);                      // the oldest kept
  CHECK_EQ(r[NETTRACE_NREC - 1].arg[0], NETTRACE_NREC + 99);
  CHECK_EQ(nettrace_take(r, 1, &lost), 0);
  CHECK_EQ(lost, 0);
}

static const struct test tests[] = {
  TEST(test_off_nothing_is_logged),
  TEST(test_an_echo_request_is_traced_through_every_layer),
  TEST(test_the_filter_picks_the_frames),
  TEST(test_filters_are_parsed_and_bad_ones_refused),
  TEST(test_the_ring_keeps_the_newest_and_counts_the_rest),
};

int
main(void)
{
  return run_tests(tests, NELEM(tests), 1);
}
