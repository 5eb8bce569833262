// udpecho [-v] PORT: a UDP echo server; every datagram goes back to its
// sender. -v prints a line per datagram.
//
// Errors are rate-limited per kind (the call and its errno): the first is
// printed at once, then a count of the repeats at most once every
// REPORT_SECS, and the counts not yet printed when SIGINT or SIGTERM ends
// the program. A flood from addresses that do not answer ARP makes most
// replies fail alike (ENOBUFS: the kernel resolves only a few addresses at
// once); a line for each filled the console, and once the console's reader
// falls behind, every character waits for the serial port.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "kernel/param.h"
#include "kernel/poll.h"
#include "user/user.h"
#include "user/net.h"

#define NKINDS      8     // kinds of error counted; beyond, each is printed
#define REPORT_SECS 10    // at most one line per kind in this many seconds

static const char usage[] =
  "usage: udpecho [-v] PORT\n"
  "  -v     print a line for each datagram\n";

static char buf[16384];

// One kind of error: its repeats since its last line, and when that was.
static struct errkind {
  const char *call;
  int err;
  uint repeats;
  int printed;              // uptime() of its last line
} kinds[NKINDS];
static int nkinds;
static volatile int stopping;

static void
onstop(int sig)
{
  (void)sig;
  stopping = 1;
}

static void
printrepeats(struct errkind *k)
{
  if (k->repeats == 0)
    return;
  fprintf(2, "udpecho: %s: %s (%u more times)\n", k->call, strerror(k->err), k->repeats);
  k->repeats = 0;
  k->printed = uptime();
}

// Print the repeats whose REPORT_SECS are up; return the ticks until the
// next kind's are, or -1 if no repeats wait.
static int
flushdue(void)
{
  int t = uptime(), wait = -1;
  for (struct errkind *k = kinds; k < kinds + nkinds; k++) {
    if (k->repeats == 0)
      continue;
    int left = k->printed + REPORT_SECS * HZ - t;
    if (left <= 0)
      printrepeats(k);
    else if (wait < 0 || left < wait)
      wait = left;
  }
  return wait;
}

// call failed with err: print it if it is a new kind, else count it.
static void
failed(const char *call, int err)
{
  struct errkind *k = kinds;
  while (k < kinds + nkinds && (k->call != call || k->err != err))
    k++;
  if (k < kinds + nkinds) {
    k->repeats++;
    flushdue();
    return;
  }
  fprintf(2, "udpecho: %s: %s\n", call, strerror(err));
  if (nkinds < NKINDS)
    kinds[nkinds++] = (struct errkind){ call, err, 0, uptime() };
}

// Before each receive: while repeats wait to be printed, wait in poll until
// fd is readable, printing them when due; with none waiting, recvfrom itself
// waits (no extra system call per datagram). 0 to receive, -1 when a signal
// has asked us to stop.
static int
waitreadable(int fd)
{
  struct pollfd p = { fd, POLLIN, 0 };
  int wait;
  while (!stopping && (wait = flushdue()) >= 0)
    if (poll(&p, 1, wait * (1000 / HZ)) > 0)
      return 0;
  return stopping ? -1 : 0;
}

int
main(int argc, char **argv)
{
  int verbose = 0, c;

  argsinit("udpecho", usage);
  while ((c = getopt(argc, argv, "v")) != -1)
    verbose = 1;
  if (optind == argc)
    argmissing("port");
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  int port = argport(0, "port", argv[optind]);

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("udpecho: socket");
    return 1;
  }
  struct sockaddr_in me = { AF_INET, htons(port), INADDR_ANY, { 0 } };
  if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
    fprintf(2, "udpecho: port %d: %s\n", port, strerror(errno));
    return 1;
  }
  signal(SIGINT, onstop);
  signal(SIGTERM, onstop);
  printf("udpecho: listening on port %d\n", port);
  while (waitreadable(fd) == 0) {
    struct sockaddr_in from;
    int fromlen = sizeof from;
    int n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      perror("udpecho: recvfrom");
      return 1;
    }
    if (verbose) {
      char ip[16];
      printf("udpecho: %d bytes from %s:%d\n", n, inet_ntoa(from.sin_addr, ip), ntohs(from.sin_port));
    }
    if (sendto(fd, buf, n, 0, (struct sockaddr *)&from, fromlen) < 0)
      failed("sendto", errno);
  }
  for (struct errkind *k = kinds; k < kinds + nkinds; k++)
    printrepeats(k);
  return 0;
}
