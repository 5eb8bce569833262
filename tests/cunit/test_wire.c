// Host-compiled unit tests for kernel/net/wire.c: Ethernet and ARP building and
// parsing, destination classes, dotted quads and the Internet checksum.
//
//   gcc -Wall -Werror -I. -o build/cunit/test_wire tests/cunit/test_wire.c kernel/net/wire.c
//   build/cunit/test_wire            # prints "N passed, M failed"; exit status 1 on failure
//
// Parsers are handed heap buffers of exactly the length they are told, so a
// build with -fsanitize=address catches any read past the end.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/types.h"
#include "kernel/net/wire.h"
#include "tests/host/check.h"

// A heap copy of exactly n bytes (see the comment at the top); free with free().
static uchar *
exact(const void *data, size_t n)
{
  uchar *p = malloc(n ? n : 1);
  if (p == 0) {
    perror("malloc");
    exit(2);
  }
  memcpy(p, data, n);
  return p;
}

// ---- test data ------------------------------------------------------------------------

static const uchar guest_mac[6] = { 0x52, 0x54, 0x76, 0x36, 0x00, 0x02 };
static const uchar peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uchar bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uchar zero6[6] = { 0 };
static const uchar ip_guest[4] = { 10, 0, 0, 2 };
static const uchar ip_peer[4] = { 10, 0, 0, 1 };

// The guest's gratuitous ARP as QEMU delivered it (captured by a WirePeer).
static const uchar garp_frame[60] = {
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x76, 0x36, 0x00, 0x02, 0x08, 0x06,
  0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
  0x52, 0x54, 0x76, 0x36, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x02,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
};

// An ARP reply "10.0.0.1 is at 02:00:00:00:00:01" to the guest, as Linux sends it.
static const uchar reply_body[28] = {
  0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
  0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,
  0x52, 0x54, 0x76, 0x36, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x02,
};

static uint
addr(const uchar bytes[4])   // an address as wire.c keeps it: network order in memory
{
  uint a;
  memcpy(&a, bytes, 4);
  return a;
}

// ---- byte order -----------------------------------------------------------------------

static void
test_byte_order(void)
{
  CHECK_EQ(wire_htons(0x1234), 0x3412);
  CHECK_EQ(wire_htons(wire_htons(0xabcd)), 0xabcd);
  CHECK_EQ(wire_htonl(0x12345678), 0x78563412);
  CHECK_EQ(wire_htonl(wire_htonl(0xdeadbeef)), 0xdeadbeef);
}

// ---- Ethernet -------------------------------------------------------------------------

static void
test_ether_parse(void)
{
  struct wire_ether eh;
  uchar *f = exact(garp_frame, sizeof garp_frame);
  CHECK_EQ(wire_ether_parse(f, sizeof garp_frame, &eh), 0);
  CHECK_MEM(eh.dst, bcast, 6);
  CHECK_MEM(eh.src, guest_mac, 6);
  CHECK_EQ(eh.type, 0x0806);
  free(f);

  f = exact(garp_frame, WIRE_ETH_HLEN);       // a header and nothing else is enough
  CHECK_EQ(wire_ether_parse(f, WIRE_ETH_HLEN, &eh), 0);
  CHECK_EQ(eh.type, 0x0806);
  free(f);
}

static void
test_ether_parse_refuses_runts(void)
{
  struct wire_ether eh;
  for (uint len = 0; len < WIRE_ETH_HLEN; len++) {
    uchar *f = exact(garp_frame, len);
    CHECK_EQ(wire_ether_parse(f, len, &eh), -1);
    free(f);
  }
}

static void
test_ether_fill(void)
{
  uchar hdr[WIRE_ETH_HLEN + 2];
  const uchar want[WIRE_ETH_HLEN] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x52, 0x54, 0x76, 0x36, 0x00, 0x02, 0x88, 0xb5,
  };
  memset(hdr, 0xAA, sizeof hdr);
  wire_ether_fill(hdr, peer_mac, guest_mac, 0x88b5);
  CHECK_MEM(hdr, want, WIRE_ETH_HLEN);
  CHECK(hdr[WIRE_ETH_HLEN] == 0xAA && hdr[WIRE_ETH_HLEN + 1] == 0xAA);   // nothing beyond

  struct wire_ether back;
  CHECK_EQ(wire_ether_parse(hdr, WIRE_ETH_HLEN, &back), 0);
  CHECK_MEM(back.dst, peer_mac, 6);
  CHECK_MEM(back.src, guest_mac, 6);
  CHECK_EQ(back.type, 0x88b5);
}

static void
test_ether_class(void)
{
  const uchar ipv4_mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
  const uchar ipv6_mcast[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
  const uchar almost_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
  const uchar other[6] = { 0x52, 0x54, 0x76, 0x36, 0x00, 0x03 };
  const uchar first_differs[6] = { 0x50, 0x54, 0x76, 0x36, 0x00, 0x02 };

  CHECK_EQ(wire_ether_class(guest_mac, guest_mac), WIRE_HOST);
  CHECK_EQ(wire_ether_class(bcast, guest_mac), WIRE_BROADCAST);
  CHECK_EQ(wire_ether_class(ipv4_mcast, guest_mac), WIRE_MULTICAST);
  CHECK_EQ(wire_ether_class(ipv6_mcast, guest_mac), WIRE_MULTICAST);
  CHECK_EQ(wire_ether_class(almost_bcast, guest_mac), WIRE_MULTICAST);
  CHECK_EQ(wire_ether_class(other, guest_mac), WIRE_OTHERHOST);
  CHECK_EQ(wire_ether_class(first_differs, guest_mac), WIRE_OTHERHOST);
  CHECK_EQ(wire_ether_class(zero6, guest_mac), WIRE_OTHERHOST);
  CHECK_EQ(wire_ether_class(peer_mac, guest_mac), WIRE_OTHERHOST);
}

// ---- ARP ------------------------------------------------------------------------------

static int
parse(const uchar *body, uint len, struct wire_arp *out)
{
  uchar *p = exact(body, len);
  int r = wire_arp_parse(p, len, out);
  free(p);
  return r;
}

static void
test_arp_parse_request(void)
{
  struct wire_arp m;
  CHECK_EQ(parse(garp_frame + WIRE_ETH_HLEN, WIRE_ARP_LEN, &m), WIRE_ARP_OK);
  CHECK_EQ(m.op, 1);
  CHECK_MEM(m.sha, guest_mac, 6);
  CHECK_MEM(&m.spa, ip_guest, 4);
  CHECK_MEM(m.tha, zero6, 6);
  CHECK_MEM(&m.tpa, ip_guest, 4);
  // The same with the frame's padding after it (46 bytes, as the kernel sees it).
  CHECK_EQ(parse(garp_frame + WIRE_ETH_HLEN, 60 - WIRE_ETH_HLEN, &m), WIRE_ARP_OK);
  CHECK_EQ(m.op, 1);
}

static void
test_arp_parse_reply(void)
{
  struct wire_arp m;
  CHECK_EQ(parse(reply_body, sizeof reply_body, &m), WIRE_ARP_OK);
  CHECK_EQ(m.op, 2);
  CHECK_MEM(m.sha, peer_mac, 6);
  CHECK_EQ(m.spa, addr(ip_peer));
  CHECK_MEM(m.tha, guest_mac, 6);
  CHECK_EQ(m.tpa, addr(ip_guest));
}

static void
test_arp_parse_refuses_short(void)
{
  struct wire_arp m;
  for (uint len = 0; len < WIRE_ARP_LEN; len++)
    CHECK_EQ(parse(reply_body, len, &m), WIRE_ARP_SHORT);
}

// reply_body with one byte changed.
static int
parse_changed(uint offset, uchar value)
{
  uchar body[WIRE_ARP_LEN];
  struct wire_arp m;
  memcpy(body, reply_body, sizeof body);
  body[offset] = value;
  return parse(body, sizeof body, &m);
}

static void
test_arp_parse_refuses_other_formats(void)
{
  CHECK_EQ(parse_changed(1, 6), WIRE_ARP_FORMAT);        // hardware type IEEE 802
  CHECK_EQ(parse_changed(0, 1), WIRE_ARP_FORMAT);        // hardware type 0x0101
  CHECK_EQ(parse_changed(2, 0x86), WIRE_ARP_FORMAT);     // protocol 0x8600
  CHECK_EQ(parse_changed(3, 0x06), WIRE_ARP_FORMAT);     // protocol 0x0806
  CHECK_EQ(parse_changed(4, 8), WIRE_ARP_FORMAT);        // hardware length 8
  CHECK_EQ(parse_changed(4, 0), WIRE_ARP_FORMAT);
  CHECK_EQ(parse_changed(5, 16), WIRE_ARP_FORMAT);       // protocol length 16 (IPv6)
  CHECK_EQ(parse_changed(5, 0), WIRE_ARP_FORMAT);
}

static void
test_arp_parse_refuses_other_opcodes(void)
{
  CHECK_EQ(parse_changed(7, 0), WIRE_ARP_OPCODE);
  CHECK_EQ(parse_changed(7, 3), WIRE_ARP_OPCODE);        // RARP request
  CHECK_EQ(parse_changed(7, 4), WIRE_ARP_OPCODE);        // RARP reply
  CHECK_EQ(parse_changed(6, 1), WIRE_ARP_OPCODE);        // 0x0102
  uchar body[WIRE_ARP_LEN];
  memcpy(body, reply_body, sizeof body);
  body[6] = 1;                                           // 0x0100: byte-swapped request
  body[7] = 0;
  struct wire_arp m;
  CHECK_EQ(parse(body, sizeof body, &m), WIRE_ARP_OPCODE);
  // A short message is short before anything else; a bad format before a bad opcode.
  CHECK_EQ(parse(body, WIRE_ARP_LEN - 1, &m), WIRE_ARP_SHORT);
  body[1] = 6;
  CHECK_EQ(parse(body, sizeof body, &m), WIRE_ARP_FORMAT);
}

// reply_body with another sender.
static int
parse_sender(const uchar sha[6], const uchar spa[4])
{
  uchar body[WIRE_ARP_LEN];
  struct wire_arp m;
  memcpy(body, reply_body, sizeof body);
  memcpy(body + 8, sha, 6);
  memcpy(body + 14, spa, 4);
  return parse(body, sizeof body, &m);
}

static void
test_arp_parse_refuses_impossible_senders(void)
{
  const uchar mcast_mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
  const uchar odd_mac[6] = { 0x03, 0x00, 0x00, 0x00, 0x00, 0x01 };
  const uchar ip_bcast[4] = { 255, 255, 255, 255 };
  const uchar ip_mcast_low[4] = { 224, 0, 0, 1 };
  const uchar ip_mcast_high[4] = { 239, 255, 255, 255 };
  const uchar ip_below[4] = { 223, 255, 255, 255 };
  const uchar ip_class_e[4] = { 240, 0, 0, 1 };
  const uchar ip_zero[4] = { 0, 0, 0, 0 };

  CHECK_EQ(parse_sender(bcast, ip_peer), WIRE_ARP_SENDER);
  CHECK_EQ(parse_sender(mcast_mac, ip_peer), WIRE_ARP_SENDER);
  CHECK_EQ(parse_sender(odd_mac, ip_peer), WIRE_ARP_SENDER);
  CHECK_EQ(parse_sender(peer_mac, ip_bcast), WIRE_ARP_SENDER);
  CHECK_EQ(parse_sender(peer_mac, ip_mcast_low), WIRE_ARP_SENDER);
  CHECK_EQ(parse_sender(peer_mac, ip_mcast_high), WIRE_ARP_SENDER);
  // Neighbours of the refused ranges are accepted, and so is an ARP probe (0.0.0.0).
  CHECK_EQ(parse_sender(peer_mac, ip_below), WIRE_ARP_OK);
  CHECK_EQ(parse_sender(peer_mac, ip_class_e), WIRE_ARP_OK);
  CHECK_EQ(parse_sender(peer_mac, ip_zero), WIRE_ARP_OK);
  CHECK_EQ(parse_sender(zero6, ip_peer), WIRE_ARP_OK);
}

static void
test_arp_fill(void)
{
  struct wire_arp m = { .op = 2 };
  memcpy(m.sha, peer_mac, 6);
  m.spa = addr(ip_peer);
  memcpy(m.tha, guest_mac, 6);
  m.tpa = addr(ip_guest);

  uchar out[WIRE_ARP_LEN + 4];
  memset(out, 0xAA, sizeof out);
  wire_arp_fill(out, &m);
  CHECK_MEM(out, reply_body, WIRE_ARP_LEN);
  CHECK(out[WIRE_ARP_LEN] == 0xAA && out[WIRE_ARP_LEN + 3] == 0xAA);   // exactly 28 bytes
}

static void
test_arp_fill_then_parse(void)
{
  struct wire_arp in = { .op = 1 }, out;
  memcpy(in.sha, guest_mac, 6);
  in.spa = addr(ip_guest);
  memset(in.tha, 0, 6);
  in.tpa = addr(ip_peer);

  // At an odd offset: nothing may assume alignment.
  uchar buf[WIRE_ARP_LEN + 1];
  wire_arp_fill(buf + 1, &in);
  CHECK_EQ(parse(buf + 1, WIRE_ARP_LEN, &out), WIRE_ARP_OK);
  CHECK_EQ(out.op, 1);
  CHECK_MEM(out.sha, in.sha, 6);
  CHECK_EQ(out.spa, in.spa);
  CHECK_MEM(out.tha, in.tha, 6);
  CHECK_EQ(out.tpa, in.tpa);
  // The guest's own gratuitous ARP, rebuilt from its fields, is the captured bytes.
  struct wire_arp g = { .op = 1 };
  memcpy(g.sha, guest_mac, 6);
  g.spa = g.tpa = addr(ip_guest);
  uchar frame[60] = { 0 };
  wire_ether_fill(frame, bcast, guest_mac, 0x0806);
  wire_arp_fill(frame + WIRE_ETH_HLEN, &g);
  CHECK_MEM(frame, garp_frame, sizeof frame);
}

// ---- dotted quads ---------------------------------------------------------------------

static void
check_aton(const char *s, int a, int b, int c, int d, int line)
{
  uint got = 0;
  const uchar want[4] = { a, b, c, d };
  char *copy = (char *)exact(s, strlen(s) + 1);
  int r = wire_inet_aton(copy, &got);
  free(copy);
  check_eq(r, 0, s, __FILE__, line);
  check_mem(&got, want, 4, s, __FILE__, line);
}

static void
check_aton_bad(const char *s, int line)
{
  uint got = 0x5a5a5a5a;
  char *copy = (char *)exact(s, strlen(s) + 1);
  check_eq(wire_inet_aton(copy, &got), -1, s, __FILE__, line);
  free(copy);
}

#define ATON(s, a, b, c, d) check_aton((s), (a), (b), (c), (d), __LINE__)
#define ATON_BAD(s) check_aton_bad((s), __LINE__)

static void
test_inet_aton(void)
{
  ATON("10.0.0.2", 10, 0, 0, 2);
  ATON("0.0.0.0", 0, 0, 0, 0);
  ATON("255.255.255.255", 255, 255, 255, 255);
  ATON("192.168.1.254", 192, 168, 1, 254);
  ATON("1.22.133.4", 1, 22, 133, 4);
}

static void
test_inet_aton_refuses_malformed(void)
{
  ATON_BAD("");
  ATON_BAD("1.2.3");
  ATON_BAD("1.2.3.4.5");
  ATON_BAD("1.2.3.");
  ATON_BAD(".1.2.3");
  ATON_BAD("1..2.3");
  ATON_BAD("256.0.0.1");
  ATON_BAD("1.2.3.256");
  ATON_BAD("1.2.3.999");
  ATON_BAD("1000.2.3.4");
  ATON_BAD("1.2.3.4 ");
  ATON_BAD(" 1.2.3.4");
  ATON_BAD("1.2.3.4:");
  ATON_BAD("a.b.c.d");
  ATON_BAD("-1.2.3.4");
  ATON_BAD("1.2.3.4/24");
  ATON_BAD("4294967295");
  ATON_BAD("0x7f.0.0.1");
}

// ---- the Internet checksum --------------------------------------------------------------

// Straightforward RFC 1071 with a 64-bit accumulator, folded once at the end.
static ushort
reference_cksum(const uchar *p, size_t len)
{
  unsigned long long sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2)
    sum += (uint)(p[i] << 8 | p[i + 1]);
  if (len & 1)
    sum += (uint)p[len - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  return (ushort)~sum;
}

// Store a checksum the way the kernel does (the value as it lies in memory)
// and return its two bytes as a big-endian number.
static uint
stored(ushort sum)
{
  uchar b[2];
  memcpy(b, &sum, 2);
  return b[0] << 8 | b[1];
}

static void
test_cksum_known_values(void)
{
  // RFC 1071, section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2.
  const uchar rfc[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
  CHECK_EQ(stored(wire_cksum(rfc, sizeof rfc)), 0x220d);

  // An IPv4 header (20 bytes) whose checksum is b861.
  uchar ip[20] = {
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
    0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
  };
  ushort sum = wire_cksum(ip, sizeof ip);
  CHECK_EQ(stored(sum), 0xb861);
  memcpy(ip + 10, &sum, 2);                        // stored as is: network order
  CHECK(ip[10] == 0xb8 && ip[11] == 0x61);
  CHECK_EQ(wire_cksum(ip, sizeof ip), 0);          // a correct header sums to 0

  const uchar odd[1] = { 0x01 };
  CHECK_EQ(stored(wire_cksum(odd, 1)), 0xfeff);
  const uchar three[3] = { 0x12, 0x34, 0x56 };
  CHECK_EQ(stored(wire_cksum(three, 3)), (ushort)~(0x1234 + 0x5600));
  CHECK_EQ(stored(wire_cksum(odd, 0)), 0xffff);
  const uchar zeros[4] = { 0 };
  CHECK_EQ(stored(wire_cksum(zeros, 4)), 0xffff);
}

static void
test_cksum_long_data_does_not_overflow(void)
{
  size_t len = 1 << 20;             // 2^19 words of ffff: far past 2^32 unfolded
  uchar *p = malloc(len);
  if (p == 0)
    exit(2);
  memset(p, 0xff, len);
  CHECK_EQ(stored(wire_cksum(p, len)), reference_cksum(p, len));
  CHECK_EQ(stored(wire_cksum(p, len)), 0x0000);
  free(p);
}

static uint rngstate = 12345;

static uint
rnd(void)
{
  rngstate = rngstate * 1103515245 + 12345;
  return rngstate >> 8;
}

static void
test_cksum_matches_reference(void)
{
  static uchar buf[70000];
  int mismatches = 0;
  for (int round = 0; round < 300; round++) {
    size_t len = round < 100 ? (size_t)round : rnd() % sizeof buf;
    for (size_t i = 0; i < len; i++)
      buf[i] = round % 3 == 0 ? 0xff - (rnd() & 1) : rnd();
    uchar *p = exact(buf, len);
    if (stored(wire_cksum(p, len)) != reference_cksum(p, len)) {
      if (mismatches++ < 3)
        printf("  checksum of %zu bytes (round %d) differs\n", len, round);
    }
    free(p);
  }
  CHECK_EQ(mismatches, 0);
}

static void
test_sum_in_pieces(void)
{
  // A UDP-style sum: a 12-byte pseudo-header, then the datagram (odd length).
  uchar pseudo[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0, 13 };
  uchar data[13] = { 0x04, 0xd2, 0x00, 0x07, 0x00, 0x0d, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o' };
  uchar whole[25];
  memcpy(whole, pseudo, 12);
  memcpy(whole + 12, data, 13);
  ushort pieces = wire_sumfinish(wire_sum(data, sizeof data, wire_sum(pseudo, 12, 0)));
  CHECK_EQ(pieces, wire_cksum(whole, sizeof whole));
  CHECK_EQ(stored(pieces), reference_cksum(whole, sizeof whole));

  // Many even pieces, including empty ones, give the sum of the whole.
  static uchar big[4096];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = rnd();
  uint sum = 0;
  for (size_t off = 0, n = 0; off < sizeof big; off += n) {
    n = (rnd() % 200) & ~1u;
    if (n > sizeof big - off)
      n = sizeof big - off;
    sum = wire_sum(big + off, n, sum);
  }
  CHECK_EQ(stored(wire_sumfinish(sum)), reference_cksum(big, sizeof big));
  CHECK_EQ(wire_sumfinish(0), 0xffff);
}

// ---- main --------------------------------------------------------------------------------

static const struct test tests[] = {
#define T(f) TEST(f)
  T(test_byte_order),
  T(test_ether_parse),
  T(test_ether_parse_refuses_runts),
  T(test_ether_fill),
  T(test_ether_class),
  T(test_arp_parse_request),
  T(test_arp_parse_reply),
  T(test_arp_parse_refuses_short),
  T(test_arp_parse_refuses_other_formats),
  T(test_arp_parse_refuses_other_opcodes),
  T(test_arp_parse_refuses_impossible_senders),
  T(test_arp_fill),
  T(test_arp_fill_then_parse),
  T(test_inet_aton),
  T(test_inet_aton_refuses_malformed),
  T(test_cksum_known_values),
  T(test_cksum_long_data_does_not_overflow),
  T(test_cksum_matches_reference),
  T(test_sum_in_pieces),
#undef T
};

int
main(void)
{
  return run_tests(tests, sizeof tests / sizeof tests[0], 0);
}
