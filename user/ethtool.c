// ethtool: what a network card does, like Linux's ethtool.
//   ethtool -k IF   the offloads: the checksum and segmentation work the
//                   card does for the stack (fixed by the driver and what
//                   the device offers; not settable here)
//   ethtool -i IF   the driver
#include "kernel/types.h"
#include "user/user.h"
#include "user/net.h"

static const char usage[] =
  "usage: ethtool -k IF   show the interface's offloads\n"
  "       ethtool -i IF   show its driver\n";

static const struct { uint bit; const char *name; } offloads[] = {
  { NETIF_F_RXCSUM, "rx-checksumming" },
  { NETIF_F_TXCSUM, "tx-checksumming" },
  { NETIF_F_TSO, "tcp-segmentation-offload" },
};

static void
showoffloads(const struct netif_info *in)
{
  printf("Features for %s:\n", in->name);
  for (uint i = 0; i < sizeof offloads / sizeof offloads[0]; i++)
    printf("%s: %s [fixed]\n", offloads[i].name, (in->features & offloads[i].bit) ? "on" : "off");
}

static void
showdriver(const struct netif_info *in)
{
  printf("driver: %s\n", in->driver[0] ? in->driver : in->type == ARPHRD_LOOPBACK ? "loopback" : "?");
}

int
main(int argc, char **argv)
{
  struct netif_info info;
  int c, what = 0;

  argsinit("ethtool", usage);
  while ((c = getopt(argc, argv, "ki")) != -1)
    what = c;
  if (what == 0)
    usagefail("missing option: -k or -i");
  if (optind == argc)
    argmissing("interface");
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  argiface(0, argv[optind], &info);
  if (what == 'k')
    showoffloads(&info);
  else
    showdriver(&info);
  return 0;
}
