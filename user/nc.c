// nc -u [-w SECONDS] [-p LOCALPORT] [-s SOURCE] HOST PORT: standard input to
// a UDP socket, datagrams from it to standard output. There is no poll():
// after each line sent, replies are read until the socket has been quiet for
// 0.2 s, and after end of input until it has been quiet for -w seconds
// (default 1). -s binds the socket to a local address first.
// nc -u -l [-p] PORT: print every datagram that arrives on PORT.
// ^C stops either, after a line on standard error that says how many
// datagrams went each way.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

static const char usage[] =
  "usage: nc -u [-w SECONDS] [-p LOCALPORT] [-s SOURCE] HOST PORT\n"
  "       nc -u -l [-p] PORT\n"
  "  -u           UDP (the only protocol so far)\n"
  "  -l           listen on PORT and print what arrives\n"
  "  -p PORT      local port (with -l: the port to listen on)\n"
  "  -s SOURCE    local address to send from\n"
  "  -w SECONDS   wait this long for replies after end of input (default 1)\n";

static char buf[16384];
static volatile int interrupted;
static int sent, received;

static int
stopped(void)
{
  fprintf(2, "nc: interrupted: %d datagrams sent, %d received\n", sent, received);
  return 130;
}

// nc may be waiting anywhere (a recv with no timeout, a read of the
// console), and a ^C that came just before it started waiting would leave
// it there: so the handler itself reports and ends. Both are system calls.
static void
oninterrupt(int sig)
{
  (void)sig;
  interrupted = 1;
  exit(stopped());
}

// Print datagrams until none came for quiet_ms; -1 on a socket error.
static int
drain(int fd, int quiet_ms)
{
  setrcvtimeo(fd, quiet_ms);
  while (!interrupted) {
    int n = recv(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR)
        return 0;
      fprintf(2, "nc: %s\n", strerror(errno));
      return -1;
    }
    received++;
    writeall(1, buf, n);
  }
  return 0;
}

static int
listenmode(int fd, int port)
{
  struct sockaddr_in me = { AF_INET, htons(port), INADDR_ANY, { 0 } };
  if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    fprintf(2, "nc: port %d: %s\n", port, strerror(errno));
    return 1;
  }
  while (!interrupted) {
    int n = recv(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      break;
    if (n < 0) {
      perror("nc: recv");
      return 1;
    }
    received++;
    writeall(1, buf, n);
  }
  return stopped();
}

static int
sendmode(int fd, uint addr, int port, uint laddr, int lport, int wait)
{
  char line[1024], ip[16];
  struct sockaddr_in me = { AF_INET, htons(lport), laddr, { 0 } };
  struct sockaddr_in peer = { AF_INET, htons(port), addr, { 0 } };
  if ((lport || laddr) && bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    fprintf(2, "nc: local address %s port %d: %s\n", inet_ntoa(laddr, ip), lport,
            strerror(errno));
    return 1;
  }
  if (connect(fd, (struct sockaddr *)&peer, sizeof peer) < 0) {
    perror("nc: connect");
    return 1;
  }
  int n;
  while (!interrupted && (n = readline(0, line, sizeof line)) > 0) {
    if (write(fd, line, n) < 0) {
      fprintf(2, "nc: %s\n", strerror(errno));
      return 1;
    }
    sent++;
    if (drain(fd, 200) < 0)
      return 1;
  }
  if (!interrupted && drain(fd, wait) < 0)
    return 1;
  return interrupted ? stopped() : 0;
}

int
main(int argc, char **argv)
{
  int udp = 0, listen = 0, wait = 1000, lport = 0, c;
  uint laddr = INADDR_ANY;

  argsinit("nc", usage);
  while ((c = getopt(argc, argv, "ulw:p:s:")) != -1) {
    if (c == 'u')
      udp = 1;
    else if (c == 'l')
      listen = 1;
    else if (c == 'w')
      wait = argsecs("-w", "wait", optarg, 1, 3600 * 1000);
    else if (c == 'p')
      lport = argport("-p", "local port", optarg);
    else if (c == 's')
      laddr = argaddr("-s", "source address", optarg);
  }
  int operands = argc - optind;
  if (listen && operands == 0 && lport == 0)
    argmissing("port to listen on");
  if (!listen && operands < 2)
    argmissing(operands == 0 ? "host and port" : "port");
  if (operands > (listen ? (lport ? 0 : 1) : 2))
    argextra(argv[optind + (listen ? (lport ? 0 : 1) : 2)]);
  int port = listen ? (lport ? lport : argport(0, "port", argv[optind]))
                    : argport(0, "port", argv[optind + 1]);
  uint addr = 0;
  if (!listen && arghost(0, "host", argv[optind], &addr) < 0) {   // /etc/hosts or DNS
    fprintf(2, "nc: getaddrinfo for host \"%s\" port %s: %s\n", argv[optind], argv[optind + 1],
            hstrerror(h_errno));
    return 1;
  }
  if (!udp) {
    fprintf(2, "nc: only UDP is supported so far: add -u\n");
    return 2;
  }

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("nc: socket");
    return 1;
  }
  signal(SIGINT, oninterrupt);
  return listen ? listenmode(fd, port) : sendmode(fd, addr, port, laddr, lport, wait);
}
