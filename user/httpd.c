// httpd [-p PORT] [-t SECONDS] [-n CONNECTIONS] [DIR]: an HTTP/1.1 server
// (RFC 9110, 9112) for the files under DIR (default /var/www), GET and HEAD.
//
// -n worker processes (16), forked at the start, each accept a connection,
// serve it to the end and accept again: a process has only NOFILE (16)
// descriptors, too few for one poll() loop over many clients, a slow client
// holds up one worker and nobody else, and no fork is paid per connection.
// While every worker is busy, new connections wait in the listen backlog.
//
// Within a connection, requests are read into one buffer and answered one at
// a time in the order they came, so pipelined requests are answered in
// order; the connection stays open (keep-alive) unless the client says
// Connection: close, speaks HTTP/1.0 without keep-alive, or sent something
// that leaves the byte stream in doubt (then the answer says
// Connection: close). A client that takes longer than -t seconds (10) to
// send a whole request head gets 408 and is closed; one idle that long
// between requests is closed silently.
//
// Paths are decoded and normalised (user/lib/httpwire.c) before they name a
// file: nothing outside DIR can be reached. A directory without index.html
// is listed as HTML. An .html file holding the comment <!--#status--> has it
// replaced, when asked for, by the guest's state (user/lib/httpstatus.c).
//
// One line per request on standard output, in the common log format; the
// guest has no wall clock, so the date is 1 January 1970 plus the uptime:
//   10.0.0.1 - - [01/Jan/1970:00:00:42 +0000] "GET / HTTP/1.1" 200 1234
#include "kernel/types.h"
#include "kernel/errno.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"
#include "user/net.h"
#include "user/lib/httpwire.h"

static const char usage[] =
  "usage: httpd [-p PORT] [-t SECONDS] [-n CONNECTIONS] [DIR]\n"
  "  -p PORT         port to listen on (default 80)\n"
  "  -t SECONDS      time a client has to send a request (default 10)\n"
  "  -n CONNECTIONS  most connections served at once: worker processes (default 16)\n"
  "  DIR             the directory served (default /var/www)\n";

#define STATUSMARK    "<!--#status-->"
#define MAXSTATUSFILE 16384   // a larger .html file is sent as it is
#define PAGEMAX       65536   // a generated page (listing, status) at most

int http_statuspage(char *out, int cap);   // user/lib/httpstatus.c

static char root[HTTP_MAXPATH];   // DIR without a trailing slash ("" for /)
static int timeoutms = 10000;
static char client[16];           // the peer's address, for the log

// The connection's input: requests not yet answered.
static char inbuf[HTTP_MAXHEAD];
static int inlen;
static char iobuf[16384];

// What one answer is, for its header and its log line.
struct answer {
  int status;
  const char *type;       // Content-Type, or 0
  int length;             // Content-Length
  int close;              // Connection: close after it
  char location[3 * HTTP_MAXPATH + 2];   // for 301 (percent-encoded), or ""
};

static int
isdir(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && st.type == T_DIR;
}

// ---- output ----

static void
logline(const struct http_req *r, int status, int bytes)
{
  char line[512];
  uint secs = uptime() / 100;
  int shown = r && r->linelen > 0 && r->linelen <= 300;
  int n = snprintf(line, sizeof line, "%s - - [%02u/Jan/1970:%02u:%02u:%02u +0000] \"%.*s\" %d ",
                   client, 1 + secs / 86400 % 31, secs / 3600 % 24, secs / 60 % 60, secs % 60,
                   shown ? r->linelen : 1, shown ? r->line : "-", status);
  if (bytes >= 0)
    n += snprintf(line + n, sizeof line - n, "%d\n", bytes);
  else
    n += snprintf(line + n, sizeof line - n, "-\n");
  write(1, line, n);
}

// The status line and header fields into iobuf: their length. An answer
// leaves in as few writes as it can (head and body together when they fit):
// a head written alone would be a short segment, which Nagle holds until the
// client's (delayed) ACK, a pause of tens of milliseconds per request on a
// kept-alive connection.
static int
formathead(const struct answer *a)
{
  char *h = iobuf;
  int size = 2048;   // the longest head: fields and a Location of 3 * HTTP_MAXPATH
  int n = snprintf(h, size, "HTTP/1.1 %d %s\r\nServer: xv6net-httpd\r\n"
                   "Content-Length: %d\r\n", a->status, http_reason(a->status), a->length);
  if (a->type)
    n += snprintf(h + n, size - n, "Content-Type: %s\r\n", a->type);
  if (a->location[0])
    n += snprintf(h + n, size - n, "Location: %s\r\n", a->location);
  if (a->status == 405)
    n += snprintf(h + n, size - n, "Allow: GET, HEAD\r\n");
  n += snprintf(h + n, size - n, "Connection: %s\r\n\r\n", a->close ? "close" : "keep-alive");
  return n < size ? n : size - 1;
}

// The head, then body[0..a->length) unless the request was HEAD: 0, or -1
// if the client is gone.
static int
sendall(int fd, struct answer *a, const char *body, int head)
{
  int n = formathead(a), len = head ? 0 : a->length;
  if (n + len <= (int)sizeof iobuf) {
    memmove(iobuf + n, body, len);
    return writeall(fd, iobuf, n + len) < 0 ? -1 : 0;
  }
  if (writeall(fd, iobuf, n) < 0)
    return -1;
  return writeall(fd, body, len) < 0 ? -1 : 0;
}

// An error (or redirect) with a small HTML body; -1 if the client is gone.
static int
senderror(int fd, const struct http_req *r, int status, int close, const char *location)
{
  char body[256];
  struct answer a = { status, "text/html; charset=utf-8", 0, close, "" };
  if (location)
    strlcpy(a.location, location, sizeof a.location);
  a.length = snprintf(body, sizeof body, "<!DOCTYPE html>\n<html><head><title>%d %s</title>"
                      "</head><body><h1>%d %s</h1></body></html>\n", status,
                      http_reason(status), status, http_reason(status));
  int head = r && r->method == HTTP_HEAD;
  logline(r, status, head ? 0 : a.length);
  return sendall(fd, &a, body, head);
}

// ---- generated pages ----

// A growing page in one buffer; overflow is noticed, not written past.
struct page {
  char *buf;
  int len, cap, full;
};

static void
put(struct page *p, const char *s, int n)
{
  if (p->len + n > p->cap) {
    p->full = 1;
    return;
  }
  memmove(p->buf + p->len, s, n);
  p->len += n;
}

static void
puts_(struct page *p, const char *s)
{
  put(p, s, strlen(s));
}

// s with <, >, & and " made safe for HTML text and attributes.
static void
putescaped(struct page *p, const char *s)
{
  for (; *s; s++) {
    if (*s == '<')
      puts_(p, "&lt;");
    else if (*s == '>')
      puts_(p, "&gt;");
    else if (*s == '&')
      puts_(p, "&amp;");
    else if (*s == '"')
      puts_(p, "&quot;");
    else
      put(p, s, 1);
  }
}

// s percent-encoded where a URL path may not hold it as it is.
static void
puturl(struct page *p, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  for (; *s; s++) {
    uchar c = *s;
    int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                strchr("-._~/", c) != 0;
    if (plain && c) {
      put(p, (char *)&c, 1);
    } else {
      char e[3] = { '%', hex[c >> 4], hex[c & 15] };
      put(p, e, 3);
    }
  }
}

// The listing of directory fs (a file system path) shown as url.
static void
listing(struct page *p, const char *fs, const char *url)
{
  struct dirent de;
  struct stat st;
  char path[HTTP_MAXPATH + DIRSIZ + 2], line[64];
  puts_(p, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
  putescaped(p, url);
  puts_(p, "</title></head>\n<body><h1>Index of ");
  putescaped(p, url);
  puts_(p, "</h1>\n<table>\n<tr><th>Name</th><th>Size</th></tr>\n");
  int fd = open(fs, O_RDONLY);
  while (fd >= 0 && read(fd, &de, sizeof de) == sizeof de) {
    de.name[DIRSIZ - 1] = 0;
    if (de.ino == 0 || strcmp(de.name, ".") == 0 || (strcmp(de.name, "..") == 0 && !url[1]))
      continue;
    snprintf(path, sizeof path, "%s%s%s", fs, fs[1] ? "/" : "", de.name);
    if (stat(path, &st) < 0)
      st.type = T_FILE, st.size = 0;   // gone meanwhile: listed, size 0
    int dir = st.type == T_DIR;
    puts_(p, "<tr><td><a href=\"");
    puturl(p, de.name);
    puts_(p, dir ? "/\">" : "\">");
    putescaped(p, de.name);
    if (dir)
      snprintf(line, sizeof line, "/</a></td><td>-</td></tr>\n");
    else
      snprintf(line, sizeof line, "</a></td><td>%u</td></tr>\n", st.size);
    puts_(p, line);
  }
  if (fd >= 0)
    close(fd);
  puts_(p, "</table>\n<p>xv6net httpd</p></body></html>\n");
}

// An .html file small enough to hold the status mark: read whole, the mark
// replaced by the guest's state. The page length, or -1 if the file is not
// such a one (then it is sent as it is).
static int
statusfile(int ffd, int size, struct page *p)
{
  if (size > MAXSTATUSFILE || size + PAGEMAX / 2 > p->cap)
    return -1;
  int n = 0;
  while (n < size) {
    int r = read(ffd, p->buf + n, size - n);
    if (r <= 0)
      break;
    n += r;
  }
  lseek(ffd, 0, SEEK_SET);
  int mark = -1, ml = strlen(STATUSMARK);
  for (int i = 0; i + ml <= n && mark < 0; i++)
    if (memcmp(p->buf + i, STATUSMARK, ml) == 0)
      mark = i;
  if (mark < 0)
    return -1;
  int rest = n - mark - ml;
  char *tail = p->buf + p->cap - rest;   // the text after the mark, out of the way
  memmove(tail, p->buf + mark + ml, rest);
  int made = http_statuspage(p->buf + mark, p->cap - rest - mark);
  if (made < 0)
    return -1;
  memmove(p->buf + mark + made, tail, rest);
  p->len = mark + made + rest;
  return p->len;
}

// ---- files ----

// Send the head already in iobuf[0..n) and the file's size bytes after it,
// an iobuf at a time: 0, or -1 if the client is gone.
static int
sendfile(int fd, int n, int ffd, int size)
{
  while (n > 0 || size > 0) {
    int room = (int)sizeof iobuf - n;
    int got = size > 0 ? read(ffd, iobuf + n, size < room ? size : room) : 0;
    if (got < 0 || (got == 0 && size > 0))
      return -1;   // the file shrank: the length promised cannot be kept
    if (writeall(fd, iobuf, n + got) < 0)
      return -1;
    size -= got;
    n = 0;
  }
  return 0;
}

static int
servepage(int fd, const struct http_req *r, struct page *p, const char *type)
{
  struct answer a = { 200, type, p->len, !r->keepalive, "" };
  logline(r, 200, r->method == HTTP_HEAD ? 0 : p->len);
  return sendall(fd, &a, p->buf, r->method == HTTP_HEAD);
}

static int
servefile(int fd, const struct http_req *r, const char *fs, struct page *p)
{
  struct stat st;
  int ffd = open(fs, O_RDONLY);
  if (ffd < 0 || fstat(ffd, &st) < 0 || st.type != T_FILE) {
    if (ffd >= 0)
      close(ffd);
    return senderror(fd, r, ffd < 0 && errno != ENOENT && errno != ENOTDIR ? 403 : 404,
                     !r->keepalive, 0);
  }
  const char *type = http_mimetype(fs);
  int ret;
  if (strncmp(type, "text/html", 9) == 0 && statusfile(ffd, st.size, p) >= 0) {
    ret = servepage(fd, r, p, type);
  } else {
    struct answer a = { 200, type, st.size, !r->keepalive, "" };
    logline(r, 200, r->method == HTTP_HEAD ? 0 : (int)st.size);
    ret = sendfile(fd, formathead(&a), ffd, r->method == HTTP_GET ? (int)st.size : 0);
  }
  close(ffd);
  return ret;
}

// A directory: a redirect to its name with a slash (its relative links need
// it), its index.html, or its listing.
static int
servedir(int fd, const struct http_req *r, const char *fs, const char *path, struct page *p)
{
  char index[HTTP_MAXPATH + HTTP_MAXPATH + 32], where[3 * HTTP_MAXPATH + 2];
  struct stat st;
  if (path[strlen(path) - 1] != '/') {
    // The decoded path, encoded again for the Location field (a space or a
    // byte over 127 may not stand there as it is), and the slash.
    struct page loc = { where, 0, sizeof where - 2, 0 };
    puturl(&loc, path);
    where[loc.len++] = '/';
    where[loc.len] = 0;
    return senderror(fd, r, 301, !r->keepalive, where);
  }
  snprintf(index, sizeof index, "%s%sindex.html", fs, fs[1] ? "/" : "");
  if (stat(index, &st) == 0 && st.type == T_FILE)
    return servefile(fd, r, index, p);
  listing(p, fs, path);
  if (p->full)
    return senderror(fd, r, 500, !r->keepalive, 0);
  return servepage(fd, r, p, "text/html; charset=utf-8");
}

// Answer one parsed request: 0 to go on, -1 to close the connection.
// Errors that leave the request's framing in doubt (a body, an unknown
// method, a bad target) close; the rest keep the connection if it may be kept.
static int
answer(int fd, const struct http_req *r, struct page *p)
{
  char path[HTTP_MAXPATH], fs[HTTP_MAXPATH + HTTP_MAXPATH + 16];
  int st = 0, close = 0;
  if (r->method == HTTP_UNKNOWN || r->chunked)
    st = 501, close = 1;
  else if (r->contentlength > 0)
    st = 413, close = 1;   // neither GET nor HEAD takes a body
  else if (r->method == HTTP_KNOWN)
    st = 405;
  else if ((st = http_normpath(r->target, r->targetlen, path, sizeof path)) != 0)
    close = st != 403;
  if (st) {
    close |= !r->keepalive;
    return senderror(fd, r, st, close, 0) < 0 || close ? -1 : 0;
  }
  snprintf(fs, sizeof fs, "%s%s", root, path);
  int n = strlen(fs);
  if (n > 1 && fs[n - 1] == '/')
    fs[--n] = 0;
  if (n == 0)
    fs[n++] = '/', fs[n] = 0;
  p->len = p->full = 0;
  int ret;
  if (!isdir(fs))
    ret = servefile(fd, r, fs, p);
  else
    ret = servedir(fd, r, fs, path, p);
  return ret < 0 || !r->keepalive ? -1 : 0;
}

// ---- one connection ----

// Wait for more input until deadline (usecs): bytes read, 0 at end of
// file, -1 on an error or when the time is up (errno ETIMEDOUT).
static int
readmore(int fd, uint64 deadline)
{
  for (;;) {
    uint64 now = usecs();
    if (now >= deadline) {
      errno = ETIMEDOUT;
      return -1;
    }
    struct pollfd pfd = { fd, POLLIN, 0 };
    int n = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
    if (n < 0 && errno != EINTR)
      return -1;
    if (n <= 0)
      continue;
    n = read(fd, inbuf + inlen, sizeof inbuf - inlen);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n > 0)
      inlen += n;
    return n;
  }
}

// Serve requests on fd until it closes or must be closed.
static void
serve(int fd)
{
  static struct page p;   // one buffer for the worker's life
  struct http_req r;
  p.cap = PAGEMAX;
  if (p.buf == 0)
    p.buf = malloc(p.cap);
  if (p.buf == 0) {
    senderror(fd, 0, 503, 1, 0);
    return;
  }
  inlen = 0;
  for (;;) {
    uint64 deadline = usecs() + (uint64)timeoutms * 1000;
    int head;
    while ((head = http_headlen(inbuf, inlen)) == 0) {
      int over = http_overlong(inbuf, inlen);
      if (over) {
        senderror(fd, 0, over, 1, 0);
        return;
      }
      int n = readmore(fd, deadline);
      if (n < 0 && errno == ETIMEDOUT && inlen > 0)
        senderror(fd, 0, 408, 1, 0);   // half a request: say why we close
      if (n <= 0)
        return;
    }
    int st = http_parse(inbuf, head, &r);
    if (st) {
      senderror(fd, &r, st, 1, 0);
      return;
    }
    if (answer(fd, &r, &p) < 0)
      return;
    inlen -= head;
    memmove(inbuf, inbuf + head, inlen);   // the next pipelined request, if any
  }
}

// Close as Apache's lingering close does: send our FIN, then read and drop
// what the client still sends (a body we refused, pipelined requests after
// an error) for a moment, so that our stack has nothing unread to answer
// with a reset, which could reach the client before it read our answer.
static void
lingerclose(int fd)
{
  uint64 until = usecs() + 2000000;
  int dropped = 0;
  shutdown(fd, SHUT_WR);
  while (dropped < 1024 * 1024) {
    uint64 now = usecs();
    struct pollfd pfd = { fd, POLLIN, 0 };
    if (now >= until || poll(&pfd, 1, (int)((until - now) / 1000) + 1) <= 0)
      break;
    int n = read(fd, iobuf, sizeof iobuf);
    if (n <= 0)
      break;
    dropped += n;
  }
  close(fd);
}

// A worker: take a connection, serve it, close it; again, for ever.
static void
worker(int lfd)
{
  for (;;) {
    struct sockaddr_in peer;
    int len = sizeof peer;
    int fd = accept(lfd, (struct sockaddr *)&peer, &len);
    if (fd < 0) {
      if (errno != EINTR && errno != ECONNABORTED) {
        perror("httpd: accept");   // out of sockets or blocks: let some end
        sleep(10);                 // a tenth of a second (HZ is 100)
      }
      continue;
    }
    int one = 1;   // answers go out whole at once: nothing for Nagle to hold back
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    inet_ntoa(peer.sin_addr, client);
    serve(fd);
    lingerclose(fd);
  }
}

static int
spawn(int lfd)
{
  int pid = fork();
  if (pid == 0) {
    worker(lfd);
    exit(0);
  }
  if (pid < 0)
    perror("httpd: fork");
  return pid;
}

// ---- the server ----

static int
startlistening(int port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    perror("httpd: socket");
    return -1;
  }
  if (tcp_bindlisten(fd, port, 32) < 0) {
    fprintf(2, "httpd: port %d: %s\n", port, strerror(errno));
    return -1;
  }
  return fd;
}

int
main(int argc, char **argv)
{
  int port = 80, max = 16, c;
  argsinit("httpd", usage);
  while ((c = getopt(argc, argv, "p:t:n:")) != -1) {
    if (c == 'p')
      port = argport("-p", "port", optarg);
    else if (c == 't')
      timeoutms = argsecs("-t", "timeout", optarg, 100, 3600 * 1000);
    else if (c == 'n')
      max = argnum("-n", "connections", optarg, 1, 48);
  }
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  const char *dir = optind < argc ? argv[optind] : "/var/www";
  if (strlen(dir) >= HTTP_MAXPATH - 1 || !isdir(dir)) {
    fprintf(2, "httpd: %s: not a directory\n", dir);
    return 1;
  }
  strlcpy(root, dir, sizeof root);
  for (int n = strlen(root); n > 0 && root[n - 1] == '/'; n--)
    root[n - 1] = 0;
  signal(SIGPIPE, SIG_IGN);   // a client that left makes write fail with EPIPE instead
  int lfd = startlistening(port);
  if (lfd < 0)
    return 1;
  printf("httpd: serving %s on port %d\n", dir, port);
  for (int i = 0; i < max; i++)
    spawn(lfd);
  for (;;) {   // a worker that died (a fault, say) is replaced
    int status;
    if (wait(&status) < 0) {
      sleep(10);
      spawn(lfd);   // none left (every fork failed): try again
      continue;
    }
    fprintf(2, "httpd: a worker ended (status %d); starting another\n", status);
    sleep(10);      // not a fork loop if every worker dies at once
    spawn(lfd);
  }
}
