// badptr: pass bad pointers to system calls that take pointers; each call
// must fail with EFAULT, and this process must live on. Prints
// "badptr: ok", or one line per failure and exits 1.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/net.h"

#define PGSIZE 4096

static int fd;          // an open regular file
static int pfd[2];      // a pipe
static int failures;
// exec targets /bin/crash: should an exec wrongly succeed, it exits 2.
static char *crashargv[] = { "crash", 0 };

static int try_read(void *p)  { return read(fd, p, 64); }
static int try_write(void *p) { return write(pfd[1], p, 64); }
static int try_open(void *p)  { return open(p, O_RDONLY); }
static int try_exec(void *p)  { return exec(p, crashargv); }
static int try_argv(void *p)  { return exec("/bin/crash", p); }
static int try_fstat(void *p) { return fstat(fd, p); }
static int try_pipe(void *p)  { return pipe(p); }
static int try_chdir(void *p) { return chdir(p); }
static int try_sysctlname(void *p) { return sysctl(p, 0, 0); }
static int try_sysctlold(void *p)  { return sysctl("net.ipv4.ip_forward", p, 0); }
static int try_sysctlnew(void *p)  { return sysctl("net.ipv4.ip_forward", 0, p); }
static int try_sysctllist(void *p) { return sysctlname(0, p, 64); }

// wait with a bad status pointer, for a child that has exited. The child
// is reaped afterwards whatever wait did with it.
static int
try_wait(void *p)
{
  int pid = fork();
  if (pid == 0)
    exit(0);
  if (pid < 0)
    return pid;
  int r = wait(p);
  int saved = errno;
  while (wait(0) >= 0)
    ;
  errno = saved;
  return r;
}

static const struct {
  const char *name;
  int (*fn)(void *);
  int nullok;   // NULL is a valid argument (wait)
} calls[] = {
  { "read",  try_read,  0 },
  { "write", try_write, 0 },
  { "open",  try_open,  0 },
  { "exec",  try_exec,  0 },
  { "exec argv", try_argv, 0 },
  { "fstat", try_fstat, 0 },
  { "pipe",  try_pipe,  0 },
  { "chdir", try_chdir, 0 },
  { "wait",  try_wait,  1 },
  { "sysctl name", try_sysctlname, 0 },
  { "sysctl old", try_sysctlold, 1 },   // null: do not read the value
  { "sysctl new", try_sysctlnew, 1 },   // null: do not set it
  { "sysctlname", try_sysctllist, 0 },
};

static void
check(const char *name, int (*fn)(void *), void *p)
{
  errno = 0;
  int r = fn(p);
  if (r != -1 || errno != EFAULT) {
    printf("badptr: %s(%p) returned %d, errno %d (%s); want EFAULT\n",
           name, p, r, errno, strerror(errno));
    failures++;
  }
}

static const char usage[] =
  "usage: badptr\n"
  "  pass bad pointers to every system call that takes one; each must fail\n"
  "  with EFAULT (prints \"badptr: ok\")\n";

int
main(int argc, char *argv[])
{
  argsinit("badptr", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  if (optind < argc)
    argextra(argv[optind]);

  // A page above the break (never mapped) and other unmapped addresses.
  char *brk = sbrk(0);
  char *above = (char *)(((uint)brk + 2 * PGSIZE - 1) & ~(PGSIZE - 1));
  void *bad[] = { 0, (void *)0x80000000, (void *)0xffffffff,
                  (void *)0xfffffff0, above, (void *)0x7ffff000 };

  if ((fd = open("/bin/sh", O_RDONLY)) < 0 || pipe(pfd) < 0) {
    perror("badptr: setup");
    return 1;
  }
  for (int c = 0; c < (int)(sizeof calls / sizeof calls[0]); c++)
    for (int b = calls[c].nullok; b < (int)(sizeof bad / sizeof bad[0]); b++)
      check(calls[c].name, calls[c].fn, bad[b]);
  if (failures) {
    printf("badptr: %d failures\n", failures);
    return 1;
  }
  printf("badptr: ok\n");
  return 0;
}
