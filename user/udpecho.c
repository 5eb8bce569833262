// udpecho [-v] PORT: a UDP echo server; every datagram goes back to its sender.
#include "kernel/types.h"
#include "user/user.h"
#include "user/net.h"

static char buf[16384];

int
main(int argc, char **argv)
{
  int verbose = argc == 3 && strcmp(argv[1], "-v") == 0;
  if (argc != 2 + verbose) {
    fprintf(2, "usage: udpecho [-v] PORT\n");
    return 2;
  }
  int port = atoi(argv[1 + verbose]);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = { AF_INET, htons(port), INADDR_ANY, { 0 } };
  if (fd < 0 || port <= 0 || port > 65535 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    perror("udpecho");
    return 1;
  }
  printf("udpecho: listening on port %d\n", port);
  for (;;) {
    struct sockaddr_in from;
    int fromlen = sizeof from;
    int n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      perror("udpecho: recvfrom");
      return 1;
    }
    if (verbose) {
      char ip[16];
      printf("udpecho: %d bytes from %s:%d\n", n, inet_ntoa(from.sin_addr, ip), ntohs(from.sin_port));
    }
    if (sendto(fd, buf, n, 0, (struct sockaddr *)&from, fromlen) < 0)
      perror("udpecho: sendto");
  }
}
