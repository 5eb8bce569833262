// DHCP messages and their frames (see dhcpwire.h). Byte-at-a-time access
// throughout: no alignment or byte-order assumptions about the buffers.

#include "kernel/types.h"
#include "user/lib/dhcpwire.h"

#define ETHERTYPE_IPV4 0x0800
#define IPPROTO_UDP    17
#define OFF_SNAME      44
#define OFF_FILE       108
#define SNAME_LEN      64
#define FILE_LEN       128

static const uchar cookie[4] = { 99, 130, 83, 99 };
static const uchar params[] = { DHO_SUBNET_MASK, DHO_ROUTERS, DHO_DNS, DHO_DOMAIN,
                                DHO_LEASE, DHO_T1, DHO_T2 };

// ---- bytes ---------------------------------------------------------------------

static uint
get16(const uchar *p)
{
  return (uint)p[0] << 8 | p[1];
}

static uint
get32(const uchar *p)
{
  return (uint)p[0] << 24 | (uint)p[1] << 16 | (uint)p[2] << 8 | p[3];
}

static void
put16(uchar *p, uint v)
{
  p[0] = v >> 8;
  p[1] = v;
}

static void
put32(uchar *p, uint v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

// An address: the four bytes as they are, in a uint (network order).
static uint
getaddr(const uchar *p)
{
  uint v;
  uchar *d = (uchar *)&v;
  for (int i = 0; i < 4; i++)
    d[i] = p[i];
  return v;
}

static void
putaddr(uchar *p, uint v)
{
  const uchar *s = (const uchar *)&v;
  for (int i = 0; i < 4; i++)
    p[i] = s[i];
}

static void
copy(uchar *dst, const uchar *src, uint n)
{
  while (n-- > 0)
    *dst++ = *src++;
}

static void
zero(uchar *p, uint n)
{
  while (n-- > 0)
    *p++ = 0;
}

static int
same(const uchar *a, const uchar *b, uint n)
{
  for (uint i = 0; i < n; i++)
    if (a[i] != b[i])
      return 0;
  return 1;
}

// The address as a host-order number (a.b.c.d is 0xaabbccdd).
static uint
hostorder(uint addr)
{
  uchar b[4];
  putaddr(b, addr);
  return get32(b);
}

// ---- options -------------------------------------------------------------------

enum { MAINOPTS, FILEOPTS, SNAMEOPTS };

struct parse {
  struct dhcp_msg *m;
  int overload;
  uchar seen[32];          // a bit per option code
};

// A domain name as a resolver can use it: letters, digits, '-', '.', no
// empty label. Trailing NULs (some servers send one) are dropped.
static int
takename(const uchar *v, uint len, char *out)
{
  while (len > 0 && v[len - 1] == 0)
    len--;
  if (len == 0 || len >= DHCP_NAMELEN || v[0] == '.')
    return DHCP_EVALUE;
  for (uint i = 0; i < len; i++) {
    uchar c = v[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || (c == '.' && v[i - 1] != '.');
    if (!ok)
      return DHCP_EVALUE;
    out[i] = c;
  }
  out[len] = 0;
  return DHCP_OK;
}

// A message for people: printable ASCII kept, anything else shown as '?'.
static void
takemessage(const uchar *v, uint len, char *out)
{
  uint n = len < DHCP_NAMELEN - 1 ? len : DHCP_NAMELEN - 1;
  for (uint i = 0; i < n; i++)
    out[i] = v[i] >= 32 && v[i] < 127 ? v[i] : '?';
  out[n] = 0;
}

static int
takeaddrs(const uchar *v, uint len, uint *addrs, int *n)
{
  if (len == 0 || len % 4 != 0)
    return DHCP_EOPTLEN;
  for (*n = 0; len >= 4 && *n < DHCP_MAXADDRS; v += 4, len -= 4)
    addrs[(*n)++] = getaddr(v);
  return DHCP_OK;
}

// A 4-byte option into *out.
static int
take32(const uchar *v, uint len, uint *out, int addr)
{
  if (len != 4)
    return DHCP_EOPTLEN;
  *out = addr ? getaddr(v) : get32(v);
  return DHCP_OK;
}

// Is code an option this file reads (and so may appear only once)?
static int
interpreted(uchar code)
{
  static const uchar codes[] = { DHO_SUBNET_MASK, DHO_ROUTERS, DHO_DNS, DHO_DOMAIN, DHO_LEASE,
                                 DHO_T1, DHO_T2, DHO_SERVERID, DHO_MESSAGE, DHO_MSGTYPE,
                                 DHO_OVERLOAD };
  for (uint i = 0; i < sizeof codes; i++)
    if (codes[i] == code)
      return 1;
  return 0;
}

static int
option(struct parse *ps, uchar code, const uchar *v, uint len, int field)
{
  struct dhcp_msg *m = ps->m;
  uchar bit = 1u << (code % 8);

  if (!interpreted(code))
    return DHCP_OK;   // options we do not use are skipped
  if (code == DHO_OVERLOAD && field != MAINOPTS)
    return DHCP_EOVERLOAD;
  // A second copy: RFC 3396 would concatenate long options; refused here,
  // since no server we know splits the few options read.
  if (ps->seen[code / 8] & bit)
    return DHCP_EDUP;
  ps->seen[code / 8] |= bit;
  switch (code) {
  case DHO_SUBNET_MASK:
    m->have |= DHCP_HAVE_MASK;
    return take32(v, len, &m->mask, 1);
  case DHO_ROUTERS:
    m->have |= DHCP_HAVE_ROUTERS;
    return takeaddrs(v, len, m->routers, &m->nrouters);
  case DHO_DNS:
    m->have |= DHCP_HAVE_DNS;
    return takeaddrs(v, len, m->dns, &m->ndns);
  case DHO_DOMAIN:
    m->have |= DHCP_HAVE_DOMAIN;
    return takename(v, len, m->domain);
  case DHO_LEASE:
    m->have |= DHCP_HAVE_LEASE;
    return take32(v, len, &m->lease, 0);
  case DHO_T1:
    m->have |= DHCP_HAVE_T1;
    return take32(v, len, &m->t1, 0);
  case DHO_T2:
    m->have |= DHCP_HAVE_T2;
    return take32(v, len, &m->t2, 0);
  case DHO_SERVERID:
    m->have |= DHCP_HAVE_SERVERID;
    return take32(v, len, &m->serverid, 1);
  case DHO_MESSAGE:
    m->have |= DHCP_HAVE_MESSAGE;
    takemessage(v, len, m->message);
    return DHCP_OK;
  case DHO_MSGTYPE:
    if (len != 1)
      return DHCP_EOPTLEN;
    m->have |= DHCP_HAVE_TYPE;
    m->type = v[0];
    return DHCP_OK;
  case DHO_OVERLOAD:
    if (len != 1)
      return DHCP_EOPTLEN;
    if (v[0] < 1 || v[0] > 3)
      return DHCP_EOVERLOAD;
    ps->overload = v[0];
    return DHCP_OK;
  default:
    return DHCP_OK;
  }
}

// The options in p[0..len). The main field must end with END; sname and
// file may also simply end.
static int
options(struct parse *ps, const uchar *p, uint len, int field)
{
  uint i = 0;

  while (i < len) {
    uchar code = p[i];
    if (code == DHO_PAD) {
      i++;
      continue;
    }
    if (code == DHO_END)
      return DHCP_OK;
    if (len - i < 2 || p[i + 1] > len - i - 2)
      return DHCP_ETRUNC;
    int err = option(ps, code, p + i + 2, p[i + 1], field);
    if (err != DHCP_OK)
      return err;
    i += 2 + p[i + 1];
  }
  return field == MAINOPTS ? DHCP_ETRUNC : DHCP_OK;
}

int
dhcp_parse(const uchar *p, uint len, struct dhcp_msg *m)
{
  struct parse ps;
  int err;

  zero((uchar *)m, sizeof *m);
  zero((uchar *)&ps, sizeof ps);
  ps.m = m;
  if (len < DHCP_MINLEN)
    return DHCP_ESHORT;
  if ((p[0] != BOOTREQUEST && p[0] != BOOTREPLY) || p[1] != 1 || p[2] != 6)
    return DHCP_EFORMAT;
  if (!same(p + DHCP_FIXEDLEN, cookie, 4))
    return DHCP_ECOOKIE;
  m->op = p[0];
  m->xid = get32(p + 4);
  m->flags = get16(p + 10);
  m->ciaddr = getaddr(p + 12);
  m->yiaddr = getaddr(p + 16);
  m->siaddr = getaddr(p + 20);
  m->giaddr = getaddr(p + 24);
  copy(m->chaddr, p + 28, 6);
  if ((err = options(&ps, p + DHCP_MINLEN, len - DHCP_MINLEN, MAINOPTS)) != DHCP_OK)
    return err;
  // RFC 2131 4.1: the file field first, then sname.
  if ((ps.overload & 1) && (err = options(&ps, p + OFF_FILE, FILE_LEN, FILEOPTS)) != DHCP_OK)
    return err;
  if ((ps.overload & 2) && (err = options(&ps, p + OFF_SNAME, SNAME_LEN, SNAMEOPTS)) != DHCP_OK)
    return err;
  if (!(m->have & DHCP_HAVE_TYPE) || m->type < DHCPDISCOVER || m->type > DHCPINFORM)
    return DHCP_ENOTYPE;
  return DHCP_OK;
}

// ---- what a client may take -------------------------------------------------------

static int
contiguous(uint mask)
{
  uint h = hostorder(mask);
  return h != 0 && (~h & (~h + 1)) == 0;   // ones, then only zeros
}

static int
usableaddr(uint addr, uint mask)
{
  uint h = hostorder(addr), top = h >> 24;
  if (h == 0 || h == 0xFFFFFFFF || top == 0 || top == 127 || top >= 224)
    return 0;
  uint hm = hostorder(mask);
  if (hm != 0 && hm < 0xFFFFFFFE)   // a /31 or /32 has no network or broadcast address
    return (h & ~hm) != 0 && (h & ~hm) != ~hm;
  return 1;
}

int
dhcp_check(const struct dhcp_msg *m, uint xid, const uchar chaddr[6])
{
  if (m->op != BOOTREPLY)
    return DHCP_EFORMAT;
  if (m->xid != xid || !same(m->chaddr, chaddr, 6))
    return DHCP_ENOTOURS;
  if (m->type != DHCPOFFER && m->type != DHCPACK && m->type != DHCPNAK)
    return DHCP_ENOTYPE;
  if (!(m->have & DHCP_HAVE_SERVERID) || m->serverid == 0)
    return DHCP_ENOSERVER;
  if (m->type == DHCPNAK)
    return DHCP_OK;
  if ((m->have & DHCP_HAVE_MASK) && !contiguous(m->mask))
    return DHCP_EMASK;
  if (!usableaddr(m->yiaddr, (m->have & DHCP_HAVE_MASK) ? m->mask : 0))
    return DHCP_EADDR;
  if (!(m->have & DHCP_HAVE_LEASE) || m->lease == 0)
    return DHCP_ELEASE;
  return DHCP_OK;
}

void
dhcp_times(const struct dhcp_msg *m, uint *t1, uint *t2)
{
  uint lease = m->lease;
  *t1 = (m->have & DHCP_HAVE_T1) ? m->t1 : lease / 2;
  *t2 = (m->have & DHCP_HAVE_T2) ? m->t2 : lease / 8 * 7 + lease % 8 * 7 / 8;
  if (!(*t1 < *t2 && *t2 < lease)) {
    *t1 = lease / 2;
    *t2 = lease / 8 * 7 + lease % 8 * 7 / 8;
  }
}

const char *
dhcp_reason(int reason)
{
  static const char *names[DHCP_NREASONS] = {
    "ok", "too short", "not Ethernet/BOOTP", "no magic cookie", "options truncated",
    "bad option length", "bad option overload", "option repeated", "bad option value",
    "no message type", "not ours", "no server identifier", "unusable address",
    "bad subnet mask", "lease time 0",
  };
  return reason <= 0 && -reason < DHCP_NREASONS ? names[-reason] : "?";
}

const char *
dhcp_typename(int type)
{
  static const char *names[] = { "?", "DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST",
                                 "DHCPDECLINE", "DHCPACK", "DHCPNAK", "DHCPRELEASE",
                                 "DHCPINFORM" };
  return type >= 1 && type <= DHCPINFORM ? names[type] : names[0];
}

// ---- building ------------------------------------------------------------------

static uchar *
putopt(uchar *o, uchar code, const uchar *v, uchar len)
{
  o[0] = code;
  o[1] = len;
  copy(o + 2, v, len);
  return o + 2 + len;
}

int
dhcp_build(uchar *buf, uint max, const struct dhcp_req *r)
{
  uchar v[8], *o;

  if (max < DHCP_BOOTPLEN)
    return -1;
  zero(buf, DHCP_BOOTPLEN);
  buf[0] = BOOTREQUEST;
  buf[1] = 1;
  buf[2] = 6;
  put32(buf + 4, r->xid);
  put16(buf + 8, r->secs);
  put16(buf + 10, r->flags);
  putaddr(buf + 12, r->ciaddr);
  copy(buf + 28, r->chaddr, 6);
  copy(buf + DHCP_FIXEDLEN, cookie, 4);
  o = buf + DHCP_MINLEN;
  v[0] = r->type;
  o = putopt(o, DHO_MSGTYPE, v, 1);
  v[0] = 1;   // hardware type Ethernet, then the address
  copy(v + 1, r->chaddr, 6);
  o = putopt(o, DHO_CLIENTID, v, 7);
  if (r->requested) {
    putaddr(v, r->requested);
    o = putopt(o, DHO_REQUESTED, v, 4);
  }
  if (r->serverid) {
    putaddr(v, r->serverid);
    o = putopt(o, DHO_SERVERID, v, 4);
  }
  if (r->type == DHCPDISCOVER || r->type == DHCPREQUEST) {
    put16(v, DHCP_MAXLEN);
    o = putopt(o, DHO_MAXSIZE, v, 2);
    o = putopt(o, DHO_PARAMS, params, sizeof params);
  }
  *o++ = DHO_END;
  return DHCP_BOOTPLEN;   // everything above fits in the 60 bytes of options
}

// ---- frames --------------------------------------------------------------------

// The Internet checksum's running sum over p[0..len) (RFC 1071).
static uint
sum16(const uchar *p, uint len, uint sum)
{
  for (; len > 1; p += 2, len -= 2)
    sum += get16(p);
  if (len)
    sum += (uint)p[0] << 8;
  return sum;
}

static uint
fold(uint sum)
{
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  return ~sum & 0xFFFF;
}

// The UDP checksum of udp[0..len) between src and dst (as in memory).
static uint
udpsum(const uchar *ipsrc, const uchar *ipdst, const uchar *udp, uint len)
{
  uint sum = sum16(ipsrc, 4, 0);
  sum = sum16(ipdst, 4, sum);
  sum += IPPROTO_UDP + len;
  return fold(sum16(udp, len, sum));
}

int
dhcp_frame(uchar *frame, uint max, const uchar srcmac[6], const uchar dstmac[6],
           uint srcip, uint dstip, const uchar *payload, uint len)
{
  uchar *ip = frame + 14, *udp = ip + 20;

  if (len > DHCP_MAXLEN || max < DHCP_FRAMEHDR + len)
    return -1;
  copy(frame, dstmac, 6);
  copy(frame + 6, srcmac, 6);
  put16(frame + 12, ETHERTYPE_IPV4);
  zero(ip, 20);
  ip[0] = 0x45;
  ip[1] = 0x10;             // low delay, as ISC dhclient sends
  put16(ip + 2, 20 + 8 + len);
  ip[8] = 64;
  ip[9] = IPPROTO_UDP;
  putaddr(ip + 12, srcip);
  putaddr(ip + 16, dstip);
  put16(ip + 10, fold(sum16(ip, 20, 0)));
  put16(udp, DHCP_CLIENT_PORT);
  put16(udp + 2, DHCP_SERVER_PORT);
  put16(udp + 4, 8 + len);
  put16(udp + 6, 0);
  copy(udp + 8, payload, len);
  uint sum = udpsum(ip + 12, ip + 16, udp, 8 + len);
  put16(udp + 6, sum == 0 ? 0xFFFF : sum);
  return DHCP_FRAMEHDR + len;
}

int
dhcp_unframe(const uchar *frame, uint flen, const uchar **payload, uint *len, uint *srcip)
{
  if (flen < DHCP_FRAMEHDR || get16(frame + 12) != ETHERTYPE_IPV4)
    return -1;
  const uchar *ip = frame + 14;
  uint hlen = (ip[0] & 0xF) * 4, total = get16(ip + 2);
  if ((ip[0] >> 4) != 4 || hlen < 20 || total < hlen + 8 || total > flen - 14)
    return -1;
  if (fold(sum16(ip, hlen, 0)) != 0 || ip[9] != IPPROTO_UDP)
    return -1;
  if ((get16(ip + 6) & 0x3FFF) != 0)   // a fragment (MF or an offset)
    return -1;
  const uchar *udp = ip + hlen;
  uint ulen = get16(udp + 4);
  if (get16(udp) != DHCP_SERVER_PORT || get16(udp + 2) != DHCP_CLIENT_PORT ||
      ulen < 8 || ulen > total - hlen)
    return -1;
  if (get16(udp + 6) != 0 && udpsum(ip + 12, ip + 16, udp, ulen) != 0)
    return -1;
  *payload = udp + 8;
  *len = ulen - 8;
  *srcip = getaddr(ip + 12);
  return 0;
}
