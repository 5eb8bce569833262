# Kernel entry from a multiboot v1 loader (QEMU -kernel, GRUB).
#
# The loader jumps to _start in 32-bit protected mode with paging off,
# %eax = 0x2BADB002 and %ebx = the physical address of the multiboot
# information. The kernel is linked at KERNLINK but loaded at EXTMEM, so until
# paging is on only physical addresses may be used. entrypgdir maps the first
# 64 MiB both at 0 and at KERNBASE with 4 MiB pages; main() replaces it.

#include "kernel/mmu.h"
#include "kernel/memlayout.h"

#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00000003          /* modules page-aligned, give memory info */
#define ENTRYMB   16                  /* 4 MiB pages mapped at boot (64 MiB) */

.section .multiboot
.p2align 2
multiboot_header:
  .long MB_MAGIC
  .long MB_FLAGS
  .long -(MB_MAGIC + MB_FLAGS)

.text
.globl _start
_start = V2P_WO(entry)

.globl entry
entry:
  # 4 MiB pages for the boot page directory.
  movl %cr4, %ecx
  orl  $CR4_PSE, %ecx
  movl %ecx, %cr4
  movl $(V2P_WO(entrypgdir)), %ecx
  movl %ecx, %cr3
  movl %cr0, %ecx
  orl  $(CR0_PG | CR0_WP), %ecx
  movl %ecx, %cr0

  # Now on high addresses: switch to the boot stack and call
  # main(magic, mbinfo_pa) with a zero return address to end backtraces.
  movl $(bootstack + BOOTSTACK), %esp
  xorl %ebp, %ebp
  pushl %ebx
  pushl %eax
  pushl $0
  movl $main, %ecx
  jmp *%ecx

.data
.p2align 12
.globl entrypgdir
entrypgdir:
  .set i, 0
  .rept ENTRYMB
  .long (i << PDXSHIFT) | PTE_P | PTE_W | PTE_PS
  .set i, i + 1
  .endr
  .fill (KERNBASE >> PDXSHIFT) - ENTRYMB, 4, 0
  .set i, 0
  .rept ENTRYMB
  .long (i << PDXSHIFT) | PTE_P | PTE_W | PTE_PS
  .set i, i + 1
  .endr
  .fill NPDENTRIES - (KERNBASE >> PDXSHIFT) - ENTRYMB, 4, 0

.bss
.p2align 12
.globl bootstack
bootstack:
  .space BOOTSTACK
