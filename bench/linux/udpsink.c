// udpsink [-n COUNT] [-t SECONDS] [-w IDLE_MS] PORT: the Linux guest's twin
// of user/udpsink.c (same arguments, same summary line), built on the host
// with `gcc -static -O2` and put in the Linux guest's initramfs.
//
//   udpsink: received N datagrams B bytes in U us; maxseq M reordered R
//
// The socket keeps Linux's default receive buffer, as the xv6net sink keeps
// its kernel's default queue.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static char buf[2048];

static void
setrcvtimeo(int fd, int ms)
{
  struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static void
usage(void)
{
  fprintf(stderr, "usage: udpsink [-n COUNT] [-t SECONDS] [-w IDLE_MS] PORT\n");
  exit(2);
}

int
main(int argc, char **argv)
{
  int count = 0x7FFFFFFF, seconds = 60, idle = 500, i;

  for (i = 1; i < argc - 1 && argv[i][0] == '-'; i += 2) {
    if (strcmp(argv[i], "-n") == 0)
      count = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-t") == 0)
      seconds = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-w") == 0)
      idle = atoi(argv[i + 1]);
    else
      usage();
  }
  int port = i == argc - 1 ? atoi(argv[i]) : 0;
  if (port <= 0 || port > 65535 || count <= 0 || seconds <= 0 || idle <= 0)
    usage();

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(port) };
  if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    perror("udpsink");
    return 1;
  }
  printf("udpsink: listening on port %d\n", port);
  fflush(stdout);

  uint64_t end = usecs() + (uint64_t)seconds * 1000000, first = 0, last;
  unsigned received = 0, bytes = 0, maxseq = 0, reordered = 0, idled = 0;
  setrcvtimeo(fd, seconds * 1000);
  while (received < (unsigned)count) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        idled = received > 0;
        break;
      }
      if (errno == EINTR)
        continue;
      perror("udpsink: recv");
      return 1;
    }
    if (received == 0) {
      first = usecs();
      setrcvtimeo(fd, idle);
    }
    unsigned seq = 0;
    if (n >= 4) {
      memcpy(&seq, buf, 4);
      seq = ntohl(seq);
    }
    if (received && seq < maxseq)
      reordered++;
    if (seq > maxseq)
      maxseq = seq;
    received++;
    bytes += n;
    if (received % 256 == 0 && usecs() >= end)
      break;
  }
  last = usecs();
  if (idled)
    last = last - first > (uint64_t)idle * 1000 ? last - (uint64_t)idle * 1000 : first;
  if (received == 0)
    first = last;
  printf("udpsink: received %u datagrams %u bytes in %llu us; maxseq %u reordered %u\n",
         received, bytes, (unsigned long long)(last - first), maxseq, reordered);
  return 0;
}
