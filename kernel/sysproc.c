// Process-related system calls.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

int
sys_fork(void)
{
  return fork();
}

int
sys_exit(void)
{
  int status;
  if (argint(0, &status) < 0)
    status = -1;
  exit(status);
}

int
sys_wait(void)
{
  uint status_uva;
  if (arguint(0, &status_uva) < 0)
    return -EFAULT;
  return wait(status_uva);
}

int
sys_kill(void)
{
  int pid;
  if (argint(0, &pid) < 0)
    return -EFAULT;
  return kill(pid);
}

int
sys_getpid(void)
{
  return myproc()->pid;
}

int
sys_getppid(void)
{
  return getppid();
}

int
sys_sbrk(void)
{
  int n, err;
  if (argint(0, &n) < 0)
    return -EFAULT;
  uint old = myproc()->sz;
  if ((err = growproc(n)) < 0)
    return err;
  return old;
}

int
sys_sleep(void)
{
  int n;
  if (argint(0, &n) < 0)
    return -EFAULT;
  if (n < 0)
    return -EINVAL;
  acquire(&tickslock);
  uint ticks0 = ticks;
  while (ticks - ticks0 < (uint)n) {
    if (killed(myproc())) {
      release(&tickslock);
      return -EINTR;
    }
    sleep(&ticks, &tickslock);
  }
  release(&tickslock);
  return 0;
}

int
sys_uptime(void)
{
  acquire(&tickslock);
  uint t = ticks;
  release(&tickslock);
  return t;
}

#define GRND_NONBLOCK 0x1
#define GRND_RANDOM   0x2

// getrandom(buf, len, flags), as on Linux: fills buf (never blocks: the
// generator is ready from boot) and returns len.
int
sys_getrandom(void)
{
  uint uva, n;
  int len, flags;
  uchar chunk[256];

  if (arguint(0, &uva) < 0 || argint(1, &len) < 0 || argint(2, &flags) < 0)
    return -EFAULT;
  if (len < 0 || (flags & ~(GRND_NONBLOCK | GRND_RANDOM)))
    return -EINVAL;
  for (uint done = 0; done < (uint)len; done += n) {
    n = MIN(sizeof chunk, (uint)len - done);
    random_get(chunk, n);
    if (copyout(myproc()->pgdir, uva + done, chunk, n) < 0) {
      memset(chunk, 0, sizeof chunk);
      return done > 0 ? (int)done : -EFAULT;
    }
  }
  memset(chunk, 0, sizeof chunk);
  return len;
}
