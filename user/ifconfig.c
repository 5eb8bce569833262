// ifconfig [IF]: list network interfaces, shaped like Linux's net-tools
// ifconfig: flags, MTU, addresses and counters.
// ifconfig IF [ADDR] [netmask MASK] [up|down] [promisc|-promisc] [mtu N]:
// configure one.
#include "kernel/types.h"
#include "user/user.h"
#include "user/net.h"

static const char usage[] =
  "usage: ifconfig [-a] [IF]\n"
  "       ifconfig IF [ADDRESS] [netmask MASK] [up|down] [promisc|-promisc] [mtu N]\n"
  "  with no settings: show every interface, or IF\n"
  "  ADDRESS, netmask  IPv4 address and netmask (contiguous, like 255.255.255.0)\n"
  "  up, down          bring the interface up or down\n"
  "  promisc           receive frames for every MAC address (-promisc: stop)\n"
  "  mtu N             largest IP packet, 68 to 1500\n";

static const struct { uint bit; const char *name; } flagnames[] = {
  { IFF_UP, "UP" }, { IFF_BROADCAST, "BROADCAST" }, { IFF_LOOPBACK, "LOOPBACK" },
  { IFF_RUNNING, "RUNNING" }, { IFF_PROMISC, "PROMISC" }, { IFF_MULTICAST, "MULTICAST" },
};

static void
printflags(uint flags)
{
  int first = 1;
  printf("flags=%u<", flags);
  for (uint i = 0; i < sizeof flagnames / sizeof flagnames[0]; i++) {
    if (flags & flagnames[i].bit) {
      printf("%s%s", first ? "" : ",", flagnames[i].name);
      first = 0;
    }
  }
  printf(">");
}

static void
printip(const char *label, uint addr)
{
  uint a = ntohl(addr);
  printf("%s %d.%d.%d.%d", label, a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void
show(struct netif_info *in)
{
  char mac[18];
  struct netif_stats *s = &in->stats;

  printf("%s: ", in->name);
  printflags(in->flags);
  printf("  mtu %u\n", in->mtu);
  if (in->ipaddr) {
    printf("        ");
    printip("inet", in->ipaddr);
    printip("  netmask", in->netmask);
    printf("\n");
  }
  if (in->type == ARPHRD_LOOPBACK)
    printf("        loop  (Local Loopback)\n");
  else
    printf("        ether %s  (Ethernet)  driver %s\n", ether_ntoa(in->mac, mac),
           in->driver[0] ? in->driver : "?");
  printf("        RX packets %llu  bytes %llu\n", s->rx_packets, s->rx_bytes);
  printf("        RX errors %u  dropped %u  overruns %u  nobuf %u  ringfull %u\n",
         s->rx_errors, s->rx_dropped, s->rx_overruns, s->rx_nobuf, s->rx_ringfull);
  printf("        TX packets %llu  bytes %llu\n", s->tx_packets, s->tx_bytes);
  printf("        TX errors %u  dropped %u\n", s->tx_errors, s->tx_dropped);
  printf("        interrupts %u\n\n", s->interrupts);
}

// The value after a keyword such as "netmask"; missing is a usage error.
static const char *
value(int argc, char **argv, int *i, const char *what)
{
  if (*i + 1 >= argc)
    argmissing(what);
  return argv[++*i];
}

static int
configure(const char *ifname, int argc, char **argv)
{
  struct netif_conf c;
  struct netif_info cur;

  argiface(0, ifname, &cur);
  memset(&c, 0, sizeof c);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "up") == 0)
      c.set |= NETIF_SET_UP;
    else if (strcmp(a, "down") == 0)
      c.set |= NETIF_SET_DOWN;
    else if (strcmp(a, "promisc") == 0)
      c.set |= NETIF_SET_PROMISC;
    else if (strcmp(a, "-promisc") == 0)
      c.set |= NETIF_SET_NOPROMISC;
    else if (strcmp(a, "netmask") == 0)
      c.set |= NETIF_SET_ADDR, c.netmask = argmask("netmask", "netmask",
                                                   value(argc, argv, &i, "netmask value"));
    else if (strcmp(a, "mtu") == 0)
      c.set |= NETIF_SET_MTU, c.mtu = argnum("mtu", "MTU", value(argc, argv, &i, "MTU value"),
                                             68, 1500);
    else if (isdigit(a[0]) && !(c.set & NETIF_SET_ADDR && c.ipaddr))
      c.set |= NETIF_SET_ADDR, c.ipaddr = argaddr(0, "address", a);
    else
      usagefail("unknown setting '%s'", a);
  }
  if ((c.set & NETIF_SET_ADDR) && c.ipaddr == 0)
    c.ipaddr = cur.ipaddr;
  if ((c.set & NETIF_SET_ADDR) && c.netmask == 0) {
    uint a = ntohl(c.ipaddr) >> 24;   // classful default, as ifconfig does
    c.netmask = htonl(a < 128 ? 0xFF000000 : a < 192 ? 0xFFFF0000 : 0xFFFFFF00);
  }
  if (netifset(ifname, &c) < 0) {
    fprintf(2, "ifconfig: %s: %s\n", ifname, strerror(errno));
    return 1;
  }
  return 0;
}

int
main(int argc, char **argv)
{
  struct netif_info info;

  argsinit("ifconfig", usage);
  // Not getopt: "-promisc" is a setting. Only -a (list all) and -h.
  arghelp(argc, argv);
  int i = 1;
  if (i < argc && strcmp(argv[i], "-a") == 0)
    i++;
  if (i < argc && argv[i][0] == '-')
    usagefail("invalid option '%s'", argv[i]);
  if (argc - i > 1)
    return configure(argv[i], argc - i - 1, argv + i + 1);
  if (argc - i == 1) {
    argiface(0, argv[i], &info);
    show(&info);
    return 0;
  }
  for (int n = 1; netifget(n, &info) == 0; n++)
    show(&info);
  return 0;
}
