// DNS queries and replies (see dnswire.h). Byte-at-a-time access; every
// read is checked against the end of the message first.

#include "kernel/types.h"
#include "user/lib/dnswire.h"

#define MAXLABEL  63
#define MAXWIRE   255     // a name on the wire, length bytes included
#define OPCODE(f) (((f) >> 11) & 0xF)

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

static uint
slen(const char *s)
{
  uint n = 0;
  while (s[n])
    n++;
  return n;
}

static void
scopy(char *dst, const char *src, uint max)
{
  uint i = 0;
  for (; src[i] && i + 1 < max; i++)
    dst[i] = src[i];
  dst[i] = 0;
}

static int
lower(int c)
{
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int
dns_samename(const char *a, const char *b)
{
  uint la = slen(a), lb = slen(b);
  if (la > 0 && a[la - 1] == '.')
    la--;
  if (lb > 0 && b[lb - 1] == '.')
    lb--;
  if (la != lb)
    return 0;
  for (uint i = 0; i < la; i++)
    if (lower(a[i]) != lower(b[i]))
      return 0;
  return 1;
}

// ---- queries --------------------------------------------------------------------

static int
hostchar(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_';
}

// name as labels at out; returns the bytes written or DNS_EBADQUERY.
static int
putname(uchar *out, uint max, const char *name)
{
  uint n = slen(name), o = 0;
  if (n > 0 && name[n - 1] == '.')
    n--;
  if (n == 0 || n > MAXWIRE - 2 || n + 2 > max)
    return DNS_EBADQUERY;
  for (uint i = 0; i < n;) {
    uint start = i;
    while (i < n && name[i] != '.') {
      if (!hostchar(name[i]))
        return DNS_EBADQUERY;
      i++;
    }
    uint len = i - start;
    if (len == 0 || len > MAXLABEL)
      return DNS_EBADQUERY;
    out[o++] = len;
    for (uint k = 0; k < len; k++)
      out[o++] = name[start + k];
    if (i < n)
      i++;   // the dot
    if (i == n && name[n - 1] == '.')
      return DNS_EBADQUERY;   // "a..": an empty last label
  }
  out[o++] = 0;
  return o;
}

int
dns_query(uchar *buf, uint max, ushort id, const char *name, ushort qtype)
{
  if (max < DNS_HDRLEN + 4)
    return DNS_EBADQUERY;
  for (uint i = 0; i < DNS_HDRLEN; i++)
    buf[i] = 0;
  put16(buf, id);
  put16(buf + 2, DNS_RD);
  put16(buf + 4, 1);   // one question
  int n = putname(buf + DNS_HDRLEN, max - DNS_HDRLEN - 4, name);
  if (n < 0)
    return n;
  uchar *q = buf + DNS_HDRLEN + n;
  put16(q, qtype);
  put16(q + 2, DNS_CLASS_IN);
  return DNS_HDRLEN + n + 4;
}

// ---- names in replies --------------------------------------------------------------

// A label byte we can show and compare as text (no dot, no NUL, no control).
static int
labelchar(uchar c)
{
  return c > 0x20 && c < 0x7F && c != '.';
}

// Read the name at *off into out (text, no final dot; "" for the root) and
// move *off past it where it sits (a pointer is 2 bytes there).
static int
getname(const uchar *msg, uint len, uint *off, char *out)
{
  uint pos = *off, wire = 0, o = 0, hops = 0;
  int jumped = 0;

  for (;;) {
    if (pos >= len)
      return DNS_ETRUNC;
    uchar b = msg[pos];
    if ((b & 0xC0) == 0xC0) {
      if (pos + 1 >= len)
        return DNS_ETRUNC;
      uint target = (b & 0x3F) << 8 | msg[pos + 1];
      if (target >= pos || ++hops > DNS_MAXHOPS)
        return DNS_ELOOP;   // forwards or to itself could loop; backwards always ends
      if (!jumped)
        *off = pos + 2;
      jumped = 1;
      pos = target;
      continue;
    }
    if ((b & 0xC0) != 0)
      return DNS_ENAME;     // 0x40 and 0x80: extended label types
    wire += b + 1;
    if (wire > MAXWIRE)
      return DNS_ENAME;
    if (b == 0)
      break;
    if (b > len - pos - 1)
      return DNS_ETRUNC;
    if (o > 0)
      out[o++] = '.';
    for (uint i = 1; i <= b; i++) {
      if (!labelchar(msg[pos + i]))
        return DNS_ENAME;
      out[o++] = msg[pos + i];
    }
    pos += b + 1;
  }
  out[o] = 0;
  if (!jumped)
    *off = pos + 1;
  return DNS_OK;
}

// ---- replies ----------------------------------------------------------------------

struct rr {
  char name[DNS_NAMELEN];
  uint type, class, ttl, rdlen, rdata;   // rdata: offset of the data
};

static int
getrr(const uchar *p, uint len, uint *off, struct rr *rr)
{
  int err = getname(p, len, off, rr->name);
  if (err != DNS_OK)
    return err;
  if (len - *off < 10)
    return DNS_ETRUNC;
  const uchar *h = p + *off;
  rr->type = get16(h);
  rr->class = get16(h + 2);
  rr->ttl = get32(h + 4);
  rr->rdlen = get16(h + 8);
  rr->rdata = *off + 10;
  if (rr->rdlen > len - rr->rdata)
    return DNS_ETRUNC;
  *off = rr->rdata + rr->rdlen;
  return DNS_OK;
}

// Take one answer: an A record of the name sought, or a CNAME that moves it.
static int
answer(const uchar *p, uint len, const struct rr *rr, struct dns_reply *r, char *target,
       int *cnames)
{
  if (rr->class != DNS_CLASS_IN || !dns_samename(rr->name, target))
    return DNS_OK;
  if (rr->type == DNS_TYPE_A) {
    if (rr->rdlen != 4)
      return DNS_ERDATA;
    if (r->naddrs < DNS_MAXADDRS) {
      uchar *d = (uchar *)&r->addrs[r->naddrs++];
      for (int i = 0; i < 4; i++)
        d[i] = p[rr->rdata + i];
      if (r->naddrs == 1 || rr->ttl < r->ttl)
        r->ttl = rr->ttl;
    }
  } else if (rr->type == DNS_TYPE_CNAME && *cnames < DNS_MAXCNAME) {
    uint off = rr->rdata;
    int err = getname(p, len, &off, target);
    if (err != DNS_OK)
      return err;
    if (off != rr->rdata + rr->rdlen)
      return DNS_ERDATA;   // the name must fill the record exactly
    (*cnames)++;
    scopy(r->cname, target, DNS_NAMELEN);
  }
  return DNS_OK;
}

int
dns_parse(const uchar *p, uint len, struct dns_reply *r)
{
  char target[DNS_NAMELEN];
  struct rr rr;
  int err, cnames = 0;

  for (uint i = 0; i < sizeof *r; i++)
    ((uchar *)r)[i] = 0;
  if (len < DNS_HDRLEN)
    return DNS_ESHORT;
  r->id = get16(p);
  r->flags = get16(p + 2);
  r->rcode = r->flags & 0xF;
  if (!(r->flags & DNS_QR) || OPCODE(r->flags) != 0)
    return DNS_ENOTREPLY;
  if (get16(p + 4) != 1)
    return DNS_EQDCOUNT;
  r->ancount = get16(p + 6);
  uint off = DNS_HDRLEN;
  if ((err = getname(p, len, &off, r->qname)) != DNS_OK)
    return err;
  if (len - off < 4)
    return DNS_ETRUNC;
  r->qtype = get16(p + off);
  r->qclass = get16(p + off + 2);
  off += 4;
  scopy(target, r->qname, sizeof target);
  for (int i = 0; i < r->ancount; i++) {
    if ((err = getrr(p, len, &off, &rr)) != DNS_OK ||
        (err = answer(p, len, &rr, r, target, &cnames)) != DNS_OK)
      return err;
  }
  return DNS_OK;   // authority and additional records are not needed
}

int
dns_match(const struct dns_reply *r, ushort id, const char *name, ushort qtype)
{
  if (r->id != id)
    return DNS_EID;
  if (!dns_samename(r->qname, name) || r->qtype != qtype || r->qclass != DNS_CLASS_IN)
    return DNS_EQUESTION;
  return DNS_OK;
}

const char *
dns_reason(int reason)
{
  static const char *names[DNS_NREASONS] = {
    "ok", "too short", "not a reply", "truncated", "compression loop", "bad name",
    "not one question", "bad record data", "wrong ID", "wrong question", "bad query name",
  };
  return reason <= 0 && -reason < DNS_NREASONS ? names[-reason] : "?";
}

const char *
dns_rcodename(int rcode)
{
  static const char *names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
                                 "REFUSED" };
  return rcode >= 0 && rcode <= DNS_REFUSED ? names[rcode] : "?";
}
