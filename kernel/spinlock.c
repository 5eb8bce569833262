// Spinlocks, safe on several CPUs: xchg for the lock word, interrupts off on
// the holding CPU so that an interrupt handler cannot deadlock against it.

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
}

void
acquire(struct spinlock *lk)
{
  pushcli();
  struct cpu *c = mycpu();
  // Checked directly (not with holding(), which would nest another pushcli):
  // this runs for every lock taken, and is costly under emulation.
  if (lk->locked && lk->cpu == c)
    panic("acquire %s: already held", lk->name);
  while (xchg(&lk->locked, 1) != 0)
    ;
  __sync_synchronize();
  lk->cpu = c;
}

void
release(struct spinlock *lk)
{
  if (!lk->locked || lk->cpu != mycpu())
    panic("release %s: not held", lk->name);
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
