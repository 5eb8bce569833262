// nc -u [-w SECONDS] [-p LOCALPORT] [-s SOURCE] HOST PORT: standard input to a UDP
// socket, datagrams from it to standard output. There is no poll(): after
// each line sent, replies are read until the socket has been quiet for
// 0.2 s, and after end of input until it has been quiet for -w seconds
// (default 1). -s binds the socket to a local address first.
// nc -u -l [-p] PORT: print every datagram that arrives on PORT.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

static char buf[16384];

static void
usage(void)
{
  fprintf(2, "usage: nc -u [-w SECONDS] [-p LOCALPORT] [-s SOURCE] HOST PORT\n"
             "       nc -u -l [-p] PORT\n");
  exit(2);
}

// Print datagrams until none came for quiet_ms; returns -1 on a socket error.
static int
drain(int fd, int quiet_ms)
{
  setrcvtimeo(fd, quiet_ms);
  for (;;) {
    int n = recv(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EAGAIN)
        return 0;
      fprintf(2, "nc: %s\n", strerror(errno));
      return -1;
    }
    writeall(1, buf, n);
  }
}

static int
listenmode(int fd, int port)
{
  struct sockaddr_in me = { AF_INET, htons(port), INADDR_ANY, { 0 } };
  if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    perror("nc: bind");
    return 1;
  }
  for (;;) {
    int n = recv(fd, buf, sizeof buf);
    if (n < 0) {
      perror("nc: recv");
      return 1;
    }
    writeall(1, buf, n);
  }
}

int
main(int argc, char **argv)
{
  int udp = 0, listen = 0, wait = 1000, lport = 0, i;
  uint laddr = INADDR_ANY;
  char line[1024];

  for (i = 1; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "-u") == 0)
      udp = 1;
    else if (strcmp(argv[i], "-l") == 0)
      listen = 1;
    else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
      wait = atoi(argv[++i]) * 1000;
    else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc && !listen)
      lport = atoi(argv[++i]);
    else if (strcmp(argv[i], "-p") == 0 && listen)
      ;   // nc -l -p PORT: the port follows
    else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc && inet_aton(argv[i + 1], &laddr) == 0)
      i++;
    else
      usage();
  }
  if (!udp) {
    fprintf(2, "nc: only UDP (-u) is supported so far\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("nc: socket");
    return 1;
  }
  if (listen) {
    if (argc - i != 1)
      usage();
    return listenmode(fd, atoi(argv[i]));
  }
  uint addr;
  if (argc - i != 2)
    usage();
  if (resolve(argv[i], &addr) < 0) {   // a dotted quad, /etc/hosts or DNS
    fprintf(2, "nc: getaddrinfo for host \"%s\" port %s: %s\n", argv[i], argv[i + 1],
            hstrerror(h_errno));
    return 1;
  }
  struct sockaddr_in me = { AF_INET, htons(lport), laddr, { 0 } };
  struct sockaddr_in peer = { AF_INET, htons(atoi(argv[i + 1])), addr, { 0 } };
  if (((lport || laddr) && bind(fd, (struct sockaddr *)&me, sizeof me) < 0) ||
      connect(fd, (struct sockaddr *)&peer, sizeof peer) < 0) {
    perror("nc: connect");
    return 1;
  }
  int n;
  while ((n = readline(0, line, sizeof line)) > 0) {
    if (write(fd, line, n) < 0) {
      fprintf(2, "nc: %s\n", strerror(errno));
      return 1;
    }
    if (drain(fd, 200) < 0)
      return 1;
  }
  return drain(fd, wait) < 0 ? 1 : 0;
}
