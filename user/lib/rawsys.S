// rawsyscall(num, a1, ..., a6) and rawsyscall_int(num, a1, ..., a6): any
// system call with any arguments, the kernel's result returned as it is (a
// negated errno in [-4095, -1], no errno set). The first enters by
// sysenter, the second by int $T_SYSCALL; sysfuzz uses both.
//
// The kernel finds a call's arguments above a return address on the user
// stack, so the six are pushed again below our own frame, under the
// return address that `call` leaves.
#include "kernel/traps.h"
#include "user/lib/systrap.h"

  .text

#define RAWCALL(name, enter)          \
  .globl name;                        \
  .type name, @function;              \
name:                                 \
  pushl %ebp;                         \
  movl %esp, %ebp;                    \
  pushl 32(%ebp);                     \
  pushl 28(%ebp);                     \
  pushl 24(%ebp);                     \
  pushl 20(%ebp);                     \
  pushl 16(%ebp);                     \
  pushl 12(%ebp);                     \
  movl 8(%ebp), %eax;                 \
  call 1f;                            \
  leave;                              \
  ret;                                \
1:                                    \
  enter;                              \
  ret;                                \
  .size name, . - name

RAWCALL(rawsyscall, SYSTRAP)
RAWCALL(rawsyscall_int, int $T_SYSCALL)
