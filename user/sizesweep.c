// sizesweep [-f FIRST] [-l LAST] udp|icmp|packet: send one message of every
// size from FIRST (default 1) to LAST (default 16300) through loopback and
// read each back:
//   udp     a datagram from 127.0.0.1:PORT to itself
//   icmp    an ICMP message to 127.0.0.1 on a raw socket (an echo request
//           from 8 bytes on: its reply must come back too)
//   packet  a whole Ethernet frame on lo through a packet socket
// A size is either sent and comes back intact, or refused with EMSGSIZE
// (EINVAL for frames shorter than an Ethernet header); anything else is
// wrong. One summary line per sweep:
//   sizesweep: udp 1..16300: 16228 intact, largest 16228; 72 EMSGSIZE; 0 wrong
// Exit status 0 iff nothing was wrong. The kernel must survive every size.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

#define MAXSIZE 16400
#define PORT 4321
#define ICMP_ECHO 8
#define ICMP_ECHOREPLY 0
#define MAXREPORT 10      // wrong sizes reported one by one

static uchar out[MAXSIZE], in[MAXSIZE + 100];

struct tally {
  int intact, largest, toobig, tooshort, wrong;
};

static void
fill(uchar *p, int n)
{
  for (int i = 0; i < n; i++)
    p[i] = (uchar)(i * 7 + n);
}

static ushort
cksum(const uchar *p, int len)
{
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
wrong(struct tally *t, const char *mode, int n, const char *what)
{
  if (t->wrong++ < MAXREPORT)
    printf("sizesweep: %s size %d: %s\n", mode, n, what);
}

// Whether sendto sent all n bytes; a refusal is counted as expected or wrong.
static int
sent(struct tally *t, const char *mode, int n, int ret)
{
  if (ret == n)
    return 1;
  if (ret < 0 && errno == EMSGSIZE)
    t->toobig++;
  else if (ret < 0 && errno == EINVAL && strcmp(mode, "packet") == 0 && n < 14)
    t->tooshort++;
  else
    wrong(t, mode, n, ret < 0 ? strerror(errno) : "short send");
  return 0;
}

static void
intact(struct tally *t, int n)
{
  t->intact++;
  if (n > t->largest)
    t->largest = n;
}

static int
udpsweep(int first, int last, struct tally *t)
{
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = { AF_INET, htons(PORT), INADDR_LOOPBACK, { 0 } };
  if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0 || setrcvtimeo(fd, 2000) < 0)
    return -1;
  for (int n = first; n <= last; n++) {
    fill(out, n);
    if (sent(t, "udp", n, sendto(fd, out, n, 0, (struct sockaddr *)&me, sizeof me)) == 0)
      continue;
    int got = recv(fd, in, sizeof in);
    if (got != n || memcmp(in, out, n) != 0)
      wrong(t, "udp", n, got < 0 ? strerror(errno) : "came back changed");
    else
      intact(t, n);
  }
  close(fd);
  return 0;
}

// An ICMP message of n bytes: an echo request (id, seq and checksum set)
// from 8 bytes on, bare pattern below that.
static void
icmpmessage(int n)
{
  fill(out, n);
  if (n < 8)
    return;
  out[0] = ICMP_ECHO;
  out[1] = 0;
  out[2] = out[3] = 0;
  out[4] = 0x5e;
  out[5] = 0x5e;
  out[6] = n >> 8;
  out[7] = n;
  ushort sum = cksum(out, n);
  memmove(out + 2, &sum, 2);
}

// The next packet on the raw socket whose ICMP part is n bytes of type
// `type` and otherwise equal to what was sent (checksum aside for replies).
static int
awaiticmp(int fd, int n, int type)
{
  for (;;) {
    int got = recv(fd, in, sizeof in);
    if (got < 0)
      return -1;
    int hlen = (in[0] & 15) * 4;
    uchar *m = in + hlen;
    if (got - hlen != n)
      continue;
    if (n < 8 ? memcmp(m, out, n) == 0 :
        m[0] == type && memcmp(m + 4, out + 4, n - 4) == 0 && cksum(m, n) == 0)
      return 0;
  }
}

static int
icmpsweep(int first, int last, struct tally *t)
{
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  struct sockaddr_in to = { AF_INET, 0, INADDR_LOOPBACK, { 0 } };
  if (fd < 0 || setrcvtimeo(fd, 2000) < 0)
    return -1;
  for (int n = first; n <= last; n++) {
    icmpmessage(n);
    if (sent(t, "icmp", n, sendto(fd, out, n, 0, (struct sockaddr *)&to, sizeof to)) == 0)
      continue;
    // Raw sockets see every ICMP packet: the request itself, then the reply.
    if (awaiticmp(fd, n, ICMP_ECHO) < 0)
      wrong(t, "icmp", n, "the message did not come back");
    else if (n >= 8 && awaiticmp(fd, n, ICMP_ECHOREPLY) < 0)
      wrong(t, "icmp", n, "no echo reply");
    else
      intact(t, n);
  }
  close(fd);
  return 0;
}

static int
packetsweep(int first, int last, struct tally *t)
{
  struct netif_info lo;
  int ifindex = if_nametoindex2("lo", &lo);
  int fd = ifindex < 0 ? -1 : packet_socket(ifindex, ETH_P_TEST);
  struct sockaddr_ll to = { AF_PACKET, htons(ETH_P_TEST), ifindex, 0, 0, 6, { 0 } };
  if (fd < 0 || setrcvtimeo(fd, 2000) < 0)
    return -1;
  for (int n = first; n <= last; n++) {
    fill(out, n);
    // Destination and source: lo's all-zero address; then the test type.
    memset(out, 0, n < 12 ? n : 12);
    if (n > 12)
      out[12] = ETH_P_TEST >> 8;
    if (n > 13)
      out[13] = ETH_P_TEST & 0xFF;
    if (sent(t, "packet", n, sendto(fd, out, n, 0, (struct sockaddr *)&to, sizeof to)) == 0)
      continue;
    int want = n < 60 ? 60 : n, got = recv(fd, in, sizeof in);   // padded to the minimum
    memset(out + n, 0, want - n);
    if (got != want || memcmp(in, out, want) != 0)
      wrong(t, "packet", n, got < 0 ? strerror(errno) : "came back changed");
    else
      intact(t, n);
  }
  close(fd);
  return 0;
}

static const char usage[] =
  "usage: sizesweep [-f FIRST] [-l LAST] udp|icmp|packet\n"
  "  send a message of every size from FIRST (1) to LAST (16300) through loopback\n";

int
main(int argc, char **argv)
{
  int first = 1, last = 16300, c;
  argsinit("sizesweep", usage);
  while ((c = getopt(argc, argv, "f:l:")) != -1) {
    if (c == 'f')
      first = argnum("-f", "first size", optarg, 1, MAXSIZE);
    else
      last = argnum("-l", "last size", optarg, 1, MAXSIZE);
  }
  if (last < first)
    usagefail("the last size (%d) is below the first (%d)", last, first);
  if (optind == argc)
    argmissing("mode (udp, icmp or packet)");
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  const char *mode = argv[optind];
  struct tally t = { 0, 0, 0, 0, 0 };
  int err;
  if (strcmp(mode, "udp") == 0)
    err = udpsweep(first, last, &t);
  else if (strcmp(mode, "icmp") == 0)
    err = icmpsweep(first, last, &t);
  else if (strcmp(mode, "packet") == 0)
    err = packetsweep(first, last, &t);
  else
    argbad(0, "mode", mode, "not udp, icmp or packet");
  if (err < 0) {
    perror("sizesweep");
    return 1;
  }
  printf("sizesweep: %s %d..%d: %d intact, largest %d; %d EMSGSIZE; %d EINVAL; %d wrong\n",
         mode, first, last, t.intact, t.largest, t.toobig, t.tooshort, t.wrong);
  return t.wrong ? 1 : 0;
}
