// udpblast [-n COUNT] [-s SIZE] ADDR PORT: send COUNT UDP datagrams of SIZE
// payload bytes to ADDR:PORT as fast as the stack takes them, for a
// benchmark. Each payload starts with a 32-bit big-endian sequence number
// (0, 1, ...). A send the stack refuses for lack of room (ENOBUFS: the
// card's transmit ring is full) is retried and counted. One datagram with
// sequence number 0xFFFFFFFF goes first, followed by a 0.1 s pause, so that
// ARP has resolved ADDR before the clock starts. Prints:
//
//   udpblast: sent N datagrams of S bytes in U us; retries R errors E
//
// bench/linux/udpblast.c prints the same line on Linux.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

#define MAXSIZE 1472   // one Ethernet frame

static uchar buf[MAXSIZE];

static const char usage[] =
  "usage: udpblast [-n COUNT] [-s SIZE] ADDRESS PORT\n"
  "  -n COUNT  datagrams to send (default 10000)\n"
  "  -s SIZE   payload bytes, 4 to 1472 (default 32)\n";

static void
putseq(uint seq)
{
  buf[0] = seq >> 24;
  buf[1] = seq >> 16;
  buf[2] = seq >> 8;
  buf[3] = seq;
}

int
main(int argc, char **argv)
{
  int count = 10000, size = 32, c;

  argsinit("udpblast", usage);
  while ((c = getopt(argc, argv, "n:s:")) != -1) {
    if (c == 'n')
      count = argnum("-n", "count", optarg, 1, 0x7FFFFFFF);
    else if (c == 's')
      size = argnum("-s", "payload size", optarg, 4, MAXSIZE);
  }
  if (argc - optind < 2)
    argmissing(optind == argc ? "address and port" : "port");
  if (argc - optind > 2)
    argextra(argv[optind + 2]);
  uint addr = argaddr(0, "address", argv[optind]);
  int port = argport(0, "port", argv[optind + 1]);

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = { AF_INET, htons(port), addr, { 0 } };
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
    perror("udpblast");
    return 1;
  }
  for (int j = 4; j < size; j++)
    buf[j] = j;
  putseq(0xFFFFFFFF);
  write(fd, buf, size);
  sleep(10);

  uint retries = 0, errors = 0;
  uint64 start = usecs();
  for (int seq = 0; seq < count; ) {
    putseq(seq);
    if (write(fd, buf, size) == size) {
      seq++;
    } else if (errno == ENOBUFS) {
      retries++;
    } else {
      errors++;
      seq++;   // lost: go on with the next one
    }
  }
  uint64 us = usecs() - start;
  printf("udpblast: sent %d datagrams of %d bytes in %llu us; retries %u errors %u\n",
         count, size, us, retries, errors);
  return 0;
}
