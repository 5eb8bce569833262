// udpblast [-n COUNT] [-s SIZE] ADDR PORT: the Linux guest's twin of
// user/udpblast.c (same arguments, same summary line), built on the host
// with `gcc -static -O2` and put in the Linux guest's initramfs.
//
//   udpblast: sent N datagrams of S bytes in U us; retries R errors E
//
// Linux blocks a sender whose socket buffer is full; a send it refuses with
// ENOBUFS is retried and counted, as on xv6net.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define MAXSIZE 1472

static unsigned char buf[MAXSIZE];

static void
usage(void)
{
  fprintf(stderr, "usage: udpblast [-n COUNT] [-s SIZE] ADDR PORT\n");
  exit(2);
}

static void
putseq(uint32_t seq)
{
  uint32_t be = htonl(seq);
  memcpy(buf, &be, 4);
}

int
main(int argc, char **argv)
{
  int count = 10000, size = 32, i;
  struct in_addr addr;

  for (i = 1; i < argc - 2 && argv[i][0] == '-'; i += 2) {
    if (strcmp(argv[i], "-n") == 0)
      count = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-s") == 0)
      size = atoi(argv[i + 1]);
    else
      usage();
  }
  if (i != argc - 2 || inet_aton(argv[i], &addr) == 0 || count <= 0 || size < 4 ||
      size > MAXSIZE)
    usage();
  int port = atoi(argv[i + 1]);
  if (port <= 0 || port > 65535)
    usage();

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = addr };
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
    perror("udpblast");
    return 1;
  }
  for (int j = 4; j < size; j++)
    buf[j] = j;
  putseq(0xFFFFFFFF);
  if (write(fd, buf, size) < 0)
    perror("udpblast: first datagram");
  usleep(100000);

  unsigned retries = 0, errors = 0;
  uint64_t start = usecs();
  for (int seq = 0; seq < count; ) {
    putseq(seq);
    if (write(fd, buf, size) == size) {
      seq++;
    } else if (errno == ENOBUFS || errno == EINTR) {
      retries++;
    } else {
      errors++;
      seq++;
    }
  }
  uint64_t us = usecs() - start;
  printf("udpblast: sent %d datagrams of %d bytes in %llu us; retries %u errors %u\n",
         count, size, (unsigned long long)us, retries, errors);
  return 0;
}
