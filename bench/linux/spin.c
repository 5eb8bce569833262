// spin SECONDS: the Linux guest's twin of user/spin.c (same argument, same
// first line): burn the CPU in user mode for SECONDS, then exit.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
  if (argc != 2 || atoi(argv[1]) <= 0) {
    fprintf(stderr, "usage: spin SECONDS\n");
    return 1;
  }
  double end = now() + atoi(argv[1]);
  printf("spin: pid %d for %s s\n", (int)getpid(), argv[1]);
  fflush(stdout);
  volatile unsigned n = 0;
  while (now() < end)
    for (unsigned i = 0; i < (1u << 20); i++)
      n++;
  return 0;
}
