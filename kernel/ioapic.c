// The I/O APIC routes device interrupt lines (ISA IRQs 0-15, PCI lines) to
// local APICs. Each input has a 64-bit redirection entry.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/traps.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/irq.h"

#define IOAPIC_DEFAULT 0xFEC00000

#define REG_ID     0x00
#define REG_VER    0x01
#define REG_TABLE  0x10   // entry n: low word 0x10+2n, high word 0x11+2n

// Redirection entry, low word
#define INT_DISABLED  0x00010000
#define INT_LEVEL     0x00008000   // level-triggered (else edge)
#define INT_ACTIVELOW 0x00002000   // active low (else high)

volatile struct ioapic {
  uint reg;
  uint pad[3];
  uint data;
} *ioapic;

uchar ioapicid;
uint ioapicaddr = IOAPIC_DEFAULT;   // from the MP table when there is one

static uint
ioapicread(int reg)
{
  ioapic->reg = reg;
  return ioapic->data;
}

static void
ioapicwrite(int reg, uint data)
{
  ioapic->reg = reg;
  ioapic->data = data;
}

void
ioapicinit(void)
{
  ioapic = (volatile struct ioapic *)ioapicaddr;
  int maxintr = (ioapicread(REG_VER) >> 16) & 0xFF;
  int id = ioapicread(REG_ID) >> 24;
  if (id != ioapicid)
    cprintf("ioapic: id %d differs from the MP table's %d\n", id, ioapicid);
  // Everything masked until a driver asks for its line.
  for (int i = 0; i <= maxintr; i++) {
    ioapicwrite(REG_TABLE + 2 * i, INT_DISABLED | (T_IRQ0 + i));
    ioapicwrite(REG_TABLE + 2 * i + 1, 0);
  }
}

// Deliver line irq to cpu as vector T_IRQ0 + irq, edge- or level-triggered.
void
ioapicenable(int irq, int cpu, int level)
{
  uint lo = T_IRQ0 + irq;
  if (level == IRQ_LEVEL)
    lo |= INT_LEVEL;
  ioapicwrite(REG_TABLE + 2 * irq + 1, cpus[cpu].apicid << 24);
  ioapicwrite(REG_TABLE + 2 * irq, lo);
}
