// spin SECONDS: burn the CPU in user mode for SECONDS, then exit. The
// benchmark's CPU hog: a ping answered while it runs shows what the
// scheduler gives a process (or the netrx thread) that I/O wakes.
// bench/linux/spin.c is its twin for the Linux guest. Bounded, so that a
// harness that loses track of it does not leave a guest busy for ever.
#include "kernel/types.h"
#include "user/user.h"
#include "user/net.h"   // usecs

static const char usage[] =
  "usage: spin SECONDS\n"
  "  burn the CPU in user mode for SECONDS (1 to 86400), then exit\n";

int
main(int argc, char *argv[])
{
  argsinit("spin", usage);
  arghelp(argc, argv);
  if (argc < 2)
    argmissing("SECONDS");
  if (argc > 2)
    argextra(argv[2]);
  int seconds = argnum(0, "seconds", argv[1], 1, 86400);
  uint64 end = usecs() + (uint64)seconds * 1000000;
  printf("spin: pid %d for %d s\n", getpid(), seconds);
  // The clock is read every 2^20 iterations: the loop must stay in user
  // mode, not in the system call.
  // The last line says how far it got: the tests check that a stream of
  // wakeups for other processes does not starve it.
  volatile uint n = 0;
  uint rounds = 0;
  while (usecs() < end) {
    for (uint i = 0; i < (1u << 20); i++)
      n++;
    rounds++;
  }
  printf("spin: %d rounds of 2^20\n", rounds);
  return 0;
}
