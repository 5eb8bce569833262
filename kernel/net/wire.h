// Pure wire-format code: building, parsing and checking Ethernet and ARP
// headers, dotted quads and the Internet checksum. Nothing here touches
// kernel state, so the same file compiles on the host for unit tests
// (tests/cunit).
#ifndef XV6NET_WIRE_H
#define XV6NET_WIRE_H
#include "kernel/types.h"

#define WIRE_ETH_ALEN 6
#define WIRE_ETH_HLEN 14
#define WIRE_ETH_ZLEN 60      // shortest frame, FCS excluded
#define WIRE_ARP_LEN  28      // ARP for IPv4 over Ethernet

// Destination classes (Linux's PACKET_* values).
#define WIRE_HOST      0
#define WIRE_BROADCAST 1
#define WIRE_MULTICAST 2
#define WIRE_OTHERHOST 3

struct wire_ether {
  uchar dst[WIRE_ETH_ALEN];
  uchar src[WIRE_ETH_ALEN];
  ushort type;              // host order
};

// An ARP message, addresses in network order.
struct wire_arp {
  ushort op;                // 1 request, 2 reply (host order)
  uchar sha[WIRE_ETH_ALEN];
  uint spa;
  uchar tha[WIRE_ETH_ALEN];
  uint tpa;
};

// Why arp_parse refused a message.
#define WIRE_ARP_OK        0
#define WIRE_ARP_SHORT    -1   // fewer than 28 bytes
#define WIRE_ARP_FORMAT   -2   // not Ethernet/IPv4 (htype, ptype, hlen, plen)
#define WIRE_ARP_OPCODE   -3   // neither request nor reply
#define WIRE_ARP_SENDER   -4   // sender MAC or IP is broadcast or multicast

int    wire_ether_parse(const uchar *frame, uint len, struct wire_ether *out);
void   wire_ether_fill(uchar *hdr, const uchar *dst, const uchar *src, ushort type);
int    wire_ether_class(const uchar *dst, const uchar *mine);
int    wire_arp_parse(const uchar *p, uint len, struct wire_arp *out);
void   wire_arp_fill(uchar *p, const struct wire_arp *m);
int    wire_inet_aton(const char *s, uint *addr);   // 0, or -1 if malformed
ushort wire_cksum(const void *data, uint len);      // Internet checksum (RFC 1071)
// The same in pieces: add even-length pieces (the last may be odd), then finish.
uint   wire_sum(const void *data, uint len, uint sum);
ushort wire_sumfinish(uint sum);
ushort wire_htons(ushort v);
uint   wire_htonl(uint v);

#endif
