// PCI enumeration with configuration mechanism #1 (ports 0xCF8/0xCFC): log
// every function found, then hand each to the driver that claims it.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/x86.h"
#include "kernel/pci.h"

#define CONFIG_ADDRESS 0xCF8
#define CONFIG_DATA    0xCFC
#define MAXPCIDEV 32

static struct pcidev devs[MAXPCIDEV];
static int ndevs;

// Drivers known to the kernel; the list grows with each driver.
int e1000attach(struct pcidev *d);
int ne2kattach(struct pcidev *d);
int virtionetattach(struct pcidev *d);

static const struct pcidriver drivers[] = {
  { 0x8086, 0x100e, "e1000", e1000attach },        // 82540EM, QEMU's -device e1000
  { 0x10ec, 0x8029, "ne2k", ne2kattach },          // RTL8029, QEMU's -device ne2k_pci
  { 0x1af4, 0x1000, "virtio-net", virtionetattach },   // legacy/transitional virtio-net
  { 0, 0, 0, 0 },
};

static uint
confaddr(int bus, int dev, int fn, int off)
{
  return 0x80000000 | bus << 16 | dev << 11 | fn << 8 | (off & 0xFC);
}

static uint
confread32(int bus, int dev, int fn, int off)
{
  outl(CONFIG_ADDRESS, confaddr(bus, dev, fn, off));
  return inl(CONFIG_DATA);
}

uint
pciread(struct pcidev *d, int off, int size)
{
  uint v = confread32(d->bus, d->dev, d->fn, off);
  v >>= (off & 3) * 8;
  return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

void
pciwrite(struct pcidev *d, int off, uint val, int size)
{
  outl(CONFIG_ADDRESS, confaddr(d->bus, d->dev, d->fn, off));
  if (size == 4)
    outl(CONFIG_DATA, val);
  else if (size == 2)
    outw(CONFIG_DATA + (off & 2), val);
  else
    outb(CONFIG_DATA + (off & 3), val);
}

void
pcienable(struct pcidev *d, uint cmdbits)
{
  pciwrite(d, PCI_COMMAND, pciread(d, PCI_COMMAND, 2) | cmdbits, 2);
}

// Decode BAR i: its base, and its size by the all-ones probe.
static int
readbar(struct pcidev *d, int i)
{
  int off = PCI_BAR0 + 4 * i;
  uint v = pciread(d, off, 4);
  pciwrite(d, off, 0xFFFFFFFF, 4);
  uint probe = pciread(d, off, 4);
  pciwrite(d, off, v, 4);

  d->bario[i] = v & 1;
  if (d->bario[i]) {
    d->bar[i] = v & ~3u;
    d->barsize[i] = (~(probe & ~3u) + 1) & 0xFFFF;
  } else {
    d->bar[i] = v & ~15u;
    d->barsize[i] = ~(probe & ~15u) + 1;
  }
  if (!d->bario[i] && ((v >> 1) & 3) == 2)
    return 2;   // a 64-bit BAR uses the next slot too
  return 1;
}

static void
logdev(struct pcidev *d)
{
  cprintf("pci %02x:%02x.%d %04x:%04x class %02x.%02x irq %d",
          d->bus, d->dev, d->fn, d->vendor, d->device, d->class, d->subclass, d->irq);
  for (int i = 0; i < PCI_NBAR; i++)
    if (d->bar[i])
      cprintf(" bar%d %s 0x%x", i, d->bario[i] ? "io" : "mem", d->bar[i]);
  cprintf("\n");
}

static void
probe(int bus, int dev, int fn)
{
  uint id = confread32(bus, dev, fn, PCI_VENDOR);
  if ((id & 0xFFFF) == 0xFFFF || ndevs >= MAXPCIDEV)
    return;
  struct pcidev *d = &devs[ndevs++];
  d->bus = bus;
  d->dev = dev;
  d->fn = fn;
  d->vendor = id & 0xFFFF;
  d->device = id >> 16;
  uint class = pciread(d, PCI_CLASS, 4);
  d->class = class >> 24;
  d->subclass = class >> 16;
  d->irq = pciread(d, PCI_IRQLINE, 1);
  if ((pciread(d, PCI_HEADER, 1) & 0x7F) == 0)   // bridges have 2 BARs; skip them
    for (int i = 0; i < PCI_NBAR; i += readbar(d, i))
      ;
  logdev(d);
}

static void
attach(struct pcidev *d)
{
  for (const struct pcidriver *drv = drivers; drv->attach; drv++)
    if (drv->vendor == d->vendor && drv->device == d->device)
      if (drv->attach(d) < 0)
        cprintf("pci %02x:%02x.%d: %s failed to attach\n", d->bus, d->dev, d->fn, drv->name);
}

void
pciinit(void)
{
  for (int bus = 0; bus < 256; bus++) {
    for (int dev = 0; dev < 32; dev++) {
      if ((confread32(bus, dev, 0, PCI_VENDOR) & 0xFFFF) == 0xFFFF)
        continue;
      int multi = confread32(bus, dev, 0, PCI_HEADER & ~3) >> 16 & 0x80;
      for (int fn = 0; fn < (multi ? 8 : 1); fn++)
        probe(bus, dev, fn);
    }
  }
  for (int i = 0; i < ndevs; i++)
    attach(&devs[i]);
}
