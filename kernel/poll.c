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
