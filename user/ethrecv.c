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

static void
usage(void)
{
  fprintf(2, "usage: ethrecv [-q] [-t SECONDS] IF ETHERTYPE|all COUNT\n");
  exit(2);
}

int
main(int argc, char **argv)
{
  int quiet = 0, timeout = 0, i = 1;
  struct netif_info ifi;
  struct sockaddr_ll from;
  uchar frame[2048];
  char mac[18], *end;

  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "-q") == 0)
      quiet = 1;
    else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
      timeout = atoi(argv[++i]);
    else
      usage();
  }
  if (argc - i != 3)
    usage();
  int ifindex = if_nametoindex2(argv[i], &ifi);
  if (ifindex < 0) {
    fprintf(2, "ethrecv: %s: no such interface\n", argv[i]);
    return 1;
  }
  uint type = strcmp(argv[i + 1], "all") == 0 ? ETH_P_ALL : strtoul(argv[i + 1], &end, 16);
  int count = atoi(argv[i + 2]);
  if (type == 0 || count <= 0)
    usage();

  int fd = packet_socket(ifindex, type), big = 1 << 30;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big) < 0 ||
      (timeout && setrcvtimeo(fd, timeout * 1000) < 0)) {
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
