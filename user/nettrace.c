// nettrace [on [FILTER] | off | show]: the kernel's packet trace. With it
// on, each frame whose protocol is in FILTER (all, or some of arp, ip,
// icmp, udp, tcp, comma-separated) logs one line per layer it passes;
// `show` prints the lines not yet shown. Alone, it says whether it is on.
#include "kernel/types.h"
#include "kernel/errno.h"
#include "kernel/nettrace.h"
#include "user/user.h"

#define NELEM(x) (sizeof(x) / sizeof((x)[0]))

static const char usage[] =
  "usage: nettrace [on [FILTER] | off | show]\n"
  "  on [FILTER]  trace the frames of FILTER: all (the default), or some of\n"
  "               arp, ip, icmp, udp, tcp, comma-separated\n"
  "  off          stop tracing (the lines not shown yet stay)\n"
  "  show         print the trace's lines not shown yet\n"
  "  (none)       say whether the trace is on, and for what\n";

static const struct {
  const char *name;
  int mask;
} names[] = {
  { "all", NT_ALL }, { "arp", NT_ARP }, { "ip", NT_IP }, { "icmp", NT_ICMP },
  { "udp", NT_UDP }, { "tcp", NT_TCP },
};

// "icmp,udp" -> its mask; usage error (exits) if a word is unknown.
static int
parse(const char *filter)
{
  char word[16];
  int mask = 0;
  const char *p = filter;
  for (;;) {
    int n = 0;
    while (p[n] && p[n] != ',')
      n++;
    uint i = 0;
    if (n > 0 && n < (int)sizeof word) {
      memmove(word, p, n);
      word[n] = 0;
      for (; i < NELEM(names); i++)
        if (strcmp(word, names[i].name) == 0)
          break;
    }
    if (n == 0 || n >= (int)sizeof word || i == NELEM(names))
      argbad(0, "filter", filter, "want all, or arp, ip, icmp, udp, tcp, comma-separated");
    mask |= names[i].mask;
    if (p[n] == 0)
      return mask;
    p += n + 1;
  }
}

static void
status(void)
{
  int mask = nettrace(-1);
  if (mask == 0) {
    printf("nettrace: off\n");
    return;
  }
  printf("nettrace: on for");
  if (mask == NT_ALL) {
    printf(" all\n");
    return;
  }
  for (uint i = 1; i < NELEM(names); i++)
    if (mask & names[i].mask)
      printf(" %s", names[i].name);
  printf("\n");
}

static int
show(void)
{
  static char buf[4096];
  int n;
  while ((n = nettraceread(buf, sizeof buf)) > 0)
    write(1, buf, n);
  if (n < 0) {
    fprintf(2, "nettrace: cannot read the trace: %s\n", strerror(errno));
    return 1;
  }
  return 0;
}

int
main(int argc, char **argv)
{
  argsinit("nettrace", usage);
  arghelp(argc, argv);
  if (argc == 1) {
    status();
    return 0;
  }
  int on = strcmp(argv[1], "on") == 0;
  if (argc > 2 + on)
    argextra(argv[2 + on]);
  if (on) {
    nettrace(argc > 2 ? parse(argv[2]) : NT_ALL);
    status();
    return 0;
  }
  if (strcmp(argv[1], "off") == 0) {
    nettrace(0);
    status();
    return 0;
  }
  if (strcmp(argv[1], "show") == 0)
    return show();
  usagefail("unknown command '%s' (on, off or show)", argv[1]);
}
