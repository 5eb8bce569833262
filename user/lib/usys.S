// System call stubs. The arguments are already on the stack where the
// kernel looks for them (as for a C call), so a stub only loads the call
// number and enters the kernel. A result in [-4095, -1] is a negated errno
// value.
#include "kernel/syscall.h"
#include "kernel/traps.h"
#include "kernel/errno.h"
#include "user/lib/systrap.h"

// A C-preprocessor macro (not .macro) so that SYS_##name is expanded.
// The compare is unsigned: %eax >= (uint)-MAXERRNO means an error.
#define SYSCALL(name)                 \
  .globl name;                        \
  .type name, @function;              \
name:                                 \
  movl $SYS_##name, %eax;             \
  SYSTRAP;                            \
  cmpl $-MAXERRNO, %eax;              \
  jae __syscall_error;                \
  ret;                                \
  .size name, . - name

  .text

// Shared error path: errno = -%eax, return -1.
__syscall_error:
  negl %eax
  movl %eax, errno
  movl $-1, %eax
  ret

SYSCALL(fork)
SYSCALL(kprof)
SYSCALL(wait)
SYSCALL(pipe)
SYSCALL(read)
SYSCALL(write)
SYSCALL(close)
SYSCALL(kill)
SYSCALL(exec)
SYSCALL(open)
SYSCALL(fstat)
SYSCALL(chdir)
SYSCALL(dup)
SYSCALL(getpid)
SYSCALL(getppid)
SYSCALL(sbrk)
SYSCALL(sleep)
SYSCALL(uptime)
SYSCALL(unlink)
SYSCALL(mkdir)
SYSCALL(rmdir)
SYSCALL(rename)
SYSCALL(ftruncate)
SYSCALL(truncate)
SYSCALL(lseek)
SYSCALL(statfs)
SYSCALL(getrandom)

// exit never returns; if the kernel ever did return, fault on purpose
// rather than run off into whatever follows.
  .globl exit
  .type exit, @function
exit:
  movl $SYS_exit, %eax
  int $T_SYSCALL
  ud2
  .size exit, . - exit
SYSCALL(sysinfo)
SYSCALL(poll)
SYSCALL(lockstat)
SYSCALL(lockorder)
SYSCALL(nettrace)
SYSCALL(nettraceread)
SYSCALL(fcntl)
