// A sampling profiler: the CMOS real-time clock's periodic interrupt (IRQ 8,
// independent of the LAPIC timer that drives scheduling) records where the
// CPU was and the kernel return addresses above it. `kprof start`, run the
// load, `kprof stop`, `kprof dump`; the toolkit (src/xv6net/prof.py)
// resolves the addresses against build/kernel.elf. Samples land only where
// interrupts are enabled: time spent inside a spinlock shows up at the
// popcli (sti) that ends it, which is why callers are recorded too.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/memlayout.h"
#include "kernel/mmu.h"
#include "kernel/proc.h"
#include "kernel/spinlock.h"
#include "kernel/traps.h"
#include "kernel/x86.h"
#include "kernel/prof.h"

#define NSAMPLES 16384   // 16 s at 1024 Hz

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define NMI_OFF    0x80     // keep NMIs off while an index is selected
#define RTC_A      0x0A     // rate select (low four bits)
#define RTC_B      0x0B
#define RTC_C      0x0C     // interrupt flags; reading acknowledges
#define RTC_B_PIE  0x40     // periodic interrupt enable

static struct {
  struct spinlock lock;
  int on;
  int enabled;              // the I/O APIC pin has been routed
  uint n, dropped;
  struct kprof_sample samples[NSAMPLES];
} prof;

static uchar
cmosread(uchar reg)
{
  outb(CMOS_INDEX, NMI_OFF | reg);
  return inb(CMOS_DATA);
}

static void
cmoswrite(uchar reg, uchar v)
{
  outb(CMOS_INDEX, NMI_OFF | reg);
  outb(CMOS_DATA, v);
}

// The RTC's periodic rate is 32768 >> (rate - 1) Hz, rate 3..15.
static int
ratefor(int hz)
{
  for (int rate = 3; rate <= 15; rate++)
    if ((32768 >> (rate - 1)) <= hz)
      return rate;
  return 15;
}

// With interrupts off: profintr selects register C in between otherwise,
// and the data byte meant for A or B would land there.
static void
rtcperiodic(int hz)
{
  pushcli();
  if (hz) {
    cmoswrite(RTC_A, (cmosread(RTC_A) & 0xF0) | ratefor(hz));
    cmoswrite(RTC_B, cmosread(RTC_B) | RTC_B_PIE);
  } else {
    cmoswrite(RTC_B, cmosread(RTC_B) & ~RTC_B_PIE);
  }
  (void)cmosread(RTC_C);
  popcli();
}

// The kernel return addresses above a frame, while they stay on p's stack.
static void
callers(struct proc *p, uint ebp, uint *pcs)
{
  uint lo = (uint)p->kstack, hi = lo + KSTACKSIZE;
  for (int i = 0; i < KPROF_DEPTH; i++) {
    if (ebp < lo || ebp + 8 > hi || (ebp & 3))
      break;
    uint *frame = (uint *)ebp;
    pcs[i] = frame[1];
    ebp = frame[0];
  }
}

// From trap(), for IRQ 8.
void
profintr(struct trapframe *tf)
{
  (void)cmosread(RTC_C);   // acknowledge, or the RTC raises no more
  acquire(&prof.lock);
  if (prof.on) {
    if (prof.n < NSAMPLES) {
      struct kprof_sample *s = &prof.samples[prof.n++];
      struct proc *p = myproc();
      memset(s, 0, sizeof *s);
      s->eip = tf->eip;
      s->pid = p ? p->pid : 0;
      if (tf->cs & 3)
        s->flags = KPROF_USER;
      else if (p)
        callers(p, tf->ebp, s->pcs);
    } else {
      prof.dropped++;
    }
  }
  release(&prof.lock);
}

void
profinit(void)
{
  initlock(&prof.lock, "prof");
}

// KPROF_PAGES: the table is made in a page of its own, which shows in it
// (under this function's call of kalloc) while the call runs.
static int
kprofpages(uint ubuf, int max)
{
  if (max < 0)
    return -EINVAL;
  struct kprof_pages *sites = (struct kprof_pages *)kalloc();
  if (sites == 0)
    return -ENOMEM;
  int n = kallocowners(sites, KPROF_MAXSITES);
  if (n < 0)
    n = -ENOSPC;
  else if (copyout(myproc()->pgdir, ubuf, sites, MIN(n, max) * sizeof *sites) < 0)
    n = -EFAULT;
  else
    n = MIN(n, max);
  kfree((char *)sites);
  return n;
}

int
sys_kprof(void)
{
  int cmd, arg, max;
  if (argint(0, &cmd) < 0 || argint(1, &arg) < 0 || argint(2, &max) < 0)
    return -EFAULT;
  switch (cmd) {
  case KPROF_START:
    if (arg < 2 || arg > 8192)
      return -EINVAL;
    acquire(&prof.lock);
    prof.n = prof.dropped = 0;
    prof.on = 1;
    if (!prof.enabled) {
      prof.enabled = 1;
      ioapicenable(IRQ_RTC, 0, 0);
    }
    release(&prof.lock);
    rtcperiodic(arg);
    return 0;
  case KPROF_STOP:
    rtcperiodic(0);
    acquire(&prof.lock);
    prof.on = 0;
    release(&prof.lock);
    return prof.n;
  case KPROF_READ: {
    if (max < 0)
      return -EINVAL;
    acquire(&prof.lock);
    int on = prof.on;
    uint n = MIN((uint)max, prof.n);
    release(&prof.lock);
    if (on)
      return -EBUSY;
    if (copyout(myproc()->pgdir, (uint)arg, prof.samples, n * sizeof prof.samples[0]) < 0)
      return -EFAULT;
    return n;
  }
  case KPROF_PAGES:
    return kprofpages((uint)arg, max);
  }
  return -EINVAL;
}
