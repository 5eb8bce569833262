// What the Linux guest's benchmark programs share (each is built on its own
// with `gcc -static`, src/xv6net/linuxguest.py, which rebuilds them when this
// file changes too).
#ifndef BENCH_LINUX_COMMON_H
#define BENCH_LINUX_COMMON_H

#include <stdint.h>
#include <time.h>

// Microseconds on the monotonic clock, as the xv6net programs' clock() gives.
static inline uint64_t
usecs(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
