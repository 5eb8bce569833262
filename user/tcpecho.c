// tcpecho [-n CONNECTIONS] PORT: a TCP echo server. Each connection gets a
// process of its own (fork), which sends back what it reads until the
// client closes; so any number of clients are served at once. The server
// says when a connection comes and when it ends, with its byte count:
//
//   tcpecho: listening on port 7
//   tcpecho: connection from 10.0.0.1:45678
//   tcpecho: 10.0.0.1:45678 closed after 1048576 bytes
//
// With -n it stops accepting after that many connections and exits once
// they are all done.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

static const char usage[] =
  "usage: tcpecho [-n CONNECTIONS] PORT\n"
  "  -n CONNECTIONS  serve that many connections, then exit (default: forever)\n";

static char buf[32768];

// Echo until end of file; the byte count, or -1 on an error.
static int
echo(int fd)
{
  int total = 0;
  for (;;) {
    int n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -1 : total;
    if (writeall(fd, buf, n) < 0)
      return -1;
    total += n;
  }
}

static void
serve(int fd, struct sockaddr_in *peer)
{
  char ip[16];
  int total = echo(fd);
  if (total < 0)
    printf("tcpecho: %s:%d: %s\n", inet_ntoa(peer->sin_addr, ip), ntohs(peer->sin_port),
           strerror(errno));
  else
    printf("tcpecho: %s:%d closed after %d bytes\n", inet_ntoa(peer->sin_addr, ip),
           ntohs(peer->sin_port), total);
  close(fd);
  exit(total < 0);
}

int
main(int argc, char **argv)
{
  int max = 0, c;
  char ip[16];

  argsinit("tcpecho", usage);
  while ((c = getopt(argc, argv, "n:")) != -1)
    if (c == 'n')
      max = argnum("-n", "connections", optarg, 1, 1000000);
  if (optind == argc)
    argmissing("port");
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  int port = argport(0, "port", argv[optind]);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    perror("tcpecho: socket");
    return 1;
  }
  if (tcp_bindlisten(fd, port, 16) < 0) {
    fprintf(2, "tcpecho: port %d: %s\n", port, strerror(errno));
    return 1;
  }
  printf("tcpecho: listening on port %d\n", port);
  for (int served = 0; max == 0 || served < max; served++) {
    struct sockaddr_in peer;
    int len = sizeof peer;
    int cfd = accept(fd, (struct sockaddr *)&peer, &len);
    if (cfd < 0) {
      perror("tcpecho: accept");
      return 1;
    }
    printf("tcpecho: connection from %s:%d\n", inet_ntoa(peer.sin_addr, ip), ntohs(peer.sin_port));
    int pid = fork();
    if (pid == 0) {
      close(fd);
      serve(cfd, &peer);
    }
    if (pid < 0)
      perror("tcpecho: fork");
    close(cfd);
    while (waitpid(-1, 0, WNOHANG) > 0)   // reap those done meanwhile
      ;
  }
  close(fd);
  while (wait(0) > 0)
    ;
  return 0;
}
