// sockhold [-b RCVBUF] SOCKET...: open sockets and never read them, to see
// what idle sockets may cost the rest of the system. Each SOCKET is
//   udp:PORT   a UDP socket bound to PORT (udp:FIRST-LAST for a range)
//   raw        a raw ICMP socket (it gets a copy of every ICMP packet)
//   packet     a packet socket for every frame on every interface
// -b sets SO_RCVBUF on each. Prints the receive buffer the kernel gave the
// first socket, then "sockhold: pid N holding M sockets", and sleeps until
// killed.
#include "kernel/types.h"
#include "user/user.h"
#include "user/net.h"

static const char usage[] =
  "usage: sockhold [-b RCVBUF] SOCKET...\n"
  "  open sockets and never read them; SOCKET is udp:PORT, udp:FIRST-LAST,\n"
  "  raw (ICMP) or packet (every frame); -b sets SO_RCVBUF on each\n";

static int
udpsocket(int port)
{
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = { AF_INET, htons(port), INADDR_ANY, { 0 } };
  if (fd >= 0 && bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Open the sockets one SOCKET argument asks for, with SO_RCVBUF set to
// *rcvbuf unless rcvbuf is 0; returns how many, or -1.
static int
open1(const char *spec, const int *rcvbuf, int *first)
{
  int lo = 0, hi = 0, n = 0;
  char *end;
  if (strncmp(spec, "udp:", 4) == 0) {
    lo = hi = strtoul(spec + 4, &end, 10);
    if (*end == '-')
      hi = strtoul(end + 1, &end, 10);
    if (*end || lo <= 0 || hi < lo || hi > 65535)
      argbad(0, "socket", spec, "not udp:PORT or udp:FIRST-LAST with ports 1 to 65535");
  } else if (strcmp(spec, "raw") && strcmp(spec, "packet")) {
    argbad(0, "socket", spec, "not udp:PORT, raw or packet");
  }
  for (int port = lo; port <= hi; port++, n++) {
    int fd = lo ? udpsocket(port) : strcmp(spec, "raw") == 0 ?
             socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) : packet_socket(0, ETH_P_ALL);
    if (fd < 0 || (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, sizeof *rcvbuf) < 0))
      return -1;
    if (*first < 0)
      *first = fd;
  }
  return n;
}

int
main(int argc, char **argv)
{
  int rcvbuf = 0, *setbuf = 0, first = -1, total = 0;
  argsinit("sockhold", usage);
  while (getopt(argc, argv, "b:") != -1) {
    rcvbuf = argnum("-b", "receive buffer", optarg, -0x7fffffff - 1, 0x7fffffff);   // as setsockopt takes it
    setbuf = &rcvbuf;
  }
  if (optind == argc)
    argmissing("socket");
  for (int i = optind; i < argc; i++) {
    int n = open1(argv[i], setbuf, &first);
    if (n < 0) {
      fprintf(2, "sockhold: %s: %s\n", argv[i], strerror(errno));
      return 1;
    }
    total += n;
  }
  int got, len = sizeof got;
  if (getsockopt(first, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0) {
    perror("sockhold: getsockopt");
    return 1;
  }
  // One write, so that the shell's job notices cannot come between the lines.
  printf("sockhold: rcvbuf %d\nsockhold: pid %d holding %d sockets\n", got, getpid(), total);
  for (;;)
    sleep(1000);
}
