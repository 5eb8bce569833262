// libFuzzer target "wire": every parser of kernel/net/wire.c on the input,
// given exactly the input's length (so AddressSanitizer sees any read past
// it), and the checksum in pieces agreeing with the checksum in one go.

#include "tests/host/check.h"
#include "kernel/net/netos.h"
#include "kernel/net/wire.h"

int LLVMFuzzerTestOneInput(const uchar *data, uint len);

int
LLVMFuzzerTestOneInput(const uchar *data, uint len)
{
  struct wire_ether eh;
  struct wire_arp ah;
  uint addr;

  if (wire_ether_parse(data, len, &eh) == 0) {
    wire_ether_class(eh.dst, eh.src);
    if (wire_arp_parse(data + WIRE_ETH_HLEN, len - WIRE_ETH_HLEN, &ah) == WIRE_ARP_OK) {
      uchar back[WIRE_ARP_LEN];
      struct wire_arp again;
      wire_arp_fill(back, &ah);
      if (wire_arp_parse(back, sizeof back, &again) != WIRE_ARP_OK || again.op != ah.op ||
          memcmp(again.sha, ah.sha, 6) != 0 || again.spa != ah.spa ||
          memcmp(again.tha, ah.tha, 6) != 0 || again.tpa != ah.tpa)   // not memcmp of the
                                                                      // structs: padding
        panic("wire: an ARP message parsed, filled and parsed again changed");
    }
  }
  wire_arp_parse(data, len, &ah);

  char *s = malloc(len + 1);
  memmove(s, data, len);
  s[len] = 0;
  wire_inet_aton(s, &addr);
  free(s);

  uint split = len ? data[0] % (len + 1) : 0;
  split &= ~1u;   // pieces of even length, the last may be odd
  uint whole = wire_cksum(data, len);
  uint parts = wire_sumfinish(wire_sum(data + split, len - split, wire_sum(data, split, 0)));
  if (whole != parts)
    panic("wire: checksum in pieces %x differs from %x", parts, whole);
  return 0;
}
