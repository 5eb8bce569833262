// Sleep locks: for holders that may block (never taken in interrupt handlers).
// The lock-order checker (kernel/lockdep.c) sees them as a class of their
// own, held by the process rather than the CPU, since they are held across
// sleeps and the process may come back on another CPU.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/x86.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"

void
initsleeplock(struct sleeplock *lk, char *name)
{
  initlock(&lk->lk, "sleeplock");
  lk->name = name;
  lk->locked = 0;
  lk->pid = 0;
  lk->class = 0;
  sleeplockclassof(lk);
}

void
acquiresleep(struct sleeplock *lk)
{
  uint pc = (uint)__builtin_return_address(0);
  uint sleeps = 0;
  int cl = sleeplockclassof(lk);

  pushcli();
  lockdep_check(mycpu(), cl, pc);
  popcli();
  acquire(&lk->lk);
  while (lk->locked) {
    sleeps++;
    sleep(lk, &lk->lk);
  }
  lk->locked = 1;
  lk->pid = myproc() ? myproc()->pid : 0;
  pushcli();
  lockstat_count(mycpu(), cl, 0, sleeps);
  struct proc *p = mycpu()->proc;
  if (p)
    lockdep_push(p->sheld, &p->nsheld, NSLEEPHELD, lk, cl, pc);
  popcli();
  release(&lk->lk);
}

void
releasesleep(struct sleeplock *lk)
{
  struct proc *p = myproc();
  if (p)
    lockdep_pop(p->sheld, &p->nsheld, lk);
  acquire(&lk->lk);
  lk->locked = 0;
  lk->pid = 0;
  wakeup(lk);
  release(&lk->lk);
}

int
holdingsleep(struct sleeplock *lk)
{
  int r;
  acquire(&lk->lk);
  r = lk->locked && lk->pid == (myproc() ? myproc()->pid : 0);
  release(&lk->lk);
  return r;
}
