// tcpsink [-v] PORT: accept one TCP connection, read it to the end, and
// print one line:
//
//   tcpsink: received 10485760 bytes in 2345678 us (35762 kbit/s)
//
// With -v, check that the bytes are tcpblast's pattern (byte i is i mod
// 251) and say where they first differ. With -i, also say how much of that
// time the system sat idle (all CPUs halted with nothing to run):
//
//   tcpsink: idle 12345 us of 2345678 us (0.5%)
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

static const char usage[] =
  "usage: tcpsink [-iv] PORT\n"
  "  -i   say how much of the transfer the system sat idle\n"
  "  -v   check the data against tcpblast's pattern\n";

static char buf[32768];

int
main(int argc, char **argv)
{
  int verify = 0, idle = 0, c;
  char ip[16];

  argsinit("tcpsink", usage);
  while ((c = getopt(argc, argv, "iv")) != -1) {
    if (c == 'i')
      idle = 1;
    else
      verify = 1;
  }
  if (optind == argc)
    argmissing("port");
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  int port = argport(0, "port", argv[optind]);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    perror("tcpsink: socket");
    return 1;
  }
  if (tcp_bindlisten(fd, port, 1) < 0) {
    fprintf(2, "tcpsink: port %d: %s\n", port, strerror(errno));
    return 1;
  }
  printf("tcpsink: listening on port %d\n", port);
  struct sockaddr_in peer;
  int len = sizeof peer;
  int cfd = accept(fd, (struct sockaddr *)&peer, &len);
  if (cfd < 0) {
    perror("tcpsink: accept");
    return 1;
  }
  printf("tcpsink: connection from %s:%d\n", inet_ntoa(peer.sin_addr, ip), ntohs(peer.sin_port));
  struct idlemark mark;
  if (idle && idlemark(&mark) < 0)
    idle = 0;
  uint64 start = usecs();
  uint total = 0, bad = 0, badat = 0;
  for (;;) {
    int n = read(cfd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      fprintf(2, "tcpsink: after %u bytes: %s\n", total, strerror(errno));
      return 1;
    }
    if (n == 0)
      break;
    for (int i = 0; verify && !bad && i < n; i++) {
      if ((uchar)buf[i] != (total + i) % 251) {
        bad = 1;
        badat = total + i;
      }
    }
    total += n;
  }
  uint64 us = usecs() - start;
  printf("tcpsink: received %u bytes in %d us (%d kbit/s)\n", total, (int)us,
         us ? (int)((uint64)total * 8000 / us) : 0);
  if (idle)
    idleprint("tcpsink", &mark);
  if (verify)
    printf(bad ? "tcpsink: pattern differs at byte %u\n" : "tcpsink: pattern intact\n", badat);
  close(cfd);
  close(fd);
  return bad;
}
