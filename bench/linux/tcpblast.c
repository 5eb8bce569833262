// tcpblast ADDR PORT BYTES: the Linux guest's twin of user/tcpblast.c (same
// arguments, same pattern, same summary line), built on the host with
// `gcc -static -O2` and put in the Linux guest's initramfs.
//
//   tcpblast: sent N bytes in U us (K kbit/s)
//
// It connects, sends BYTES bytes (byte i is i mod 251), shuts its sending
// side and waits for the peer to close, so that U covers delivery, not just
// queueing in the socket buffer. Linux's default buffers, as xv6net's.
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

static char buf[16 * 251 * 8];   // a whole number of pattern periods

static int
writeall(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= w;
  }
  return 0;
}

int
main(int argc, char **argv)
{
  struct sockaddr_in peer = { .sin_family = AF_INET };
  if (argc != 4 || inet_pton(AF_INET, argv[1], &peer.sin_addr) != 1) {
    fprintf(stderr, "usage: tcpblast ADDR PORT BYTES\n");
    return 2;
  }
  peer.sin_port = htons(atoi(argv[2]));
  long total = atol(argv[3]);
  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = i % 251;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&peer, sizeof peer) < 0) {
    fprintf(stderr, "tcpblast: connect to %s port %s: %s\n", argv[1], argv[2], strerror(errno));
    return 1;
  }
  uint64_t start = usecs();
  for (long sent = 0; sent < total;) {
    long n = total - sent < (long)sizeof buf ? total - sent : (long)sizeof buf;
    if (writeall(fd, buf, n) < 0) {
      fprintf(stderr, "tcpblast: after %ld bytes: %s\n", sent, strerror(errno));
      return 1;
    }
    sent += n;
  }
  shutdown(fd, SHUT_WR);
  while (read(fd, buf, sizeof buf) > 0)   // until the peer has it all and closes
    ;
  uint64_t us = usecs() - start;
  printf("tcpblast: sent %ld bytes in %d us (%d kbit/s)\n", total, (int)us,
         us ? (int)((uint64_t)total * 8000 / us) : 0);
  close(fd);
  return 0;
}
