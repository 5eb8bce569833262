// Pipes: a ring buffer in one page, a reading and a writing file.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/stat.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/file.h"
#include "kernel/poll.h"
#include "kernel/signal.h"

#define PIPESIZE (PGSIZE - 128)   // the struct, ring included, fits one page

struct pipe {
  struct spinlock lock;
  uint nread;       // bytes read so far
  uint nwrite;      // bytes written so far
  int readopen;
  int writeopen;
  char data[PIPESIZE];
};

_Static_assert(sizeof(struct pipe) <= PGSIZE, "struct pipe must fit in one page");

static const struct fileops pipeops;

int
pipealloc(struct file **rf, struct file **wf)
{
  struct pipe *pi = 0;
  int err = -ENFILE;

  *rf = *wf = 0;
  if ((*rf = filealloc()) == 0 || (*wf = filealloc()) == 0)
    goto fail;
  err = -ENOMEM;
  if ((pi = (struct pipe *)kalloc()) == 0)
    goto fail;
  initlock(&pi->lock, "pipe");
  pi->readopen = pi->writeopen = 1;
  (*rf)->ops = (*wf)->ops = &pipeops;
  (*rf)->readable = 1;
  (*wf)->writable = 1;
  (*rf)->priv = (*wf)->priv = pi;
  return 0;

fail:
  if (*rf)
    fileclose(*rf);
  if (*wf)
    fileclose(*wf);
  return err;
}

static void
pipeclose(struct file *f)
{
  struct pipe *pi = f->priv;

  acquire(&pi->lock);
  if (f->writable) {
    pi->writeopen = 0;
    wakeup(&pi->nread);
  } else {
    pi->readopen = 0;
    wakeup(&pi->nwrite);
  }
  pollwakeup();   // the other end hangs up (POLLHUP) or errs (POLLERR)
  int gone = !pi->readopen && !pi->writeopen;
  release(&pi->lock);
  if (gone)
    kfree((char *)pi);
}

static int
pipewrite(struct file *f, uint src, int n)
{
  struct pipe *pi = f->priv;
  struct proc *p = myproc();
  int done = 0;

  acquire(&pi->lock);
  while (done < n) {
    if (!pi->readopen || killed(p)) {
      release(&pi->lock);
      if (done > 0)
        return done;
      if (killed(p))
        return -EINTR;
      signalself(SIGPIPE);   // fatal unless caught or ignored, as on Linux
      return -EPIPE;
    }
    if (pi->nwrite == pi->nread + PIPESIZE) {
      if (f->nonblock) {
        release(&pi->lock);
        return done > 0 ? done : -EAGAIN;
      }
      wakeup(&pi->nread);
      sleepintr(&pi->nwrite, &pi->lock);
      continue;
    }
    // Copy up to the end of the ring or the free space, whichever is first.
    uint at = pi->nwrite % PIPESIZE;
    uint room = MIN(PIPESIZE - at, PIPESIZE - (pi->nwrite - pi->nread));
    uint chunk = MIN(room, (uint)(n - done));
    if (copyin(p->pgdir, &pi->data[at], src + done, chunk) < 0) {
      release(&pi->lock);
      return done > 0 ? done : -EFAULT;
    }
    pi->nwrite += chunk;
    done += chunk;
    pollwakeup();   // readable now
  }
  wakeup(&pi->nread);
  release(&pi->lock);
  return done;
}

static int
piperead(struct file *f, uint dst, int n)
{
  struct pipe *pi = f->priv;
  struct proc *p = myproc();
  int done = 0;

  acquire(&pi->lock);
  while (pi->nread == pi->nwrite && pi->writeopen) {
    if (killed(p) || f->nonblock) {
      release(&pi->lock);
      return f->nonblock ? -EAGAIN : -EINTR;
    }
    sleepintr(&pi->nread, &pi->lock);
  }
  while (done < n && pi->nread != pi->nwrite) {
    uint at = pi->nread % PIPESIZE;
    uint avail = MIN(PIPESIZE - at, pi->nwrite - pi->nread);
    uint chunk = MIN(avail, (uint)(n - done));
    if (copyout(p->pgdir, dst + done, &pi->data[at], chunk) < 0) {
      if (done == 0)
        done = -EFAULT;
      break;
    }
    pi->nread += chunk;
    done += chunk;
  }
  if (done > 0)
    pollwakeup();   // room to write now
  wakeup(&pi->nwrite);
  release(&pi->lock);
  return done;
}

static int
pipestat(struct file *f, struct stat *st)
{
  struct pipe *pi = f->priv;
  memset(st, 0, sizeof *st);
  st->type = T_PIPE;
  st->nlink = 1;
  st->size = pi->nwrite - pi->nread;
  return 0;
}

// As Linux's: the read end is readable with data in the ring and hung up
// (POLLHUP: a read returns 0) once every writer is gone; the write end is
// writable with room for a byte, and errs once every reader is gone (a
// write is EPIPE).
static int
pipepoll(struct file *f, int events)
{
  struct pipe *pi = f->priv;
  int ready = 0;

  (void)events;
  acquire(&pi->lock);
  uint used = pi->nwrite - pi->nread;
  if (f->readable) {
    ready |= used > 0 ? POLLIN : 0;
    ready |= pi->writeopen ? 0 : POLLHUP;
  }
  if (f->writable) {
    ready |= used < PIPESIZE ? POLLOUT : 0;
    ready |= pi->readopen ? 0 : POLLERR;
  }
  release(&pi->lock);
  return ready;
}

static const struct fileops pipeops = {
  .read = piperead,
  .write = pipewrite,
  .close = pipeclose,
  .stat = pipestat,
  .poll = pipepoll,
};
