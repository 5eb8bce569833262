// traceroute [-n] [-f FIRST] [-m MAX] [-q NQUERIES] [-w WAIT] [-p PORT] HOST [PACKETLEN]:
// the path to HOST, hop by hop, in the shape of Linux's traceroute.
//
// UDP probes go to HOST with TTL 1, 2, ... (NQUERIES a hop, each to the
// next port from PORT up, as Linux's default method does). The router where
// a probe's TTL runs out answers ICMP time exceeded; HOST itself answers
// port unreachable, since nothing listens on those ports, and that ends the
// trace. The answers come in on a raw ICMP socket, and one counts only if
// the datagram it quotes is one of our probes (our port, the probe's port,
// HOST): a stray error is not taken for a hop. A probe unanswered within
// WAIT seconds is a "*".
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

#define ICMP_UNREACH  3
#define ICMP_TIMXCEED 11
#define UNREACH_PORT  3
#define UNREACH_NEEDFRAG 4
#define IPHLEN  20
#define UDPHLEN 8
#define MAXPACKET 16000

static const char usage[] =
  "usage: traceroute [-n] [-f FIRST] [-m MAX] [-q NQUERIES] [-w WAIT] [-p PORT] HOST "
  "[PACKETLEN]\n"
  "  -n           print addresses only (no names are looked up either way)\n"
  "  -f FIRST     TTL to start from (default 1)\n"
  "  -m MAX       most hops, 1 to 255 (default 30)\n"
  "  -q NQUERIES  probes a hop, 1 to 10 (default 3)\n"
  "  -w WAIT      seconds to wait for each answer (default 5)\n"
  "  -p PORT      first destination port (default 33434)\n"
  "  PACKETLEN    bytes of each probe, IP header included, 28 to 16000 (default 60)\n";

struct probe {
  uint dst;           // HOST
  ushort sport;       // our UDP port
  ushort dport;       // this probe's
};

struct answer {
  uint from;
  uchar type, code;
  ushort mtu;         // next-hop MTU, for "fragmentation needed"
  uint64 rtt;         // microseconds
};

static uchar buf[MAXPACKET + 100];
static uchar data[MAXPACKET];

// Is the ICMP message in pkt (n bytes, IP header first) an error about
// probe p? Then its details in *a.
static int
about(const uchar *pkt, int n, const struct probe *p, struct answer *a)
{
  int hlen = (pkt[0] & 15) * 4;
  if (n < hlen + 8)
    return 0;
  const uchar *icmp = pkt + hlen, *orig = icmp + 8;
  if (icmp[0] != ICMP_TIMXCEED && icmp[0] != ICMP_UNREACH)
    return 0;
  int left = n - hlen - 8;
  if (left < IPHLEN)
    return 0;
  int ohlen = (orig[0] & 15) * 4;
  uint odst;
  memmove(&odst, orig + 16, 4);
  if (ohlen < IPHLEN || left < ohlen + 4 || orig[9] != IPPROTO_UDP || odst != p->dst)
    return 0;
  const uchar *udp = orig + ohlen;
  if ((udp[0] << 8 | udp[1]) != p->sport || (udp[2] << 8 | udp[3]) != p->dport)
    return 0;
  a->type = icmp[0];
  a->code = icmp[1];
  a->mtu = icmp[6] << 8 | icmp[7];
  return 1;
}

// Send one probe with TTL ttl and wait up to waitms for its answer: 1 with
// *a filled, 0 if none came in time.
static int
probe(int udp, int icmp, const struct probe *p, int ttl, int len, int waitms, struct answer *a)
{
  struct sockaddr_in to = { AF_INET, htons(p->dport), p->dst, { 0 } };
  if (setsockopt(udp, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) < 0) {
    fprintf(2, "traceroute: setsockopt IP_TTL: %s\n", strerror(errno));
    exit(1);
  }
  uint64 start = usecs(), deadline = start + (uint64)waitms * 1000;
  if (sendto(udp, data, len - IPHLEN - UDPHLEN, 0, (struct sockaddr *)&to, sizeof to) < 0) {
    fprintf(2, "traceroute: sendto: %s\n", strerror(errno));
    exit(1);
  }
  for (uint64 now = start; now < deadline; now = usecs()) {
    setrcvtimeo(icmp, (deadline - now + 999) / 1000);
    struct sockaddr_in from;
    int fromlen = sizeof from;
    int n = recvfrom(icmp, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0)
      return 0;   // timed out
    if (about(buf, n, p, a)) {
      a->rtt = usecs() - start;
      a->from = from.sin_addr;
      return 1;
    }
  }
  return 0;
}

// The note Linux's traceroute puts after an unreachable's time ("" for the
// port unreachable that says we arrived).
static void
annotate(const struct answer *a)
{
  if (a->type != ICMP_UNREACH || a->code == UNREACH_PORT)
    return;
  if (a->code == 0)
    printf(" !N");
  else if (a->code == 1)
    printf(" !H");
  else if (a->code == 2)
    printf(" !P");
  else if (a->code == UNREACH_NEEDFRAG)
    printf(" !F-%d", a->mtu);
  else if (a->code == 13)
    printf(" !X");
  else
    printf(" !<%d>", a->code);
}

// One line: " 2  10.0.2.2 (10.0.2.2)  0.512 ms  0.498 ms  0.501 ms". Returns
// 1 when the trace is over (an unreachable came back: the destination's port
// unreachable, or a router's refusal).
static int
hop(int udp, int icmp, struct probe *p, int ttl, int nq, int len, int waitms, int numeric)
{
  uint last = 0;
  int done = 0;
  char ip[16];

  printf("%2d ", ttl);
  for (int q = 0; q < nq; q++, p->dport++) {
    struct answer a;
    if (!probe(udp, icmp, p, ttl, len, waitms, &a)) {
      printf(" *");
      continue;
    }
    if (a.from != last) {
      inet_ntoa(a.from, ip);
      if (numeric)
        printf(" %s", ip);
      else
        printf(" %s (%s)", ip, ip);   // no reverse lookups: the address is the name
      last = a.from;
    }
    printf("  %d.%03d ms", (int)(a.rtt / 1000), (int)(a.rtt % 1000));
    annotate(&a);
    done |= a.type == ICMP_UNREACH;
  }
  printf("\n");
  return done;
}

// Our UDP port, bound now so that answers can be matched from the first probe.
static ushort
bindany(int udp)
{
  struct sockaddr_in sin = { AF_INET, 0, INADDR_ANY, { 0 } };
  int len = sizeof sin;
  if (bind(udp, (struct sockaddr *)&sin, sizeof sin) < 0 ||
      getsockname(udp, (struct sockaddr *)&sin, &len) < 0) {
    fprintf(2, "traceroute: bind: %s\n", strerror(errno));
    exit(1);
  }
  return ntohs(sin.sin_port);
}

int
main(int argc, char **argv)
{
  int first = 1, max = 30, nq = 3, waitms = 5000, port = 33434, numeric = 0, len = 60, c;
  char ip[16];

  argsinit("traceroute", usage);
  while ((c = getopt(argc, argv, "nf:m:q:w:p:")) != -1) {
    if (c == 'n')
      numeric = 1;
    else if (c == 'f')
      first = argnum("-f", "first TTL", optarg, 1, 255);
    else if (c == 'm')
      max = argnum("-m", "max hops", optarg, 1, 255);
    else if (c == 'q')
      nq = argnum("-q", "queries per hop", optarg, 1, 10);
    else if (c == 'w')
      waitms = argsecs("-w", "wait", optarg, 1, 60000);
    else
      port = argport("-p", "port", optarg);
  }
  if (optind == argc)
    argmissing("host");
  if (optind + 1 < argc)
    len = argnum(0, "packet length", argv[optind + 1], IPHLEN + UDPHLEN, MAXPACKET);
  if (optind + 2 < argc)
    argextra(argv[optind + 2]);
  if (first > max)
    usagefail("first TTL %d is past max hops %d", first, max);
  const char *host = argv[optind];
  struct probe p;
  if (arghost(0, "host", host, &p.dst) < 0) {
    fprintf(2, "%s: %s\n", host, hstrerror(h_errno));   // as Linux's traceroute says it
    fprintf(2, "Cannot handle \"host\" cmdline arg `%s' on position 1 (argc 1)\n", host);
    return 2;
  }
  if (port + max * nq > 65536)
    usagefail("ports from %d for %d probes run past 65535", port, max * nq);

  int icmp = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), udp = socket(AF_INET, SOCK_DGRAM, 0);
  if (icmp < 0 || udp < 0) {
    perror("traceroute: socket");
    return 1;
  }
  p.sport = bindany(udp);
  p.dport = port + (first - 1) * nq;
  for (int i = 0; i < len; i++)
    data[i] = 0x40 + i % 32;   // Linux fills its probes with "@ABC..." too
  printf("traceroute to %s (%s), %d hops max, %d byte packets\n", host, inet_ntoa(p.dst, ip),
         max, len);
  for (int ttl = first; ttl <= max; ttl++)
    if (hop(udp, icmp, &p, ttl, nq, len, waitms, numeric))
      break;
  return 0;
}
