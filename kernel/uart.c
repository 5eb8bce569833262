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

// How long uartputc waits for the transmitter before it drops a character.
// QEMU keeps THRE clear while its character device cannot take more, that is
// while the program reading the console socket is behind: a unix socket
// holds only about 280 one-byte writes, so a reader (or QEMU's main loop)
// that the host deschedules for a few milliseconds is enough. The toolkit's
// console reads continuously (src/xv6net/console.py), but on a loaded host
// such stalls reach tens of milliseconds (50 ms lost thousands of
// characters in tests/e2e/test_console_flow.py; docs/kernel.md). A console
// nobody reads must not stop the kernel, so the wait is bounded, and after
// one timeout the next characters do not wait at all until THRE is back.
#define THREWAITNS   1000000000  // 1 s, by the local APIC timer
#define THREWAITSPINS 100000     // LSR reads, before the timer runs (early boot)

static int stuck;           // the last wait timed out and THRE has not come back
static uint dropped;        // characters given up on (sysinfo's uartdropped)
static uint waitmaxus;      // the longest wait that THRE ended (sysinfo's uartwaitmax)

// Wait for THRE; 0 if the time ran out. Runs with interrupts off (callers
// hold the console lock), so it times itself with the APIC timer's count,
// not with ticks.
static int
uartwaitthre(void)
{
  uint mark = 0, waited = 0;

  for (int spins = 0;; spins++) {
    if (inb(COM1 + LSR) & LSR_THRE) {
      if (waited / 1000 > waitmaxus)
        waitmaxus = waited / 1000;
      return 1;
    }
    if (stuck)
      return 0;
    int ns = lapicelapsed(&mark);
    if (ns < 0 ? spins >= THREWAITSPINS : (waited += ns) >= THREWAITNS)
      return 0;
  }
}

// Write one character, or count it as dropped: never into a full FIFO
// (QEMU then discards the oldest byte in it, uncounted).
void
uartputc(int c)
{
  if (!present && inb(COM1 + LSR) == 0xFF)
    return;
  if (!uartwaitthre()) {
    stuck = 1;
    __sync_fetch_and_add(&dropped, 1);
    return;
  }
  stuck = 0;
  outb(COM1 + THR, c);
}

// Characters uartputc dropped since boot, and its longest wait for THRE.
void
uartstats(uint *ndropped, uint *maxwaitus)
{
  *ndropped = dropped;
  *maxwaitus = waitmaxus;
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
