// arp: show and change the ARP neighbour cache, like Linux's net-tools arp.
//   arp [-a] [-n]              list entries
//   arp -s ADDR MAC [-i IF]    add a permanent entry (default interface eth0)
//   arp -d ADDR [-i IF]        delete an entry
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

static const char usage[] =
  "usage: arp [-a] [-n]\n"
  "       arp -s ADDRESS MAC [-i IF]\n"
  "       arp -d ADDRESS [-i IF]\n"
  "  -a, -n     list the cache (the default; addresses are always numeric)\n"
  "  -s         add a permanent entry for ADDRESS, on the interface's network\n"
  "  -d         delete the entry for ADDRESS\n"
  "  -i IF      the interface (default: eth0 for -s, all for the list)\n";

static int
list(const char *ifname)
{
  struct arpreq r;
  struct netif_info ifi;
  char ip[16], mac[18];
  int n = 0;

  if (ifname)
    argiface("-i", ifname, &ifi);
  for (int i = 0; arplist(i, &r) == 0; i++) {
    if (ifname && strcmp(r.ifname, ifname) != 0)
      continue;
    n++;
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

// A permanent entry makes sense only for a neighbour: an address on the
// interface's own network.
static int
add(const char *addrarg, const char *macarg, const char *ifname)
{
  struct netif_info ifi;
  struct arpreq r;
  char net[16], mask[16];

  memset(&r, 0, sizeof r);
  r.ipaddr = argaddr(0, "address", addrarg);
  argmac(0, "MAC address", macarg, r.mac);
  if (r.mac[0] & 1)
    argbad(0, "MAC address", macarg, "a multicast address (first byte odd), not one host's");
  argiface("-i", ifname, &ifi);
  if (ifi.type != ARPHRD_ETHER)
    usagefail("%s is not an Ethernet interface: it has no ARP neighbours", ifname);
  if (ifi.ipaddr == 0)
    usagefail("%s has no IPv4 address, so no neighbours", ifname);
  if ((r.ipaddr & ifi.netmask) != (ifi.ipaddr & ifi.netmask)) {
    char why[64];
    snprintf(why, sizeof why, "not on %s's network %s/%s", ifname,
             inet_ntoa(ifi.ipaddr & ifi.netmask, net), inet_ntoa(ifi.netmask, mask));
    argbad(0, "address", addrarg, why);
  }
  strlcpy(r.ifname, ifname, sizeof r.ifname);
  if (arpset(&r) < 0) {
    fprintf(2, "arp: %s: %s\n", addrarg, errno == ENOSPC ? "the cache is full" : strerror(errno));
    return 1;
  }
  return 0;
}

static int
del(const char *addrarg, const char *ifname)
{
  struct netif_info ifi;
  uint addr = argaddr(0, "address", addrarg);
  if (ifname)
    argiface("-i", ifname, &ifi);
  if (arpdel(addr, ifname) < 0) {
    fprintf(2, "arp: %s: %s\n", addrarg, errno == ENXIO ? "no such entry" : strerror(errno));
    return 1;
  }
  return 0;
}

int
main(int argc, char **argv)
{
  const char *ifname = 0;
  int mode = 0, c;

  argsinit("arp", usage);
  while ((c = getopt(argc, argv, "ansdi:")) != -1) {
    if (c == 'i')
      ifname = optarg;
    else if ((c == 's' || c == 'd') && mode && mode != c)
      usagefail("-s and -d cannot go together");
    else if (c == 's' || c == 'd')
      mode = c;
  }
  int operands = argc - optind, want = mode == 's' ? 2 : mode == 'd' ? 1 : 0;
  if (operands < want)
    argmissing(operands == 0 ? "address" : "MAC address");
  if (operands > want)
    argextra(argv[optind + want]);
  if (mode == 's')
    return add(argv[optind], argv[optind + 1], ifname ? ifname : "eth0");
  if (mode == 'd')
    return del(argv[optind], ifname);
  return list(ifname);
}
