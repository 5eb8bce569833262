#ifndef XV6NET_PROC_H
#define XV6NET_PROC_H
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/mmu.h"
#include "kernel/signal.h"
#include "kernel/spinlock.h"

// Per-CPU state.
struct cpu {
  uchar apicid;                // local APIC id
  struct context *scheduler;   // swtch() here to enter the scheduler
  struct taskstate ts;         // gives the kernel stack for traps from user mode
  struct segdesc gdt[NSEGS];
  volatile uint started;
  char *stack;                 // bottom of its scheduler stack (guard page below)
  int ncli;                    // depth of pushcli nesting
  int intena;                  // were interrupts on before the outermost pushcli?
  struct proc *proc;           // the process running here, or 0
  int needresched;             // a boosted process was woken: yield at the end of the trap
  int boostrun;                // boosted picks in a row while others wait (see scheduler)
  pde_t *curpgdir;             // the page directory in %cr3
  uint sysenter_esp;           // what MSR_SYSENTER_ESP holds (the kernel stack top)
  volatile int idle;           // halted in the scheduler: no process, no lock (see trap)
  uint64 idlesince;            // clockus() when the current halt began, 0 when not halted
  uint64 idleus;               // microseconds spent halted since boot (idleend)
  struct lockheld held[NLOCKHELD];  // spinlocks held, for the lock-order checker
  int nheld;
};

extern struct cpu cpus[NCPU];
extern int ncpu;

// Callee-saved registers for kernel context switches; %eip is the return
// address that swtch's call pushed. Lives at the bottom of the stack it
// describes.
struct context {
  uint edi;
  uint esi;
  uint ebx;
  uint ebp;
  uint eip;
};

enum procstate { UNUSED, EMBRYO, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

struct proc {
  uint sz;                     // bytes of user memory (the break)
  uint brkmin;                 // sbrk cannot shrink the break below this
  pde_t *pgdir;
  char *kstack;                // bottom of the kernel stack (guard page below)
  int slot;                    // index in the process table (names the kstack slot)
  enum procstate state;
  int pid;
  struct proc *parent;
  struct trapframe *tf;        // trap frame of the current system call or trap
  struct context *context;
  void *chan;                  // sleeping on this, when SLEEPING
  uint wakeat;                 // also wake at this tick (0 = never)
  int killed;                  // leave at the next return to user mode
  int killsig;                 // the signal that killed it (exit status 128 + it), or 0
  int xstate;                  // exit status for wait()
  int pgid;                    // process group (job control: ^C signals the console's)
  uint sigpending;             // signals sent and not yet acted on (SIGBIT)
  uint sigmask;                // signals held back, e.g. the one whose handler runs
  struct sigaction sigact[NSIG];
  int kthread;                 // a kernel thread: never runs in user mode
  int boost;                   // woken from a sleep: runs before the round robin (see scheduler)
  struct lockheld sheld[NSLEEPHELD];  // sleeplocks held, for the lock-order checker
  int nsheld;
  struct file *ofile[NOFILE];
  struct inode *cwd;
  char name[16];
};

#endif
