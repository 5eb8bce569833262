// System call dispatch and argument fetching. Arguments live on the user
// stack above the return address of the user stub: int n is at esp+4+4n.
// Everything is read with copyin, so a bad user %esp or pointer gives
// -EFAULT, never a kernel fault.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/x86.h"
#include "kernel/syscall.h"
#include "kernel/file.h"
#include "kernel/net/netos.h"   // RXPROF_*

int
arguint(int n, uint *ip)
{
  struct proc *p = myproc();
  return copyin(p->pgdir, ip, p->tf->esp + 4 + 4 * n, 4);
}

// Arguments 0..n-1 with one copyin (the hot socket calls take six).
int
argblock(uint *args, int n)
{
  struct proc *p = myproc();
  return copyin(p->pgdir, args, p->tf->esp + 4, 4 * n);
}

int
argint(int n, int *ip)
{
  return arguint(n, (uint *)ip);
}

// Copy the string that argument n points to into buf (max bytes with the
// NUL); returns its length or a negative error.
int
argstr(int n, char *buf, int max)
{
  uint addr;
  int err = arguint(n, &addr);
  if (err < 0)
    return err;
  return copyinstr(myproc()->pgdir, buf, addr, max);
}

// fd as an open file descriptor of the calling process.
int
fdfile(int fd, struct file **pf)
{
  struct file *f;
  if (fd < 0 || fd >= NOFILE || (f = myproc()->ofile[fd]) == 0)
    return -EBADF;
  *pf = f;
  return 0;
}

// Argument n as an open file descriptor.
int
argfd(int n, int *pfd, struct file **pf)
{
  int fd, err;
  struct file *f;

  if (argint(n, &fd) < 0)
    return -EFAULT;
  if ((err = fdfile(fd, &f)) < 0)
    return err;
  if (pfd)
    *pfd = fd;
  if (pf)
    *pf = f;
  return 0;
}

extern int sys_chdir(void);
extern int sys_close(void);
extern int sys_dup(void);
extern int sys_exec(void);
extern int sys_exit(void);
extern int sys_fork(void);
extern int sys_fstat(void);
extern int sys_getpid(void);
extern int sys_getppid(void);
extern int sys_kill(void);
extern int sys_open(void);
extern int sys_pipe(void);
extern int sys_read(void);
extern int sys_sbrk(void);
extern int sys_sleep(void);
extern int sys_uptime(void);
extern int sys_wait(void);
extern int sys_write(void);
extern int sys_socket(void);
extern int sys_bind(void);
extern int sys_sendto(void);
extern int sys_recvfrom(void);
extern int sys_setsockopt(void);
extern int sys_netifget(void);
extern int sys_netstat(void);
extern int sys_netifset(void);
extern int sys_create_arp(void);
extern int sys_arplist(void);
extern int sys_arpset(void);
extern int sys_arpdel(void);
extern int sys_clock(void);
extern int sys_connect(void);
extern int sys_getsockname(void);
extern int sys_getsockopt(void);
extern int sys_routelist(void);
extern int sys_routeadd(void);
extern int sys_routedel(void);
extern int sys_socklist(void);
extern int sys_kprof(void);
extern int sys_setpgid(void);
extern int sys_getpgid(void);
extern int sys_tcsetpgrp(void);
extern int sys_tcgetpgrp(void);
extern int sys_sigaction(void);
extern int sys_sigreturn(void);
extern int sys_waitpid(void);
extern int sys_unlink(void);
extern int sys_mkdir(void);
extern int sys_rmdir(void);
extern int sys_rename(void);
extern int sys_ftruncate(void);
extern int sys_truncate(void);
extern int sys_lseek(void);
extern int sys_statfs(void);
extern int sys_getrandom(void);
extern int sys_sysinfo(void);
extern int sys_sysctl(void);
extern int sys_sysctlname(void);
extern int sys_poll(void);
extern int sys_listen(void);
extern int sys_accept(void);
extern int sys_shutdown(void);
extern int sys_getpeername(void);
extern int sys_tcplist(void);
extern int sys_lockstat(void);
extern int sys_lockorder(void);
extern int sys_nettrace(void);
extern int sys_nettraceread(void);
extern int sys_fcntl(void);

static int (*syscalls[NSYSCALL])(void) = {
  [SYS_fork]    sys_fork,
  [SYS_exit]    sys_exit,
  [SYS_wait]    sys_wait,
  [SYS_pipe]    sys_pipe,
  [SYS_read]    sys_read,
  [SYS_kill]    sys_kill,
  [SYS_exec]    sys_exec,
  [SYS_fstat]   sys_fstat,
  [SYS_chdir]   sys_chdir,
  [SYS_dup]     sys_dup,
  [SYS_getpid]  sys_getpid,
  [SYS_sbrk]    sys_sbrk,
  [SYS_sleep]   sys_sleep,
  [SYS_uptime]  sys_uptime,
  [SYS_open]    sys_open,
  [SYS_write]   sys_write,
  [SYS_close]   sys_close,
  [SYS_getppid] sys_getppid,
  [SYS_socket]  sys_socket,
  [SYS_bind]    sys_bind,
  [SYS_sendto]  sys_sendto,
  [SYS_recvfrom] sys_recvfrom,
  [SYS_setsockopt] sys_setsockopt,
  [SYS_netifget] sys_netifget,
  [SYS_netstat] sys_netstat,
  [SYS_netifset] sys_netifset,
  [SYS_create_arp] sys_create_arp,
  [SYS_arplist] sys_arplist,
  [SYS_arpset]  sys_arpset,
  [SYS_arpdel]  sys_arpdel,
  [SYS_clock]   sys_clock,
  [SYS_connect] sys_connect,
  [SYS_getsockname] sys_getsockname,
  [SYS_getsockopt] sys_getsockopt,
  [SYS_routelist] sys_routelist,
  [SYS_routeadd] sys_routeadd,
  [SYS_routedel] sys_routedel,
  [SYS_socklist] sys_socklist,
  [SYS_kprof]   sys_kprof,
  [SYS_setpgid] sys_setpgid,
  [SYS_getpgid] sys_getpgid,
  [SYS_tcsetpgrp] sys_tcsetpgrp,
  [SYS_tcgetpgrp] sys_tcgetpgrp,
  [SYS_sigaction] sys_sigaction,
  [SYS_sigreturn] sys_sigreturn,
  [SYS_waitpid] sys_waitpid,
  [SYS_unlink]  sys_unlink,
  [SYS_mkdir]   sys_mkdir,
  [SYS_rmdir]   sys_rmdir,
  [SYS_rename]  sys_rename,
  [SYS_ftruncate] sys_ftruncate,
  [SYS_truncate] sys_truncate,
  [SYS_lseek]   sys_lseek,
  [SYS_statfs]  sys_statfs,
  [SYS_getrandom] sys_getrandom,
  [SYS_sysinfo] sys_sysinfo,
  [SYS_sysctl]  sys_sysctl,
  [SYS_sysctlname] sys_sysctlname,
  [SYS_poll]    sys_poll,
  [SYS_listen]  sys_listen,
  [SYS_accept]  sys_accept,
  [SYS_shutdown] sys_shutdown,
  [SYS_getpeername] sys_getpeername,
  [SYS_tcplist] sys_tcplist,
  [SYS_fcntl]   sys_fcntl,
  [SYS_lockstat] sys_lockstat,
  [SYS_lockorder] sys_lockorder,
  [SYS_nettrace] sys_nettrace,
  [SYS_nettraceread] sys_nettraceread,
};

void
syscall(void)
{
  struct proc *p = myproc();
  uint num = p->tf->eax;

  if (num < NELEM(syscalls) && syscalls[num]) {
    RXPROF_BEGIN(t);
    p->tf->eax = syscalls[num]();
    RXPROF_END(RXP_SYSCALL, t);
  }
  else
    p->tf->eax = -ENOSYS;
}
