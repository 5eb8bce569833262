// Signal delivery: running a user handler and coming back from it.
//
// kill() (proc.c) marks a signal pending and ends any sleep the target is
// in. Just before a process returns to user mode, trap() calls sigdeliver:
// a pending signal whose action is the default ends the process (exit
// status 128 + the signal), an ignored one is dropped, and a caught one
// makes the process enter its handler with a signal frame on its user
// stack: the interrupted registers, the mask to restore, the signal number
// as the handler's argument, and as return address the restorer, a stub in
// the user library that calls sigreturn. sigreturn puts the saved state
// back, so the program goes on where it was (a system call the signal cut
// short returns EINTR).
//
// The restorer must enter the kernel with int $T_SYSCALL: the sysenter
// path leaves by sysexit, which clobbers %ecx and %edx, and the interrupted
// code (say, a loop the timer preempted) may have live values there.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/x86.h"
#include "kernel/proc.h"
#include "kernel/signal.h"

// What delivery pushes on the user stack. The handler starts with %esp at
// ret, as after a call; its ret pops it and lands in the restorer.
struct sigframe {
  uint ret;                  // the restorer
  int sig;                   // the handler's argument
  uint mask;                 // sigmask before the handler
  struct trapframe tf;       // the interrupted state
};

// The flags a user program may set: arithmetic, direction. Not TF, IOPL,
// NT, VM or IF (user mode always runs with interrupts on).
#define FL_USER 0x00000CD5

// Pushes a frame for sig's handler and points tf at the handler. Returns
// -1 if the frame cannot be written (the stack is bad or full).
static int
pushframe(struct proc *p, struct trapframe *tf, int sig)
{
  struct sigaction *sa = &p->sigact[sig];
  struct sigframe fr;

  fr.ret = (uint)sa->sa_restorer;
  fr.sig = sig;
  fr.mask = p->sigmask;
  fr.tf = *tf;
  // Below the interrupted stack, so that the handler's own calls are
  // 16-byte aligned as the i386 ABI has it (%esp + 4 at entry).
  uint sp = ((tf->esp - sizeof fr) & ~15u) - 4;
  if (sp >= tf->esp || copyout(p->pgdir, sp, &fr, sizeof fr) < 0)
    return -1;
  tf->esp = sp;
  tf->eip = (uint)sa->sa_handler;
  p->sigmask |= (sa->sa_mask | SIGBIT(sig)) & ~SIGBIT(SIGKILL);
  return 0;
}

// Acts on p's pending signals as it is about to return to user mode with
// tf. At most one handler is entered at a time; the signals still pending
// are acted on at the next return (sigreturn's, at the latest).
void
sigdeliver(struct trapframe *tf)
{
  struct proc *p = myproc();
  int sig;

  while ((sig = sigtake(p)) != 0) {
    sighandler_t h = p->sigact[sig].sa_handler;
    if (h == SIG_IGN || (h == SIG_DFL && (sig == SIGCHLD || p->pid == 1)))
      continue;
    if (h == SIG_DFL)
      exit(SIGSTATUS(sig));
    if (pushframe(p, tf, sig) < 0) {
      cprintf("pid %d %s: no room for signal %d's frame at esp %p -- killed\n",
              p->pid, p->name, sig, tf->esp);
      exit(-1);
    }
    return;
  }
}

// exec: handlers go back to the default (the code they were in is gone);
// "ignore" stays, as POSIX says, so that nohup-style set-ups work.
void
sigexec(struct proc *p)
{
  for (int sig = 1; sig < NSIG; sig++) {
    if (p->sigact[sig].sa_handler != SIG_IGN)
      p->sigact[sig].sa_handler = SIG_DFL;
    p->sigact[sig].sa_restorer = 0;
    p->sigact[sig].sa_flags = 0;
    p->sigact[sig].sa_mask = 0;
  }
}

static int
sigactcheck(int sig, struct sigaction *sa)
{
  if (sig == SIGKILL)
    return -EINVAL;
  if (sa->sa_flags & ~SA_RESTORER)
    return -EINVAL;
  if (sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN &&
      (!(sa->sa_flags & SA_RESTORER) || sa->sa_restorer == 0))
    return -EINVAL;
  return 0;
}

// sigaction(sig, const struct sigaction *act, struct sigaction *old):
// either pointer may be 0.
int
sys_sigaction(void)
{
  struct proc *p = myproc();
  struct sigaction sa;
  uint act, old;
  int sig, err;

  if (argint(0, &sig) < 0 || arguint(1, &act) < 0 || arguint(2, &old) < 0)
    return -EFAULT;
  if (sig <= 0 || sig >= NSIG)
    return -EINVAL;
  if (act) {
    if (copyin(p->pgdir, &sa, act, sizeof sa) < 0)
      return -EFAULT;
    if ((err = sigactcheck(sig, &sa)) < 0)
      return err;
  }
  if (old && copyout(p->pgdir, old, &p->sigact[sig], sizeof p->sigact[sig]) < 0)
    return -EFAULT;
  if (act) {
    p->sigact[sig] = sa;
    if (sa.sa_handler == SIG_IGN || (sa.sa_handler == SIG_DFL && sig == SIGCHLD))
      sigdiscard(p, sig);
  }
  return 0;
}

// The restorer's call, with %esp where the handler's ret left it: just
// above the frame's return address. Only the registers a program can set
// itself are taken back from the frame; segments stay the caller's user
// segments and the flags are filtered, so a forged frame buys nothing.
int
sys_sigreturn(void)
{
  struct proc *p = myproc();
  struct trapframe *tf = p->tf;
  struct sigframe fr;

  if (copyin(p->pgdir, &fr, tf->esp - 4, sizeof fr) < 0) {
    cprintf("pid %d %s: sigreturn with a bad frame at esp %p -- killed\n",
            p->pid, p->name, tf->esp);
    exit(-1);
  }
  tf->edi = fr.tf.edi;
  tf->esi = fr.tf.esi;
  tf->ebp = fr.tf.ebp;
  tf->ebx = fr.tf.ebx;
  tf->edx = fr.tf.edx;
  tf->ecx = fr.tf.ecx;
  tf->eip = fr.tf.eip;
  tf->esp = fr.tf.esp;
  tf->eflags = (fr.tf.eflags & FL_USER) | FL_IF | FL_FIXED;
  p->sigmask = fr.mask & ~SIGBIT(SIGKILL);
  return fr.tf.eax;   // syscall() stores the result in %eax: the saved one
}
