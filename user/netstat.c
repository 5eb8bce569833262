// netstat [-m]: network counters. -m shows the packet buffer pool, like
// BSD's netstat -m for mbufs.
#include "kernel/types.h"
#include "user/user.h"
#include "user/net.h"

int
main(int argc, char **argv)
{
  struct netstat_info ns;
  int membufs = argc > 1 && strcmp(argv[1], "-m") == 0;

  if (netstat(&ns) < 0) {
    perror("netstat");
    return 1;
  }
  if (membufs) {
    printf("%u/%u/%u pbufs in use/free/total\n",
           ns.pbuf_total - ns.pbuf_free, ns.pbuf_free, ns.pbuf_total);
    return 0;
  }
  printf("Ethernet:\n");
  printf("    %u frames too short\n", ns.ether_rx_badlen);
  printf("    %u frames for other hosts dropped\n", ns.ether_rx_otherhost);
  printf("    %u frames of unknown type dropped\n", ns.ether_rx_unknown);
  printf("Arp:\n");
  printf("    %u packets received, %u malformed, %u not for us\n",
         ns.arp_rx, ns.arp_rx_bad, ns.arp_rx_notforus);
  printf("    %u requests answered, %u replies received, %u requests sent\n",
         ns.arp_requests_answered, ns.arp_replies_rx, ns.arp_requests_tx);
  printf("    %u resolutions failed, %u queued packets dropped, %u evictions, %u entries\n",
         ns.arp_failed, ns.arp_queue_drops, ns.arp_evictions, ns.arp_entries);
  printf("Buffers:\n");
  printf("    %u/%u/%u pbufs in use/free/total\n",
         ns.pbuf_total - ns.pbuf_free, ns.pbuf_free, ns.pbuf_total);
  return 0;
}
