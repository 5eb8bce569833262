// The 16550 serial port COM1: the console's input and output.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/traps.h"
#include "kernel/x86.h"
#include "kernel/irq.h"

#define COM1 0x3F8
#define RBR  0   // receive buffer (read)
#define THR  0   // transmit holding (write)
#define DLL  0   // divisor latch low (with DLAB)
#define IER  1   // interrupt enable
#define DLM  1   // divisor latch high (with DLAB)
#define FCR  2   // FIFO control
#define LCR  3   // line control
#define MCR  4   // modem control
#define LSR  5   // line status
#define  LSR_DR   0x01   // data ready
#define  LSR_THRE 0x20   // transmit holding register empty

static int present;

static void
uartintrhandler(void *arg)
{
  (void)arg;
  uartintr();
}

// Program 115200 8N1 with the FIFO on, then take interrupts on receive.
void
uartinit(void)
{
  outb(COM1 + FCR, 0x07);         // enable and clear both FIFOs
  outb(COM1 + LCR, 0x80);         // DLAB: set the baud divisor
  outb(COM1 + DLL, 1);            // 115200 / 1
  outb(COM1 + DLM, 0);
  outb(COM1 + LCR, 0x03);         // 8 bits, no parity, 1 stop bit
  outb(COM1 + MCR, 0x0B);         // DTR, RTS, OUT2 (gates the IRQ)
  if (inb(COM1 + LSR) == 0xFF)
    return;                       // no port there
  present = 1;
  outb(COM1 + IER, 0x01);         // interrupt when data arrives
  (void)inb(COM1 + RBR);
  irqregister(IRQ_COM1, IRQ_EDGE, uartintrhandler, 0);
}

void
uartputc(int c)
{
  if (!present && inb(COM1 + LSR) == 0xFF)
    return;
  for (int i = 0; i < 100000 && !(inb(COM1 + LSR) & LSR_THRE); i++)
    ;
  outb(COM1 + THR, c);
}

static int
uartgetc(void)
{
  if (!(inb(COM1 + LSR) & LSR_DR))
    return -1;
  return inb(COM1 + RBR);
}

void
uartintr(void)
{
  consoleintr(uartgetc);
}
