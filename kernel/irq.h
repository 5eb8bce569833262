#ifndef XV6NET_IRQ_H
#define XV6NET_IRQ_H

#define NIRQ      24   // I/O APIC inputs
#define IRQSHARE   4   // handlers that may share one line

#define IRQ_EDGE   0
#define IRQ_LEVEL  1   // level-triggered, active high (PCI INTx as QEMU routes it)

void irqregister(int irq, int level, void (*handler)(void *), void *arg);

#endif
