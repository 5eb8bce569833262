// Multiprocessor configuration from the BIOS's MP tables (Intel MultiProcessor
// Specification 1.4): the CPUs' local APIC ids and the I/O APIC's address.
// Without a table, assume one CPU and the standard addresses. ACPI's MADT,
// when there is one, has the last word on the CPUs (acpi.c: the MP table
// lists one per package).

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/x86.h"

struct mpfloat {          // "_MP_" floating pointer
  uchar signature[4];
  uint physaddr;          // of the configuration table
  uchar length;           // in 16-byte units
  uchar specrev;
  uchar checksum;
  uchar type;
  uchar imcrp;            // bit 7: IMCR present (PIC mode at reset)
  uchar reserved[3];
};

struct mpconf {           // "PCMP" configuration table header
  uchar signature[4];
  ushort length;
  uchar version;
  uchar checksum;
  uchar product[20];
  uint oemtable;
  ushort oemlength;
  ushort entry;
  uint lapicaddr;
  ushort xlength;
  uchar xchecksum;
  uchar reserved;
};

struct mpproc {           // processor entry
  uchar type;
  uchar apicid;
  uchar version;
  uchar flags;            // bit 0: enabled
  uchar signature[4];
  uint feature;
  uchar reserved[8];
};

struct mpioapic {         // I/O APIC entry
  uchar type;
  uchar apicno;
  uchar version;
  uchar flags;
  uint addr;
};

#define MPPROC    0x00
#define MPBUS     0x01
#define MPIOAPIC  0x02
#define MPIOINTR  0x03
#define MPLINTR   0x04

#define LAPIC_DEFAULT 0xFEE00000

int ismp;
extern uint ioapicaddr;

static uchar
sum(uchar *addr, int len)
{
  uchar s = 0;
  for (int i = 0; i < len; i++)
    s += addr[i];
  return s;
}

static struct mpfloat *
mpsearch1(uint pa, int len)
{
  uchar *addr = P2V(pa), *e = addr + len;
  for (uchar *p = addr; p + sizeof(struct mpfloat) <= e; p += sizeof(struct mpfloat))
    if (memcmp(p, "_MP_", 4) == 0 && sum(p, sizeof(struct mpfloat)) == 0)
      return (struct mpfloat *)p;
  return 0;
}

// The spec's three places: the EBDA, the last KiB of base memory, the BIOS ROM.
static struct mpfloat *
mpsearch(void)
{
  uchar *bda = (uchar *)P2V(0x400);
  struct mpfloat *mp;
  uint p;

  if ((p = ((bda[0x0F] << 8) | bda[0x0E]) << 4)) {
    if ((mp = mpsearch1(p, 1024)))
      return mp;
  } else {
    p = ((bda[0x14] << 8) | bda[0x13]) * 1024;
    if ((mp = mpsearch1(p - 1024, 1024)))
      return mp;
  }
  return mpsearch1(0xF0000, 0x10000);
}

static struct mpconf *
mpconfig(struct mpfloat **pmp)
{
  struct mpfloat *mp = mpsearch();
  struct mpconf *conf;

  if (mp == 0 || mp->physaddr == 0 || mp->physaddr >= memtop)
    return 0;
  conf = (struct mpconf *)P2V(mp->physaddr);
  if (memcmp(conf, "PCMP", 4) != 0 || (conf->version != 1 && conf->version != 4))
    return 0;
  if (sum((uchar *)conf, conf->length) != 0)
    return 0;
  *pmp = mp;
  return conf;
}

void
mpinit(void)
{
  struct mpfloat *mp;
  struct mpconf *conf = mpconfig(&mp);

  if (conf == 0) {
    lapic = (uint *)LAPIC_DEFAULT;
    ncpu = 1;
    if (acpiinit() > 0)
      ismp = 1;
    else
      cprintf("mp: no MP table; assuming one CPU\n");
    return;
  }
  ismp = 1;
  lapic = (uint *)conf->lapicaddr;
  uchar *p = (uchar *)(conf + 1), *e = (uchar *)conf + conf->length;
  while (p < e) {
    switch (*p) {
    case MPPROC: {
      struct mpproc *proc = (struct mpproc *)p;
      if (ncpu < NCPU && (proc->flags & 1))
        cpus[ncpu++].apicid = proc->apicid;
      p += sizeof *proc;
      break;
    }
    case MPIOAPIC: {
      struct mpioapic *io = (struct mpioapic *)p;
      ioapicid = io->apicno;
      ioapicaddr = io->addr;
      p += sizeof *io;
      break;
    }
    case MPBUS:
    case MPIOINTR:
    case MPLINTR:
      p += 8;
      break;
    default:
      cprintf("mp: unknown entry type %d; ignoring the rest\n", *p);
      p = e;
    }
  }
  if (ncpu == 0)
    ncpu = 1;
  acpiinit();
  if (mp->imcrp & 0x80) {
    // The IMCR routes interrupts to the 8259s at reset: switch to the APIC.
    outb(0x22, 0x70);
    outb(0x23, inb(0x23) | 1);
  }
}
