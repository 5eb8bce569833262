// polltest [-r] [-t MS] [-u PORT] [-n EVENTS]: wait with poll() on standard
// input and (with -u) a UDP socket bound to PORT, and say what happened: each
// line read, each datagram received (with its sender), a timeout (with how
// long it took), end of input, or a signal. -r first tries one read of
// standard input with O_NONBLOCK set. For trying poll by hand and for the
// end-to-end tests (tests/e2e/test_poll.py).
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

static const char usage[] =
  "usage: polltest [-r] [-t MS] [-u PORT] [-n EVENTS]\n"
  "  wait on standard input (and a UDP socket) with poll() and report\n"
  "  -r         first try one non-blocking read of standard input\n"
  "  -t MS      poll's timeout in milliseconds (default -1: wait for ever)\n"
  "  -u PORT    also wait for datagrams on this UDP port\n"
  "  -n EVENTS  stop after this many polls that found something (default 1)\n";

static volatile int interrupted;

static void
onint(int sig)
{
  (void)sig;
  interrupted = 1;   // poll returns EINTR: the loop reports it
}

static int
openudp(int port)
{
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = { AF_INET, htons(port), INADDR_ANY, { 0 } };
  if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    fprintf(2, "polltest: port %d: %s\n", port, strerror(errno));
    exit(1);
  }
  return fd;
}

// One read of standard input with O_NONBLOCK, which is then taken off
// again: the file is shared with the shell, which expects to wait.
static void
tryread(void)
{
  char buf[256];
  int flags = fcntl(0, F_GETFL, 0);
  if (flags < 0 || fcntl(0, F_SETFL, flags | O_NONBLOCK) < 0) {
    perror("polltest: fcntl");
    exit(1);
  }
  int n = read(0, buf, sizeof buf - 1);
  int err = errno;
  fcntl(0, F_SETFL, flags);
  if (n < 0) {
    printf("polltest: non-blocking read: %s\n", strerror(err));
    return;
  }
  buf[n] = 0;
  printf("polltest: non-blocking read: %d bytes: %s", n, buf);
}

// Reports what revents says of entry i; 1 at end of input.
static int
report(struct pollfd *p)
{
  char buf[512], ip[16];
  if (p->fd == 0) {
    int n = read(0, buf, sizeof buf - 1);
    if (n <= 0) {
      printf("polltest: end of input (revents %x)\n", p->revents);
      return 1;
    }
    buf[n] = 0;
    printf("polltest: stdin ready (revents %x): %s%s", p->revents, buf,
           buf[n - 1] == '\n' ? "" : "\n");
    return 0;
  }
  struct sockaddr_in from;
  int len = sizeof from;
  int n = recvfrom(p->fd, buf, sizeof buf - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
  if (n < 0) {
    printf("polltest: udp (revents %x): %s\n", p->revents, strerror(errno));
    return 0;
  }
  buf[n] = 0;
  printf("polltest: udp ready (revents %x) from %s:%d: %s%s", p->revents,
         inet_ntoa(from.sin_addr, ip), ntohs(from.sin_port), buf,
         n > 0 && buf[n - 1] == '\n' ? "" : "\n");
  return 0;
}

int
main(int argc, char **argv)
{
  int timeout = -1, port = 0, events = 1, nonblock = 0, c;
  struct pollfd fds[2] = { { 0, POLLIN, 0 }, { -1, POLLIN, 0 } };

  argsinit("polltest", usage);
  while ((c = getopt(argc, argv, "rt:u:n:")) != -1) {
    if (c == 'r')
      nonblock = 1;
    else if (c == 't')
      timeout = argnum("-t", "timeout", optarg, -1, 3600 * 1000);
    else if (c == 'u')
      port = argport("-u", "port", optarg);
    else if (c == 'n')
      events = argnum("-n", "events", optarg, 1, 1000000);
  }
  if (optind < argc)
    argextra(argv[optind]);
  if (port)
    fds[1].fd = openudp(port);
  if (nonblock)
    tryread();
  signal(SIGINT, onint);
  printf("polltest: waiting on %d files\n", port ? 2 : 1);
  while (events > 0) {
    uint64 t0 = usecs();
    int n = poll(fds, 2, timeout);
    uint ms = (usecs() - t0) / 1000;
    if (n < 0 && errno == EINTR) {
      printf("polltest: interrupted after %d ms\n", ms);
      return 130;
    }
    if (n < 0) {
      perror("polltest: poll");
      return 1;
    }
    if (n == 0) {
      printf("polltest: timeout after %d ms\n", ms);
      return 0;
    }
    for (int i = 0; i < 2; i++)
      if (fds[i].revents && report(&fds[i]))
        return 0;
    events--;
  }
  return 0;
}
