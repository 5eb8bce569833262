// The kernel's side of the network stack's seam (kernel/net/netos.h): the
// few things the stack needs that are not already kernel primitives under
// the same names. Everything that touches a process or a CPU is here.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/mmu.h"
#include "kernel/x86.h"
#include "kernel/proc.h"
#include "kernel/net/netos.h"

int
net_interrupted(void)
{
  return killed(myproc());
}

int
net_pid(void)
{
  return myproc()->pid;
}

// Interrupts off around the look-up (mycpu insists): the answer may be stale
// once they are back on, which is all a trace line needs.
int
net_cpu(void)
{
  pushcli();
  int c = cpuid();
  popcli();
  return c;
}

int
net_copyin(void *dst, uint usrc, uint n)
{
  return copyin(myproc()->pgdir, dst, usrc, n);
}

int
net_copyout(uint udst, const void *src, uint n)
{
  return copyout(myproc()->pgdir, udst, src, n);
}

int
net_useraccessible(uint uva, uint n, int write)
{
  return uvmaccessible(myproc()->pgdir, uva, n, write);
}

void
net_thread(const char *name, void (*fn)(void *), void *arg)
{
  if (kthread_create(name, fn, arg) == 0)
    panic("net_thread: cannot start %s", name);
}

// Called with interrupts off (from a handler, or under a spinlock): the
// interrupted process yields at the end of the trap.
void
net_preempt(void)
{
  mycpu()->needresched = 1;
}

#ifdef LATMARK
void
net_latmark(int n)
{
  lapicmark(n);
}
#endif

void
net_yield(void)
{
  yield();
}

int
net_intrson(void)
{
  return (readeflags() & FL_IF) != 0;
}
