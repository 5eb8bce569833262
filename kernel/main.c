// Boot order: from entry.S with paging on and the boot stack, bring up
// memory, interrupts, devices and the first process, then schedule forever.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/x86.h"
#include "kernel/net/netdev.h"

#define EARLYMEM 0x4000000   // what entrypgdir maps: 64 MiB

int
main(uint magic, uint mbinfo_pa)
{
  consoleinit();
  cprintf("\nxv6net kernel booting\n");
  bootinfoparse(magic, mbinfo_pa);
  kinit1(P2V(bootreserved()), P2V(MIN(memtop, EARLYMEM)));
  kvmalloc();          // the kernel page table, replacing entrypgdir
  mpinit();            // CPUs and the I/O APIC from the MP table
  lapicinit();
  seginit();           // GDT, double-fault task
  picinit();           // mask the 8259s
  ioapicinit();
  tvinit();            // trap vectors
  idtinit();
  uartinit();          // serial input interrupts
  if (memtop > EARLYMEM)
    kinit2(P2V(EARLYMEM), P2V(memtop));
  else
    kinit2(P2V(memtop), P2V(memtop));
  cprintf("mem: %u MiB, %u pages free; cpus: %d\n", memtop >> 20, kfreecount(), ncpu);
  cprintf("cmdline: %s\n", kcmdline);
  pinit();
  fileinit();
  initrdinit();        // the root file system
  profinit();
  netinit();           // packet buffers, sockets, loopback
  pciinit();           // and the drivers of what it finds
  netconfig();         // ip= from the command line
  userinit();
  netstart();          // the network receive thread
  cprintf("cpu%d: starting scheduler\n", cpuid());
  scheduler();
}
