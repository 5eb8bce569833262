// tcpecho PORT: the Linux guest's twin of user/tcpecho.c: a process per
// connection (fork), which sends back what it reads until the client
// closes, with the same lines:
//
//   tcpecho: listening on port P
//   tcpecho: connection from A:P
//   tcpecho: A:P closed after N bytes
//
// Built on the host with `gcc -static -O2`. The bench sends its output to
// /dev/null on both systems (a serial console would cost more than TCP).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[32768];

// Echo until end of file; the byte count, or -1 on an error.
static long
echo(int fd)
{
  long total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -1 : total;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(fd, buf + off, n - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1;
      off += w;
    }
    total += n;
  }
}

int
main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: tcpecho PORT\n");
    return 2;
  }
  int port = atoi(argv[1]), on = 1;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0) {
    fprintf(stderr, "tcpecho: port %d: %s\n", port, strerror(errno));
    return 1;
  }
  printf("tcpecho: listening on port %d\n", port);
  fflush(stdout);
  for (;;) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int cfd = accept(fd, (struct sockaddr *)&peer, &len);
    if (cfd < 0) {
      perror("tcpecho: accept");
      return 1;
    }
    printf("tcpecho: connection from %s:%d\n", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      close(fd);
      long total = echo(cfd);
      if (total < 0)
        printf("tcpecho: %s:%d: %s\n", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port),
               strerror(errno));
      else
        printf("tcpecho: %s:%d closed after %ld bytes\n", inet_ntoa(peer.sin_addr),
               ntohs(peer.sin_port), total);
      close(cfd);
      exit(total < 0);
    }
    if (pid < 0)
      perror("tcpecho: fork");
    close(cfd);
    while (waitpid(-1, 0, WNOHANG) > 0)   // reap those done meanwhile
      ;
  }
}
