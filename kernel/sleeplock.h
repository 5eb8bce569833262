#ifndef XV6NET_SLEEPLOCK_H
#define XV6NET_SLEEPLOCK_H
#include "kernel/spinlock.h"

// A long-term lock: a process waiting for it sleeps instead of spinning.
struct sleeplock {
  uint locked;
  struct spinlock lk;
  char *name;
  int pid;
};

#endif
