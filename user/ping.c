// ping [-c COUNT] [-s SIZE] [-i INTERVAL] [-W TIMEOUT] HOST: ICMP echo
// through a raw ICMP socket, with iputils-shaped output. INTERVAL and
// TIMEOUT are seconds and may have decimals (-i 0.2).
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

#define MAXSIZE 16000
#define ICMP_ECHO 8
#define ICMP_ECHOREPLY 0

struct icmp_echo {
  uchar type, code;
  ushort sum, id, seq;
} __attribute__((packed));

static uchar packet[MAXSIZE + 8], reply[MAXSIZE + 100];

static void
usage(void)
{
  fprintf(2, "usage: ping [-c COUNT] [-s SIZE] [-i INTERVAL] [-W TIMEOUT] HOST\n");
  exit(2);
}

// "0.2" -> 200 (milliseconds); -1 if malformed.
static int
parsems(const char *s)
{
  int ms = 0, scale = 1000;
  if (!isdigit(*s) && *s != '.')
    return -1;
  for (; isdigit(*s); s++)
    ms = ms * 10 + (*s - '0') * 1;
  ms *= 1000;
  if (*s == '.')
    for (s++; isdigit(*s) && scale > 1; s++)
      ms += (*s - '0') * (scale /= 10);
  return *s ? -1 : ms;
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

// Wait until deadline (usecs) for the reply to seq; its RTT in *rtt.
static int
awaitreply(int fd, ushort id, ushort seq, uint64 deadline, int size, uint addr, uint64 *rtt)
{
  char ip[16];
  for (;;) {
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
    (void)size;
    return 1;
  }
}

int
main(int argc, char **argv)
{
  int count = -1, size = 56, interval = 1000, timeout = 1000, i;
  uint addr;
  char ip[16];

  for (i = 1; i < argc - 1 && argv[i][0] == '-'; i += 2) {
    if (strcmp(argv[i], "-c") == 0)
      count = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-s") == 0)
      size = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-i") == 0)
      interval = parsems(argv[i + 1]);
    else if (strcmp(argv[i], "-W") == 0)
      timeout = parsems(argv[i + 1]);
    else
      usage();
  }
  if (i != argc - 1 || size < 8 || size > MAXSIZE || interval < 0 || timeout <= 0 || count == 0)
    usage();
  if (resolve(argv[i], &addr) < 0) {   // a dotted quad, /etc/hosts or DNS
    fprintf(2, "ping: %s: %s\n", argv[i], hstrerror(h_errno));
    return 2;
  }

  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) {
    perror("ping: socket");
    return 2;
  }
  struct sockaddr_in to = { AF_INET, 0, addr, { 0 } };
  ushort id = getpid() & 0xFFFF;
  printf("PING %s (%s) %d(%d) bytes of data.\n", argv[i], inet_ntoa(addr, ip), size, size + 28);

  int sent = 0, received = 0;
  uint64 min = ~0ULL, max = 0, total = 0, start = usecs();
  for (int seq = 1; count < 0 || seq <= count; seq++) {
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
      if (errno != ENOBUFS && errno != EHOSTUNREACH)
        return 2;
    }
    sent++;
    uint64 rtt;
    uint64 wait = (seq == count) ? timeout : (interval > timeout ? interval : timeout);
    if (awaitreply(fd, id, seq, now + wait * 1000, size, addr, &rtt)) {
      received++;
      total += rtt;
      min = rtt < min ? rtt : min;
      max = rtt > max ? rtt : max;
    }
    uint64 next = now + (uint64)interval * 1000, after = usecs();
    if (seq != count && after < next)
      sleep((next - after) / 10000);
  }
  uint64 elapsed = (usecs() - start) / 1000;
  printf("\n--- %s ping statistics ---\n", argv[i]);   // the name given, as iputils
  printf("%d packets transmitted, %d received, %d%% packet loss, time %dms\n", sent, received,
         sent ? (sent - received) * 100 / sent : 0, (int)elapsed);
  if (received) {
    printms("rtt min/avg/max = ", min);
    printms("/", total / received);
    printms("/", max);
    printf(" ms\n");
  }
  return received ? 0 : 1;
}
