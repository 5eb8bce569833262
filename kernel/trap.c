// Trap dispatch: faults, system calls and device interrupts.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/x86.h"
#include "kernel/traps.h"
#include "kernel/spinlock.h"
#include "kernel/irq.h"
#include "kernel/net/netdev.h"

extern char sysenter_entry[];   // trapasm.S

static struct gatedesc idt[256];
extern uint vectors[];    // vectors.S
struct spinlock tickslock;
uint ticks;

static struct {
  void (*handler)(void *arg);
  void *arg;
} irqhandlers[NIRQ][IRQSHARE];

void
tvinit(void)
{
  for (int i = 0; i < 256; i++)
    setgate(&idt[i], STS_IG32, SEG_KCODE << 3, vectors[i], 0);
  // System calls keep interrupts on and may be made from user mode.
  setgate(&idt[T_SYSCALL], STS_TG32, SEG_KCODE << 3, vectors[T_SYSCALL], DPL_USER);
  // A double fault switches to a task with its own stack (see vm.c).
  setgate(&idt[T_DBLFLT], STS_TG, SEG_DFTSS << 3, 0, 0);
  initlock(&tickslock, "time");
}

void
idtinit(void)
{
  lidt(idt, sizeof idt);
}

// Register a handler for IRQ line irq and route the line to this CPU.
// Several devices may share one line; each handler must check its device.
void
irqregister(int irq, int level, void (*handler)(void *), void *arg)
{
  if (irq < 0 || irq >= NIRQ)
    panic("irqregister: bad irq %d", irq);
  for (int i = 0; i < IRQSHARE; i++) {
    if (irqhandlers[irq][i].handler == 0) {
      irqhandlers[irq][i].handler = handler;
      irqhandlers[irq][i].arg = arg;
      if (i == 0)
        ioapicenable(irq, 0, level);
      return;
    }
  }
  panic("irqregister: too many handlers on irq %d", irq);
}

static int
irqdispatch(int irq)
{
  int handled = 0;
  for (int i = 0; i < IRQSHARE; i++) {
    if (irqhandlers[irq][i].handler) {
      irqhandlers[irq][i].handler(irqhandlers[irq][i].arg);
      handled = 1;
    }
  }
  return handled;
}

static void
clockintr(void)
{
  if (cpuid() == 0) {
    acquire(&tickslock);
    ticks++;
    uint now = ticks;
    wakeup(&ticks);
    release(&tickslock);
    wakeexpired(now);
    nettimer(now);
  }
}

static const char *
trapname(uint trapno)
{
  static const char *names[] = {
    [T_DIVIDE] "divide error", [T_DEBUG] "debug", [T_NMI] "NMI",
    [T_BRKPT] "breakpoint", [T_OFLOW] "overflow", [T_BOUND] "bound range",
    [T_ILLOP] "invalid opcode", [T_DEVICE] "device not available",
    [T_DBLFLT] "double fault", [T_TSS] "invalid TSS",
    [T_SEGNP] "segment not present", [T_STACK] "stack fault",
    [T_GPFLT] "general protection", [T_PGFLT] "page fault",
    [T_FPERR] "x87 error", [T_ALIGN] "alignment check",
    [T_MCHK] "machine check", [T_SIMDERR] "SIMD error",
  };
  if (trapno < NELEM(names) && names[trapno])
    return names[trapno];
  return "unknown trap";
}

// A fault that is not an interrupt or a system call: fatal in the kernel,
// fatal only to the process in user mode.
static void
faulttrap(struct trapframe *tf)
{
  struct proc *p = myproc();

  if (p == 0 || (tf->cs & 3) == 0) {
    cprintf("kernel trap %d (%s) err %d eip %p cr2 %p\n",
            tf->trapno, trapname(tf->trapno), tf->err, tf->eip, rcr2());
    backtrace(tf->ebp);
    panic("trap in kernel");
  }
  cprintf("pid %d %s: trap %d (%s) err %d eip %p addr %p -- killed\n",
          p->pid, p->name, tf->trapno, trapname(tf->trapno), tf->err,
          tf->eip, rcr2());
  p->killed = 1;
}

// A killed process leaves: with status 128 + the signal that killed it,
// or -1 when the kernel did (a fault).
static void
exitifkilled(struct proc *p)
{
  if (p->killed)
    exit(p->killsig ? SIGSTATUS(p->killsig) : -1);
}

void
trap(struct trapframe *tf)
{
  struct proc *p = myproc();

  if (tf->trapno == T_SYSCALL) {
    exitifkilled(p);
    p->tf = tf;
    syscall();
    exitifkilled(p);
    sigdeliver(tf);
    return;
  }

  if (tf->trapno >= T_IRQ0) {
    random_add((uint)rdtsc() ^ tf->trapno << 24);   // interrupt timing: getrandom's seed
    struct cpu *c = mycpu();
    if (c->idle)
      idleend(c);   // what this interrupt does is work, not idle
  }
  switch (tf->trapno) {
  case T_DEBUG:
    // A user program set TF and ran sysenter: the single-step trap lands on
    // the kernel's first instruction. Drop TF and go on with the call.
    if ((tf->cs & 3) == 0 && tf->eip == (uint)sysenter_entry) {
      tf->eflags &= ~FL_TF;
      break;
    }
    faulttrap(tf);
    break;
  case T_IRQ0 + IRQ_TIMER:
    if (panicked)
      panicstop();   // in case its IPI was lost
    clockintr();
    lapiceoi();
    break;
  case T_IRQ0 + IRQ_RTC:
    profintr(tf);
    lapiceoi();
    break;
  case T_IRQ0 + IRQ_HALT:
    panicstop();   // another CPU panicked
  case T_IRQ0 + IRQ_SPURIOUS:
  case T_IRQ0 + 7:   // spurious from the 8259 (masked, but may still fire)
    break;
  default:
    if (tf->trapno >= T_IRQ0 && tf->trapno < T_IRQ0 + NIRQ) {
      if (!irqdispatch(tf->trapno - T_IRQ0))
        cprintf("unexpected irq %d\n", tf->trapno - T_IRQ0);
      lapiceoi();
      if (mycpu()->idle)
        netrx_idle();
      break;
    }
    faulttrap(tf);
  }

  // A killed process leaves when it is about to return to user mode.
  p = myproc();
  int touser = p && (tf->cs & 3) == DPL_USER;
  if (touser)
    exitifkilled(p);
  // The timer preempts, and so does a device interrupt that woke a kernel
  // thread (network receive processing runs in one): give up the CPU.
  int resched = mycpu()->needresched;
  mycpu()->needresched = 0;
  if (p && p->state == RUNNING && (tf->trapno == T_IRQ0 + IRQ_TIMER || (resched && !p->kthread)))
    yield();
  if (touser) {
    exitifkilled(p);
    sigdeliver(tf);
  }
}
