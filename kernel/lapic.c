// The local APIC: this CPU's timer, interrupt acknowledgement (EOI), and
// its id. Register offsets from the Intel SDM vol. 3, chapter 10.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/traps.h"
#include "kernel/x86.h"
#include "kernel/memlayout.h"

#define ID      (0x0020 / 4)   // id
#define VER     (0x0030 / 4)   // version
#define TPR     (0x0080 / 4)   // task priority
#define EOI     (0x00B0 / 4)   // end of interrupt
#define SVR     (0x00F0 / 4)   // spurious interrupt vector
#define  ENABLE     0x00000100
#define ESR     (0x0280 / 4)   // error status
#define ICRLO   (0x0300 / 4)   // interrupt command
#define  INIT       0x00000500
#define  STARTUP    0x00000600
#define  ASSERT     0x00004000
#define  DELIVS     0x00001000
#define  LEVEL      0x00008000
#define  BCAST      0x00080000
#define  OTHERS     0x000C0000   // destination: every CPU but this one
#define ICRHI   (0x0310 / 4)
#define TIMER   (0x0320 / 4)   // local vector table: timer
#define  PERIODIC   0x00020000
#define  MASKED     0x00010000
#define PCINT   (0x0340 / 4)   // performance counter LVT
#define LINT0   (0x0350 / 4)
#define LINT1   (0x0360 / 4)
#define ERROR   (0x0370 / 4)
#define TICR    (0x0380 / 4)   // timer initial count
#define TCCR    (0x0390 / 4)   // timer current count
#define TDCR    (0x03E0 / 4)   // timer divide configuration
#define  X1         0x0000000B

// QEMU's (and KVM's) APIC timer counts at 1 GHz with divide-by-1, so this
// initial count gives HZ interrupts per second.
#define TIMERCOUNT (1000000000 / HZ)

volatile uint *lapic;   // set by mpinit
static int timerrunning;   // set by lapicinit: TCCR counts from then on

static void
lapicw(int index, int value)
{
  lapic[index] = value;
  (void)lapic[ID];   // wait for the write to finish
}

void
lapicinit(void)
{
  if (!lapic)
    panic("no local APIC");
  lapicw(SVR, ENABLE | (T_IRQ0 + IRQ_SPURIOUS));

  lapicw(TDCR, X1);
  lapicw(TIMER, PERIODIC | (T_IRQ0 + IRQ_TIMER));
  lapicw(TICR, TIMERCOUNT);
  timerrunning = 1;

  lapicw(LINT0, MASKED);
  lapicw(LINT1, MASKED);
  if (((lapic[VER] >> 16) & 0xFF) >= 4)
    lapicw(PCINT, MASKED);
  lapicw(ERROR, T_IRQ0 + IRQ_ERROR);
  lapicw(ESR, 0);   // clearing needs two writes
  lapicw(ESR, 0);
  lapicw(EOI, 0);   // acknowledge anything outstanding

  // Synchronise arbitration ids (INIT level de-assert to everyone).
  lapicw(ICRHI, 0);
  lapicw(ICRLO, BCAST | INIT | LEVEL);
  for (int spins = 0; (lapic[ICRLO] & DELIVS) && spins < 1000000; spins++)
    ;
  lapicw(TPR, 0);
}

// Start the application processor apicid at physical address addr (below
// 1 MiB, 4 KiB aligned), the MP specification's universal algorithm as xv6
// does it: the BIOS's warm-reset vector and shutdown code for processors
// that want them, INIT asserted and de-asserted, then two STARTUP IPIs.
void
lapicstartap(uchar apicid, uint addr)
{
  outb(0x70, 0x0F);   // CMOS shutdown status byte: 0x0A, "jump to 40:67"
  outb(0x71, 0x0A);
  ushort *wrv = (ushort *)P2V(0x40 << 4 | 0x67);
  wrv[0] = 0;
  wrv[1] = addr >> 4;

  lapicw(ICRHI, apicid << 24);
  lapicw(ICRLO, INIT | LEVEL | ASSERT);
  microdelay(200);
  lapicw(ICRLO, INIT | LEVEL);
  microdelay(100);
  for (int i = 0; i < 2; i++) {
    lapicw(ICRHI, apicid << 24);
    lapicw(ICRLO, STARTUP | (addr >> 12));
    microdelay(200);
  }
}

// A fixed interrupt with this vector to every other CPU (panic stops them).
void
lapicipiothers(int vector)
{
  if (!lapic)
    return;
  lapicw(ICRHI, 0);
  lapicw(ICRLO, OTHERS | vector);
  for (int spins = 0; (lapic[ICRLO] & DELIVS) && spins < 100000; spins++)
    ;
}

int
lapicid(void)
{
  if (!lapic)
    return 0;
  return lapic[ID] >> 24;
}

#ifdef LATMARK
// A mark for `xv6net pingtrace` (build with KDEFS=-DLATMARK): a write of n
// (0-15) to the task priority register, which QEMU's apic_mem_writel trace
// event timestamps on the host's clock. A priority class of 0 masks
// nothing. Not in a normal build: each write is an exit into the emulator.
void
lapicmark(int n)
{
  if (lapic)
    lapic[TPR] = n & 0xf;
}
#endif

void
lapiceoi(void)
{
  if (lapic)
    lapicw(EOI, 0);
}

// Spin for roughly us microseconds, timed by the APIC timer's count.
void
microdelay(int us)
{
  if (!lapic)
    return;
  for (; us > 0; us--) {
    uint start = lapic[TCCR];
    // The count runs down at 1 GHz and reloads at 0.
    for (int spins = 0; spins < 100000; spins++) {
      uint now = lapic[TCCR];
      uint elapsed = now <= start ? start - now : start + (TIMERCOUNT - now);
      if (elapsed >= 1000)
        break;
    }
  }
}

// Nanoseconds since *mark, and *mark set to now: a clock for waits that run
// with interrupts off, when ticks stand still. *mark starts as 0 (the first
// call returns 0). It reads this CPU's timer count, which reloads every
// period (1e9/HZ ns), so the caller stays on one CPU (holds a spinlock) and
// calls more often than once a period; a longer gap (the host descheduled
// the vCPU) counts short, which makes a wait longer, never shorter.
// -1 until lapicinit has started the timer: the caller counts spins then.
int
lapicelapsed(uint *mark)
{
  if (!lapic || !timerrunning)
    return -1;
  uint now = lapic[TCCR];
  uint start = *mark ? *mark : now;
  *mark = now ? now : 1;     // 0 is "no mark yet"
  // The count runs down and reloads at 0.
  return now <= start ? start - now : start + (TIMERCOUNT - now);
}

