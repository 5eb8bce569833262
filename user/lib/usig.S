// System call stubs for job control and signals (see usys.S for the
// convention), and the restorer that a signal handler returns into.
#include "kernel/syscall.h"
#include "kernel/traps.h"
#include "kernel/errno.h"
#include "user/lib/systrap.h"

#define SIGCALL(name, number)         \
  .globl name;                        \
  .type name, @function;              \
name:                                 \
  movl $number, %eax;                 \
  SYSTRAP;                            \
  cmpl $-MAXERRNO, %eax;              \
  jae 1f;                             \
  ret;                                \
1:                                    \
  negl %eax;                          \
  movl %eax, errno;                   \
  movl $-1, %eax;                     \
  ret;                                \
  .size name, . - name

  .text
SIGCALL(setpgid, SYS_setpgid)
SIGCALL(getpgid, SYS_getpgid)
SIGCALL(tcsetpgrp, SYS_tcsetpgrp)
SIGCALL(tcgetpgrp, SYS_tcgetpgrp)
SIGCALL(waitpid, SYS_waitpid)
SIGCALL(__sigaction, SYS_sigaction)   // the raw call: user/lib/signal.c wraps it

// A handler returns here (its frame's return address, kernel/signal.c),
// with %esp just above that address. sigreturn never comes back: the
// kernel resumes whatever the signal interrupted. It must be int, not
// sysenter, whose exit clobbers %ecx and %edx.
  .globl __sigrestore
  .type __sigrestore, @function
__sigrestore:
  movl $SYS_sigreturn, %eax
  int $T_SYSCALL
  ud2
  .size __sigrestore, . - __sigrestore
