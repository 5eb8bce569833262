// Pure wire-format code (see wire.h). Byte-at-a-time access throughout: no
// alignment assumptions about where a header sits in a buffer. (wire_sum
// reads 32-bit words, through memcpy, which assumes no alignment either.)

#include "kernel/types.h"
#include "kernel/net/wire.h"

#define ETHERTYPE_IPV4 0x0800

ushort
wire_htons(ushort v)
{
  return (ushort)((v << 8) | (v >> 8));
}

uint
wire_htonl(uint v)
{
  return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
}

static void
copy(uchar *dst, const uchar *src, uint n)
{
  while (n-- > 0)
    *dst++ = *src++;
}

static int
same(const uchar *a, const uchar *b, uint n)
{
  while (n-- > 0)
    if (*a++ != *b++)
      return 0;
  return 1;
}

static ushort
get16(const uchar *p)
{
  return (ushort)(p[0] << 8 | p[1]);
}

static void
put16(uchar *p, ushort v)
{
  p[0] = v >> 8;
  p[1] = v;
}

// Network-order 32-bit value kept as it lies in memory (in network order).
static uint
getaddr(const uchar *p)
{
  uint v;
  copy((uchar *)&v, p, 4);
  return v;
}

static void
putaddr(uchar *p, uint v)
{
  copy(p, (const uchar *)&v, 4);
}

int
wire_ether_parse(const uchar *frame, uint len, struct wire_ether *out)
{
  if (len < WIRE_ETH_HLEN)
    return -1;
  copy(out->dst, frame, WIRE_ETH_ALEN);
  copy(out->src, frame + 6, WIRE_ETH_ALEN);
  out->type = get16(frame + 12);
  return 0;
}

void
wire_ether_fill(uchar *hdr, const uchar *dst, const uchar *src, ushort type)
{
  copy(hdr, dst, WIRE_ETH_ALEN);
  copy(hdr + 6, src, WIRE_ETH_ALEN);
  put16(hdr + 12, type);
}

int
wire_ether_class(const uchar *dst, const uchar *mine)
{
  static const uchar bcast[WIRE_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  if (same(dst, mine, WIRE_ETH_ALEN))
    return WIRE_HOST;
  if (same(dst, bcast, WIRE_ETH_ALEN))
    return WIRE_BROADCAST;
  if (dst[0] & 1)
    return WIRE_MULTICAST;
  return WIRE_OTHERHOST;
}

// A sender that no host can be: a group MAC address, or the limited
// broadcast or a multicast IPv4 address.
static int
badsender(const uchar *sha, uint spa)
{
  uint a = wire_htonl(spa);
  return (sha[0] & 1) || a == 0xFFFFFFFF || (a >> 28) == 0xE;
}

int
wire_arp_parse(const uchar *p, uint len, struct wire_arp *out)
{
  if (len < WIRE_ARP_LEN)
    return WIRE_ARP_SHORT;
  if (get16(p) != 1 || get16(p + 2) != ETHERTYPE_IPV4 || p[4] != WIRE_ETH_ALEN || p[5] != 4)
    return WIRE_ARP_FORMAT;
  out->op = get16(p + 6);
  if (out->op != 1 && out->op != 2)
    return WIRE_ARP_OPCODE;
  copy(out->sha, p + 8, WIRE_ETH_ALEN);
  out->spa = getaddr(p + 14);
  copy(out->tha, p + 18, WIRE_ETH_ALEN);
  out->tpa = getaddr(p + 24);
  if (badsender(out->sha, out->spa))
    return WIRE_ARP_SENDER;
  return WIRE_ARP_OK;
}

void
wire_arp_fill(uchar *p, const struct wire_arp *m)
{
  put16(p, 1);
  put16(p + 2, ETHERTYPE_IPV4);
  p[4] = WIRE_ETH_ALEN;
  p[5] = 4;
  put16(p + 6, m->op);
  copy(p + 8, m->sha, WIRE_ETH_ALEN);
  putaddr(p + 14, m->spa);
  copy(p + 18, m->tha, WIRE_ETH_ALEN);
  putaddr(p + 24, m->tpa);
}

int
wire_inet_aton(const char *s, uint *addr)
{
  uint a = 0;
  for (int i = 0; i < 4; i++) {
    if (*s < '0' || *s > '9')
      return -1;
    uint part = 0;
    for (int digits = 0; *s >= '0' && *s <= '9'; s++, digits++) {
      part = part * 10 + (*s - '0');
      if (digits >= 3 || part > 255)
        return -1;
    }
    a = a << 8 | part;
    if (i < 3 && *s++ != '.')
      return -1;
  }
  if (*s != 0)
    return -1;
  *addr = wire_htonl(a);
  return 0;
}

// RFC 1071: the 16-bit ones' complement of the ones' complement sum. The
// result is in network order, ready to store; a buffer that includes a
// correct checksum sums to 0.
uint
wire_sum(const void *data, uint len, uint sum)
{
  // The ones' complement sum does not depend on byte order (RFC 1071 2(B)):
  // add the data as little-endian 32-bit words into 64 bits, fold to 16,
  // swap the two bytes once. Four bytes a step, where 16-bit big-endian
  // loads took two and a byte swap each: under TCG every step of this loop
  // is several translated instructions, and TCP sums every byte it moves.
  const uchar *p = data;
  uint64 acc = 0;
  uint w;
  for (; len >= 16; len -= 16, p += 16) {
    __builtin_memcpy(&w, p, 4); acc += w;
    __builtin_memcpy(&w, p + 4, 4); acc += w;
    __builtin_memcpy(&w, p + 8, 4); acc += w;
    __builtin_memcpy(&w, p + 12, 4); acc += w;
  }
  for (; len >= 4; len -= 4, p += 4) {
    __builtin_memcpy(&w, p, 4);
    acc += w;
  }
  if (len >= 2) {
    acc += p[0] | p[1] << 8;
    p += 2;
    len -= 2;
  }
  if (len)
    acc += p[0];   // the last odd byte is the high byte of a big-endian word
  while (acc >> 16)
    acc = (acc & 0xFFFF) + (acc >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  return sum + wire_htons((ushort)acc);
}

ushort
wire_sumfinish(uint sum)
{
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  return wire_htons(~sum & 0xFFFF);
}

ushort
wire_cksum(const void *data, uint len)
{
  return wire_sumfinish(wire_sum(data, len, 0));
}
