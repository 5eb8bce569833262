// Processes: the process table, fork/exit/wait/kill, sleep/wakeup and the
// per-CPU round-robin scheduler.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/x86.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"

struct cpu cpus[NCPU];
int ncpu;

static struct {
  struct spinlock lock;
  struct proc proc[NPROC];
  int end;   // no slot at or above proc[end] has ever been used: loops stop there
  struct proc *woken;   // the last process wakeup() made runnable (see scheduler)
} ptable;

static struct proc *initproc;
static int nextpid = 1;

extern void forkret(void);
extern void trapret(void);
static void wakeup1(void *chan);

void
pinit(void)
{
  initlock(&ptable.lock, "ptable");
  for (int i = 0; i < NPROC; i++)
    ptable.proc[i].slot = i;
}

// Must be called with interrupts off, so that we are not moved to another
// CPU between reading the APIC id and using the result.
struct cpu *
mycpu(void)
{
  if (readeflags() & FL_IF)
    panic("mycpu called with interrupts enabled");
  if (ncpu <= 1 || lapic == 0)
    return &cpus[0];
  int apicid = lapicid();
  for (int i = 0; i < ncpu; i++)
    if (cpus[i].apicid == apicid)
      return &cpus[i];
  panic("mycpu: unknown apic id %d", apicid);
}

int
cpuid(void)
{
  return mycpu() - cpus;
}

struct proc *
myproc(void)
{
  if (ncpu <= 1)   // nothing to migrate between: no need to hold interrupts off
    return cpus[0].proc;
  pushcli();
  struct proc *p = mycpu()->proc;
  popcli();
  return p;
}

int
killed(struct proc *p)
{
  return p->killed;
}

// Find an unused slot, give it a pid and a kernel stack arranged so that the
// first swtch to it lands in forkret and then returns to user space through
// trapret. Returns 0 when the table is full or memory is short.
static struct proc *
allocproc(void)
{
  struct proc *p;
  char *sp;

  acquire(&ptable.lock);
  for (p = ptable.proc; p < &ptable.proc[NPROC]; p++)
    if (p->state == UNUSED)
      break;
  if (p < &ptable.proc[NPROC] && p - ptable.proc >= ptable.end)
    ptable.end = p - ptable.proc + 1;
  if (p == &ptable.proc[NPROC]) {
    release(&ptable.lock);
    return 0;
  }
  p->state = EMBRYO;
  p->pid = nextpid++;
  release(&ptable.lock);

  // Kernel stacks stay mapped once made: a slot reuses its own.
  if (p->kstack == 0 && (p->kstack = kstackmap(p->slot)) == 0) {
    acquire(&ptable.lock);
    p->state = UNUSED;
    release(&ptable.lock);
    return 0;
  }
  sp = p->kstack + KSTACKSIZE;
  sp -= sizeof *p->tf;
  p->tf = (struct trapframe *)sp;
  sp -= 4;
  *(uint *)sp = (uint)trapret;
  sp -= sizeof *p->context;
  p->context = (struct context *)sp;
  memset(p->context, 0, sizeof *p->context);
  p->context->eip = (uint)forkret;
  p->killed = 0;
  p->xstate = 0;
  p->chan = 0;
  p->wakeat = 0;
  p->kthread = 0;
  return p;
}

static void
freeproc(struct proc *p)
{
  if (p->pgdir)
    freevm(p->pgdir);
  p->pgdir = 0;
  p->sz = 0;
  p->pid = 0;
  p->parent = 0;
  p->name[0] = 0;
  p->killed = 0;
  p->state = UNUSED;
}

// The first process. Its user image comes from exec("/bin/init") in forkret.
void
userinit(void)
{
  struct proc *p = allocproc();
  if (p == 0 || (p->pgdir = setupkvm()) == 0)
    panic("userinit: out of memory");
  initproc = p;
  p->sz = 0;
  memset(p->tf, 0, sizeof *p->tf);
  p->tf->cs = (SEG_UCODE << 3) | DPL_USER;
  p->tf->ds = (SEG_UDATA << 3) | DPL_USER;
  p->tf->es = p->tf->ds;
  p->tf->ss = p->tf->ds;
  p->tf->eflags = FL_IF;
  safestrcpy(p->name, "init", sizeof p->name);
  p->cwd = ramfs_dup(ramfs_root());

  acquire(&ptable.lock);
  p->state = RUNNABLE;
  release(&ptable.lock);
}

// A kernel thread: runs fn(arg) in kernel mode on its own kernel stack,
// scheduled like any process. fn never returns.
static void (*kthreadfn[NPROC])(void *);
static void *kthreadarg[NPROC];

static void
kthreadstart(void)
{
  struct proc *p = myproc();
  release(&ptable.lock);   // held by the scheduler across swtch
  // That release restores the interrupt state of whichever process last
  // gave the CPU to the scheduler, which is "off" when it was preempted in
  // an interrupt handler. A user process gets IF back from iret; a kernel
  // thread has no iret, so it would run with interrupts off for good (never
  // preempted, and every interrupt held until it sleeps).
  sti();
  kthreadfn[p->slot](kthreadarg[p->slot]);
  panic("kernel thread %s returned", p->name);
}

struct proc *
kthread_create(const char *name, void (*fn)(void *), void *arg)
{
  struct proc *p = allocproc();
  if (p == 0 || (p->pgdir = setupkvm()) == 0)
    panic("kthread_create: out of memory");
  kthreadfn[p->slot] = fn;
  kthreadarg[p->slot] = arg;
  p->context->eip = (uint)kthreadstart;
  p->kthread = 1;
  p->parent = 0;
  safestrcpy(p->name, name, sizeof p->name);
  acquire(&ptable.lock);
  p->state = RUNNABLE;
  release(&ptable.lock);
  return p;
}

// Grow (n > 0) or shrink the current process's memory by n bytes.
int
growproc(int n)
{
  struct proc *cur = myproc();
  uint sz = cur->sz;
  uint newsz = sz + n;

  if (n > 0) {
    if (newsz < sz || newsz > KERNBASE)
      return -ENOMEM;
    if ((newsz = allocuvm(cur->pgdir, sz, newsz, PTE_W | PTE_U)) == 0)
      return -ENOMEM;
  } else if (n < 0) {
    if (newsz > sz || newsz < cur->brkmin)
      return -EINVAL;
    newsz = deallocuvm(cur->pgdir, sz, newsz);
  }
  cur->sz = newsz;
  switchuvm(cur);
  return 0;
}

int
fork(void)
{
  struct proc *np, *cur = myproc();

  if ((np = allocproc()) == 0)
    return -EAGAIN;
  if ((np->pgdir = copyuvm(cur->pgdir, cur->sz)) == 0) {
    acquire(&ptable.lock);
    freeproc(np);
    release(&ptable.lock);
    return -ENOMEM;
  }
  np->sz = cur->sz;
  np->brkmin = cur->brkmin;
  np->parent = cur;
  *np->tf = *cur->tf;
  np->tf->eax = 0;   // fork returns 0 in the child
  for (int i = 0; i < NOFILE; i++)
    np->ofile[i] = cur->ofile[i] ? filedup(cur->ofile[i]) : 0;
  np->cwd = ramfs_dup(cur->cwd);
  safestrcpy(np->name, cur->name, sizeof np->name);

  int pid = np->pid;
  acquire(&ptable.lock);
  np->state = RUNNABLE;
  release(&ptable.lock);
  return pid;
}

// Leave the system: the process stays a zombie until its parent waits.
void
exit(int status)
{
  struct proc *cur = myproc();

  if (cur == initproc)
    panic("init exiting (status %d)", status);
  for (int fd = 0; fd < NOFILE; fd++) {
    if (cur->ofile[fd]) {
      fileclose(cur->ofile[fd]);
      cur->ofile[fd] = 0;
    }
  }
  ramfs_put(cur->cwd);
  cur->cwd = 0;

  acquire(&ptable.lock);
  wakeup1(cur->parent);
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
    if (p->parent == cur) {
      p->parent = initproc;
      if (p->state == ZOMBIE)
        wakeup1(initproc);
    }
  }
  cur->xstate = status;
  cur->state = ZOMBIE;
  switchkvm();   // the parent frees this address space: leave it now
  sched();
  panic("zombie exit");
}

// Wait for a child to exit; store its status at user address status_uva
// (when not 0) and return its pid.
int
wait(uint status_uva)
{
  struct proc *cur = myproc();

  acquire(&ptable.lock);
  for (;;) {
    int havekids = 0;
    for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
      if (p->parent != cur)
        continue;
      havekids = 1;
      if (p->state != ZOMBIE)
        continue;
      if (status_uva && copyout(cur->pgdir, status_uva, &p->xstate, sizeof p->xstate) < 0) {
        release(&ptable.lock);
        return -EFAULT;
      }
      int pid = p->pid;
      freeproc(p);
      release(&ptable.lock);
      return pid;
    }
    if (!havekids) {
      release(&ptable.lock);
      return -ECHILD;
    }
    if (cur->killed) {
      release(&ptable.lock);
      return -EINTR;
    }
    sleep(cur, &ptable.lock);
  }
}

static int
anyrunnable(void)
{
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++)
    if (p->state == RUNNABLE)
      return 1;
  return 0;
}

// Each CPU runs this loop after setting itself up: pick a runnable process,
// switch to it, and come back here when it gives up the CPU. With nothing to
// run, halt until the next interrupt instead of spinning.
void
scheduler(void)
{
  struct cpu *c = mycpu();
  c->proc = 0;

  for (;;) {
    sti();
    acquire(&ptable.lock);
    // Round robin, except that a process just woken (the data it slept for
    // has come) runs before the round goes on: it usually runs briefly and
    // sleeps again, and otherwise a program that never sleeps would make it
    // wait a whole time slice. At most every other pick is such a turn, so
    // the round still advances.
    int tookturn = 0;
    struct proc *p = ptable.proc;
    while (p < &ptable.proc[ptable.end]) {
      struct proc *next = p;
      if (!tookturn && ptable.woken && ptable.woken->state == RUNNABLE) {
        next = ptable.woken;
        tookturn = 1;
      } else {
        p++;
        tookturn = 0;
      }
      ptable.woken = 0;
      if (next->state != RUNNABLE)
        continue;
      c->proc = next;
      switchto(next);
      next->state = RUNNING;
      swtch(&c->scheduler, next->context);
      c->proc = 0;
    }
    int idle = !anyrunnable();
    if (idle && ncpu > 1)
      switchkvm();   // see switchto: no user directory left loaded while idle
    release(&ptable.lock);
    if (idle) {
      // sti takes effect after the next instruction, so no interrupt can
      // slip in between the check and the hlt.
      cli();
      if (!anyrunnable())
        asm volatile("sti; hlt");
    }
  }
}

// Switch to the scheduler. The caller holds ptable.lock (and nothing else)
// and has changed the process state.
void
sched(void)
{
  struct proc *p = myproc();

  if (!holding(&ptable.lock))
    panic("sched: ptable.lock not held");
  if (mycpu()->ncli != 1)
    panic("sched: other locks held");
  if (p->state == RUNNING)
    panic("sched: process running");
  if (readeflags() & FL_IF)
    panic("sched: interruptible");
  int intena = mycpu()->intena;
  swtch(&p->context, mycpu()->scheduler);
  mycpu()->intena = intena;
}

void
yield(void)
{
  acquire(&ptable.lock);
  myproc()->state = RUNNABLE;
  sched();
  release(&ptable.lock);
}

// Deliberately run off the bottom of this kernel stack: the guard page
// below it must turn that into a double fault and a panic, not silent
// corruption. Only with "selftest=kstack" on the kernel command line.
static int
overflow(int depth)
{
  volatile char frame[256];
  frame[0] = depth;
  if (depth >= 0)   // always: the check only hides the recursion from gcc
    return overflow(depth + 1) + frame[0];
  return frame[0];
}

static void
selftest(void)
{
  char what[16];
  if (cmdlineget("selftest", what, sizeof what) && strncmp(what, "kstack", 7) == 0) {
    cprintf("selftest: overflowing the kernel stack of pid %d\n", myproc()->pid);
    overflow(0);
  }
}

// A new process's first switch lands here, still holding ptable.lock from
// the scheduler; returning goes to trapret and so to user space.
void
forkret(void)
{
  static int first = 1;

  release(&ptable.lock);
  if (first) {
    first = 0;
    selftest();
    char *argv[] = { "init", 0 };
    int err = exec("/bin/init", argv);
    if (err < 0)
      panic("cannot exec /bin/init: error %d", -err);
  }
}

// Give up the CPU until wakeup(chan). lk is released while asleep and held
// again on return.
void
sleep(void *chan, struct spinlock *lk)
{
  struct proc *p = myproc();

  if (p == 0)
    panic("sleep without a process");
  if (lk != &ptable.lock) {
    acquire(&ptable.lock);
    release(lk);
  }
  p->chan = chan;
  p->state = SLEEPING;
  sched();
  p->chan = 0;
  if (lk != &ptable.lock) {
    release(&ptable.lock);
    acquire(lk);
  }
}

// Like sleep, but the timer also wakes us when ticks reaches deadline
// (0: no deadline). The caller re-checks its condition and the time.
void
sleepdeadline(void *chan, struct spinlock *lk, uint deadline)
{
  myproc()->wakeat = deadline;
  sleep(chan, lk);
  myproc()->wakeat = 0;
}

// From the timer interrupt: wake sleepers whose deadline has come.
void
wakeexpired(uint now)
{
  acquire(&ptable.lock);
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++)
    if (p->state == SLEEPING && p->wakeat && (int)(now - p->wakeat) >= 0)
      p->state = RUNNABLE;
  release(&ptable.lock);
}

static void
wakeup1(void *chan)
{
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
    if (p->state == SLEEPING && p->chan == chan) {
      p->state = RUNNABLE;
      ptable.woken = p;
    }
  }
}

void
wakeup(void *chan)
{
  acquire(&ptable.lock);
  wakeup1(chan);
  release(&ptable.lock);
}

// Mark pid killed; it exits when it next returns to user space, and a sleep
// in the kernel is cut short.
int
kill(int pid)
{
  if (initproc && pid == initproc->pid)
    return -EPERM;   // init must not exit: the system depends on it
  acquire(&ptable.lock);
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
    if (p->pid == pid && p->kthread) {
      release(&ptable.lock);
      return -EPERM;
    }
    if (p->pid == pid && p->state != UNUSED && p->state != ZOMBIE) {
      p->killed = 1;
      if (p->state == SLEEPING)
        p->state = RUNNABLE;
      release(&ptable.lock);
      return 0;
    }
  }
  release(&ptable.lock);
  return -ESRCH;
}

int
getppid(void)
{
  struct proc *p = myproc();
  int ppid;
  acquire(&ptable.lock);
  ppid = p->parent ? p->parent->pid : 0;
  release(&ptable.lock);
  return ppid;
}

static int
haschildren(struct proc *p)
{
  for (struct proc *q = ptable.proc; q < &ptable.proc[ptable.end]; q++)
    if (q->parent == p && q->state != UNUSED && q->state != ZOMBIE)
      return 1;
  return 0;
}

// ^C without job control: kill every process that is running a command
// rather than waiting for one. That spares init (pid 1), any process with
// live children (a shell waiting for its command) and processes reading the
// console (an idle shell), whose sleep channel is console_chan.
void
killforeground(void *console_chan)
{
  acquire(&ptable.lock);
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
    if (p->state == UNUSED || p->state == ZOMBIE || p->state == EMBRYO || p->pid == 1 ||
        p->kthread)
      continue;
    if (haschildren(p) || (p->state == SLEEPING && p->chan == console_chan))
      continue;
    p->killed = 1;
    if (p->state == SLEEPING)
      p->state = RUNNABLE;
  }
  release(&ptable.lock);
}

// List processes on the console (^P). No lock: it must work when stuck.
void
procdump(void)
{
  static char *states[] = {
    [UNUSED] "unused", [EMBRYO] "embryo", [SLEEPING] "sleep",
    [RUNNABLE] "runble", [RUNNING] "run", [ZOMBIE] "zombie",
  };
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
    if (p->state == UNUSED)
      continue;
    cprintf("%d %s %s sz %u\n", p->pid, states[p->state], p->name, p->sz);
  }
  cprintf("free pages: %u\n", kfreecount());
}
