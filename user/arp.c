// arp: show and change the ARP neighbour cache, like Linux's net-tools arp.
//   arp [-a] [-n]              list entries
//   arp -s ADDR MAC [-i IF]    add a permanent entry (default interface eth0)
//   arp -d ADDR [-i IF]        delete an entry
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

static void
usage(void)
{
  fprintf(2, "usage: arp [-a]\n       arp -s ADDR MAC [-i IF]\n       arp -d ADDR [-i IF]\n");
  exit(2);
}

static int
list(void)
{
  struct arpreq r;
  char ip[16], mac[18];
  int n = 0;

  for (int i = 0; arplist(i, &r) == 0; i++, n++) {
    if (r.state == ARP_INCOMPLETE) {
      printf("? (%s) at <incomplete> on %s\n", inet_ntoa(r.ipaddr, ip), r.ifname);
      continue;
    }
    printf("? (%s) at %s [ether] %son %s\n", inet_ntoa(r.ipaddr, ip), ether_ntoa(r.mac, mac),
           r.state == ARP_PERMANENT ? "PERM " : r.state == ARP_STALE ? "STALE " : "", r.ifname);
  }
  if (n == 0)
    printf("arp: no entries\n");
  return 0;
}

int
main(int argc, char **argv)
{
  const char *ifname = 0;
  struct arpreq r;

  // -i IF may come last
  if (argc >= 3 && strcmp(argv[argc - 2], "-i") == 0) {
    ifname = argv[argc - 1];
    argc -= 2;
  }
  if (argc == 1 || (argc == 2 && (strcmp(argv[1], "-a") == 0 || strcmp(argv[1], "-n") == 0)))
    return list();
  memset(&r, 0, sizeof r);
  if (strcmp(argv[1], "-s") == 0 && argc == 4) {
    if (inet_aton(argv[2], &r.ipaddr) < 0 || ether_aton(argv[3], r.mac) < 0)
      usage();
    strlcpy(r.ifname, ifname ? ifname : "eth0", sizeof r.ifname);
    if (arpset(&r) < 0) {
      fprintf(2, "arp: %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    return 0;
  }
  if (strcmp(argv[1], "-d") == 0 && argc == 3) {
    if (inet_aton(argv[2], &r.ipaddr) < 0)
      usage();
    if (arpdel(r.ipaddr, ifname) < 0) {
      fprintf(2, "arp: %s: %s\n", argv[2], errno == ENXIO ? "no such entry" : strerror(errno));
      return 1;
    }
    return 0;
  }
  usage();
  return 2;
}
