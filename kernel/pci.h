#ifndef XV6NET_PCI_H
#define XV6NET_PCI_H
#include "kernel/types.h"

// Configuration space offsets (PCI Local Bus Specification 3.0, 6.1).
#define PCI_VENDOR     0x00
#define PCI_DEVICE     0x02
#define PCI_COMMAND    0x04
#define  PCI_CMD_IO       0x0001
#define  PCI_CMD_MEMORY   0x0002
#define  PCI_CMD_MASTER   0x0004
#define PCI_CLASS      0x08   // revision, prog-if, subclass, class
#define PCI_HEADER     0x0E
#define PCI_BAR0       0x10
#define PCI_SECBUS     0x19   // bridges: secondary bus number
#define PCI_IRQLINE    0x3C

#define PCI_NBAR 6

struct pcidev {
  uchar bus, dev, fn;
  ushort vendor, device;
  uchar class, subclass;
  uchar irq;
  uint bar[PCI_NBAR];       // decoded base addresses (0 = none)
  uint barsize[PCI_NBAR];
  uchar bario[PCI_NBAR];    // 1 if an I/O-port BAR
};

// A driver claims devices by vendor and device id.
struct pcidriver {
  ushort vendor, device;
  const char *name;
  int (*attach)(struct pcidev *d);
};

uint pciread(struct pcidev *d, int off, int size);
void pciwrite(struct pcidev *d, int off, uint val, int size);
void pcienable(struct pcidev *d, uint cmdbits);

#endif
