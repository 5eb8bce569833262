// HTTP/1.1 messages (RFC 9110, 9112) as pure functions: the request head a
// server reads, the request target turned into a safe path, and the status
// line and URL a client needs. No system calls and no state, so that the
// host unit tests (tests/cunit/test_http.c) feed them hostile input.
//
// A request head is untrusted: every length is bounded (HTTP_MAXHEAD for
// the request line and headers together, HTTP_MAXTARGET for the target),
// and a target is decoded and normalised before it names a file, so that
// no spelling of ".." (plain, %2e%2e, %2f as a separator) climbs above the
// served directory and no NUL (%00) cuts a name short.
#ifndef XV6NET_HTTPWIRE_H
#define XV6NET_HTTPWIRE_H
#include "kernel/types.h"

#define HTTP_MAXHEAD    8192   // request line and header fields, blank line included
#define HTTP_MAXTARGET  1024   // longest request target (414 beyond)
#define HTTP_MAXPATH    256    // longest normalised path (414 beyond)

// Methods: those served, those known but refused (405), and the rest (501).
#define HTTP_GET     1
#define HTTP_HEAD    2
#define HTTP_KNOWN   3   // POST, PUT, DELETE, OPTIONS, TRACE, CONNECT, PATCH
#define HTTP_UNKNOWN 4

struct http_req {
  int method;             // HTTP_*
  const char *line;       // the request line, into the caller's buffer (for the log)
  int linelen;            // its length, without its line end
  const char *target;     // into the caller's buffer, not NUL-terminated
  int targetlen;
  int minor;              // HTTP/1.minor
  int keepalive;          // the connection may stay open after the answer
  int hashost;            // a Host field came
  int contentlength;      // -1 when none came
  int chunked;            // a Transfer-Encoding field came
};

// The length of the request head at the start of buf (the request line,
// the fields and the blank line that ends them), 0 if it has not all come
// yet. Empty lines before the request line count as part of it (RFC 9112
// 2.2 lets a server skip them); a bare LF ends a line as CRLF does.
int  http_headlen(const char *buf, int len);
// When the head has not ended and len bytes are already in: 0 if more may
// come, else the status to refuse with (414 for a request line too long,
// 431 for the fields).
int  http_overlong(const char *buf, int len);
// Parse a whole head (headlen from http_headlen). 0 with *r filled in, or
// the status to answer with: 400 (malformed, no Host in HTTP/1.1), 505
// (not HTTP/1.x), 414 (target too long).
int  http_parse(const char *buf, int headlen, struct http_req *r);
// The target as a path below the served directory: percent-decoded, "." and
// empty segments dropped, ".." taking the segment before it away, the query
// cut off. out gets "/" or "/a/b" ("/a/b/" when the target ended in a
// directory: a slash, "." or ".."). 0, or 400 (bad escape, NUL or control
// byte, not a path), 403 (".." above the top), 414 (too long for out).
int  http_normpath(const char *target, int len, char *out, int outsize);
// The MIME type for a file name, by its extension.
const char *http_mimetype(const char *name);
// The reason phrase for a status code ("Not Found").
const char *http_reason(int status);

// ---- the client's side ----

struct http_url {
  char host[256];
  int port;               // 80 unless the URL says
  char path[1024];        // "/" at least; the query kept
};
// "http://host[:port][/path]": 0, or -1 (another scheme, no host, a bad
// port, a part too long).
int  http_parseurl(const char *url, struct http_url *u);
// "HTTP/1.1 200 OK" (line without its end): the status, or -1.
int  http_statusline(const char *line, int len);
// The value of field name in a response head (buf, headlen), copied into
// out NUL-terminated with surrounding blanks removed: its length, or -1
// if the field is absent, does not fit, or holds NUL or a control byte.
int  http_field(const char *buf, int headlen, const char *name, char *out, int outsize);
// A chunk-size line ("1a3f" with maybe ";ext"): the size, or -1.
int  http_chunksize(const char *line, int len);

#endif
