// tcpblast [-i] [-t TTL] HOST PORT BYTES: connect and send BYTES bytes of a known pattern
// (byte i is i mod 251, which tcpsink -v and the tests check), shut the
// sending side, wait for the peer to close, and print one line:
//
//   tcpblast: sent 10485760 bytes in 2345678 us (35762 kbit/s)
//
// With -i, also how much of that time the system sat idle (tcpsink -i).
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

static const char usage[] =
  "usage: tcpblast [-i] [-t TTL] HOST PORT BYTES\n"
  "  send BYTES bytes (a pattern: byte i is i mod 251) and report the rate\n"
  "  -i      say how much of the transfer the system sat idle\n"
  "  -t TTL  the IP TTL of the connection's segments (1-255)\n";

static char buf[16 * 251 * 8];   // a whole number of pattern periods

int
main(int argc, char **argv)
{
  char ip[16];
  uint addr;

  int ttl = 0, idle = 0, c;
  argsinit("tcpblast", usage);
  while ((c = getopt(argc, argv, "it:")) != -1) {
    if (c == 't')
      ttl = argnum("-t", "TTL", optarg, 1, 255);
    else if (c == 'i')
      idle = 1;
  }
  if (argc - optind < 3)
    argmissing(argc - optind == 0 ? "host" : argc - optind == 1 ? "port" : "byte count");
  if (argc - optind > 3)
    argextra(argv[optind + 3]);
  if (arghost(0, "host", argv[optind], &addr) < 0) {
    fprintf(2, "tcpblast: %s: %s\n", argv[optind], hstrerror(h_errno));
    return 1;
  }
  int port = argport(0, "port", argv[optind + 1]);
  int total = argnum(0, "byte count", argv[optind + 2], 0, 0x7FFFFFFF);
  for (uint i = 0; i < sizeof buf; i++)
    buf[i] = i % 251;

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in peer = { AF_INET, htons(port), addr, { 0 } };
  if (fd >= 0 && ttl && setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) < 0) {
    fprintf(2, "tcpblast: setsockopt IP_TTL: %s\n", strerror(errno));
    return 1;
  }
  if (fd < 0 || connect(fd, (struct sockaddr *)&peer, sizeof peer) < 0) {
    fprintf(2, "tcpblast: connect to %s port %d: %s\n", inet_ntoa(addr, ip), port,
            strerror(errno));
    return 1;
  }
  struct idlemark mark;
  if (idle && idlemark(&mark) < 0)
    idle = 0;
  uint64 start = usecs();
  for (int sent = 0; sent < total;) {
    int n = total - sent < (int)sizeof buf ? total - sent : (int)sizeof buf;
    if (writeall(fd, buf, n) < 0) {
      fprintf(2, "tcpblast: after %d bytes: %s\n", sent, strerror(errno));
      return 1;
    }
    sent += n;   // a multiple of 251: the pattern goes on from buf[0]
  }
  shutdown(fd, SHUT_WR);
  while (read(fd, buf, sizeof buf) > 0)   // until the peer has it all and closes
    ;
  uint64 us = usecs() - start;
  printf("tcpblast: sent %d bytes in %d us (%d kbit/s)\n", total, (int)us,
         us ? (int)((uint64)total * 8000 / us) : 0);
  if (idle)
    idleprint("tcpblast", &mark);
  close(fd);
  return 0;
}
