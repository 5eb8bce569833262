// wget [-q] [-O FILE] [-T SECONDS] URL: fetch an http:// URL with HTTP/1.1
// GET and write the body to FILE (default: the URL's last path segment, or
// index.html; "-" is standard output). Names go through the resolver
// (/etc/hosts, then DNS). Redirects (301, 302, 303, 307, 308) are followed,
// at most 5; a body comes with Content-Length, chunked, or until the
// server closes. At the end:
//
//   wget: saved 'big.bin' [5242880 bytes in 4.12 s, 1242 KiB/s]
//
// Exit status as GNU wget's: 0 saved, 1 a bad URL or option, 3 the file
// could not be written, 4 a network failure (refused, unreachable, timed
// out, closed early), 7 a protocol error (not HTTP, too many redirects),
// 8 the server answered with an error (4xx, 5xx).
#include "kernel/types.h"
#include "kernel/errno.h"
#include "kernel/fcntl.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"
#include "user/lib/httpwire.h"

static const char usage[] =
  "usage: wget [-q] [-O FILE] [-T SECONDS] URL\n"
  "  -O FILE     write the body to FILE (- for standard output)\n"
  "  -T SECONDS  give up on a connect or a read after this long (default 20)\n"
  "  -q          say nothing unless something goes wrong\n";

#define MAXREDIRECTS 5
#define MAXRESPHEAD  16384

static int timeoutms = 20000;
static int quiet;

// The connection, read through one buffer.
static struct {
  int fd;
  char buf[MAXRESPHEAD];
  int len, off;           // bytes in buf; the first not yet taken
} in;

static void PRINTFLIKE(2, 3)
die(int status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(2, "wget: ");
  vfprintf(2, fmt, ap);
  va_end(ap);
  exit(status);
}

// More bytes into the buffer (compacting it first): how many, 0 at end of
// file; a timeout or an error ends the program.
static int
fill(void)
{
  if (in.off > 0) {
    memmove(in.buf, in.buf + in.off, in.len - in.off);
    in.len -= in.off;
    in.off = 0;
  }
  if (in.len == (int)sizeof in.buf)
    die(7, "bad response: a line longer than %d bytes\n", (int)sizeof in.buf);
  for (;;) {
    struct pollfd p = { in.fd, POLLIN, 0 };
    int n = poll(&p, 1, timeoutms);
    if (n == 0)
      die(4, "read timed out after %d s\n", timeoutms / 1000);
    if (n < 0 && errno == EINTR)
      continue;
    n = read(in.fd, in.buf + in.len, sizeof in.buf - in.len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n < 0)
      die(4, "read error: %s\n", strerror(errno));
    in.len += n;
    return n;
  }
}

// One line (without its CR LF) into line: its length; end of file dies.
static int
getline(char *line, int max)
{
  for (;;) {
    for (int i = in.off; i < in.len; i++) {
      if (in.buf[i] != '\n')
        continue;
      int n = i - in.off;
      if (n > 0 && in.buf[i - 1] == '\r')
        n--;
      if (n >= max)
        die(7, "bad response: a line longer than %d bytes\n", max);
      memmove(line, in.buf + in.off, n);
      line[n] = 0;
      in.off = i + 1;
      return n;
    }
    if (fill() == 0)
      die(4, "connection closed in the middle of a line\n");
  }
}

static int
connectto(uint addr, int port)
{
  char ip[16];
  struct sockaddr_in sin = { AF_INET, htons(port), addr, { 0 } };
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    die(4, "socket: %s\n", strerror(errno));
  fcntl(fd, F_SETFL, O_NONBLOCK);   // so that the connect can be timed out
  if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0 && errno != EINPROGRESS)
    die(4, "connect to %s port %d: %s\n", inet_ntoa(addr, ip), port, strerror(errno));
  struct pollfd p = { fd, POLLOUT, 0 };
  if (poll(&p, 1, timeoutms) == 0)
    die(4, "connect to %s port %d: timed out after %d s\n", inet_ntoa(addr, ip), port,
        timeoutms / 1000);
  int err = 0, len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
    die(4, "connect to %s port %d: %s\n", inet_ntoa(addr, ip), port, strerror(err));
  fcntl(fd, F_SETFL, 0);
  return fd;
}

// The response head: the status, with the head itself in head.
static int
readhead(char *head, int max, int *headlen)
{
  int n;
  while ((n = http_headlen(in.buf + in.off, in.len - in.off)) == 0)
    if (fill() == 0)
      die(in.len > in.off ? 7 : 4, "%s\n", in.len > in.off ? "bad response: the head ends early"
          : "the server closed the connection without answering");
  if (n >= max)
    die(7, "bad response: a head of %d bytes\n", n);
  memmove(head, in.buf + in.off, n);
  head[n] = 0;
  in.off += n;
  *headlen = n;
  int start = 0;
  while (head[start] == '\r' || head[start] == '\n')
    start++;
  int end = start;
  while (head[end] != '\r' && head[end] != '\n')
    end++;
  int status = http_statusline(head + start, end - start);
  if (status < 0)
    die(7, "bad response: not HTTP/1.x: \"%.*s\"\n", end - start < 60 ? end - start : 60,
        head + start);
  return status;
}

// ---- the body ----

static void
put(int out, const char *p, int n, uint64 *total)
{
  if (writeall(out, p, n) < 0)
    die(3, "write: %s\n", strerror(errno));
  *total += n;
}

// Copy n bytes of body (n < 0: until the server closes) to out.
static void
copybody(int out, long long n, uint64 *total)
{
  while (n != 0) {
    if (in.off == in.len && fill() == 0) {
      if (n < 0)
        return;
      die(4, "connection closed after %llu bytes, %lld short\n", *total, n);
    }
    int take = in.len - in.off;
    if (n > 0 && take > n)
      take = n;
    put(out, in.buf + in.off, take, total);
    in.off += take;
    if (n > 0)
      n -= take;
  }
}

// A chunked body (RFC 9112 7.1): size lines, chunks, a zero chunk, trailers.
static void
chunkedbody(int out, uint64 *total)
{
  char line[512];
  for (;;) {
    int len = getline(line, sizeof line);
    int size = http_chunksize(line, len);
    if (size < 0)
      die(7, "bad response: chunk size \"%.40s\"\n", line);
    if (size == 0)
      break;
    copybody(out, size, total);
    if (getline(line, sizeof line) != 0)
      die(7, "bad response: no line end after a chunk\n");
  }
  while (getline(line, sizeof line) > 0)   // trailer fields, up to the blank line
    ;
}

// ---- one request ----

static int
openout(const char *name)
{
  if (strcmp(name, "-") == 0)
    return 1;
  int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC);
  if (fd < 0)
    die(3, "%s: %s\n", name, strerror(errno));
  return fd;
}

// The name to save a URL's body under: its last path segment, or index.html.
static void
outname(const char *path, char *name, int size)
{
  const char *end = path;
  while (*end && *end != '?' && *end != '#')
    end++;
  const char *start = end;
  while (start > path && start[-1] != '/')
    start--;
  if (start == end || end - start >= size)
    strlcpy(name, "index.html", size);
  else
    strlcpy(name, start, end - start + 1);
}

static void
sendrequest(const struct http_url *u)
{
  char req[1600];
  char port[8] = "";
  if (u->port != 80)
    snprintf(port, sizeof port, ":%d", u->port);
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s%s\r\nUser-Agent: xv6net-wget\r\n"
                   "Accept: */*\r\nConnection: close\r\n\r\n", u->path, u->host, port);
  if (n >= (int)sizeof req)
    die(1, "URL too long\n");
  if (writeall(in.fd, req, n) < 0)
    die(4, "write: %s\n", strerror(errno));
}

// Fetch u: 0 when the body was saved, or 1 with *next set to a redirect.
static int
fetch(const struct http_url *u, const char *outfile, char *next, int nextsize)
{
  static char head[MAXRESPHEAD];
  char ip[16], field[64];
  uint addr;
  if (resolve(u->host, &addr) < 0)
    die(4, "unable to resolve host address '%s': %s\n", u->host, hstrerror(h_errno));
  if (!quiet)
    fprintf(2, "Connecting to %s (%s):%d... ", u->host, inet_ntoa(addr, ip), u->port);
  in.fd = connectto(addr, u->port);
  in.len = in.off = 0;
  if (!quiet)
    fprintf(2, "connected.\n");
  sendrequest(u);
  int headlen, status = readhead(head, sizeof head, &headlen);
  if (!quiet)
    fprintf(2, "HTTP request sent, awaiting response... %d %s\n", status, http_reason(status));
  if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
    if (http_field(head, headlen, "Location", next, nextsize) <= 0)
      die(7, "bad response: a %d without a Location\n", status);
    close(in.fd);
    return 1;
  }
  if (status >= 400)
    die(8, "server answered %d %s\n", status, http_reason(status));
  if (status != 200)
    die(7, "unexpected status %d\n", status);

  uint64 total = 0, start = usecs();
  int out = openout(outfile);
  if (http_field(head, headlen, "Transfer-Encoding", field, sizeof field) > 0) {
    chunkedbody(out, &total);
  } else if (http_field(head, headlen, "Content-Length", field, sizeof field) > 0) {
    char *end;
    uint len = strtoul(field, &end, 10);
    if (*end || !isdigit(field[0]))
      die(7, "bad response: Content-Length \"%s\"\n", field);
    copybody(out, len, &total);
  } else {
    copybody(out, -1, &total);
  }
  if (out != 1 && close(out) < 0)
    die(3, "%s: %s\n", outfile, strerror(errno));
  close(in.fd);
  uint64 us = usecs() - start;
  if (us == 0)
    us = 1;
  uint kibs = (uint)(total * 1000000 / 1024 / us);
  if (!quiet)
    fprintf(2, "wget: saved '%s' [%llu bytes in %u.%02u s, %u KiB/s]\n", outfile, total,
            (uint)(us / 1000000), (uint)(us / 10000 % 100), kibs);
  return 0;
}

// RFC 3986 5.2.4: "." and ".." segments of path (up to a '?') removed,
// in place ("/a/b/../c" -> "/a/c"; ".." at the top stays at the top).
static void
removedots(char *path)
{
  char *in = path, *out = path;
  while (*in && *in != '?') {
    // in is at a '/': look at the segment after it
    char *seg = in + 1, *end = seg;
    while (*end && *end != '/' && *end != '?')
      end++;
    int n = end - seg;
    if (n == 1 && seg[0] == '.') {
      in = end;
    } else if (n == 2 && seg[0] == '.' && seg[1] == '.') {
      while (out > path && *--out != '/')
        ;
      in = end;
    } else {
      memmove(out, in, end - in);
      out += end - in;
      in = end;
      continue;
    }
    if (*in != '/')   // the path ends in "." or "..": it names a directory
      *out++ = '/';
  }
  memmove(out, in, strlen(in) + 1);
  if (path[0] != '/') {   // everything climbed away
    memmove(path + 1, path, strlen(path) + 1);
    path[0] = '/';
  }
}

// A Location relative to u ("/x", "x") made absolute, into next.
static void
absolute(const struct http_url *u, char *loc, int size)
{
  char tmp[1400];
  if (strncmp(loc, "http://", 7) == 0)
    return;
  if (strncmp(loc, "https://", 8) == 0)
    die(7, "redirected to %s: only http:// is supported\n", loc);
  if (loc[0] == '/' && loc[1] == '/') {   // "//host/path": same scheme, another host
    snprintf(tmp, sizeof tmp, "http:%s", loc);
  } else if (loc[0] == '/') {
    snprintf(tmp, sizeof tmp, "http://%s:%d%s", u->host, u->port, loc);
  } else {
    const char *slash = strrchr(u->path, '/');
    int dir = slash ? slash - u->path + 1 : 1;
    snprintf(tmp, sizeof tmp, "http://%s:%d%.*s%s", u->host, u->port, dir, u->path, loc);
  }
  char *path = strchr(tmp + 7, '/');
  if (path)
    removedots(path);
  strlcpy(loc, tmp, size);
}

int
main(int argc, char **argv)
{
  static struct http_url u;
  static char url[1400], name[256];
  const char *outfile = 0;
  int c;
  argsinit("wget", usage);
  while ((c = getopt(argc, argv, "qO:T:")) != -1) {
    if (c == 'q')
      quiet = 1;
    else if (c == 'O')
      outfile = optarg;
    else if (c == 'T')
      timeoutms = argsecs("-T", "timeout", optarg, 100, 3600 * 1000);
  }
  if (optind == argc)
    argmissing("URL");
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  signal(SIGPIPE, SIG_IGN);   // a server that closes early: EPIPE, reported
  strlcpy(url, argv[optind], sizeof url);
  for (int hops = 0;; hops++) {
    if (http_parseurl(url, &u) < 0)
      die(1, "%s: not an http://host[:port]/path URL\n", url);
    if (!outfile) {
      outname(u.path, name, sizeof name);
      outfile = name;
    }
    if (fetch(&u, outfile, url, sizeof url) == 0)
      return 0;
    if (hops == MAXREDIRECTS)
      die(7, "%d redirections exceeded\n", MAXREDIRECTS);
    absolute(&u, url, sizeof url);
    if (!quiet)
      fprintf(2, "Location: %s [following]\n", url);
  }
}
