// ping [-c COUNT] [-s SIZE] [-i INTERVAL] [-W TIMEOUT] HOST: ICMP echo
// through a raw ICMP socket, with iputils-shaped output. INTERVAL and
// TIMEOUT are seconds and may have decimals (-i 0.2). ^C stops it and, as
// with iputils, the statistics are printed all the same.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

#define MAXSIZE 16000
#define MAXSECS (24 * 3600)
#define ICMP_ECHO 8
#define ICMP_ECHOREPLY 0

static const char usage[] =
  "usage: ping [-c COUNT] [-s SIZE] [-i INTERVAL] [-W TIMEOUT] HOST\n"
  "  -c COUNT     stop after COUNT echo requests (default: until ^C)\n"
  "  -s SIZE      bytes of data in each request, 8 to 16000 (default 56)\n"
  "  -i INTERVAL  seconds between requests, 0.01 or more (default 1)\n"
  "  -W TIMEOUT   seconds to wait for each reply (default 1)\n";

struct icmp_echo {
  uchar type, code;
  ushort sum, id, seq;
} __attribute__((packed));

static uchar packet[MAXSIZE + 8], reply[MAXSIZE + 100];
static volatile int interrupted;

static void
oninterrupt(int sig)
{
  (void)sig;
  interrupted = 1;
}

static ushort
cksum(const void *data, int len)
{
  const uchar *p = data;
  uint sum = 0;
  for (; len > 1; len -= 2, p += 2)
    sum += p[0] << 8 | p[1];
  if (len)
    sum += p[0] << 8;
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  return htons(~sum);
}

static void
printms(const char *label, uint64 us)
{
  printf("%s%d.%03d", label, (int)(us / 1000), (int)(us % 1000));
}

// Wait until deadline (usecs) for the reply to seq; its RTT in *rtt. A ^C
// ends the wait (recvfrom fails with EINTR).
static int
awaitreply(int fd, ushort id, ushort seq, uint64 deadline, uint addr, uint64 *rtt)
{
  char ip[16];
  while (!interrupted) {
    uint64 now = usecs();
    if (now >= deadline)
      return 0;
    setrcvtimeo(fd, (deadline - now + 999) / 1000);
    struct sockaddr_in from;
    int fromlen = sizeof from;
    int n = recvfrom(fd, reply, sizeof reply, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0)
      return 0;
    int hlen = (reply[0] & 15) * 4;
    if (n < hlen + 8 || from.sin_addr != addr)
      continue;
    struct icmp_echo *e = (struct icmp_echo *)(reply + hlen);
    if (e->type != ICMP_ECHOREPLY || ntohs(e->id) != id || ntohs(e->seq) != seq)
      continue;
    uint64 sent;
    memmove(&sent, reply + hlen + 8, sizeof sent);
    *rtt = usecs() - sent;
    printf("%d bytes from %s: icmp_seq=%d ttl=%d", n - hlen, inet_ntoa(from.sin_addr, ip), seq,
           reply[8]);
    printms(" time=", *rtt);
    printf(" ms\n");
    return 1;
  }
  return 0;
}

static int
sendecho(int fd, uint addr, ushort id, int seq, int size)
{
  struct sockaddr_in to = { AF_INET, 0, addr, { 0 } };
  struct icmp_echo *e = (struct icmp_echo *)packet;
  e->type = ICMP_ECHO;
  e->code = 0;
  e->id = htons(id);
  e->seq = htons(seq);
  uint64 now = usecs();
  memmove(packet + 8, &now, sizeof now);
  for (int j = 8 + sizeof now; j < size + 8; j++)
    packet[j] = j;
  e->sum = 0;
  e->sum = cksum(packet, size + 8);
  if (sendto(fd, packet, size + 8, 0, (struct sockaddr *)&to, sizeof to) < 0) {
    fprintf(2, "ping: sendto: %s\n", strerror(errno));
    if (errno != ENOBUFS && errno != EHOSTUNREACH && errno != EINTR)
      return -1;
  }
  return 0;
}

struct stats {
  int sent, received;
  uint64 min, max, total, start;
};

static void
report(const char *host, struct stats *s)
{
  uint64 elapsed = (usecs() - s->start) / 1000;
  printf("\n--- %s ping statistics ---\n", host);   // the name given, as iputils
  printf("%d packets transmitted, %d received, %d%% packet loss, time %dms\n", s->sent,
         s->received, s->sent ? (s->sent - s->received) * 100 / s->sent : 0, (int)elapsed);
  if (s->received) {
    printms("rtt min/avg/max = ", s->min);
    printms("/", s->total / s->received);
    printms("/", s->max);
    printf(" ms\n");
  }
}

int
main(int argc, char **argv)
{
  int count = -1, size = 56, interval = 1000, timeout = 1000, c;
  char ip[16];

  argsinit("ping", usage);
  while ((c = getopt(argc, argv, "c:s:i:W:")) != -1) {
    if (c == 'c')
      count = argnum("-c", "count", optarg, 1, 0x7fffffff);
    else if (c == 's')
      size = argnum("-s", "packet size", optarg, 8, MAXSIZE);
    else if (c == 'i')
      interval = argsecs("-i", "interval", optarg, 10, MAXSECS * 1000);
    else if (c == 'W')
      timeout = argsecs("-W", "timeout", optarg, 1, MAXSECS * 1000);
  }
  if (optind == argc)
    argmissing("destination address");
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  const char *host = argv[optind];
  uint addr;
  if (arghost(0, "destination", host, &addr) < 0) {   // a dotted quad, /etc/hosts or DNS
    fprintf(2, "ping: %s: %s\n", host, hstrerror(h_errno));
    return 2;
  }

  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) {
    perror("ping: socket");
    return 2;
  }
  signal(SIGINT, oninterrupt);
  ushort id = getpid() & 0xFFFF;
  printf("PING %s (%s) %d(%d) bytes of data.\n", host, inet_ntoa(addr, ip), size, size + 28);

  struct stats s = { 0, 0, ~0ULL, 0, 0, usecs() };
  for (int seq = 1; (count < 0 || seq <= count) && !interrupted; seq++) {
    uint64 now = usecs(), rtt;
    if (sendecho(fd, addr, id, seq, size) < 0)
      return 2;
    s.sent++;
    uint64 wait = (seq == count) ? timeout : (interval > timeout ? interval : timeout);
    if (awaitreply(fd, id, seq, now + wait * 1000, addr, &rtt)) {
      s.received++;
      s.total += rtt;
      s.min = rtt < s.min ? rtt : s.min;
      s.max = rtt > s.max ? rtt : s.max;
    }
    uint64 next = now + (uint64)interval * 1000, after = usecs();
    if (seq != count && after < next && !interrupted)
      sleep((next - after) / 10000);   // a ^C cuts it short (EINTR)
  }
  report(host, &s);
  return s.received ? 0 : 1;
}
