// The console: kernel printing (cprintf, panic), and the user-visible
// /dev/console device with a line discipline (echo, backspace, ^U kills the
// line, ^D is end of file, ^P lists processes, ^C and ^\ discard the line
// and send SIGINT or SIGQUIT to the foreground process group, ^L is
// ignored). Output goes to the serial port and is mirrored on the VGA
// screen.

#include "kernel/types.h"
#include "kernel/stdarg.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/file.h"
#include "kernel/poll.h"
#include "kernel/x86.h"
#include "kernel/traps.h"

#define C(x) ((x) - '@')   // control-x
#define BACKSPACE 0x100     // erase the character before the cursor

// Set (once) by the first CPU to panic; the others stop when they see it or
// get its IPI. panicapic names the CPU that prints the panic.
volatile uint panicked;
static volatile int panicapic = -1;

static struct {
  struct spinlock lock;
  int locking;
  int fgpgid;     // foreground process group (tcsetpgrp); 0: none yet
} cons;

static void
consputc(int c)
{
  if (c == BACKSPACE) {
    uartputc('\b'); uartputc(' '); uartputc('\b');
    vgaputc('\b');
    return;
  }
  if (c == '\n')
    uartputc('\r');
  uartputc(c);
  vgaputc(c);
}

// ---- formatted output ------------------------------------------------------

struct fmtout {
  void (*put)(struct fmtout *o, int c);
  char *buf;      // for snprintf
  uint len, cap;
};

static void
putnum(struct fmtout *o, uint64 x, int base, int neg, int width, int zero, int left, int upper)
{
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = digits[x % base];
    x /= base;
  } while (x);
  if (neg)
    tmp[n++] = '-';
  int pad = width > n ? width - n : 0;
  if (neg && zero) {   // sign goes before the zeros
    o->put(o, '-');
    n--;
  }
  if (!left)
    while (pad-- > 0)
      o->put(o, zero ? '0' : ' ');
  while (n > 0)
    o->put(o, tmp[--n]);
  if (left)
    while (pad-- > 0)
      o->put(o, ' ');
}

// %d %u %x %X %p %s %c %%, with '-', '0', a width and the l/ll modifiers.
static void
vformat(struct fmtout *o, const char *fmt, va_list ap)
{
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      o->put(o, *fmt);
      continue;
    }
    int left = 0, zero = 0, width = 0, longs = 0;
    for (fmt++; *fmt == '-' || *fmt == '0'; fmt++)
      *fmt == '-' ? (left = 1) : (zero = 1);
    for (; *fmt >= '0' && *fmt <= '9'; fmt++)
      width = width * 10 + (*fmt - '0');
    for (; *fmt == 'l'; fmt++)
      longs++;
    uint64 u;
    switch (*fmt) {
    case 'd':
    case 'i': {
      long long v = longs >= 2 ? va_arg(ap, long long) : va_arg(ap, int);
      u = v < 0 ? -(uint64)v : (uint64)v;
      putnum(o, u, 10, v < 0, width, zero, left, 0);
      break;
    }
    case 'u':
    case 'x':
    case 'X':
      u = longs >= 2 ? va_arg(ap, uint64) : va_arg(ap, uint);
      putnum(o, u, *fmt == 'u' ? 10 : 16, 0, width, zero, left, *fmt == 'X');
      break;
    case 'p':
      o->put(o, '0');
      o->put(o, 'x');
      putnum(o, va_arg(ap, uint), 16, 0, 8, 1, 0, 0);
      break;
    case 'c':
      o->put(o, va_arg(ap, int));
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (s == 0)
        s = "(null)";
      int len = strlen(s);
      for (int pad = width - len; !left && pad > 0; pad--)
        o->put(o, ' ');
      while (*s)
        o->put(o, *s++);
      for (int pad = width - len; left && pad > 0; pad--)
        o->put(o, ' ');
      break;
    }
    case '%':
      o->put(o, '%');
      break;
    case 0:
      return;
    default:
      o->put(o, '%');
      o->put(o, *fmt);
    }
  }
}

static void
consoleput(struct fmtout *o, int c)
{
  (void)o;
  consputc(c);
}

void
cprintf(const char *fmt, ...)
{
  struct fmtout o = { consoleput };
  va_list ap;
  // The panicking CPU owns the console lock already (consolegrab).
  int locking = cons.locking && !(panicked && lapicid() == panicapic);

  if (locking)
    acquire(&cons.lock);
  va_start(ap, fmt);
  vformat(&o, fmt, ap);
  va_end(ap);
  if (locking)
    release(&cons.lock);
}

static void
bufput(struct fmtout *o, int c)
{
  if (o->len + 1 < o->cap)
    o->buf[o->len] = c;
  o->len++;
}

// Format into buf (always NUL-terminated); returns the length it wanted.
int
snprintf(char *buf, int size, const char *fmt, ...)
{
  struct fmtout o = { bufput, buf, 0, size };
  va_list ap;
  va_start(ap, fmt);
  vformat(&o, fmt, ap);
  va_end(ap);
  if (size > 0)
    buf[MIN(o.len, (uint)size - 1)] = 0;
  return o.len;
}

// Print the return addresses up the %ebp chain.
void
backtrace(uint ebp)
{
  cprintf("backtrace:\n");
  for (int i = 0; i < 16; i++) {
    int inkernel = ebp >= KERNBASE && ebp < KERNBASE + memtop - 8;
    int instack = ebp >= KSTACKS && ebp < KSTACKSEND - 8;
    if (!inkernel && !instack)
      break;
    uint *frame = (uint *)ebp;
    if (frame[1] == 0)
      break;
    cprintf("  #%d %p\n", i, frame[1]);
    ebp = frame[0];
  }
}

// This CPU stops for good: another one panicked (its IPI, or the flag seen
// while spinning for a lock it may hold).
void
panicstop(void)
{
  cli();
  for (;;)
    hlt();
}

// Take the console lock for the panic message, without the lock checker
// and never to give back. Another CPU holding it leaves its critical section
// soon (then the halt IPI stops it), so wait a bounded time, then print
// anyway; this CPU may hold it already (a panic inside cprintf).
static void
consolegrab(void)
{
  struct cpu *me = &cpus[0];   // mycpu() without its own panics
  for (int i = 0; i < ncpu; i++)
    if (cpus[i].apicid == panicapic)
      me = &cpus[i];
  if (cons.lock.locked && cons.lock.cpu == me)
    return;
  for (int ms = 0; ms < 1000; ms++) {
    if (xchg(&cons.lock.locked, 1) == 0)
      return;
    microdelay(1000);
  }
}

void
panic(const char *fmt, ...)
{
  struct fmtout o = { consoleput };
  va_list ap;
  uint ebp;

  cli();
  if (xchg(&panicked, 1) != 0)
    panicstop();   // another CPU panicked first: its message is the one
  panicapic = lapicid();
  if (ncpu > 1)
    lapicipiothers(T_IRQ0 + IRQ_HALT);
  consolegrab();
  cprintf("panic: ");
  va_start(ap, fmt);
  vformat(&o, fmt, ap);
  va_end(ap);
  cprintf("\n");
  asm volatile("movl %%ebp, %0" : "=r"(ebp));
  backtrace(ebp);
  cprintf("system halted\n");
  for (;;)
    hlt();
}

// ---- input: the line discipline --------------------------------------------

#define INPUT_BUF 256

static struct {
  char buf[INPUT_BUF];
  uint r;   // next to read
  uint w;   // end of the lines ready for readers
  uint e;   // end of the line being edited
} input;

// What consoleinput leaves for consoleintr to do outside the lock.
#define TODO_PROCDUMP 1
#define TODO_SIGINT   2
#define TODO_SIGQUIT  4

// ^C or ^\: the line being typed is dropped (as Linux's tty does), and the
// foreground process group gets the signal.
static int
interruptkey(int c)
{
  consputc('^');
  consputc(c == C('C') ? 'C' : '\\');
  consputc('\n');
  input.e = input.w;
  return c == C('C') ? TODO_SIGINT : TODO_SIGQUIT;
}

// One input character from the device's interrupt handler.
static int
consoleinput(int c)
{
  switch (c) {
  case C('P'):
    return TODO_PROCDUMP;
  case C('C'):
  case C('\\'):
    return interruptkey(c);
  case C('L'):
    return 0;   // a shell's "redraw" key: never part of a command line
  case C('U'):
    while (input.e != input.w && input.buf[(input.e - 1) % INPUT_BUF] != '\n') {
      input.e--;
      consputc(BACKSPACE);
    }
    return 0;
  case C('H'):
  case '\x7f':
    if (input.e != input.w) {
      input.e--;
      consputc(BACKSPACE);
    }
    return 0;
  }
  if (c == 0 || input.e - input.r >= INPUT_BUF)
    return 0;
  if (c == '\r')
    c = '\n';
  input.buf[input.e++ % INPUT_BUF] = c;
  if (c != C('D'))
    consputc(c);
  if (c == '\n' || c == C('D') || input.e == input.r + INPUT_BUF) {
    input.w = input.e;
    wakeup(&input.r);
    pollwakeup();   // a line (or ^D) to read
  }
  return 0;
}

void
consoleintr(int (*getc)(void))
{
  int c, todo = 0;

  acquire(&cons.lock);
  while ((c = getc()) >= 0)
    todo |= consoleinput(c);
  int fg = cons.fgpgid;
  release(&cons.lock);
  if (todo & TODO_PROCDUMP)
    procdump();
  if (todo & TODO_SIGINT)
    signalgroup(fg, SIGINT);
  if (todo & TODO_SIGQUIT)
    signalgroup(fg, SIGQUIT);
}

void
consolesetpgrp(int pgid)
{
  acquire(&cons.lock);
  cons.fgpgid = pgid;
  release(&cons.lock);
}

int
consolegetpgrp(void)
{
  acquire(&cons.lock);
  int pgid = cons.fgpgid;
  release(&cons.lock);
  return pgid;
}

// Read at most one line; a ^D ends the read (and at the start of a line it
// makes the read return 0: end of file). Without a whole line in, a
// non-blocking read fails with EAGAIN.
static int
consoleread(uint dst, int n, int nonblock)
{
  char kbuf[INPUT_BUF];
  int got = 0;

  if (n <= 0)
    return 0;
  n = MIN(n, INPUT_BUF);
  if (!uvmaccessible(myproc()->pgdir, dst, n, 1))
    return -EFAULT;
  acquire(&cons.lock);
  while (got < n) {
    if (input.r == input.w && (got > 0 && nonblock))
      break;   // what a full buffer let through: the rest is not in yet
    while (input.r == input.w) {
      if (killed(myproc()) || nonblock) {
        release(&cons.lock);
        return nonblock ? -EAGAIN : -EINTR;
      }
      sleepintr(&input.r, &cons.lock);
    }
    int c = input.buf[input.r++ % INPUT_BUF];
    if (c == C('D')) {
      if (got > 0)
        input.r--;   // keep the ^D: the next read returns 0
      break;
    }
    kbuf[got++] = c;
    if (c == '\n')
      break;
  }
  release(&cons.lock);
  if (copyout(myproc()->pgdir, dst, kbuf, got) < 0)
    return -EFAULT;
  return got;
}

static int
consolewrite(uint src, int n)
{
  char kbuf[128];
  int done = 0;

  while (done < n) {
    int chunk = MIN(n - done, (int)sizeof kbuf);
    if (copyin(myproc()->pgdir, kbuf, src + done, chunk) < 0)
      return done > 0 ? done : -EFAULT;
    acquire(&cons.lock);
    for (int i = 0; i < chunk; i++)
      consputc(kbuf[i] & 0xFF);
    release(&cons.lock);
    done += chunk;
  }
  return done;
}

// Readable once a whole line (or a ^D) is in; output never waits.
static int
consolepoll(int events)
{
  (void)events;
  acquire(&cons.lock);
  int ready = POLLOUT | (input.r != input.w ? POLLIN : 0);
  release(&cons.lock);
  return ready;
}

static int
nullread(uint dst, int n, int nonblock)
{
  (void)dst; (void)n; (void)nonblock;
  return 0;
}

static int
nullwrite(uint src, int n)
{
  (void)src;
  return n;
}

void
consoleinit(void)
{
  initlock(&cons.lock, "console");
  devsw[DEV_CONSOLE].read = consoleread;
  devsw[DEV_CONSOLE].write = consolewrite;
  devsw[DEV_CONSOLE].poll = consolepoll;
  devsw[DEV_NULL].read = nullread;
  devsw[DEV_NULL].write = nullwrite;
  cons.locking = 1;
}
