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

static void
usage(void)
{
  fprintf(2, "usage: route [-n]\n"
             "       route add|del default [gw GATEWAY] [dev IF]\n"
             "       route add|del -net NET netmask MASK [gw GATEWAY] [dev IF]\n"
             "       route add|del -host ADDR [gw GATEWAY] [dev IF]\n");
  exit(2);
}

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

static void
needaddr(const char *s, uint *out)
{
  if (inet_aton(s, out) < 0) {
    fprintf(2, "route: %s: bad address\n", s);
    exit(2);
  }
}

int
main(int argc, char **argv)
{
  struct rtentry rt;
  int i = 3;

  if (argc == 1 || (argc == 2 && strcmp(argv[1], "-n") == 0))
    return show();
  if (argc < 3 || (strcmp(argv[1], "add") && strcmp(argv[1], "del")))
    usage();
  memset(&rt, 0, sizeof rt);
  if (strcmp(argv[2], "default") == 0) {
    i = 3;
  } else if (strcmp(argv[2], "-net") == 0 && argc >= 6 && strcmp(argv[4], "netmask") == 0) {
    needaddr(argv[3], &rt.dst);
    needaddr(argv[5], &rt.mask);
    i = 6;
  } else if (strcmp(argv[2], "-host") == 0 && argc >= 4) {
    needaddr(argv[3], &rt.dst);
    rt.mask = 0xFFFFFFFF;
    i = 4;
  } else {
    usage();
  }
  for (; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "gw") == 0)
      needaddr(argv[i + 1], &rt.gateway);
    else if (strcmp(argv[i], "dev") == 0)
      strlcpy(rt.ifname, argv[i + 1], sizeof rt.ifname);
    else
      usage();
  }
  if (i != argc)
    usage();
  int err = strcmp(argv[1], "add") == 0 ? routeadd(&rt) : routedel(&rt);
  if (err < 0) {
    fprintf(2, "route: %s\n", errno == ESRCH ? "no such route" : strerror(errno));
    return 1;
  }
  return 0;
}
