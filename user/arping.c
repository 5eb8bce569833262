// arping [-c COUNT] [-w DEADLINE] [-I IF] HOST: ask who has HOST's address with
// ARP requests through create_arp, one a second, and print each reply like
// iputils arping, statistics included (also when ^C stops it). Each request
// waits a second for its reply; the last one (with -c) waits until the
// deadline, if there is one (create_arp waits 60 s at most).
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

#define MAXWAIT 60000   // create_arp's longest wait, in milliseconds

static const char usage[] =
  "usage: arping [-c COUNT] [-w DEADLINE] [-I IF] HOST\n"
  "  -c COUNT     stop after COUNT requests (default 3)\n"
  "  -w DEADLINE  stop after DEADLINE seconds, whatever the count\n"
  "  -I IF        interface (default eth0)\n";

static volatile int interrupted;

static void
oninterrupt(int sig)
{
  (void)sig;
  interrupted = 1;
}

// How long probe n (from 0) may wait for its reply, in milliseconds.
static int
probewait(int n, int count, uint64 deadline)
{
  int wait = 1000;
  if (deadline) {
    uint64 now = usecs();
    int left = now < deadline ? (deadline - now + 999) / 1000 : 0;
    wait = (n + 1 == count || left < wait) ? left : wait;
  }
  return wait < MAXWAIT ? wait : MAXWAIT;
}

int
main(int argc, char **argv)
{
  int count = 3, deadline_ms = 0, c;
  const char *ifname = "eth0";
  struct netif_info ifi;
  char ip[16], me[16], mac[18];
  uchar hw[6];

  argsinit("arping", usage);
  while ((c = getopt(argc, argv, "c:w:I:")) != -1) {
    if (c == 'c')
      count = argnum("-c", "count", optarg, 1, 0x7fffffff);
    else if (c == 'w')
      deadline_ms = argsecs("-w", "deadline", optarg, 1, 3600 * 1000);
    else if (c == 'I')
      ifname = optarg;
  }
  if (optind == argc)
    argmissing("address to ask for");
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  argiface("-I", ifname, &ifi);
  uint addr;
  if (arghost(0, "host", argv[optind], &addr) < 0) {   // a dotted quad, /etc/hosts or DNS
    fprintf(2, "arping: %s: %s\n", argv[optind], hstrerror(h_errno));
    return 2;
  }
  signal(SIGINT, oninterrupt);
  printf("ARPING %s from %s %s\n", inet_ntoa(addr, ip), inet_ntoa(ifi.ipaddr, me), ifname);

  uint64 deadline = deadline_ms ? usecs() + (uint64)deadline_ms * 1000 : 0;
  int sent = 0, received = 0;
  for (int n = 0; n < count && !interrupted; n++) {
    int wait = probewait(n, count, deadline);
    if (wait <= 0)
      break;
    uint64 start = usecs();
    sent++;
    if (create_arp(ifname, addr, hw, wait) == 0) {
      uint64 us = usecs() - start;
      received++;
      printf("Unicast reply from %s [%s]  %d.%03dms\n", ip, ether_ntoa(hw, mac),
             (int)(us / 1000), (int)(us % 1000));
      if (n + 1 < count && us < 1000000)
        sleep((1000000 - us) / 10000);   // one probe a second; ^C cuts it short
    } else if (errno == ETIMEDOUT) {
      printf("Timeout\n");
    } else if (errno != EINTR) {
      fprintf(2, "arping: %s: %s\n", ifname, strerror(errno));
      return 2;
    }
  }
  printf("Sent %d probes (%d broadcast(s))\n", sent, sent);
  printf("Received %d response(s)\n", received);
  return received > 0 ? 0 : 1;
}
