// Host-compiled unit tests for user/lib/dhcpwire.c, the DHCP client's parser
// and builder, with hostile inputs: every truncation, lengths past the end,
// option overload done right and wrong, repeated options, mask 0, lease 0,
// names that would inject lines into resolv.conf, bad frames.
//
//   gcc -Wall -Werror -I. -o build/cunit/test_dhcp tests/cunit/test_dhcp.c user/lib/dhcpwire.c
//   build/cunit/test_dhcp            # "N passed, M failed"; exit status 1 on failure

#include "tests/cunit/cunit.h"
#include "kernel/types.h"
#include "user/lib/dhcpwire.h"

static const uchar mac[6] = { 0x52, 0x54, 0x76, 0x36, 0x00, 0x00 };
static const uchar srvmac[6] = { 0x52, 0x54, 0x76, 0x37, 0x00, 0x00 };
static const uchar bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
#define XID 0x1234abcd

static uint
ip(int a, int b, int c, int d)   // an address as the parser keeps it: network order in memory
{
  uchar bytes[4] = { a, b, c, d };
  uint v;
  memcpy(&v, bytes, 4);
  return v;
}

// ---- a server, to make messages ------------------------------------------------------

struct reply {
  uchar buf[1024];
  uint len;      // bytes so far
};

// The fixed part of a reply from dnsmasq-like server to our client.
static void
reply_start(struct reply *r, int type)
{
  memset(r, 0, sizeof *r);
  r->buf[0] = BOOTREPLY;
  r->buf[1] = 1;
  r->buf[2] = 6;
  r->buf[4] = 0x12; r->buf[5] = 0x34; r->buf[6] = 0xab; r->buf[7] = 0xcd;   // XID
  memcpy(r->buf + 16, (uchar[]){ 10, 0, 0, 105 }, 4);   // yiaddr
  memcpy(r->buf + 20, (uchar[]){ 10, 0, 0, 1 }, 4);     // siaddr
  memcpy(r->buf + 28, mac, 6);
  memcpy(r->buf + 236, (uchar[]){ 99, 130, 83, 99 }, 4);
  r->len = 240;
  r->buf[r->len++] = DHO_MSGTYPE;
  r->buf[r->len++] = 1;
  r->buf[r->len++] = type;
}

static void
opt(struct reply *r, int code, const void *v, int len)
{
  r->buf[r->len++] = code;
  r->buf[r->len++] = len;
  memcpy(r->buf + r->len, v, len);
  r->len += len;
}

static void
end(struct reply *r)
{
  r->buf[r->len++] = DHO_END;
}

// A complete, good ACK: mask, routers, DNS, domain, lease 120 s, T1 10 s, T2 20 s.
static void
good_ack(struct reply *r, int type)
{
  reply_start(r, type);
  opt(r, DHO_SERVERID, (uchar[]){ 10, 0, 0, 1 }, 4);
  opt(r, DHO_LEASE, (uchar[]){ 0, 0, 0, 120 }, 4);
  opt(r, DHO_T1, (uchar[]){ 0, 0, 0, 10 }, 4);
  opt(r, DHO_T2, (uchar[]){ 0, 0, 0, 20 }, 4);
  opt(r, DHO_SUBNET_MASK, (uchar[]){ 255, 255, 255, 0 }, 4);
  opt(r, DHO_ROUTERS, (uchar[]){ 10, 0, 0, 1, 10, 0, 0, 254 }, 8);
  opt(r, DHO_DNS, (uchar[]){ 10, 0, 0, 1 }, 4);
  opt(r, DHO_DOMAIN, "lab", 3);
  end(r);
}

static int
parse(const struct reply *r, struct dhcp_msg *m)
{
  uchar *p = exact(r->buf, r->len);
  int err = dhcp_parse(p, r->len, m);
  free(p);
  return err;
}

// Parse, then check as a client with XID and mac would.
static int
take(const struct reply *r, struct dhcp_msg *m)
{
  int err = parse(r, m);
  return err != DHCP_OK ? err : dhcp_check(m, XID, mac);
}

// ---- parsing good messages -----------------------------------------------------------

static void
test_parse_a_good_ack(void)
{
  struct reply r;
  struct dhcp_msg m;
  good_ack(&r, DHCPACK);
  CHECK_EQ(take(&r, &m), DHCP_OK);
  CHECK_EQ(m.type, DHCPACK);
  CHECK_EQ(m.xid, XID);
  CHECK_EQ(m.yiaddr, ip(10, 0, 0, 105));
  CHECK_EQ(m.serverid, ip(10, 0, 0, 1));
  CHECK_EQ(m.mask, ip(255, 255, 255, 0));
  CHECK_EQ(m.nrouters, 2);
  CHECK_EQ(m.routers[0], ip(10, 0, 0, 1));
  CHECK_EQ(m.routers[1], ip(10, 0, 0, 254));
  CHECK_EQ(m.ndns, 1);
  CHECK_EQ(m.dns[0], ip(10, 0, 0, 1));
  CHECK_STR(m.domain, "lab");
  CHECK_EQ(m.lease, 120);
  uint t1, t2;
  dhcp_times(&m, &t1, &t2);
  CHECK_EQ(t1, 10);
  CHECK_EQ(t2, 20);
}

static void
test_pads_and_unknown_options_are_skipped(void)
{
  struct reply r;
  struct dhcp_msg m;
  reply_start(&r, DHCPOFFER);
  r.buf[r.len++] = DHO_PAD;
  r.buf[r.len++] = DHO_PAD;
  opt(&r, 200, "whatever", 8);
  opt(&r, 200, "again", 5);          // repeats of options we do not read are fine
  opt(&r, DHO_SERVERID, (uchar[]){ 10, 0, 0, 1 }, 4);
  opt(&r, DHO_LEASE, (uchar[]){ 0, 0, 1, 0 }, 4);
  r.buf[r.len++] = DHO_PAD;
  end(&r);
  r.len += 20;                        // padding after END is ignored
  CHECK_EQ(take(&r, &m), DHCP_OK);
  CHECK_EQ(m.lease, 256);
  CHECK_EQ(m.have & DHCP_HAVE_MASK, 0);
}

static void
test_many_routers_are_cut_to_four(void)
{
  struct reply r;
  struct dhcp_msg m;
  uchar many[40];
  for (int i = 0; i < 40; i++)
    many[i] = i % 4 == 0 ? 10 : i;
  reply_start(&r, DHCPOFFER);
  opt(&r, DHO_SERVERID, (uchar[]){ 10, 0, 0, 1 }, 4);
  opt(&r, DHO_LEASE, (uchar[]){ 0, 0, 1, 0 }, 4);
  opt(&r, DHO_ROUTERS, many, 40);
  end(&r);
  CHECK_EQ(take(&r, &m), DHCP_OK);
  CHECK_EQ(m.nrouters, DHCP_MAXADDRS);
}

// ---- hostile messages --------------------------------------------------------------

// Every prefix of a good message: never a read past the end (ASan would
// say), and refused unless the prefix already holds the END option.
static void
test_every_truncation_is_refused(void)
{
  struct reply r;
  struct dhcp_msg m;
  good_ack(&r, DHCPACK);
  for (uint n = 0; n < r.len; n++) {
    uchar *p = exact(r.buf, n);
    int err = dhcp_parse(p, n, &m);
    free(p);
    if (n < DHCP_MINLEN)
      CHECK_EQ(err, DHCP_ESHORT);
    else
      CHECK_EQ(err, DHCP_ETRUNC);
  }
  uchar *p = exact(r.buf, r.len);
  CHECK_EQ(dhcp_parse(p, r.len, &m), DHCP_OK);
  free(p);
}

static void
test_option_lengths_past_the_end(void)
{
  struct reply r;
  struct dhcp_msg m;
  reply_start(&r, DHCPOFFER);
  r.buf[r.len++] = DHO_ROUTERS;
  r.buf[r.len++] = 200;               // 200 bytes that are not there
  memcpy(r.buf + r.len, (uchar[]){ 10, 0, 0, 1 }, 4);
  r.len += 4;
  CHECK_EQ(parse(&r, &m), DHCP_ETRUNC);
  reply_start(&r, DHCPOFFER);
  r.buf[r.len++] = DHO_LEASE;         // a code and no length byte
  CHECK_EQ(parse(&r, &m), DHCP_ETRUNC);
  reply_start(&r, DHCPOFFER);
  r.buf[r.len++] = 77;
  r.buf[r.len++] = 255;               // an unknown option running off the end
  CHECK_EQ(parse(&r, &m), DHCP_ETRUNC);
}

static void
test_missing_end_is_refused(void)
{
  struct reply r;
  struct dhcp_msg m;
  good_ack(&r, DHCPACK);
  r.len--;                            // drop END
  CHECK_EQ(parse(&r, &m), DHCP_ETRUNC);
}

static void
test_bad_option_lengths(void)
{
  static const struct { int code, len; } cases[] = {
    { DHO_SUBNET_MASK, 3 }, { DHO_SUBNET_MASK, 5 }, { DHO_LEASE, 0 }, { DHO_LEASE, 8 },
    { DHO_SERVERID, 2 }, { DHO_T1, 1 }, { DHO_T2, 6 }, { DHO_ROUTERS, 0 }, { DHO_ROUTERS, 5 },
    { DHO_DNS, 7 }, { DHO_MSGTYPE, 2 }, { DHO_OVERLOAD, 0 },
  };
  uchar v[16] = { 10, 0, 0, 1, 10, 0, 0, 2, 10, 0, 0, 3 };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct reply r;
    struct dhcp_msg m;
    reply_start(&r, DHCPOFFER);
    opt(&r, cases[i].code, v, cases[i].len);
    end(&r);
    int err = parse(&r, &m);
    if (err != DHCP_EOPTLEN && !(cases[i].code == DHO_MSGTYPE && err == DHCP_EDUP))
      printf("  option %d length %d: %d\n", cases[i].code, cases[i].len, err);
    CHECK(err == DHCP_EOPTLEN || (cases[i].code == DHO_MSGTYPE && err == DHCP_EDUP));
  }
}

static void
test_repeated_options_are_refused(void)
{
  static const int codes[] = { DHO_MSGTYPE, DHO_SERVERID, DHO_LEASE, DHO_SUBNET_MASK,
                               DHO_ROUTERS, DHO_DNS };
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    struct reply r;
    struct dhcp_msg m;
    good_ack(&r, DHCPACK);
    r.len--;
    uchar v[4] = { codes[i] == DHO_MSGTYPE ? DHCPNAK : 10, 0, 0, 9 };
    opt(&r, codes[i], v, codes[i] == DHO_MSGTYPE ? 1 : 4);
    end(&r);
    CHECK_EQ(parse(&r, &m), DHCP_EDUP);
  }
}

static void
test_no_cookie_or_not_ethernet(void)
{
  struct reply r;
  struct dhcp_msg m;
  good_ack(&r, DHCPACK);
  r.buf[239] = 0;
  CHECK_EQ(parse(&r, &m), DHCP_ECOOKIE);
  good_ack(&r, DHCPACK);
  r.buf[1] = 6;                       // IEEE 802 token ring
  CHECK_EQ(parse(&r, &m), DHCP_EFORMAT);
  good_ack(&r, DHCPACK);
  r.buf[2] = 16;
  CHECK_EQ(parse(&r, &m), DHCP_EFORMAT);
  good_ack(&r, DHCPACK);
  r.buf[0] = 3;
  CHECK_EQ(parse(&r, &m), DHCP_EFORMAT);
}

static void
test_message_type_required(void)
{
  struct reply r;
  struct dhcp_msg m;
  reply_start(&r, DHCPOFFER);
  r.len = 240;                        // no options at all but END
  end(&r);
  CHECK_EQ(parse(&r, &m), DHCP_ENOTYPE);
  reply_start(&r, 9);
  end(&r);
  CHECK_EQ(parse(&r, &m), DHCP_ENOTYPE);
  reply_start(&r, 0);
  end(&r);
  CHECK_EQ(parse(&r, &m), DHCP_ENOTYPE);
}

// ---- option overload (RFC 2132 9.3) --------------------------------------------------

static void
test_overload_reads_file_then_sname(void)
{
  struct reply r;
  struct dhcp_msg m;
  reply_start(&r, DHCPACK);
  opt(&r, DHO_SERVERID, (uchar[]){ 10, 0, 0, 1 }, 4);
  opt(&r, DHO_OVERLOAD, (uchar[]){ 3 }, 1);
  end(&r);
  uchar *file = r.buf + 108, *sname = r.buf + 44;
  memcpy(file, (uchar[]){ DHO_LEASE, 4, 0, 0, 0, 60, DHO_END }, 7);
  memcpy(sname, (uchar[]){ DHO_DOMAIN, 7, 'e', 'x', '.', 'c', 'o', 'm', 0,
                           DHO_SUBNET_MASK, 4, 255, 255, 0, 0 }, 15);   // no END: fine here
  CHECK_EQ(take(&r, &m), DHCP_OK);
  CHECK_EQ(m.lease, 60);
  CHECK_STR(m.domain, "ex.com");
  CHECK_EQ(m.mask, ip(255, 255, 0, 0));
}

static void
test_overload_done_wrong(void)
{
  struct reply r;
  struct dhcp_msg m;
  for (int value = 0; value < 256; value += 4) {   // 0, 4, 8, ...: none is 1-3
    reply_start(&r, DHCPACK);
    opt(&r, DHO_OVERLOAD, (uchar[]){ value }, 1);
    end(&r);
    CHECK_EQ(parse(&r, &m), DHCP_EOVERLOAD);
  }
  // An overload option inside the overloaded field: no second level.
  reply_start(&r, DHCPACK);
  opt(&r, DHO_OVERLOAD, (uchar[]){ 1 }, 1);
  end(&r);
  memcpy(r.buf + 108, (uchar[]){ DHO_OVERLOAD, 1, 2, DHO_END }, 4);
  CHECK_EQ(parse(&r, &m), DHCP_EOVERLOAD);
  // An option in file that runs past file's 128 bytes into the options.
  reply_start(&r, DHCPACK);
  opt(&r, DHO_OVERLOAD, (uchar[]){ 1 }, 1);
  end(&r);
  memset(r.buf + 108, DHO_PAD, 128);
  r.buf[108 + 126] = DHO_DOMAIN;
  r.buf[108 + 127] = 20;
  CHECK_EQ(parse(&r, &m), DHCP_ETRUNC);
  // The same option in the options and in sname is a repeat.
  reply_start(&r, DHCPACK);
  opt(&r, DHO_OVERLOAD, (uchar[]){ 2 }, 1);
  end(&r);
  memcpy(r.buf + 44, (uchar[]){ DHO_MSGTYPE, 1, DHCPNAK, DHO_END }, 4);
  CHECK_EQ(parse(&r, &m), DHCP_EDUP);
}

// ---- values a client must not take ----------------------------------------------------

static void
test_mask_zero_or_holes_is_refused(void)
{
  static const uchar masks[][4] = { { 0, 0, 0, 0 }, { 255, 0, 255, 0 }, { 255, 255, 255, 1 },
                                    { 0, 255, 255, 255 }, { 127, 255, 255, 0 } };
  for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
    struct reply r;
    struct dhcp_msg m;
    reply_start(&r, DHCPOFFER);
    opt(&r, DHO_SERVERID, (uchar[]){ 10, 0, 0, 1 }, 4);
    opt(&r, DHO_LEASE, (uchar[]){ 0, 0, 1, 0 }, 4);
    opt(&r, DHO_SUBNET_MASK, masks[i], 4);
    end(&r);
    CHECK_EQ(take(&r, &m), DHCP_EMASK);
  }
}

static void
test_lease_zero_or_missing_is_refused(void)
{
  struct reply r;
  struct dhcp_msg m;
  reply_start(&r, DHCPOFFER);
  opt(&r, DHO_SERVERID, (uchar[]){ 10, 0, 0, 1 }, 4);
  opt(&r, DHO_LEASE, (uchar[]){ 0, 0, 0, 0 }, 4);
  end(&r);
  CHECK_EQ(take(&r, &m), DHCP_ELEASE);
  reply_start(&r, DHCPACK);
  opt(&r, DHO_SERVERID, (uchar[]){ 10, 0, 0, 1 }, 4);
  end(&r);
  CHECK_EQ(take(&r, &m), DHCP_ELEASE);
}

static void
test_server_identifier_required(void)
{
  struct reply r;
  struct dhcp_msg m;
  reply_start(&r, DHCPOFFER);
  opt(&r, DHO_LEASE, (uchar[]){ 0, 0, 1, 0 }, 4);
  end(&r);
  CHECK_EQ(take(&r, &m), DHCP_ENOSERVER);
  reply_start(&r, DHCPNAK);
  end(&r);
  CHECK_EQ(take(&r, &m), DHCP_ENOSERVER);
  reply_start(&r, DHCPNAK);
  opt(&r, DHO_SERVERID, (uchar[]){ 10, 0, 0, 1 }, 4);
  opt(&r, DHO_MESSAGE, "wrong\nnetwork\x01", 14);
  end(&r);
  CHECK_EQ(take(&r, &m), DHCP_OK);
  CHECK_STR(m.message, "wrong?network?");   // shown safely
}

static void
test_unusable_addresses_are_refused(void)
{
  static const uchar addrs[][4] = { { 0, 0, 0, 0 }, { 255, 255, 255, 255 }, { 127, 0, 0, 5 },
                                    { 224, 0, 0, 1 }, { 240, 0, 0, 1 }, { 0, 1, 2, 3 },
                                    { 10, 0, 0, 0 }, { 10, 0, 0, 255 } };   // network, broadcast
  for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
    struct reply r;
    struct dhcp_msg m;
    good_ack(&r, DHCPOFFER);
    memcpy(r.buf + 16, addrs[i], 4);
    CHECK_EQ(take(&r, &m), DHCP_EADDR);
  }
}

static void
test_replies_for_someone_else(void)
{
  struct reply r;
  struct dhcp_msg m;
  good_ack(&r, DHCPOFFER);
  r.buf[7] ^= 1;                      // another transaction
  CHECK_EQ(take(&r, &m), DHCP_ENOTOURS);
  good_ack(&r, DHCPOFFER);
  r.buf[33] ^= 1;                     // another client
  CHECK_EQ(take(&r, &m), DHCP_ENOTOURS);
  good_ack(&r, DHCPOFFER);
  r.buf[0] = BOOTREQUEST;             // another client's request, seen on the LAN
  CHECK_EQ(take(&r, &m), DHCP_EFORMAT);
  good_ack(&r, DHCPREQUEST);
  r.buf[0] = BOOTREPLY;
  CHECK_EQ(take(&r, &m), DHCP_ENOTYPE);
}

static void
test_domain_names_that_would_inject_are_refused(void)
{
  static const char *bad[] = { "lab\nnameserver 6.6.6.6", "a b", "lab;", "..", ".lab",
                               "a..b", "x/y", "\x80" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct reply r;
    struct dhcp_msg m;
    reply_start(&r, DHCPACK);
    opt(&r, DHO_DOMAIN, bad[i], strlen(bad[i]));
    end(&r);
    CHECK_EQ(parse(&r, &m), DHCP_EVALUE);
  }
  struct reply r;
  struct dhcp_msg m;
  reply_start(&r, DHCPACK);
  opt(&r, DHO_DOMAIN, "\0\0", 2);     // only NULs: empty
  end(&r);
  CHECK_EQ(parse(&r, &m), DHCP_EVALUE);
  reply_start(&r, DHCPACK);
  opt(&r, DHO_DOMAIN, "my-lab.example.", 15);
  end(&r);
  CHECK_EQ(parse(&r, &m), DHCP_OK);
  CHECK_STR(m.domain, "my-lab.example.");
}

// ---- lease times ----------------------------------------------------------------------

static void
test_times_default_and_inconsistent(void)
{
  struct dhcp_msg m;
  uint t1, t2;
  memset(&m, 0, sizeof m);
  m.lease = 3600;
  dhcp_times(&m, &t1, &t2);
  CHECK_EQ(t1, 1800);
  CHECK_EQ(t2, 3150);
  m.have = DHCP_HAVE_T1 | DHCP_HAVE_T2;
  m.t1 = 3000;
  m.t2 = 2000;                        // T2 before T1: both defaults
  dhcp_times(&m, &t1, &t2);
  CHECK_EQ(t1, 1800);
  CHECK_EQ(t2, 3150);
  m.t1 = 100;
  m.t2 = 4000;                        // T2 after the lease ends
  dhcp_times(&m, &t1, &t2);
  CHECK_EQ(t2, 3150);
  m.lease = 0xFFFFFFFF;               // infinite: no overflow
  m.have = 0;
  dhcp_times(&m, &t1, &t2);
  CHECK_EQ(t1, 0x7FFFFFFF);
  CHECK(t2 > t1 && t2 < m.lease);
}

// ---- building and frames ----------------------------------------------------------------

static void
test_build_then_parse(void)
{
  static const int types[] = { DHCPDISCOVER, DHCPREQUEST, DHCPDECLINE, DHCPRELEASE };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    uchar buf[DHCP_MAXLEN];
    struct dhcp_req q = { .type = types[i], .xid = XID, .secs = 3,
                          .flags = DHCP_FLAG_BROADCAST, .ciaddr = ip(10, 0, 0, 105),
                          .requested = ip(10, 0, 0, 106), .serverid = ip(10, 0, 0, 1) };
    memcpy(q.chaddr, mac, 6);
    int len = dhcp_build(buf, sizeof buf, &q);
    CHECK_EQ(len, DHCP_BOOTPLEN);
    struct dhcp_msg m;
    CHECK_EQ(dhcp_parse(buf, len, &m), DHCP_OK);
    CHECK_EQ(m.op, BOOTREQUEST);
    CHECK_EQ(m.type, types[i]);
    CHECK_EQ(m.xid, XID);
    CHECK_EQ(m.flags, DHCP_FLAG_BROADCAST);
    CHECK_EQ(m.ciaddr, ip(10, 0, 0, 105));
    CHECK_EQ(m.serverid, ip(10, 0, 0, 1));
    CHECK(memcmp(m.chaddr, mac, 6) == 0);
  }
  uchar small[100];
  struct dhcp_req q = { .type = DHCPDISCOVER };
  CHECK_EQ(dhcp_build(small, sizeof small, &q), -1);
}

// Our own frame, with the ports turned around as the server's reply would
// have them, goes back through unframe.
static void
test_frame_round_trip_and_refusals(void)
{
  uchar payload[DHCP_BOOTPLEN], frame[DHCP_FRAMEHDR + DHCP_BOOTPLEN];
  const uchar *got;
  uint len, src;
  for (uint i = 0; i < sizeof payload; i++)
    payload[i] = i * 7;
  int flen = dhcp_frame(frame, sizeof frame, mac, bcast, 0, 0xFFFFFFFF, payload, sizeof payload);
  CHECK_EQ(flen, DHCP_FRAMEHDR + DHCP_BOOTPLEN);
  CHECK(memcmp(frame, bcast, 6) == 0 && memcmp(frame + 6, mac, 6) == 0);
  CHECK_EQ(frame[14 + 9], 17);
  CHECK_EQ(dhcp_unframe(frame, flen, &got, &len, &src), -1);   // 68 -> 67: not for a client
  uchar *udp = frame + 34;
  udp[0] = 0; udp[1] = 67; udp[2] = 0; udp[3] = 68;           // swap the ports: the sum still holds
  uchar *p = exact(frame, flen);
  CHECK_EQ(dhcp_unframe(p, flen, &got, &len, &src), 0);
  CHECK_EQ(len, DHCP_BOOTPLEN);
  CHECK(memcmp(got, payload, len) == 0);
  CHECK_EQ(src, 0);
  free(p);
  // Every truncation of it is refused, without reading past the end.
  for (int n = 0; n < flen; n++) {
    p = exact(frame, n);
    CHECK_EQ(dhcp_unframe(p, n, &got, &len, &src), -1);
    free(p);
  }
  // A damaged byte anywhere in the IP header or the UDP datagram is refused.
  for (int i = 14; i < flen; i += 13) {
    frame[i] ^= 0x40;
    CHECK_EQ(dhcp_unframe(frame, flen, &got, &len, &src), -1);
    frame[i] ^= 0x40;
  }
  CHECK_EQ(dhcp_unframe(frame, flen, &got, &len, &src), 0);
  // A UDP length past the IP datagram.
  udp[4] = 0x7F;
  CHECK_EQ(dhcp_unframe(frame, flen, &got, &len, &src), -1);
}

static void
test_fragments_and_other_protocols_are_refused(void)
{
  uchar payload[DHCP_BOOTPLEN] = { 1 }, frame[DHCP_FRAMEHDR + DHCP_BOOTPLEN];
  const uchar *got;
  uint len, src;
  int flen = dhcp_frame(frame, sizeof frame, srvmac, mac, ip(10, 0, 0, 1), ip(10, 0, 0, 105),
                        payload, sizeof payload);
  uchar *ipdst = frame + 14;
  frame[34] = 0; frame[35] = 67; frame[36] = 0; frame[37] = 68;
  CHECK_EQ(dhcp_unframe(frame, flen, &got, &len, &src), 0);
  CHECK_EQ(src, ip(10, 0, 0, 1));
  // Set More Fragments and fix the header checksum: still refused.
  ipdst[6] = 0x20;
  ipdst[10] = ipdst[11] = 0;
  uint sum = 0;
  for (int i = 0; i < 20; i += 2)
    sum += ipdst[i] << 8 | ipdst[i + 1];
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  sum = ~sum & 0xFFFF;
  ipdst[10] = sum >> 8;
  ipdst[11] = sum;
  CHECK_EQ(dhcp_unframe(frame, flen, &got, &len, &src), -1);
  frame[12] = 0x86;                   // not IPv4 at all
  CHECK_EQ(dhcp_unframe(frame, flen, &got, &len, &src), -1);
}

// ---- a crude fuzzer: mutations of a good ACK, under the sanitizers ------------------------

static void
test_random_mutations_never_crash(void)
{
  struct reply good;
  good_ack(&good, DHCPACK);
  good.len -= 1;
  opt(&good, DHO_OVERLOAD, (uchar[]){ 3 }, 1);
  end(&good);
  memcpy(good.buf + 108, (uchar[]){ DHO_DNS, 4, 10, 0, 0, 2, DHO_END }, 7);
  unsigned seed = 12345;
  int ok = 0;
  for (int round = 0; round < 20000; round++) {
    struct reply r = good;
    int flips = 1 + round % 8;
    for (int i = 0; i < flips; i++) {
      seed = seed * 1103515245 + 12345;
      uint at = (seed >> 8) % r.len;
      r.buf[at] = seed >> 20;
    }
    seed = seed * 1103515245 + 12345;
    if (seed % 4 == 0)
      r.len = (seed >> 8) % r.len;     // and a truncation, some of the time
    struct dhcp_msg m;
    int err = take(&r, &m);
    CHECK(err <= 0 && err > -DHCP_NREASONS);
    if (err == DHCP_OK) {
      ok++;
      CHECK(m.nrouters <= DHCP_MAXADDRS && m.ndns <= DHCP_MAXADDRS);
      CHECK(strlen(m.domain) < DHCP_NAMELEN && strlen(m.message) < DHCP_NAMELEN);
    }
  }
  CHECK(ok > 0);                      // some mutations stay valid
}

static void
test_reason_names(void)
{
  CHECK_STR(dhcp_reason(DHCP_OK), "ok");
  CHECK_STR(dhcp_reason(DHCP_EMASK), "bad subnet mask");
  CHECK_STR(dhcp_reason(DHCP_ELEASE), "lease time 0");
  CHECK_STR(dhcp_reason(-99), "?");
  CHECK_STR(dhcp_reason(5), "?");
  CHECK_STR(dhcp_typename(DHCPOFFER), "DHCPOFFER");
  CHECK_STR(dhcp_typename(0), "?");
}

TESTS(
  T(test_parse_a_good_ack),
  T(test_pads_and_unknown_options_are_skipped),
  T(test_many_routers_are_cut_to_four),
  T(test_every_truncation_is_refused),
  T(test_option_lengths_past_the_end),
  T(test_missing_end_is_refused),
  T(test_bad_option_lengths),
  T(test_repeated_options_are_refused),
  T(test_no_cookie_or_not_ethernet),
  T(test_message_type_required),
  T(test_overload_reads_file_then_sname),
  T(test_overload_done_wrong),
  T(test_mask_zero_or_holes_is_refused),
  T(test_lease_zero_or_missing_is_refused),
  T(test_server_identifier_required),
  T(test_unusable_addresses_are_refused),
  T(test_replies_for_someone_else),
  T(test_domain_names_that_would_inject_are_refused),
  T(test_times_default_and_inconsistent),
  T(test_build_then_parse),
  T(test_frame_round_trip_and_refusals),
  T(test_fragments_and_other_protocols_are_refused),
  T(test_random_mutations_never_crash),
  T(test_reason_names),
)
