// Virtual memory layout.
//
//   0x00000000 .. KERNBASE       user space (text from 0x1000, then stack, heap)
//   KERNBASE   .. +phys memory   all physical memory, mapped with 4 MiB pages
//   KERNLINK                     where the kernel image is linked (phys 1 MiB)
//   KSTACKS    .. +4 MiB         kernel stacks, each above an unmapped guard
//                                page: per process slot, then per CPU (its
//                                scheduler's)
//   DEVSPACE   .. 4 GiB          memory-mapped devices (LAPIC, IOAPIC, PCI BARs),
//                                identity mapped, uncached
#ifndef XV6NET_MEMLAYOUT_H
#define XV6NET_MEMLAYOUT_H

#define EXTMEM    0x100000              // start of extended memory (kernel load address)
#define KERNBASE  0x80000000            // first kernel virtual address
#define KERNLINK  (KERNBASE + EXTMEM)   // kernel link address
#define KSTACKS   0xFD000000            // kernel stack region (one page table)
#define KSTACKSEND 0xFD400000
#define DEVSPACE  0xFE000000            // identity-mapped device window
#define BOOTSTACK 16384                 // the boot CPU's first stack (entry.S), then
                                        // the other CPUs' start-up stack

#ifndef __ASSEMBLER__
#define V2P(a) (((uint)(a)) - KERNBASE)
#define P2V(a) ((void *)(((char *)(a)) + KERNBASE))
#endif
#define V2P_WO(x) ((x) - KERNBASE)
#define P2V_WO(x) ((x) + KERNBASE)

#endif
