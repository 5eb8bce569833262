#include "kernel/mmu.h"

# Every trap arrives here from a vector stub: build a struct trapframe on the
# kernel stack, switch to kernel data segments, call trap(tf).
.globl alltraps
alltraps:
  pushl %ds
  pushl %es
  pushl %fs
  pushl %gs
  pushal

  movw $(SEG_KDATA << 3), %ax
  movw %ax, %ds
  movw %ax, %es

  pushl %esp
  call trap
  addl $4, %esp

# Return to whatever the trap frame at %esp describes. A new process's first
# return to user space also starts here (see allocproc).
.globl trapret
trapret:
  popal
  popl %gs
  popl %fs
  popl %es
  popl %ds
  addl $8, %esp    # trapno and err
  iret
