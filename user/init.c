// init: the first user process. Sets up the console as fds 0, 1 and 2,
// runs the shell, starts a new one whenever it exits, and reaps the
// orphans that the kernel hands to init.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

#define CONSOLE "/dev/console"

static char *shargv[] = { "sh", 0 };

static void
openconsole(void)
{
  if (open(CONSOLE, O_RDWR) != 0) {
    // Nowhere to report to: exiting makes the kernel's complaint visible.
    exit(1);
  }
  dup(0);   // stdout
  dup(0);   // stderr
}

// Starts a shell and returns its pid, retrying while fork fails (the
// process table may be full for a moment).
static int
startsh(void)
{
  for (;;) {
    printf("init: starting sh\n");
    int pid = fork();
    if (pid == 0) {
      exec("/bin/sh", shargv);
      fprintf(2, "init: exec /bin/sh: %s\n", strerror(errno));
      exit(127);
    }
    if (pid > 0)
      return pid;
    fprintf(2, "init: fork: %s\n", strerror(errno));
    sleep(100);
  }
}

// Waits until the shell pid exits, reaping any orphan on the way. Returns
// the shell's exit status.
static int
waitsh(int shpid)
{
  for (;;) {
    int status;
    int pid = wait(&status);
    if (pid == shpid)
      return status;
    if (pid < 0)   // no children at all: the shell is gone somehow
      return -1;
  }
}

static const char usage[] =
  "usage: init\n"
  "  the first process: the kernel starts it; it runs sh on the console\n";

int
main(int argc, char *argv[])
{
  argsinit("init", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  if (optind < argc)
    argextra(argv[optind]);
  if (getpid() != 1) {
    fprintf(2, "init: only the kernel starts init (as process 1); this is process %d\n",
            getpid());
    return 1;
  }
  openconsole();
  for (;;) {
    int start = uptime();
    int status = waitsh(startsh());
    // A shell that cannot run at all (exec failed: 127, or it crashed:
    // -1) would otherwise make us restart it in a tight loop.
    if ((status == 127 || status == -1) && uptime() - start < 100)
      sleep(100);
  }
}
