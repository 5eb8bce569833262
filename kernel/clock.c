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

// CPU 0 and CPU 1 read the clock at one moment, TRIES times, 1 ms apart: CPU
// 0 reads and raises a flag, CPU 1 reads as soon as it sees the flag. The
// lowest difference of the tries is the skew between their clocks (a host
// that stops a vCPU during one try cannot hide it in all of them). With the
// LAPIC-phase clock it was the phase between the two CPUs' timers, anything
// up to a period (10 ms).
#define TRIES 10
#define SPINLIMIT 200000000

static volatile uint selfround;   // odd: CPU 0 has read; even: CPU 1 has
static uint64 selfread[2][TRIES];

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
  uint64 lowest = ~0ULL;
  for (int i = 0; i < TRIES; i++) {
    uint64 a = selfread[0][i], b = selfread[1][i];
    uint64 skew = b >= a ? b - a : a - b;
    if (skew < lowest)
      lowest = skew;
  }
  cprintf("selftest: clock skew between cpu0 and cpu1: %d us (lowest of %d)\n",
          (int)lowest, TRIES);
}
