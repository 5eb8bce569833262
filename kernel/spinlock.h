#ifndef XV6NET_SPINLOCK_H
#define XV6NET_SPINLOCK_H
#include "kernel/types.h"

// A mutual-exclusion lock that spins; held with interrupts off on this CPU.
// Fields after cpu may be left out of a static initializer: a lock whose
// class is 0 gets one from its name the first time it is taken.
struct spinlock {
  uint locked;
  char *name;        // for debugging, and names its lock class
  struct cpu *cpu;   // holder
  int class;         // lock class + 1 (kernel/lockdep.c); 0: not yet looked up
  uint pc;           // where the holder took it
};

// A lock this CPU (spinlocks) or process (sleeplocks) holds, for the
// lock-order checker.
struct lockheld {
  void *lk;
  int class;
  uint pc;
};

#endif
