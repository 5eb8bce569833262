// netstat [-s | -m | -t [-a]]: open sockets and per-protocol counters.
//   netstat      the sockets, then every counter
//   netstat -t   TCP connections in Linux's columns (-a: listeners too)
//   netstat -s   only the counters
//   netstat -m   the packet buffer pool, like BSD's netstat -m for mbufs
#include "kernel/types.h"
#include "user/user.h"
#include "user/net.h"

static const char usage[] =
  "usage: netstat [-a] [-n] [-s | -m | -t]\n"
  "  with no option: the sockets, then every counter\n"
  "  -t     TCP connections, as Linux's netstat -t shows them\n"
  "  -a     with -t: listening sockets too\n"
  "  -s     only the per-protocol counters\n"
  "  -m     the packet buffer pool, like BSD's netstat -m\n"
  "  -n     accepted for Linux's sake: addresses are always numeric\n";

// Linux's names, in the kernel's order (struct tcpinfo).
static const char *const tcpstates[TCP_NSTATES] = {
  "CLOSE", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2",
  "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

static void
sockets(void)
{
  struct sockinfo si;
  char local[24], remote[24];

  printf("Active sockets\n");
  printf("Proto  Recv-Q Drops Local Address         Foreign Address       PID\n");
  for (int i = 0; socklist(i, &si) == 0; i++) {
    if (si.type == SOCK_STREAM)
      continue;   // netstat -t lists TCP, with its states
    if (si.domain == AF_PACKET) {
      snprintf(local, sizeof local, "type %04x", si.protocol);
      printf("%-6s %6u %5u %-21s %-21s %d\n", "packet", si.rxqueue, si.drops, local, "*", si.pid);
      continue;
    }
    inet_endpoint(local, si.laddr, si.lport);
    inet_endpoint(remote, si.raddr, si.rport);
    printf("%-6s %6u %5u %-21s %-21s %d\n", si.type == SOCK_RAW ? "raw" : "udp",
           si.rxqueue, si.drops, local, si.type == SOCK_RAW ? "*" : remote, si.pid);
  }
}

static void
tcpconns(int all)
{
  struct tcpinfo ti;
  char local[24], remote[24];

  printf("Active Internet connections (%s)\n", all ? "servers and established" : "w/o servers");
  printf("Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n");
  for (int i = 0; tcplist(i, &ti) == 0; i++) {
    if ((ti.state == 1 && !all) || (ti.state == 0 && ti.lport == 0))
      continue;   // listeners without -a; sockets never bound
    inet_endpoint(local, ti.laddr, ti.lport);
    inet_endpoint(remote, ti.raddr, ti.rport);
    const char *st = ti.state >= 0 && ti.state < TCP_NSTATES ? tcpstates[ti.state] : "UNKNOWN";
    printf("tcp   %6u %6u %-23s %-23s %-11s\n", ti.state == 1 ? 0 : ti.recvq,
           ti.state == 1 ? 0 : ti.sendq, local, remote, st);
  }
}

static void
counters(struct netstat_info *ns)
{
  printf("Ethernet:\n");
  printf("    %u frames too short\n", ns->ether_rx_badlen);
  printf("    %u frames for other hosts dropped\n", ns->ether_rx_otherhost);
  printf("    %u frames of unknown type dropped\n", ns->ether_rx_unknown);
  printf("Arp:\n");
  printf("    %u packets received, %u malformed, %u not for us\n",
         ns->arp_rx, ns->arp_rx_bad, ns->arp_rx_notforus);
  printf("    %u requests answered, %u replies received, %u requests sent\n",
         ns->arp_requests_answered, ns->arp_replies_rx, ns->arp_requests_tx);
  printf("    %u resolutions failed, %u queued packets dropped, %u evictions, %u entries\n",
         ns->arp_failed, ns->arp_queue_drops, ns->arp_evictions, ns->arp_entries);
  printf("    %u new entries refused, %u address conflicts, %u defences sent\n",
         ns->arp_refused, ns->arp_conflicts, ns->arp_defences);
  printf("Ip:\n");
  printf("    %u total packets received, %u delivered\n", ns->ip_rx, ns->ip_rx_delivered);
  printf("    %u with bad headers, %u with bad checksums, %u with bad addresses\n",
         ns->ip_rx_hdrerrors, ns->ip_rx_badsum, ns->ip_rx_addrerrors);
  printf("    %u with TTL 0, %u with unknown protocol, %u for other hosts\n",
         ns->ip_rx_ttlzero, ns->ip_rx_unknownproto, ns->ip_rx_notforus);
  printf("    %u requests sent out, %u without a route, %u without buffers\n",
         ns->ip_tx, ns->ip_tx_noroute, ns->ip_tx_nobufs);
  printf("    %u fragments created, %u fragmentations failed\n",
         ns->ip_frag_created, ns->ip_frag_fails);
  printf("    %u fragments received, %u reassembled, %u reassemblies failed, %u timed out\n",
         ns->ip_reasm_reqds, ns->ip_reasm_oks, ns->ip_reasm_fails, ns->ip_reasm_timeouts);
  printf("    %u duplicate fragments dropped\n", ns->ip_reasm_dups);
  printf("    %u forwarded, %u with TTL exceeded, %u without a route, %u too big with DF set\n",
         ns->ip_forw_datagrams, ns->ip_forw_ttlexceeded, ns->ip_forw_noroute,
         ns->ip_forw_fragneeded);
  printf("    %u with martian addresses, %u in link-layer broadcasts not forwarded, "
         "%u forwarded fragments created, %u without buffers\n", ns->ip_forw_martians,
         ns->ip_forw_linkbcast, ns->ip_forw_fragcreated, ns->ip_forw_nobufs);
  printf("Icmp:\n");
  printf("    %u messages received, %u input errors\n", ns->icmp_rx, ns->icmp_rx_errors);
  printf("    %u echo requests, %u echo replies, %u destination unreachable, %u time exceeded\n",
         ns->icmp_rx_echo, ns->icmp_rx_echoreply, ns->icmp_rx_unreach, ns->icmp_rx_timeexceeded);
  printf("    %u messages sent, %u echo replies, %u destination unreachable, %u time exceeded\n",
         ns->icmp_tx, ns->icmp_tx_echoreply, ns->icmp_tx_unreach, ns->icmp_tx_timeexceeded);
  printf("    %u errors held back by the rate limit\n", ns->icmp_tx_ratelimited);
  printf("Udp:\n");
  printf("    %u packets received, %u to unknown port, %u receive errors\n",
         ns->udp_rx, ns->udp_rx_noport, ns->udp_rx_errors);
  printf("    %u with bad checksums, %u receive buffer errors, %u packets sent\n",
         ns->udp_rx_badsum, ns->udp_rx_queuedrops, ns->udp_tx);
  printf("Tcp:\n");
  printf("    %u active connection openings\n", ns->tcp_activeopens);
  printf("    %u passive connection openings\n", ns->tcp_passiveopens);
  printf("    %u failed connection attempts\n", ns->tcp_attemptfails);
  printf("    %u connection resets received\n", ns->tcp_estabresets);
  printf("    %u connections established\n", ns->tcp_currestab);
  printf("    %u segments received\n", ns->tcp_insegs);
  printf("    %u segments sent out\n", ns->tcp_outsegs);
  printf("    %u segments retransmitted\n", ns->tcp_retranssegs);
  printf("    %u bad segments received\n", ns->tcp_inerrs);
  printf("    %u resets sent\n", ns->tcp_outrsts);
  printf("TcpExt:\n");
  printf("    %u fast retransmits, %u retransmission timeouts\n", ns->tcp_fastretrans,
         ns->tcp_timeouts);
  printf("    %u segments with bad checksums\n", ns->tcp_badsum);
  printf("    %u zero-window probes, %u keepalive probes, %u delayed acks sent\n",
         ns->tcp_persistprobes, ns->tcp_keepaliveprobes, ns->tcp_delayedacks);
  printf("    %u challenge acks sent, %u resets ignored (out of window)\n",
         ns->tcp_challengeacks, ns->tcp_rstignored);
  printf("    %u segments queued out of order, %u dropped (queue full)\n", ns->tcp_ooosegs,
         ns->tcp_dropooofull);
  printf("    %u segments out of window, %u to closed ports\n", ns->tcp_dropoutofwindow,
         ns->tcp_dropnolisten);
  printf("    %u SYNs dropped (backlog full), %u half-open connections turned over\n",
         ns->tcp_dropbacklog, ns->tcp_synrcvddropped);
  printf("    %u SYNs dropped (no connection blocks), %u drops for lack of memory\n",
         ns->tcp_dropnotcb, ns->tcp_dropnomem);
  printf("    %u TIME_WAIT blocks reused for new connections\n", ns->tcp_twrecycled);
  printf("    %u segments received in trains (behind a train's first)\n",
         ns->tcp_trainsegs);
  printf("    %u times a receive buffer grew, %u times a send buffer (autotuning)\n",
         ns->tcp_rcvbufgrown, ns->tcp_sndbufgrown);
  printf("Buffers:\n");
  printf("    %u/%u/%u pbufs in use/free/total\n",
         ns->pbuf_total - ns->pbuf_free, ns->pbuf_free, ns->pbuf_total);
}

int
main(int argc, char **argv)
{
  struct netstat_info ns;
  int mode = 0, all = 0, c;

  argsinit("netstat", usage);
  while ((c = getopt(argc, argv, "ansmt")) != -1) {
    if ((c == 's' || c == 'm' || c == 't') && mode && mode != c)
      usagefail("-s, -m and -t cannot go together");
    if (c == 's' || c == 'm' || c == 't')
      mode = c;
    if (c == 'a')
      all = 1;
  }
  if (optind < argc)
    argextra(argv[optind]);
  if (netstat(&ns) < 0) {
    perror("netstat");
    return 1;
  }
  if (mode == 't') {
    tcpconns(all);
    return 0;
  }
  if (mode == 'm') {
    printf("%u/%u/%u pbufs in use/free/total\n",
           ns.pbuf_total - ns.pbuf_free, ns.pbuf_free, ns.pbuf_total);
    printf("%u/%u/%u big pbufs in use/free/total\n",
           ns.bigpbuf_total - ns.bigpbuf_free, ns.bigpbuf_free, ns.bigpbuf_total);
    printf("%u/%u/%u short pbufs in use/free/total\n",
           ns.shortpbuf_total - ns.shortpbuf_free, ns.shortpbuf_free, ns.shortpbuf_total);
    printf("%u/%u/%u TSO pbufs in use/free/total\n",
           ns.tsopbuf_total - ns.tsopbuf_free, ns.tsopbuf_free, ns.tsopbuf_total);
    if (ns.pagepbuf_total)   // a card that fills large receive buffers (virtio-net)
      printf("%u/%u/%u page pbufs in use/free/total\n",
             ns.pagepbuf_total - ns.pagepbuf_free, ns.pagepbuf_free, ns.pagepbuf_total);
    return 0;
  }
  if (mode != 's') {
    sockets();
    printf("\n");
  }
  counters(&ns);
  return 0;
}
