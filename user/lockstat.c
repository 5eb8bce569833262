// lockstat [-a] [-o]: the kernel's lock statistics per lock class (a class
// is every lock initialised with one name; kernel/lockdep.c), in columns
// like Linux's /proc/lock_stat, busiest first; classes never taken are left
// out unless -a. -o prints instead the lock-order graph the kernel has
// learnt: each "HELD -> TAKEN" pair of classes seen, with the return
// addresses (`addr2line -f -e build/kernel.elf PC`) that first took each.
#include "kernel/types.h"
#include "kernel/lockstat.h"
#include "user/user.h"

#define MAXCLASS 128
#define MAXEDGE  1024

static const char usage[] =
  "usage: lockstat [-a] [-o]\n"
  "  -a  also the classes never taken\n"
  "  -o  the lock order seen: HELD -> TAKEN, with the sites that took them\n";

static struct lockstat ls[MAXCLASS];

static int
loadclasses(void)
{
  int n = lockstat(ls, MAXCLASS);
  if (n < 0) {
    perror("lockstat");
    exit(1);
  }
  return n < MAXCLASS ? n : MAXCLASS;
}

// Busiest first: a selection sort of an index (a few dozen classes).
static void
sortbyuse(int *order, int n)
{
  for (int i = 0; i < n; i++)
    order[i] = i;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (ls[order[j]].acquired > ls[order[i]].acquired) {
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
}

static int
showstats(int all)
{
  int n = loadclasses();
  int order[MAXCLASS];
  sortbyuse(order, n);
  printf("%-16s %5s %12s %11s %11s %11s\n",
         "class name", "kind", "acquisitions", "contentions", "spins", "sleeps");
  for (int k = 0; k < n; k++) {
    struct lockstat *s = &ls[order[k]];
    if (!all && s->acquired == 0)
      continue;
    printf("%-16s %5s %12u %11u %11u %11u\n", s->name, s->sleeplock ? "sleep" : "spin",
           s->acquired, s->contended, s->spins, s->sleeps);
  }
  return 0;
}

static int
showorder(void)
{
  int n = loadclasses();
  struct lockedge *e = malloc(MAXEDGE * sizeof *e);
  if (e == 0) {
    fprintf(2, "lockstat: out of memory\n");
    return 1;
  }
  int m = lockorder(e, MAXEDGE);
  if (m < 0) {
    perror("lockstat");
    return 1;
  }
  if (m > MAXEDGE)
    m = MAXEDGE;
  printf("%-16s    %-16s %10s %10s\n", "held", "taken", "held at", "taken at");
  for (int i = 0; i < m; i++) {
    const char *h = e[i].held < n ? ls[e[i].held].name : "?";
    const char *t = e[i].taken < n ? ls[e[i].taken].name : "?";
    printf("%-16s -> %-16s 0x%08x 0x%08x\n", h, t, e[i].heldpc, e[i].takenpc);
  }
  printf("lockstat: %d edges between %d classes\n", m, n);
  return 0;
}

int
main(int argc, char **argv)
{
  int all = 0, order = 0, c;
  argsinit("lockstat", usage);
  while ((c = getopt(argc, argv, "ao")) != -1) {
    if (c == 'a')
      all = 1;
    else if (c == 'o')
      order = 1;
  }
  if (optind < argc)
    argextra(argv[optind]);
  return order ? showorder() : showstats(all);
}
