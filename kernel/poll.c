// poll(2): wait until one of several files is ready, a signal comes, or a
// timeout runs out.
//
// The wait is one generation counter and one sleep channel for the whole
// system (docs/kernel.md, "Waiting on several files"). A poller counts
// itself in `pollers`, reads the generation, asks every file whether it is
// ready (fileops.poll), and if none is, sleeps on the counter unless the
// generation moved meanwhile. Every source of readiness (a pipe's read,
// write and close, console input, a socket's enqueue and error) calls
// pollwakeup() after the change, which bumps the generation and wakes all
// pollers; each looks at its own files again and goes back to sleep if
// none of them changed. No file keeps a list of who waits on it, so there
// is nothing to register, unhook or leak when a poller is killed.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/file.h"
#include "kernel/poll.h"
#include "kernel/ticks.h"

_Static_assert(1000 % HZ == 0, "a tick is a whole number of milliseconds");
_Static_assert(POLL_MAXFDS * sizeof(struct pollfd) <= PGSIZE, "one page of pollfds");

#define MSPERTICK (1000 / HZ)

static struct spinlock polllock = { 0, "poll", 0 };
static uint pollgen;          // bumped by every readiness change someone waits for
static volatile int pollers;  // processes inside poll() (polllock)

// A file may have become ready: wake every poller to look again.
//
// Called with the lock that guards the source's state held, right after
// the change. That is what makes the unlocked look at `pollers` safe: a
// poller counts itself before it takes that same lock to look at the
// file, so either it looks after the change (and sees it), or its count
// is visible here (and it is woken, or sees the generation move before it
// sleeps). With nobody polling, a datagram costs one load here, not a
// walk of the process table.
void
pollwakeup(void)
{
  if (pollers == 0)
    return;
  acquire(&polllock);
  pollgen++;
  wakeup(&pollgen);
  release(&polllock);
}

// Fill in revents for each entry; the number of entries with any.
static int
pollscan(struct pollfd *fds, int nfds)
{
  int n = 0;

  for (int i = 0; i < nfds; i++) {
    struct file *f;
    fds[i].revents = 0;
    if (fds[i].fd < 0)
      continue;
    if (fdfile(fds[i].fd, &f) < 0)
      fds[i].revents = POLLNVAL;
    else
      fds[i].revents = filepoll(f, fds[i].events & 0xffff);
    n += fds[i].revents != 0;
  }
  return n;
}

// Ticks to wait for timeout ms (rounded up), as a deadline; 0 for none.
static uint
polldeadline(int timeout)
{
  if (timeout < 0)
    return 0;
  uint t = readticks() + (uint)timeout / MSPERTICK + ((uint)timeout % MSPERTICK != 0) + 1;
  return t ? t : 1;   // 0 would mean forever
}

// Scan until something is ready, the deadline passes, or a signal comes.
// The extra tick in the deadline makes up for the part of the current
// tick already gone: the wait is never shorter than asked.
static int
pollwait(struct pollfd *fds, int nfds, int timeout)
{
  struct proc *p = myproc();
  uint deadline = polldeadline(timeout);
  int n;

  acquire(&polllock);
  pollers++;
  for (;;) {
    uint gen = pollgen;
    release(&polllock);
    if ((n = pollscan(fds, nfds)) > 0 || timeout == 0)
      break;
    if (killed(p)) {
      n = -EINTR;
      break;
    }
    acquire(&polllock);
    if (deadline && (int)(readticks() - deadline) >= 0) {
      release(&polllock);
      break;
    }
    if (pollgen == gen)
      sleepdeadline(&pollgen, &polllock, deadline);
  }
  acquire(&polllock);
  pollers--;
  release(&polllock);
  return n;
}

// poll(struct pollfd *fds, nfds, timeout ms): -1 waits for ever, 0 not at
// all. Returns the number of entries with revents set, 0 on timeout.
int
sys_poll(void)
{
  uint ufds;
  int nfds, timeout;

  if (arguint(0, &ufds) < 0 || argint(1, &nfds) < 0 || argint(2, &timeout) < 0)
    return -EFAULT;
  if (nfds < 0 || nfds > POLL_MAXFDS)
    return -EINVAL;
  uint size = nfds * sizeof(struct pollfd);
  struct pollfd *fds = (struct pollfd *)kalloc();
  if (fds == 0)
    return -ENOMEM;
  pde_t *pgdir = myproc()->pgdir;
  int n = -EFAULT;
  if (copyin(pgdir, fds, ufds, size) == 0) {
    n = pollwait(fds, nfds, timeout);
    if (n >= 0 && copyout(pgdir, ufds, fds, size) < 0)
      n = -EFAULT;
  }
  kfree((char *)fds);
  return n;
}
