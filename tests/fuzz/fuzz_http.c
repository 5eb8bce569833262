// libFuzzer target "http": httpd's request parser and path normaliser and
// wget's response helpers (user/lib/httpwire.c) on the input, given exactly
// its length. What must hold whatever comes: a head length within the
// input, a parsed request's target inside it, and a normalised path that
// is absolute, NUL-terminated, within its buffer and free of "." and ".."
// segments and of NUL and control bytes (nothing outside DIR, whatever the
// spelling).

#include "tests/host/check.h"
#include "kernel/types.h"
#include "user/lib/httpwire.h"

int LLVMFuzzerTestOneInput(const uchar *data, uint len);

static void
checkpath(const char *out, int size)
{
  int n = strnlen(out, size);
  if (n == size || out[0] != '/')
    abort();
  for (int i = 0; i < n; i++) {
    if ((uchar)out[i] < ' ' || out[i] == 127)
      abort();
    if (out[i] != '/')
      continue;
    int dots = 0;
    while (i + 1 + dots < n && out[i + 1 + dots] == '.')
      dots++;
    int end = i + 1 + dots;
    if ((dots == 1 || dots == 2) && (end == n || out[end] == '/'))
      abort();   // a "." or ".." segment survived
    if (i + 1 < n && out[i + 1] == '/')
      abort();   // an empty segment
  }
}

static void
request(const char *p, int len)
{
  struct http_req r;
  char out[HTTP_MAXPATH];
  int head = http_headlen(p, len);
  if (head < 0 || head > len)
    abort();
  if (head == 0) {
    int st = http_overlong(p, len);
    if (st != 0 && st != 414 && st != 431)
      abort();
    return;
  }
  int st = http_parse(p, head, &r);
  if (st != 0)
    return;
  if (r.target < p || r.target + r.targetlen > p + head || r.line < p ||
      r.line + r.linelen > p + head)
    abort();
  if (http_normpath(r.target, r.targetlen, out, sizeof out) == 0)
    checkpath(out, sizeof out);
}

static void
response(const char *p, int len)
{
  char v[64];
  struct http_url u;
  int head = http_headlen(p, len);
  if (head > 0) {
    int n = http_field(p, head, "Location", v, sizeof v);
    if (n >= (int)sizeof v || (n >= 0 && (int)strnlen(v, sizeof v) != n))
      abort();
  }
  http_statusline(p, len);
  http_chunksize(p, len < 16 ? len : 16);
  char url[512];
  int n = len < (int)sizeof url - 1 ? len : (int)sizeof url - 1;
  memcpy(url, p, n);
  url[n] = 0;
  if (http_parseurl(url, &u) == 0 && (u.path[0] != '/' || u.port < 1 || u.port > 65535 ||
                                      u.host[0] == 0))
    abort();
}

int
LLVMFuzzerTestOneInput(const uchar *data, uint len)
{
  char *p = malloc(len ? len : 1);   // exactly len bytes: a read past them is caught
  memcpy(p, data, len);
  request(p, len);
  response(p, len);
  free(p);
  return 0;
}
