// udpecho PORT: the Linux guest's twin of user/udpecho.c: every datagram to
// PORT goes back to its sender. The bench's UDP round trips (benchpeer.py
// udprtt) are answered by it, a user program that each datagram wakes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

int
main(int argc, char *argv[])
{
  static char buf[65536];

  if (argc != 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
    fprintf(stderr, "usage: udpecho PORT\n");
    return 1;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
  if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    perror("udpecho");
    return 1;
  }
  printf("udpecho: listening on port %s\n", argv[1]);
  fflush(stdout);
  for (;;) {
    struct sockaddr_in from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      perror("udpecho: recvfrom");
      return 1;
    }
    if (sendto(fd, buf, n, 0, (struct sockaddr *)&from, fromlen) < 0)
      perror("udpecho: sendto");
  }
}
