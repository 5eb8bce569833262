#ifndef XV6NET_SLEEPLOCK_H
#define XV6NET_SLEEPLOCK_H
#include "kernel/spinlock.h"

// A long-term lock: a process waiting for it sleeps instead of spinning.
struct sleeplock {
  uint locked;
  struct spinlock lk;
  char *name;
  int pid;
  int class;         // lock class + 1 (kernel/lockdep.c); 0: not yet looked up
};

#endif
