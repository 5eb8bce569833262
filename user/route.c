// route: show or change the IPv4 routing table, like net-tools route.
//   route [-n]
//   route add default gw GATEWAY [dev IF]
//   route add -net NET netmask MASK [gw GATEWAY] [dev IF]
//   route add -host ADDR [gw GATEWAY] [dev IF]
//   route del default | -net NET netmask MASK | -host ADDR
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

static const char usage[] =
  "usage: route [-n]\n"
  "       route add|del default [gw GATEWAY] [dev IF]\n"
  "       route add|del -net NET netmask MASK [gw GATEWAY] [dev IF]\n"
  "       route add|del -host ADDRESS [gw GATEWAY] [dev IF]\n"
  "  -n   show the table (addresses are always numeric)\n";

static int
show(void)
{
  struct rtentry rt;
  char a[16], b[16], c[16];

  printf("Kernel IP routing table\n");
  printf("Destination     Gateway         Genmask         Flags Iface\n");
  for (int i = 0; routelist(i, &rt) == 0; i++) {
    char flags[4] = "U", *f = flags + 1;
    if (rt.flags & RTF_GATEWAY)
      *f++ = 'G';
    if (rt.flags & RTF_HOST)
      *f++ = 'H';
    *f = 0;
    printf("%-15s %-15s %-15s %-5s %s\n", inet_ntoa(rt.dst, a), inet_ntoa(rt.gateway, b),
           inet_ntoa(rt.mask, c), flags, rt.ifname);
  }
  return 0;
}

// The word after a keyword ("gw", "netmask"...); missing is a usage error.
static const char *
after(int argc, char **argv, int i, const char *what)
{
  if (i + 1 >= argc)
    argmissing(what);
  return argv[i + 1];
}

// The destination: "default", "-net NET netmask MASK" or "-host ADDRESS".
// Returns the index of the first word after it.
static int
destination(int argc, char **argv, struct rtentry *rt)
{
  if (argc < 3)
    argmissing("destination (default, -net or -host)");
  if (strcmp(argv[2], "default") == 0)
    return 3;
  if (strcmp(argv[2], "-host") == 0) {
    rt->dst = argaddr("-host", "address", after(argc, argv, 2, "host address"));
    rt->mask = 0xFFFFFFFF;
    return 4;
  }
  if (strcmp(argv[2], "-net") != 0)
    usagefail("unknown destination '%s' (default, -net or -host)", argv[2]);
  const char *net = after(argc, argv, 2, "network address");
  rt->dst = argaddr("-net", "network", net);
  if (argc < 5 || strcmp(argv[4], "netmask") != 0)
    argmissing("netmask MASK after -net NET");
  rt->mask = argmask("netmask", "netmask", after(argc, argv, 4, "netmask value"));
  if (rt->dst & ~rt->mask)
    argbad("-net", "network", net, "has bits outside the netmask");
  return 6;
}

// What the kernel's refusal means for this route.
static const char *
why(const struct rtentry *rt)
{
  static char buf[64];
  char gw[16];
  switch (errno) {
  case ESRCH:
    return "no such route";
  case EEXIST:
    return "that route exists already (route del it first)";
  case ENOSPC:
    return "the routing table is full";
  case ENETUNREACH:
    if (!rt->gateway)
      return "no gw GATEWAY or dev IF to reach it through";
    snprintf(buf, sizeof buf, "gateway %s is not on a connected network",
             inet_ntoa(rt->gateway, gw));
    return buf;
  }
  return strerror(errno);
}

int
main(int argc, char **argv)
{
  struct rtentry rt;
  struct netif_info ifi;

  argsinit("route", usage);
  arghelp(argc, argv);
  if (argc == 1 || (argc == 2 && strcmp(argv[1], "-n") == 0))
    return show();
  if (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "del") != 0)
    usagefail("unknown command '%s' (add or del)", argv[1]);
  memset(&rt, 0, sizeof rt);
  for (int i = destination(argc, argv, &rt); i < argc; i += 2) {
    if (strcmp(argv[i], "gw") == 0)
      rt.gateway = argaddr("gw", "gateway", after(argc, argv, i, "gateway address"));
    else if (strcmp(argv[i], "dev") != 0)
      argextra(argv[i]);
    else if (argiface("dev", after(argc, argv, i, "interface"), &ifi) >= 0)
      strlcpy(rt.ifname, ifi.name, sizeof rt.ifname);
  }
  int err = strcmp(argv[1], "add") == 0 ? routeadd(&rt) : routedel(&rt);
  if (err < 0) {
    fprintf(2, "route: %s\n", why(&rt));
    return 1;
  }
  return 0;
}
