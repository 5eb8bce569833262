# The application processors' start (issue 17). startothers (main.c) copies
# apstart..apend to APSTART, below 1 MiB where a STARTUP IPI can point, and
# leaves three words just below it: the entry page directory's physical
# address (APSTART-12), the C function to call (APSTART-8) and the top of
# this CPU's stack (APSTART-4). An AP starts here in real mode at
# APSTART:0 with segment 0 (the SIPI vector is APSTART >> 12), so the code
# is assembled for wherever it sits in the kernel but runs from APSTART:
# every address it uses is made with REL().

#include "kernel/mmu.h"
#include "kernel/memlayout.h"

#define APSTART 0x7000
#define REL(x) ((x) - apstart + APSTART)

.text
.code16
.globl apstart
apstart:
  cli
  cld
  xorw %ax, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  lgdtl REL(apgdtdesc)
  movl %cr0, %eax
  orl  $CR0_PE, %eax
  movl %eax, %cr0
  ljmpl $(SEG_KCODE << 3), $REL(apstart32)

.code32
apstart32:
  movw $(SEG_KDATA << 3), %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  xorw %ax, %ax
  movw %ax, %fs
  movw %ax, %gs
  # Paging with the boot page directory (4 MiB pages: low memory mapped at
  # 0, so this code keeps running, and at KERNBASE, where the kernel is).
  movl %cr4, %eax
  orl  $CR4_PSE, %eax
  movl %eax, %cr4
  movl (APSTART - 12), %eax
  movl %eax, %cr3
  movl %cr0, %eax
  orl  $(CR0_PG | CR0_WP), %eax
  movl %eax, %cr0
  movl (APSTART - 4), %esp
  xorl %ebp, %ebp            # ends backtraces
  pushl $0
  call *(APSTART - 8)
1:
  hlt
  jmp 1b

# A flat GDT for the way in: null, code (execute/read), data (read/write),
# base 0, limit 4 GiB, 32-bit. The kernel loads its own in seginit.
.p2align 3
apgdt:
  .quad 0
  .quad 0x00CF9A000000FFFF
  .quad 0x00CF92000000FFFF
apgdtdesc:
  .word apgdtdesc - apgdt - 1
  .long REL(apgdt)
.globl apend
apend:
