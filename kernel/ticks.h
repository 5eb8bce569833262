#ifndef XV6NET_TICKS_H
#define XV6NET_TICKS_H
#include "kernel/types.h"

// Timer interrupts since boot, HZ a second (trap.c counts them; the host
// build of the network stack has a fake clock of the same name).
extern uint ticks;
static inline uint readticks(void) { return *(volatile uint *)&ticks; }

#endif
