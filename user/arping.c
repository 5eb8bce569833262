// arping [-c COUNT] [-w TIMEOUT_MS] [-I IF] ADDR: ask who has ADDR with ARP
// requests through create_arp, one a second, and print each reply like
// iputils arping.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"
#include "user/resolv.h"

static void
usage(void)
{
  fprintf(2, "usage: arping [-c COUNT] [-w TIMEOUT_MS] [-I IF] HOST\n");
  exit(2);
}

int
main(int argc, char **argv)
{
  int count = 3, timeout = 1000, i;
  const char *ifname = "eth0";
  struct netif_info ifi;
  char ip[16], me[16], mac[18];
  uint addr;
  uchar hw[6];

  for (i = 1; i < argc - 1 && argv[i][0] == '-'; i += 2) {
    if (strcmp(argv[i], "-c") == 0)
      count = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-w") == 0)
      timeout = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-I") == 0)
      ifname = argv[i + 1];
    else
      usage();
  }
  if (i != argc - 1 || count <= 0 || timeout <= 0)
    usage();
  if (resolve(argv[i], &addr) < 0) {   // a dotted quad, /etc/hosts or DNS
    fprintf(2, "arping: %s: %s\n", argv[i], hstrerror(h_errno));
    return 2;
  }
  if (if_nametoindex2(ifname, &ifi) < 0) {
    fprintf(2, "arping: %s: no such interface\n", ifname);
    return 2;
  }
  printf("ARPING %s from %s %s\n", inet_ntoa(addr, ip), inet_ntoa(ifi.ipaddr, me), ifname);

  int received = 0;
  for (int n = 0; n < count; n++) {
    uint64 start = usecs();
    if (create_arp(ifname, addr, hw, timeout) == 0) {
      uint64 us = usecs() - start;
      received++;
      printf("Unicast reply from %s [%s]  %d.%03dms\n", ip, ether_ntoa(hw, mac),
             (int)(us / 1000), (int)(us % 1000));
      if (n + 1 < count && us < 1000000)
        sleep((1000000 - us) / 10000);   // one probe a second
    } else if (errno == ETIMEDOUT) {
      printf("Timeout\n");
    } else {
      fprintf(2, "arping: %s\n", strerror(errno));
      return 2;
    }
  }
  printf("Sent %d probes (%d broadcast(s))\n", count, count);
  printf("Received %d response(s)\n", received);
  return received > 0 ? 0 : 1;
}
