// libFuzzer target "dns": the stub resolver's reply parser
// (user/lib/dnswire.c) on the input, given exactly its length, where
// AMNESIA:33 and NAME:WRECK found their bugs in other stacks. A reply that
// parses must match its own question and hold terminated names; and a
// query built for a name made of the input must parse back (as a reply) to
// the same name.

#include "tests/host/check.h"
#include "kernel/types.h"
#include "user/lib/dnswire.h"

int LLVMFuzzerTestOneInput(const uchar *data, uint len);

static void
roundtrip(const uchar *data, uint len)
{
  char name[DNS_NAMELEN];
  uchar query[DNS_MAXMSG];
  struct dns_reply r;
  uint n = len < sizeof name - 1 ? len : sizeof name - 1;
  memcpy(name, data, n);
  name[n] = 0;
  int qlen = dns_query(query, sizeof query, 0x1234, name, DNS_TYPE_A);
  if (qlen < 0)
    return;
  query[2] |= DNS_QR >> 8;                         // as if the server answered it, empty
  if (dns_parse(query, qlen, &r) != DNS_OK || !dns_samename(r.qname, name) ||
      dns_match(&r, 0x1234, name, DNS_TYPE_A) != DNS_OK)
    abort();
}

int
LLVMFuzzerTestOneInput(const uchar *data, uint len)
{
  struct dns_reply r;
  if (dns_parse(data, len, &r) == DNS_OK) {
    if (strnlen(r.qname, sizeof r.qname) == sizeof r.qname ||
        strnlen(r.cname, sizeof r.cname) == sizeof r.cname || r.naddrs < 0 ||
        r.naddrs > DNS_MAXADDRS)
      abort();
    if (r.qclass == DNS_CLASS_IN && dns_match(&r, r.id, r.qname, r.qtype) != DNS_OK)
      abort();   // a reply is the answer to its own question (asked in class IN)
  }
  roundtrip(data, len);
  return 0;
}
