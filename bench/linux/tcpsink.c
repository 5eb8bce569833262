// tcpsink PORT: the Linux guest's twin of user/tcpsink.c (without -v):
// accept one connection, read it to the end, close, and print
//
//   tcpsink: listening on port P
//   tcpsink: connection from A:P
//   tcpsink: received N bytes in U us (K kbit/s)
//
// Built on the host with `gcc -static -O2`; Linux's default buffers.
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

static char buf[32768];   // as xv6net's sink reads

int
main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: tcpsink PORT\n");
    return 2;
  }
  int port = atoi(argv[1]), on = 1;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0) {
    fprintf(stderr, "tcpsink: port %d: %s\n", port, strerror(errno));
    return 1;
  }
  printf("tcpsink: listening on port %d\n", port);
  fflush(stdout);
  socklen_t len = sizeof a;
  int cfd = accept(fd, (struct sockaddr *)&a, &len);
  if (cfd < 0) {
    perror("tcpsink: accept");
    return 1;
  }
  printf("tcpsink: connection from %s:%d\n", inet_ntoa(a.sin_addr), ntohs(a.sin_port));
  fflush(stdout);
  uint64_t start = usecs();
  unsigned long total = 0;
  for (;;) {
    ssize_t n = read(cfd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      fprintf(stderr, "tcpsink: after %lu bytes: %s\n", total, strerror(errno));
      return 1;
    }
    if (n == 0)
      break;
    total += n;
  }
  uint64_t us = usecs() - start;
  printf("tcpsink: received %lu bytes in %d us (%d kbit/s)\n", total, (int)us,
         us ? (int)((uint64_t)total * 8000 / us) : 0);
  close(cfd);
  close(fd);
  return 0;
}
