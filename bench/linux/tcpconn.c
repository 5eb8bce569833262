// tcpconn [-t SECONDS] ADDR PORT: the Linux guest's twin of user/tcpconn.c
// (16 bytes each way; the same summary line), built on the host with
// `gcc -static -O2`:
//
//   tcpconn: N connections in U us (R per second), E errors
//
// Connect, send 16 bytes, read them back, wait for the server's close,
// close; one connection after another until SECONDS (3) have passed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define SIZE 16

// One connection; 0 if the bytes came back whole and the server closed.
static int
exchange(struct sockaddr_in *peer, const char *out)
{
  char in[SIZE];
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  ssize_t got = 0, n = 0;
  if (connect(fd, (struct sockaddr *)peer, sizeof *peer) == 0 && write(fd, out, SIZE) == SIZE) {
    while (got < SIZE && (n = read(fd, in + got, SIZE - got)) > 0)
      got += n;
    while (n > 0)   // to the server's FIN
      n = read(fd, in, sizeof in);
  }
  close(fd);
  return got == SIZE && n == 0 && memcmp(in, out, SIZE) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
  double seconds = 3;
  int i = 1;
  if (argc == 5 && strcmp(argv[1], "-t") == 0) {
    seconds = atof(argv[2]);
    i = 3;
  }
  struct sockaddr_in peer = { .sin_family = AF_INET };
  if (argc - i != 2 || inet_pton(AF_INET, argv[i], &peer.sin_addr) != 1) {
    fprintf(stderr, "usage: tcpconn [-t SECONDS] ADDR PORT\n");
    return 2;
  }
  peer.sin_port = htons(atoi(argv[i + 1]));
  char out[SIZE];
  for (int k = 0; k < SIZE; k++)
    out[k] = 'a' + k % 26;
  int done = 0, errors = 0;
  uint64_t start = usecs(), us = 0;
  while (us < seconds * 1e6) {
    if (exchange(&peer, out) < 0)
      errors++;
    done++;
    us = usecs() - start;
  }
  printf("tcpconn: %d connections in %d us (%d per second), %d errors\n", done, (int)us,
         us ? (int)((uint64_t)done * 1000000 / us) : 0, errors);
  return errors != 0;
}
