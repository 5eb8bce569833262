// tcpconn [-t SECONDS] [-n COUNT] [-s SIZE] HOST PORT: open connections to
// an echo server one after another: connect, send SIZE bytes (16), read them
// back, wait for the server to close, close. It stops after COUNT
// connections or SECONDS (3), whichever comes first, and prints one line:
//
//   tcpconn: 300 connections in 3001234 us (99 per second), 0 errors
//
// The server closes first, so the TIME_WAIT state stays on its side and the
// client's connection blocks are free again at once.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

static const char usage[] =
  "usage: tcpconn [-t SECONDS] [-n COUNT] [-s SIZE] HOST PORT\n"
  "  connections to an echo server, one after another, for SECONDS (3)\n"
  "  or COUNT of them; SIZE bytes (16) each way on each\n";

static char out[1024], in[1024];

// One connection; 0 if the bytes came back whole and the server closed.
static int
exchange(struct sockaddr_in *peer, int size)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  int got = 0, n = 0;
  if (connect(fd, (struct sockaddr *)peer, sizeof *peer) == 0 && writeall(fd, out, size) == size) {
    while (got < size && (n = read(fd, in + got, size - got)) > 0)
      got += n;
    while (n > 0)   // to the server's FIN
      n = read(fd, in, sizeof in);
  }
  close(fd);
  return got == size && n == 0 && memcmp(in, out, size) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
  int ms = 3000, count = 0x7FFFFFFF, size = 16, c;
  uint addr;

  argsinit("tcpconn", usage);
  while ((c = getopt(argc, argv, "t:n:s:")) != -1) {
    if (c == 't')
      ms = argsecs("-t", "seconds", optarg, 1, 3600000);
    else if (c == 'n')
      count = argnum("-n", "count", optarg, 1, 0x7FFFFFFF);
    else
      size = argnum("-s", "size", optarg, 1, sizeof out);
  }
  if (argc - optind < 2)
    argmissing(argc - optind == 0 ? "host" : "port");
  if (argc - optind > 2)
    argextra(argv[optind + 2]);
  if (arghost(0, "host", argv[optind], &addr) < 0) {
    fprintf(2, "tcpconn: %s: %s\n", argv[optind], hstrerror(h_errno));
    return 1;
  }
  struct sockaddr_in peer = { AF_INET, htons(argport(0, "port", argv[optind + 1])), addr, { 0 } };
  for (int i = 0; i < size; i++)
    out[i] = 'a' + i % 26;
  int done = 0, errors = 0;
  uint64 start = usecs(), us = 0;
  while (done < count && us < (uint64)ms * 1000) {
    if (exchange(&peer, size) < 0)
      errors++;
    done++;
    us = usecs() - start;
  }
  printf("tcpconn: %d connections in %d us (%d per second), %d errors\n", done, (int)us,
         us ? (int)((uint64)done * 1000000 / us) : 0, errors);
  return errors != 0;
}
