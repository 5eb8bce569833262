// dhclient [-d] [-1] [-v] [-t SECS] [-p PROBES] [IF]: get an IPv4 address
// for IF (default eth0) by DHCP (RFC 2131) and keep it; dhclient -r [IF]
// releases it and stops the dhclient holding it.
//
// Until it has an address the client speaks through a packet socket: its
// DISCOVER and REQUEST go out from 0.0.0.0 in frames it builds itself, and it
// reads the replies before IP would drop them (they are for an address the
// interface does not have yet). Before taking an address it probes for it
// with ARP (RFC 5227); if someone answers, it DECLINEs and starts again.
// Once bound it configures the interface, the default route and
// /etc/resolv.conf, goes to the background (unless -d), and renews through
// an ordinary UDP socket on port 68: at T1 unicast to the server, at T2
// broadcast to any server; when the lease runs out, the address goes.
//
// Every message it is sent is parsed by user/lib/dhcpwire.c; those it
// refuses are counted by reason and the counts kept in the lease file.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/fcntl.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/lib/dhcpwire.h"

#define LEASEDIR    "/var/lib/dhcp"
#define RUNDIR      "/var/run"
#define LOGDIR      "/var/log"
#define LOGFILE     LOGDIR "/dhclient.log"
#define RESOLVCONF  "/etc/resolv.conf"
#define DECLINE_WAIT 10     // seconds before trying again after a DECLINE (RFC 2131 3.1.5)
#define PROBE_GAP   250     // ms between ARP probes, and waited after the last
#define MAXTRIES    4       // REQUESTs before going back to DISCOVER
#define ETH_P_ARP_  0x0806
#define NELEMS(a)   ((int)(sizeof(a) / sizeof((a)[0])))

enum state { INIT, SELECTING, REQUESTING, BOUND, RENEWING, REBINDING };
static const char *statenames[] = { "INIT", "SELECTING", "REQUESTING", "BOUND", "RENEWING",
                                    "REBINDING" };

struct lease {
  uint addr, mask, server, router;
  uint dns[DHCP_MAXADDRS];
  int ndns;
  char domain[DHCP_NAMELEN];
  uint seconds, t1, t2;    // lease time and the two timers, from the server
  uint64 start;            // when it began (ms since boot): the REQUEST was sent
};

static struct {
  char ifname[IFNAMSIZ];
  int ifindex;
  uchar mac[6];
  int pkt, udp;            // packet socket (no address yet), UDP :68 (with one)
  enum state state;
  uint xid;
  uint64 began;            // ms: when this exchange began (the secs field)
  struct lease lease;
  uint refused[DHCP_NREASONS];
  uint ignored;            // replies for other clients
  int foreground, verbose, probes;
} c = { .pkt = -1, .udp = -1, .probes = 2 };

// ---- time, logging, files ---------------------------------------------------------

static uint64
now(void)
{
  return usecs() / 1000;
}

static uint
randomuint(void)
{
  uint v = 0;
  getrandom(&v, sizeof v, 0);
  return v;
}

// A line for the user: on the terminal in the foreground, in the log file
// once in the background (the console belongs to the shell then).
static void PRINTFLIKE(1, 2)
say(const char *fmt, ...)
{
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof line - 2)
    n = sizeof line - 2;
  line[n++] = '\n';
  if (c.foreground) {
    write(1, line, n);
    return;
  }
  int fd = open(LOGFILE, O_WRONLY | O_CREAT | O_APPEND);
  if (fd >= 0) {
    write(fd, line, n);
    close(fd);
  }
}

static char *
ipstr(uint addr)
{
  static char bufs[4][16];
  static int next;
  char *b = bufs[next++ % 4];
  return inet_ntoa(addr, b);
}

// Write path through a temporary file and rename, so readers never see half.
static int
writefile(const char *path, const char *text)
{
  char tmp[MAXPATH];
  snprintf(tmp, sizeof tmp, "%s.new", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (fd < 0)
    return -1;
  int n = strlen(text), ok = writeall(fd, text, n) == n;
  close(fd);
  if (!ok || rename(tmp, path) < 0) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

static void
makedirs(void)
{
  static const char *dirs[] = { "/var", "/var/lib", LEASEDIR, RUNDIR, LOGDIR };
  for (int i = 0; i < NELEMS(dirs); i++)
    mkdir(dirs[i], 0755);
}

static void
leasepath(char *buf, int n)
{
  snprintf(buf, n, LEASEDIR "/dhclient.%s.leases", c.ifname);
}

static void
pidpath(char *buf, int n)
{
  snprintf(buf, n, RUNDIR "/dhclient.%s.pid", c.ifname);
}

// The lease file: what we hold, and what we refused.
static void
savelease(void)
{
  static char text[1024];
  char path[MAXPATH];
  struct lease *l = &c.lease;
  int n = snprintf(text, sizeof text, "interface %s\nstate %s\n", c.ifname,
                   statenames[c.state]);
  if (c.state >= BOUND) {
    n += snprintf(text + n, sizeof text - n,
                  "address %s\nnetmask %s\nserver %s\nrouter %s\nlease %u\nrenew %u\n"
                  "rebind %u\nbound_at_ms %u\n", ipstr(l->addr), ipstr(l->mask),
                  ipstr(l->server), ipstr(l->router), l->seconds, l->t1, l->t2,
                  (uint)l->start);
    for (int i = 0; i < l->ndns; i++)
      n += snprintf(text + n, sizeof text - n, "dns %s\n", ipstr(l->dns[i]));
    if (l->domain[0])
      n += snprintf(text + n, sizeof text - n, "domain %s\n", l->domain);
  }
  uint total = 0;
  for (int i = 1; i < DHCP_NREASONS; i++)
    total += c.refused[i];
  n += snprintf(text + n, sizeof text - n, "refused %u\n", total);
  for (int i = 1; i < DHCP_NREASONS; i++)
    if (c.refused[i])
      n += snprintf(text + n, sizeof text - n, "refused %s: %u\n", dhcp_reason(-i), c.refused[i]);
  snprintf(text + n, sizeof text - n, "ignored %u\n", c.ignored);
  leasepath(path, sizeof path);
  writefile(path, text);
}

// ---- the interface ---------------------------------------------------------------------

static int
setaddr(uint addr, uint mask)
{
  struct netif_conf conf = { .set = NETIF_SET_ADDR | NETIF_SET_UP, .ipaddr = addr,
                             .netmask = mask };
  return netifset(c.ifname, &conf);
}

static void
deldefault(void)
{
  struct rtentry rt;
  for (int i = 0; routelist(i, &rt) == 0; i++) {
    if (rt.dst == 0 && rt.mask == 0 && strcmp(rt.ifname, c.ifname) == 0) {
      routedel(&rt);
      return;
    }
  }
}

static void
writeresolv(const struct lease *l)
{
  char text[512];
  int n = snprintf(text, sizeof text, "# written by dhclient for %s\n", c.ifname);
  if (l->domain[0])
    n += snprintf(text + n, sizeof text - n, "search %s\n", l->domain);
  for (int i = 0; i < l->ndns; i++)
    n += snprintf(text + n, sizeof text - n, "nameserver %s\n", ipstr(l->dns[i]));
  if (l->ndns > 0 && writefile(RESOLVCONF, text) < 0)
    say("cannot write " RESOLVCONF ": %s", strerror(errno));
}

// Address, default route and name servers from the lease.
static void
configure(const struct lease *l)
{
  if (setaddr(l->addr, l->mask) < 0)
    say("%s: cannot set address %s: %s", c.ifname, ipstr(l->addr), strerror(errno));
  deldefault();
  if (l->router) {
    struct rtentry rt = { .gateway = l->router };
    strlcpy(rt.ifname, c.ifname, sizeof rt.ifname);
    if (routeadd(&rt) < 0)
      say("default route via %s: %s", ipstr(l->router), strerror(errno));
  }
  writeresolv(l);
}

static void
unconfigure(void)
{
  deldefault();
  setaddr(0, 0);
  unlink(RESOLVCONF);
}

// ---- sockets ---------------------------------------------------------------------

// The UDP socket on port 68 (quiet: say nothing when it cannot be had).
static void
openudp(int quiet)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(DHCP_CLIENT_PORT) };
  int one = 1;
  if (c.udp >= 0)
    return;
  if ((c.udp = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
      bind(c.udp, (struct sockaddr *)&sin, sizeof sin) < 0 ||
      setsockopt(c.udp, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) {
    if (!quiet)
      say("udp port %d: %s", DHCP_CLIENT_PORT, strerror(errno));
    if (c.udp >= 0)
      close(c.udp);
    c.udp = -1;
  }
}

static void
closeudp(void)
{
  if (c.udp >= 0)
    close(c.udp);
  c.udp = -1;
}

// Send r: as a frame from 0.0.0.0 to everyone without an address, else by
// UDP from our address to dst (a server, or the broadcast address).
static int
dhcpsend(const struct dhcp_req *r, uint dst)
{
  static const uchar bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  uchar msg[DHCP_MAXLEN], frame[DHCP_FRAMEHDR + DHCP_MAXLEN];
  int n = dhcp_build(msg, sizeof msg, r);

  if (n < 0)
    return -1;
  if (c.udp >= 0 && r->ciaddr) {
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(DHCP_SERVER_PORT),
                              .sin_addr = dst };
    return sendto(c.udp, msg, n, 0, (struct sockaddr *)&to, sizeof to);
  }
  int len = dhcp_frame(frame, sizeof frame, c.mac, bcast, 0, INADDR_BROADCAST, msg, n);
  struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
                            .sll_ifindex = c.ifindex };
  return sendto(c.pkt, frame, len, 0, (struct sockaddr *)&ll, sizeof ll);
}

static void
refuse(int reason, uint from)
{
  if (reason == DHCP_ENOTOURS) {
    c.ignored++;
    return;
  }
  c.refused[-reason]++;
  say("message from %s refused: %s", ipstr(from), dhcp_reason(reason));
  if (c.state >= BOUND)
    savelease();
}

// Wait until deadline (ms) for a reply of one of the types in want (a bit
// per type) from server (0: any); 1 with *m, 0 at the deadline.
static int
awaitreply(uint64 deadline, uint want, uint server, struct dhcp_msg *m)
{
  static uchar buf[2048];
  int fd = c.udp >= 0 ? c.udp : c.pkt;

  for (;;) {
    uint64 t = now();
    if (t >= deadline)
      return 0;
    uint64 left = deadline - t;   // (an infinite lease's T1 is decades away)
    setrcvtimeo(fd, left < 10 ? 10 : left > 3600000 ? 3600000 : left);
    struct sockaddr_in from;
    int fromlen = sizeof from;
    int n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0)
      continue;   // the timeout (EAGAIN); the loop checks the deadline
    const uchar *p = buf;
    uint len = n, src = from.sin_addr;
    if (fd == c.pkt && dhcp_unframe(buf, n, &p, &len, &src) < 0)
      continue;   // other IP traffic
    int err = dhcp_parse(p, len, m);
    if (err == DHCP_OK)
      err = dhcp_check(m, c.xid, c.mac);
    if (err != DHCP_OK) {
      refuse(err, src);
      continue;
    }
    if (c.verbose)
      say("%s from %s", dhcp_typename(m->type), ipstr(m->serverid));
    if ((want & (1u << m->type)) && (server == 0 || m->serverid == server))
      return 1;
  }
}

// ---- the exchange ---------------------------------------------------------------

static void
request(struct dhcp_req *r, uchar type)
{
  memset(r, 0, sizeof *r);
  r->type = type;
  r->xid = c.xid;
  uint secs = (now() - c.began) / 1000;
  r->secs = secs > 0xFFFF ? 0xFFFF : secs;
  memmove(r->chaddr, c.mac, 6);
}

// The lease an ACK gives.
static void
takelease(const struct dhcp_msg *m, uint64 start)
{
  struct lease *l = &c.lease;
  memset(l, 0, sizeof *l);
  l->addr = m->yiaddr;
  l->mask = (m->have & DHCP_HAVE_MASK) ? m->mask : htonl(0xFFFFFF00);
  l->server = m->serverid;
  for (int i = 0; i < m->nrouters && l->router == 0; i++)
    if ((m->routers[i] & l->mask) == (l->addr & l->mask))
      l->router = m->routers[i];   // the first one on our network
  l->ndns = m->ndns;
  memmove(l->dns, m->dns, sizeof l->dns);
  strlcpy(l->domain, m->domain, sizeof l->domain);
  l->seconds = m->lease;
  dhcp_times(m, &l->t1, &l->t2);
  l->start = start;
}

// RFC 2131 4.1's backoff: 4, 8, 16, 32, 64 s, each +-1 s.
static uint
backoff(int attempt)
{
  uint base = 4000u << (attempt < 4 ? attempt : 4);
  return base - 1000 + randomuint() % 2001;
}

// DISCOVER until an OFFER comes; 1 with it, 0 at the deadline.
static int
selecting(uint64 deadline, struct dhcp_msg *offer)
{
  struct dhcp_req r;
  c.state = SELECTING;
  c.xid = randomuint();
  c.began = now();
  for (int attempt = 0; now() < deadline; attempt++) {
    uint wait = backoff(attempt);
    request(&r, DHCPDISCOVER);
    say("DHCPDISCOVER on %s to 255.255.255.255 port 67 interval %u", c.ifname, wait / 1000);
    dhcpsend(&r, INADDR_BROADCAST);
    uint64 until = now() + wait;
    if (awaitreply(until < deadline ? until : deadline, 1u << DHCPOFFER, 0, offer)) {
      say("DHCPOFFER of %s from %s", ipstr(offer->yiaddr), ipstr(offer->serverid));
      return 1;
    }
  }
  return 0;
}

// REQUEST the offered address; 1 with the ACK, 0 after a NAK or silence.
static int
requesting(const struct dhcp_msg *offer, struct dhcp_msg *ack)
{
  struct dhcp_req r;
  c.state = REQUESTING;
  for (int attempt = 0; attempt < MAXTRIES; attempt++) {
    request(&r, DHCPREQUEST);
    r.requested = offer->yiaddr;
    r.serverid = offer->serverid;
    say("DHCPREQUEST for %s on %s to 255.255.255.255 port 67", ipstr(offer->yiaddr), c.ifname);
    dhcpsend(&r, INADDR_BROADCAST);
    if (awaitreply(now() + backoff(attempt), 1u << DHCPACK | 1u << DHCPNAK, offer->serverid, ack)) {
      say("%s of %s from %s", dhcp_typename(ack->type), ipstr(ack->yiaddr), ipstr(ack->serverid));
      return ack->type == DHCPACK;
    }
  }
  return 0;
}

// RFC 5227: ask for addr with sender 0.0.0.0; anyone who answers, or who
// probes for it too, has it. 1 if taken.
static int
probe(uint addr)
{
  static const uchar bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  uchar frame[60], buf[128];
  int fd = packet_socket(c.ifindex, ETH_P_ARP_);
  if (fd < 0)
    return 0;
  memset(frame, 0, sizeof frame);
  memmove(frame, bcast, 6);
  memmove(frame + 6, c.mac, 6);
  frame[12] = 0x08, frame[13] = 0x06;
  static const uchar arphdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };   // Ethernet, IPv4, request
  memmove(frame + 14, arphdr, 8);
  memmove(frame + 22, c.mac, 6);
  memmove(frame + 38, &addr, 4);          // sender 0.0.0.0, target addr
  struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP_),
                            .sll_ifindex = c.ifindex };
  int taken = 0;
  for (int i = 0; i < c.probes && !taken; i++) {
    sendto(fd, frame, sizeof frame, 0, (struct sockaddr *)&ll, sizeof ll);
    uint64 until = now() + PROBE_GAP;
    while (!taken && now() < until) {
      setrcvtimeo(fd, PROBE_GAP);
      int n = recv(fd, buf, sizeof buf);
      if (n < 42 || memcmp(buf + 22, c.mac, 6) == 0)
        continue;
      uint spa, tpa;
      memmove(&spa, buf + 28, 4);
      memmove(&tpa, buf + 38, 4);
      taken = spa == addr || (spa == 0 && tpa == addr);
      if (taken)
        say("%s is in use by %s", ipstr(addr), ether_ntoa(buf + 22, (char[18]){ 0 }));
    }
  }
  close(fd);
  return taken;
}

static void
decline(const struct dhcp_msg *ack)
{
  struct dhcp_req r;
  request(&r, DHCPDECLINE);
  r.requested = ack->yiaddr;
  r.serverid = ack->serverid;
  r.secs = 0;
  say("DHCPDECLINE of %s on %s to 255.255.255.255 port 67", ipstr(ack->yiaddr), c.ifname);
  dhcpsend(&r, INADDR_BROADCAST);
}

static void
bind_(const struct dhcp_msg *ack, uint64 start)
{
  takelease(ack, start);
  configure(&c.lease);
  c.state = BOUND;
  openudp(0);
  savelease();
  say("bound to %s -- renewal in %u seconds.", ipstr(c.lease.addr), c.lease.t1);
}

// The packet socket is open only while there is no address: it takes a
// copy of every IP frame, and an idle one would hold packet buffers.
static int
openpacket(void)
{
  if (c.pkt < 0 && (c.pkt = packet_socket(c.ifindex, ETH_P_IP)) < 0)
    say("packet socket on %s: %s", c.ifname, strerror(errno));
  return c.pkt;
}

static void
closepacket(void)
{
  if (c.pkt >= 0)
    close(c.pkt);
  c.pkt = -1;
}

// From nothing to a lease; 1 once bound, 0 at the deadline.
static int
obtain(uint64 deadline)
{
  struct dhcp_msg offer, ack;
  c.state = INIT;
  closeudp();
  if (openpacket() < 0)
    return 0;
  while (now() < deadline) {
    if (!selecting(deadline, &offer))
      return 0;
    uint64 start = now();
    if (!requesting(&offer, &ack))
      continue;   // NAK or no answer: DISCOVER again
    if (probe(ack.yiaddr)) {
      decline(&ack);
      sleep(DECLINE_WAIT * HZ);
      continue;
    }
    closepacket();
    bind_(&ack, start);
    return 1;
  }
  return 0;
}

// ---- keeping the lease --------------------------------------------------------------------

static uint64
at(uint seconds)
{
  return c.lease.start + (uint64)seconds * 1000;
}

// When to send again: half the time left to limit, but at least a minute
// apart (RFC 2131 4.4.5), never past limit.
static uint64
retry(uint64 limit)
{
  uint64 t = now(), half = (limit - t) / 2;
  uint64 next = t + (half > 60000 ? half : 60000);
  return next < limit ? next : limit;
}

// Renew (unicast to the server) or rebind (broadcast) until limit; 1 with
// a new lease, 0 at limit, -1 after a NAK.
static int
extend(enum state state, uint64 limit)
{
  struct dhcp_req r;
  struct dhcp_msg m;
  c.state = state;
  c.xid = randomuint();
  c.began = now();
  savelease();
  while (now() < limit) {
    uint64 start = now();
    uint dst = state == RENEWING ? c.lease.server : INADDR_BROADCAST;
    request(&r, DHCPREQUEST);
    r.ciaddr = c.lease.addr;
    say("DHCPREQUEST for %s on %s to %s port 67 (%s)", ipstr(c.lease.addr), c.ifname,
        ipstr(dst), state == RENEWING ? "renewing" : "rebinding");
    dhcpsend(&r, dst);
    if (awaitreply(retry(limit), 1u << DHCPACK | 1u << DHCPNAK,
                   state == RENEWING ? c.lease.server : 0, &m)) {
      say("%s of %s from %s", dhcp_typename(m.type), ipstr(m.yiaddr), ipstr(m.serverid));
      if (m.type == DHCPNAK)
        return -1;
      if (m.yiaddr != c.lease.addr)
        return -1;   // another address: start again cleanly
      bind_(&m, start);
      return 1;
    }
  }
  return 0;
}

static void
expire(const char *why)
{
  say("%s: %s lease of %s", c.ifname, why, ipstr(c.lease.addr));
  unconfigure();
  closeudp();
  c.state = INIT;
  savelease();
}

// Hold the lease for ever: renew, rebind, and start again when it is lost.
static void __attribute__((noreturn))
keep(void)
{
  for (;;) {
    struct dhcp_msg m;
    // BOUND: nothing to do but drain the socket until T1.
    while (now() < at(c.lease.t1))
      awaitreply(at(c.lease.t1), 0, 0, &m);
    int r = extend(RENEWING, at(c.lease.t2));
    if (r == 0)
      r = extend(REBINDING, at(c.lease.seconds));
    if (r <= 0) {
      expire(r < 0 ? "lost" : "expired");
      while (!obtain(~0ull))
        sleep(HZ);
    }
  }
}

// ---- release (-r) ----------------------------------------------------------------

static int
readvalue(const char *text, const char *key, char *out, int max)
{
  int klen = strlen(key);
  for (const char *p = text; *p;) {
    if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
      p += klen + 1;
      int i = 0;
      while (*p && *p != '\n' && i < max - 1)
        out[i++] = *p++;
      out[i] = 0;
      return 0;
    }
    while (*p && *p != '\n')
      p++;
    if (*p)
      p++;
  }
  return -1;
}

// Stop the dhclient of this interface that runs in the background, if any.
static void
stopdaemon(void)
{
  char path[MAXPATH], v[16];
  int fd, n;

  pidpath(path, sizeof path);
  if ((fd = open(path, O_RDONLY)) < 0)
    return;
  n = read(fd, v, sizeof v - 1);
  close(fd);
  v[n > 0 ? n : 0] = 0;
  int pid = atoi(v);
  if (pid > 1 && pid != getpid())
    kill(pid, SIGTERM);
  unlink(path);
}

static int
release(void)
{
  char path[MAXPATH], text[1024], v[32];
  uint addr, server;
  int fd, n;

  stopdaemon();
  leasepath(path, sizeof path);
  if ((fd = open(path, O_RDONLY)) < 0 || (n = read(fd, text, sizeof text - 1)) < 0) {
    fprintf(2, "dhclient: %s: no lease to release\n", c.ifname);
    return 1;
  }
  close(fd);
  text[n] = 0;
  if (readvalue(text, "address", v, sizeof v) < 0 || inet_aton(v, &addr) < 0 ||
      readvalue(text, "server", v, sizeof v) < 0 || inet_aton(v, &server) < 0) {
    fprintf(2, "dhclient: %s: no lease to release\n", c.ifname);
    unlink(path);
    return 1;
  }
  c.xid = randomuint();
  c.began = now();
  struct dhcp_req r;
  request(&r, DHCPRELEASE);
  r.ciaddr = addr;
  r.serverid = server;
  r.secs = 0;
  // The stopped dhclient lets go of port 68 when it next runs: wait for it.
  for (int tries = 0; tries < HZ && c.udp < 0; tries++) {
    openudp(tries + 1 < HZ);
    if (c.udp < 0)
      sleep(1);
  }
  say("DHCPRELEASE of %s on %s to %s port 67", ipstr(addr), c.ifname, ipstr(server));
  if (dhcpsend(&r, server) < 0)
    say("send: %s", strerror(errno));
  closeudp();
  unconfigure();
  unlink(path);
  return 0;
}

// ---- main ------------------------------------------------------------------------

static const char usage[] =
  "usage: dhclient [-d] [-1] [-v] [-t SECS] [-p PROBES] [IF]\n"
  "       dhclient -r [IF]\n"
  "  -d  stay in the foreground   -1  give up (exit 2) after -t seconds\n"
  "  -t  seconds to wait for a lease before going to the background, 1 to 3600 (10)\n"
  "  -p  ARP probes before taking an address, 0 to 10 (2; 0: none)\n"
  "  -r  release the lease and stop the dhclient holding it\n";

// Into the background: the parent returns to whoever waits (init, the
// shell); the child keeps the lease, its console left behind.
static void
daemonize(void)
{
  char path[MAXPATH], text[16];
  int pid = fork();
  if (pid < 0) {
    say("fork: %s; staying in the foreground", strerror(errno));
    return;
  }
  if (pid > 0)
    exit(0);
  c.foreground = 0;
  int null = open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; fd++) {
    close(fd);
    dup(null);
  }
  close(null);
  pidpath(path, sizeof path);
  snprintf(text, sizeof text, "%d\n", getpid());
  writefile(path, text);
}

int
main(int argc, char *argv[])
{
  int rel = 0, once = 0, stay = 0, wait = 10, opt;
  struct netif_info ifi;

  argsinit("dhclient", usage);
  while ((opt = getopt(argc, argv, "r1dvt:p:")) != -1) {
    if (opt == 'r')
      rel = 1;
    else if (opt == '1')
      once = 1;
    else if (opt == 'd')
      stay = 1;
    else if (opt == 'v')
      c.verbose = 1;
    else if (opt == 't')
      wait = argnum("-t", "wait", optarg, 1, 3600);
    else
      c.probes = argnum("-p", "probes", optarg, 0, 10);
  }
  if (argc - optind > 1)
    argextra(argv[optind + 1]);   // one interface at a time
  strlcpy(c.ifname, optind < argc ? argv[optind] : "eth0", sizeof c.ifname);
  c.ifindex = argiface(0, c.ifname, &ifi);
  if (ifi.type != ARPHRD_ETHER)
    argbad(0, "interface", c.ifname, "not an Ethernet interface");
  memmove(c.mac, ifi.mac, 6);
  c.foreground = 1;
  makedirs();
  if (rel)
    return release();
  stopdaemon();    // one client per interface
  if (openpacket() < 0)
    return 1;
  unconfigure();   // start from nothing, as Linux's dhclient does
  int bound = obtain(now() + wait * 1000ull);
  if (!bound && once) {
    say("No DHCPOFFERS received.");
    return 2;
  }
  if (!bound)
    say("No lease on %s within %d seconds; trying on in the background.", c.ifname, wait);
  if (!stay)
    daemonize();
  while (!bound)
    if (!(bound = obtain(~0ull)))
      sleep(HZ);   // no packet socket: try again later
  keep();
}
