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
  if (holding(lk))
    panic("acquire %s: already held", lk->name);
  while (xchg(&lk->locked, 1) != 0)
    ;
  __sync_synchronize();
  lk->cpu = mycpu();
  getcallerpcs(&lk, lk->pcs);
}

void
release(struct spinlock *lk)
{
  if (!holding(lk))
    panic("release %s: not held", lk->name);
  lk->pcs[0] = 0;
  lk->cpu = 0;
  __sync_synchronize();
  asm volatile("movl $0, %0" : "+m"(lk->locked) : );
  popcli();
}

// Record the return addresses found by following the %ebp chain.
void
getcallerpcs(void *v, uint pcs[])
{
  uint *ebp = (uint *)v - 2;
  int i;

  for (i = 0; i < 10; i++) {
    if (ebp == 0 || (uint)ebp < KERNBASE || (uint)ebp == 0xffffffff)
      break;
    pcs[i] = ebp[1];
    ebp = (uint *)ebp[0];
  }
  for (; i < 10; i++)
    pcs[i] = 0;
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
