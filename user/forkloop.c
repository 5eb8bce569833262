// forkloop SECONDS: fork a child that exits at once, reap it, again, for
// SECONDS. Each child exits with a code of its own (its number mod 100),
// which the parent checks, so a status mixed up between processes shows.
// The SMP stress test runs it beside network traffic: process creation and
// teardown (the process table, page tables, kernel stacks) on one CPU while
// the stack runs on the others.
//
//   forkloop: 5123 children in 30 s, every status right
#include "kernel/types.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"   // usecs

static const char usage[] =
  "usage: forkloop SECONDS\n"
  "  fork and reap children that exit at once, for SECONDS (1 to 86400)\n";

// One child, reaped: 0, or -1 after saying what went wrong.
static int
forkone(uint n)
{
  int code = n % 100;
  int pid = fork();
  if (pid < 0) {
    fprintf(2, "forkloop: fork: %s\n", strerror(errno));
    return -1;
  }
  if (pid == 0)
    exit(code);
  int status;
  int got = wait(&status);
  if (got != pid) {
    fprintf(2, "forkloop: wait returned %d, not child %d (%s)\n", got, pid,
            got < 0 ? strerror(errno) : "another process");
    return -1;
  }
  if (status != code) {
    fprintf(2, "forkloop: child %d exited %d, wait said %d\n", pid, code, status);
    return -1;
  }
  return 0;
}

int
main(int argc, char *argv[])
{
  argsinit("forkloop", usage);
  arghelp(argc, argv);
  if (argc < 2)
    argmissing("SECONDS");
  if (argc > 2)
    argextra(argv[2]);
  int seconds = argnum(0, "seconds", argv[1], 1, 86400);
  uint64 end = usecs() + (uint64)seconds * 1000000;
  uint n = 0;
  while (usecs() < end) {
    if (forkone(n) < 0) {
      printf("forkloop: failed after %u children\n", n);
      return 1;
    }
    n++;
  }
  printf("forkloop: %u children in %d s, every status right\n", n, seconds);
  return 0;
}
