// spin SECONDS: the Linux guest's twin of user/spin.c (same argument, same
// first line): burn the CPU in user mode for SECONDS, then exit.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

int
main(int argc, char *argv[])
{
  if (argc != 2 || atoi(argv[1]) <= 0) {
    fprintf(stderr, "usage: spin SECONDS\n");
    return 1;
  }
  uint64_t end = usecs() + (uint64_t)atoi(argv[1]) * 1000000;
  printf("spin: pid %d for %s s\n", (int)getpid(), argv[1]);
  fflush(stdout);
  // The clock is read every 2^20 iterations: the loop stays in user mode.
  // The last line says how far it got, as user/spin.c's does.
  volatile unsigned n = 0;
  unsigned rounds = 0;
  while (usecs() < end) {
    for (unsigned i = 0; i < (1u << 20); i++)
      n++;
    rounds++;
  }
  printf("spin: %u rounds of 2^20\n", rounds);
  return 0;
}
