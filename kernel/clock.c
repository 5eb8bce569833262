// The clock: microseconds since boot, the same whichever CPU reads it.
//
// It used to be ticks plus the running CPU's LAPIC timer count. ticks
// advances on CPU 0's timer only, and every CPU's LAPIC timer runs its own
// period, started when that CPU came up, out of phase with CPU 0's: on the
// other CPUs the sum was off by that phase (a ping whose reply woke it on
// the other CPU read 0.000 ms, or too much). The TSC is one counter for all
// CPUs (QEMU derives every vCPU's from the host's clock; real machines with
// an invariant TSC do the same), so the clock is the TSC, its rate measured
// once at boot against CPU 0's LAPIC timer, which counts nanoseconds exactly.
// Stamping each tick with the TSC instead would carry the timer interrupt's
// latency into every reading (0.1-0.3 ms of jitter, measured).

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/x86.h"
#include "kernel/defs.h"

#define CALIBRATENS 1000000   // 1 ms of LAPIC counts a try: the TSC's rate to 0.1%
#define CALIBRATIONS 3

static uint64 tschz;     // TSC counts a second; 0: not measured (ticks only)
static uint64 tscbase;   // the TSC when it was
static uint64 usbase;    // the clock then

// TSC counts a second over CALIBRATENS of this CPU's LAPIC timer; 0 if it
// does not run. If the host stops the vCPU for longer than a timer period,
// the LAPIC count wraps unseen and the rate comes out too high: the caller
// keeps the lowest of a few tries.
static uint64
measure(void)
{
  uint mark = 0;
  if (lapicelapsed(&mark) < 0)
    return 0;
  uint64 start = rdtsc();
  uint ns = 0;
  for (int spins = 0; ns < CALIBRATENS && spins < 10000000; spins++)
    ns += lapicelapsed(&mark);
  uint64 end = rdtsc();
  if (ns < CALIBRATENS || end <= start)
    return 0;
  return (end - start) * 1000000000ULL / ns;
}

// CPU 0, once its LAPIC timer runs and before the other CPUs start.
void
clockinit(void)
{
  uint64 best = 0;
  for (int i = 0; i < CALIBRATIONS; i++) {
    uint64 hz = measure();
    if (hz && (best == 0 || hz < best))
      best = hz;
  }
  if (best == 0)
    return;   // no LAPIC timer: the clock keeps to ticks
  tscbase = rdtsc();
  usbase = (uint64)readticks() * (1000000 / HZ);
  tschz = best;
}

// Microseconds since boot.
uint64
clockus(void)
{
  if (tschz == 0)
    return (uint64)readticks() * (1000000 / HZ);
  uint64 counts = rdtsc() - tscbase;
  if (counts >> 63)
    counts = 0;   // a CPU whose TSC is a little behind CPU 0's at calibration
  // Whole seconds apart from the rest: counts * 1e6 would overflow in hours.
  uint64 secs = counts / tschz, rest = counts % tschz;
  return usbase + secs * 1000000 + rest * 1000000 / tschz;
}

// ---- selftest=clock ------------------------------------------------------------

// CPU 0 reads the clock (t0) and raises a flag; CPU 1 reads (t1) as soon as
// it sees the flag and raises its own; CPU 0 reads again (t2) when it sees
// that. With one clock for both CPUs, t0 <= t1 <= t2 in every try, however
// long the host keeps either vCPU waiting: cause comes before effect. Two
// clocks that disagree by d break that in every try whose round trip
// (t2 - t0) is shorter than d. The LAPIC-phase clock this replaced was off
// by up to a timer period (10 ms) against round trips of microseconds.
// (The lowest |t1 - t0| was the first measure; a loaded host made it 575 us
// in one CI run, and said nothing about the clocks.) TRIES times, 1 ms apart.
#define TRIES 10
#define SPINLIMIT 200000000

static volatile uint selfround;   // odd: CPU 0 has read; even: CPU 1 has
static uint64 selfread[3][TRIES]; // t0, t1, t2 of each try

// Wait until selfround is want; 0 if that took too long.
static int
awaitround(uint want)
{
  for (int spins = 0; spins < SPINLIMIT; spins++) {
    if (selfround == want)
      return 1;
    asm volatile("pause");
  }
  return 0;
}

// CPU 0's report: in how many tries CPU 1's read fell between CPU 0's two,
// and the shortest round trip.
static void
clockreport(void)
{
  int inorder = 0;
  uint64 shortest = ~0ULL;
  for (int i = 0; i < TRIES; i++) {
    uint64 t0 = selfread[0][i], t1 = selfread[1][i], t2 = selfread[2][i];
    if (t0 <= t1 && t1 <= t2)
      inorder++;
    if (t2 >= t0 && t2 - t0 < shortest)
      shortest = t2 - t0;
  }
  cprintf("selftest: clock: cpu1's read fell between cpu0's two reads in %d of %d tries; "
          "shortest round trip %d us\n", inorder, TRIES, (int)shortest);
}

// On CPU 0 and on CPU 1 (which calls before it schedules); CPU 0 reports.
void
clockselftest(int cpu)
{
  if (cpu > 1)
    return;
  for (uint i = 0; i < TRIES; i++) {
    if (cpu == 0) {
      microdelay(1000);
      selfread[0][i] = clockus();
      __sync_synchronize();
      selfround = 2 * i + 1;
      if (!awaitround(2 * i + 2))
        break;
      selfread[2][i] = clockus();
    } else {
      if (!awaitround(2 * i + 1))
        return;
      selfread[1][i] = clockus();
      __sync_synchronize();
      selfround = 2 * i + 2;
    }
  }
  if (cpu != 0)
    return;
  if (selfround != 2 * TRIES) {
    cprintf("selftest: clock: cpu1 did not answer\n");
    return;
  }
  clockreport();
}
