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
#define APSTART  0x7000      // where the APs' start-up code runs (entryother.S)

static void startothers(void);
static void bootscheduler(void);
static void mpmain(void);
static volatile uint othersgo;   // set when the boot CPU is done booting

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
  clockinit();         // the TSC's rate, against the LAPIC timer
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
  // Off the boot stack onto a guarded one, which leaves the boot stack to
  // the other CPUs' start.
  char *top = cpustackmap(mycpu());
  if (top == 0)
    panic("main: no memory for cpu0's stack");
  stackrun(top, bootscheduler);
}

// The boot CPU, on its scheduler stack: start the others, then schedule.
static void
bootscheduler(void)
{
  startothers();       // the other CPUs QEMU gives (-smp N)
  cprintf("cpu%d: starting scheduler\n", cpuid());
  // Only now may the others run processes: a CPU that ran init and the
  // shell while this one was still booting let the shell's first prompt
  // come before this CPU's boot message (under TCG a vCPU's host thread
  // can be descheduled for milliseconds), and a console reader took that
  // message for the output of its first command.
  xchg(&othersgo, 1);
  selftestboot();
  scheduler();
}

// An application processor's first C code, on the shared start-up stack,
// with the boot page directory loaded: the kernel's page table (which maps
// the local APIC that mycpu() reads, and the kernel-stack region), then its
// own scheduler stack, which has a guard page below it.
static void
mpenter(void)
{
  kvmenter();
  stackrun(mycpu()->stack + KSTACKSIZE, mpmain);
}

// The rest of an AP's start, on its own stack: its GDT, TSS and SYSENTER
// MSRs (seginit), its LAPIC and timer, the shared IDT; then the scheduler
// loop, like the boot CPU's.
static void
mpmain(void)
{
  seginit();
  switchkvm();
  lapicinit();
  idtinit();
  cprintf("cpu%d: starting scheduler\n", cpuid());
  xchg(&mycpu()->started, 1);
  while (!othersgo)   // the boot CPU has said all it says at boot
    asm volatile("pause");
  selftestcpu();
  scheduler();
}

// Start every other CPU of the MP table, one at a time: map its scheduler
// stack, copy the start-up code below 1 MiB, leave it the start-up stack,
// its entry and the page directory, send INIT-SIPI-SIPI, and wait (bounded)
// until it says it runs. The start-up stack is the boot stack, which the
// boot page directory maps and this CPU has left; one CPU at a time uses
// it, as each leaves it (mpenter) before it says it runs.
static void
startothers(void)
{
  extern uchar apstart[], apend[];
  extern char bootstack[];
  extern pde_t entrypgdir[];
  uchar *code = P2V(APSTART);

  if (ncpu <= 1)
    return;
  memmove(code, apstart, apend - apstart);
  for (struct cpu *c = cpus; c < cpus + ncpu; c++) {
    if (c == mycpu())
      continue;
    if (cpustackmap(c) == 0)
      panic("startothers: no memory for cpu%d's stack", (int)(c - cpus));
    *(uint *)(code - 4) = (uint)bootstack + BOOTSTACK;
    *(void (**)(void))(code - 8) = mpenter;
    *(uint *)(code - 12) = V2P(entrypgdir);
    lapicstartap(c->apicid, APSTART);
    for (int ms = 0; ms < 1000 && !c->started; ms++)
      microdelay(1000);
    if (!c->started)
      panic("startothers: cpu%d (apic id %d) did not start", (int)(c - cpus), c->apicid);
  }
}
