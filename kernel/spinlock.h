#ifndef XV6NET_SPINLOCK_H
#define XV6NET_SPINLOCK_H
#include "kernel/types.h"

// A mutual-exclusion lock that spins; held with interrupts off on this CPU.
struct spinlock {
  uint locked;
  char *name;        // for debugging
  struct cpu *cpu;   // holder
};

#endif
