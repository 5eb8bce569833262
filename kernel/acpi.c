// The CPUs from ACPI's MADT (the "APIC" table), when the BIOS has one.
//
// The MP table (mp.c) lists one CPU per package: SeaBIOS writes an entry
// for the first logical CPU of each socket and leaves the others to ACPI,
// as the MP specification's successors do. So `-smp 4,sockets=1,cores=4`
// showed one CPU, and `sockets=2,cores=2,threads=2` two of eight. The MADT
// lists every local APIC. Only the tables needed are read (RSDP, RSDT,
// MADT), each checked by its checksum and its length before use.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"

struct rsdp {             // "RSD PTR ", ACPI 1.0's 20 bytes
  uchar signature[8];
  uchar checksum;
  uchar oemid[6];
  uchar revision;
  uint rsdt;              // physical address of the RSDT
};

struct sdthdr {           // every system description table starts so
  uchar signature[4];
  uint length;            // of the whole table, header included
  uchar revision;
  uchar checksum;
  uchar oemid[6];
  uchar oemtable[8];
  uint oemrevision;
  uint creator;
  uint creatorrevision;
};

struct madt {             // "APIC"
  struct sdthdr hdr;
  uint lapicaddr;
  uint flags;
  // then entries: type, length, ...
};

#define MAPPAGE (1u << PDXSHIFT)   // vm.c maps physical memory in 4 MiB pages

#define MADT_LAPIC   0    // uid, apic id, flags (bit 0: enabled)
#define MADT_IOAPIC  1    // id, reserved, address, GSI base

extern uint ioapicaddr;

static uchar
sum(const uchar *p, uint len)
{
  uchar s = 0;
  while (len--)
    s += *p++;
  return s;
}

// Is [pa, pa+len) in memory the kernel maps (4 MiB pages below memtop's)?
static int
mapped(uint pa, uint len)
{
  uint top = (memtop + MAPPAGE - 1) & ~(MAPPAGE - 1);
  return pa < top && len <= top - pa;
}

static struct rsdp *
rsdpsearch1(uint pa, uint len)
{
  for (uint p = pa; p + sizeof(struct rsdp) <= pa + len; p += 16) {
    struct rsdp *r = (struct rsdp *)P2V(p);
    if (memcmp(r->signature, "RSD PTR ", 8) == 0 && sum((uchar *)r, sizeof *r) == 0)
      return r;
  }
  return 0;
}

// The first KiB of the EBDA, then the BIOS area 0xE0000-0xFFFFF (ACPI 5.2.5.1).
static struct rsdp *
rsdpsearch(void)
{
  uchar *bda = (uchar *)P2V(0x400);
  uint ebda = ((bda[0x0F] << 8) | bda[0x0E]) << 4;
  struct rsdp *r = 0;
  if (ebda >= 0x80000 && ebda < 0xA0000)
    r = rsdpsearch1(ebda, 1024);
  return r ? r : rsdpsearch1(0xE0000, 0x20000);
}

// The table at physical address pa, if its header, length and checksum hold.
static struct sdthdr *
table(uint pa, const char *signature)
{
  if (!mapped(pa, sizeof(struct sdthdr)))
    return 0;
  struct sdthdr *h = (struct sdthdr *)P2V(pa);
  if (memcmp(h->signature, signature, 4) != 0 || h->length < sizeof *h ||
      !mapped(pa, h->length) || sum((uchar *)h, h->length) != 0)
    return 0;
  return h;
}

static struct madt *
madtfind(void)
{
  struct rsdp *r = rsdpsearch();
  struct sdthdr *rsdt = r ? table(r->rsdt, "RSDT") : 0;
  if (rsdt == 0)
    return 0;
  uint *entry = (uint *)(rsdt + 1);
  uint n = (rsdt->length - sizeof *rsdt) / 4;
  for (uint i = 0; i < n; i++) {
    struct sdthdr *h = table(entry[i], "APIC");
    if (h && h->length >= sizeof(struct madt))
      return (struct madt *)h;
  }
  return 0;
}

// Put the MADT's enabled CPUs in cpus[] (at most NCPU) and its first I/O
// APIC in ioapicid/ioapicaddr; the number of CPUs, 0 without a MADT (the
// MP table's stand).
int
acpiinit(void)
{
  struct madt *m = madtfind();
  if (m == 0)
    return 0;
  uchar apicids[NCPU];
  int n = 0, ioapics = 0;
  uchar *p = (uchar *)(m + 1), *e = (uchar *)m + m->hdr.length;
  while (p + 2 <= e && p[1] >= 2 && p + p[1] <= e) {
    if (p[0] == MADT_LAPIC && p[1] >= 8 && (p[4] & 1)) {
      if (n < NCPU)
        apicids[n++] = p[3];
    } else if (p[0] == MADT_IOAPIC && p[1] >= 12 && ioapics++ == 0) {
      ioapicid = p[2];
      memmove(&ioapicaddr, p + 4, 4);
    }
    p += p[1];
  }
  if (n == 0)
    return 0;
  lapic = (uint *)m->lapicaddr;
  for (int i = 0; i < n; i++)
    cpus[i].apicid = apicids[i];
  ncpu = n;
  return n;
}
