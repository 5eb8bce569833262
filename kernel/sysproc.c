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
#include "kernel/sysinfo.h"
#include "kernel/socket.h"
#include "kernel/net/netdev.h"
#include "kernel/net/sock.h"
#include "kernel/stat.h"
#include "kernel/file.h"

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
  return waitpid(-1, status_uva, 0);
}

// waitpid(pid, int *status, options)
int
sys_waitpid(void)
{
  int pid, options;
  uint status_uva;
  if (argint(0, &pid) < 0 || arguint(1, &status_uva) < 0 || argint(2, &options) < 0)
    return -EFAULT;
  return waitpid(pid, status_uva, options);
}

// kill(pid, sig), as Linux's.
int
sys_kill(void)
{
  int pid, sig;
  if (argint(0, &pid) < 0 || argint(1, &sig) < 0)
    return -EFAULT;
  return kill(pid, sig);
}

int
sys_setpgid(void)
{
  int pid, pgid;
  if (argint(0, &pid) < 0 || argint(1, &pgid) < 0)
    return -EFAULT;
  return setpgid(pid, pgid);
}

int
sys_getpgid(void)
{
  int pid;
  if (argint(0, &pid) < 0)
    return -EFAULT;
  return getpgid(pid);
}

// Argument n as a descriptor open on the console, the only terminal.
static int
argconsole(int n)
{
  struct file *f;
  struct stat st;
  int err;
  if ((err = argfd(n, 0, &f)) < 0)
    return err;
  if (filestat(f, &st) < 0 || st.type != T_DEV || st.dev != DEV_CONSOLE)
    return -ENOTTY;
  return 0;
}

// tcsetpgrp(fd, pgid): make pgid the console's foreground process group,
// the one ^C and ^\ signal. The group must exist.
int
sys_tcsetpgrp(void)
{
  int pgid, err;
  if ((err = argconsole(0)) < 0)
    return err;
  if (argint(1, &pgid) < 0)
    return -EFAULT;
  if (pgid <= 0)
    return -EINVAL;
  if (!pgidexists(pgid))
    return -EPERM;
  consolesetpgrp(pgid);
  return 0;
}

int
sys_tcgetpgrp(void)
{
  int err;
  if ((err = argconsole(0)) < 0)
    return err;
  return consolegetpgrp();
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
    sleepintr(&ticks, &tickslock);
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

int
sys_sysinfo(void)
{
  uint uva;
  struct sysinfo info;
  struct netstat_info net;

  if (arguint(0, &uva) < 0)
    return -EFAULT;
  rxprof_print();
  memset(&info, 0, sizeof info);
  info.uptime = readticks();
  info.freepages = kfreecount();
  int procs, kstacks;
  proccount(&procs, &kstacks);
  info.procs = procs;
  info.kstackpages = kstacks * (KSTACKSIZE / PGSIZE);
  info.files = filecount();
  info.sockets = sock_count();
  net_stats(&net);
  info.pbuf_free = net.pbuf_free;
  info.pbuf_total = net.pbuf_total;
  info.bigpbuf_free = net.bigpbuf_free;
  info.bigpbuf_total = net.bigpbuf_total;
  info.shortpbuf_free = net.shortpbuf_free;
  info.shortpbuf_total = net.shortpbuf_total;
  uartstats(&info.uartdropped, &info.uartwaitmax);
  info.ncpu = ncpu;
  idletime(&info.idleus, &info.clockus);
  return copyout(myproc()->pgdir, uva, &info, sizeof info);
}
