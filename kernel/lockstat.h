#ifndef XV6NET_LOCKSTAT_H
#define XV6NET_LOCKSTAT_H
#include "kernel/types.h"

// What lockstat(2) and lockorder(2) return (kernel/lockdep.c; system calls
// 125 and 126). A lock class is every lock initialised with one name.
#define LOCKNAME 16

struct lockstat {
  char name[LOCKNAME];
  uint acquired;      // acquisitions since boot
  uint contended;     // acquisitions that found the lock held
  uint spins;         // turns of the spin loop (spinlocks)
  uint sleeps;        // times a taker slept for it (sleeplocks)
  int sleeplock;      // 1: a sleeplock class
};

// An edge of the lock-order graph: class `taken` was acquired while
// `held` was held, first at these sites (kernel return addresses).
struct lockedge {
  int held;           // class indices, as lockstat numbers them
  int taken;
  uint heldpc;
  uint takenpc;
};

#endif
