// udpecho [-v] PORT: a UDP echo server; every datagram goes back to its
// sender. -v prints a line per datagram.
#include "kernel/types.h"
#include "user/user.h"
#include "user/net.h"

static const char usage[] =
  "usage: udpecho [-v] PORT\n"
  "  -v     print a line for each datagram\n";

static char buf[16384];

int
main(int argc, char **argv)
{
  int verbose = 0, c;

  argsinit("udpecho", usage);
  while ((c = getopt(argc, argv, "v")) != -1)
    verbose = 1;
  if (optind == argc)
    argmissing("port");
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  int port = argport(0, "port", argv[optind]);

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("udpecho: socket");
    return 1;
  }
  struct sockaddr_in me = { AF_INET, htons(port), INADDR_ANY, { 0 } };
  if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    fprintf(2, "udpecho: port %d: %s\n", port, strerror(errno));
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
