// Network arguments, checked the way user/lib/args.c checks numbers: each
// function returns the value or, on bad input, names the argument, says
// what is wrong, prints the usage and exits 2.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

uint
argaddr(const char *opt, const char *what, const char *s)
{
  uint addr;
  if (inet_aton(s, &addr) < 0)
    argbad(opt, what, s, "not an IPv4 address (like 10.0.2.15)");
  return addr;
}

// A netmask: an address whose one bits come first (255.255.255.0, not
// 255.0.255.0).
uint
argmask(const char *opt, const char *what, const char *s)
{
  uint m = ntohl(argaddr(opt, what, s));
  if ((~m & (~m + 1)) != 0)
    argbad(opt, what, s, "its one bits are not contiguous");
  return htonl(m);
}

void
argmac(const char *opt, const char *what, const char *s, uchar mac[6])
{
  if (ether_aton(s, mac) < 0)
    argbad(opt, what, s, "not a MAC address (six hex pairs, like 52:54:00:12:34:56)");
}

int
argport(const char *opt, const char *what, const char *s)
{
  return argnum(opt, what, s, 1, 65535);
}

// An existing interface; its index, and its state in *info.
int
argiface(const char *opt, const char *s, struct netif_info *info)
{
  int index = if_nametoindex2(s, info);
  if (index < 0)
    argbad(opt, "interface", s, "no such interface");
  return index;
}

// An ethertype in hex ("88b5" or "0x88b5"), 0x0600 to 0xffff: smaller
// values in that field are 802.3 lengths, not types.
uint
argethertype(const char *opt, const char *s)
{
  const char *p = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? s + 2 : s;
  uint v = 0;
  int digits = 0;
  for (; digitval(*p) < 16 && digits <= 4; p++, digits++)
    v = v << 4 | digitval(*p);
  if (digits == 0 || digits > 4 || *p)
    argbad(opt, "ethertype", s, digits > 4 ? "must be from 0600 to ffff" : "not a hex number");
  if (v < 0x600)
    argbad(opt, "ethertype", s, "must be from 0600 to ffff (smaller values are lengths)");
  return v;
}

// A host: a dotted quad, or a name from /etc/hosts or DNS. Digits and dots
// alone must make a valid address ("10.0.0.300" is a typo, not a name: a
// usage error). 0 with *addr, or -1 when a name does not resolve, h_errno
// saying why: the caller reports it as its Linux namesake does.
int
arghost(const char *opt, const char *what, const char *s, uint *addr)
{
  const char *p = s;
  while (isdigit(*p) || *p == '.')
    p++;
  if (*p == 0 || inet_aton(s, addr) == 0) {
    *addr = argaddr(opt, what, s);
    return 0;
  }
  return resolve(s, addr);
}
