// How a user stub enters the kernel (assembly only): sysenter, with the
// return address in %edx and the stack pointer, under which the arguments
// lie as for a C call, in %ecx (kernel/trapasm.S, sysenter_entry). Both
// registers are the caller's to lose in the C calling convention. Under
// emulation this costs a fraction of int $T_SYSCALL, which the kernel also
// still takes.
#ifndef XV6NET_SYSTRAP_H
#define XV6NET_SYSTRAP_H

#define SYSTRAP         \
  movl %esp, %ecx;      \
  movl $9f, %edx;       \
  sysenter;             \
9:

#endif
