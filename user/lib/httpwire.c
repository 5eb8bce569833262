// HTTP/1.1 request heads, targets and responses (see httpwire.h). Every
// read is bounded by the length the caller gave; nothing is assumed to be
// NUL-terminated.

#include "kernel/types.h"
#include "user/lib/httpwire.h"

static int
lower(int c)
{
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

// a[0..n) equals the NUL-terminated word, ignoring case
static int
caseis(const char *a, int n, const char *word)
{
  int i = 0;
  for (; i < n && word[i]; i++)
    if (lower((uchar)a[i]) != lower((uchar)word[i]))
      return 0;
  return i == n && word[i] == 0;
}

static int
hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = lower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// The end of the line starting at p (the index of its LF), or -1.
static int
lineend(const char *buf, int p, int len)
{
  for (; p < len; p++)
    if (buf[p] == '\n')
      return p;
  return -1;
}

// The length of a line without its CR LF (or LF).
static int
bare(const char *buf, int start, int lf)
{
  return lf > start && buf[lf - 1] == '\r' ? lf - 1 - start : lf - start;
}

static int
skipblank(const char *buf, int len)
{
  int p = 0;
  while (p < len && (buf[p] == '\r' || buf[p] == '\n'))
    p++;
  return p;
}

int
http_headlen(const char *buf, int len)
{
  int start = skipblank(buf, len), p = start;
  for (;;) {
    int lf = lineend(buf, p, len);
    if (lf < 0)
      return 0;
    if (bare(buf, p, lf) == 0 && p > start)
      return lf + 1;
    p = lf + 1;
  }
}

int
http_overlong(const char *buf, int len)
{
  int start = skipblank(buf, len);
  int lf = lineend(buf, start, len);
  if (lf < 0 && len - start > HTTP_MAXTARGET + 32)
    return 414;   // the request line alone is too long for any target we take
  if (len >= HTTP_MAXHEAD)
    return lf < 0 ? 414 : 431;
  return 0;
}

static int
methodof(const char *m, int n)
{
  static const char *const known[] = {
    "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH",
  };
  if (n == 3 && m[0] == 'G' && m[1] == 'E' && m[2] == 'T')
    return HTTP_GET;
  if (n == 4 && m[0] == 'H' && m[1] == 'E' && m[2] == 'A' && m[3] == 'D')
    return HTTP_HEAD;
  for (uint i = 0; i < sizeof known / sizeof known[0]; i++) {
    int j = 0;
    while (j < n && known[i][j] == m[j])
      j++;
    if (j == n && known[i][j] == 0)
      return HTTP_KNOWN;
  }
  return HTTP_UNKNOWN;
}

// A method is a token: visible characters other than separators.
static int
istoken(int c)
{
  if (c <= ' ' || c >= 127)
    return 0;
  for (const char *s = "\"(),/:;<=>?@[\\]{}"; *s; s++)
    if (c == *s)
      return 0;
  return 1;
}

// "METHOD SP target SP HTTP/1.x": 0 or a status.
static int
requestline(const char *l, int n, struct http_req *r)
{
  int m = 0;
  while (m < n && istoken((uchar)l[m]))
    m++;
  if (m == 0 || m >= n || l[m] != ' ')
    return 400;
  int t = m + 1, te = t;
  while (te < n && l[te] != ' ')
    te++;
  if (te == t || te >= n)
    return 400;
  for (int i = t; i < te; i++)
    if ((uchar)l[i] <= ' ' || (uchar)l[i] >= 127)
      return 400;
  const char *v = l + te + 1;
  int vn = n - te - 1;
  if (vn != 8 || v[0] != 'H' || v[1] != 'T' || v[2] != 'T' || v[3] != 'P' || v[4] != '/' ||
      v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
    return 400;
  if (v[5] != '1')
    return 505;
  r->method = methodof(l, m);
  r->target = l + t;
  r->targetlen = te - t;
  r->minor = v[7] - '0';
  r->line = l;
  r->linelen = n;
  return r->targetlen > HTTP_MAXTARGET ? 414 : 0;
}

// Whether the comma-separated list v[0..n) holds word (Connection: a, b).
static int
listhas(const char *v, int n, const char *word)
{
  int i = 0;
  while (i < n) {
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
      i++;
    int s = i;
    while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
      i++;
    if (i > s && caseis(v + s, i - s, word))
      return 1;
  }
  return 0;
}

// Content-Length: digits only, one value; -2 if malformed.
static int
contentlength(const char *v, int n)
{
  int val = 0;
  if (n == 0)
    return -2;
  for (int i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9' || val > 100000000)
      return -2;
    val = val * 10 + (v[i] - '0');
  }
  return val;
}

// One field line "name: value": 0 or 400.
static int
field(const char *l, int n, struct http_req *r, int *closed, int *kept)
{
  int c = 0;
  while (c < n && istoken((uchar)l[c]))
    c++;
  if (c == 0 || c >= n || l[c] != ':')
    return 400;   // no name, a space before the colon (RFC 9112 5.1), or no colon
  int vs = c + 1, ve = n;
  while (vs < ve && (l[vs] == ' ' || l[vs] == '\t'))
    vs++;
  while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
    ve--;
  for (int i = vs; i < ve; i++)
    if ((uchar)l[i] < ' ' && l[i] != '\t')
      return 400;
  if (caseis(l, c, "host")) {
    if (r->hashost)
      return 400;   // two Host fields (RFC 9112 3.2)
    r->hashost = 1;
  } else if (caseis(l, c, "connection")) {
    *closed |= listhas(l + vs, ve - vs, "close");
    *kept |= listhas(l + vs, ve - vs, "keep-alive");
  } else if (caseis(l, c, "content-length")) {
    int v = contentlength(l + vs, ve - vs);
    if (v == -2 || (r->contentlength >= 0 && v != r->contentlength))
      return 400;
    r->contentlength = v;
  } else if (caseis(l, c, "transfer-encoding")) {
    r->chunked = 1;
  }
  return 0;
}

int
http_parse(const char *buf, int headlen, struct http_req *r)
{
  int p = skipblank(buf, headlen), closed = 0, kept = 0, first = 1;
  r->method = HTTP_UNKNOWN;
  r->line = buf + p;
  r->linelen = 0;
  r->target = buf + p;
  r->targetlen = 0;
  r->minor = 1;
  r->hashost = 0;
  r->contentlength = -1;
  r->chunked = 0;
  r->keepalive = 0;
  for (;;) {
    int lf = lineend(buf, p, headlen);
    if (lf < 0)
      return 400;
    int n = bare(buf, p, lf);
    if (n == 0 && !first)
      break;
    if (!first && (buf[p] == ' ' || buf[p] == '\t'))
      return 400;   // obsolete line folding (RFC 9112 5.2)
    int st = first ? requestline(buf + p, n, r) : field(buf + p, n, r, &closed, &kept);
    if (st)
      return st;
    first = 0;
    p = lf + 1;
  }
  if (r->minor >= 1 && !r->hashost)
    return 400;
  r->keepalive = r->minor >= 1 ? !closed : (kept && !closed);
  return 0;
}

// Append seg[0..n) as a segment of out (at *o), or take the last away for
// "..": 0, or a status.
static int
segment(const char *seg, int n, char *out, int *o, int outsize)
{
  if (n == 0 || (n == 1 && seg[0] == '.'))
    return 0;
  if (n == 2 && seg[0] == '.' && seg[1] == '.') {
    if (*o == 0)
      return 403;   // above the top
    while (*o > 0 && out[*o - 1] != '/')
      (*o)--;
    (*o)--;   // the slash before it
    return 0;
  }
  if (*o + 1 + n >= outsize)
    return 414;
  out[(*o)++] = '/';
  for (int i = 0; i < n; i++)
    out[(*o)++] = seg[i];
  return 0;
}

// Percent-decode target[0..len) (up to '?' or '#') into dec: its length, or
// -400 for a bad escape or a byte no file name may hold, -414 if too long.
static int
decode(const char *t, int len, char *dec, int decsize)
{
  int n = 0;
  for (int i = 0; i < len && t[i] != '?' && t[i] != '#'; i++) {
    int c = (uchar)t[i];
    if (c == '%') {
      int hi = i + 2 < len ? hexval((uchar)t[i + 1]) : -1;
      int lo = hi >= 0 ? hexval((uchar)t[i + 2]) : -1;
      if (lo < 0)
        return -400;
      c = hi << 4 | lo;
      i += 2;
    }
    if (c < ' ' || c == 127)
      return -400;   // NUL and control bytes: no file has them in its name
    if (n >= decsize)
      return -414;
    dec[n++] = c;
  }
  return n;
}

// Skip "http://authority" of an absolute-form target (RFC 9112 3.2.2).
static int
skipauthority(const char *t, int len)
{
  const char *scheme = "http://";
  int i = 0;
  while (i < 7 && i < len && lower((uchar)t[i]) == scheme[i])
    i++;
  if (i < 7)
    return 0;
  while (i < len && t[i] != '/' && t[i] != '?')
    i++;
  return i;
}

int
http_normpath(const char *target, int len, char *out, int outsize)
{
  char dec[HTTP_MAXTARGET];
  int skip = skipauthority(target, len);
  target += skip;
  len -= skip;
  if (skip && (len == 0 || target[0] != '/')) {
    target = "/";
    len = 1;
  }
  if (len == 0 || target[0] != '/' || outsize < 2)
    return 400;
  int n = decode(target, len, dec, sizeof dec);
  if (n < 0)
    return -n;
  int o = 0, s = 0;
  for (int i = 0; i <= n; i++) {
    if (i < n && dec[i] != '/')
      continue;
    int st = segment(dec + s, i - s, out, &o, outsize);
    if (st)
      return st;
    if (i < n)
      s = i + 1;
  }
  // The target names a directory when it ends in "/", "/." or "/..".
  int tail = n - s;
  int dirish = tail == 0 || (tail <= 2 && dec[s] == '.' && dec[n - 1] == '.');
  if (o == 0 || dirish)
    out[o++] = '/';
  if (o >= outsize)
    return 414;
  out[o] = 0;
  return 0;
}

// The extension of name after its last dot (in its last segment), or "".
static const char *
extension(const char *name)
{
  const char *dot = 0;
  for (const char *p = name; *p; p++) {
    if (*p == '.')
      dot = p + 1;
    else if (*p == '/')
      dot = 0;
  }
  return dot ? dot : "";
}

const char *
http_mimetype(const char *name)
{
  static const char *const types[][2] = {
    { "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
    { "txt", "text/plain; charset=utf-8" }, { "c", "text/plain; charset=utf-8" },
    { "h", "text/plain; charset=utf-8" }, { "md", "text/plain; charset=utf-8" },
    { "css", "text/css" }, { "js", "text/javascript" }, { "json", "application/json" },
    { "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
    { "gif", "image/gif" }, { "svg", "image/svg+xml" }, { "ico", "image/x-icon" },
    { "pdf", "application/pdf" }, { "pcap", "application/vnd.tcpdump.pcap" },
  };
  const char *ext = extension(name);
  int n = 0;
  while (ext[n])
    n++;
  for (uint i = 0; i < sizeof types / sizeof types[0]; i++)
    if (caseis(ext, n, types[i][0]))
      return types[i][1];
  return "application/octet-stream";
}

const char *
http_reason(int status)
{
  switch (status) {
  case 200: return "OK";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 400: return "Bad Request";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 503: return "Service Unavailable";
  case 505: return "HTTP Version Not Supported";
  }
  return "Unknown";
}

// ---- the client's side ----

static int
copypart(char *dst, int size, const char *src, int n)
{
  if (n >= size)
    return -1;
  for (int i = 0; i < n; i++)
    dst[i] = src[i];
  dst[n] = 0;
  return 0;
}

int
http_parseurl(const char *url, struct http_url *u)
{
  int n = 0;
  while (url[n])
    n++;
  int i = skipauthority(url, n);
  if (i == 0)
    return -1;
  int hs = 7, he = hs;
  while (he < i && url[he] != ':')
    he++;
  if (he == hs || copypart(u->host, sizeof u->host, url + hs, he - hs) < 0)
    return -1;
  u->port = 80;
  if (he < i) {
    int port = 0;
    if (he + 1 == i)
      return -1;
    for (int p = he + 1; p < i; p++) {
      if (url[p] < '0' || url[p] > '9' || (port = port * 10 + url[p] - '0') > 65535)
        return -1;
    }
    if (port == 0)
      return -1;
    u->port = port;
  }
  if (i == n)
    return copypart(u->path, sizeof u->path, "/", 1);
  if (url[i] == '?') {   // "http://host?q": the path is "/"
    u->path[0] = '/';
    return copypart(u->path + 1, sizeof u->path - 1, url + i, n - i);
  }
  return copypart(u->path, sizeof u->path, url + i, n - i);
}

int
http_statusline(const char *l, int n)
{
  if (n < 12 || l[0] != 'H' || l[1] != 'T' || l[2] != 'T' || l[3] != 'P' || l[4] != '/' ||
      l[5] != '1' || l[6] != '.' || l[8] != ' ')
    return -1;
  int st = 0;
  for (int i = 9; i < 12; i++) {
    if (l[i] < '0' || l[i] > '9')
      return -1;
    st = st * 10 + l[i] - '0';
  }
  if (st < 100 || (n > 12 && l[12] != ' '))
    return -1;
  return st;
}

int
http_field(const char *buf, int headlen, const char *name, char *out, int outsize)
{
  int nl = 0;
  while (name[nl])
    nl++;
  int p = lineend(buf, 0, headlen) + 1;   // past the status line
  while (p > 0 && p < headlen) {
    int lf = lineend(buf, p, headlen);
    if (lf < 0)
      return -1;
    int n = bare(buf, p, lf);
    if (n > nl && buf[p + nl] == ':' && caseis(buf + p, nl, name)) {
      int vs = p + nl + 1, ve = p + n;
      while (vs < ve && (buf[vs] == ' ' || buf[vs] == '\t'))
        vs++;
      while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
        ve--;
      for (int i = vs; i < ve; i++)
        if (((uchar)buf[i] < ' ' && buf[i] != '\t') || buf[i] == 127)
          return -1;   // NUL or a control byte: a malformed value, not a shorter one
      return copypart(out, outsize, buf + vs, ve - vs) < 0 ? -1 : ve - vs;
    }
    p = lf + 1;
  }
  return -1;
}

int
http_chunksize(const char *l, int n)
{
  int size = 0, digits = 0;
  for (int i = 0; i < n && l[i] != ';'; i++) {
    int h = hexval((uchar)l[i]);
    if (h < 0) {
      if (l[i] == ' ' || l[i] == '\t')
        continue;
      return -1;
    }
    if (size > 0x7ffffff)
      return -1;
    size = size << 4 | h;
    digits++;
  }
  return digits ? size : -1;
}
