// Host-compiled unit tests for user/lib/httpwire.c, httpd's request parser
// and path normaliser and wget's response helpers, with hostile input:
// every spelling of ".." we know, NUL and control bytes, bad escapes, heads
// cut at every byte, fields without colons, folded lines, a second Host.
//
//   gcc -Wall -Werror -I. -o build/cunit/test_http tests/cunit/test_http.c user/lib/httpwire.c
//   build/cunit/test_http            # "N passed, M failed"; exit status 1 on failure

#include "tests/cunit/cunit.h"
#include "kernel/types.h"
#include "user/lib/httpwire.h"

// http_normpath of a C string: the status, with the path in out.
static int
norm(const char *target, char *out, int size)
{
  char *t = (char *)exact(target, strlen(target));
  int st = http_normpath(t, strlen(target), out, size);
  free(t);
  return st;
}

static void
test_plain_paths_are_kept()
{
  char out[HTTP_MAXPATH];
  CHECK_EQ(norm("/", out, sizeof out), 0);
  CHECK_STR(out, "/");
  CHECK_EQ(norm("/index.html", out, sizeof out), 0);
  CHECK_STR(out, "/index.html");
  CHECK_EQ(norm("/files/", out, sizeof out), 0);
  CHECK_STR(out, "/files/");
  CHECK_EQ(norm("/a//b/./c?x=1#frag", out, sizeof out), 0);
  CHECK_STR(out, "/a/b/c");
  CHECK_EQ(norm("/a/b/../c/.", out, sizeof out), 0);
  CHECK_STR(out, "/a/c/");
  CHECK_EQ(norm("/a/b/..", out, sizeof out), 0);
  CHECK_STR(out, "/a/");
  CHECK_EQ(norm("/a%20b%2Fc", out, sizeof out), 0);
  CHECK_STR(out, "/a b/c");
  CHECK_EQ(norm("http://example.org/x/y", out, sizeof out), 0);
  CHECK_STR(out, "/x/y");
  CHECK_EQ(norm("http://example.org", out, sizeof out), 0);
  CHECK_STR(out, "/");
}

static void
test_every_climb_above_the_top_is_403()
{
  static const char *const climbs[] = {
    "/..", "/../", "/../etc/hosts", "/%2e%2e/etc/hosts", "/%2E%2e/", "/.%2e/x",
    "/files/../../etc/hosts", "/files/..%2f..%2fetc/hosts", "/files/%2e%2e%2f%2e%2e%2f",
    "/./../x", "/a/b/../../../x", "/a/%2e%2e/%2e%2e", "http://h/../x",
  };
  char out[HTTP_MAXPATH];
  for (uint i = 0; i < sizeof climbs / sizeof climbs[0]; i++)
    CHECK_EQ(norm(climbs[i], out, sizeof out), 403);
}

static void
test_nul_controls_and_bad_escapes_are_400()
{
  static const char *const bad[] = {
    "/index.html%00.txt", "/%00", "/a%0ab", "/a%7f", "/%zz", "/%4", "/%", "/%g0",
    "index.html", "", "*", "http:/x",
  };
  char out[HTTP_MAXPATH];
  for (uint i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK_EQ(norm(bad[i], out, sizeof out), 400);
}

static void
test_paths_too_long_for_the_buffer_are_414()
{
  char out[16], target[64];
  memset(target, 'a', sizeof target);
  target[0] = '/';
  target[sizeof target - 1] = 0;
  CHECK_EQ(norm(target, out, sizeof out), 414);
  CHECK_EQ(norm("/abcdefghijklmno", out, sizeof out), 414);   // 16 + NUL: no room
  CHECK_EQ(norm("/abcdefghijklmn", out, sizeof out), 0);      // 15 + NUL fit
  CHECK_STR(out, "/abcdefghijklmn");
  CHECK_EQ(norm("/abcdefghijklmn/", out, sizeof out), 414);   // the slash does not fit
  CHECK_EQ(norm("/abcdefghijklm/", out, sizeof out), 0);
  CHECK_STR(out, "/abcdefghijklm/");
}

// Every target of up to four characters from an alphabet rich in dots,
// slashes and escapes: whatever is accepted is a clean absolute path.
static void
test_no_accepted_path_has_a_dot_segment()
{
  static const char alphabet[] = "/.%2eE0a";
  char target[6], out[HTTP_MAXPATH];
  int n = sizeof alphabet - 1;
  for (int len = 1; len <= 4; len++) {
    int total = 1;
    for (int i = 0; i < len; i++)
      total *= n;
    for (int k = 0; k < total; k++) {
      int v = k;
      target[0] = '/';
      for (int i = 1; i <= len; i++, v /= n)
        target[i] = alphabet[v % n];
      target[len + 1] = 0;
      if (norm(target, out, sizeof out) != 0)
        continue;
      CHECK(out[0] == '/');
      CHECK(strstr(out, "/../") == 0 && strstr(out, "/./") == 0 && strstr(out, "//") == 0);
      size_t ol = strlen(out);
      CHECK(!(ol >= 3 && strcmp(out + ol - 3, "/..") == 0));
    }
  }
}

static int
parse(const char *head, struct http_req *r)
{
  int len = strlen(head);
  char *h = (char *)exact(head, len);
  int hl = http_headlen(h, len);
  int st = hl == len ? http_parse(h, hl, r) : -1;
  free(h);
  return st;
}

static void
test_a_request_head_is_parsed()
{
  struct http_req r;
  CHECK_EQ(parse("GET /x?y HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n", &r), 0);
  CHECK_EQ(r.method, HTTP_GET);
  CHECK_EQ(r.targetlen, 4);
  CHECK_EQ(r.minor, 1);
  CHECK_EQ(r.keepalive, 0);
  CHECK_EQ(r.linelen, 17);
  CHECK_EQ(parse("\r\nHEAD / HTTP/1.0\nConnection: keep-alive\n\n", &r), 0);   // bare LFs
  CHECK_EQ(r.method, HTTP_HEAD);
  CHECK_EQ(r.keepalive, 1);
  CHECK_EQ(parse("GET / HTTP/1.0\r\n\r\n", &r), 0);
  CHECK_EQ(r.keepalive, 0);
  CHECK_EQ(parse("GET / HTTP/1.1\r\nhost: a\r\nContent-Length: 12\r\n\r\n", &r), 0);
  CHECK_EQ(r.contentlength, 12);
  CHECK_EQ(r.keepalive, 1);
  CHECK_EQ(parse("PUT / HTTP/1.1\r\nHost: a\r\n\r\n", &r), 0);
  CHECK_EQ(r.method, HTTP_KNOWN);
  CHECK_EQ(parse("BREW / HTTP/1.1\r\nHost: a\r\n\r\n", &r), 0);
  CHECK_EQ(r.method, HTTP_UNKNOWN);
  CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r), 0);
  CHECK_EQ(r.chunked, 1);
}

static void
test_malformed_heads_are_refused()
{
  struct http_req r;
  CHECK_EQ(parse("GET / HTTP/1.1\r\n\r\n", &r), 400);                        // no Host
  CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r), 400);  // two
  CHECK_EQ(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n", &r), 400);
  CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n", &r), 400);
  CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", &r), 400);
  CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", &r), 400);
  CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                 "Content-Length: 2\r\n\r\n", &r), 400);
  CHECK_EQ(parse("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", &r), 400);
  CHECK_EQ(parse("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", &r), 400);
  CHECK_EQ(parse("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", &r), 400);
  CHECK_EQ(parse("GET / HTTP/11\r\nHost: a\r\n\r\n", &r), 400);
  CHECK_EQ(parse("GET\r\n\r\n", &r), 400);
  CHECK_EQ(parse("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", &r), 400);
  CHECK_EQ(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &r), 505);
}

static void
test_long_targets_and_heads_are_bounded()
{
  static char head[HTTP_MAXHEAD + 100];
  struct http_req r;
  int n = snprintf(head, sizeof head, "GET /");
  memset(head + n, 'a', HTTP_MAXTARGET);
  n += HTTP_MAXTARGET;
  n += snprintf(head + n, sizeof head - n, " HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK_EQ(parse(head, &r), 414);
  // a request line with no end yet, longer than any target we take
  memset(head + 5, 'a', HTTP_MAXTARGET + 100);
  CHECK_EQ(http_overlong(head, HTTP_MAXTARGET + 40), 414);
  CHECK_EQ(http_overlong(head, HTTP_MAXTARGET), 0);
  // fields that fill the whole buffer without a blank line
  n = snprintf(head, sizeof head, "GET / HTTP/1.1\r\n");
  while (n < HTTP_MAXHEAD)
    n += snprintf(head + n, sizeof head - n, "X: y\r\n");
  CHECK_EQ(http_headlen(head, HTTP_MAXHEAD), 0);
  CHECK_EQ(http_overlong(head, HTTP_MAXHEAD), 431);
  CHECK_EQ(http_overlong(head, HTTP_MAXHEAD - 100), 0);
}

// A head cut at every byte: never a head before its last byte, never a
// read past the end (AddressSanitizer watches the exact buffers).
static void
test_every_truncation_is_incomplete()
{
  static const char whole[] = "GET /files/hello.txt HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n";
  int len = sizeof whole - 1;
  for (int cut = 0; cut < len; cut++) {
    char *p = (char *)exact(whole, cut);
    CHECK_EQ(http_headlen(p, cut), 0);
    CHECK_EQ(http_overlong(p, cut), 0);
    free(p);
  }
  char *p = (char *)exact(whole, len);
  CHECK_EQ(http_headlen(p, len), len);
  free(p);
}

// Every single byte of a head replaced by every value: the parser answers
// 0 or a status, and reads nothing outside the head.
static void
test_mutated_heads_never_crash()
{
  static const char whole[] = "GET /a/b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  int len = sizeof whole - 1;
  struct http_req r;
  char out[HTTP_MAXPATH];
  for (int i = 0; i < len; i++) {
    for (int v = 0; v < 256; v += 5) {
      char *p = (char *)exact(whole, len);
      p[i] = v;
      int hl = http_headlen(p, len);
      CHECK(hl >= 0 && hl <= len);
      if (hl > 0) {
        int st = http_parse(p, hl, &r);
        CHECK(st == 0 || st == 400 || st == 414 || st == 505);
        if (st == 0)
          CHECK(http_normpath(r.target, r.targetlen, out, sizeof out) >= 0);
      }
      free(p);
    }
  }
}

static void
test_mime_types_by_extension()
{
  CHECK_STR(http_mimetype("/var/www/index.html"), "text/html; charset=utf-8");
  CHECK_STR(http_mimetype("/a/B.PNG"), "image/png");
  CHECK_STR(http_mimetype("/a.d/noext"), "application/octet-stream");
  CHECK_STR(http_mimetype("/noise.bin"), "application/octet-stream");
  CHECK_STR(http_mimetype("/x.txt"), "text/plain; charset=utf-8");
}

static void
test_urls_are_split()
{
  struct http_url u;
  CHECK_EQ(http_parseurl("http://10.0.0.1:8000/big.bin", &u), 0);
  CHECK_STR(u.host, "10.0.0.1");
  CHECK_EQ(u.port, 8000);
  CHECK_STR(u.path, "/big.bin");
  CHECK_EQ(http_parseurl("http://www.lab", &u), 0);
  CHECK_STR(u.host, "www.lab");
  CHECK_EQ(u.port, 80);
  CHECK_STR(u.path, "/");
  CHECK_EQ(http_parseurl("http://h?q=1", &u), 0);
  CHECK_STR(u.path, "/?q=1");
  CHECK_EQ(http_parseurl("https://h/", &u), -1);
  CHECK_EQ(http_parseurl("http://", &u), -1);
  CHECK_EQ(http_parseurl("http://h:/", &u), -1);
  CHECK_EQ(http_parseurl("http://h:0/", &u), -1);
  CHECK_EQ(http_parseurl("http://h:65536/", &u), -1);
  CHECK_EQ(http_parseurl("http://h:8x/", &u), -1);
}

static void
test_status_lines_fields_and_chunk_sizes()
{
  static const char head[] = "HTTP/1.1 301 Moved\r\nLocation:  /x/ \r\ncontent-length: 5\r\n\r\n";
  char v[32];
  CHECK_EQ(http_statusline("HTTP/1.1 200 OK", 15), 200);
  CHECK_EQ(http_statusline("HTTP/1.0 404", 12), 404);
  CHECK_EQ(http_statusline("HTTP/1.1 20 OK", 14), -1);
  CHECK_EQ(http_statusline("HTTP/1.1 200OK", 14), -1);
  CHECK_EQ(http_statusline("HTTX/1.1 200 OK", 15), -1);
  CHECK_EQ(http_field(head, sizeof head - 1, "location", v, sizeof v), 3);
  CHECK_STR(v, "/x/");
  CHECK_EQ(http_field(head, sizeof head - 1, "Content-Length", v, sizeof v), 1);
  CHECK_STR(v, "5");
  CHECK_EQ(http_field(head, sizeof head - 1, "Transfer-Encoding", v, sizeof v), -1);
  CHECK_EQ(http_field(head, sizeof head - 1, "Location", v, 3), -1);   // does not fit
  static const char nul[] = "HTTP/1.1 302 Found\r\nLocation: /a\0/etc\r\n\r\n";
  CHECK_EQ(http_field(nul, sizeof nul - 1, "Location", v, sizeof v), -1);   // not "/a"
  CHECK_EQ(http_chunksize("1a3F", 4), 0x1a3f);
  CHECK_EQ(http_chunksize("10;name=v", 9), 16);
  CHECK_EQ(http_chunksize("0", 1), 0);
  CHECK_EQ(http_chunksize("", 0), -1);
  CHECK_EQ(http_chunksize("xyz", 3), -1);
  CHECK_EQ(http_chunksize("fffffffff", 9), -1);
}

TESTS(
  T(test_plain_paths_are_kept),
  T(test_every_climb_above_the_top_is_403),
  T(test_nul_controls_and_bad_escapes_are_400),
  T(test_paths_too_long_for_the_buffer_are_414),
  T(test_no_accepted_path_has_a_dot_segment),
  T(test_a_request_head_is_parsed),
  T(test_malformed_heads_are_refused),
  T(test_long_targets_and_heads_are_bounded),
  T(test_every_truncation_is_incomplete),
  T(test_mutated_heads_never_crash),
  T(test_mime_types_by_extension),
  T(test_urls_are_split),
  T(test_status_lines_fields_and_chunk_sizes),
)
