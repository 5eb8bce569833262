// Spinlocks, safe on several CPUs: xchg for the lock word, interrupts off on
// the holding CPU so that an interrupt handler cannot deadlock against it.
// Every acquire is counted for its lock class and shown to the lock-order
// checker (kernel/lockdep.c) before it spins, so that an inversion is
// reported rather than deadlocked on.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/x86.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"

void
initlock(struct spinlock *lk, char *name)
{
  lk->name = name;
  lk->locked = 0;
  lk->cpu = 0;
  lk->class = 0;
  lockclassof(lk);
}

void
acquire(struct spinlock *lk)
{
  uint pc = (uint)__builtin_return_address(0);
  uint spins = 0;
  pushcli();
  struct cpu *c = mycpu();
  // Checked directly (not with holding(), which would nest another pushcli):
  // this runs for every lock taken, and is costly under emulation.
  if (lk->locked && lk->cpu == c)
    panic("acquire %s: already held", lk->name);
  int cl = lockclassof(lk);
  lockdep_check(c, cl, pc);
  while (xchg(&lk->locked, 1) != 0) {
    // The holder may be a CPU that panicked: it never lets go.
    if (panicked)
      panicstop();
    spins++;
  }
  __sync_synchronize();
  lk->cpu = c;
  lk->pc = pc;
  lockdep_push(c->held, &c->nheld, NLOCKHELD, lk, cl, pc);
  lockstat_count(c, cl, spins, 0);
}

void
release(struct spinlock *lk)
{
  if (!lk->locked || lk->cpu != mycpu())
    panic("release %s: not held", lk->name);
  lockdep_pop(mycpu()->held, &mycpu()->nheld, lk);
  lk->cpu = 0;
  __sync_synchronize();
  asm volatile("movl $0, %0" : "+m"(lk->locked) : );
  popcli();
}

int
holding(struct spinlock *lk)
{
  int r;
  pushcli();
  r = lk->locked && lk->cpu == mycpu();
  popcli();
  return r;
}

// pushcli/popcli nest like cli/sti, but restore the interrupt flag that was
// in effect before the outermost pushcli.
void
pushcli(void)
{
  int eflags = readeflags();
  cli();
  if (mycpu()->ncli == 0)
    mycpu()->intena = eflags & FL_IF;
  mycpu()->ncli += 1;
}

void
popcli(void)
{
  if (readeflags() & FL_IF)
    panic("popcli: interrupts enabled");
  if (--mycpu()->ncli < 0)
    panic("popcli: unbalanced");
  if (mycpu()->ncli == 0 && mycpu()->intena)
    sti();
}
