#include "kernel/mmu.h"
#include "kernel/traps.h"

# The part of a struct trapframe below what the CPU (or sysenter_entry) and
# the vector stub pushed: segment registers and general registers; then the
# kernel's data segments, and DF clear (user mode may have left it set).
.macro savetrapframe
  pushl %ds
  pushl %es
  pushl %fs
  pushl %gs
  pushal
  movw $(SEG_KDATA << 3), %ax
  movw %ax, %ds
  movw %ax, %es
  cld
.endm

# Undo savetrapframe and drop trapno and err: the CPU's part is left on top.
.macro poptrapframe
  popal
  popl %gs
  popl %fs
  popl %es
  popl %ds
  addl $8, %esp
.endm

# Every trap arrives here from a vector stub: build a struct trapframe on the
# kernel stack, switch to kernel data segments, call trap(tf).
.globl alltraps
alltraps:
  savetrapframe
  pushl %esp
  call trap
  addl $4, %esp

# Return to whatever the trap frame at %esp describes. A new process's first
# return to user space also starts here (see allocproc).
.globl trapret
trapret:
  poptrapframe
  iret

# A system call by sysenter (user/lib/usys.S): the CPU has loaded the kernel
# code and stack segments, %esp from MSR_SYSENTER_ESP (this process's kernel
# stack top, as for a trap from user mode) and cleared IF; the stub passed
# its return address in %edx and its stack pointer in %ecx. Build the same
# struct trapframe as int $T_SYSCALL would, so that trap() (and fork, exec)
# cannot tell the two apart, and leave by sysexit to whatever eip and esp the
# frame holds then (exec changes them). A new process still starts through
# trapret (iret).
.globl sysenter_entry
sysenter_entry:
  pushl $((SEG_UDATA << 3) | DPL_USER)   # ss
  pushl %ecx                              # esp
  pushfl
  orl $FL_IF, (%esp)                      # user mode always runs with interrupts on
  pushl $FL_FIXED                         # the kernel's own flags: unlike a gate,
  popfl                                   # sysenter leaves DF, NT, AC and TF as they were
  pushl $((SEG_UCODE << 3) | DPL_USER)   # cs
  pushl %edx                              # eip
  pushl $0                                # err
  pushl $T_SYSCALL                        # trapno
  savetrapframe
  sti                                     # as under int $T_SYSCALL's trap gate

  pushl %esp
  call trap
  addl $4, %esp

  cli
  poptrapframe
  movl 0(%esp), %edx                      # sysexit: eip from %edx
  movl 12(%esp), %ecx                     #          esp from %ecx
  andl $~FL_IF, 8(%esp)
  addl $8, %esp                           # eip, cs: eflags is on top
  popfl                                   # the user's flags, interrupts still off
  sti                                     # on again after the next instruction:
  sysexit                                 # in user mode
