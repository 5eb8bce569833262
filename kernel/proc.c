// Processes: the process table, fork/exit/wait, signals sent by kill and
// process groups, sleep/wakeup and the per-CPU round-robin scheduler.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/x86.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/net/netos.h"   // RXPROF_*

struct cpu cpus[NCPU];
int ncpu;

static struct {
  struct spinlock lock;
  struct proc proc[NPROC];
  int end;   // no slot at or above proc[end] has ever been used: loops stop there
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

// Whether p should stop waiting and head back to user mode: it is to be
// killed, or a signal it does not hold back is pending (a sleep it was in
// ends with EINTR, and the signal is acted on before user code runs again).
int
killed(struct proc *p)
{
  return p->killed || (p->sigpending & ~p->sigmask) != 0;
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
  p->nsheld = 0;
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
  p->killsig = 0;
  p->xstate = 0;
  p->chan = 0;
  p->wakeat = 0;
  p->kthread = 0;
  p->pgid = 0;
  p->sigpending = 0;
  p->sigmask = 0;
  memset(p->sigact, 0, sizeof p->sigact);
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
  p->pgid = p->pid;
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
  // Signal dispositions and the mask are inherited; pending signals are not.
  np->pgid = cur->pgid;
  np->sigmask = cur->sigmask;
  memmove(np->sigact, cur->sigact, sizeof np->sigact);

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

// Whether child p is one that waitpid's pid argument selects: -1 any
// child, > 0 that one, 0 one in the caller's process group, < -1 one in
// group -pid.
static int
waitselects(struct proc *p, int pid, struct proc *cur)
{
  if (pid == -1)
    return 1;
  if (pid > 0)
    return p->pid == pid;
  return p->pgid == (pid == 0 ? cur->pgid : -pid);
}

// Wait for a child that pid selects to exit; store its status at user
// address status_uva (when not 0) and return its pid. With WNOHANG, return
// 0 at once if such children exist but none has exited.
int
waitpid(int pid, uint status_uva, int options)
{
  struct proc *cur = myproc();

  if (options & ~WNOHANG)
    return -EINVAL;
  acquire(&ptable.lock);
  for (;;) {
    int havekids = 0;
    for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
      if (p->parent != cur || !waitselects(p, pid, cur))
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
    if (options & WNOHANG) {
      release(&ptable.lock);
      return 0;
    }
    if (killed(cur)) {
      release(&ptable.lock);
      return -EINTR;
    }
    sleepintr(cur, &ptable.lock);
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

// A boosted runnable process, or 0 (ptable.lock held). The slot after the
// last one taken goes first, so that boosted processes share among
// themselves too.
static struct proc *
boosted(void)
{
  static int from;
  for (int i = 0; i < ptable.end; i++) {
    struct proc *p = &ptable.proc[(from + i) % ptable.end];
    if (p->state == RUNNABLE && p->boost) {
      from = p->slot + 1;
      return p;
    }
  }
  return 0;
}

// Each CPU runs this loop after setting itself up: pick a runnable process,
// switch to it, and come back here when it gives up the CPU. With nothing to
// run, halt until the next interrupt instead of spinning.
//
// Round robin, except for the boost: a process that wakeup() made runnable
// (the data, the child or the time it slept for has come) runs before the
// round goes on. Such a process usually runs briefly and sleeps again, and
// without the boost a program that never sleeps would make it wait a whole
// 10 ms slice. The boost is spent when the process gives up the CPU (sched),
// and the tick ends a boosted run like any other, so a process keeps it for
// at most one slice per wakeup. So that wakeups cannot starve the round (a
// flood of datagrams wakes their reader again and again), at most BOOSTRUN
// boosted picks come in a row while the round has a runnable process; then
// the round advances one pick.
#ifndef BOOSTRUN   // -DBOOSTRUN=... only to show the test can fail
#define BOOSTRUN 4
#endif
void
scheduler(void)
{
  struct cpu *c = mycpu();
  c->proc = 0;

  for (;;) {
    sti();
    acquire(&ptable.lock);
    c->boostrun = 0;
    struct proc *p = ptable.proc;
    while (p < &ptable.proc[ptable.end]) {
      struct proc *next = c->boostrun < BOOSTRUN ? boosted() : 0;
      if (next == 0)
        next = p++;
      if (next->state != RUNNABLE)
        continue;
      c->boostrun = next->boost ? c->boostrun + 1 : 0;
      c->needresched = 0;   // whatever asked for it, this is the reschedule
      c->proc = next;
      switchto(next);
      next->state = RUNNING;
      RXPROF_BEGIN(t);
      swtch(&c->scheduler, next->context);
      RXPROF_END(RXP_SWITCH, t);
      c->proc = 0;
      // With several CPUs, no CPU keeps a directory loaded for a process
      // that no longer runs on it: the process may exit on another CPU and
      // free that directory under this one's %cr3, or shrink its memory
      // there and leave stale TLB entries here that the next turn would
      // use (%cr3 is reloaded only when it changes). Back to the kernel's
      // directory, so that the next process's load flushes the TLB.
      if (ncpu > 1)
        switchkvm();
    }
    int idle = !anyrunnable();
    if (idle && ncpu > 1)
      switchkvm();   // see switchto: no user directory left loaded while idle
    release(&ptable.lock);
    if (idle) {
      // sti takes effect after the next instruction, so no interrupt can
      // slip in between the check and the hlt.
      cli();
      if (!anyrunnable()) {
        c->idlesince = clockus();
        c->idle = 1;   // an interrupt taken in the hlt may do netrx's work (trap.c)
        asm volatile("sti; hlt" ::: "memory");
        c->idle = 0;
        idleend(c);    // the interrupt ended it already, unless it came in before the hlt
      }
    }
  }
}

// ---- idle time: how long each CPU sat halted with nothing to run ----
//
// In microseconds of the clock (kernel/clock.c: the TSC, one counter for
// every CPU, rated at boot against the LAPIC timer). Not the tick count: a
// vCPU that the host does not run for longer than a tick loses ticks (one
// timer interrupt stays pending, the others are never counted), so ticks
// run slow exactly when a host is loaded. A halt ends at the first
// interrupt (trap calls idleend): the work that interrupt does on the way
// out, such as netrx's poll from the idle loop, is not idle. This tells a
// guest that waits (for the network, a timer) from one that the host does
// not run, which from inside looks busy.

// The halt of c (the caller's CPU, interrupts off) is over.
void
idleend(struct cpu *c)
{
  if (c->idlesince == 0)
    return;
  uint64 now = clockus();
  if (now > c->idlesince)
    c->idleus += now - c->idlesince;
  c->idlesince = 0;
}

// Microseconds all CPUs spent halted, and the clock when read. Another
// CPU's counter may change while it is read (two 32-bit halves): read
// until two reads agree.
void
idletime(uint64 *idleus, uint64 *nowus)
{
  uint64 sum = 0;
  for (int i = 0; i < ncpu; i++) {
    volatile uint64 *v = &cpus[i].idleus;
    uint64 a, b;
    do {
      a = *v;
      b = *v;
    } while (a != b);
    sum += a;
  }
  *idleus = sum;
  *nowus = clockus();
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
  p->boost = 0;   // spent: the next turn is the round's, unless a wakeup comes first
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
// "selftest=cpustack" makes every CPU but the boot CPU do the same on its
// scheduler stack, all at once, before it schedules: each has a guard page
// and a double-fault task of its own (vm.c). "selftest=lockorder" takes two
// locks in both orders: the lock-order checker must panic (kernel/lockdep.c).
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
  if (!cmdlineget("selftest", what, sizeof what))
    return;
  if (strncmp(what, "kstack", 7) == 0) {
    cprintf("selftest: overflowing the kernel stack of pid %d\n", myproc()->pid);
    overflow(0);
  }
  if (strncmp(what, "lockorder", 10) == 0)
    lockdep_selftest();
}

// An application processor, before it schedules (main.c's mpmain).
// "selftest=clock": CPU 1 and the boot CPU read the clock at one moment
// (kernel/clock.c).
void
selftestcpu(void)
{
  char what[16];
  if (cmdlineget("selftest", what, sizeof what) && strncmp(what, "cpustack", 9) == 0)
    overflow(0);
  if (cmdlineget("selftest", what, sizeof what) && strncmp(what, "clock", 6) == 0)
    clockselftest(cpuid());
}

// The boot CPU, once the others may run, before it schedules.
void
selftestboot(void)
{
  char what[16];
  if (cmdlineget("selftest", what, sizeof what) && strncmp(what, "clock", 6) == 0) {
    if (ncpu < 2)
      cprintf("selftest: clock: needs two CPUs\n");
    else
      clockselftest(0);
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

// Give up the CPU until wakeup(chan) (or, with interruptible set, until a
// signal; see sleepintr). lk is released while asleep and held again on
// return.
static void
sleepon(void *chan, struct spinlock *lk, int interruptible)
{
  struct proc *p = myproc();

  if (p == 0)
    panic("sleep without a process");
  if (lk != &ptable.lock) {
    acquire(&ptable.lock);
    release(lk);
  }
  if (!interruptible || !killed(p)) {
    p->chan = chan;
    p->state = SLEEPING;
    sched();
    p->chan = 0;
  }
  if (lk != &ptable.lock) {
    release(&ptable.lock);
    acquire(lk);
  }
}

// A sleep that only wakeup(chan) ends: for waits that do not look at
// signals (a sleep lock).
void
sleep(void *chan, struct spinlock *lk)
{
  sleepon(chan, lk, 0);
}

// A sleep that a signal ends too, for a caller whose loop returns EINTR
// when killed(). Its look at killed() is made under lk, but a signal is
// posted under ptable.lock alone: one posted on another CPU after that
// look finds the process still RUNNING and wakes nothing. So the look is
// made again here, under ptable.lock, before sleeping: a pending signal
// returns at once and the caller's loop sees it. (A ^C at the shell's
// prompt was lost this way with two CPUs.)
void
sleepintr(void *chan, struct spinlock *lk)
{
  sleepon(chan, lk, 1);
}

// Like sleepintr, but the timer also wakes us when ticks reaches deadline
// (0: no deadline). The caller re-checks its condition and the time.
void
sleepdeadline(void *chan, struct spinlock *lk, uint deadline)
{
  myproc()->wakeat = deadline;
  sleepon(chan, lk, 1);
  myproc()->wakeat = 0;
}

// A sleeper's wait is over (ptable.lock held): make it runnable with a
// boost, and ask this CPU to give it the CPU at the end of the trap if what
// runs here is a user process without a boost of its own. Kernel threads
// are not asked to yield here (trap.c), and netrx's own wakeup preempts
// only as netdev_schedule decides (net_preempt): preempting on every
// receive interrupt starves the reader the frames are for. Only this CPU is
// asked; another CPU sees the boost at its next pick.
static void
makerunnable(struct proc *p)
{
  p->state = RUNNABLE;
  p->boost = 1;
  struct proc *cur = mycpu()->proc;
  if (cur && cur != p && !cur->boost && !p->kthread)
    mycpu()->needresched = 1;
}

// From the timer interrupt: wake sleepers whose deadline has come.
void
wakeexpired(uint now)
{
  acquire(&ptable.lock);
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++)
    if (p->state == SLEEPING && p->wakeat && (int)(now - p->wakeat) >= 0)
      makerunnable(p);
  release(&ptable.lock);
}

static void
wakeup1(void *chan)
{
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
    if (p->state == SLEEPING && p->chan == chan)
      makerunnable(p);
  }
}

void
wakeup(void *chan)
{
  acquire(&ptable.lock);
  wakeup1(chan);
  release(&ptable.lock);
}

// ---- signals and process groups ---------------------------------------------

// Whether sig, left to its default action, is dropped rather than fatal.
static int
sigdefaultignored(int sig)
{
  return sig == SIGCHLD;
}

// Posts sig to p (ptable.lock held). SIGKILL marks p killed at once; a
// signal p ignores is dropped; any other becomes pending, and a sleep p is
// in ends (the sleeper sees killed() and returns EINTR).
static void
sigpost(struct proc *p, int sig)
{
  sighandler_t h = p->sigact[sig].sa_handler;
  if (sig == 0)
    return;
  if (sig == SIGKILL) {
    p->killed = 1;
    p->killsig = SIGKILL;
  } else if (h == SIG_IGN || (h == SIG_DFL && sigdefaultignored(sig))) {
    return;
  } else {
    p->sigpending |= SIGBIT(sig);
  }
  if (p->state == SLEEPING)
    makerunnable(p);
}

// Whether p may receive signals at all (ptable.lock held). Kernel threads
// never do; neither does init unless it has asked for the signal (Linux's
// rule), so the system cannot lose its first process.
static int
signalable(struct proc *p, int sig)
{
  if (p->state == UNUSED || p->state == EMBRYO || p->state == ZOMBIE || p->kthread)
    return 0;
  if (p == initproc)
    return sig == 0 || (sig != SIGKILL && p->sigact[sig].sa_handler != SIG_DFL);
  return 1;
}

static int
sigsendpid(int pid, int sig)
{
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
    if (p->pid != pid || p->state == UNUSED)
      continue;
    if (p->state == ZOMBIE)
      return -ESRCH;
    if (!signalable(p, sig))
      return -EPERM;
    sigpost(p, sig);
    return 0;
  }
  return -ESRCH;
}

// Posts sig to every member of process group pgid (or, for pgid -1, to
// every process but init and the sender) that may receive it.
static int
sigsendgroup(int pgid, int sig, struct proc *sender)
{
  int found = 0;
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
    if (pgid == -1 ? p == sender : p->pgid != pgid)
      continue;
    if (signalable(p, sig) && p != initproc) {
      sigpost(p, sig);
      found = 1;
    }
  }
  return found ? 0 : -ESRCH;
}

// Linux's kill(2): pid > 0 one process, 0 the caller's process group, -1
// every process but init and the caller, < -1 process group -pid. Signal 0
// only checks that the target exists.
int
kill(int pid, int sig)
{
  struct proc *cur = myproc();
  int err;

  if (sig < 0 || sig >= NSIG)
    return -EINVAL;
  if ((uint)pid == 0x80000000u)   // INT_MIN: -pid would overflow
    return -ESRCH;
  acquire(&ptable.lock);
  if (pid > 0)
    err = sigsendpid(pid, sig);
  else
    err = sigsendgroup(pid == 0 ? cur->pgid : pid == -1 ? -1 : -pid, sig, cur);
  release(&ptable.lock);
  return err;
}

// sig to the calling process, from the kernel (SIGPIPE on a pipe without
// readers): pending until it returns to user space, as any other.
void
signalself(int sig)
{
  struct proc *p = myproc();
  acquire(&ptable.lock);
  if (signalable(p, sig))
    sigpost(p, sig);
  release(&ptable.lock);
}

// sig to process group pgid, from the kernel (the console's ^C).
void
signalgroup(int pgid, int sig)
{
  if (pgid <= 0)
    return;
  acquire(&ptable.lock);
  sigsendgroup(pgid, sig, 0);
  release(&ptable.lock);
}

// Takes the lowest pending signal that p does not hold back off its
// pending set and returns it; 0 if there is none. Under the lock: the
// console's interrupt handler posts signals too.
int
sigtake(struct proc *p)
{
  int sig = 0;
  acquire(&ptable.lock);
  uint ready = p->sigpending & ~p->sigmask;
  if (ready) {
    while (!(ready & SIGBIT(sig)))
      sig++;
    p->sigpending &= ~SIGBIT(sig);
  }
  release(&ptable.lock);
  return sig;
}

// Drops a pending sig (its disposition became "ignore").
void
sigdiscard(struct proc *p, int sig)
{
  acquire(&ptable.lock);
  p->sigpending &= ~SIGBIT(sig);
  release(&ptable.lock);
}

// Whether some process (a zombie too) is in process group pgid.
static int
groupexists(int pgid)
{
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++)
    if (p->state != UNUSED && !p->kthread && p->pgid == pgid)
      return 1;
  return 0;
}

int
pgidexists(int pgid)
{
  acquire(&ptable.lock);
  int found = groupexists(pgid);
  release(&ptable.lock);
  return found;
}

// POSIX setpgid without sessions: the caller or one of its children (pid,
// 0 for the caller) joins group pgid (0: a new group named after pid),
// which must be new or exist already.
int
setpgid(int pid, int pgid)
{
  struct proc *cur = myproc();
  int err = -ESRCH;

  if (pid < 0 || pgid < 0)
    return -EINVAL;
  pid = pid ? pid : cur->pid;
  pgid = pgid ? pgid : pid;
  acquire(&ptable.lock);
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
    if (p->pid != pid || p->state == UNUSED || (p != cur && p->parent != cur))
      continue;
    if (pgid != pid && !groupexists(pgid)) {
      err = -EPERM;
    } else {
      p->pgid = pgid;
      err = 0;
    }
    break;
  }
  release(&ptable.lock);
  return err;
}

int
getpgid(int pid)
{
  struct proc *cur = myproc();
  int pgid = -ESRCH;

  if (pid < 0)
    return -ESRCH;
  acquire(&ptable.lock);
  for (struct proc *p = ptable.proc; p < &ptable.proc[ptable.end]; p++) {
    if ((pid == 0 ? p == cur : p->pid == pid) && p->state != UNUSED && !p->kthread) {
      pgid = p->pgid;
      break;
    }
  }
  release(&ptable.lock);
  return pgid;
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
    cprintf("%d %s %s pgid %d sz %u", p->pid, states[p->state], p->name, p->pgid, p->sz);
    // Which CPU runs it, read without ptable.lock (^P must work even when
    // a CPU is stuck holding it): a glimpse, possibly stale.
    for (int i = 0; i < ncpu; i++)
      if (p->state == RUNNING && cpus[i].proc == p)
        cprintf(" cpu %d", i);
    if (p->state == SLEEPING)
      cprintf(" chan %p", p->chan);
    if (p->state != RUNNING && (p->sigpending || p->killed))
      cprintf(" pending %x mask %x%s", p->sigpending, p->sigmask, p->killed ? " killed" : "");
    cprintf("\n");
  }
  cprintf("free pages: %u\n", kfreecount());
}

// Process slots in use and slots that keep a kernel stack, for sysinfo.
void
proccount(int *inuse, int *kstacks)
{
  *inuse = *kstacks = 0;
  acquire(&ptable.lock);
  for (struct proc *p = ptable.proc; p < &ptable.proc[NPROC]; p++) {
    *inuse += p->state != UNUSED;
    *kstacks += p->kstack != 0;
  }
  release(&ptable.lock);
}
