// The guest's state as an HTML fragment, for httpd's status mark
// (<!--#status--> in an .html page): uptime, the interfaces and their
// counters, the ARP cache, the buffer pools and the sockets, read from the
// kernel when the page is asked for.
#include "kernel/types.h"
#include "user/user.h"
#include "user/net.h"

static const char *const tcpstates[TCP_NSTATES] = {
  "CLOSE", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2",
  "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

struct out {
  char *buf;
  int len, cap;
};

// snprintf at the end of o; o->len stops growing once the buffer is full.
static void PRINTFLIKE(2, 3)
emit(struct out *o, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int room = o->cap - o->len;
  int n = room > 0 ? vsnprintf(o->buf + o->len, room, fmt, ap) : 0;
  va_end(ap);
  o->len += n < room ? n : room;
}

static void
uptimepart(struct out *o)
{
  uint t = uptime(), s = t / 100;
  emit(o, "<h2>Uptime</h2>\n<p id=\"uptime\">%u:%02u:%02u.%02u (%u ticks)</p>\n",
       s / 3600, s / 60 % 60, s % 60, t % 100, t);
}

static void
interfaces(struct out *o)
{
  struct netif_info ifi;
  char mac[18], ip[16], mask[16];
  emit(o, "<h2>Interfaces</h2>\n<table id=\"interfaces\">\n<tr><th>Name</th><th>Driver</th>"
       "<th>MAC</th><th>Address</th><th>MTU</th><th>State</th><th>RX packets</th>"
       "<th>RX bytes</th><th>TX packets</th><th>TX bytes</th><th>Errors</th>"
       "<th>Dropped</th></tr>\n");
  for (int i = 1; netifget(i, &ifi) == 0; i++) {
    ifi.name[IFNAMSIZ - 1] = ifi.driver[IFNAMSIZ - 1] = 0;
    emit(o, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s/%s</td><td>%u</td><td>%s</td>"
         "<td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%u</td><td>%u</td></tr>\n",
         ifi.name, ifi.driver[0] ? ifi.driver : "-", ether_ntoa(ifi.mac, mac),
         inet_ntoa(ifi.ipaddr, ip), inet_ntoa(ifi.netmask, mask), ifi.mtu,
         ifi.flags & IFF_UP ? "UP" : "DOWN", ifi.stats.rx_packets, ifi.stats.rx_bytes,
         ifi.stats.tx_packets, ifi.stats.tx_bytes, ifi.stats.rx_errors + ifi.stats.tx_errors,
         ifi.stats.rx_dropped + ifi.stats.tx_dropped);
  }
  emit(o, "</table>\n");
}

static void
arpcache(struct out *o)
{
  struct arpreq r;
  char ip[16], mac[18];
  static const char *const states[] = { "?", "INCOMPLETE", "REACHABLE", "STALE", "PERMANENT" };
  emit(o, "<h2>ARP cache</h2>\n<table id=\"arp\">\n<tr><th>Address</th><th>MAC</th>"
       "<th>State</th><th>Interface</th><th>Age (ms)</th></tr>\n");
  for (int i = 0; arplist(i, &r) == 0; i++) {
    r.ifname[IFNAMSIZ - 1] = 0;
    emit(o, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%u</td></tr>\n",
         inet_ntoa(r.ipaddr, ip), r.state == ARP_INCOMPLETE ? "-" : ether_ntoa(r.mac, mac),
         r.state <= ARP_PERMANENT ? states[r.state] : "?", r.ifname, r.age_ms);
  }
  emit(o, "</table>\n");
}

static void
pools(struct out *o)
{
  struct netstat_info ns;
  if (netstat(&ns) < 0)
    return;
  emit(o, "<h2>Buffers</h2>\n<p id=\"buffers\">%u/%u packet buffers free, %u/%u large, "
       "%u/%u short</p>\n", ns.pbuf_free, ns.pbuf_total, ns.bigpbuf_free, ns.bigpbuf_total,
       ns.shortpbuf_free, ns.shortpbuf_total);
}

static void
sockets(struct out *o)
{
  struct tcpinfo ti;
  struct sockinfo si;
  char local[24], remote[24];
  emit(o, "<h2>Sockets</h2>\n<table id=\"sockets\">\n<tr><th>Proto</th><th>Local</th>"
       "<th>Remote</th><th>State</th><th>Recv-Q</th><th>Send-Q</th><th>PID</th></tr>\n");
  for (int i = 0; tcplist(i, &ti) == 0; i++) {
    if (ti.state == 0 && ti.lport == 0)
      continue;   // never bound
    inet_endpoint(local, ti.laddr, ti.lport);
    inet_endpoint(remote, ti.raddr, ti.rport);
    emit(o, "<tr><td>tcp</td><td>%s</td><td>%s</td><td>%s</td><td>%u</td><td>%u</td>"
         "<td>%d</td></tr>\n", local, remote,
         ti.state >= 0 && ti.state < TCP_NSTATES ? tcpstates[ti.state] : "?",
         ti.state == 1 ? 0 : ti.recvq, ti.state == 1 ? 0 : ti.sendq, ti.pid);   // as netstat
  }
  for (int i = 0; socklist(i, &si) == 0; i++) {
    if (si.type == SOCK_STREAM || si.domain == AF_PACKET)
      continue;
    inet_endpoint(local, si.laddr, si.lport);
    inet_endpoint(remote, si.raddr, si.rport);
    emit(o, "<tr><td>%s</td><td>%s</td><td>%s</td><td>-</td><td>%u</td><td>-</td>"
         "<td>%d</td></tr>\n", si.type == SOCK_RAW ? "raw" : "udp", local, remote,
         si.rxqueue, si.pid);
  }
  emit(o, "</table>\n");
}

// The fragment into out (at most cap bytes): its length, or -1 if it did
// not fit.
int
http_statuspage(char *out, int cap)
{
  struct out o = { out, 0, cap };
  uptimepart(&o);
  interfaces(&o);
  arpcache(&o);
  pools(&o);
  sockets(&o);
  return o.len >= cap ? -1 : o.len;
}
