// A stub resolver: /etc/hosts, then A queries over UDP to the servers of
// /etc/resolv.conf, with retries and a timeout. Each query goes from a fresh
// socket on a random port with a random ID (getrandom), and a reply is taken
// only from the server asked, from port 53, with that ID and that question
// (RFC 5452's defences against off-path spoofing); dnswire.c checks every
// length in it. What is not taken is counted, and shown with verbose.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

#define RESOLVCONF "/etc/resolv.conf"
#define HOSTS      "/etc/hosts"
#define PORT_LO    49152
#define PORT_TRIES 16

int h_errno;

// ---- small text helpers ---------------------------------------------------------

static char *
skipspace(char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  return s;
}

// The next word of *s (NUL-terminated in place), or 0.
static char *
word(char **s)
{
  char *w = skipspace(*s), *e = w;
  if (*w == 0 || *w == '#' || *w == ';')
    return 0;
  while (*e && *e != ' ' && *e != '\t')
    e++;
  if (*e)
    *e++ = 0;
  *s = e;
  return w;
}

// Calls fn for each line of path (without its newline); -1 if it cannot be read.
static int
eachline(const char *path, void (*fn)(char *line, void *arg), void *arg)
{
  char line[256];
  int fd = open(path, O_RDONLY), n;
  if (fd < 0)
    return -1;
  while ((n = readline(fd, line, sizeof line)) > 0) {
    if (line[n - 1] == '\n')
      line[n - 1] = 0;
    fn(line, arg);
  }
  close(fd);
  return 0;
}

static uint
randomuint(void)
{
  uint v = 0;
  getrandom(&v, sizeof v, 0);
  return v;
}

// ---- /etc/resolv.conf -------------------------------------------------------------

static void
option(struct resolv_conf *rc, const char *opt)
{
  static const struct { const char *name; int lo, hi; int off; } opts[] = {
    { "timeout:", 1, 30, __builtin_offsetof(struct resolv_conf, timeout) },
    { "attempts:", 1, 5, __builtin_offsetof(struct resolv_conf, attempts) },
    { "ndots:", 0, 15, __builtin_offsetof(struct resolv_conf, ndots) },
  };
  for (uint i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    int len = strlen(opts[i].name);
    if (strncmp(opt, opts[i].name, len) == 0) {
      int v = atoi(opt + len);
      *(int *)((char *)rc + opts[i].off) = v < opts[i].lo ? opts[i].lo : v > opts[i].hi ? opts[i].hi : v;
    }
  }
}

static void
confline(char *line, void *arg)
{
  struct resolv_conf *rc = arg;
  char *rest = line, *key = word(&rest), *w;
  uint addr;

  if (key == 0)
    return;
  if (strcmp(key, "nameserver") == 0) {
    if ((w = word(&rest)) && rc->nservers < MAXNS && inet_aton(w, &addr) == 0)
      rc->servers[rc->nservers++] = addr;
  } else if (strcmp(key, "search") == 0 || strcmp(key, "domain") == 0) {
    rc->nsearch = 0;   // the last search or domain line wins, as in glibc
    while ((w = word(&rest)) && rc->nsearch < MAXDNSRCH)
      if (strlen(w) < DNS_NAMELEN)
        strlcpy(rc->search[rc->nsearch++], w, DNS_NAMELEN);
  } else if (strcmp(key, "options") == 0) {
    while ((w = word(&rest)))
      option(rc, w);
  }
}

int
res_init(struct resolv_conf *rc)
{
  memset(rc, 0, sizeof *rc);
  rc->timeout = 5;
  rc->attempts = 2;
  rc->ndots = 1;
  return eachline(RESOLVCONF, confline, rc);
}

// ---- /etc/hosts -------------------------------------------------------------------

struct hostsearch {
  const char *name;
  uint addr;
  int found;
};

static void
hostsline(char *line, void *arg)
{
  struct hostsearch *hs = arg;
  char *rest = line, *a = word(&rest), *n;
  uint addr;

  if (hs->found || a == 0 || inet_aton(a, &addr) < 0)
    return;
  while ((n = word(&rest)))
    if (dns_samename(n, hs->name)) {
      hs->addr = addr;
      hs->found = 1;
      return;
    }
}

int
hosts_lookup(const char *name, uint *addr)
{
  struct hostsearch hs = { name, 0, 0 };
  if (eachline(HOSTS, hostsline, &hs) < 0 || !hs.found)
    return -1;
  *addr = hs.addr;
  return 0;
}

// ---- one query ----------------------------------------------------------------------

// A UDP socket on a random port above 49152 (the kernel's own choice if
// PORT_TRIES random ones are taken).
static int
randomsocket(void)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0)
    return -1;
  for (int i = 0; i < PORT_TRIES; i++) {
    sin.sin_port = htons(PORT_LO + randomuint() % (65536 - PORT_LO));
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0)
      return fd;
  }
  sin.sin_port = 0;
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0)
    return fd;
  close(fd);
  return -1;
}

static void
ignored(int verbose, const struct sockaddr_in *from, const char *why)
{
  char ip[16];
  if (verbose)
    printf(";; ignored reply from %s#%d: %s\n", inet_ntoa(from->sin_addr, ip),
           ntohs(from->sin_port), why);
}

// Is this datagram the reply? 1 yes (in *r), 0 no (counted).
static int
takereply(const uchar *buf, int n, const struct sockaddr_in *from, uint server, ushort id,
          const char *name, ushort qtype, struct dns_reply *r, struct res_stats *st, int verbose)
{
  if (from->sin_addr != server || from->sin_port != htons(DNS_PORT)) {
    st->wrongserver++;
    ignored(verbose, from, "wrong server");
    return 0;
  }
  int err = dns_parse(buf, n, r);
  if (err == DNS_OK)
    err = dns_match(r, id, name, qtype);
  if (err != DNS_OK) {
    if (err == DNS_EID)
      st->wrongid++;
    else if (err == DNS_EQUESTION)
      st->wrongquestion++;
    else
      st->malformed++;
    ignored(verbose, from, dns_reason(err));
    return 0;
  }
  return 1;
}

int
res_send(uint server, const char *name, ushort qtype, int timeout_ms, struct dns_reply *r,
         struct res_stats *st, int verbose)
{
  static uchar buf[DNS_MAXMSG];
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(DNS_PORT),
                            .sin_addr = server };
  ushort id = randomuint();
  int n = dns_query(buf, sizeof buf, id, name, qtype), fd, err = -ETIMEDOUT;

  if (n < 0)
    return -EINVAL;
  if ((fd = randomsocket()) < 0)
    return -errno;
  st->sent++;
  if (sendto(fd, buf, n, 0, (struct sockaddr *)&to, sizeof to) < 0) {
    err = -errno;
    close(fd);
    return err;
  }
  uint64 deadline = usecs() + (uint64)timeout_ms * 1000;
  for (;;) {
    uint64 now = usecs();
    if (now >= deadline)
      break;
    setrcvtimeo(fd, (deadline - now) / 1000 + 1);
    struct sockaddr_in from;
    int fromlen = sizeof from;
    if ((n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen)) < 0) {
      if (errno == EAGAIN)
        continue;
      err = -errno;   // ECONNREFUSED: nothing listens on the server's port 53
      break;
    }
    if (takereply(buf, n, &from, server, id, name, qtype, r, st, verbose)) {
      err = 0;
      break;
    }
  }
  close(fd);
  if (err == -ETIMEDOUT)
    st->timeouts++;
  if (err == -ECONNREFUSED)
    st->refused++;
  return err;
}

// ---- the search list and the servers ---------------------------------------------------

static int
dots(const char *name)
{
  int n = 0;
  for (; *name; name++)
    n += *name == '.';
  return n;
}

// The i-th name to try for name (RFC 1535's order, as glibc: as it is
// first when it has ndots dots, else after the search domains); 0 when done.
static int
candidate(const struct resolv_conf *rc, const char *name, int i, char out[DNS_NAMELEN])
{
  int len = strlen(name);
  int absolute = len > 0 && name[len - 1] == '.';
  int asis_first = absolute || dots(name) >= rc->ndots;
  int count = absolute ? 1 : rc->nsearch + 1;
  if (i >= count)
    return 0;
  int asis = asis_first ? i == 0 : i == count - 1;
  if (asis)
    return snprintf(out, DNS_NAMELEN, "%s", name) < DNS_NAMELEN;
  int s = asis_first ? i - 1 : i;
  return snprintf(out, DNS_NAMELEN, "%s.%s", name, rc->search[s]) < DNS_NAMELEN;
}

// One name, every server, every attempt: an h_errno-style outcome.
static int
askall(const struct resolv_conf *rc, const char *name, struct dns_reply *r,
       struct res_stats *st, int verbose)
{
  int outcome = TRY_AGAIN;
  for (int attempt = 0; attempt < rc->attempts; attempt++) {
    for (int s = 0; s < rc->nservers; s++) {
      if (res_send(rc->servers[s], name, DNS_TYPE_A, rc->timeout * 1000, r, st, verbose) < 0)
        continue;
      switch (r->rcode) {
      case DNS_NOERROR:
        return r->naddrs > 0 ? RES_OK : NO_DATA;
      case DNS_NXDOMAIN:
        return HOST_NOT_FOUND;
      case DNS_SERVFAIL:
        break;   // another server may do better
      default:
        outcome = NO_RECOVERY;
      }
    }
  }
  return outcome;
}

// How much an outcome tells: the name exists (with no address) says most,
// then that it does not exist, then that no server answered, then a refusal.
static int
rank(int outcome)
{
  switch (outcome) {
  case NO_DATA: return 4;
  case HOST_NOT_FOUND: return 3;
  case TRY_AGAIN: return 2;
  default: return 1;
  }
}

int
res_search(const struct resolv_conf *rc, const char *name, struct dns_reply *r,
           char fqdn[DNS_NAMELEN], struct res_stats *st, int verbose)
{
  int best = TRY_AGAIN, outcome;
  char try[DNS_NAMELEN];

  for (int i = 0; rc->nservers > 0 && candidate(rc, name, i, try); i++) {
    if ((outcome = askall(rc, try, r, st, verbose)) == RES_OK) {
      strlcpy(fqdn, try, DNS_NAMELEN);
      return RES_OK;
    }
    if (i == 0 || rank(outcome) > rank(best))
      best = outcome;
  }
  return best;
}

// ---- gethostbyname ---------------------------------------------------------------

struct hostent *
gethostbyname(const char *name)
{
  static struct hostent he;
  static char hname[DNS_NAMELEN], *aliases[1], *list[DNS_MAXADDRS + 1];
  static uint addrs[DNS_MAXADDRS];
  struct resolv_conf rc;
  struct res_stats st;
  struct dns_reply r;
  int n = 0;

  memset(&st, 0, sizeof st);
  strlcpy(hname, name, sizeof hname);
  if (inet_aton(name, &addrs[0]) == 0 || hosts_lookup(name, &addrs[0]) == 0) {
    n = 1;
  } else {
    res_init(&rc);
    if ((h_errno = res_search(&rc, name, &r, hname, &st, 0)) != RES_OK)
      return 0;
    n = r.naddrs;
    memmove(addrs, r.addrs, n * sizeof addrs[0]);
  }
  for (int i = 0; i < n; i++)
    list[i] = (char *)&addrs[i];
  list[n] = 0;
  aliases[0] = 0;
  he.h_name = hname;
  he.h_aliases = aliases;
  he.h_addrtype = AF_INET;
  he.h_length = 4;
  he.h_addr_list = list;
  h_errno = RES_OK;
  return &he;
}

const char *
hstrerror(int err)
{
  switch (err) {
  case RES_OK: return "Resolver Error 0 (no error)";
  case HOST_NOT_FOUND: return "Name or service not known";
  case TRY_AGAIN: return "Temporary failure in name resolution";
  case NO_RECOVERY: return "Non-recoverable failure in name resolution";
  case NO_DATA: return "No address associated with hostname";
  default: return "Unknown resolver error";
  }
}

int
resolve(const char *name, uint *addr)
{
  struct hostent *he = gethostbyname(name);
  if (he == 0)
    return -1;
  memmove(addr, he->h_addr, 4);
  return 0;
}
