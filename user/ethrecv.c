// ethrecv [-q] [-t SECONDS] IF ETHERTYPE COUNT: receive COUNT frames of an
// ethertype (hex; "all" for every frame) on interface IF through a packet
// socket. A line per frame with source, length and sequence number (the
// first payload word, as ethsend writes it), or with -q only the summary.
// -t gives up after SECONDS without a frame. Exit status 0 when COUNT came.
// It asks for the largest receive buffer the kernel gives (SO_RCVBUF), as
// a measuring tool on Linux would: a burst must not overflow its queue.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

static const char usage[] =
  "usage: ethrecv [-q] [-t SECONDS] IF ETHERTYPE|all COUNT\n"
  "  -q          only the summary line\n"
  "  -t SECONDS  give up after SECONDS without a frame (default: wait)\n"
  "  IF          interface (eth0)\n"
  "  ETHERTYPE   hex, 0600 to ffff, or all\n"
  "  COUNT       frames to receive, 1 or more\n";

int
main(int argc, char **argv)
{
  int quiet = 0, timeout = 0, c;
  struct netif_info ifi;
  struct sockaddr_ll from;
  uchar frame[2048];
  char mac[18];
  static const char *const names[] = { "interface", "ethertype", "count" };

  argsinit("ethrecv", usage);
  while ((c = getopt(argc, argv, "qt:")) != -1) {
    if (c == 'q')
      quiet = 1;
    else
      timeout = argsecs("-t", "timeout", optarg, 1, 24 * 3600 * 1000);
  }
  argv += optind;
  argc -= optind;
  if (argc < 3)
    argmissing(names[argc]);
  if (argc > 3)
    argextra(argv[3]);
  int ifindex = argiface(0, argv[0], &ifi);
  uint type = strcmp(argv[1], "all") == 0 ? ETH_P_ALL : argethertype(0, argv[1]);
  int count = argnum(0, "count", argv[2], 1, 0x7fffffff);

  int fd = packet_socket(ifindex, type), big = 1 << 30;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big) < 0 ||
      (timeout && setrcvtimeo(fd, timeout) < 0)) {
    perror("ethrecv: packet socket");
    return 1;
  }
  printf("ethrecv: listening on %s for %d frames\n", ifi.name, count);

  int got = 0, bytes = 0, outoforder = 0;
  uint expect = 0;
  while (got < count) {
    int fromlen = sizeof from;
    int n = recvfrom(fd, frame, sizeof frame, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      if (errno != EAGAIN)
        perror("ethrecv: read");
      break;
    }
    uint seq = 0;
    if (n >= 18) {
      memmove(&seq, frame + 14, 4);
      seq = ntohl(seq);
    }
    if (seq != expect)
      outoforder++;
    expect = seq + 1;
    got++;
    bytes += n;
    if (!quiet)
      printf("%d: from %s type %04x len %d seq %u\n", got, ether_ntoa(from.sll_addr, mac),
             ntohs(from.sll_protocol), n, seq);
  }
  printf("ethrecv: received %d frames, %d bytes on %s; %d out of sequence\n",
         got, bytes, ifi.name, outoforder);
  close(fd);
  return got == count ? 0 : 1;
}
