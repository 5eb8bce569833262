// udpsink [-n COUNT] [-t SECONDS] [-w IDLE_MS] PORT: count UDP datagrams
// for a benchmark. Each datagram's payload starts with a 32-bit big-endian
// sequence number (the generator's). The sink stops after COUNT datagrams,
// after IDLE_MS milliseconds without one (once the first has come), or
// SECONDS after it started, and prints one summary line:
//
//   udpsink: received N datagrams B bytes in U us; maxseq M reordered R
//
// U is the time from the first datagram to the last. bench/linux/udpsink.c
// prints the same line on Linux, so one parser reads both.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

static char buf[2048];

static const char usage[] =
  "usage: udpsink [-n COUNT] [-t SECONDS] [-w IDLE_MS] PORT\n"
  "  -n COUNT    stop after COUNT datagrams\n"
  "  -t SECONDS  stop SECONDS after starting (default 60)\n"
  "  -w IDLE_MS  stop after IDLE_MS milliseconds without a datagram (default 500)\n";

static uint
seqof(const char *p, int n)
{
  const uchar *u = (const uchar *)p;
  if (n < 4)
    return 0;
  return (uint)u[0] << 24 | (uint)u[1] << 16 | (uint)u[2] << 8 | u[3];
}

int
main(int argc, char **argv)
{
  int count = 0x7FFFFFFF, seconds = 60, idle = 500, c;

  argsinit("udpsink", usage);
  while ((c = getopt(argc, argv, "n:t:w:")) != -1) {
    if (c == 'n')
      count = argnum("-n", "count", optarg, 1, 0x7FFFFFFF);
    else if (c == 't')
      seconds = argnum("-t", "seconds", optarg, 1, 24 * 3600);
    else if (c == 'w')
      idle = argnum("-w", "idle time", optarg, 1, 3600 * 1000);
  }
  if (optind == argc)
    argmissing("port");
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  int port = argport(0, "port", argv[optind]);

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = { AF_INET, htons(port), INADDR_ANY, { 0 } };
  if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    perror("udpsink");
    return 1;
  }
  printf("udpsink: listening on port %d\n", port);

  // Few system calls per datagram: the receive timeout is set twice (the
  // whole time, then the idle time once the first datagram is in) and the
  // clock is read every 256 datagrams.
  uint64 start = usecs(), end = start + (uint64)seconds * 1000000, first = 0, last;
  uint received = 0, bytes = 0, maxseq = 0, reordered = 0, idled = 0;
  setrcvtimeo(fd, seconds * 1000);
  while (received < (uint)count) {
    int n = recvfrom(fd, buf, sizeof buf, 0, 0, 0);
    if (n < 0) {
      if (errno == EAGAIN) {
        idled = received > 0;
        break;
      }
      perror("udpsink: recvfrom");
      return 1;
    }
    if (received == 0) {
      first = usecs();
      setrcvtimeo(fd, idle);
    }
    uint seq = seqof(buf, n);
    if (received && seq < maxseq)
      reordered++;
    if (seq > maxseq)
      maxseq = seq;
    received++;
    bytes += n;
    if (received % 256 == 0 && usecs() >= end)
      break;
  }
  // Time of the last datagram: now, less the idle wait if that ended it.
  last = usecs();
  if (idled)
    last = last - first > (uint64)idle * 1000 ? last - (uint64)idle * 1000 : first;
  if (received == 0)
    first = last;
  printf("udpsink: received %u datagrams %u bytes in %llu us; maxseq %u reordered %u\n",
         received, bytes, last - first, maxseq, reordered);
  return 0;
}
