// Lock classes, the lock-order checker, and lock statistics.
//
// A lock class is every lock initialised with one name: "socket" is the
// lock of every socket, "eth0" the counters' lock of one interface. As the
// kernel runs, the checker learns which class is taken while which is held,
// as edges held -> taken of a graph of classes, each with the two
// acquisition sites (return addresses into the callers of acquire) that
// first showed it. An edge that closes a cycle means two code paths take
// the same locks in opposite orders. On one CPU they take turns and nothing
// happens; on several they can deadlock, whether or not this run did. So the
// checker panics at once and names the sites of both orders, as Linux's
// lockdep does (it does much more: interrupt-safety states, read locks,
// nesting annotations).
//
// Bounded, and no allocation in acquire: NLOCKCLASS classes (more share
// class 0, "(other)", which is counted but not checked), an edge matrix of
// NLOCKCLASS^2 site pairs (32 KiB), NLOCKHELD locks held per CPU and
// NSLEEPHELD sleeplocks per process (beyond those, the extra are not
// tracked). A known edge costs one load per held lock; a new one (a few
// dozen per boot) a breadth-first search under the checker's own lock, a
// bare xchg word, since the checker cannot use the locks it checks.
//
// Limits, documented in docs/kernel.md: taking two locks of one class
// (two sockets, two pipes) is not checked; sleeplocks held by the process
// count only where interrupts were on before the acquire (in process
// context: an interrupt handler's locks do not nest in the interrupted
// process's); compiled out with -DLOCKDEP_OFF (the statistics stay).

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/x86.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/lockstat.h"

// -DLOCKDEP_OFF compiles the checker out (a constant, so that the code
// still compiles and the compiler drops it).
#ifdef LOCKDEP_OFF
#define LOCKDEP 0
#else
#define LOCKDEP 1
#endif

struct lockclass {
  char name[LOCKNAME];
  int sleeplock;
};

struct lockpcs {
  uint heldpc;
  uint takenpc;    // nonzero: the edge exists (written last)
};

static struct {
  uint lock;                        // a bare xchg word, never a spinlock
  int n;                            // classes in use; 0 is "(other)"
  int overflow;                     // classes that did not fit
  int off;                          // after a report: the panic takes locks too
  struct lockclass c[NLOCKCLASS];
  struct lockpcs edge[NLOCKCLASS][NLOCKCLASS];
  int parent[NLOCKCLASS];           // the search's, here to spare the stack
  int queue[NLOCKCLASS];
  int path[NLOCKCLASS];
} dep = { .n = 1, .c = { { "(other)", 0 } } };

// Per CPU, so that counting needs no atomic instruction: the CPU's
// interrupts are off in acquire.
static struct lockcount {
  uint acquired, contended, spins, sleeps;
} counts[NCPU][NLOCKCLASS];

static void
deplock(void)
{
  while (xchg(&dep.lock, 1) != 0)
    ;
  __sync_synchronize();
}

static void
depunlock(void)
{
  __sync_synchronize();
  asm volatile("movl $0, %0" : "+m"(dep.lock) : );
}

// The class of this name (and kind), made on first use; 0 when full.
static int
classfind(const char *name, int sleeplock)
{
  int i;
  if (name == 0)
    name = "?";
  pushcli();
  deplock();
  for (i = 1; i < dep.n; i++)
    if (dep.c[i].sleeplock == sleeplock && strncmp(dep.c[i].name, name, LOCKNAME - 1) == 0)
      break;
  if (i == dep.n) {
    if (dep.n < NLOCKCLASS) {
      safestrcpy(dep.c[i].name, name, LOCKNAME);
      dep.c[i].sleeplock = sleeplock;
      dep.n++;
    } else {
      dep.overflow++;
      i = 0;
    }
  }
  depunlock();
  popcli();
  return i;
}

// lk->class holds class + 1 so that a zeroed lock reads as "not looked up".
int
lockclassof(struct spinlock *lk)
{
  if (lk->class == 0)
    lk->class = classfind(lk->name, 0) + 1;
  return lk->class - 1;
}

int
sleeplockclassof(struct sleeplock *lk)
{
  if (lk->class == 0)
    lk->class = classfind(lk->name, 1) + 1;
  return lk->class - 1;
}

// Is there a path src -> ... -> dst? Fills path[] with it (src first);
// its length, 0 if none. Breadth first, so the path is a shortest one.
// Called with dep.lock held.
static int
deppath(int src, int dst, int *path)
{
  int head = 0, tail = 0, n = 0;
  for (int i = 0; i < NLOCKCLASS; i++)
    dep.parent[i] = -1;
  dep.parent[src] = src;
  dep.queue[tail++] = src;
  while (head < tail && dep.parent[dst] < 0) {
    int u = dep.queue[head++];
    for (int v = 0; v < dep.n; v++)
      if (dep.parent[v] < 0 && dep.edge[u][v].takenpc) {
        dep.parent[v] = u;
        dep.queue[tail++] = v;
      }
  }
  if (dep.parent[dst] < 0)
    return 0;
  for (int v = dst; v != src; v = dep.parent[v])
    path[n++] = v;
  path[n++] = src;
  for (int i = 0; i < n / 2; i++) {
    int t = path[i];
    path[i] = path[n - 1 - i];
    path[n - 1 - i] = t;
  }
  return n;
}

// Taking `to` at pc while holding h closes the cycle h -> to -> path ->
// h: say which sites took the locks in each order, then panic.
static void
depreport(struct lockheld *h, int to, uint pc, int *path, int n)
{
  cprintf("\nlockdep: lock order inversion on cpu%d\n", cpuid());
  cprintf("lockdep: taking \"%s\" at %p while holding \"%s\" (taken at %p)\n",
          dep.c[to].name, pc, dep.c[h->class].name, h->pc);
  cprintf("lockdep: but the opposite order was seen before:\n");
  for (int i = 0; i + 1 < n; i++) {
    struct lockpcs *e = &dep.edge[path[i]][path[i + 1]];
    cprintf("lockdep:   \"%s\" taken at %p while holding \"%s\" (taken at %p)\n",
            dep.c[path[i + 1]].name, e->takenpc, dep.c[path[i]].name, e->heldpc);
  }
  panic("lock order inversion: \"%s\" -> \"%s\"", dep.c[h->class].name, dep.c[to].name);
}

// Record the edge h -> to; a new one must not close a cycle.
static void
depedge(struct lockheld *h, int to, uint pc)
{
  int from = h->class;
  if (from == 0 || from == to || dep.edge[from][to].takenpc)
    return;
  deplock();
  if (dep.edge[from][to].takenpc == 0) {
    int n = deppath(to, from, dep.path);
    if (n > 0) {
      dep.off = 1;   // dep.path stays as it is: nothing else searches now
      depunlock();
      depreport(h, to, pc, dep.path, n);
    }
    dep.edge[from][to].heldpc = h->pc;
    __sync_synchronize();
    dep.edge[from][to].takenpc = pc;
  }
  depunlock();
}

// Before this CPU takes a lock of class cl at pc (interrupts off): every
// class it holds, and every sleeplock its process holds if this is process
// context, must be allowed before cl.
void
lockdep_check(struct cpu *c, int cl, uint pc)
{
  if (!LOCKDEP || dep.off || cl == 0)
    return;
  for (int i = 0; i < c->nheld; i++)
    depedge(&c->held[i], cl, pc);
  struct proc *p = c->proc;
  if (c->intena && p)
    for (int i = 0; i < p->nsheld; i++)
      depedge(&p->sheld[i], cl, pc);
}

void
lockdep_push(struct lockheld *tab, int *n, int max, void *lk, int cl, uint pc)
{
  if (!LOCKDEP || *n >= max)
    return;   // untracked: its release finds nothing to pop
  tab[*n].lk = lk;
  tab[*n].class = cl;
  tab[*n].pc = pc;
  (*n)++;
}

// Locks are not always released in the order taken (sleep() takes the
// process table's lock, then lets go of the caller's): search from the top.
void
lockdep_pop(struct lockheld *tab, int *n, void *lk)
{
  for (int i = LOCKDEP ? *n - 1 : -1; i >= 0; i--)
    if (tab[i].lk == lk) {
      for (; i + 1 < *n; i++)
        tab[i] = tab[i + 1];
      (*n)--;
      return;
    }
}

// Count an acquisition by this CPU (interrupts off).
void
lockstat_count(struct cpu *c, int cl, uint spins, uint sleeps)
{
  struct lockcount *k = &counts[c - cpus][cl];
  k->acquired++;
  if (spins || sleeps)
    k->contended++;
  k->spins += spins;
  k->sleeps += sleeps;
}

// Class i's name and counts (summed over CPUs); the number of classes.
int
lockstat_get(int i, struct lockstat *out)
{
  if (i < 0 || i >= dep.n)
    return dep.n;
  memset(out, 0, sizeof *out);
  safestrcpy(out->name, dep.c[i].name, LOCKNAME);
  out->sleeplock = dep.c[i].sleeplock;
  for (int cpu = 0; cpu < NCPU; cpu++) {
    out->acquired += counts[cpu][i].acquired;
    out->contended += counts[cpu][i].contended;
    out->spins += counts[cpu][i].spins;
    out->sleeps += counts[cpu][i].sleeps;
  }
  return dep.n;
}

// The k-th edge of the order graph (by held class, then taken); 0 past
// the last.
int
lockorder_get(int k, struct lockedge *out)
{
  for (int a = 0; a < dep.n; a++)
    for (int b = 0; b < dep.n; b++) {
      if (dep.edge[a][b].takenpc == 0 || k-- > 0)
        continue;
      out->held = a;
      out->taken = b;
      out->heldpc = dep.edge[a][b].heldpc;
      out->takenpc = dep.edge[a][b].takenpc;
      return 1;
    }
  return 0;
}

// selftest=lockorder: take two locks in one order, then in the other. The
// checker must panic at the second, naming a site in each function.
static struct spinlock selfa, selfb;

static void __attribute__((noinline))
lockorder_ab(void)
{
  acquire(&selfa);
  acquire(&selfb);
  release(&selfb);
  release(&selfa);
}

static void __attribute__((noinline))
lockorder_ba(void)
{
  acquire(&selfb);
  acquire(&selfa);
  release(&selfa);
  release(&selfb);
}

void
lockdep_selftest(void)
{
  initlock(&selfa, "selftestA");
  initlock(&selfb, "selftestB");
  cprintf("selftest: taking selftestA then selftestB, then the other way round\n");
  lockorder_ab();
  lockorder_ba();
  cprintf("selftest: no lock order inversion reported\n");
}
