// libFuzzer target "dhcp": the DHCP client's message and frame parsers
// (user/lib/dhcpwire.c) on the input, given exactly its length. A message
// that parses must make sense: its times ordered, its strings terminated.
// The input is tried as a DHCP message and as a whole Ethernet frame.

#include "tests/host/check.h"
#include "kernel/types.h"
#include "user/lib/dhcpwire.h"

int LLVMFuzzerTestOneInput(const uchar *data, uint len);

static void
parsed(const struct dhcp_msg *m)
{
  static const uchar chaddr[6] = { 0x52, 0x54, 0, 0, 0, 2 };
  uint t1, t2;
  dhcp_check(m, m->xid, m->chaddr);
  dhcp_check(m, m->xid ^ 1, chaddr);
  dhcp_times(m, &t1, &t2);
  if ((m->have & DHCP_HAVE_LEASE) && m->lease && (t1 > t2 || t2 > m->lease))
    abort();   // the client would renew after rebinding, or after the lease ended
  if (strnlen(m->domain, sizeof m->domain) == sizeof m->domain ||
      strnlen(m->message, sizeof m->message) == sizeof m->message)
    abort();   // a string the client will print runs past its buffer
  if (m->nrouters < 0 || m->nrouters > DHCP_MAXADDRS || m->ndns < 0 || m->ndns > DHCP_MAXADDRS)
    abort();
}

int
LLVMFuzzerTestOneInput(const uchar *data, uint len)
{
  struct dhcp_msg m;
  const uchar *payload;
  uint plen, srcip;

  if (dhcp_parse(data, len, &m) == DHCP_OK)
    parsed(&m);
  if (dhcp_unframe(data, len, &payload, &plen, &srcip) == 0) {
    if (payload < data || payload + plen > data + len)
      abort();   // the payload must lie inside the frame
    if (dhcp_parse(payload, plen, &m) == DHCP_OK)
      parsed(&m);
  }
  return 0;
}
