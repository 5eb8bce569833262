// Host-compiled unit tests for user/lib/dnswire.c, the stub resolver's query
// builder and reply parser, with hostile replies: every truncation,
// compression pointers that loop or point forwards, labels and names too
// long, extended label types, records whose lengths run past the end.
//
//   gcc -Wall -Werror -I. -o build/cunit/test_dns tests/cunit/test_dns.c user/lib/dnswire.c
//   build/cunit/test_dns             # "N passed, M failed"; exit status 1 on failure

#include "tests/cunit/cunit.h"
#include "kernel/types.h"
#include "user/lib/dnswire.h"

#define ID 0xbeef

static uint
ip(int a, int b, int c, int d)
{
  uchar bytes[4] = { a, b, c, d };
  uint v;
  memcpy(&v, bytes, 4);
  return v;
}

// ---- a server, to make replies ----------------------------------------------------------

struct msg {
  uchar buf[1024];
  uint len;
};

static void
bytes(struct msg *m, const void *p, uint n)
{
  memcpy(m->buf + m->len, p, n);
  m->len += n;
}

static void
u16(struct msg *m, uint v)
{
  m->buf[m->len++] = v >> 8;
  m->buf[m->len++] = v;
}

static void
u32(struct msg *m, uint v)
{
  u16(m, v >> 16);
  u16(m, v & 0xFFFF);
}

// name as labels ("www.lab" -> 3www3lab0)
static void
name(struct msg *m, const char *text)
{
  while (*text) {
    const char *dot = strchr(text, '.');
    uint n = dot ? (uint)(dot - text) : strlen(text);
    m->buf[m->len++] = n;
    bytes(m, text, n);
    text += n + (dot != 0);
  }
  m->buf[m->len++] = 0;
}

// A reply header and the question "www.lab A IN" (the name at offset 12).
static void
reply(struct msg *m, int flags, int ancount)
{
  memset(m, 0, sizeof *m);
  u16(m, ID);
  u16(m, DNS_QR | DNS_RD | DNS_RA | flags);
  u16(m, 1);
  u16(m, ancount);
  u16(m, 0);
  u16(m, 0);
  name(m, "www.lab");
  u16(m, DNS_TYPE_A);
  u16(m, DNS_CLASS_IN);
}

static void
rr_a(struct msg *m, uint ttl, int a, int b, int c, int d)
{
  u16(m, 0xC00C);                // the question's name
  u16(m, DNS_TYPE_A);
  u16(m, DNS_CLASS_IN);
  u32(m, ttl);
  u16(m, 4);
  m->buf[m->len++] = a;
  m->buf[m->len++] = b;
  m->buf[m->len++] = c;
  m->buf[m->len++] = d;
}

static int
parse(const struct msg *m, struct dns_reply *r)
{
  uchar *p = exact(m->buf, m->len);
  int err = dns_parse(p, m->len, r);
  free(p);
  return err;
}

// ---- queries ------------------------------------------------------------------------------

static void
test_query_layout(void)
{
  uchar buf[DNS_MAXMSG];
  int n = dns_query(buf, sizeof buf, 0x1234, "www.Lab.", DNS_TYPE_A);
  static const uchar want[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                3, 'w', 'w', 'w', 3, 'L', 'a', 'b', 0, 0, 1, 0, 1 };
  CHECK_EQ(n, sizeof want);
  CHECK(memcmp(buf, want, sizeof want) == 0);
}

static void
test_query_refuses_names_it_cannot_send(void)
{
  uchar buf[DNS_MAXMSG];
  char longlabel[80], longname[300];
  memset(longlabel, 'a', 64);
  longlabel[64] = 0;
  for (int i = 0; i < 299; i++)
    longname[i] = i % 10 == 9 ? '.' : 'b';
  longname[299] = 0;
  const char *bad[] = { "", ".", "a..b", "..", "a b", "a\nb", "x;y", longlabel, longname, "a.." };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK_EQ(dns_query(buf, sizeof buf, 1, bad[i], DNS_TYPE_A), DNS_EBADQUERY);
  longlabel[63] = 0;                   // 63 is the most a label may have
  CHECK(dns_query(buf, sizeof buf, 1, longlabel, DNS_TYPE_A) > 0);
  CHECK_EQ(dns_query(buf, 20, 1, "a-rather-long-name.lab", DNS_TYPE_A), DNS_EBADQUERY);
}

// ---- good replies ------------------------------------------------------------------------

static void
test_parse_answers(void)
{
  struct msg m;
  struct dns_reply r;
  reply(&m, DNS_AA, 2);
  rr_a(&m, 300, 10, 0, 0, 7);
  rr_a(&m, 60, 10, 0, 0, 8);
  CHECK_EQ(parse(&m, &r), DNS_OK);
  CHECK_EQ(r.id, ID);
  CHECK_EQ(r.rcode, DNS_NOERROR);
  CHECK_STR(r.qname, "www.lab");
  CHECK_EQ(r.naddrs, 2);
  CHECK_EQ(r.addrs[0], ip(10, 0, 0, 7));
  CHECK_EQ(r.addrs[1], ip(10, 0, 0, 8));
  CHECK_EQ(r.ttl, 60);
  CHECK_EQ(dns_match(&r, ID, "WWW.lab.", DNS_TYPE_A), DNS_OK);
  CHECK_EQ(dns_match(&r, ID + 1, "www.lab", DNS_TYPE_A), DNS_EID);
  CHECK_EQ(dns_match(&r, ID, "ww.lab", DNS_TYPE_A), DNS_EQUESTION);
  CHECK_EQ(dns_match(&r, ID, "www.lab", DNS_TYPE_AAAA), DNS_EQUESTION);
}

static void
test_cname_chain_is_followed(void)
{
  struct msg m;
  struct dns_reply r;
  reply(&m, 0, 3);
  u16(&m, 0xC00C);                     // www.lab CNAME host.lab
  u16(&m, DNS_TYPE_CNAME);
  u16(&m, DNS_CLASS_IN);
  u32(&m, 60);
  u16(&m, 7);
  uint host = m.len;
  bytes(&m, "\4host\xC0\x10", 7);      // "host" + pointer to "lab" in the question
  u16(&m, 0xC000 | host);              // host.lab A 10.0.0.9
  u16(&m, DNS_TYPE_A);
  u16(&m, DNS_CLASS_IN);
  u32(&m, 60);
  u16(&m, 4);
  bytes(&m, "\12\0\0\11", 4);
  rr_a(&m, 60, 6, 6, 6, 6);            // www.lab A: no longer the name sought, ignored
  CHECK_EQ(parse(&m, &r), DNS_OK);
  CHECK_STR(r.cname, "host.lab");
  CHECK_EQ(r.naddrs, 1);
  CHECK_EQ(r.addrs[0], ip(10, 0, 0, 9));
}

static void
test_nxdomain_and_other_rcodes(void)
{
  struct msg m;
  struct dns_reply r;
  reply(&m, DNS_NXDOMAIN, 0);
  CHECK_EQ(parse(&m, &r), DNS_OK);
  CHECK_EQ(r.rcode, DNS_NXDOMAIN);
  CHECK_EQ(r.naddrs, 0);
  CHECK_STR(dns_rcodename(r.rcode), "NXDOMAIN");
  CHECK_STR(dns_rcodename(DNS_REFUSED), "REFUSED");
  CHECK_STR(dns_rcodename(12), "?");
}

static void
test_other_records_and_sections_are_skipped(void)
{
  struct msg m;
  struct dns_reply r;
  reply(&m, 0, 2);
  u16(&m, 0xC00C);                     // an AAAA record
  u16(&m, DNS_TYPE_AAAA);
  u16(&m, DNS_CLASS_IN);
  u32(&m, 5);
  u16(&m, 16);
  bytes(&m, "0123456789abcdef", 16);
  rr_a(&m, 5, 10, 1, 2, 3);
  m.buf[9] = 1;                        // an authority record is announced but absent: fine
  CHECK_EQ(parse(&m, &r), DNS_OK);
  CHECK_EQ(r.naddrs, 1);
}

static void
test_many_answers_are_cut(void)
{
  struct msg m;
  struct dns_reply r;
  reply(&m, 0, 20);
  for (int i = 0; i < 20; i++)
    rr_a(&m, 1, 10, 0, 1, i);
  CHECK_EQ(parse(&m, &r), DNS_OK);
  CHECK_EQ(r.naddrs, DNS_MAXADDRS);
}

// ---- hostile replies -------------------------------------------------------------------

static void
test_every_truncation_is_refused(void)
{
  struct msg m;
  struct dns_reply r;
  reply(&m, 0, 2);
  rr_a(&m, 300, 10, 0, 0, 7);
  rr_a(&m, 300, 10, 0, 0, 8);
  for (uint n = 0; n < m.len; n++) {
    uchar *p = exact(m.buf, n);
    int err = dns_parse(p, n, &r);
    free(p);
    CHECK_EQ(err, n < DNS_HDRLEN ? DNS_ESHORT : DNS_ETRUNC);
  }
  CHECK_EQ(parse(&m, &r), DNS_OK);
}

static void
test_compression_loops_are_refused(void)
{
  struct msg m;
  struct dns_reply r;
  // The question's name points at itself.
  reply(&m, 0, 0);
  m.buf[12] = 0xC0;
  m.buf[13] = 12;
  CHECK_EQ(parse(&m, &r), DNS_ELOOP);
  // An answer's name points forwards, to a pointer back to the answer.
  reply(&m, 0, 1);
  uint at = m.len;
  u16(&m, 0xC000 | (at + 2));
  u16(&m, 0xC000 | at);
  CHECK_EQ(parse(&m, &r), DNS_ELOOP);
  // Two labels pointing at each other, through the question.
  reply(&m, 0, 1);
  at = m.len;
  bytes(&m, "\1a", 2);
  u16(&m, 0xC000 | (at + 4));
  bytes(&m, "\1b", 2);
  u16(&m, 0xC000 | at);
  CHECK_EQ(parse(&m, &r), DNS_ELOOP);
  // A CNAME whose target is a loop.
  reply(&m, 0, 1);
  u16(&m, 0xC00C);
  u16(&m, DNS_TYPE_CNAME);
  u16(&m, DNS_CLASS_IN);
  u32(&m, 1);
  u16(&m, 2);
  at = m.len;
  u16(&m, 0xC000 | at);
  CHECK_EQ(parse(&m, &r), DNS_ELOOP);
}

// Pointers that go backwards but chain many times: the hop limit ends them.
// The chain sits in the data of a record of a type the parser skips.
static void
test_long_pointer_chains_are_refused(void)
{
  struct msg m;
  struct dns_reply r;
  reply(&m, 0, 2);
  u16(&m, 0xC00C);
  u16(&m, 99);
  u16(&m, DNS_CLASS_IN);
  u32(&m, 1);
  u16(&m, 3 + 2 * (DNS_MAXHOPS + 1));
  uint prev = m.len;
  bytes(&m, "\1x\0", 3);
  for (int i = 0; i < DNS_MAXHOPS + 1; i++) {
    uint here = m.len;
    m.buf[m.len++] = 0xC0 | (prev >> 8);
    m.buf[m.len++] = prev;
    prev = here;
  }
  u16(&m, 0xC000 | prev);              // the second answer's name: 34 hops to "x"
  u16(&m, DNS_TYPE_A);
  u16(&m, DNS_CLASS_IN);
  u32(&m, 1);
  u16(&m, 4);
  bytes(&m, "\1\2\3\4", 4);
  CHECK_EQ(parse(&m, &r), DNS_ELOOP);
  m.buf[m.len - 15] -= 2;              // one link fewer: 33 hops, still too many
  CHECK_EQ(parse(&m, &r), DNS_ELOOP);
  m.buf[m.len - 15] -= 2;              // 32 hops are allowed
  CHECK_EQ(parse(&m, &r), DNS_OK);
  CHECK_EQ(r.naddrs, 0);               // (its name is "x", not the one asked for)
}

static void
test_bad_names_are_refused(void)
{
  struct msg m;
  struct dns_reply r;
  // A label length past the end of the message.
  reply(&m, 0, 1);
  bytes(&m, "\77abc", 4);
  CHECK_EQ(parse(&m, &r), DNS_ETRUNC);
  // Extended label types 0x40 and 0x80.
  reply(&m, 0, 0);
  m.buf[12] = 0x41;
  CHECK_EQ(parse(&m, &r), DNS_ENAME);
  reply(&m, 0, 0);
  m.buf[12] = 0x83;
  CHECK_EQ(parse(&m, &r), DNS_ENAME);
  // A name longer than 255 bytes on the wire, in labels of 63.
  reply(&m, 0, 1);
  for (int i = 0; i < 5; i++) {
    m.buf[m.len++] = 63;
    memset(m.buf + m.len, 'q', 63);
    m.len += 63;
  }
  m.buf[m.len++] = 0;
  CHECK_EQ(parse(&m, &r), DNS_ENAME);
  // A label with a dot or a control character in it.
  reply(&m, 0, 0);
  m.buf[14] = '.';
  CHECK_EQ(parse(&m, &r), DNS_ENAME);
  reply(&m, 0, 0);
  m.buf[14] = '\n';
  CHECK_EQ(parse(&m, &r), DNS_ENAME);
}

static void
test_record_lengths_past_the_end(void)
{
  struct msg m;
  struct dns_reply r;
  reply(&m, 0, 1);
  rr_a(&m, 1, 1, 2, 3, 4);
  m.buf[m.len - 6] = 0x10;             // rdlength 4096
  CHECK_EQ(parse(&m, &r), DNS_ETRUNC);
  reply(&m, 0, 1);
  rr_a(&m, 1, 1, 2, 3, 4);
  m.buf[m.len - 5] = 5;                // rdlength 5 for an A record: runs out
  CHECK_EQ(parse(&m, &r), DNS_ETRUNC);
  reply(&m, 0, 1);
  rr_a(&m, 1, 1, 2, 3, 4);
  m.buf[m.len - 5] = 3;                // 3 bytes for an A record
  m.len--;
  CHECK_EQ(parse(&m, &r), DNS_ERDATA);
  reply(&m, 0, 5);                     // five answers announced, one there
  rr_a(&m, 1, 1, 2, 3, 4);
  CHECK_EQ(parse(&m, &r), DNS_ETRUNC);
}

static void
test_not_a_reply(void)
{
  struct msg m;
  struct dns_reply r;
  reply(&m, 0, 0);
  m.buf[2] &= 0x7F;                    // QR off: a query
  CHECK_EQ(parse(&m, &r), DNS_ENOTREPLY);
  reply(&m, 0, 0);
  m.buf[2] |= 0x10;                    // opcode 2 (status)
  CHECK_EQ(parse(&m, &r), DNS_ENOTREPLY);
  reply(&m, 0, 0);
  m.buf[5] = 2;                        // two questions
  CHECK_EQ(parse(&m, &r), DNS_EQDCOUNT);
  reply(&m, 0, 0);
  m.buf[5] = 0;
  CHECK_EQ(parse(&m, &r), DNS_EQDCOUNT);
}

static void
test_samename(void)
{
  CHECK(dns_samename("a.b", "A.B."));
  CHECK(dns_samename("", "."));
  CHECK(!dns_samename("a.b", "a.bc"));
  CHECK(!dns_samename("ab", "a.b"));
  CHECK_STR(dns_reason(DNS_ELOOP), "compression loop");
  CHECK_STR(dns_reason(3), "?");
}

// ---- a crude fuzzer -------------------------------------------------------------------------

static void
test_random_mutations_never_crash(void)
{
  struct msg good;
  reply(&good, 0, 3);
  u16(&good, 0xC00C);
  u16(&good, DNS_TYPE_CNAME);
  u16(&good, DNS_CLASS_IN);
  u32(&good, 60);
  u16(&good, 7);
  uint host = good.len;
  bytes(&good, "\4host\xC0\x10", 7);
  u16(&good, 0xC000 | host);
  u16(&good, DNS_TYPE_A);
  u16(&good, DNS_CLASS_IN);
  u32(&good, 60);
  u16(&good, 4);
  bytes(&good, "\12\0\0\11", 4);
  rr_a(&good, 60, 10, 0, 0, 1);
  unsigned seed = 777;
  int ok = 0;
  for (int round = 0; round < 30000; round++) {
    struct msg m = good;
    for (int i = 0; i < 1 + round % 6; i++) {
      seed = seed * 1103515245 + 12345;
      m.buf[(seed >> 8) % m.len] = seed >> 20;
    }
    seed = seed * 1103515245 + 12345;
    if (seed % 5 == 0)
      m.len = (seed >> 8) % m.len;
    struct dns_reply r;
    int err = parse(&m, &r);
    CHECK(err <= 0 && err > -DNS_NREASONS);
    if (err == DNS_OK) {
      ok++;
      CHECK(r.naddrs <= DNS_MAXADDRS);
      CHECK(strlen(r.qname) < DNS_NAMELEN && strlen(r.cname) < DNS_NAMELEN);
    }
  }
  CHECK(ok > 0);
}

TESTS(
  T(test_query_layout),
  T(test_query_refuses_names_it_cannot_send),
  T(test_parse_answers),
  T(test_cname_chain_is_followed),
  T(test_nxdomain_and_other_rcodes),
  T(test_other_records_and_sections_are_skipped),
  T(test_many_answers_are_cut),
  T(test_every_truncation_is_refused),
  T(test_compression_loops_are_refused),
  T(test_long_pointer_chains_are_refused),
  T(test_bad_names_are_refused),
  T(test_record_lengths_past_the_end),
  T(test_not_a_reply),
  T(test_samename),
  T(test_random_mutations_never_crash),
)
